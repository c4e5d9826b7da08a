# Ref: spec/ipsec-commands.md §0-§6, spec/isakmp-commands.md §0-§2, spec/show-outputs.md §1-§15
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

The configuration the commands act on is the router's
:class:`~.state.RouterState` (key store, IPsec module, ISAKMP
configuration, users), handed in: a console builds none of it, and
several consoles on one router share it. What the displays read from the
data plane is injected too: ``runtime`` (the data plane's
:class:`~pacsim.firmware.ipsec.show_commands.IpsecRuntime`) and
``enco_status()`` (the card's channels for ``show enco``) and
``isakmp_runtime`` (an
:class:`~pacsim.firmware.isakmp.show_commands.IsakmpRuntime` giving the
running ISAKMP daemon for ``show isakmp ...`` and ``reset isakmp
counters``) and ``view_source`` (a
:class:`~pacsim.firmware.views.ViewSource`: with one, the Cisco IOS ``show
crypto ...`` and ``clear crypto sa`` commands run beside the AlliedWare ones).
:func:`standalone_console` is a console on a configuration of its own, for
a console without a router.

Commands of other router modules (IP, VLANs, firewall, config files,
system name) are not on this console: the router adds them to its own
(:meth:`pacsim.firmware.router.Router.open_console`, :mod:`.router.site_commands`).
The ISAKMP configuration commands are stored; the daemon the router runs
on them is not the console's.
"""
import os
import time
from collections.abc import Callable

from .cli.commandline import CommandLine, ScriptLine
from .enco.commands import ENCO_COMMANDS, EncoCommands
from .enco.commands import ERRORS as ENCO_ERRORS
from .ipsec.commands import ERRORS as IPSEC_ERRORS
from .ipsec.commands import IPSEC_COMMANDS, IpsecCommands
from .ipsec.oldsa_commands import OLDSA_COMMANDS, OldSaCommands
from .ipsec.show_commands import IPSEC_SHOW_COMMANDS, IpsecRuntime, IpsecShow
from .isakmp.commands import ERRORS as ISAKMP_ERRORS
from .isakmp.commands import ISAKMP_COMMANDS, IsakmpCommands
from .isakmp.show_commands import ISAKMP_SHOW_COMMANDS, IsakmpRuntime, IsakmpShow
from .isakmp.xauth_commands import ERRORS as XAUTH_ERRORS
from .isakmp.xauth_commands import XAUTH_COMMANDS, XauthCommands
from .state.configuration import RouterState
from .state.snapshots import EncoSnapshot
from .users.commands import ERRORS as USER_ERRORS
from .users.commands import USER_COMMANDS, UserCommands
from .users.session import ConsoleSession
from .views import ViewSource
from .views.ios_commands import IOS_COMMANDS, IosCommands

__all__ = ["RouterConsole", "standalone_console"]


class RouterConsole:
    """The console (see the module docstring) of ``state``, a
    :class:`~.state.RouterState`; ``keys``, ``ipsec``, ``isakmp`` and
    ``users`` are its parts; ``session`` the console's login session;
    ``cli`` the command line. ``ask_password(prompt)`` answers ``login``
    without PASSWORD= on an interactive console. :attr:`terminal`
    (``line -> None``, or None) is where the console prints what happens
    between commands: ``enable isakmp debug`` on this console sends the
    ISAKMP debug lines there, as they happen."""

    def __init__(self, state: RouterState, *, runtime: IpsecRuntime | None = None,
                 isakmp_runtime: IsakmpRuntime | None = None,
                 enco_status: Callable[[], EncoSnapshot] = lambda: EncoSnapshot("-", 0),
                 ask_password: Callable[[str], str] | None = None, view_source: ViewSource | None = None):
        self.state = state
        self.keys, self.ipsec, self.isakmp, self.users = state.keys, state.ipsec, state.isakmp, state.users
        self.session = ConsoleSession(self.users, state.clock, ask_password)
        self.terminal = None
        self.cli = CommandLine(authorize=self.session.authorize)
        errors = IPSEC_ERRORS + ENCO_ERRORS
        self.cli.register(ENCO_COMMANDS, EncoCommands(self.keys, enco_status), errors)
        self.cli.register(IPSEC_COMMANDS, IpsecCommands(self.ipsec), errors)
        self.cli.register(IPSEC_SHOW_COMMANDS, IpsecShow(self.ipsec, runtime), errors)
        self.cli.register(OLDSA_COMMANDS, OldSaCommands(self.ipsec), errors)
        isakmp_show = IsakmpShow(self.isakmp, isakmp_runtime)
        self.cli.register(ISAKMP_COMMANDS, IsakmpCommands(self.isakmp, isakmp_show.counters, lambda: self.terminal), ISAKMP_ERRORS)
        self.cli.register(ISAKMP_SHOW_COMMANDS, isakmp_show, ISAKMP_ERRORS)
        self.cli.register(USER_COMMANDS, UserCommands(self.session), USER_ERRORS)
        self.cli.register(XAUTH_COMMANDS, XauthCommands(state, isakmp_runtime), XAUTH_ERRORS)
        if view_source is not None:         # the IOS show crypto / clear crypto commands (views.ios_commands)
            self.cli.register(IOS_COMMANDS, IosCommands(view_source, self.ipsec), IPSEC_ERRORS)

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


def standalone_console(clock: Callable[[], float] = time.monotonic,
                       random_bytes: Callable[[int], bytes] = os.urandom,
                       interface_exists: Callable[[str], bool] = lambda name: True,
                       **options) -> RouterConsole:
    """A console on a configuration of its own (:meth:`RouterState.create
    <.state.RouterState.create>` with ``clock``, ``random_bytes`` and
    ``interface_exists``); ``options`` as :class:`RouterConsole` takes them."""
    return RouterConsole(RouterState.create(clock, random_bytes, interface_exists), **options)
