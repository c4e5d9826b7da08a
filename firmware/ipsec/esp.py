# Ref: RFC 2406 (ESP), RFC 2405/2451/3602 (DES, 3DES, AES-CBC with explicit IV), RFC 2403/2404 (HMAC-*-96)
"""ESP through the card: one ENCODE job out, one DECODE job in.

Packet layout (RFC 2406 section 2)::

    SPI (4) | sequence number (4) | IV (cipher block) | payload | padding
    | pad length (1) | next header (1) | ICV (icv_bytes)

Outbound: the padding is 1, 2, 3, ... (RFC 2406 2.4) up to the cipher block
and 4-byte alignment, the IV comes from the injected ``random_bytes``, and
one ENCODE job (``skip`` = SPI + sequence + IV; the card takes the IV from
the packet, encrypts from the payload on, MACs header + ciphertext and
appends the ICV) seals it.

Inbound: length checks, then the anti-replay check (before
authentication), one DECODE job (the card checks the ICV: MAC_MISMATCH is
an authentication failure and nothing is delivered), the window update
(after authentication), the padding check, and the IP header rebuilt with
the next header (transport manner; tunnel mode strips the inner packet in
:class:`~.datapath.BundleProcessor`).

Counters (``show ipsec sa counter``): one job both encrypts and hashes, so
outbound ``espEncryptionStart`` and ``espOutHashStart`` count together.
Inbound the card checks the ICV before it decrypts: ``espInHashStart`` at
submission; decryption counts (``espDecryptionStart``/``Good``) only once
the ICV passed, an ICV mismatch being ``espInHashFail`` + ``espIcvInvalid``.
Without a MAC, decryption counts at submission.
"""
import struct

from ...contract.codes import ResultStatus
from .outcome import CardFailure, Drop, DropReason, rebuild
from .packet import PROTO_ESP

__all__ = ["ESP_HEADER", "padding", "outbound", "inbound"]

#: SPI and sequence number.
ESP_HEADER = 8
#: Pad length and next header.
ESP_TRAILER = 2


def padding(length: int, align: int) -> bytes:
    """The RFC 2406 default padding (1, 2, 3, ...) that brings ``length``
    payload bytes plus the 2-byte trailer to a multiple of ``align``."""
    return bytes(range(1, (-(length + ESP_TRAILER)) % align + 1))


def _alignment(sa) -> int:
    return max(sa.block_bytes, 4)


async def outbound(sa, ip) -> bytes:
    """Seal ``ip``'s payload in ESP; the rebuilt packet. Raises Drop."""
    if ip.is_fragment:
        raise Drop(DropReason.FRAGMENT, "ESP applies to whole datagrams; this is a fragment (transport manner)")
    block = sa.block_bytes
    seq = sa.next_sequence("esp_out.seqNumberCycled")
    iv = bytes(sa.random_bytes(block)) if block else b""
    if len(iv) != block:
        raise Drop(DropReason.INTERNAL_ERROR, f"the IV source gave {len(iv)} bytes; expected {block}")
    header = struct.pack("!II", sa.outbound_spi, seq) + iv
    pad = padding(len(ip.payload), _alignment(sa))
    body = ip.payload + pad + bytes((len(pad), ip.protocol))
    size = len(ip.header) + len(header) + len(body) + sa.icv_bytes
    if size > 0xFFFF:
        raise Drop(DropReason.TOO_BIG, f"the ESP packet would be {size} bytes; IP allows 65535")
    started = _count_out(sa, "Start")
    try:
        sealed = await sa.card(sa.device.encode(header + body, skip=len(header),
                                                cipher=sa.channel("cipher", "outbound"),
                                                mac=sa.channel("mac", "outbound")))
    except CardFailure as failure:
        _count_out(sa, "FailImm" if failure.immediate else "Fail", started)
        raise Drop(DropReason.CARD_ERROR, f"ENCODE job: {failure}", immediate=failure.immediate) from failure
    sa.still_valid("esp_out.encDoneSaBadState")
    _count_out(sa, "Good", started)
    return rebuild(ip, PROTO_ESP, sealed)


def _count_out(sa, suffix: str, which=None) -> tuple:
    """Count ``espEncryption<suffix>``/``espOutHash<suffix>`` for the services the SA has."""
    which = which or tuple(name for name, used in (("espEncryption", sa.cipher is not None),
                                                   ("espOutHash", sa.mac is not None)) if used)
    for name in which:
        sa.counters.count(name + suffix)
    return which


async def inbound(sa, ip) -> bytes:
    """Open ``ip``'s ESP payload; the packet with the next header behind
    the IP header. Raises Drop."""
    data, block, icv = ip.payload, sa.block_bytes, sa.icv_bytes
    counters = sa.counters
    header_bytes = ESP_HEADER + block
    body = len(data) - header_bytes - icv
    align = _alignment(sa)
    if body < align or body % align:
        raise Drop(DropReason.MALFORMED,
                   f"an ESP payload of {len(data)} bytes; expected {header_bytes} header bytes, a positive "
                   f"multiple of {align} encrypted bytes and a {icv}-byte ICV")
    spi, seq = struct.unpack_from("!II", data)
    if spi != sa.inbound_spi:
        raise Drop(DropReason.UNKNOWN_SPI, f"SPI {spi} reached {sa!r}; expected {sa.inbound_spi}")
    sa.check_replay(seq, "espReplayedPacket")
    hashed, ciphered = sa.mac is not None, sa.cipher is not None
    counters.count("espInHashStart" if hashed else "espDecryptionStart")
    try:
        opened = await sa.card(sa.device.decode(data, skip=header_bytes, cipher=sa.channel("cipher", "inbound"),
                                                mac=sa.channel("mac", "inbound")))
    except CardFailure as failure:
        first = "espInHash" if hashed else "espDecryption"
        counters.count(first + ("FailImm" if failure.immediate else "Fail"))
        if failure.status is ResultStatus.MAC_MISMATCH:
            counters.count("espIcvInvalid")
            raise Drop(DropReason.AUTHENTICATION_FAILED, f"the card found the ICV of SPI {spi} sequence {seq} "
                       "wrong (MAC_MISMATCH)", immediate=False) from failure
        raise Drop(DropReason.CARD_ERROR, f"DECODE job: {failure}", immediate=failure.immediate) from failure
    sa.still_valid("esp_in.hashDoneSaBadState" if hashed else "esp_in.encDoneSaBadState")
    if hashed:
        counters.count("espInHashGood")
        if ciphered:
            counters.count("espDecryptionStart")
    if ciphered:
        counters.count("espDecryptionGood")
    sa.accept_sequence(seq, "espReplayedPacket")
    plain = opened[header_bytes:]
    pad_length, next_header = plain[-2], plain[-1]
    pad = plain[-ESP_TRAILER - pad_length:-ESP_TRAILER] if pad_length else b""
    if pad_length + ESP_TRAILER > len(plain) or pad != bytes(range(1, pad_length + 1)):
        counters.count("espPaddingInvalid")
        raise Drop(DropReason.BAD_PADDING, f"pad length {pad_length} with padding {pad[:16].hex()} in "
                   f"{len(plain)} plaintext bytes; expected 1, 2, 3, ... (RFC 2406 2.4)", immediate=False)
    return rebuild(ip, next_header, plain[:-ESP_TRAILER - pad_length])
