# Ref: spec/ipsec-commands.md §0.2, §6.0, §6.2 (users, security officer, security mode);
#      spec/isakmp-commands.md R80 (XAUTHType=GEneric: "authenticated by the User Authentication Facility (UAF)")
"""The User Authentication Facility (UAF): the router's users and its
security mode.

A :class:`User` has a name, a password (kept only as a salted
:class:`PasswordHash`), a :class:`~pacsim.firmware.cli.privilege.Privilege`
(USER, MANAGER or SECURITYOFFICER), a description and two flags: ``login``
(may log in to the command line) and ``telnet`` (may do so over Telnet;
stored and shown, Telnet is not modelled). :class:`UserDatabase` holds them
and the two system settings that go with them: the security mode
(``enable system security``) and the Security Officer's idle time-out
(``set user securedelay``).

Two callers look users up:

- the console's login (:class:`~.session.ConsoleSession`), which also
  needs ``login`` and counts logins and failures per user;
- an XAUTH server with ``xauthtype=generic`` (not yet modelled):
  :meth:`UserDatabase.authenticate` checks a name and password and returns
  the :class:`User`, or None, whatever its ``login`` flag: on AlliedWare
  LOGIN only governs the command line, and the manual's XAUTH user
  (``add user=remote password=friend``) is a plain user.

Passwords are hashed with PBKDF2-HMAC-SHA256 and a 16-byte random salt and
compared in constant time (:func:`hmac.compare_digest`); an unknown name
costs a hash too, so timing does not tell names apart. Clear text is never
stored, shown or put in a ``repr``. The iteration count is modest
(:data:`PBKDF2_ITERATIONS`): the hash never leaves the process and every
router start hashes the default password.

**What the sources give, and what is ours.**

- From the manual: the levels and the abbreviations the scenarios use
  (``priv=securityofficer``, ``priv=sec``, ``pass=``); a new user's
  TELNET is NO (the ``add user`` echo at L1659-1663 shows ``Telnet: No``
  for a user added without it); SECUREDELAY 600 and 60 as example values
  (L1992-1997). The rule that only a Security Officer changes the IPsec
  configuration in security mode (§0.2) is enforced by the session.
- Ours (AlliedWare's behaviour as we know it, the manual being silent):
  the default user ``manager``, password ``friend``, MANAGER, LOGIN and
  TELNET YES; LOGIN defaults to YES for MANAGER and SECURITYOFFICER and to
  NO for USER (a plain user is typically a PPP or XAUTH peer); user names
  are 1-64 characters and passwords 1-64 (the XAUTH name and password
  limits, isakmp-commands.md R81); names match without regard to case and
  are shown as entered; passwords are case sensitive; SECUREDELAY is
  10..3600 seconds, default 60.
- Ours, against lock-out: a change that would leave no MANAGER or
  SECURITYOFFICER able to log in is refused; in security mode, so is one
  that would leave no SECURITYOFFICER able to log in (delete, demote or
  LOGIN=NO of the last one); security mode cannot be enabled without such
  a Security Officer. All are :class:`LockoutRefused`.
- ``disable system security`` on AlliedWare also destroys the ENCO keys
  (L1822-1823: "it automatically destroys keys"). This model leaves them:
  there is no restart or non-volatile storage for the difference to show
  in, and keys in use by SA specifications cannot go without them.
"""
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..cli.privilege import Privilege

__all__ = [
    "User", "UserDatabase", "PasswordHash", "UserError", "UserExists", "UserNotFound", "LockoutRefused",
    "DEFAULT_MANAGER", "DEFAULT_PASSWORD", "SECUREDELAY_RANGE", "DEFAULT_SECUREDELAY", "PBKDF2_ITERATIONS",
]

#: The default user and its password, as AlliedWare routers ship.
DEFAULT_MANAGER, DEFAULT_PASSWORD = "manager", "friend"
#: ``set user securedelay``: seconds (ours: AlliedWare's range and default).
SECUREDELAY_RANGE = (10, 3600)
DEFAULT_SECUREDELAY = 60
#: PBKDF2-HMAC-SHA256 iterations of a new password hash.
PBKDF2_ITERATIONS = 20_000
_SALT_BYTES = 16


class UserError(Exception):
    """Base class of user database errors."""


class UserExists(UserError):
    """A user of that name already exists."""


class UserNotFound(UserError):
    """No user of that name."""


class LockoutRefused(UserError):
    """The change would leave no Manager, or in security mode no Security
    Officer, able to log in."""


@dataclass(frozen=True)
class PasswordHash:
    """A salted PBKDF2-HMAC-SHA256 hash of a password."""
    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)
    iterations: int = PBKDF2_ITERATIONS

    @classmethod
    def of(cls, password: str, salt: bytes, iterations: int = PBKDF2_ITERATIONS) -> "PasswordHash":
        """The hash of ``password`` with ``salt``."""
        return cls(salt, cls._derive(password, salt, iterations), iterations)

    @staticmethod
    def _derive(password: str, salt: bytes, iterations: int) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)

    def matches(self, password: str) -> bool:
        """Whether ``password`` is the one hashed; constant time in the digest."""
        return hmac.compare_digest(self._derive(password, self.salt, self.iterations), self.digest)


@dataclass
class User:
    """One user (see the module docstring). ``logins`` and ``fails`` count
    the console logins that succeeded and failed under this name."""
    name: str
    privilege: Privilege
    password: PasswordHash = field(repr=False)
    login: bool = True
    telnet: bool = False
    description: str = ""
    logins: int = 0
    fails: int = 0

    @property
    def key(self) -> str:
        """The name as looked up (case-insensitive)."""
        return self.name.lower()


class UserDatabase:
    """The UAF (see the module docstring). ``salt_source(n)`` gives the
    salts (kept apart from the router's injected random source, so adding
    a user does not shift the SPIs and keys a test expects);
    ``default_manager``: start with ``manager``/``friend``."""

    def __init__(self, salt_source: Callable[[int], bytes] = os.urandom, default_manager: bool = True):
        self._salt_source = salt_source
        self._users: dict[str, User] = {}
        self.security_mode = False
        self.secure_delay = DEFAULT_SECUREDELAY
        self._decoy = self._hash(DEFAULT_PASSWORD)          # hashed against when a name is unknown
        if default_manager:
            self.add(DEFAULT_MANAGER, DEFAULT_PASSWORD, Privilege.MANAGER, login=True, telnet=True,
                     description="Manager Account")

    def _hash(self, password: str) -> PasswordHash:
        return PasswordHash.of(password, self._salt_source(_SALT_BYTES))

    # -- looking up -----------------------------------------------------------------------------------

    def users(self) -> list[User]:
        """All users, in the order they were added."""
        return list(self._users.values())

    def get(self, name: str) -> User | None:
        """The user called ``name`` (any case), or None."""
        return self._users.get(name.lower())

    def user(self, name: str) -> User:
        """The user called ``name``; raises :class:`UserNotFound`."""
        user = self.get(name)
        if user is None:
            raise UserNotFound(f'User "{name}" does not exist')
        return user

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is ``name``'s, else None (XAUTH's look-up;
        the ``login`` flag is not looked at, no counter changes)."""
        user = self.get(name)
        ok = (user.password if user is not None else self._decoy).matches(password)
        return user if ok and user is not None else None

    # -- changing -------------------------------------------------------------------------------------

    def add(self, name: str, password: str, privilege: Privilege = Privilege.USER, *, login: bool | None = None,
            telnet: bool = False, description: str = "") -> User:
        """Add a user; ``login`` None takes the default for ``privilege``."""
        if name.lower() in self._users:
            raise UserExists(f'User "{self._users[name.lower()].name}" already exists (use SET USER to change it)')
        if privilege is Privilege.NONE:
            raise ValueError("a user holds USER, MANAGER or SECURITYOFFICER privilege")
        if login is None:
            login = privilege >= Privilege.MANAGER
        user = User(name, privilege, self._hash(password), login, telnet, description)
        self._users[user.key] = user
        return user

    def set(self, name: str, *, password: str | None = None, privilege: Privilege | None = None,
            login: bool | None = None, telnet: bool | None = None, description: str | None = None) -> User:
        """Change a user's settings (those given)."""
        user = self.user(name)
        new_privilege = user.privilege if privilege is None else privilege
        new_login = user.login if login is None else login
        if privilege is Privilege.NONE:
            raise ValueError("a user holds USER, MANAGER or SECURITYOFFICER privilege")
        others = [(u.privilege, u.login) for u in self._users.values() if u is not user]
        self._check_lockout(others + [(new_privilege, new_login)], f'Changing user "{user.name}"')
        if password is not None:
            user.password = self._hash(password)
        user.privilege, user.login = new_privilege, new_login
        if telnet is not None:
            user.telnet = telnet
        if description is not None:
            user.description = description
        return user

    def delete(self, name: str) -> User:
        """Remove a user."""
        user = self.user(name)
        others = [(u.privilege, u.login) for u in self._users.values() if u is not user]
        self._check_lockout(others, f'Deleting user "{user.name}"')
        del self._users[user.key]
        return user

    def set_secure_delay(self, seconds: int) -> None:
        """``set user securedelay``: the Security Officer's idle time-out."""
        low, high = SECUREDELAY_RANGE
        if not low <= seconds <= high:
            raise ValueError(f"SECUREDELAY must be {low}..{high} seconds, not {seconds}")
        self.secure_delay = seconds

    def enable_security(self) -> None:
        """``enable system security``: needs a Security Officer who can log in."""
        if not self.security_mode and not any(u.privilege is Privilege.SECURITYOFFICER and u.login
                                              for u in self._users.values()):
            raise LockoutRefused("System security cannot be enabled: no user with Security Officer privilege "
                                 "can log in (ADD USER=name PASSWORD=password PRIVILEGE=SECURITYOFFICER first)")
        self.security_mode = True

    def disable_security(self) -> None:
        """``disable system security`` (the ENCO keys stay; see the module docstring)."""
        self.security_mode = False

    def _check_lockout(self, remaining: Iterable[tuple[Privilege, bool]], what: str) -> None:
        remaining = list(remaining)
        if self.security_mode and not any(p is Privilege.SECURITYOFFICER and login for p, login in remaining):
            raise LockoutRefused(f"{what} would leave no Security Officer who can log in while the router is "
                                 "in security mode (add another Security Officer first, or DISABLE SYSTEM "
                                 "SECURITY)")
        if not any(p >= Privilege.MANAGER and login for p, login in remaining):
            raise LockoutRefused(f"{what} would leave no user with Manager or Security Officer privilege "
                                 "who can log in")
