# Ref: RFC 4443 (ICMPv6: message format 2.1, checksum 2.3, error rules 2.4, destination unreachable 3.1,
#      packet too big 3.2, time exceeded 3.3, parameter problem 3.4, echo 4.1-4.2); RFC 8200 section 3 (hop
#      limit), 4 (unrecognised next header), 5 (1280-byte minimum MTU), 8.1 (upper-layer checksums)
"""ICMPv6 and the IPv6 forwarding helpers of the router and the simulated
hosts: build ICMPv6 messages (echo, errors), check their checksums,
decrement the hop limit of a forwarded packet and say whether an error may
be sent about a packet.

The ICMPv6 checksum covers an IPv6 pseudo-header (source, destination,
upper-layer length, next header 58) and the message (RFC 4443 2.3, RFC
8200 8.1); :func:`icmpv6_checksum` computes it. An ICMPv6 error quotes "as
much of invoking packet as possible without the ICMPv6 packet exceeding
the minimum IPv6 MTU" (RFC 4443 2.4 c): :data:`ICMPV6_ERROR_LIMIT`, 1280
bytes with the IPv6 header. Its second word is the MTU of a Packet Too Big
(type 2) and the pointer of a Parameter Problem (type 4), 0 for the others.

:func:`may_send_icmpv6_error` is RFC 4443 2.4 (e): no error about an
ICMPv6 error, about a packet sent to a multicast address (Packet Too Big
excepted, which RFC 4443 allows for path MTU discovery to multicast
groups) or about a packet whose source does not name a single node.
"""
import ipaddress
import struct

from ..ipsec.packet import IPV6_HEADER, IpPacket, checksum, ipv6_header

__all__ = ["PROTO_ICMPV6", "ICMPV6_DEST_UNREACHABLE", "ICMPV6_PACKET_TOO_BIG",
           "ICMPV6_TIME_EXCEEDED", "ICMPV6_PARAMETER_PROBLEM", "ICMPV6_ECHO_REQUEST", "ICMPV6_ECHO_REPLY",
           "CODE_NO_ROUTE", "CODE_HOP_LIMIT_EXCEEDED", "CODE_REASSEMBLY_TIME_EXCEEDED", "CODE_ERRONEOUS_HEADER",
           "CODE_UNRECOGNIZED_NEXT_HEADER", "IPV6_MIN_MTU", "ICMPV6_ERROR_LIMIT", "icmpv6_checksum",
           "icmpv6_packet", "icmpv6_error", "may_send_icmpv6_error", "decrement_hop_limit", "hop_limit"]

PROTO_ICMPV6 = 58
ICMPV6_DEST_UNREACHABLE = 1
ICMPV6_PACKET_TOO_BIG = 2
ICMPV6_TIME_EXCEEDED = 3
ICMPV6_PARAMETER_PROBLEM = 4
ICMPV6_ECHO_REQUEST = 128
ICMPV6_ECHO_REPLY = 129
#: Destination unreachable code 0: no route to destination (RFC 4443 3.1).
CODE_NO_ROUTE = 0
#: Time exceeded codes (RFC 4443 3.3).
CODE_HOP_LIMIT_EXCEEDED = 0
CODE_REASSEMBLY_TIME_EXCEEDED = 1
#: Parameter problem codes (RFC 4443 3.4).
CODE_ERRONEOUS_HEADER = 0
CODE_UNRECOGNIZED_NEXT_HEADER = 1
#: Every IPv6 link carries packets of this many bytes (RFC 8200 section 5).
IPV6_MIN_MTU = 1280
#: The most bytes an ICMPv6 error packet may have, IPv6 header included (RFC 4443 2.4 c).
ICMPV6_ERROR_LIMIT = IPV6_MIN_MTU
_ICMPV6_HEADER = 8


def icmpv6_checksum(src, dst, message: bytes) -> int:
    """The checksum of ICMPv6 ``message`` (its checksum field as given, 0 to
    compute it) between ``src`` and ``dst``; 0 when a received message is
    intact."""
    pseudo = (ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
              + struct.pack("!IxxxB", len(message), PROTO_ICMPV6))
    return checksum(pseudo + bytes(message))


def icmpv6_packet(src, dst, icmp_type: int, code: int, rest: bytes, *, hop_limit: int = 64) -> bytes:
    """An IPv6 packet carrying one ICMPv6 message: type, code, checksum, ``rest``."""
    message = bytearray(struct.pack("!BBH", icmp_type, code, 0) + rest)
    struct.pack_into("!H", message, 2, icmpv6_checksum(src, dst, bytes(message)))
    return ipv6_header(src, dst, PROTO_ICMPV6, len(message), hop_limit=hop_limit) + bytes(message)


def icmpv6_error(src, dst, icmp_type: int, code: int, original: bytes, *, parameter: int = 0,
                 hop_limit: int = 64) -> bytes:
    """An ICMPv6 error from ``src`` to ``dst`` about ``original`` (the
    packet as it arrived, from its IPv6 header on), quoted as far as
    :data:`ICMPV6_ERROR_LIMIT` allows; ``parameter``: the MTU of a Packet
    Too Big, the pointer of a Parameter Problem (else 0, unused)."""
    room = ICMPV6_ERROR_LIMIT - IPV6_HEADER - _ICMPV6_HEADER
    return icmpv6_packet(src, dst, icmp_type, code, struct.pack("!I", parameter) + bytes(original[:room]),
                         hop_limit=hop_limit)


def may_send_icmpv6_error(ip: IpPacket, *, too_big: bool = False) -> bool:
    """Whether an ICMPv6 error may be sent about IPv6 ``ip`` (RFC 4443 2.4
    e, see the module docstring); ``too_big`` for a Packet Too Big."""
    if ip.version != 6:
        return False
    source = ip.src
    if source.is_unspecified or source.is_multicast or source.is_loopback:
        return False
    if ip.dst.is_multicast and not too_big:
        return False
    return not (ip.protocol == PROTO_ICMPV6 and ip.payload and ip.payload[0] < ICMPV6_ECHO_REQUEST)


def hop_limit(packet: bytes) -> int:
    """The hop limit of IPv6 ``packet``."""
    return packet[7]


def decrement_hop_limit(packet: bytes) -> bytes | None:
    """IPv6 ``packet`` with its hop limit one less; None when it would reach
    0 (RFC 8200 section 3: a router discards a packet whose hop limit it
    decrements to zero). IPv6 has no header checksum to update."""
    if packet[7] <= 1:
        return None
    return packet[:7] + bytes((packet[7] - 1,)) + packet[8:]
