# Ref: RFC 791 (IPv4), RFC 792 (ICMP echo), RFC 768 (UDP), RFC 1812 5.3.1 (TTL)
"""Packet helpers of the router and of the simulated hosts: build UDP and
ICMP echo packets, parse ICMP, decrement the TTL of a forwarded packet, and
the :class:`~pacsim.firmware.ipsec.selectors.PacketSelector` the SPD
matches a packet by. IPv4 only (the router model's interfaces are IPv4).
"""
import struct

from ..ipsec.packet import (PROTO_ICMP, PROTO_TCP, PROTO_UDP, IpPacket, checksum, ipv4_header, ipv4_with_checksum,
                             udp_datagram)
from ..ipsec.selectors import PacketSelector

__all__ = ["ICMP_ECHO_REPLY", "ICMP_ECHO_REQUEST", "ICMP_TIME_EXCEEDED", "udp_packet", "icmp_packet",
           "echo_packet", "parse_icmp", "decrement_ttl", "selector_of", "IcmpMessage"]

ICMP_ECHO_REPLY = 0
ICMP_ECHO_REQUEST = 8
ICMP_TIME_EXCEEDED = 11


def udp_packet(src, dst, src_port: int, dst_port: int, payload: bytes, *, ttl: int = 64,
               identification: int = 0) -> bytes:
    """An IPv4 packet carrying one UDP datagram (checksum filled in)."""
    datagram = udp_datagram(src, dst, src_port, dst_port, payload)
    return ipv4_header(src, dst, PROTO_UDP, len(datagram), ttl=ttl, identification=identification) + datagram


def icmp_packet(src, dst, icmp_type: int, code: int, rest: bytes, *, ttl: int = 64, identification: int = 0) -> bytes:
    """An IPv4 packet carrying one ICMP message: type, code, checksum, ``rest``."""
    message = bytearray(struct.pack("!BBH", icmp_type, code, 0) + rest)
    struct.pack_into("!H", message, 2, checksum(bytes(message)))
    return ipv4_header(src, dst, PROTO_ICMP, len(message), ttl=ttl, identification=identification) + bytes(message)


def echo_packet(src, dst, ident: int, sequence: int, payload: bytes, *, reply: bool = False, ttl: int = 64,
                identification: int = 0) -> bytes:
    """An ICMP echo request (or reply) with ``ident``, ``sequence`` and ``payload``."""
    return icmp_packet(src, dst, ICMP_ECHO_REPLY if reply else ICMP_ECHO_REQUEST, 0,
                       struct.pack("!HH", ident, sequence) + payload, ttl=ttl, identification=identification)


class IcmpMessage:
    """A parsed ICMP message: ``type``, ``code``, and for echo messages
    ``ident``, ``sequence`` and ``payload``; ``valid`` is False when the
    checksum is wrong."""

    def __init__(self, data: bytes):
        if len(data) < 8:
            raise ValueError(f"an ICMP message of {len(data)} bytes; expected at least 8")
        self.type, self.code = data[0], data[1]
        self.valid = checksum(data) == 0
        self.ident, self.sequence = struct.unpack_from("!HH", data, 4)
        self.payload = data[8:]


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
