# Ref: spec/ipsec-commands.md §0.2 (privilege), §6.0 (login secoff), §6.2 (set user securedelay);
#      spec/isakmp-commands.md §0.2
"""The console's login session and the privilege rule.

:class:`ConsoleSession` knows who is logged in on the console and decides,
for every parsed command, whether that user may run it
(:meth:`ConsoleSession.authorize`, the command line's ``authorize`` hook).
The command declares what it needs (``Command.privilege``, see
:mod:`pacsim.firmware.cli.privilege`); the rule is:

- ``NONE`` (``LOGIN``) always runs;
- anything else needs a logged-in user;
- ``MANAGER`` needs a Manager or a Security Officer;
- ``SECURITYOFFICER`` needs a Security Officer while the router is in
  security mode, and a Manager (or Security Officer) otherwise.

A refused command raises :class:`~pacsim.firmware.cli.errors.NotPermitted`
before its handler is called, so it changes nothing; it is counted in
:attr:`ConsoleSession.counters` (``show system`` shows them):
``refusedNotLoggedIn``, ``refusedManager`` (a plain user),
``refusedSecurityOfficer`` (not a Security Officer in security mode). The
counters also hold ``loginGood``, ``loginFail``, ``logoff`` and
``secureDelayLogoff``.

**Choices** (the manual only shows ``Manager> login secoff`` followed by a
``Password:`` prompt, L1667-1668):

- The console starts with the default ``manager`` logged in, at the
  ``Manager>`` prompt the manual's sessions start from (with no default
  user, it starts logged off).
- ``LOGIN name PASSWORD=password``: a script cannot answer the prompt, so
  the password is a parameter. Without it, ``ask_password(prompt)`` is
  called if the console was given one (an interactive console), otherwise
  the command fails asking for PASSWORD=.
- A failed login (wrong name or password, or a user with LOGIN=NO)
  leaves whoever was logged in logged in; it counts ``loginFail`` and the
  named user's ``Fails``. The message does not tell a wrong name from a
  wrong password.
- The session follows the user's current privilege: ``set user`` on the
  logged-in user takes effect at the next command. A deleted user stays
  logged in, with the privilege it had, until it logs off.
- SECUREDELAY: in security mode, a Security Officer who has run no command
  for longer than ``set user securedelay`` seconds (by the injected clock)
  is logged off when the next command comes, and that command is refused
  as having no logged-in user.
- The prompt (:meth:`ConsoleSession.prompt`) is ``Manager NAME>`` for a
  Manager, ``SecOff NAME>`` for a Security Officer (in or out of security
  mode), ``NAME>`` for a plain user and ``login:`` when no one is logged in.
"""
from collections.abc import Callable

from ..cli.errors import MissingParameter, NotPermitted
from ..cli.grammar import Command
from ..cli.privilege import Privilege
from ..state.counters import CounterSchema, CounterSet
from .database import DEFAULT_MANAGER, User, UserDatabase, UserError

__all__ = ["ConsoleSession", "LoginFailed", "SESSION_COUNTERS"]

#: The session's counters, in ``show system`` order.
SESSION_COUNTERS = CounterSchema("session", (
    "refusedNotLoggedIn", "refusedManager", "refusedSecurityOfficer", "loginGood", "loginFail", "logoff",
    "secureDelayLogoff"))

_PROMPT_PREFIX = {Privilege.SECURITYOFFICER: "SecOff", Privilege.MANAGER: "Manager", Privilege.USER: ""}


class LoginFailed(UserError):
    """A login that was refused."""


class ConsoleSession:
    """The console's session (see the module docstring). ``users`` is the
    :class:`~.database.UserDatabase`, ``clock()`` seconds,
    ``ask_password(prompt)`` the interactive password prompt (None in
    scripts)."""

    def __init__(self, users: UserDatabase, clock: Callable[[], float],
                 ask_password: Callable[[str], str] | None = None):
        self.users = users
        self.clock = clock
        self.ask_password = ask_password
        self.user: User | None = users.get(DEFAULT_MANAGER)
        self.counters = CounterSet(SESSION_COUNTERS)
        self.last_activity = clock()
        self._timed_out: str | None = None

    @property
    def privilege(self) -> Privilege:
        """The logged-in user's privilege; NONE when no one is logged in."""
        return self.user.privilege if self.user is not None else Privilege.NONE

    # -- the rule -------------------------------------------------------------------------------------

    def authorize(self, command: Command) -> None:
        """Let ``command`` run, or raise :class:`NotPermitted` (counted)."""
        need = command.privilege
        if need is Privilege.NONE:
            return
        self._secure_delay()
        user = self.user
        if user is None:
            self.counters["refusedNotLoggedIn"] += 1
            why = ""
            if self._timed_out:
                why = (f" (security officer {self._timed_out} was logged off after more than "
                       f"{self.users.secure_delay} seconds without a command)")
            raise NotPermitted(f"{command.title} needs a logged-in user{why}: LOGIN name PASSWORD=password")
        in_security_mode = self.users.security_mode
        if need is Privilege.SECURITYOFFICER and not in_security_mode:
            need = Privilege.MANAGER
        if user.privilege < need:
            if need is Privilege.SECURITYOFFICER:
                self.counters["refusedSecurityOfficer"] += 1
                raise NotPermitted(f"{command.title} requires Security Officer privilege while the router is in "
                                   f'security mode; user "{user.name}" has {user.privilege.display} privilege '
                                   "(LOGIN as a Security Officer)")
            self.counters["refusedManager"] += 1
            raise NotPermitted(f'{command.title} requires Manager privilege; user "{user.name}" has '
                               f"{user.privilege.display} privilege")
        self.last_activity = self.clock()

    def _secure_delay(self) -> None:
        user = self.user
        if (user is not None and self.users.security_mode and user.privilege is Privilege.SECURITYOFFICER
                and self.clock() - self.last_activity > self.users.secure_delay):
            self.user, self._timed_out = None, user.name
            self.counters["secureDelayLogoff"] += 1

    # -- login and logoff -----------------------------------------------------------------------------

    def login(self, name: str, password: str | None = None) -> User:
        """Log ``name`` in (see the module docstring); raises :class:`LoginFailed`."""
        if password is None:
            if self.ask_password is None:
                raise MissingParameter(f"LOGIN {name} needs PASSWORD=password: a script cannot answer the "
                                       "Password: prompt")
            password = self.ask_password("Password: ")
        user = self.users.authenticate(name, password)
        if user is None:
            known = self.users.get(name)
            if known is not None:
                known.fails += 1
            self.counters["loginFail"] += 1
            raise LoginFailed("Login incorrect: wrong user name or password")
        if not user.login:
            user.fails += 1
            self.counters["loginFail"] += 1
            raise LoginFailed(f'User "{user.name}" may not log in to the command line (LOGIN=NO)')
        self.user, self._timed_out = user, None
        self.last_activity = self.clock()
        user.logins += 1
        self.counters["loginGood"] += 1
        return user

    def logoff(self) -> User | None:
        """Log the current user off; the user that was logged in."""
        user, self.user = self.user, None
        if user is not None:
            self.counters["logoff"] += 1
        return user

    def prompt(self, system_name: str = "") -> str:
        """The console prompt, with a trailing blank (see the module docstring)."""
        if self.user is None:
            return "login: "
        text = " ".join(part for part in (_PROMPT_PREFIX[self.user.privilege], system_name) if part)
        return f"{text}> "
