# Ref: RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 1071 (checksum)
"""IP packets as bytes: parse and rebuild the headers IPsec works on.

The data plane keeps every packet as ``bytes``. :func:`parse_ip` splits a
packet into an :class:`IpPacket`: the IP header part that stays in front of
an IPsec header (IPv4: the header with its options; IPv6: the fixed header
and the hop-by-hop, routing and destination-options extension headers that
precede the upper layer), the protocol number at that point and the payload
after it. :meth:`IpPacket.rebuild` puts a new protocol and payload behind
the same header with the lengths (and the IPv4 header checksum) recomputed,
which is how transport-mode IPsec inserts and removes its headers.

This module is the one place that packs and parses IP and UDP headers:
:func:`ipv4_header`, :func:`ipv6_header` and :func:`udp_datagram` build
them, :func:`ipv4_with_checksum` fills in an IPv4 header checksum (also for
the router's TTL decrement), :func:`parse_ip`, :meth:`IpPacket.ipv6_extensions`
and :func:`parse_udp` read them. For IPv4 fragmentation (RFC 791 section
3.2), :attr:`IpPacket.identification`, :attr:`IpPacket.fragment_offset` and
:attr:`IpPacket.more_fragments` read the fragment fields,
:func:`ipv4_fragment_header` rewrites them (with the length and checksum) and
:func:`ipv4_copied_options` gives a later fragment's options. IPsec headers belong to their protocol's
module (:mod:`.esp`, :mod:`.ah`, :mod:`.ipcomp`, :mod:`.udp_encap`).

Everything that cannot be parsed raises :class:`MalformedPacket`, with what
was wrong and what was expected.
"""
import ipaddress
import struct
from dataclasses import dataclass

__all__ = [
    "MalformedPacket", "PacketTooBig", "IpPacket", "parse_ip", "ipv4_header", "ipv4_with_checksum", "ipv6_header",
    "checksum", "PROTO_IPV4", "PROTO_IPV6", "PROTO_UDP", "PROTO_ESP", "PROTO_AH", "PROTO_IPCOMP", "PROTO_ICMP",
    "PROTO_TCP", "IPV4_HEADER", "IPV6_HEADER", "UDP_HEADER", "MAX_IPV4_LENGTH", "udp_datagram", "parse_udp",
    "IPV4_IMMUTABLE_OPTIONS", "IPV6_HOP_BY_HOP", "IPV6_ROUTING", "IPV6_FRAGMENT", "IPV6_DEST_OPTIONS",
    "ipv4_fragment_header", "ipv4_copied_options",
]

PROTO_ICMP = 1
PROTO_IPV4 = 4      #: IP in IP (tunnel mode's inner IPv4 packet)
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41     #: the inner IPv6 packet of a tunnel
PROTO_ESP = 50
PROTO_AH = 51
PROTO_IPCOMP = 108
IPV6_HOP_BY_HOP = 0
IPV6_ROUTING = 43
IPV6_FRAGMENT = 44
IPV6_DEST_OPTIONS = 60
#: Extension headers that stay in front of an IPsec header (RFC 2406 section 3.1.1).
_IPV6_LEADING = (IPV6_HOP_BY_HOP, IPV6_ROUTING, IPV6_DEST_OPTIONS)

IPV4_HEADER = 20
IPV6_HEADER = 40
UDP_HEADER = 8
MAX_IPV4_LENGTH = 0xFFFF
_MAX_IPV6_PAYLOAD = 0xFFFF
_FLAG_MF = 0x2000
_FLAG_DF = 0x4000
_OFFSET_MASK = 0x1FFF

#: IPv4 options that do not change in transit (RFC 2402 appendix A.1):
#: end of list, no-op, security, extended security, commercial security,
#: router alert, sender-directed multi-destination delivery. AH zeroes the others.
IPV4_IMMUTABLE_OPTIONS = frozenset({0, 1, 130, 133, 134, 148, 149})


class MalformedPacket(ValueError):
    """A packet (or one of its headers) that cannot be parsed."""


class PacketTooBig(MalformedPacket):
    """A packet that would exceed the IP length limit once rebuilt."""


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _address(value, version: int) -> bytes:
    """Address bytes of ``value`` (a string, an ipaddress object, an int or the packed bytes)."""
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        data = ipaddress.ip_address(value).packed
    if len(data) != (4 if version == 4 else 16):
        raise ValueError(f"{value!r} is not an IPv{version} address")
    return data


def ipv4_header(src, dst, protocol: int, payload_length: int, *, tos: int = 0, ttl: int = 64,
                identification: int = 0, df: bool = False, options: bytes = b"") -> bytes:
    """An IPv4 header (checksum filled in) for ``payload_length`` payload bytes."""
    if len(options) % 4:
        raise ValueError(f"IPv4 options of {len(options)} bytes; expected a multiple of 4")
    length = IPV4_HEADER + len(options) + payload_length
    if length > MAX_IPV4_LENGTH:
        raise ValueError(f"an IPv4 packet of {length} bytes; the most is {MAX_IPV4_LENGTH}")
    ihl = (IPV4_HEADER + len(options)) // 4
    return ipv4_with_checksum(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, length, identification & 0xFFFF,
                                          _FLAG_DF if df else 0, ttl, protocol, 0, _address(src, 4),
                                          _address(dst, 4)) + options)


def ipv4_with_checksum(header: bytes) -> bytes:
    """``header`` (a whole IPv4 header, options included) with its header
    checksum recomputed (RFC 791: over the header with the field zeroed)."""
    header = bytearray(header)
    struct.pack_into("!H", header, 10, 0)
    struct.pack_into("!H", header, 10, checksum(bytes(header)))
    return bytes(header)


def ipv4_fragment_header(header: bytes, payload_length: int, *, offset: int, more: bool, df: bool = False) -> bytes:
    """``header`` (a whole IPv4 header, options included) for a fragment
    (RFC 791 3.2): total length for ``payload_length`` data bytes, DF and MF
    flags, fragment ``offset`` (bytes, a multiple of 8) and the checksum."""
    if offset % 8 or not 0 <= offset <= _OFFSET_MASK * 8:
        raise ValueError(f"fragment offset {offset} bytes; expected a multiple of 8 from 0 to {_OFFSET_MASK * 8}")
    length = len(header) + payload_length
    if length > MAX_IPV4_LENGTH:
        raise ValueError(f"an IPv4 fragment of {length} bytes; the most is {MAX_IPV4_LENGTH}")
    header = bytearray(header)
    struct.pack_into("!H", header, 2, length)
    struct.pack_into("!H", header, 6, (_FLAG_DF if df else 0) | (_FLAG_MF if more else 0) | offset // 8)
    return ipv4_with_checksum(header)


def ipv4_copied_options(header: bytes) -> bytes:
    """The options of IPv4 ``header`` whose copied flag (the option type's top
    bit) is set, in order, padded with end-of-list bytes to a multiple of 4:
    what a fragment other than the first carries (RFC 791 3.1, "Options").
    Raises :class:`MalformedPacket` on an option that runs past the header."""
    options, at, kept = header[IPV4_HEADER:(header[0] & 0xF) * 4], 0, bytearray()
    while at < len(options):
        kind = options[at]
        if kind == 0:                                   # end of option list
            break
        if kind == 1:                                   # no operation
            at += 1
            continue
        if at + 1 >= len(options) or options[at + 1] < 2 or at + options[at + 1] > len(options):
            raise MalformedPacket(f"IPv4 option {kind} at byte {IPV4_HEADER + at} runs past the "
                                  f"{IPV4_HEADER + len(options)}-byte header")
        if kind & 0x80:
            kept += options[at:at + options[at + 1]]
        at += options[at + 1]
    return bytes(kept + bytes(-len(kept) % 4))


def ipv6_header(src, dst, next_header: int, payload_length: int, *, traffic_class: int = 0,
                flow_label: int = 0, hop_limit: int = 64) -> bytes:
    """An IPv6 fixed header for ``payload_length`` bytes after it."""
    if payload_length > _MAX_IPV6_PAYLOAD:
        raise ValueError(f"an IPv6 payload of {payload_length} bytes; the most is {_MAX_IPV6_PAYLOAD} "
                         "(no jumbograms)")
    first = 6 << 28 | (traffic_class & 0xFF) << 20 | (flow_label & 0xFFFFF)
    return struct.pack("!IHBB16s16s", first, payload_length, next_header, hop_limit, _address(src, 6),
                       _address(dst, 6))


@dataclass(frozen=True)
class IpPacket:
    """A parsed IP packet.

    ``header``: the bytes that stay in front of an IPsec header (see the
    module doc); ``protocol``: the protocol number after them; ``payload``:
    the bytes after them. ``next_header_at``: offset in ``header`` of the
    byte that holds ``protocol`` (IPv4 9, IPv6 6 or that of the last
    extension header). ``trailer``: bytes past the IP length (link padding),
    dropped by :meth:`rebuild`.
    """
    version: int
    header: bytes
    protocol: int
    payload: bytes
    next_header_at: int
    trailer: bytes = b""

    @property
    def src(self) -> ipaddress._BaseAddress:
        return ipaddress.ip_address(self.header[12:16] if self.version == 4 else self.header[8:24])

    @property
    def dst(self) -> ipaddress._BaseAddress:
        return ipaddress.ip_address(self.header[16:20] if self.version == 4 else self.header[24:40])

    @property
    def is_fragment(self) -> bool:
        """IPv4 with MF or a fragment offset; IPv6 with a fragment header first after the leading ones."""
        if self.version == 4:
            flags = struct.unpack_from("!H", self.header, 6)[0]
            return bool(flags & (_FLAG_MF | _OFFSET_MASK))
        return self.protocol == IPV6_FRAGMENT

    @property
    def df(self) -> bool:
        """IPv4 Don't Fragment bit (False for IPv6)."""
        return self.version == 4 and bool(struct.unpack_from("!H", self.header, 6)[0] & _FLAG_DF)

    @property
    def identification(self) -> int:
        """IPv4 Identification (0 for IPv6, whose fragment header is not parsed here)."""
        return struct.unpack_from("!H", self.header, 4)[0] if self.version == 4 else 0

    @property
    def more_fragments(self) -> bool:
        """IPv4 More Fragments flag (False for IPv6)."""
        return self.version == 4 and bool(struct.unpack_from("!H", self.header, 6)[0] & _FLAG_MF)

    @property
    def fragment_offset(self) -> int:
        """IPv4 fragment offset in bytes (the field counts 8-byte units; 0 for IPv6)."""
        return (struct.unpack_from("!H", self.header, 6)[0] & _OFFSET_MASK) * 8 if self.version == 4 else 0

    @property
    def tos(self) -> int:
        """IPv4 TOS, IPv6 traffic class."""
        if self.version == 4:
            return self.header[1]
        return struct.unpack_from("!I", self.header, 0)[0] >> 20 & 0xFF

    @property
    def packet(self) -> bytes:
        """The whole IP packet (without trailer)."""
        return self.header + self.payload

    def ipv6_extensions(self) -> list[tuple[int, int, int]]:
        """``(type, offset, length)`` in ``header`` of each IPv6 extension
        header that stays in front of an IPsec header, in order; none for IPv4."""
        if self.version != 6:
            return []
        found, kind, offset = [], self.header[6], IPV6_HEADER
        while offset < len(self.header):
            length = (self.header[offset + 1] + 1) * 8
            found.append((kind, offset, length))
            kind, offset = self.header[offset], offset + length
        return found

    def rebuild(self, protocol: int, payload: bytes) -> bytes:
        """The same header with ``protocol`` and ``payload`` behind it, lengths
        (and the IPv4 checksum) recomputed. Raises :class:`MalformedPacket`
        if the result is longer than IP allows."""
        header = bytearray(self.header)
        header[self.next_header_at] = protocol
        if self.version == 4:
            length = len(header) + len(payload)
            if length > MAX_IPV4_LENGTH:
                raise PacketTooBig(f"the packet would be {length} bytes; IPv4 allows {MAX_IPV4_LENGTH}")
            struct.pack_into("!H", header, 2, length)
            return ipv4_with_checksum(header) + payload
        length = len(header) - IPV6_HEADER + len(payload)
        if length > _MAX_IPV6_PAYLOAD:
            raise PacketTooBig(f"the IPv6 payload would be {length} bytes; the most is {_MAX_IPV6_PAYLOAD}")
        struct.pack_into("!H", header, 4, length)
        return bytes(header) + payload


def parse_ip(packet: bytes, *, verify_checksum: bool = True) -> IpPacket:
    """Parse an IPv4 or IPv6 packet (bytes). Bytes past the IP length are
    kept as ``trailer``; a short packet, a wrong version, header length or
    (``verify_checksum``) IPv4 header checksum raises :class:`MalformedPacket`."""
    packet = bytes(packet)
    if not packet:
        raise MalformedPacket("an empty packet; expected an IP header")
    version = packet[0] >> 4
    if version == 4:
        return _parse_ipv4(packet, verify_checksum)
    if version == 6:
        return _parse_ipv6(packet)
    raise MalformedPacket(f"IP version {version}; expected 4 or 6")


def _parse_ipv4(packet: bytes, verify_checksum: bool) -> IpPacket:
    if len(packet) < IPV4_HEADER:
        raise MalformedPacket(f"an IPv4 packet of {len(packet)} bytes; the header alone is {IPV4_HEADER}")
    header_length = (packet[0] & 0xF) * 4
    total = struct.unpack_from("!H", packet, 2)[0]
    if header_length < IPV4_HEADER:
        raise MalformedPacket(f"IPv4 header length {header_length} bytes; expected at least {IPV4_HEADER}")
    if not header_length <= total <= len(packet):
        raise MalformedPacket(f"IPv4 total length {total} with a {header_length}-byte header in "
                              f"{len(packet)} bytes; expected the header length to the bytes received")
    header = packet[:header_length]
    if verify_checksum and checksum(header):
        raise MalformedPacket(f"IPv4 header checksum {struct.unpack_from('!H', header, 10)[0]:#06x} is wrong")
    return IpPacket(4, header, header[9], packet[header_length:total], 9, packet[total:])


def _parse_ipv6(packet: bytes) -> IpPacket:
    if len(packet) < IPV6_HEADER:
        raise MalformedPacket(f"an IPv6 packet of {len(packet)} bytes; the header alone is {IPV6_HEADER}")
    payload_length = struct.unpack_from("!H", packet, 4)[0]
    end = IPV6_HEADER + payload_length
    if payload_length == 0 or end > len(packet):
        raise MalformedPacket(f"IPv6 payload length {payload_length} in {len(packet)} bytes; expected "
                              f"1 to {len(packet) - IPV6_HEADER} (jumbograms are not supported)")
    protocol, at, offset = packet[6], 6, IPV6_HEADER
    while protocol in _IPV6_LEADING:
        if offset + 8 > end:
            raise MalformedPacket(f"IPv6 extension header {protocol} at byte {offset} runs past the payload")
        length = (packet[offset + 1] + 1) * 8
        if offset + length > end:
            raise MalformedPacket(f"IPv6 extension header {protocol} of {length} bytes at byte {offset} "
                                  f"runs past the payload ({end} bytes)")
        protocol, at, offset = packet[offset], offset, offset + length
    return IpPacket(6, packet[:offset], protocol, packet[offset:end], at, packet[end:])


def udp_datagram(src, dst, src_port: int, dst_port: int, payload: bytes, *, with_checksum: bool = True) -> bytes:
    """A UDP header + ``payload`` between ``src`` and ``dst`` (IPv4 or IPv6
    addresses; the checksum covers the pseudo-header; IPv4 may omit it)."""
    length = UDP_HEADER + len(payload)
    if length > 0xFFFF:
        raise ValueError(f"a UDP datagram of {length} bytes; the most is 65535")
    datagram = bytearray(struct.pack("!HHHH", src_port, dst_port, length, 0) + payload)
    version = 6 if ":" in str(src) or (isinstance(src, (bytes, bytearray)) and len(src) == 16) else 4
    if with_checksum or version == 6:
        value = checksum(_pseudo_header(src, dst, length, version) + bytes(datagram)) or 0xFFFF
        struct.pack_into("!H", datagram, 6, value)
    return bytes(datagram)


def _pseudo_header(src, dst, length: int, version: int) -> bytes:
    if version == 4:
        return _address(src, 4) + _address(dst, 4) + struct.pack("!BBH", 0, PROTO_UDP, length)
    return _address(src, 6) + _address(dst, 6) + struct.pack("!IxxxB", length, PROTO_UDP)


def parse_udp(ip: IpPacket) -> tuple:
    """``(src_port, dst_port, payload)`` of the UDP datagram carried by ``ip``;
    raises :class:`MalformedPacket` on a short datagram, a wrong length or a
    wrong checksum (0 means none, IPv4 only)."""
    data = ip.payload
    if len(data) < UDP_HEADER:
        raise MalformedPacket(f"a UDP datagram of {len(data)} bytes; the header alone is {UDP_HEADER}")
    src_port, dst_port, length, value = struct.unpack_from("!HHHH", data)
    if not UDP_HEADER <= length <= len(data):
        raise MalformedPacket(f"UDP length {length} in {len(data)} bytes; expected {UDP_HEADER} to {len(data)}")
    data = data[:length]
    if value or ip.version == 6:
        if checksum(_pseudo_header(ip.src.packed, ip.dst.packed, length, ip.version) + data):
            raise MalformedPacket(f"UDP checksum {value:#06x} is wrong")
    return src_port, dst_port, data[UDP_HEADER:]
