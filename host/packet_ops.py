# Ref: docs/rings.md "Jobs"
# Ref: RFC 2406 section 2 (ESP), RFC 1974 and RFC 2395 (LZS, IPComp)
"""One-job conveniences: a copy, and one packet through ENCODE, DECODE,
HASH, COMPRESS or DECOMPRESS by temporary host buffers.

:class:`PacketOps` is the part of :class:`~.device.PacDevice` that holds
these; each call is one job on the rings (:class:`~.job_queue.JobQueue`).
A job's temporary buffers stay its own until its result is collected or the
card is reset, also when the call gives up waiting (:class:`CardTimeout`).
Lengths and limits are bytes, times PCI clocks.
"""
from dataclasses import dataclass

from ..contract.codes import Opcode, ResultStatus
from ..contract.layouts import SEG
from .channels import Channel
from .arguments import buffer_or_address, byte_string, integer, timeout
from .errors import InvalidArgument, JobFailed
from .jobs import Job

__all__ = ["PacketOps", "CopyResult", "lzs_bound"]

#: Statuses after which output past a caller's byte limit (in the dword
#: rounding of the destination) is the driver's OUTPUT_OVERFLOW: the
#: decoder met it before the end of the stream or its error.
_LIMITED_STATUSES = (ResultStatus.OK, ResultStatus.STREAM_TRUNCATED, ResultStatus.STREAM_BAD_OFFSET)


def lzs_bound(length: int) -> int:
    """The longest LZS stream of a ``length``-byte packet: every byte a
    9-bit literal, then the 9-bit end marker, padded to a byte."""
    return (9 * length + 9 + 7) // 8


@dataclass(frozen=True)
class CopyResult:
    """Outcome of a completed copy: ``bytes`` copied and the PCI ``clocks`` it
    took, from writing the descriptors to collecting the result."""
    bytes: int
    clocks: int


def _arguments(call: str, data_name: str, data, skip, timeout_clocks, *, required=(), **channels) -> tuple:
    """``(data as bytes, skip)`` of the one-job call ``call``, after checking
    its ``timeout_clocks`` and ``channels`` (``{argument: a Channel or None}``;
    those named in ``required`` may not be None)."""
    for name, value in channels.items():
        if value is None and name not in required:
            continue
        if not isinstance(value, Channel):
            raise InvalidArgument(f"{call} {name} {value!r}: expected a Channel from an open_*_channel call"
                                  + ("" if name in required else " or None"))
    timeout(timeout_clocks, f"{call} timeout_clocks")
    return byte_string(data, f"{call} {data_name}"), integer(skip, f"{call} skip")


class PacketOps:
    """One job through temporary buffers (a part of :class:`~.device.PacDevice`)."""

    async def copy(self, src, dst, length: int, *, timeout_clocks: int | None = None) -> CopyResult:
        """Copy ``length`` bytes of host memory from ``src`` to ``dst`` as one COPY job.

        ``src``/``dst`` are :class:`DmaBuffer` objects (copied from/to their
        start) or bus byte addresses. Returns a :class:`CopyResult`; raises
        :class:`JobFailed` with the card's status (segment refused, bad
        length, master/target abort, ...), :class:`CardTimeout` if no result
        is signalled in time, and :class:`InvalidArgument` for what the card
        cannot see (a buffer shorter than ``length``, a value that does not
        fit its field).
        """
        length = integer(length, "copy length")
        source = (buffer_or_address(src, length, "source"), length)
        destination = (buffer_or_address(dst, length, "destination"), length)
        start = self.bus.clocks()
        (result,) = await self.run([Job(Opcode.COPY, source, destination)], timeout_clocks)
        result.check()
        return CopyResult(bytes=result.bytes, clocks=self.bus.clocks() - start)

    async def encode(self, packet: bytes, *, skip: int = 0, cipher: Channel | None = None,
                     mac: Channel | None = None, comp: Channel | None = None,
                     timeout_clocks: int | None = None) -> bytes:
        """ENCODE one packet (bytes) through temporary host buffers; returns
        header + ciphertext + ICV. With ``comp`` (an ENCODE compression
        channel) the job is chained: the payload (any byte length) is
        LZS-compressed and zero-padded to the cipher block (4 bytes without
        a cipher) before it is encrypted and MACed. Raises :class:`JobFailed`
        unless OK."""
        packet, skip = _arguments("encode", "packet", packet, skip, timeout_clocks, cipher=cipher, mac=mac, comp=comp)
        icv = mac.icv_bytes if mac is not None else 0
        if comp is None:
            return await self._packet(Opcode.ENCODE, packet, len(packet) + icv, skip, cipher, mac, timeout_clocks)
        block = cipher.block_bytes if cipher is not None else 4
        output = skip + -(-lzs_bound(len(packet) - skip) // block) * block + icv
        return await self._packet(Opcode.ENCODE, packet, output, skip, cipher, mac, timeout_clocks, comp=comp)

    async def decode(self, packet: bytes, *, skip: int = 0, cipher: Channel | None = None,
                     mac: Channel | None = None, comp: Channel | None = None, limit: int | None = None,
                     timeout_clocks: int | None = None) -> bytes:
        """DECODE one packet (bytes, ICV at its end); returns header +
        plaintext. With ``comp`` (a DECODE compression channel) the job is
        chained: the decrypted payload is LZS-decompressed into at most
        ``limit`` bytes (header included; default 65536). Raises
        :class:`JobFailed` unless OK (MAC_MISMATCH: the output is dropped)."""
        packet, skip = _arguments("decode", "packet", packet, skip, timeout_clocks, cipher=cipher, mac=mac, comp=comp)
        if comp is None:
            output = len(packet) - (mac.icv_bytes if mac is not None else 0)
            return await self._packet(Opcode.DECODE, packet, output, skip, cipher, mac, timeout_clocks)
        limit = self._byte_limit(65536 if limit is None else limit, "decode limit")
        return await self._packet(Opcode.DECODE, packet, -(-limit // 4) * 4, skip, cipher, mac, timeout_clocks,
                                  comp=comp, limit=limit)

    async def hash(self, message: bytes, *, mac: Channel, timeout_clocks: int | None = None) -> bytes:
        """HASH one message of any length (bytes) with an ENCODE MAC channel:
        returns its ICV (a SHA1/MD5 channel: the digest; HMAC: the MAC, e.g.
        an IKE prf). Raises :class:`JobFailed` unless OK."""
        message, _ = _arguments("hash", "message", message, 0, timeout_clocks, required=("mac",), mac=mac)
        return await self._packet(Opcode.HASH, message, mac.icv_bytes, 0, None, mac, timeout_clocks)

    async def compress(self, data: bytes, *, channel: Channel, limit: int | None = None,
                       timeout_clocks: int | None = None) -> bytes:
        """COMPRESS one packet (bytes, any length from 0) with an ENCODE
        compression channel; returns the card's LZS stream (end marker and
        padding to a byte included, history empty per packet as IPComp uses
        it, RFC 2395). ``limit``: the longest stream wanted (default
        :func:`lzs_bound`, which always fits).

        Raises :class:`JobFailed` with ``OUTPUT_OVERFLOW`` when the stream
        is longer than ``limit``: the packet is not compressible into it
        (IPComp sends it uncompressed), and other statuses as the card
        reports them. The card's destination is ``limit`` rounded up to
        whole dwords; a stream in the rounding is refused by the driver with
        the same status.
        """
        data, _ = _arguments("compress", "data", data, 0, timeout_clocks, required=("channel",), channel=channel)
        limit = lzs_bound(len(data)) if limit is None else self._byte_limit(limit, "compress limit")
        return await self._lzs(Opcode.COMPRESS, data, limit, channel, timeout_clocks)

    async def decompress(self, stream: bytes, *, channel: Channel, limit: int,
                         timeout_clocks: int | None = None) -> bytes:
        """DECOMPRESS one LZS stream (bytes, any length) with a DECODE
        compression channel into at most ``limit`` bytes; returns the packet.

        Raises :class:`JobFailed` with ``STREAM_BAD_OFFSET`` or
        ``STREAM_TRUNCATED`` for a malformed stream and ``OUTPUT_OVERFLOW``
        when the packet is longer than ``limit`` (``bytes``: what the card
        wrote before it stopped). The card's destination is ``limit``
        rounded up to whole dwords; a packet in the rounding is refused by
        the driver with ``OUTPUT_OVERFLOW``, also when the card then found
        the stream malformed (the reference decoder stops at the limit
        first).
        """
        stream, _ = _arguments("decompress", "stream", stream, 0, timeout_clocks, required=("channel",),
                               channel=channel)
        limit = self._byte_limit(limit, "decompress limit")
        return await self._lzs(Opcode.DECOMPRESS, stream, limit, channel, timeout_clocks)

    @staticmethod
    def _byte_limit(limit, what: str) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit < 1 << SEG.CONTROL.length.width:
            raise InvalidArgument(f"{what} {limit!r}: expected a byte count from 0 to "
                                  f"{(1 << SEG.CONTROL.length.width) - 1}")
        return limit

    async def _lzs(self, opcode: Opcode, data: bytes, limit: int, channel, timeout_clocks) -> bytes:
        return await self._packet(opcode, data, -(-limit // 4) * 4, 0, None, None, timeout_clocks, comp=channel,
                                  limit=limit)

    async def _packet(self, opcode, packet, output, skip, cipher, mac, timeout_clocks, *, comp=None,
                      limit: int | None = None) -> bytes:
        """One job through temporary buffers: ``packet`` in, at most ``output``
        bytes out (``limit``: fewer bytes the caller accepts, a longer
        output is OUTPUT_OVERFLOW)."""
        padded = -(-len(packet) // 4) * 4                 # segments hold whole dwords
        source = self.bus.alloc(max(padded, 4))
        destination = self.bus.alloc(max(output, 4))
        job = None
        try:
            self.bus.host_write(source.address, bytes(packet))
            job = Job(opcode, (source.address, max(padded, 4)), (destination.address, max(output, 4 if comp else 0)),
                      length=len(packet), skip=skip, cipher=cipher, mac=mac, comp=comp)
            (result,) = await self.run([job], timeout_clocks)
            if limit is not None and result.bytes > limit and result.status in _LIMITED_STATUSES:
                raise JobFailed(ResultStatus.OUTPUT_OVERFLOW, job=job, bytes=result.bytes)
            result.check()
            return self.bus.host_read(destination.address, result.bytes)
        finally:
            self._give_back(job, source, destination)
