# Ref: RFC 3173 (IPComp, obsoletes RFC 2393), RFC 2395 (LZS for IPComp), spec/ipsec-commands.md §8 (L112-120)
"""IPComp with LZS on the card: one COMPRESS job out, one DECOMPRESS job in.

IPComp header (RFC 3173 section 2.2)::

    next header (1) | flags (1, 0) | CPI (2)

followed by the compressed payload (RFC 2395: one LZS stream, history
cleared per datagram, end marker, zero bits to the byte boundary).

Outbound rules (RFC 3173 2.2 and 2.3, the manual's L112-120), in order:

- payloads shorter than ``threshold`` bytes (default 90, RFC 2395's
  suggestion) go uncompressed (``compTooSmall``);
- during a non-expansion back-off they go uncompressed without trying
  (``nonExpansionBackoff``): after ``backoff_after`` packets in a row that
  did not get smaller, the next ``backoff_packets`` are not tried;
- otherwise the card compresses (``compressionStart``) into at most the
  bytes that keep the packet smaller; if the IPComp header plus the stream
  would not be smaller than the payload, the card stops with
  OUTPUT_OVERFLOW and the packet goes uncompressed (``dataExpansion``);
  else ``compressionGood``.
- a card failure sends the packet uncompressed too (``compressionFail``):
  IPComp may always send a datagram uncompressed, so nothing is lost.

An uncompressed packet carries no IPComp header; the receiver accepts that
(RFC 3173 2.2), which :class:`~.datapath.BundleProcessor` implements.

Inbound: the header is checked (CPI, no nested IPComp), the stream is
decompressed on the card (at most what fits an IP packet); a malformed or
too long stream is dropped (``decompressionFail``).

The card API used: ``device.open_comp_channel(direction)``,
``device.compress(data, channel=, limit=)``, ``device.decompress(stream,
channel=, limit=)``.
"""
import struct

from ...contract.codes import ResultStatus
from .outcome import CardFailure, Drop, DropReason, rebuild
from .packet import IPV6_HEADER, MAX_IPV4_LENGTH, PROTO_IPCOMP, PacketTooBig

__all__ = ["IPCOMP_HEADER", "DEFAULT_THRESHOLD", "DEFAULT_BACKOFF_AFTER", "DEFAULT_BACKOFF_PACKETS",
           "CompressionPolicy", "outbound", "inbound"]

IPCOMP_HEADER = 4
#: Smallest payload worth compressing (RFC 2395 section 2: "about 90 bytes").
DEFAULT_THRESHOLD = 90
#: Non-smaller results in a row that start a back-off.
DEFAULT_BACKOFF_AFTER = 5
#: Packets sent uncompressed, untried, during a back-off.
DEFAULT_BACKOFF_PACKETS = 20
_STREAM_ERRORS = (ResultStatus.STREAM_BAD_OFFSET, ResultStatus.STREAM_TRUNCATED, ResultStatus.OUTPUT_OVERFLOW)


class CompressionPolicy:
    """The outbound size threshold and non-expansion back-off of one SA."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, backoff_after: int = DEFAULT_BACKOFF_AFTER,
                 backoff_packets: int = DEFAULT_BACKOFF_PACKETS):
        if threshold < 0 or backoff_after < 1 or backoff_packets < 0:
            raise ValueError(f"IPComp threshold {threshold}, back-off after {backoff_after}, for "
                             f"{backoff_packets} packets; expected >= 0, >= 1, >= 0")
        self.threshold = threshold
        self.backoff_after = backoff_after
        self.backoff_packets = backoff_packets
        self.misses = 0          #: non-smaller results in a row
        self.backoff_left = 0    #: packets still to send untried

    def skip(self) -> bool:
        """True (and one packet of the back-off used) while backing off."""
        if self.backoff_left:
            self.backoff_left -= 1
            return True
        return False

    def result(self, smaller: bool) -> None:
        """Record whether a compression attempt made the packet smaller."""
        if smaller:
            self.misses = 0
            return
        self.misses += 1
        if self.misses >= self.backoff_after:
            self.misses, self.backoff_left = 0, self.backoff_packets


async def outbound(sa, ip) -> bytes:
    """Compress ``ip``'s payload when worth it; the packet (unchanged when
    sent uncompressed). Raises Drop only if the SA is closed meanwhile."""
    payload, counters, policy = ip.payload, sa.counters, sa.compressor
    if ip.is_fragment or ip.protocol == PROTO_IPCOMP:
        return ip.packet                    # never compress fragments or IPComp payloads (RFC 3173 3)
    limit = len(payload) - IPCOMP_HEADER - 1      # the longest stream that still makes the packet smaller
    if len(payload) < policy.threshold or limit < 1:
        counters.count("compTooSmall")
        return ip.packet
    if policy.skip():
        counters.count("nonExpansionBackoff")
        return ip.packet
    counters.count("compressionStart")
    try:
        stream = await sa.card(sa.device.compress(payload, channel=sa.channel("comp", "outbound"), limit=limit))
    except CardFailure as failure:
        sa.still_valid("comp_out.compDoneSaBadState")
        if failure.status is ResultStatus.OUTPUT_OVERFLOW:
            counters.count("dataExpansion")
            policy.result(False)
        else:
            counters.count("compressionFailImm" if failure.immediate else "compressionFail")
        return ip.packet
    sa.still_valid("comp_out.compDoneSaBadState")
    counters.count("compressionGood")
    if IPCOMP_HEADER + len(stream) >= len(payload):
        counters.count("dataExpansion")
        policy.result(False)
        return ip.packet
    policy.result(True)
    try:
        return ip.rebuild(PROTO_IPCOMP, struct.pack("!BBH", ip.protocol, 0, sa.outbound_spi) + bytes(stream))
    except PacketTooBig:                    # cannot happen: the packet got smaller
        return ip.packet


async def inbound(sa, ip) -> bytes:
    """Decompress ``ip``'s IPComp payload; the packet behind the header. Raises Drop."""
    data, counters = ip.payload, sa.counters
    if len(data) <= IPCOMP_HEADER:
        counters.count("decompressionFailImm")
        raise Drop(DropReason.MALFORMED, f"an IPComp payload of {len(data)} bytes; expected the "
                   f"{IPCOMP_HEADER}-byte header and a compressed payload")
    next_header, _, cpi = struct.unpack_from("!BBH", data)
    if cpi != sa.inbound_spi:
        raise Drop(DropReason.UNKNOWN_SPI, f"CPI {cpi} reached {sa!r}; expected {sa.inbound_spi}")
    if next_header == PROTO_IPCOMP:
        counters.count("decompressionFailImm")
        raise Drop(DropReason.MALFORMED, "IPComp inside IPComp; RFC 3173 forbids compressing twice")
    limit = MAX_IPV4_LENGTH - (len(ip.header) if ip.version == 4 else len(ip.header) - IPV6_HEADER)
    counters.count("decompressionStart")
    try:
        payload = await sa.card(sa.device.decompress(data[IPCOMP_HEADER:], channel=sa.channel("comp", "inbound"),
                                                     limit=limit))
    except CardFailure as failure:
        counters.count("decompressionFailImm" if failure.immediate else "decompressionFail")
        reason = DropReason.DECOMPRESSION_FAILED if failure.status in _STREAM_ERRORS else DropReason.CARD_ERROR
        raise Drop(reason, f"DECOMPRESS job, CPI {cpi}: {failure}", immediate=failure.immediate) from failure
    sa.still_valid("comp_in.decompDoneSaBadState")
    counters.count("decompressionGood")
    return rebuild(ip, next_header, bytes(payload))
