# Ref: spec/ipsec-commands.md §0-§6, spec/isakmp-commands.md §0-§2, spec/show-outputs.md §1-§9, §15
"""The router's console for the security features: one
:class:`~pacsim.firmware.cli.commandline.CommandLine` carrying the ENCO key,
IPsec, pre-IPsec SA and ISAKMP commands, the IPsec displays, and the user
and system security commands.

Every command passes the privilege rule first (:mod:`.users.session`):
the console starts with the default ``manager`` logged in; in security
mode (``enable system security``) the IPsec, ISAKMP, ENCO and user
configuration commands need a Security Officer (``login secoff
password=...``). :attr:`RouterConsole.users` is the User Authentication
Facility an XAUTH server will look users up in; :meth:`RouterConsole.prompt`
the prompt for the logged-in user.

Everything time- or randomness-dependent is injected: ``clock()`` in
seconds, ``random_bytes(n)`` (ENCO random keys, SPIs; the card's RNG can be
plugged in), ``interface_exists(name)`` (the IP module is not modelled:
by default every well-formed interface name exists), ``runtime`` (the data
plane's :class:`~pacsim.firmware.ipsec.show_commands.IpsecRuntime`) and
``enco_status()`` (the card's channels for ``show enco``).

Commands of other router modules (VLANs, IP, firewall, config files,
system name) are not part of the model: they fail as unknown commands.
ISAKMP commands are accepted, checked and stored, but no ISAKMP exchange
runs.
"""
import os
import time
from collections.abc import Callable

from .cli.commandline import CommandLine, ScriptLine
from .enco.commands import ENCO_COMMANDS, EncoCommands
from .enco.commands import ERRORS as ENCO_ERRORS
from .enco.keys import KeyStore
from .ipsec.commands import ERRORS as IPSEC_ERRORS
from .ipsec.commands import IPSEC_COMMANDS, IpsecCommands
from .ipsec.module import IpsecModule
from .ipsec.oldsa_commands import OLDSA_COMMANDS, OldSaCommands
from .ipsec.show_commands import IPSEC_SHOW_COMMANDS, IpsecRuntime, IpsecShow
from .isakmp.commands import ERRORS as ISAKMP_ERRORS
from .isakmp.commands import ISAKMP_COMMANDS, IsakmpCommands
from .isakmp.policy_config import IsakmpConfig
from .state.snapshots import EncoSnapshot
from .users.commands import ERRORS as USER_ERRORS
from .users.commands import USER_COMMANDS, UserCommands
from .users.database import UserDatabase
from .users.session import ConsoleSession

__all__ = ["RouterConsole"]


class RouterConsole:
    """The console (see the module docstring). ``keys``, ``ipsec``,
    ``isakmp`` and ``users`` are the configuration it acts on; ``session``
    the login session; ``cli`` the command line. ``ask_password(prompt)``
    answers ``login`` without PASSWORD= on an interactive console."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 random_bytes: Callable[[int], bytes] = os.urandom,
                 interface_exists: Callable[[str], bool] = lambda name: True,
                 runtime: IpsecRuntime | None = None,
                 enco_status: Callable[[], EncoSnapshot] = lambda: EncoSnapshot("-", 0),
                 ask_password: Callable[[str], str] | None = None):
        self.keys = KeyStore(random_bytes)
        self.ipsec = IpsecModule(self.keys, clock, interface_exists, random_bytes)
        self.isakmp = IsakmpConfig()
        self.users = UserDatabase()
        self.session = ConsoleSession(self.users, clock, ask_password)
        self.cli = CommandLine(authorize=self.session.authorize)
        errors = IPSEC_ERRORS + ENCO_ERRORS
        self.cli.register(ENCO_COMMANDS, EncoCommands(self.keys, enco_status), errors)
        self.cli.register(IPSEC_COMMANDS, IpsecCommands(self.ipsec), errors)
        self.cli.register(IPSEC_SHOW_COMMANDS, IpsecShow(self.ipsec, runtime), errors)
        self.cli.register(OLDSA_COMMANDS, OldSaCommands(self.ipsec), errors)
        self.cli.register(ISAKMP_COMMANDS, IsakmpCommands(self.isakmp), ISAKMP_ERRORS)
        self.cli.register(USER_COMMANDS, UserCommands(self.session), USER_ERRORS)

    def prompt(self, system_name: str = "") -> str:
        """The prompt for the logged-in user: ``Manager NAME> ``,
        ``SecOff NAME> ``, ``NAME> `` or ``login: ``."""
        return self.session.prompt(system_name)

    def execute(self, line: str) -> str:
        """Run one line; raises :class:`~pacsim.firmware.cli.errors.CliError`."""
        return self.cli.execute(line)

    def run(self, line: str) -> str:
        """Run one line; errors come back as ``Error: ...`` text."""
        return self.cli.run(line)

    def run_script(self, text: str) -> list[ScriptLine]:
        """Run a configuration script line by line."""
        return self.cli.run_script(text)
