# Ref: spec/ipsec-commands.md §0-§6, spec/isakmp-commands.md §1-§2, spec/show-outputs.md §1-§9, §15
"""The router's console for the security features: one
:class:`~pacsim.firmware.cli.commandline.CommandLine` carrying the ENCO key,
IPsec, pre-IPsec SA and ISAKMP commands and the IPsec displays.

Everything time- or randomness-dependent is injected: ``clock()`` in
seconds, ``random_bytes(n)`` (ENCO random keys, SPIs; the card's RNG can be
plugged in), ``interface_exists(name)`` (the IP module is not modelled:
by default every well-formed interface name exists), ``runtime`` (the data
plane's :class:`~pacsim.firmware.ipsec.show_commands.IpsecRuntime`) and
``enco_status()`` (the card's channels for ``show enco``).

Commands of other router modules (users, VLANs, IP, firewall, config
files, system name) are not part of the model: they fail as unknown
commands. ISAKMP commands are accepted, checked and stored, but no ISAKMP
exchange runs.
"""
import os
import time
from collections.abc import Callable

from .cli.commandline import CommandLine, ScriptLine
from .enco.commands import ENCO_COMMANDS, EncoCommands
from .enco.commands import ERRORS as ENCO_ERRORS
from .enco.displays import EncoStatus
from .enco.keys import KeyStore
from .ipsec.commands import ERRORS as IPSEC_ERRORS
from .ipsec.commands import IPSEC_COMMANDS, IpsecCommands
from .ipsec.module import IpsecModule
from .ipsec.oldsa_commands import OLDSA_COMMANDS, OldSaCommands
from .ipsec.show_commands import IPSEC_SHOW_COMMANDS, IpsecRuntime, IpsecShow
from .isakmp.commands import ERRORS as ISAKMP_ERRORS
from .isakmp.commands import ISAKMP_COMMANDS, IsakmpCommands
from .isakmp.policy_config import IsakmpConfig

__all__ = ["RouterConsole"]


class RouterConsole:
    """The console (see the module docstring). ``keys``, ``ipsec`` and
    ``isakmp`` are the configuration it acts on; ``cli`` the command line."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 random_bytes: Callable[[int], bytes] = os.urandom,
                 interface_exists: Callable[[str], bool] = lambda name: True,
                 runtime: IpsecRuntime | None = None,
                 enco_status: Callable[[], EncoStatus] = lambda: EncoStatus("-", 0)):
        self.keys = KeyStore(random_bytes)
        self.ipsec = IpsecModule(self.keys, clock, interface_exists, random_bytes)
        self.isakmp = IsakmpConfig()
        self.cli = CommandLine()
        errors = IPSEC_ERRORS + ENCO_ERRORS
        self.cli.register(ENCO_COMMANDS, EncoCommands(self.keys, enco_status), errors)
        self.cli.register(IPSEC_COMMANDS, IpsecCommands(self.ipsec), errors)
        self.cli.register(IPSEC_SHOW_COMMANDS, IpsecShow(self.ipsec, runtime), errors)
        self.cli.register(OLDSA_COMMANDS, OldSaCommands(self.ipsec), errors)
        self.cli.register(ISAKMP_COMMANDS, IsakmpCommands(self.isakmp), ISAKMP_ERRORS)

    def execute(self, line: str) -> str:
        """Run one line; raises :class:`~pacsim.firmware.cli.errors.CliError`."""
        return self.cli.execute(line)

    def run(self, line: str) -> str:
        """Run one line; errors come back as ``Error: ...`` text."""
        return self.cli.run(line)

    def run_script(self, text: str) -> list[ScriptLine]:
        """Run a configuration script line by line."""
        return self.cli.run_script(text)
