# Ref: RFC 2402 (AH), sections 2, 3.3.3 (ICV computation) and appendix A (mutable fields)
"""AH with the ICV computed by the card: one HASH job per packet.

AH header (RFC 2402 section 2)::

    next header (1) | payload length (1) = AH 32-bit words - 2 | reserved (2)
    | SPI (4) | sequence number (4) | ICV (icv_bytes, zero-padded to 4 bytes
    for IPv4 and 8 for IPv6)

The ICV is the MAC (the SA's MAC channel, a HASH job of any byte length)
of the IP header with its mutable fields zeroed, the AH header with a zero
ICV, and everything after it. Mutable fields: IPv4 TOS, flags and fragment
offset, TTL and header checksum, and the options other than those of
:data:`~.packet.IPV4_IMMUTABLE_OPTIONS` (each zeroed whole); IPv6 traffic
class, flow label, hop limit, and the data of hop-by-hop and destination
options whose type has the "may change" bit (0x20). IPv6 routing headers
are taken as received (correct at the final destination, where segments
left is 0); sending with a routing header is not supported.

Inbound the computed ICV is compared in software (constant time).
"""
import hmac
import struct

from .outcome import CardFailure, Drop, DropReason, rebuild
from .packet import IPV4_IMMUTABLE_OPTIONS, IPV6_DEST_OPTIONS, IPV6_HOP_BY_HOP, IPV6_ROUTING, PROTO_AH, parse_ip

__all__ = ["AH_FIXED", "icv_field_bytes", "zero_mutable", "outbound", "inbound"]

#: Next header, payload length, reserved, SPI, sequence number.
AH_FIXED = 12
#: Extension headers made of options, each with its own "may change" bit.
_IPV6_OPTION_HEADERS = (IPV6_HOP_BY_HOP, IPV6_DEST_OPTIONS)


def icv_field_bytes(icv_bytes: int, version: int) -> int:
    """Bytes of the ICV field: the ICV zero-padded so the AH header is a
    multiple of 4 (IPv4) or 8 (IPv6) bytes."""
    align = 4 if version == 4 else 8
    return -(-(AH_FIXED + icv_bytes) // align) * align - AH_FIXED


def zero_mutable(ip) -> bytes:
    """``ip.header`` with its mutable fields zeroed (see the module doc)."""
    header = bytearray(ip.header)
    if ip.version == 4:
        header[1] = 0                       # TOS
        header[6:8] = b"\0\0"               # flags, fragment offset
        header[8] = 0                       # TTL
        header[10:12] = b"\0\0"             # header checksum
        offset = 20
        while offset < len(header):
            kind = header[offset]
            if kind == 0:                   # end of options: the rest is padding
                break
            if kind == 1:
                offset += 1
                continue
            length = header[offset + 1] if offset + 1 < len(header) else 0
            if length < 2 or offset + length > len(header):
                raise Drop(DropReason.MALFORMED, f"IPv4 option {kind} at byte {offset} has length {length}; "
                           f"expected 2 to {len(header) - offset}")
            if kind not in IPV4_IMMUTABLE_OPTIONS:
                header[offset:offset + length] = bytes(length)
            offset += length
        return bytes(header)
    header[0] &= 0xF0                       # version stays; traffic class and flow label go
    header[1:4] = b"\0\0\0"
    header[7] = 0                           # hop limit
    for kind, offset, length in ip.ipv6_extensions():
        if kind in _IPV6_OPTION_HEADERS:
            _zero_ipv6_options(header, offset + 2, offset + length)
    return bytes(header)


def _zero_ipv6_options(header: bytearray, start: int, end: int) -> None:
    at = start
    while at < end:
        kind = header[at]
        if kind == 0:                       # Pad1
            at += 1
            continue
        if at + 1 >= end or at + 2 + header[at + 1] > end:
            raise Drop(DropReason.MALFORMED, f"IPv6 option {kind} at byte {at} runs past its header")
        length = header[at + 1]
        if kind & 0x20:
            header[at + 2:at + 2 + length] = bytes(length)
        at += 2 + length


def _check_no_routing(ip) -> None:
    if any(kind == IPV6_ROUTING for kind, _, _ in ip.ipv6_extensions()):
        raise Drop(DropReason.MALFORMED, "sending AH with an IPv6 routing header is not supported")


async def outbound(sa, ip) -> bytes:
    """Insert an AH header into ``ip``; the packet with its ICV. Raises Drop."""
    if ip.is_fragment:
        raise Drop(DropReason.FRAGMENT, "AH applies to whole datagrams; this is a fragment (transport manner)")
    _check_no_routing(ip)
    seq = sa.next_sequence("ahSeqNumberCycled")
    field = icv_field_bytes(sa.icv_bytes, ip.version)
    ah = struct.pack("!BBHII", ip.protocol, (AH_FIXED + field) // 4 - 2, 0, sa.outbound_spi, seq)
    packet = rebuild(ip, PROTO_AH, ah + bytes(field) + ip.payload, immediate=True)
    sent = parse_ip(packet)
    icv = await _icv(sa, zero_mutable(sent) + sent.payload, "outbound", "ahOutHash", "ah_out.hashDoneSaBadState")
    at = len(sent.header) + AH_FIXED
    return packet[:at] + icv + packet[at + sa.icv_bytes:]


async def _icv(sa, message: bytes, side: str, prefix: str, bad_state: str) -> bytes:
    sa.counters.count(prefix + "Start")
    try:
        mac = await sa.card(sa.device.hash(message, mac=sa.channel("mac", side)))
    except CardFailure as failure:
        sa.counters.count(prefix + ("FailImm" if failure.immediate else "Fail"))
        raise Drop(DropReason.CARD_ERROR, f"HASH job: {failure}", immediate=failure.immediate) from failure
    sa.still_valid(bad_state)
    sa.counters.count(prefix + "Good")
    return mac[:sa.icv_bytes]


async def inbound(sa, ip) -> bytes:
    """Verify and remove ``ip``'s AH header; the packet behind it. Raises Drop."""
    data, counters = ip.payload, sa.counters
    field = icv_field_bytes(sa.icv_bytes, ip.version)
    if len(data) < AH_FIXED:
        counters.count("ahBadPayloadLength")
        raise Drop(DropReason.BAD_PAYLOAD_LENGTH, f"an AH header of {len(data)} bytes; expected at least {AH_FIXED}")
    next_header, words, _, spi, seq = struct.unpack_from("!BBHII", data)
    length = (words + 2) * 4
    if length != AH_FIXED + field or length > len(data):
        counters.count("ahBadPayloadLength")
        raise Drop(DropReason.BAD_PAYLOAD_LENGTH,
                   f"AH payload length {words} ({length} bytes) in {len(data)} bytes; expected "
                   f"{(AH_FIXED + field) // 4 - 2} for a {sa.icv_bytes}-byte ICV")
    if spi != sa.inbound_spi:
        raise Drop(DropReason.UNKNOWN_SPI, f"SPI {spi} reached {sa!r}; expected {sa.inbound_spi}")
    sa.check_replay(seq, "ahReplayedPacket")
    received = data[AH_FIXED:AH_FIXED + sa.icv_bytes]
    message = zero_mutable(ip) + data[:AH_FIXED] + bytes(field) + data[length:]
    icv = await _icv(sa, message, "inbound", "ahInHash", "ah_in.hashDoneSaBadState")
    if not hmac.compare_digest(icv, received):
        counters.count("ahIcvInvalid")
        raise Drop(DropReason.AUTHENTICATION_FAILED, f"the ICV of SPI {spi} sequence {seq} is wrong",
                   immediate=False)
    sa.accept_sequence(seq, "ahReplayedPacket")
    return rebuild(ip, next_header, data[length:])
