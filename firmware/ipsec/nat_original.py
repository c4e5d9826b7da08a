# Ref: RFC 3948 section 3.1.2 (transport mode decapsulation: checksum fix-up); RFC 1624 (incremental update)
# Ref: ../shared/spec/isakmp-commands.md R93
"""Original addresses (NAT-OA) and the checksum fix-up of UDP-encapsulated
transport mode.

A packet protected in transport mode across a NAT keeps the TCP or UDP
checksum its sender computed over *its* view of the addresses (its own,
untranslated, address and the address it sent to); the IP header the
receiver decapsulates has the translated ones. R93: "Recipients use
original addresses (OAs) to correct the checksums in the UDP or TCP headers
in the IPsec payload." The peer's original addresses come from its NAT-OA
payloads in quick mode (:class:`OriginalAddresses`, stored with the
bundle); :func:`restore_checksum` replaces them by the header's addresses
in the checksum, incrementally (RFC 1624 eqn. 3, :func:`adjust_checksum`).
A UDP checksum of zero (none computed) is left alone; other protocols are
returned unchanged.
"""
import ipaddress
import struct
from dataclasses import dataclass

from .packet import PROTO_UDP, parse_ip

__all__ = ["OriginalAddresses", "adjust_checksum", "restore_checksum", "PROTO_TCP"]

PROTO_TCP = 6
#: Offset of the checksum in the TCP and UDP headers.
_CHECKSUM_AT = {PROTO_TCP: 16, PROTO_UDP: 6}


@dataclass(frozen=True)
class OriginalAddresses:
    """The peer's NAT-OA: the ``source`` it sends from and the
    ``destination`` it sends to, as it sees them (IPv4)."""
    source: ipaddress.IPv4Address
    destination: ipaddress.IPv4Address


def adjust_checksum(value: int, old: bytes, new: bytes) -> int:
    """Internet checksum ``value`` after the 16-bit words ``old`` became
    ``new`` (equal even lengths): HC' = ~(~HC + ~m + m'), RFC 1624 eqn. 3."""
    total = ~value & 0xFFFF
    for i in range(0, len(old), 2):
        total += (~struct.unpack_from("!H", old, i)[0] & 0xFFFF) + struct.unpack_from("!H", new, i)[0]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def restore_checksum(packet: bytes, original: OriginalAddresses) -> bytes:
    """``packet`` (IPv4, just out of transport-mode IPsec) with its TCP or
    UDP checksum moved from the ``original`` addresses to those of its IP
    header. Raises :class:`~.packet.MalformedPacket` for a bad header."""
    ip = parse_ip(packet, verify_checksum=False)
    at = _CHECKSUM_AT.get(ip.protocol)
    if ip.version != 4 or at is None or ip.is_fragment or len(ip.payload) < at + 2:
        return packet
    value = struct.unpack_from("!H", ip.payload, at)[0]
    if ip.protocol == PROTO_UDP and value == 0:
        return packet
    old = original.source.packed + original.destination.packed
    value = adjust_checksum(value, old, ip.src.packed + ip.dst.packed)
    if ip.protocol == PROTO_UDP and value == 0:
        value = 0xFFFF
    start = len(packet) - len(ip.payload) - len(ip.trailer)
    return packet[:start + at] + struct.pack("!H", value) + packet[start + at + 2:]
