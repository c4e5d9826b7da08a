# Ref: RFC 2401 sections 4.4 and 5 (SPD/SAD processing), spec/ipsec-commands.md §5.4-§5.6 (B22-B47), §6;
#      spec/show-outputs.md §3.5 (main counters), §5 (policy counters)
"""The router: a console, IP interfaces and routes, the SPD and SAD, and a
data plane on one card.

:class:`Router` joins what the other modules keep apart:

- its configuration, a :class:`~pacsim.firmware.state.RouterState` (ENCO
  key store, IPsec module, ISAKMP configuration, users), which it builds
  and hands to its console, the
  :class:`~pacsim.firmware.console.RouterConsole` (ENCO, IPsec, ISAKMP
  commands and displays) plus the IP commands of :mod:`.ip`; further
  consoles (:meth:`Router.open_console`) share the same configuration;
- the SA kernel (:class:`~pacsim.firmware.ipsec.kernel.SaKernel`), the one
  owner of the SA bundles on the card, and the data plane
  (:class:`~pacsim.firmware.ipsec.datapath.Datapath`) on the card (a :class:`~pacsim.host.device.PacDevice`, behind the
  :class:`~pacsim.firmware.enco.service.EncoService` that counts and labels
  its channels);
- the display adapters (:class:`~.runtime.RouterRuntime`);
- the packet path (:class:`~.forwarding.Forwarding`: receiving, routing,
  delivery, ICMP, MTU), the IPsec gate (:class:`~.ipsec_gate.IpsecGate`)
  and the ISAKMP gate (:class:`~.isakmp_gate.IsakmpGate`: the ISAKMP
  daemon and key manager once ``enable isakmp`` ran), which it mixes in.

**Time and I/O.** The router does no I/O of its own and keeps no time: the
``clock`` (seconds) and ``random_bytes`` (IVs, SPIs, random keys) are
injected, packets come in through :meth:`Router.receive` and go out as its
return value, ``[(interface, packet), ...]``. It is async only because the
card's driver is; it awaits one packet at a time, so give it one packet at
a time (the network harness does).

**Manual keys.** The console's :class:`~pacsim.firmware.ipsec.module.IpsecModule`
creates and removes SAD bundles synchronously, inside commands
(``enable ipsec``, ``create ipsec policy``...); the SAD tells the SA
kernel of each as it happens, and :meth:`Router.execute` awaits
:meth:`SaKernel.settle <pacsim.firmware.ipsec.kernel.SaKernel.settle>`
after the command: each new bundle gets its runtime SAs (tunnel endpoints
from the policy's source interface address and its peer address), its
card channels (opened through the ENCO service) and its place in the
datapath; each removed bundle has its channels closed. A bundle whose
channels cannot be opened (every channel in use, a key the card refuses)
is marked INVALID with its SAs UNDEF, counted (``setupSaSetupFailed``/
``setupFailed``, the ESP/AH/COMP ``setupFailed`` and ``...EncSetupFailed``
counters, the ALG ``...AttachFail``, the ENCO ``Open failures``) and
reported as an ``Error:`` line after the command's output; packets for
its policy are then dropped (``outBundleStateBad``).

Manual SAs have no anti-replay (the manual: ANTIREPLAYENABLED "is not
valid for ... manual key management"). ``replay_window`` (packets, a
multiple of 32) turns it on for this router's manual ESP and AH SAs, a
model extension for tests; both ends must then never reset their sequence
numbers (RFC 4303 3.3.3).

The packet path and the IPsec gate are described in :mod:`.forwarding`
and :mod:`.ipsec_gate`. ``poll`` runs the timers: bundle lifetimes by the
clock, the ISAKMP daemon's timers and key management, UDP tunnel
heartbeats and the reassembly timer.
"""
import os
import time
from collections.abc import Callable

from ..cli.errors import CliError
from ..console import RouterConsole
from .view_source import RouterViewSource
from ..enco.service import EncoService
from ..ipsec.datapath import BundleProcessor, Datapath
from ..ipsec.kernel import SaKernel
from ..ipsec.packet import parse_ip
from ..state.configuration import RouterState
from ..state.counters import CounterSet
from .forwarding import DroppedPacket, Forwarding
from .ip import ERRORS as IP_ERRORS
from .ip import IP_COMMANDS, IpCommands, IpModule
from .ipsec_gate import DataplaneCounters, IpsecGate
from .isakmp_gate import IsakmpGate
from .ipv6 import IPV6_COMMANDS, Ipv6Commands, Ipv6Module
from .mtu import MtuLayer
from .runtime import MAIN_COUNTERS, RouterRuntime
from .site_commands import SITE_COMMANDS, SiteCommands, SiteConfig

__all__ = ["Router", "DroppedPacket"]

#: ``show ipsec`` / ``reset ipsec counter`` group -> the data-plane counter blocks.
_RESET_BLOCKS = {"esp": ("esp_setup", "esp_out", "esp_in"), "ah": ("ah_setup", "ah_out", "ah_in"),
                 "comp": ("comp_setup", "comp_out", "comp_in"), "main": ("udp",)}
#: Show commands that read the card's counters first.
_CARD_SHOWS = {"show_enco", "show_counter", "show_engine_dropped"}


class Router(Forwarding, IpsecGate, IsakmpGate):
    """One router (see the module docstring). ``name`` for messages;
    ``device``: its card's :class:`~pacsim.host.device.PacDevice`;
    ``clock()`` seconds; ``random_bytes(n)``; ``replay_window``: anti-replay
    for manual SAs (None: off, as the manual has it); ``card``: the
    accelerator's name in ``show enco``. ``state`` is its configuration,
    ``console`` its first console, ``kernel`` its SA kernel."""

    def __init__(self, name: str, device, *, clock: Callable[[], float] = time.monotonic,
                 random_bytes: Callable[[int], bytes] = os.urandom, replay_window: int | None = None,
                 card: str = "PAC"):
        self.name = name
        self.device = device
        self.clock = clock
        self.random_bytes = random_bytes
        self._init_forwarding()
        self._init_gate()
        self.ip = IpModule()
        #: The system name, VLANs, firewall and configuration files (:mod:`.site_commands`).
        self.site = SiteConfig()
        self.ipv6 = Ipv6Module(self.ip)
        self.enco = EncoService(device, card)
        self.runtime = RouterRuntime(self)
        self.state = RouterState.create(clock, random_bytes, self.has_interface)
        self.ipsec = self.state.ipsec
        self._init_isakmp()
        self.console = self.open_console()
        self.counters = DataplaneCounters(self.ipsec.sad.count)
        self.datapath = Datapath(counters=self.counters, udp_listen_port=self.ipsec.udp_listen_port)
        self.kernel = SaKernel(self.ipsec, self.enco, self.datapath, self.counters, local_address=self._local_end,
                               clock=clock, random_bytes=random_bytes, next_id=self._next_id,
                               replay_window=replay_window)
        self.mtu = MtuLayer(self.ip, clock=clock, bundles=lambda: self.datapath.bundles, drop=self._drop,
                            next_id=self._next_id, ipv6=self.ipv6)
        self.main = CounterSet(MAIN_COUNTERS)
        self.ipsec.on_counters_reset = self._counters_reset
        self.ipsec.on_sa_counters_reset = self._sa_counters_reset
        self._reset_card_counters = False
        self._isakmp_outbox = []

    def __repr__(self) -> str:
        return f"<Router {self.name}>"

    def open_console(self, ask_password: Callable[[str], str] | None = None) -> RouterConsole:
        """A console on this router's configuration (with the IP commands);
        ``ask_password(prompt)`` answers ``login`` without PASSWORD=."""
        console = RouterConsole(self.state, runtime=self.runtime, isakmp_runtime=self.state.isakmp.runtime,
                                enco_status=self.enco.status, ask_password=ask_password,
                                view_source=RouterViewSource(self))
        console.cli.register(IP_COMMANDS, IpCommands(self.ip), IP_ERRORS)
        console.cli.register(IPV6_COMMANDS, Ipv6Commands(self.ipv6), IP_ERRORS)
        console.cli.register(SITE_COMMANDS, SiteCommands(self.site, self.has_interface))
        return console

    def _local_end(self, policy):
        """The local tunnel end of ``policy``: its source interface's address (IPv6: primary), or None."""
        return self._module(policy.ipversion).address_of(policy.source_interface)

    # -- console ------------------------------------------------------------------------------------

    async def execute(self, line: str) -> str:
        """Run one console line on the first console, then let the SA kernel
        set up and take down the bundles the command added and removed (see
        the module docstring); the output, with an ``Error:`` line per
        bundle that could not be set up. Raises
        :class:`~pacsim.firmware.cli.errors.CliError` as the console does."""
        parsed = self.console.cli.parse(line) if line.strip() and not line.lstrip().startswith("#") else None
        action = getattr(getattr(parsed, "command", None), "action", "")
        if action in _CARD_SHOWS:
            await self.enco.refresh()
        try:
            out = self.console.execute(line)
        finally:
            notes = await self.kernel.settle()
            self._isakmp_outbox += await self._isakmp_sync()
            if self._reset_card_counters:
                self._reset_card_counters = False
                await self.enco.reset_counters()
        return "\n".join([out, *notes]) if notes else out

    async def run(self, line: str) -> str:
        """:meth:`execute`, with errors returned as ``Error: ...`` text."""
        try:
            return await self.execute(line)
        except CliError as error:
            return f"Error: {error.message}"

    async def run_script(self, text: str) -> list[tuple[str, str]]:
        """Run each line of ``text``; ``[(line, output)]`` (errors as ``Error: ...``)."""
        return [(line, await self.run(line)) for line in text.splitlines()]

    def _counters_reset(self, groups) -> None:
        for group, blocks in _RESET_BLOCKS.items():
            if groups is None or group in groups:
                self.counters.reset(*blocks)
        if groups is None or "main" in groups:
            self.main.reset()
        if groups is None or "alg" in groups:
            self.kernel.alg.reset()
            self._reset_card_counters = True        # the card is read after the command
        if groups is None or "sad" in groups:
            self.counters.reset("sad_find")

    def _sa_counters_reset(self, sa_id: int) -> None:
        sa = self.kernel.runtime_sa(sa_id)
        if sa is not None:
            sa.counters.reset()

    # -- bundles ------------------------------------------------------------------------------------

    def runtime_sa(self, sa_id: int):
        """The runtime :class:`~pacsim.firmware.ipsec.sa.SecurityAssociation` of SA ``sa_id``, or None."""
        return self.kernel.runtime_sa(sa_id)

    def processor(self, bundle) -> BundleProcessor | None:
        """The data plane's processor of a SAD bundle, or None (not set up)."""
        return self.kernel.processor(bundle)

    # -- timers -------------------------------------------------------------------------------------

    async def receive(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        """:meth:`Forwarding.receive <.forwarding.Forwarding.receive>`, then
        the ISAKMP work it caused (:meth:`~.isakmp_gate.IsakmpGate._isakmp_pump`)."""
        out = await super().receive(packet, interface)
        return out + await self._isakmp_pump() + self._take_isakmp_outbox()

    async def send(self, packet: bytes) -> list[tuple[str, bytes]]:
        """:meth:`Forwarding.send <.forwarding.Forwarding.send>`, then the ISAKMP work it caused."""
        out = await super().send(packet)
        return out + await self._isakmp_pump()

    def _take_isakmp_outbox(self) -> list[tuple[str, bytes]]:
        out, self._isakmp_outbox = self._isakmp_outbox, []
        return out

    async def _deliver(self, ip) -> list[tuple[str, bytes]]:
        if self._isakmp_port(ip):
            return await self._isakmp_deliver(ip)
        return await super()._deliver(ip)

    async def _deliver_ipv6(self, ip) -> list[tuple[str, bytes]]:
        if self._isakmp_port(ip):
            return await self._isakmp_deliver(ip)
        return await super()._deliver_ipv6(ip)

    async def poll(self) -> list[tuple[str, bytes]]:
        """Timers: bundle lifetimes by the clock (expired bundles are removed
        and their channels closed), the ISAKMP daemon's timers and key
        management, UDP tunnel heartbeats due and the reassembly timer; the
        packets to send."""
        self.ipsec.sad.poll()
        await self.kernel.settle()
        out = self._take_isakmp_outbox() + await self._isakmp_pump()
        out += [sent for error in self.mtu.expire() for sent in await self.send(error)]
        for heartbeat in self.datapath.heartbeats():      # IPsec's own packets: no policy applies to them
            route = self.ip.lookup(parse_ip(heartbeat).dst)
            if route is None:
                self._drop("-", "out", "outNoRoutes", "no route for a UDP heartbeat", "outNoRoutes")
                continue
            self.ip.count("outRequests")
            out += await self._output(heartbeat, route.interface, ipsec=False)
        return out
