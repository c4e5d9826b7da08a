# Ref: RFC 791 (IPv4), RFC 792 (ICMP echo, errors), RFC 1191 section 4 (next-hop MTU), RFC 768 (UDP),
#      RFC 1812 4.3.2 (ICMP errors from routers), 5.3.1 (TTL); RFC 4443 (ICMPv6), RFC 8200 8.1 (UDP over IPv6)
"""Packet helpers of the router and of the simulated hosts: build UDP and
ICMP echo packets, ICMP error messages (:func:`icmp_error`), parse ICMP,
decrement the TTL of a forwarded packet, and the
:class:`~pacsim.firmware.ipsec.selectors.PacketSelector` the SPD matches a
packet by.

:func:`udp_packet` and :func:`echo_packet` build IPv6 packets (ICMPv6 echo,
RFC 4443 4.1-4.2) when given IPv6 addresses, and :func:`parse_icmp` reads
ICMPv6 too (:class:`IcmpMessage` then checks the checksum over the IPv6
pseudo-header); the rest of ICMPv6 and the IPv6 hop limit are in
:mod:`.icmpv6`. IPv4 errors and the TTL are here.

An ICMP error (destination unreachable, time exceeded...) quotes the
datagram it is about: as much of it as keeps the error within 576 bytes
(RFC 1812 4.3.2.3; RFC 792 asks for at least the header and 8 data bytes).
A "fragmentation needed and DF set" error (type 3 code 4) carries the
next-hop MTU in the low 16 bits of its second word (RFC 1191 section 4).
:func:`may_send_icmp_error` says whether a datagram may be answered with an
error at all (RFC 1812 4.3.2.7).
"""
import ipaddress
import struct

from ..ipsec.packet import (PROTO_ICMP, PROTO_TCP, PROTO_UDP, IpPacket, checksum, ipv4_header, ipv4_with_checksum,
                             ipv6_header, udp_datagram)
from ..ipsec.selectors import PacketSelector
from .icmpv6 import (ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_PACKET_TOO_BIG, PROTO_ICMPV6, icmpv6_checksum,
                     icmpv6_packet)

__all__ = ["ICMP_ECHO_REPLY", "ICMP_ECHO_REQUEST", "ICMP_TIME_EXCEEDED", "ICMP_DEST_UNREACHABLE",
           "CODE_FRAGMENTATION_NEEDED", "CODE_REASSEMBLY_TIME_EXCEEDED", "ICMP_ERROR_TYPES", "ICMP_ERROR_LIMIT",
           "udp_packet", "icmp_packet", "icmp_error", "may_send_icmp_error", "echo_packet", "parse_icmp",
           "decrement_ttl", "selector_of", "IcmpMessage"]

ICMP_ECHO_REPLY = 0
ICMP_DEST_UNREACHABLE = 3
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11
#: Destination unreachable code 4: fragmentation needed and DF set (RFC 792, RFC 1191).
CODE_FRAGMENTATION_NEEDED = 4
#: Time exceeded code 1: fragment reassembly time exceeded (RFC 792).
CODE_REASSEMBLY_TIME_EXCEEDED = 1
#: ICMP error types (destination unreachable, source quench, redirect, time exceeded, parameter problem),
#: never answered with an error (RFC 1812 4.3.2.7).
ICMP_ERROR_TYPES = frozenset({3, 4, 5, 11, 12})
#: The most bytes an ICMP error datagram may have (RFC 1812 4.3.2.3).
ICMP_ERROR_LIMIT = 576


def _is_ipv6(address) -> bool:
    return ipaddress.ip_address(address).version == 6


def udp_packet(src, dst, src_port: int, dst_port: int, payload: bytes, *, ttl: int = 64,
               identification: int = 0, df: bool = False) -> bytes:
    """An IP packet carrying one UDP datagram (checksum filled in): IPv4,
    ``df`` setting Don't Fragment, or IPv6 for IPv6 addresses (``ttl`` is
    then the hop limit; ``identification`` and ``df`` do not apply)."""
    datagram = udp_datagram(src, dst, src_port, dst_port, payload)
    if _is_ipv6(src):
        return ipv6_header(src, dst, PROTO_UDP, len(datagram), hop_limit=ttl) + datagram
    return ipv4_header(src, dst, PROTO_UDP, len(datagram), ttl=ttl, identification=identification,
                       df=df) + datagram


def icmp_packet(src, dst, icmp_type: int, code: int, rest: bytes, *, ttl: int = 64, identification: int = 0) -> bytes:
    """An IPv4 packet carrying one ICMP message: type, code, checksum, ``rest``."""
    message = bytearray(struct.pack("!BBH", icmp_type, code, 0) + rest)
    struct.pack_into("!H", message, 2, checksum(bytes(message)))
    return ipv4_header(src, dst, PROTO_ICMP, len(message), ttl=ttl, identification=identification) + bytes(message)


def icmp_error(src, dst, icmp_type: int, code: int, original: bytes, *, mtu: int = 0, ttl: int = 64,
               identification: int = 0) -> bytes:
    """An ICMP error from ``src`` to ``dst`` about ``original`` (the
    datagram as it arrived, from its IP header on), quoted as far as
    :data:`ICMP_ERROR_LIMIT` allows; ``mtu``: the next-hop MTU of a
    "fragmentation needed" error (RFC 1191), else 0 (unused)."""
    room = ICMP_ERROR_LIMIT - 20 - 8
    return icmp_packet(src, dst, icmp_type, code, struct.pack("!HH", 0, mtu) + bytes(original[:room]), ttl=ttl,
                       identification=identification)


def may_send_icmp_error(ip: IpPacket) -> bool:
    """Whether an ICMP error may be sent about ``ip`` (RFC 1812 4.3.2.7):
    not about an ICMP error, a fragment other than the first, or a datagram
    whose source is no single host (unspecified, loopback, multicast,
    broadcast or reserved)."""
    if ip.version != 4 or ip.fragment_offset:
        return False
    source = ip.src
    if source.is_unspecified or source.is_loopback or source.is_multicast or source.is_reserved \
            or source == ipaddress.IPv4Address("255.255.255.255"):
        return False
    return not (ip.protocol == PROTO_ICMP and ip.payload and ip.payload[0] in ICMP_ERROR_TYPES)


def echo_packet(src, dst, ident: int, sequence: int, payload: bytes, *, reply: bool = False, ttl: int = 64,
                identification: int = 0) -> bytes:
    """An ICMP echo request (or reply) with ``ident``, ``sequence`` and
    ``payload``; ICMPv6 (types 128 and 129, hop limit ``ttl``) between IPv6 addresses."""
    if _is_ipv6(src):
        return icmpv6_packet(src, dst, ICMPV6_ECHO_REPLY if reply else ICMPV6_ECHO_REQUEST, 0,
                             struct.pack("!HH", ident, sequence) + payload, hop_limit=ttl)
    return icmp_packet(src, dst, ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST, 0,
                       struct.pack("!HH", ident, sequence) + payload, ttl=ttl, identification=identification)


class IcmpMessage:
    """A parsed ICMP (``version`` 4) or ICMPv6 (``version`` 6) message:
    ``type``, ``code``, and for echo messages ``ident``, ``sequence`` and
    ``payload``; ``valid`` is False when the checksum is wrong (ICMPv6: give
    the packet's ``src`` and ``dst`` for the pseudo-header). For an error
    (:attr:`is_error`) ``payload`` is the quoted datagram and
    :attr:`next_hop_mtu` the MTU a "fragmentation needed" error or an
    ICMPv6 Packet Too Big reports."""

    def __init__(self, data: bytes, version: int = 4, src=None, dst=None):
        if len(data) < 8:
            raise ValueError(f"an ICMP{'v6' if version == 6 else ''} message of {len(data)} bytes; expected at "
                             "least 8")
        self.version = version
        self.type, self.code = data[0], data[1]
        self.valid = (icmpv6_checksum(src, dst, data) if version == 6 else checksum(data)) == 0
        self.ident, self.sequence = struct.unpack_from("!HH", data, 4)
        self.parameter = struct.unpack_from("!I", data, 4)[0]
        self.payload = data[8:]

    @property
    def is_error(self) -> bool:
        """An error message (ICMP: :data:`ICMP_ERROR_TYPES`; ICMPv6: types below 128, RFC 4443 2.1)."""
        return self.type < ICMPV6_ECHO_REQUEST if self.version == 6 else self.type in ICMP_ERROR_TYPES

    @property
    def is_echo_request(self) -> bool:
        return self.type == (ICMPV6_ECHO_REQUEST if self.version == 6 else ICMP_ECHO_REQUEST)

    @property
    def is_echo_reply(self) -> bool:
        return self.type == (ICMPV6_ECHO_REPLY if self.version == 6 else ICMP_ECHO_REPLY)

    @property
    def next_hop_mtu(self) -> int | None:
        """The next-hop MTU of a type 3 code 4 error (RFC 1191 section 4; 0
        from a router that predates it) or of an ICMPv6 Packet Too Big (RFC
        4443 3.2, 32 bits); None for any other message."""
        if self.version == 6:
            return self.parameter if self.type == ICMPV6_PACKET_TOO_BIG else None
        if (self.type, self.code) != (ICMP_DEST_UNREACHABLE, CODE_FRAGMENTATION_NEEDED):
            return None
        return self.sequence


def parse_icmp(ip: IpPacket) -> IcmpMessage:
    """The ICMP message of ``ip`` (IPv4 protocol 1, or IPv6 next header 58);
    ValueError if too short."""
    if ip.version == 6:
        return IcmpMessage(ip.payload, 6, ip.src, ip.dst)
    return IcmpMessage(ip.payload)


def decrement_ttl(packet: bytes) -> bytes | None:
    """``packet`` (IPv4) with its TTL one less and the header checksum
    updated; None when the TTL would reach 0 (RFC 1812 5.3.1)."""
    if packet[8] <= 1:
        return None
    header_length = (packet[0] & 0xF) * 4
    header = bytearray(packet[:header_length])
    header[8] -= 1
    return ipv4_with_checksum(header) + packet[header_length:]


def selector_of(ip: IpPacket) -> PacketSelector:
    """What ``ip`` offers the SPD: addresses, protocol, ports (TCP, UDP) and ICMP (ICMPv6) type."""
    src_port = dst_port = icmp_type = None
    if ip.protocol in (PROTO_TCP, PROTO_UDP) and len(ip.payload) >= 4:
        src_port, dst_port = struct.unpack_from("!HH", ip.payload)
    elif ip.protocol == (PROTO_ICMPV6 if ip.version == 6 else PROTO_ICMP) and ip.payload:
        icmp_type = ip.payload[0]
    return PacketSelector(ip.src, ip.dst, ip.protocol, src_port, dst_port, icmp_type)
