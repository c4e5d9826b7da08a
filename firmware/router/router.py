# Ref: RFC 2401 sections 4.4 and 5 (SPD/SAD processing), spec/ipsec-commands.md §5.4-§5.6 (B22-B47), §6;
#      spec/show-outputs.md §3.5 (main counters), §5 (policy counters)
"""The router: a console, IP interfaces and routes, the SPD and SAD, and a
data plane on one card.

:class:`Router` joins what the other modules keep apart:

- the :class:`~pacsim.firmware.console.RouterConsole` (ENCO, IPsec,
  ISAKMP commands and displays) plus the IP commands of :mod:`.ip`;
- the data plane (:class:`~pacsim.firmware.ipsec.datapath.Datapath`) on the
  card (a :class:`~pacsim.host.device.PacDevice`, behind the
  :class:`~pacsim.firmware.enco.service.EncoService` that counts and labels
  its channels);
- the display adapters (:class:`~.runtime.RouterRuntime`).

**Time and I/O.** The router does no I/O of its own and keeps no time: the
``clock`` (seconds) and ``random_bytes`` (IVs, SPIs, random keys) are
injected, packets come in through :meth:`Router.receive` and go out as its
return value, ``[(interface, packet), ...]``. It is async only because the
card's driver is; it awaits one packet at a time, so give it one packet at
a time (the network harness does).

**Manual keys.** The console's :class:`~pacsim.firmware.ipsec.module.IpsecModule`
creates and removes SAD bundles synchronously, inside commands
(``enable ipsec``, ``create ipsec policy``...). :meth:`Router.execute` runs
a command and then :meth:`Router.sync_bundles`, which brings the data plane
in line with the SAD: each new SAD bundle gets its runtime SAs
(:func:`~pacsim.firmware.ipsec.sa.from_pair`, tunnel endpoints from the
policy's source interface address and its peer address), its card channels
(opened through the ENCO service) and is attached (``Sad.attach``) and
added to the datapath; each bundle gone from the SAD has its channels
closed. A bundle whose channels cannot be opened (every channel in use, a
key the card refuses) is marked INVALID with its SAs UNDEF, counted
(``setupSaSetupFailed``/``setupFailed``, the ESP/AH/COMP ``setupFailed``
and ``...EncSetupFailed`` counters, the ALG ``...AttachFail``, the ENCO
``Open failures``) and reported as an ``Error:`` line after the command's
output; packets for its policy are then dropped (``outBundleStateBad``).

Manual SAs have no anti-replay (the manual: ANTIREPLAYENABLED "is not
valid for ... manual key management"). ``replay_window`` (packets, a
multiple of 32) turns it on for this router's manual ESP and AH SAs, a
model extension for tests; both ends must then never reset their sequence
numbers (RFC 4303 3.3.3).

**Forwarding** (:meth:`Router.receive`). IPsec applies on an interface
when IPsec is enabled and the interface has policies:

- inbound: an ESP, AH or IPComp packet (or, with a UDP tunnel open, UDP to
  the listen port) for one of the router's addresses goes to the datapath;
  what it delivers must match the selectors of the policy whose bundle
  processed it (else ``inPolSelectMatchFail``); an IPComp bundle's packet
  that came without IPComp counts ``inCompUncompressed``. Any other packet
  is looked up in the interface's policies: PERMIT passes (``inPermit``),
  DENY drops (``inDeny``), IPSEC drops (a plaintext packet for an IPsec
  policy, ``inActionIpsecFail``), no match drops (``inNoPolicyFound``, B35);
- then routing: the router's own addresses are delivered locally (ICMP
  echo requests are answered, UDP and TCP kept in :attr:`delivered`, other
  protocols dropped, ``inUnknownProtos``); others have their TTL
  decremented and go to the longest-prefix route;
- outbound on the route's interface: PERMIT sends (``outPermit``), DENY and
  no match drop (``outDeny``, ``outNoPolicyFound``), IPSEC applies the
  policy's first VALID bundle (``outProcessStart``, then ``Done``,
  ``Fail`` or ``FailImm``). A policy whose bundles are all INVALID (their
  channels could not be opened) drops with ``outBundleStateBad``; one with
  no bundle asks its key manager (``outNoBundle``) and drops
  (``outNoBundleFail``; manual keying has nothing to negotiate).

**MTU** (:mod:`.mtu`): fragments for one of the router's addresses are
reassembled first, before IPsec and delivery; a packet too big for its out
interface's MTU is fragmented after IPsec, or, with DF set, dropped with an
ICMP "fragmentation needed" back to its source. ``poll`` also runs the
reassembly timer.

**IPv6** (:mod:`.ipv6`, once ``enable ipv6``): an interface's IPv6
addresses sit alongside its IPv4 address and IPv6 packets take the same
path with their own module, routes and counters: reassembly, IPsec (only
``ipversion=6`` policies match IPv6 packets; an IPv6 policy's bundle has
the interface's primary IPv6 address as its local tunnel end), then
delivery (ICMPv6 echo requests answered; UDP, with its checksum checked,
TCP and other ICMPv6 kept in :attr:`delivered`; other next headers
answered with a Parameter Problem) or forwarding: multicast, link-local,
loopback or unspecified addresses are not forwarded (``inAddrErrors``),
the hop limit is decremented (ICMPv6 Time Exceeded when it runs out), no
route sends an ICMPv6 Destination Unreachable, and an IPv6 packet too big
for its interface is never fragmented on the way: Packet Too Big (see
:mod:`.mtu`).

Every drop is counted in an IPsec or IP counter and recorded in
:attr:`drop_log` with its reason.
"""
import collections
import dataclasses
import ipaddress
import os
import time
from collections.abc import Callable

from ..cli.errors import CliError
from ..console import RouterConsole
from ..enco.service import EncoService
from ..ipsec.counters import IpsecCounters
from ..ipsec.datapath import BundleProcessor, Datapath
from ..ipsec.packet import IPV6_ROUTING, PROTO_ICMP, PROTO_TCP, PROTO_UDP, MalformedPacket, parse_ip, parse_udp
from ..ipsec.sa import SaSetupError, from_pair
from ..ipsec.sad import BundleState, SaState
from ..ipsec.selectors import Direction
from ..ipsec.spd import Action
from ..ipsec.transforms import Protocol
from ..ipsec.udp_encap import UdpTunnel
from .icmpv6 import (CODE_ERRONEOUS_HEADER, CODE_HOP_LIMIT_EXCEEDED, CODE_NO_ROUTE, CODE_UNRECOGNIZED_NEXT_HEADER,
                     ICMPV6_DEST_UNREACHABLE, ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED, PROTO_ICMPV6,
                     decrement_hop_limit)
from .ip import ERRORS as IP_ERRORS
from .ip import IP_COMMANDS, IpCommands, IpModule
from .ipv6 import IPV6_COMMANDS, Ipv6Commands, Ipv6Module
from .mtu import MtuLayer
from .runtime import RouterRuntime
from .stack import ICMP_ECHO_REQUEST, decrement_ttl, echo_packet, parse_icmp, selector_of

__all__ = ["Router", "DroppedPacket"]

#: ``show ipsec`` / ``reset ipsec counter`` group -> the data-plane counter blocks.
_RESET_BLOCKS = {"esp": ("esp_setup", "esp_out", "esp_in"), "ah": ("ah_setup", "ah_out", "ah_in"),
                 "comp": ("comp_setup", "comp_out", "comp_in"), "main": ("udp",)}
#: Show commands that read the card's counters first.
_CARD_SHOWS = {"show_enco", "show_counter"}


def _not_forwarded(ip) -> str:
    """Why IPv6 ``ip`` may not be forwarded ("" if it may): a destination
    that is multicast (no multicast routing here), link-local (RFC 4291
    2.5.6), loopback or unspecified, or such a source."""
    for what, address in (("destination", ip.dst), ("source", ip.src)):
        if address.is_multicast and what == "destination":
            return f"multicast destination {address} (no multicast routing)"
        if address.is_multicast or address.is_link_local or address.is_loopback or address.is_unspecified:
            kind = ("multicast" if address.is_multicast else "link-local" if address.is_link_local else
                    "loopback" if address.is_loopback else "unspecified")
            return f"{kind} {what} {address} is not forwarded"
    return ""


@dataclasses.dataclass(frozen=True)
class DroppedPacket:
    """One dropped packet: when (router clock), where (interface, direction)
    and why (``reason``: the counter or data-plane reason, ``detail``)."""
    time: float
    interface: str
    direction: str
    reason: str
    detail: str = ""


class _DataplaneCounters(IpsecCounters):
    """The data plane's counters; its SAD "Find SA" counts also go to the
    module's SAD counters (``show ipsec counter=sad``)."""

    def __init__(self, sad_count: Callable[[str, str, str], None]):
        super().__init__()
        self._sad_count = sad_count

    def count(self, block: str, name: str, n: int = 1) -> None:
        super().count(block, name, n)
        if block == "sad_find":
            for _ in range(n):
                self._sad_count("sad", "sad", f"Find SA {name}")


class Router:
    """One router (see the module docstring). ``name`` for messages;
    ``device``: its card's :class:`~pacsim.host.device.PacDevice`;
    ``clock()`` seconds; ``random_bytes(n)``; ``replay_window``: anti-replay
    for manual SAs (None: off, as the manual has it); ``card``: the
    accelerator's name in ``show enco``."""

    def __init__(self, name: str, device, *, clock: Callable[[], float] = time.monotonic,
                 random_bytes: Callable[[int], bytes] = os.urandom, replay_window: int | None = None,
                 card: str = "PAC"):
        self.name = name
        self.device = device
        self.clock = clock
        self.random_bytes = random_bytes
        self.replay_window = replay_window
        self.ip = IpModule()
        self.ipv6 = Ipv6Module(self.ip)
        self.enco = EncoService(device, card)
        self.runtime = RouterRuntime(self)
        self.console = RouterConsole(clock=clock, random_bytes=random_bytes, interface_exists=self.has_interface,
                                     runtime=self.runtime, enco_status=self.enco.status)
        self.console.cli.register(IP_COMMANDS, IpCommands(self.ip), IP_ERRORS)
        self.console.cli.register(IPV6_COMMANDS, Ipv6Commands(self.ipv6), IP_ERRORS)
        self.ipsec = self.console.ipsec
        self.counters = _DataplaneCounters(self.ipsec.sad.count)
        self.datapath = Datapath(counters=self.counters, udp_listen_port=self.ipsec.udp_listen_port)
        self.mtu = MtuLayer(self.ip, clock=clock, bundles=lambda: self.datapath.bundles, drop=self._drop,
                            next_id=self._next_id, ipv6=self.ipv6)
        self.main = collections.Counter()
        self.alg_ipsec = collections.Counter()
        self.ipsec.on_counters_reset = self._counters_reset
        self.ipsec.on_sa_counters_reset = self._sa_counters_reset
        #: Packets addressed to the router that it does not answer (UDP...), oldest first.
        self.delivered: list[bytes] = []
        #: The last dropped packets (:class:`DroppedPacket`), oldest first.
        self.drop_log: collections.deque[DroppedPacket] = collections.deque(maxlen=1000)
        self._bundles: dict[int, tuple] = {}        # id(SAD bundle) -> (SAD bundle, BundleProcessor | None)
        self._owners: dict[int, object] = {}        # id(BundleProcessor) -> SAD bundle
        self._sas: dict[int, object] = {}           # SA id -> SecurityAssociation
        self._comp_seen: dict[int, int] = {}        # id(IPComp SA) -> its inProcessStart at the last packet
        self._reset_card_counters = False
        self._identification = 0

    def __repr__(self) -> str:
        return f"<Router {self.name}>"

    def has_interface(self, name: str) -> bool:
        """Whether interface ``name`` has an IPv4 or an IPv6 address."""
        return self.ip.has_interface(name) or self.ipv6.has_interface(name)

    def is_local(self, address) -> bool:
        """Whether ``address`` (IPv4 or IPv6) is one of the router's own."""
        return self._module(address.version).is_local(address)

    def _module(self, version: int):
        """The IP module of IP ``version``: :attr:`ip` or :attr:`ipv6`."""
        return self.ipv6 if version == 6 else self.ip

    # -- console ------------------------------------------------------------------------------------

    async def execute(self, line: str) -> str:
        """Run one console line and bring the data plane in line with the
        SAD (see the module docstring); the output, with an ``Error:`` line
        per bundle that could not be set up. Raises
        :class:`~pacsim.firmware.cli.errors.CliError` as the console does."""
        parsed = self.console.cli.parse(line) if line.strip() and not line.lstrip().startswith("#") else None
        action = getattr(getattr(parsed, "command", None), "action", "")
        if action in _CARD_SHOWS:
            await self.enco.refresh()
        try:
            out = self.console.execute(line)
        finally:
            notes = await self.sync_bundles()
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
            self.main.clear()
        if groups is None or "alg" in groups:
            self.alg_ipsec.clear()
            self._reset_card_counters = True        # the card is read after the command
        if groups is None or "sad" in groups:
            self.counters.reset("sad_find")

    def _sa_counters_reset(self, sa_id: int) -> None:
        sa = self._sas.get(sa_id)
        if sa is not None:
            sa.counters.reset()

    # -- bundles ------------------------------------------------------------------------------------

    def runtime_sa(self, sa_id: int):
        """The runtime :class:`~pacsim.firmware.ipsec.sa.SecurityAssociation` of SA ``sa_id``, or None."""
        return self._sas.get(sa_id)

    def processor(self, bundle) -> BundleProcessor | None:
        """The data plane's processor of a SAD bundle, or None (not set up)."""
        entry = self._bundles.get(id(bundle))
        return entry[1] if entry is not None and entry[0] is bundle else None

    async def sync_bundles(self) -> list[str]:
        """Set up the SAD's new bundles on the card and close the channels of
        those gone (see the module docstring); an ``Error:`` line per bundle
        that could not be set up."""
        self.datapath.udp_listen_port = self.ipsec.udp_listen_port
        live = {id(b): b for b in self.ipsec.sad.all_bundles()}
        for key, (bundle, proc) in list(self._bundles.items()):
            if live.get(key) is not bundle:
                del self._bundles[key]
                if proc is not None:
                    await self._detach(proc)
        notes = []
        for key, bundle in live.items():
            if key not in self._bundles:
                proc, problem = await self._attach(bundle)
                self._bundles[key] = (bundle, proc)
                if problem:
                    notes.append(f'Error: SA bundle {bundle.bundle_id} of IPsec policy "{bundle.policy_name}" '
                                 f"was not set up: {problem}")
        return notes

    def _pair(self, pair):
        if self.replay_window and pair.protocol is not Protocol.IPCOMP:
            return dataclasses.replace(pair, antireplay=True, replay_window=self.replay_window)
        return pair

    async def _attach(self, bundle):
        spd = self.ipsec.spd
        policy = spd.policy(bundle.policy_name)
        local = self._module(policy.ipversion).address_of(policy.source_interface)
        peer = policy.peeraddress if isinstance(policy.peeraddress, ipaddress.IPv4Address | ipaddress.IPv6Address) \
            else None
        problem = None
        if local is None:
            problem = (f"interface {policy.source_interface} has no IP{'v6' if policy.ipversion == 6 else ''} "
                       "address (the tunnel's local end)")
        elif peer is None:
            problem = "the peer address is not fixed; manual keys need PEERADDRESS=ipadd"
        proc = None
        if problem is None:
            try:
                sas = [from_pair(self._pair(rec.pair), sa_id=rec.sa_id, local=local, peer=peer, clock=self.clock,
                                 random_bytes=self.random_bytes, module_counters=self.counters)
                       for rec in bundle.sas]
                tunnel = None
                if policy.udptunnel:
                    tunnel = UdpTunnel(local_port=self.ipsec.udp_listen_port, remote_port=policy.udpport,
                                       heartbeats=policy.udpheartbeat, clock=self.clock)
                proc = BundleProcessor(sas, bundle_id=bundle.bundle_id, df_bit=policy.dfbit,
                                       udp_tunnel=tunnel, next_id=self._next_id)
            except ValueError as error:
                problem = str(error)
        configured = proc is not None
        if proc is not None:
            self.enco.owner = f"IPsec {policy.name} bundle {bundle.bundle_id}"
            try:
                await proc.open(self.enco)
            except SaSetupError as error:
                problem = str(error.__cause__ or error)
                proc = None
        if proc is not None:
            try:
                self.datapath.add_bundle(proc)
            except ValueError as error:
                await proc.close()
                problem, proc = str(error), None
        if proc is None:
            bundle.state = BundleState.INVALID
            for rec in bundle.sas:
                rec.state = SaState.UNDEF
            self.ipsec.bundle_setup_failed(policy.name)
            self.alg_ipsec["ipsecAttachFail" if configured else "ipsecConfigureFail"] += 1
            return None, problem
        for sa, rec in zip(proc.sas, bundle.sas):
            self.enco.label(sa.channels.values(), f"IPsec SA {sa.sa_id}")
            self._sas[sa.sa_id] = sa
            self.ipsec.sad.attach(rec.sa_id, sa)
            self.alg_ipsec["ipsecAttachGood"] += 1
            self.alg_ipsec["ipsecConfigureGood"] += 1
            if sa.outbound_keys.cipher or sa.outbound_keys.mac:
                self.alg_ipsec["ipsecKeymatProcessed"] += 1
            if sa.protocol is Protocol.ESP and (sa.cipher is None or sa.mac is None):
                self.alg_ipsec["nullKeymatProcessed"] += 1
        self._owners[id(proc)] = bundle
        return proc, None

    async def _detach(self, proc: BundleProcessor) -> None:
        self.datapath.remove_bundle(proc)
        self._owners.pop(id(proc), None)
        for sa in proc.sas:
            self._comp_seen.pop(id(sa), None)
            self.alg_ipsec["ipsecRemove"] += 1
            if self._sas.get(sa.sa_id) is sa:
                del self._sas[sa.sa_id]
        await proc.close()
        self.alg_ipsec["ipsecDetached"] += len(proc.sas)

    # -- packets ------------------------------------------------------------------------------------

    def _ipsec_on(self, interface: str) -> bool:
        return self.ipsec.enabled and bool(self.ipsec.spd.policies(interface))

    def _drop(self, interface: str, direction: str, reason: str, detail: str = "", counter: str | None = None,
              version: int = 4):
        if counter is not None:
            self._module(version).count(counter)
        self.drop_log.append(DroppedPacket(self.clock(), interface, direction, reason, detail))
        return []

    async def receive(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        """A packet arrived on ``interface``; the packets to send, ``[(interface, packet)]``."""
        if packet and packet[0] >> 4 == 6:
            return await self._receive_ipv6(bytes(packet), interface)
        iface = self.ip.interfaces.get(interface.lower())
        if iface is None:
            return self._drop(interface, "in", "no IP interface", f"{interface} has no IP address")
        interface = iface.name
        iface.received += 1
        self.ip.count("inReceives")
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._drop(interface, "in", "inHdrErrors", str(error), "inHdrErrors")
        return await self._whole(packet, ip, interface)

    async def _receive_ipv6(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        """An IPv6 packet arrived on ``interface`` (see :meth:`receive`)."""
        name = interface.lower()
        iface = self.ipv6.interfaces.get(name)
        if iface is None and not self.ip.has_interface(name):
            return self._drop(interface, "in", "no IP interface", f"{interface} has no IP address")
        self.ipv6.count("inReceives")
        if iface is not None:
            iface.received += 1
        if iface is None or not self.ipv6.enabled:
            why = "IPv6 is disabled (enable ipv6)" if not self.ipv6.enabled else f"{name} has no IPv6 address"
            return self._drop(name, "in", "inDiscards", why, "inDiscards", version=6)
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            return self._drop(name, "in", "inHdrErrors", str(error), "inHdrErrors", version=6)
        return await self._whole(packet, ip, name)

    async def _whole(self, packet: bytes, ip, interface: str) -> list[tuple[str, bytes]]:
        """Reassemble a fragment for the router (IPv4 or IPv6), then :meth:`_accept` the whole datagram."""
        if ip.is_fragment and self.is_local(ip.dst):
            whole, errors = self.mtu.reassemble(ip, interface)
            out = [sent for error in errors for sent in await self.send(error)]
            return out + (await self._accept(whole, parse_ip(whole), interface) if whole is not None else [])
        return await self._accept(packet, ip, interface)

    async def _accept(self, packet: bytes, ip, interface: str) -> list[tuple[str, bytes]]:
        """A whole datagram that came in on ``interface``: IPsec, then routing."""
        if self._ipsec_on(interface):
            if self.is_local(ip.dst) and self._for_ipsec(packet, ip):
                return await self._inbound_ipsec(packet, interface)
            if not self._inbound_plain(ip, interface):
                return []
        return await self._route(ip.packet, forwarded=True)

    def _for_ipsec(self, packet: bytes, ip) -> bool:
        if ip.protocol == PROTO_UDP and not self.ipsec.udp_listen_open:
            return False
        return self.datapath.claims(packet)

    async def send(self, packet: bytes) -> list[tuple[str, bytes]]:
        """Send a packet from the router itself (its source is one of the router's addresses)."""
        self._module(packet[0] >> 4).count("outRequests")
        return await self._route(packet, forwarded=False)

    async def send_echo(self, destination, ident: int = 1, sequence: int = 1, payload: bytes = b"",
                        source=None) -> list[tuple[str, bytes]]:
        """Send an ICMP (ICMPv6, to an IPv6 address) echo request from the
        router (source: the out interface's address by default)."""
        destination = ipaddress.ip_address(destination)
        module = self._module(destination.version)
        route = module.lookup(destination)
        if source is None and route is not None:
            source = module.address_of(route.interface)
        if source is None:
            return self._drop("-", "out", "outNoRoutes", f"no route to {destination}", "outNoRoutes",
                              version=destination.version)
        return await self.send(echo_packet(source, destination, ident, sequence, payload,
                                           identification=self._next_id()))

    def _next_id(self) -> int:
        self._identification = self._identification % 0xFFFF + 1
        return self._identification

    async def _route(self, packet: bytes, *, forwarded: bool) -> list[tuple[str, bytes]]:
        ip = parse_ip(packet)
        if ip.version == 6:
            return await self._route_ipv6(ip, forwarded=forwarded)
        if self.ip.is_local(ip.dst):
            return await self._deliver(ip)
        if forwarded:
            packet = decrement_ttl(packet)
            if packet is None:
                return self._drop("-", "forward", "ttlExceeded", f"TTL expired for {ip.dst}", "ttlExceeded")
            self.ip.count("forwDatagrams")
        route = self.ip.lookup(ip.dst)
        if route is None:
            return self._drop("-", "forward", "outNoRoutes", f"no route to {ip.dst}", "outNoRoutes")
        return await self._output(packet, route.interface)

    async def _route_ipv6(self, ip, *, forwarded: bool) -> list[tuple[str, bytes]]:
        if self.ipv6.is_local(ip.dst):
            return await self._deliver_ipv6(ip)
        packet = ip.packet
        if forwarded:
            unforwardable = _not_forwarded(ip)
            if unforwardable:
                return self._drop("-", "forward", "inAddrErrors", unforwardable, "inAddrErrors", version=6)
            packet = decrement_hop_limit(packet)
            if packet is None:
                self._drop("-", "forward", "hopLimitExceeded", f"hop limit expired for {ip.dst}", "hopLimitExceeded",
                           version=6)
                return await self._icmpv6_error(ip, ICMPV6_TIME_EXCEEDED, CODE_HOP_LIMIT_EXCEEDED, "icmpOutTimeExcds")
            self.ipv6.count("forwDatagrams")
        route = self.ipv6.lookup(ip.dst)
        if route is None:
            counter = "inNoRoutes" if forwarded else "outNoRoutes"
            self._drop("-", "forward" if forwarded else "out", counter, f"no IPv6 route to {ip.dst}", counter,
                       version=6)
            return await self._icmpv6_error(ip, ICMPV6_DEST_UNREACHABLE, CODE_NO_ROUTE, "icmpOutDestUnreachs")
        return await self._output(packet, route.interface)

    async def _icmpv6_error(self, about, icmp_type: int, code: int, counter: str, *,
                            parameter: int = 0) -> list[tuple[str, bytes]]:
        error = self.ipv6.icmp_error(about, icmp_type, code, counter, parameter=parameter)
        return await self.send(error) if error is not None else []

    async def _output(self, packet: bytes, interface: str, *, ipsec: bool = True) -> list[tuple[str, bytes]]:
        inner = None
        if ipsec and self._ipsec_on(interface):
            inner, packet = packet, await self._outbound_ipsec(packet, interface)
            if packet is None:
                self._module(inner[0] >> 4).count("ipsecDiscards")
                return []
        module = self._module(packet[0] >> 4)
        if module is self.ipv6:
            transmission = self.mtu.transmit_ipv6(packet, interface, inner)
        else:
            transmission = self.mtu.transmit(packet, interface, inner)
        if inner is not None and inner is not packet and not transmission.packets:
            self.alg_ipsec["ipsecEncodeDiscard"] += 1          # sealed, then refused by the out interface's MTU
        iface = module.interfaces.get(interface)
        for _ in transmission.packets:
            if iface is not None:
                iface.sent += 1
            module.count("outTransmits")
        out = [(interface, piece) for piece in transmission.packets]
        if transmission.error is not None:
            out += await self.send(transmission.error)
        return out

    async def _deliver(self, ip) -> list[tuple[str, bytes]]:
        if ip.version == 6:
            return await self._deliver_ipv6(ip)
        if ip.protocol not in (PROTO_ICMP, PROTO_UDP, PROTO_TCP):
            return self._drop("-", "local", "inUnknownProtos", f"protocol {ip.protocol} for {ip.dst}",
                              "inUnknownProtos")
        self.ip.count("inDelivers")
        if ip.protocol == PROTO_ICMP:
            try:
                message = parse_icmp(ip)
            except ValueError as error:
                return self._drop("-", "local", "inHdrErrors", str(error), "inHdrErrors")
            if message.type == ICMP_ECHO_REQUEST and message.valid:
                reply = echo_packet(ip.dst, ip.src, message.ident, message.sequence, message.payload, reply=True,
                                    identification=self._next_id())
                return await self.send(reply)
        self.delivered.append(ip.packet)
        return []

    async def _deliver_ipv6(self, ip) -> list[tuple[str, bytes]]:
        """An IPv6 packet for one of the router's addresses (see the module docstring)."""
        for kind, offset, _ in ip.ipv6_extensions():
            if kind == IPV6_ROUTING and ip.header[offset + 3]:       # segments left: no routing type is known
                self._drop("-", "local", "inHdrErrors", f"a routing header of type {ip.header[offset + 2]} with "
                           f"{ip.header[offset + 3]} segments left", "inHdrErrors", version=6)
                return await self._icmpv6_error(ip, ICMPV6_PARAMETER_PROBLEM, CODE_ERRONEOUS_HEADER,
                                                "icmpOutParmProblems", parameter=offset + 2)
        if ip.protocol == PROTO_ICMPV6:
            self.ipv6.count("icmpInMsgs")
            try:
                message = parse_icmp(ip)
            except ValueError as error:
                return self._drop("-", "local", "icmpInErrors", str(error), "icmpInErrors", version=6)
            if not message.valid:
                return self._drop("-", "local", "icmpInErrors", f"ICMPv6 type {message.type} from {ip.src}: wrong "
                                  "checksum", "icmpInErrors", version=6)
            self.ipv6.count("inDelivers")
            if message.is_echo_request:
                self.ipv6.count("icmpInEchos")
                self.ipv6.count("icmpOutEchoReplies")
                self.ipv6.count("icmpOutMsgs")
                return await self.send(echo_packet(ip.dst, ip.src, message.ident, message.sequence, message.payload,
                                                   reply=True))
        elif ip.protocol == PROTO_UDP:
            try:
                if len(ip.payload) >= 8 and ip.payload[6:8] == b"\0\0":
                    raise MalformedPacket("UDP checksum 0, which IPv6 does not allow (RFC 8200 8.1)")
                parse_udp(ip)
            except MalformedPacket as error:
                return self._drop("-", "local", "udpInErrors", f"from {ip.src}: {error}", "udpInErrors", version=6)
            self.ipv6.count("inDelivers")
        elif ip.protocol == PROTO_TCP:
            self.ipv6.count("inDelivers")
        else:
            self._drop("-", "local", "inUnknownProtos", f"next header {ip.protocol} for {ip.dst}", "inUnknownProtos",
                       version=6)
            return await self._icmpv6_error(ip, ICMPV6_PARAMETER_PROBLEM, CODE_UNRECOGNIZED_NEXT_HEADER,
                                            "icmpOutParmProblems", parameter=ip.next_header_at)
        self.delivered.append(ip.packet)
        return []

    # -- IPsec --------------------------------------------------------------------------------------

    def _pcount(self, policy: str, block: str, name: str) -> None:
        self.ipsec.count_policy(policy, block, name)

    async def _outbound_ipsec(self, packet: bytes, interface: str) -> bytes | None:
        ip = parse_ip(packet)
        selector = selector_of(ip)
        self.main["outProcessPkt"] += 1
        policy = self.ipsec.spd.lookup(selector, interface, Direction.OUTBOUND)
        if policy is None:
            self.main["outNoPolicyFound"] += 1
            self._drop(interface, "out", "outNoPolicyFound", f"{ip.src} -> {ip.dst} matches no policy")
            return None
        if policy.action is Action.DENY:
            self._pcount(policy.name, "out", "outDeny")
            self._drop(interface, "out", "outDeny", f"policy {policy.name}")
            return None
        if policy.action is Action.PERMIT:
            self._pcount(policy.name, "out", "outPermit")
            return packet
        bundle = self.ipsec.sad.find_bundle(policy.name, selector)
        if bundle is None and self.ipsec.sad.bundles(policy.name):
            self._pcount(policy.name, "out", "outBundleStateBad")
            self._drop(interface, "out", "outBundleStateBad", f"policy {policy.name} has no VALID SA bundle")
            return None
        if bundle is None:
            self.ipsec.acquire(policy, selector, Direction.OUTBOUND)          # counts outNoBundle
            self._pcount(policy.name, "out", "outNoBundleFail")
            self._drop(interface, "out", "outNoBundleFail", f"policy {policy.name} has no SA bundle")
            return None
        proc = self.processor(bundle)
        if proc is None:
            self._pcount(policy.name, "out", "outBundleStateBad")
            self._drop(interface, "out", "outBundleStateBad",
                       f"SA bundle {bundle.bundle_id} of policy {policy.name} has no card channels")
            return None
        self._pcount(policy.name, "out", "outProcessStart")
        outcome = await self.datapath.outbound(proc, packet)
        if not outcome.ok:
            self._pcount(policy.name, "out", "outProcessFailImm" if outcome.immediate else "outProcessFail")
            self.alg_ipsec["ipsecEncodeFail"] += 1
            self._drop(interface, "out", outcome.reason.value, outcome.detail)
            return None
        self._pcount(policy.name, "out", "outProcessDone")
        self.main["outProcessPktFinished"] += 1
        self.alg_ipsec["ipsecEncodeGood"] += 1
        self.ipsec.sad.charge(bundle, len(ip.payload))
        return outcome.packet

    def _inbound_plain(self, ip, interface: str) -> bool:
        """The inbound policy check of a packet that is not for IPsec; True to pass it on."""
        selector = selector_of(ip)
        self.main["inProcessPkt"] += 1
        policy = self.ipsec.spd.lookup(selector, interface, Direction.INBOUND)
        verdict, counter = False, None
        if policy is None:
            self.main["inNoPolicyFound"] += 1
            counter = "inNoPolicyFound"
        elif policy.action is Action.PERMIT:
            self._pcount(policy.name, "in", "inPermit")
            verdict = True
        elif policy.action is Action.DENY:
            counter = "inDeny"
        else:
            counter = "inActionIpsecFail"        # plaintext where the policy wants IPsec
        if counter is not None:
            if policy is not None:
                self._pcount(policy.name, "in", counter)
            self._module(ip.version).count("ipsecDiscards")
            self._drop(interface, "in", counter, f"{ip.src} -> {ip.dst} protocol {ip.protocol}"
                       + (f", policy {policy.name}" if policy is not None else ""))
        return verdict

    async def _inbound_ipsec(self, packet: bytes, interface: str) -> list[tuple[str, bytes]]:
        self.main["inProcessPkt"] += 1
        module = self._module(packet[0] >> 4)
        outcome = await self.datapath.inbound(packet)
        if outcome.heartbeat:
            self.main["inProcessPktKeepalive"] += 1
            return []
        bundle = self._owners.get(id(outcome.bundle)) if outcome.bundle is not None else None
        policy = bundle.policy_name if bundle is not None else None
        if policy is not None:
            self._pcount(policy, "in", "inProcessStart")
        if not outcome.ok:
            if policy is not None:
                self._pcount(policy, "in", "inProcessFailImm" if outcome.immediate else "inProcessFail")
                self.alg_ipsec["ipsecDecodeFail"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", outcome.reason.value, outcome.detail)
        inner = parse_ip(outcome.packet)
        spd = self.ipsec.spd
        self.alg_ipsec["ipsecDecodeGood"] += 1                # the SAs processed it (their inProcessDone)
        if bundle is None or not spd.has_policy(policy):
            self.alg_ipsec["ipsecDecodeDiscard"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", "inPolicyActionFail", "the bundle's policy is gone")
        self._pcount(policy, "in", "inProcessDone")
        selector = selector_of(inner)
        failed = spd.policy(policy).selectors().mismatch(selector, Direction.INBOUND)
        if failed is not None:                                 # decoded, then discarded (RFC 2401 5.2.1 step 4)
            self._pcount(policy, "in", "inPolSelectMatchFail")
            self.alg_ipsec["ipsecDecodeDiscard"] += 1
            module.count("ipsecDiscards")
            return self._drop(interface, "in", "inPolSelectMatchFail",
                              f"{inner.src} -> {inner.dst} fails {failed} of policy {policy}")
        for sa in outcome.bundle.sas:
            if sa.protocol is Protocol.IPCOMP:           # the peer sent it without IPComp (RFC 3173 2.2)
                seen = sa.counters["inProcessStart"]
                if self._comp_seen.get(id(sa)) == seen:
                    self._pcount(policy, "in", "inCompUncompressed")
                self._comp_seen[id(sa)] = seen
        self.main["inProcessPktFinished"] += 1
        self.ipsec.sad.charge(bundle, len(inner.payload))
        return await self._route(outcome.packet, forwarded=True)

    # -- timers -------------------------------------------------------------------------------------

    async def poll(self) -> list[tuple[str, bytes]]:
        """Timers: bundle lifetimes by the clock (expired bundles are removed
        and their channels closed), UDP tunnel heartbeats due and the
        reassembly timer; the heartbeats and ICMP errors to send."""
        self.ipsec.sad.poll()
        await self.sync_bundles()
        out = [sent for error in self.mtu.expire() for sent in await self.send(error)]
        for heartbeat in self.datapath.heartbeats():      # IPsec's own packets: no policy applies to them
            route = self.ip.lookup(parse_ip(heartbeat).dst)
            if route is None:
                self._drop("-", "out", "outNoRoutes", "no route for a UDP heartbeat", "outNoRoutes")
                continue
            self.ip.count("outRequests")
            out += await self._output(heartbeat, route.interface, ipsec=False)
        return out
