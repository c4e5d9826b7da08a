# Ref: RFC 791 3.2, RFC 1812 5.2.6 (routers fragment) and 4.3.2 (ICMP errors), RFC 1191 section 4 (next-hop
#      MTU), RFC 1122 3.3.2 (reassembly time exceeded), RFC 4301 8.2.1 (PMTU of tunnelled traffic);
#      spec/ipsec-commands.md B88 (smaller MTU for tunnel mode), §2 DFBit (L394); AlliedWare ipfragment (frag=yes)
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

**Input** (:meth:`MtuLayer.reassemble`): fragments for one of the router's
addresses are reassembled (:class:`~.fragments.Reassembly`, kept in the
:class:`~.ip.IpModule`) before IPsec and local delivery, so fragmented ESP
from the peer reaches the data plane whole. A datagram given up on its timer
whose fragment zero had come is answered with an ICMP time exceeded, code 1
(RFC 1122 3.3.2). Fragments for other destinations are forwarded as they are
(and cut again if the next interface needs it).

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
from .fragments import DontFragment, FragmentationError, Outcome, ReassemblyEvent, fragment
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
    (interfaces, MTUs, counters, reassembly); ``clock()`` seconds;
    ``bundles()``: the data plane's bundle processors (for the tunnel MTU);
    ``drop(interface, direction, reason, detail)`` logs a drop;
    ``next_id()`` gives the Identification of the ICMP errors made."""

    def __init__(self, ip: IpModule, *, clock: Callable[[], float], bundles: Callable[[], list],
                 drop: Callable[..., object], next_id: Callable[[], int]):
        self.ip, self.clock, self.bundles, self.drop, self.next_id = ip, clock, bundles, drop, next_id

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

    # -- input --------------------------------------------------------------------------------------

    def reassemble(self, ip: IpPacket, interface: str) -> tuple[bytes | None, list[bytes]]:
        """Take fragment ``ip`` (for the router) that came in on
        ``interface``: the whole datagram if it completed one (else None),
        and ICMP errors to send (datagrams whose time ran out)."""
        errors = self.expire()
        self.ip.count("reasmReqds")
        whole = None
        for event in self.ip.reassembly.add(ip, self.clock()):
            if event.outcome is Outcome.REASSEMBLED:
                self.ip.count("reasmOKs")
                whole = event.packet
            elif event.outcome is not Outcome.HELD:
                self._given_up(event, interface)
        return whole, errors

    def expire(self) -> list[bytes]:
        """Give up the datagrams whose reassembly time is up; the ICMP time
        exceeded errors to send about them."""
        errors = []
        for event in self.ip.reassembly.expire(self.clock()):
            self._given_up(event, "-")
            if event.first is not None:
                try:
                    first = parse_ip(event.first)
                except MalformedPacket:
                    continue
                error = self._error(first, ICMP_TIME_EXCEEDED, CODE_REASSEMBLY_TIME_EXCEEDED, "icmpOutTimeExcds")
                if error is not None:
                    errors.append(error)
        return errors

    def _given_up(self, event: ReassemblyEvent, interface: str) -> None:
        counters = _EVENT_COUNTERS[event.outcome]
        for name in counters:
            self.ip.count(name)
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
