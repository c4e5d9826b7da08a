# Ref: RFC 791 3.2, RFC 1812 5.2.6 (routers fragment) and 4.3.2 (ICMP errors), RFC 1191 section 4 (next-hop
#      MTU), RFC 1122 3.3.2 (reassembly time exceeded), RFC 4301 8.2.1 (PMTU of tunnelled traffic);
#      spec/ipsec-commands.md B88 (smaller MTU for tunnel mode), §2 DFBit (L394); AlliedWare ipfragment (frag=yes);
#      RFC 8200 section 5 and 4.5 (IPv6: no fragmentation on the way, 1280 minimum), RFC 4443 3.2 (Packet Too
#      Big), RFC 2473 section 7.1 (IPv6 tunnel MTU: Packet Too Big, or fragmenting the tunnel packet)
"""The router's MTU rules: what :class:`~.router.Router` does with a packet
too big for its interface, and with fragments addressed to itself.

**Output** (:meth:`MtuLayer.transmit`), after IPsec: a packet longer than
the interface's MTU (``set eth0 mtu=1300``, default 1500) is cut into
fragments (:func:`~.fragments.fragment`). With DF set it is dropped instead
(``fragFails``) and an ICMP "fragmentation needed and DF set" error (type 3
code 4) with the next-hop MTU goes back to the source (RFC 1191), unless the
interface has ``frag=yes`` (``add ip int=... frag=yes``): AlliedWare's
ipfragment, "the Do not fragment bit is ignored and outgoing IP packets
larger than the MTU of the interface are fragmented".

For an IPsec packet the outer header is what is cut or refused: its DF is
the policy's ``dfbit`` (set, copied from the inner packet, or clear, the
default). When it is refused, the error goes to the source of the packet
IPsec sealed, and reports the largest such packet that still fits once
sealed (RFC 4301 8.2.1: the path MTU less the IPsec overhead), worked out
from the bundle's SAs by :func:`largest_inner` (ESP: header, IV, padding to
the cipher block, trailer, ICV; AH: header and ICV; IPComp: nothing, as it
never makes a packet bigger; a tunnel: its outer header; the UDP tunnel: its
UDP and tunnel headers).

No error is sent about the router's own packets, ICMP errors, fragments
other than the first or packets from no single host (RFC 1812 4.3.2.7); the
error's source is the router's address on the interface it leaves by (RFC
1812 4.3.2.4). No rate limit.

**IPv6 output** (:meth:`MtuLayer.transmit_ipv6`). Routers do not fragment
IPv6 on the way (RFC 8200 section 5): a forwarded packet longer than the
interface's MTU is dropped (``inTooBigErrors``) and an ICMPv6 Packet Too
Big carrying the MTU goes back to its source (RFC 4443 3.2). A packet
IPsec sealed in a tunnel is a packet the router sends (the outer header is
its own), and RFC 2473 7.1's rule for an IPv6 tunnel entry point applies,
with the tunnel MTU the largest inner packet the bundle seals into the
interface's MTU (:func:`largest_inner`, as for IPv4): an inner packet
longer than 1280 bytes is dropped and answered with a Packet Too Big
carrying the tunnel MTU, or 1280 if that is less; one of at most 1280
bytes is sealed and the tunnel packet fragmented. The router's own
packets (transport mode IPsec, echo replies) are fragmented too, as their
source may (:func:`~.fragments.fragment_ipv6`; ``fragOKs``,
``fragCreates``; Identifications from a 32-bit counter). So a tunnel
carries every IPv6 packet of up to 1280 bytes, as an IPv6 link must (RFC
8200 section 5), and the peer reassembles the tunnel packets it gets in
fragments.

**Input** (:meth:`MtuLayer.reassemble`): fragments for one of the router's
addresses are reassembled (:class:`~.fragments.Reassembly`, kept in the
:class:`~.ip.IpModule`, or for IPv6 in the :class:`~.ipv6.Ipv6Module`, whose
timer is RFC 8200's 60 s) before IPsec and local delivery, so fragmented ESP
from the peer reaches the data plane whole. A datagram given up on its timer
whose fragment zero had come is answered with an ICMP time exceeded, code 1
(RFC 1122 3.3.2; ICMPv6 Time Exceeded code 1, RFC 8200 4.5). Fragments for
other destinations are forwarded as they are (and, IPv4 only, cut again if
the next interface needs it). A malformed IPv6 fragment is dropped without
the Parameter Problem RFC 8200 4.5 suggests.

Counters (``show ip counter``; RFC 1213 ip group names where there is one):
``fragOKs`` datagrams fragmented, ``fragCreates`` fragments made,
``fragFails`` datagrams dropped because they could not be fragmented (DF, or
an MTU with no room); ``reasmReqds`` fragments received for reassembly,
``reasmOKs`` datagrams reassembled, ``reasmFails`` datagrams given up (of
which ``reasmTimeouts`` on the timer and ``reasmOverlaps`` for overlapping
or inconsistent fragments; the rest for the buffer limits);
``reasmDuplicates`` repeated fragments dropped on their own; a malformed
fragment counts ``inHdrErrors``; ``icmpOutDestUnreachs`` and
``icmpOutTimeExcds`` the ICMP errors made. Every drop is also logged with
its reason through ``drop``.
"""
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from ..ipsec.ah import AH_FIXED, icv_field_bytes
from ..ipsec.esp import ESP_HEADER, ESP_TRAILER
from ..ipsec.packet import (IPV4_HEADER, IPV6_HEADER, PROTO_AH, PROTO_ESP, PROTO_IPCOMP, PROTO_UDP, UDP_HEADER,
                            IpPacket, MalformedPacket, parse_ip)
from ..ipsec.sa import Protocol
from ..ipsec.udp_encap import TUNNEL_HEADER
from .fragments import DontFragment, FragmentationError, Outcome, ReassemblyEvent, fragment, fragment_ipv6
from .icmpv6 import ICMPV6_PACKET_TOO_BIG, ICMPV6_TIME_EXCEEDED, IPV6_MIN_MTU
from .icmpv6 import CODE_REASSEMBLY_TIME_EXCEEDED as CODE_REASSEMBLY_TIME_EXCEEDED_V6
from .ip import MIN_MTU, IpModule
from .stack import (CODE_FRAGMENTATION_NEEDED, CODE_REASSEMBLY_TIME_EXCEEDED, ICMP_DEST_UNREACHABLE,
                    ICMP_TIME_EXCEEDED, icmp_error, may_send_icmp_error)

__all__ = ["MtuLayer", "Transmission", "largest_inner", "sealed_length", "sealing_bundle"]

#: Counters of a reassembly outcome that gives a datagram up or drops a fragment.
_EVENT_COUNTERS = {Outcome.DUPLICATE: ("reasmDuplicates",), Outcome.MALFORMED: ("inHdrErrors",),
                   Outcome.INCONSISTENT: ("reasmFails", "reasmOverlaps"), Outcome.TOO_MANY_FRAGMENTS: ("reasmFails",),
                   Outcome.EVICTED: ("reasmFails",), Outcome.TIMED_OUT: ("reasmFails", "reasmTimeouts")}


@dataclass(frozen=True)
class Transmission:
    """What to do with one outgoing packet: the ``packets`` to send on the
    interface (the packet, or its fragments; none when it was refused) and
    an ICMP ``error`` to route back to its source, if any."""
    packets: list[bytes] = field(default_factory=list)
    error: bytes | None = None


class MtuLayer:
    """See the module docstring. ``ip``: the router's :class:`~.ip.IpModule`
    (interfaces, MTUs, counters, reassembly); ``ipv6``: its
    :class:`~.ipv6.Ipv6Module` (None: no IPv6); ``clock()`` seconds;
    ``bundles()``: the data plane's bundle processors (for the tunnel MTU);
    ``drop(interface, direction, reason, detail)`` logs a drop;
    ``next_id()`` gives the Identification of the ICMP errors made."""

    def __init__(self, ip: IpModule, *, clock: Callable[[], float], bundles: Callable[[], list],
                 drop: Callable[..., object], next_id: Callable[[], int], ipv6=None):
        self.ip, self.clock, self.bundles, self.drop, self.next_id = ip, clock, bundles, drop, next_id
        self.ipv6 = ipv6
        self._ipv6_identification = 0

    # -- output -------------------------------------------------------------------------------------

    def transmit(self, packet: bytes, interface: str, inner: bytes | None = None) -> Transmission:
        """Fit ``packet`` to ``interface``'s MTU; ``inner``: the packet
        before IPsec sealed it (None when no IPsec applied)."""
        mtu = self.ip.mtu_of(interface)
        if len(packet) <= mtu:
            return Transmission([packet])
        try:
            ip = parse_ip(packet)
            pieces = fragment(ip, mtu, ignore_df=self.ip.interfaces[interface].fragment)
        except (MalformedPacket, FragmentationError) as error:
            self.ip.count("fragFails")
            reason = "DF set" if isinstance(error, DontFragment) else "cannot fragment"
            self.drop(interface, "out", "fragFails", f"{reason}: {error}")
            if isinstance(error, DontFragment):
                return Transmission([], self._fragmentation_needed(ip, inner, mtu))
            return Transmission([])
        self.ip.count("fragOKs")
        self.ip.counters["fragCreates"] += len(pieces)
        return Transmission(pieces)

    def _fragmentation_needed(self, outer: IpPacket, inner: bytes | None, mtu: int) -> bytes | None:
        """The ICMP error about a packet refused for ``mtu``, or None if none may be sent."""
        sealed = inner is not None and inner != outer.packet
        try:
            about = parse_ip(inner) if sealed else outer
        except MalformedPacket:
            return None
        reported = mtu
        if sealed:
            bundle = sealing_bundle(self.bundles(), outer)
            if bundle is not None:
                reported = largest_inner(bundle, mtu, len(about.header))
            else:       # not one of ours: assume the overhead of this packet plus the worst ESP padding
                reported = mtu - (len(outer.packet) - len(about.packet)) - 15
            reported = max(reported, MIN_MTU)
        return self._error(about, ICMP_DEST_UNREACHABLE, CODE_FRAGMENTATION_NEEDED, "icmpOutDestUnreachs",
                           mtu=reported)

    def _error(self, about: IpPacket, icmp_type: int, code: int, counter: str, *, mtu: int = 0) -> bytes | None:
        if self.ip.is_local(about.src) or not may_send_icmp_error(about):
            return None
        route = self.ip.lookup(about.src)
        if route is None:
            return None
        self.ip.count(counter)
        return icmp_error(self.ip.address_of(route.interface), about.src, icmp_type, code, about.packet, mtu=mtu,
                          identification=self.next_id())

    # -- IPv6 output ----------------------------------------------------------------------------------

    def transmit_ipv6(self, packet: bytes, interface: str, inner: bytes | None = None) -> Transmission:
        """Fit IPv6 ``packet`` to ``interface``'s MTU (see the module
        docstring); ``inner``: the packet before IPsec sealed it."""
        mtu = self.ip.mtu_of(interface)
        if len(packet) <= mtu:
            return Transmission([packet])
        try:
            outer = parse_ip(packet)
            about = parse_ip(inner) if inner is not None and inner != packet else outer
        except MalformedPacket as error:
            self.ipv6.count("outDiscards")
            self.drop(interface, "out", "outDiscards", f"too big and malformed: {error}")
            return Transmission([])
        own = self.ipv6.is_local(about.src)
        if about is not outer and not own:                      # a tunnel entry point (RFC 2473 7.1)
            bundle = sealing_bundle(self.bundles(), outer)
            tunnel_mtu = largest_inner(bundle, mtu, len(about.header)) if bundle is not None else \
                mtu - (len(outer.packet) - len(about.packet)) - 15
            if len(about.packet) <= IPV6_MIN_MTU:
                return self._fragment_ipv6(outer, interface, mtu)
            return self._too_big(about, interface, max(tunnel_mtu, IPV6_MIN_MTU), f"tunnel MTU {tunnel_mtu}")
        if own:                                                 # the router is the source: it may fragment
            return self._fragment_ipv6(outer, interface, mtu)
        return self._too_big(about, interface, mtu, f"MTU {mtu}")

    def _too_big(self, about: IpPacket, interface: str, reported: int, why: str) -> Transmission:
        self.ipv6.count("inTooBigErrors")
        self.drop(interface, "out", "inTooBigErrors", f"{len(about.packet)} bytes from {about.src} for {why} "
                  "(IPv6 is not fragmented on the way)")
        return Transmission([], self.ipv6.icmp_error(about, ICMPV6_PACKET_TOO_BIG, 0, "icmpOutPktTooBigs",
                                                     parameter=reported))

    def _fragment_ipv6(self, ip: IpPacket, interface: str, mtu: int) -> Transmission:
        self._ipv6_identification = self._ipv6_identification % 0xFFFFFFFF + 1
        try:
            pieces = fragment_ipv6(ip, mtu, self._ipv6_identification)
        except FragmentationError as error:
            self.ipv6.count("outDiscards")
            self.drop(interface, "out", "outDiscards", f"cannot fragment: {error}")
            return Transmission([])
        self.ipv6.count("fragOKs")
        self.ipv6.count("fragCreates", len(pieces))
        return Transmission(pieces)

    # -- input --------------------------------------------------------------------------------------

    def _module(self, version: int):
        return self.ipv6 if version == 6 else self.ip

    def reassemble(self, ip: IpPacket, interface: str) -> tuple[bytes | None, list[bytes]]:
        """Take fragment ``ip`` (for the router; IPv4 or IPv6) that came in
        on ``interface``: the whole datagram if it completed one (else
        None), and ICMP errors to send (datagrams whose time ran out)."""
        module = self._module(ip.version)
        errors = self.expire()
        module.count("reasmReqds")
        whole = None
        for event in module.reassembly.add(ip, self.clock()):
            if event.outcome is Outcome.REASSEMBLED:
                module.count("reasmOKs")
                whole = event.packet
            elif event.outcome is not Outcome.HELD:
                self._given_up(event, interface, module)
        return whole, errors

    def expire(self) -> list[bytes]:
        """Give up the datagrams whose reassembly time is up; the ICMP (and
        ICMPv6) time exceeded errors to send about them."""
        errors = []
        for module in (self.ip, self.ipv6):
            if module is None:
                continue
            for event in module.reassembly.expire(self.clock()):
                self._given_up(event, "-", module)
                if event.first is None:
                    continue
                try:
                    first = parse_ip(event.first)
                except MalformedPacket:
                    continue
                if module is self.ipv6:
                    error = self.ipv6.icmp_error(first, ICMPV6_TIME_EXCEEDED, CODE_REASSEMBLY_TIME_EXCEEDED_V6,
                                                 "icmpOutTimeExcds")
                else:
                    error = self._error(first, ICMP_TIME_EXCEEDED, CODE_REASSEMBLY_TIME_EXCEEDED,
                                        "icmpOutTimeExcds")
                if error is not None:
                    errors.append(error)
        return errors

    def _given_up(self, event: ReassemblyEvent, interface: str, module) -> None:
        counters = _EVENT_COUNTERS[event.outcome]
        for name in counters:
            module.count(name)
        self.drop(interface, "in", counters[-1], f"{event.outcome.value}: {event.detail}")


# -- the size of a sealed packet (RFC 4301 8.2.1) -----------------------------------------------------

def sealed_length(bundle, length: int, header_length: int = IPV4_HEADER) -> int:
    """The length of a ``length``-byte packet (with a ``header_length``-byte
    IP header) once ``bundle`` (a
    :class:`~pacsim.firmware.ipsec.datapath.BundleProcessor`) has sealed it,
    IPComp compressing nothing."""
    size, header, version = length, header_length, 4
    for sa, starts in zip(bundle.sas, bundle.tunnels):
        if starts:
            version = sa.local.version
            header = IPV4_HEADER if version == 4 else IPV6_HEADER
            size += header
        if sa.protocol is Protocol.ESP:
            align = max(sa.block_bytes, 4)
            body = -(-(size - header + ESP_TRAILER) // align) * align
            size = header + ESP_HEADER + sa.block_bytes + body + sa.icv_bytes
        elif sa.protocol is Protocol.AH:
            size += AH_FIXED + icv_field_bytes(sa.icv_bytes, version)
    if bundle.udp_tunnel is not None:
        size += UDP_HEADER + TUNNEL_HEADER
    return size


def largest_inner(bundle, mtu: int, header_length: int = IPV4_HEADER) -> int:
    """The longest packet ``bundle`` can seal into at most ``mtu`` bytes (0 if none)."""
    length = mtu
    while length > header_length and sealed_length(bundle, length, header_length) > mtu:
        length -= 1
    return length if length > header_length else 0


def sealing_bundle(bundles, outer: IpPacket):
    """The bundle whose outermost SA sealed ``outer``, by its outbound SPI
    (ESP, AH) or CPI (IPComp) and peer; None if none did."""
    for bundle in bundles:
        sa = bundle.outermost
        if sa.peer is not None and sa.peer != outer.dst:
            continue
        protocol, payload = outer.protocol, outer.payload
        if bundle.udp_tunnel is not None:
            if protocol != PROTO_UDP or len(payload) < UDP_HEADER + TUNNEL_HEADER:
                continue
            protocol, payload = payload[UDP_HEADER + 2], payload[UDP_HEADER + TUNNEL_HEADER:]
        where = {PROTO_ESP: (0, "!I"), PROTO_AH: (4, "!I"), PROTO_IPCOMP: (2, "!H")}.get(protocol)
        if protocol != int(sa.protocol) or where is None or len(payload) < where[0] + struct.calcsize(where[1]):
            continue
        if struct.unpack_from(where[1], payload, where[0])[0] == sa.outbound_spi:
            return bundle
    return None
