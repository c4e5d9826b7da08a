# Ref: RFC 791 (IPv4), RFC 792 (ICMP echo, errors), RFC 1191 section 4 (next-hop MTU), RFC 768 (UDP),
#      RFC 1812 4.3.2 (ICMP errors from routers), 5.3.1 (TTL)
"""Packet helpers of the router and of the simulated hosts: build UDP and
ICMP echo packets, ICMP error messages (:func:`icmp_error`), parse ICMP,
decrement the TTL of a forwarded packet, and the
:class:`~pacsim.firmware.ipsec.selectors.PacketSelector` the SPD matches a
packet by. IPv4 only (the router model's interfaces are IPv4).

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
                             udp_datagram)
from ..ipsec.selectors import PacketSelector

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


def udp_packet(src, dst, src_port: int, dst_port: int, payload: bytes, *, ttl: int = 64,
               identification: int = 0, df: bool = False) -> bytes:
    """An IPv4 packet carrying one UDP datagram (checksum filled in); ``df`` sets Don't Fragment."""
    datagram = udp_datagram(src, dst, src_port, dst_port, payload)
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
    """An ICMP echo request (or reply) with ``ident``, ``sequence`` and ``payload``."""
    return icmp_packet(src, dst, ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST, 0,
                       struct.pack("!HH", ident, sequence) + payload, ttl=ttl, identification=identification)


class IcmpMessage:
    """A parsed ICMP message: ``type``, ``code``, and for echo messages
    ``ident``, ``sequence`` and ``payload``; ``valid`` is False when the
    checksum is wrong. For an error (:attr:`is_error`) ``payload`` is the
    quoted datagram and :attr:`next_hop_mtu` the MTU a "fragmentation
    needed" error reports."""

    def __init__(self, data: bytes):
        if len(data) < 8:
            raise ValueError(f"an ICMP message of {len(data)} bytes; expected at least 8")
        self.type, self.code = data[0], data[1]
        self.valid = checksum(data) == 0
        self.ident, self.sequence = struct.unpack_from("!HH", data, 4)
        self.payload = data[8:]

    @property
    def is_error(self) -> bool:
        return self.type in ICMP_ERROR_TYPES

    @property
    def next_hop_mtu(self) -> int | None:
        """The next-hop MTU of a type 3 code 4 error (RFC 1191 section 4; 0
        from a router that predates it); None for any other message."""
        if (self.type, self.code) != (ICMP_DEST_UNREACHABLE, CODE_FRAGMENTATION_NEEDED):
            return None
        return self.sequence


def parse_icmp(ip: IpPacket) -> IcmpMessage:
    """The ICMP message of ``ip`` (protocol 1); ValueError if too short."""
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
    """What ``ip`` offers the SPD: addresses, protocol, ports (TCP, UDP) and ICMP type."""
    src_port = dst_port = icmp_type = None
    if ip.protocol in (PROTO_TCP, PROTO_UDP) and len(ip.payload) >= 4:
        src_port, dst_port = struct.unpack_from("!HH", ip.payload)
    elif ip.protocol == PROTO_ICMP and ip.payload:
        icmp_type = ip.payload[0]
    return PacketSelector(ip.src, ip.dst, ip.protocol, src_port, dst_port, icmp_type)
