# Ref: spec/ipsec-commands.md §6.0, §6.2 (add user, delete user, set user securedelay, enable system security,
#      login); seeds/004 L1657-1668, L1981-2003
"""The user and system security commands, as data, and their handler::

    ADD USER=login-name PASSword=password [PRIVilege={MANager|SECurityofficer|USER}]
        [LOGIN={YES|NO|ON|OFF|TRUE|FALSE}] [TELNET={YES|NO|...}] [DESCription=text]
    SET USER=login-name [PASSword=password] [PRIVilege=...] [LOGIN=...] [TELNET=...] [DESCription=text]
    SET USER SECUREDELAY=10..3600
    DELete USER=login-name
    SHow USER[=login-name]
    ENAble SYStem SECurity
    DISable SYStem SECurity
    SHow SYStem
    LOGIN [USER=]login-name [PASSword=password]
    LOGOFF

The manual's lines (``add user=secoff password=your-password
priv=securityofficer``, ``add user=secoff pass=secoff priv=sec login=yes
telnet=yes``, ``delete user=manager``, ``set user securedelay=600``,
``add user=remote password=friend``, ``enable system security``, ``login
secoff``) fix PASSword (``pass``), PRIVilege (``priv``) and
SECurityofficer (``sec``); the other spellings are ours. ``add user`` and
``set user=name`` print the user's entry, as the manual's ``add user``
does (L1659-1664). ``login`` takes the password as a parameter (see
:mod:`.session`).

Privilege (``Command.privilege``): the user commands and ``enable/disable
system security`` are security commands (a Security Officer in security
mode, a Manager otherwise). ``disable system security`` is one too: the
manual lets a Manager use it to get out of security mode when no
Security Officer can log in (L1822-1823), at the price of the keys; here a
Security Officer can always log in in security mode (the lock-out rule of
:mod:`.database`) and the keys are kept, so letting a Manager out of
security mode would undo the rule. The displays and ``logoff`` need any
logged-in user; ``login`` needs none.
"""
from ..cli.errors import CommandFailed, MissingParameter
from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Boolean, Choice, Integer, Name, Text
from ..views.alliedware.users import show_system, show_users
from .database import SECUREDELAY_RANGE, UserDatabase, UserError
from .session import ConsoleSession

__all__ = ["USER_COMMANDS", "UserCommands", "ERRORS"]

ERRORS = (UserError,)
SO, USER, NONE = Privilege.SECURITYOFFICER, Privilege.USER, Privilege.NONE

_NAME = Name(64, "user name")
_PASSWORD = Text(1, 64, "password")
_YES_NO = Boolean(("YES", "ON", "TRUE"), ("NO", "OFF", "FALSE"))
_PRIVILEGE = Choice({"MANager": Privilege.MANAGER, "SECurityofficer": Privilege.SECURITYOFFICER,
                     "USER": Privilege.USER})
_USER_PARAMS = (P("PRIVilege", _PRIVILEGE), P("LOGIN", _YES_NO), P("TELNET", _YES_NO),
                P("DESCription", Text(0, 63, "description")))
USER_WORD, SYSTEM, SECURITY = P("USER", _NAME), P("SYStem"), P("SECurity")

USER_COMMANDS = (
    Command((P("ADD"), USER_WORD), (P("PASSword", _PASSWORD, required=True),) + _USER_PARAMS,
            "add_user", "Add a user to the User Authentication Database", "§6.0", SO),
    Command((P("SET"), P("USER", _NAME, optional_value=True)),
            (P("PASSword", _PASSWORD),) + _USER_PARAMS + (P("SECUREDELAY", Integer(*SECUREDELAY_RANGE, "seconds")),),
            "set_user", "Change a user, or the Security Officer's idle time-out", "§6.2", SO),
    Command((P("DELete"), USER_WORD), (), "delete_user", "Delete a user", "§6.2", SO),
    Command((P("SHow"), P("USER", _NAME, optional_value=True)), (), "show_user", "Users", "§6.0", USER),
    Command((P("ENAble"), SYSTEM, SECURITY), (), "enable_security", "Enter security mode", "§6.0", SO),
    Command((P("DISable"), SYSTEM, SECURITY), (), "disable_security", "Leave security mode", "§6.0", SO),
    Command((P("SHow"), SYSTEM), (), "show_system", "Security mode and console session", "", USER),
    Command((P("LOGIN"),), (P("USER", _NAME, required=True, positional=True), P("PASSword", _PASSWORD)),
            "login", "Log in as a user", "§6.0", NONE),
    Command((P("LOGOFF"),), (), "logoff", "Log off", "", USER),
)


class UserCommands:
    """Carries out :data:`USER_COMMANDS` on a :class:`~.session.ConsoleSession`
    and its :class:`~.database.UserDatabase`."""

    def __init__(self, session: ConsoleSession):
        self.session = session
        self.users: UserDatabase = session.users

    def add_user(self, user: str, password: str, privilege: Privilege = Privilege.USER, login: bool | None = None,
                 telnet: bool = False, description: str = ""):
        added = self.users.add(user, password, privilege, login=login, telnet=telnet, description=description)
        return show_users([added])

    def set_user(self, user: str | None = None, securedelay: int | None = None, **changes):
        if user is None:
            if changes:
                raise CommandFailed(f"SET USER needs USER=login-name to change "
                                    f"{', '.join(k.upper() for k in changes)}")
            if securedelay is None:
                raise MissingParameter("SET USER needs USER=login-name or SECUREDELAY=10..3600")
            self.users.set_secure_delay(securedelay)
            return None
        if securedelay is not None:
            raise CommandFailed("SECUREDELAY applies to all security officers: give it without USER=login-name")
        if not changes:
            raise MissingParameter(f"SET USER={user} needs something to change: PASSWORD, PRIVILEGE, LOGIN, "
                                   "TELNET or DESCRIPTION")
        return show_users([self.users.set(user, **changes)])

    def delete_user(self, user: str):
        self.users.delete(user)

    def show_user(self, user: str | None = None):
        return show_users(self.users.users() if user is None else [self.users.user(user)])

    def enable_security(self):
        self.users.enable_security()

    def disable_security(self):
        self.users.disable_security()

    def show_system(self):
        s = self.session
        return show_system(self.users.security_mode, self.users.secure_delay, s.user, s.counters.snapshot())

    def login(self, user: str, password: str | None = None):
        logged = self.session.login(user, password)
        return f"Info: User {logged.name} logged in with {logged.privilege.display} privilege."

    def logoff(self):
        user = self.session.logoff()
        return f"Info: User {user.name} logged off." if user is not None else None
