# Ref: pcap file format (LINKTYPE_RAW); RFC 791, RFC 8200 section 4.5 (reassembly at hosts)
"""The network harness: hosts, LANs and a WAN link between routers, on a
virtual clock, with the WAN written to a pcap file.

Everything runs on one event queue ordered by virtual time
(:class:`VirtualClock`, seconds, injected into the routers): a packet put
on a link arrives ``latency`` seconds later; :meth:`Network.run` processes
the queue, one packet at a time, until it is empty. Routers are
:class:`~pacsim.firmware.router.Router` objects and are awaited (their
card's driver is async), and nothing else is awaited, so the harness runs
under ``asyncio`` with the model bus and inside a cocotb test with the RTL
bus alike.

Topology: :meth:`Network.add_host` puts a host on a router interface's
subnet (its gateway is that interface's address), with an IPv4 address, an
IPv6 address on one of the interface's IPv6 prefixes, or both;
:meth:`Network.join` joins two router interfaces with a point-to-point WAN
link, :meth:`Network.cut` cuts one (what is sent onto it is lost, recorded
in :attr:`Network.lost` as "link cut") and :meth:`Network.restore` mends
it; :meth:`Network.add_gateway` adds a NAT gateway
(:mod:`pacsim.sim.nat_gateway`) whose ``inside`` and ``outside`` interfaces
are joined the same way (every link is captured, so the pcap shows a
packet before and after translation). A host sends UDP datagrams (DF set on request) and ICMP or ICMPv6
echo requests (``version=6``, or an IPv6 destination), records what it
receives and answers echo requests. It reassembles fragments (RFC 791 and
RFC 8200 4.5, with the router's
:class:`~pacsim.firmware.router.fragments.Reassembly`) and records the ICMP
and ICMPv6 errors it receives (:class:`IcmpError`: "fragmentation needed"
and Packet Too Big with their MTU, time exceeded...); it neither answers
them nor adjusts what it sends. Links deliver by address: there is no ARP
and no IPv6 neighbour discovery. A packet for an interface with no link, or for
an address no host on the LAN has, is lost and recorded in
:attr:`Network.lost`.

The WAN capture (:class:`PcapWriter`) is the classic pcap format written
here: the 24-byte global header (magic ``0xa1b2c3d4``, version 2.4,
snaplen 65535, LINKTYPE_RAW = 101: each record is an IP packet) and per
packet a 16-byte record header (seconds, microseconds, captured and
original length). Both directions of every WAN link go to the one file.
"""
import heapq
import ipaddress
import itertools
import math
import random
import struct
from dataclasses import dataclass, field

from ..firmware.ipsec.packet import PROTO_ICMP, PROTO_UDP, MalformedPacket, parse_ip, parse_udp
from ..firmware.router import Router
from ..firmware.router.fragments import IPV6_REASSEMBLY_TIMEOUT, Outcome, Reassembly
from ..firmware.router.icmpv6 import PROTO_ICMPV6
from ..firmware.router.stack import echo_packet, parse_icmp, udp_packet
from ..host.device import PacDevice

__all__ = ["VirtualClock", "PcapWriter", "Host", "Network", "WanPacket", "Lost", "IcmpError", "model_router",
           "LINKTYPE_RAW", "PCAP_MAGIC", "MAX_WAIT_SECONDS"]

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_RAW = 101
SNAPLEN = 65535
#: The longest :meth:`Network.wait`, seconds: 366 days, past the longest
#: lifetime the manual configures (ISAKMP EXPIRYSeconds, 31449600 s).
MAX_WAIT_SECONDS = 366 * 86400


class VirtualClock:
    """Injected time in seconds; only :meth:`advance` moves it."""

    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, to: float) -> None:
        if to < self.now:
            raise ValueError(f"the virtual clock cannot go back from {self.now} to {to}")
        self.now = to


class PcapWriter:
    """A classic pcap file of raw IP packets (see the module docstring).
    ``target``: a path or a binary file object."""

    def __init__(self, target, linktype: int = LINKTYPE_RAW):
        self._own = isinstance(target, (str, bytes)) or hasattr(target, "__fspath__")
        self.file = open(target, "wb") if self._own else target
        self.file.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, linktype))
        self.packets = 0

    def write(self, timestamp: float, packet: bytes) -> None:
        seconds = int(timestamp)
        micros = min(int(round((timestamp - seconds) * 1_000_000)), 999_999)
        data = bytes(packet[:SNAPLEN])
        self.file.write(struct.pack("<IIII", seconds, micros, len(data), len(packet)) + data)
        self.packets += 1

    def close(self) -> None:
        self.file.flush()
        if self._own:
            self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass(frozen=True)
class IcmpError:
    """An ICMP or ICMPv6 (``version``) error a host received: when, from
    whom, ``type`` and ``code``, the next-hop ``mtu`` of a "fragmentation
    needed" (type 3 code 4, RFC 1191) or a Packet Too Big (ICMPv6 type 2,
    RFC 4443; None for other errors), the ``parameter`` word of an ICMPv6
    error (a Parameter Problem's pointer) and the ``quoted`` datagram (its
    IP header and as much data as the sender put in)."""
    time: float
    source: ipaddress.IPv4Address | ipaddress.IPv6Address
    type: int
    code: int
    mtu: int | None
    quoted: bytes
    version: int = 4
    parameter: int = 0

    @property
    def about(self) -> tuple:
        """(source, destination, protocol, Identification) of the quoted
        datagram (IPv6: its next header, and None for the Identification)."""
        if self.version == 6:
            if len(self.quoted) < 40:
                return (None, None, None, None)
            return (ipaddress.IPv6Address(self.quoted[8:24]), ipaddress.IPv6Address(self.quoted[24:40]),
                    self.quoted[6], None)
        if len(self.quoted) < 20:
            return (None, None, None, None)
        ident, protocol = struct.unpack_from("!H", self.quoted, 4)[0], self.quoted[9]
        return (ipaddress.IPv4Address(self.quoted[12:16]), ipaddress.IPv4Address(self.quoted[16:20]), protocol,
                ident)


@dataclass
class Host:
    """A host on a router's LAN: ``address`` (IPv4, with the LAN's mask;
    None for an IPv6-only host), ``gateway`` (the router interface's
    address), ``address6`` and ``gateway6`` (IPv6, or None), what it
    ``received`` (IP packets, fragments reassembled), the ``fragments``
    among them as they came, the echo replies it got, ``(ident,
    sequence)``, the ICMP and ICMPv6 errors (:class:`IcmpError`), and how
    many packets were ``malformed`` (an IP header, UDP datagram or ICMP
    message that does not parse; each is also in :attr:`Network.lost`)."""
    name: str
    address: ipaddress.IPv4Interface | None
    router: str
    interface: str
    gateway: ipaddress.IPv4Address | None
    received: list = field(default_factory=list)
    echo_replies: list = field(default_factory=list)
    identification: int = 0
    fragments: list = field(default_factory=list)
    icmp_errors: list = field(default_factory=list)
    reassembly: Reassembly = field(default_factory=Reassembly)
    address6: ipaddress.IPv6Interface | None = None
    gateway6: ipaddress.IPv6Address | None = None
    reassembly6: Reassembly = field(default_factory=lambda: Reassembly(timeout=IPV6_REASSEMBLY_TIMEOUT))
    malformed: int = 0

    @property
    def ip(self) -> ipaddress.IPv4Address | None:
        return self.address.ip if self.address is not None else None

    @property
    def ip6(self) -> ipaddress.IPv6Address | None:
        return self.address6.ip if self.address6 is not None else None

    def has_address(self, address) -> bool:
        return address is not None and address in (self.ip, self.ip6)

    def source_for(self, destination) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The host's address of ``destination``'s IP version."""
        version = ipaddress.ip_address(destination).version
        source = self.ip6 if version == 6 else self.ip
        if source is None:
            raise ValueError(f"host {self.name} has no IPv{version} address to reach {destination} from")
        return source

    def next_id(self) -> int:
        self.identification = self.identification % 0xFFFF + 1
        return self.identification

    def udp(self, destination, src_port: int, dst_port: int, payload: bytes, *, df: bool = False) -> bytes:
        return udp_packet(self.source_for(destination), destination, src_port, dst_port, payload,
                          identification=self.next_id(), df=df)

    def echo(self, destination, ident: int, sequence: int, payload: bytes) -> bytes:
        return echo_packet(self.source_for(destination), destination, ident, sequence, payload,
                           identification=self.next_id())

    def udp_payloads(self) -> list[bytes]:
        """Payloads of the UDP datagrams received; a packet that does not
        parse is left out (it was counted in :attr:`malformed` on arrival)."""
        out = []
        for packet in self.received:
            try:
                ip = parse_ip(packet)
                if ip.protocol == PROTO_UDP:
                    out.append(parse_udp(ip)[2])
            except MalformedPacket:
                continue
        return out


@dataclass(frozen=True)
class WanPacket:
    """A packet on a WAN link: when, from which router interface, the bytes."""
    time: float
    router: str
    interface: str
    packet: bytes


@dataclass(frozen=True)
class Lost:
    """A packet the network could not deliver: where and why."""
    time: float
    where: str
    reason: str


class Network:
    """Routers, hosts and links on one virtual clock (see the module docstring).

    ``pcap``: a :class:`PcapWriter` for the WAN, or None; ``wan_latency`` and
    ``lan_latency``: seconds a packet takes on a link.
    """

    def __init__(self, clock: VirtualClock | None = None, *, pcap: PcapWriter | None = None,
                 wan_latency: float = 0.005, lan_latency: float = 0.0001):
        self.clock = clock or VirtualClock()
        self.pcap = pcap
        self.wan_latency, self.lan_latency = wan_latency, lan_latency
        self.routers: dict[str, Router] = {}
        self.hosts: dict[str, Host] = {}
        #: NAT gateways (:class:`~pacsim.sim.nat_gateway.NatGateway`) by name.
        self.gateways: dict = {}
        self.links: dict[tuple[str, str], tuple[str, str]] = {}
        #: The ends (node, interface) of the links that are cut.
        self.cut_ends: set[tuple[str, str]] = set()
        #: Every packet that crossed a WAN link, in order.
        self.wan: list[WanPacket] = []
        self.lost: list[Lost] = []
        self._queue = []
        self._order = itertools.count()

    # -- topology -------------------------------------------------------------------------------------

    def add_router(self, router: Router) -> Router:
        self._check_free(router.name)
        self.routers[router.name] = router
        return router

    def add_gateway(self, gateway):
        """A NAT gateway (:class:`~pacsim.sim.nat_gateway.NatGateway`): its
        ``inside`` and ``outside`` interfaces are joined like a router's;
        what it drops goes to :attr:`lost`."""
        self._check_free(gateway.name)
        gateway.on_drop = lambda reason: self.lost.append(Lost(self.clock.now, gateway.name, reason))
        self.gateways[gateway.name] = gateway
        return gateway

    def _check_free(self, name: str) -> None:
        if name in self.routers or name in self.hosts or name in self.gateways:
            raise ValueError(f"the network already has a node called {name}")

    def add_host(self, name: str, router: str, interface: str, address=None, *, ipv6=None) -> Host:
        """A host ``name`` on the subnet of ``router``'s ``interface``: at
        IPv4 ``address``, at ``ipv6`` (an address on one of the interface's
        IPv6 prefixes), or both; an IPv6 ``address`` alone makes an
        IPv6-only host."""
        self._check_free(name)
        r = self._router(router)
        if address is not None and ipv6 is None and ":" in str(address):
            address, ipv6 = None, address
        if address is None and ipv6 is None:
            raise ValueError(f"host {name}: expected an IPv4 address, an IPv6 address or both")
        interface = interface.lower()
        if not r.has_interface(interface):
            raise ValueError(f"router {router} has no IP interface {interface}; add its address first")
        if (router, interface) in self.links:
            raise ValueError(f"{router} {interface} is a WAN link; hosts go on LAN interfaces")
        host_address = gateway = host_address6 = gateway6 = None
        if address is not None:
            iface = r.ip.interfaces.get(interface)
            if iface is None:
                raise ValueError(f"router {router} has no IPv4 address on {interface}")
            address = ipaddress.IPv4Address(address)
            if address not in iface.network or address == iface.ip:
                raise ValueError(f"{address} is not a free host address of {iface.name}'s subnet {iface.network}")
            host_address, gateway = ipaddress.IPv4Interface(f"{address}/{iface.network.prefixlen}"), iface.ip
        if ipv6 is not None:
            iface6 = r.ipv6.interfaces.get(interface)
            if iface6 is None:
                raise ValueError(f"router {router} has no IPv6 address on {interface}")
            ipv6 = ipaddress.IPv6Address(ipv6)
            network = next((n for n in iface6.networks if ipv6 in n), None)
            if network is None or r.ipv6.is_local(ipv6):
                prefixes = ", ".join(str(n) for n in iface6.networks)
                raise ValueError(f"{ipv6} is not a free host address of {interface}'s IPv6 prefixes {prefixes}")
            host_address6, gateway6 = ipaddress.IPv6Interface(f"{ipv6}/{network.prefixlen}"), iface6.ip
        for mine in (host_address and host_address.ip, host_address6 and host_address6.ip):
            taken = self._lan_host(router, interface, mine) if mine is not None else None
            if taken is not None:
                raise ValueError(f"host {taken.name} already has address {mine} on {router} {interface}")
        host = Host(name, host_address, router, interface, gateway, address6=host_address6, gateway6=gateway6)
        self.hosts[name] = host
        return host

    def join(self, a: str, a_interface: str, b: str, b_interface: str) -> None:
        """A WAN link between router (or NAT gateway) ``a``'s and ``b``'s interfaces."""
        ends = [(a, a_interface.lower()), (b, b_interface.lower())]
        if ends[0] == ends[1]:
            raise ValueError(f"a WAN link joins two different router interfaces, not {a} {ends[0][1]} to itself")
        for router, interface in ends:
            if not self._node(router).has_interface(interface):
                raise ValueError(f"{router} has no interface {interface}")
            if (router, interface) in self.links:
                raise ValueError(f"{router} {interface} is already linked")
            if any(h.router == router and h.interface == interface for h in self.hosts.values()):
                raise ValueError(f"{router} {interface} has hosts; a WAN link joins two router interfaces")
        self.links[ends[0]] = ends[1]
        self.links[ends[1]] = ends[0]

    def cut(self, node: str, interface: str) -> tuple[str, str]:
        """Cut the WAN link at ``node``'s ``interface`` (either end names it):
        from now on every packet sent onto it, either way, is lost. Returns
        the far end; ValueError if there is no such link or it is cut."""
        near, far = self._link(node, interface)
        if near in self.cut_ends:
            raise ValueError(f"the link {near[0]} {near[1]} - {far[0]} {far[1]} is already cut")
        self.cut_ends.update((near, far))
        return far

    def restore(self, node: str, interface: str) -> tuple[str, str]:
        """Mend the cut WAN link at ``node``'s ``interface``; returns the far
        end; ValueError if there is no such link or it is not cut."""
        near, far = self._link(node, interface)
        if near not in self.cut_ends:
            raise ValueError(f"the link {near[0]} {near[1]} - {far[0]} {far[1]} is not cut")
        self.cut_ends.difference_update((near, far))
        return far

    def _link(self, node: str, interface: str) -> tuple[tuple[str, str], tuple[str, str]]:
        """The (near, far) ends of the WAN link at ``node``'s ``interface``."""
        near = (node, interface.lower())
        if not self._node(node).has_interface(near[1]):
            raise ValueError(f"{node} has no interface {interface}")
        if near not in self.links:
            raise ValueError(f"{node} {near[1]} has no WAN link")
        return near, self.links[near]

    def _router(self, name: str) -> Router:
        try:
            return self.routers[name]
        except KeyError:
            raise ValueError(f"no router called {name}; routers: {', '.join(self.routers) or 'none'}") from None

    def _node(self, name: str):
        """The router or NAT gateway called ``name``."""
        return self.gateways[name] if name in self.gateways else self._router(name)

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise ValueError(f"no host called {name}; hosts: {', '.join(self.hosts) or 'none'}") from None

    # -- traffic ----------------------------------------------------------------------------------------

    def _schedule(self, delay: float, kind: str, *args) -> None:
        heapq.heappush(self._queue, (self.clock.now + delay, next(self._order), kind, args))

    def host_send(self, host: Host, packet: bytes) -> None:
        """``host`` sends ``packet`` (to its gateway, or straight to a host on its LAN)."""
        destination = parse_ip(packet).dst
        neighbour = self._lan_host(host.router, host.interface, destination)
        if neighbour is not None:
            self._schedule(self.lan_latency, "host", neighbour.name, packet)
        else:
            self._schedule(self.lan_latency, "router", host.router, host.interface, packet)

    def send_udp(self, source: str, destination, size: int = 0, *, src_port: int = 5000, dst_port: int = 6000,
                 payload: bytes | None = None, df: bool = False, version: int | None = None) -> bytes:
        """Host ``source`` sends a UDP datagram of ``size`` payload bytes (or
        ``payload``) to a host name or address (a host's address of IP
        ``version``, see :meth:`address_of`), with DF set if ``df`` (IPv4);
        returns the payload."""
        host = self.host(source)
        payload = payload if payload is not None else bytes((i * 7 + len(self.wan)) % 256 for i in range(size))
        self.host_send(host, host.udp(self.address_of(destination, version), src_port, dst_port, payload, df=df))
        return payload

    def ping(self, source: str, destination, size: int = 56, *, ident: int = 0x1234, sequence: int = 1,
             version: int | None = None) -> None:
        """Host ``source`` sends an ICMP (ICMPv6 to an IPv6 address) echo
        request of ``size`` bytes."""
        host = self.host(source)
        payload = bytes(i % 256 for i in range(size))
        self.host_send(host, host.echo(self.address_of(destination, version), ident, sequence, payload))

    def inject(self, router: str, interface: str, packet: bytes) -> None:
        """``packet`` arrives on ``router``'s ``interface`` (e.g. one built by scapy)."""
        self._router(router)
        self._schedule(0.0, "router", router, interface.lower(), bytes(packet))

    def originate(self, router: str, packet_or_coroutine) -> None:
        """The router itself sends: ``packet_or_coroutine`` is a packet, or a
        coroutine of the router's (``router.send_echo(...)``) giving its output."""
        self._schedule(0.0, "origin", router, packet_or_coroutine)

    def address_of(self, name_or_address, version: int | None = None):
        """A host's address of IP ``version`` (None: its IPv4 address, or its
        IPv6 address if it has none), or an address as it is."""
        if isinstance(name_or_address, str) and name_or_address in self.hosts:
            host = self.hosts[name_or_address]
            if version is None:
                version = 4 if host.ip is not None else 6
            address = host.ip6 if version == 6 else host.ip
            if address is None:
                raise ValueError(f"host {name_or_address} has no IPv{version} address")
            return address
        try:
            address = ipaddress.ip_address(name_or_address)
        except ValueError:
            raise ValueError(f"{name_or_address!r} is neither a host ({', '.join(self.hosts) or 'none'}) nor an "
                             "IPv4 or IPv6 address") from None
        if version is not None and address.version != version:
            raise ValueError(f"{address} is not an IPv{version} address")
        return address

    async def run(self, until: float | None = None) -> int:
        """Process events in time order until none is left (or the next is
        after ``until``, to which the clock then moves); returns the number
        of events processed."""
        done = 0
        while self._queue and (until is None or self._queue[0][0] <= until):
            when, _, kind, args = heapq.heappop(self._queue)
            self.clock.advance(max(when, self.clock.now))
            await self._event(kind, *args)
            done += 1
        if until is not None and until > self.clock.now:
            self.clock.advance(until)
        return done

    async def wait(self, seconds: float) -> None:
        """Let ``seconds`` (0 to :data:`MAX_WAIT_SECONDS`) of virtual time
        pass, polling the routers at each of their timers on the way
        (:meth:`Router.next_timer`: ISAKMP heartbeats and retransmissions,
        NAT-keepalives that must cross the NAT gateways on time to keep
        their mappings) and the routers and gateways at the end; anything
        else is refused with a ValueError before the clock moves."""
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 <= seconds <= MAX_WAIT_SECONDS):
            raise ValueError(f"wait of {seconds!r} seconds; expected 0 to {MAX_WAIT_SECONDS}")
        end = self.clock.now + seconds
        while (due := self._next_timer(end)) is not None:      # each router timer on time
            await self.run(due)
            for name, router in self.routers.items():
                self._emit(name, await router.poll())
        await self.run(end)
        for name, node in {**self.routers, **self.gateways}.items():
            self._emit(name, await node.poll())
        await self.run()

    def _next_timer(self, end: float) -> float | None:
        """The earliest router timer (:meth:`Router.next_timer`) after now and before ``end``, or None."""
        times = [t for t in (r.next_timer() for r in self.routers.values())
                 if t is not None and self.clock.now < t < end]
        return min(times) if times else None

    async def _event(self, kind: str, *args) -> None:
        if kind == "router":
            name, interface, packet = args
            self._emit(name, await self._node(name).receive(packet, interface))
        elif kind == "origin":
            name, what = args
            router = self.routers[name]
            out = await router.send(what) if isinstance(what, (bytes, bytearray)) else await what
            self._emit(name, out)
        else:
            self._host_receive(self.hosts[args[0]], args[1])

    def _emit(self, router: str, output) -> None:
        for interface, packet in output:
            peer = self.links.get((router, interface))
            if peer is not None and (router, interface) in self.cut_ends:
                self.lost.append(Lost(self.clock.now, f"{router} {interface}", "link cut"))
                continue
            if peer is not None:
                self.wan.append(WanPacket(self.clock.now, router, interface, packet))
                if self.pcap is not None:
                    self.pcap.write(self.clock.now, packet)
                self._schedule(self.wan_latency, "router", peer[0], peer[1], packet)
                continue
            try:
                destination = parse_ip(packet).dst
            except MalformedPacket as error:
                self.lost.append(Lost(self.clock.now, f"{router} {interface}", f"malformed: {error}"))
                continue
            host = self._lan_host(router, interface, destination)
            if host is None:
                self.lost.append(Lost(self.clock.now, f"{router} {interface}",
                                      f"no host {destination} on {interface} and no link"))
                continue
            self._schedule(self.lan_latency, "host", host.name, packet)

    def _lan_host(self, router: str, interface: str, address) -> Host | None:
        return next((h for h in self.hosts.values()
                     if h.router == router and h.interface == interface and h.has_address(address)), None)

    def _host_receive(self, host: Host, packet: bytes) -> None:
        try:
            ip = parse_ip(packet)
        except MalformedPacket as error:
            host.received.append(packet)
            self._malformed(host, error)
            return
        if ip.is_fragment:
            host.fragments.append(packet)
            reassembly = host.reassembly6 if ip.version == 6 else host.reassembly
            for event in reassembly.expire(self.clock.now) + reassembly.add(ip, self.clock.now):
                if event.outcome is Outcome.REASSEMBLED:
                    packet, ip = event.packet, parse_ip(event.packet)
                elif event.outcome is not Outcome.HELD:
                    self.lost.append(Lost(self.clock.now, host.name, f"reassembly {event.outcome.value}: "
                                          f"{event.detail}"))
            if ip.is_fragment:
                return
        host.received.append(packet)
        if ip.protocol == PROTO_UDP:
            try:
                parse_udp(ip)
            except MalformedPacket as error:
                self._malformed(host, error)
            return
        if ip.protocol != (PROTO_ICMPV6 if ip.version == 6 else PROTO_ICMP):
            return
        try:
            message = parse_icmp(ip)
        except ValueError as error:
            self._malformed(host, error)
            return
        if not message.valid:
            return
        if message.is_echo_request:
            self.host_send(host, echo_packet(ip.dst, ip.src, message.ident, message.sequence, message.payload,
                                             reply=True, identification=host.next_id()))
        elif message.is_echo_reply:
            host.echo_replies.append((message.ident, message.sequence))
        elif message.is_error:
            host.icmp_errors.append(IcmpError(self.clock.now, ip.src, message.type, message.code,
                                              message.next_hop_mtu, message.payload, ip.version,
                                              message.parameter))


    def _malformed(self, host: Host, error: ValueError) -> None:
        """Count a packet ``host`` received that does not parse."""
        host.malformed += 1
        self.lost.append(Lost(self.clock.now, host.name, f"malformed: {error}"))


async def model_router(name: str, clock, *, seed: int = 1, channels: int = 64, memory_size: int = 1 << 22,
                       **options) -> Router:
    """A router on its own card on a fresh model bus (``channels`` channels,
    as the RTL card has 64); IVs and SPIs from a random generator seeded
    with ``seed``."""
    from .model_bus import ModelBus
    bus = ModelBus(memory_size=memory_size, channels=channels)
    await bus.reset()
    device = await PacDevice.probe(bus)
    return Router(name, device, clock=clock, random_bytes=random.Random(seed).randbytes, card="PAC (model bus)",
                  **options)
