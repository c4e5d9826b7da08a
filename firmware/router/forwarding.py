# Ref: RFC 1812 sections 4-5 (forwarding), RFC 791, RFC 8200 sections 4 and 5, RFC 4443 (ICMPv6 errors);
#      spec/ipsec-commands.md §5.4 (B22-B35: where IPsec applies)
"""The router's packet path: receiving, reassembly, the IPsec gate's
place, routing, local delivery and ICMP, and transmission.

:class:`Forwarding` is the part of :class:`~.router.Router` that moves
packets (the router mixes it in with :class:`~.ipsec_gate.IpsecGate`);
it uses the router's IP modules (``ip``, ``ipv6``), its MTU layer, its
datapath (``claims``) and the gate's ``_ipsec_on``, ``_inbound_plain``,
``_inbound_ipsec`` and ``_outbound_ipsec``.

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

from ..ipsec.packet import IPV6_ROUTING, PROTO_ICMP, PROTO_TCP, PROTO_UDP, MalformedPacket, parse_ip, parse_udp
from .icmpv6 import (CODE_ERRONEOUS_HEADER, CODE_HOP_LIMIT_EXCEEDED, CODE_NO_ROUTE, CODE_UNRECOGNIZED_NEXT_HEADER,
                     ICMPV6_DEST_UNREACHABLE, ICMPV6_PARAMETER_PROBLEM, ICMPV6_TIME_EXCEEDED, PROTO_ICMPV6,
                     decrement_hop_limit)
from .ipsec_gate import HELD
from .stack import ICMP_ECHO_REQUEST, decrement_ttl, echo_packet, parse_icmp

__all__ = ["Forwarding", "DroppedPacket", "DROP_LOG_LENGTH"]

#: How many dropped packets :attr:`Forwarding.drop_log` keeps.
DROP_LOG_LENGTH = 1000


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


class Forwarding:
    """The packet path of a :class:`~.router.Router` (see the module
    docstring): :attr:`delivered` (packets for the router it does not
    answer, oldest first) and :attr:`drop_log` (the last
    :data:`DROP_LOG_LENGTH` :class:`DroppedPacket`, oldest first)."""

    def _init_forwarding(self) -> None:
        self.delivered: list[bytes] = []
        self.drop_log: collections.deque[DroppedPacket] = collections.deque(maxlen=DROP_LOG_LENGTH)
        self._identification = 0

    def has_interface(self, name: str) -> bool:
        """Whether interface ``name`` has an IPv4 or an IPv6 address."""
        return self.ip.has_interface(name) or self.ipv6.has_interface(name)

    def is_local(self, address) -> bool:
        """Whether ``address`` (IPv4 or IPv6) is one of the router's own."""
        return self._module(address.version).is_local(address)

    def _module(self, version: int):
        """The IP module of IP ``version``: :attr:`ip` or :attr:`ipv6`."""
        return self.ipv6 if version == 6 else self.ip

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
            if packet == HELD:                  # waits for its bundle's negotiation
                return []
            if packet is None:
                self._module(inner[0] >> 4).count("ipsecDiscards")
                return []
        module = self._module(packet[0] >> 4)
        if module is self.ipv6:
            transmission = self.mtu.transmit_ipv6(packet, interface, inner)
        else:
            transmission = self.mtu.transmit(packet, interface, inner)
        if inner is not None and inner is not packet and not transmission.packets:
            self.kernel.alg["ipsecEncodeDiscard"] += 1          # sealed, then refused by the out interface's MTU
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
