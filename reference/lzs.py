# Ref: ANSI X3.241-1994, RFC 2395
"""LZS (Lempel-Ziv-Stac) compression: the software reference of the card's
LZS engines, stateless per packet as IPComp uses it (RFC 2395: the history
is cleared for every datagram).

Bitstream: tokens packed most significant bit first into bytes (the first
bit of the stream is bit 7 of byte 0).

============================= ===========================================
bits                          meaning
============================= ===========================================
``0 bbbbbbbb``                literal byte ``b``
``1 1 ooooooo`` *length*      match, offset 1..127 (7-bit form)
``1 0 ooooooooooo`` *length*  match, offset 1..2047 (11-bit form; may
                              also carry offsets below 128; offset 0 is
                              invalid)
``1 1 0000000``               end marker (the 7-bit form with offset 0),
                              then ``0`` bits up to the next byte
                              boundary
============================= ===========================================

*length* (bytes copied):

=================================== =====================================
bits                                length
=================================== =====================================
``00`` / ``01`` / ``10``            2 / 3 / 4
``1100`` / ``1101`` / ``1110``      5 / 6 / 7
``1111`` then nibbles               8 + 15 * k + N: k nibbles ``1111``
                                    (each adds 15), then one nibble N in
                                    0..14 that ends the field (8 =
                                    ``1111 0000``, 22 = ``1111 1110``, 23 =
                                    ``1111 1111 0000``)
=================================== =====================================

The offset counts back from the current output position (offset 1 = the
previous byte); a match may overlap the bytes it produces (offset 1, length
10 repeats the previous byte ten times). The window is the last 2047 bytes.

:func:`compress` is a greedy longest match over the whole window (ties go
to the smallest offset, shortest match 2 bytes); :func:`decompress` checks
everything and raises an :class:`LzsError` subclass on a malformed stream.
Bits after the end marker (up to the byte boundary) and bytes after the
end-marker byte are ignored.
"""

__all__ = [
    "END_MARKER",
    "WINDOW",
    "BitReader",
    "BitWriter",
    "LzsBadOffset",
    "LzsError",
    "LzsOverflow",
    "LzsTruncated",
    "compress",
    "decompress",
    "length_code",
    "offset_code",
]

#: Largest offset (bytes back).
WINDOW = 2047
#: Largest offset of the 7-bit form.
SHORT_OFFSET_MAX = 127
#: The end marker, as (value, bit count).
END_MARKER = (0b110000000, 9)


class LzsError(Exception):
    """A malformed LZS stream.

    Attributes
    ----------
    bit : int
        Bit position (from the first bit of the stream) of the field that was
        wrong or missing.
    output : bytes
        What had been decoded before the faulty token.
    """

    def __init__(self, message: str, *, bit: int, output: bytes):
        super().__init__(message)
        self.bit = bit
        self.output = bytes(output)


class LzsBadOffset(LzsError):
    """A match offset of 0 in the 11-bit form, or larger than the bytes decoded so far."""


class LzsTruncated(LzsError):
    """The stream ends before its end marker (in the middle of a token or between tokens)."""


class LzsOverflow(LzsError):
    """A literal or match would make the output longer than the allowed limit."""


# --- bits ---------------------------------------------------------------------

class BitWriter:
    """Collects bit fields most significant bit first; :meth:`getvalue` pads
    with ``0`` bits to a byte boundary."""

    def __init__(self):
        self._value = 0
        self.bits = 0

    def write(self, value: int, count: int) -> None:
        """Append the ``count`` low bits of ``value``, most significant first."""
        if value < 0 or value >> count:
            raise ValueError(f"{value} does not fit {count} bits")
        self._value = (self._value << count) | value
        self.bits += count

    def getvalue(self) -> bytes:
        pad = -self.bits % 8
        return (self._value << pad).to_bytes((self.bits + pad) // 8, "big")


class BitReader:
    """Reads bit fields most significant bit first from ``data``.

    :meth:`read` raises :class:`LzsTruncated` (with ``output``) when the
    field runs past the last bit; ``output`` is the bytearray the decoder
    fills, so the exception carries what was decoded.
    """

    def __init__(self, data: bytes, output=b""):
        self._data = bytes(data)
        self.total = 8 * len(self._data)
        self.position = 0
        self._output = output

    def read(self, count: int, what: str) -> int:
        """The next ``count`` (1..16) bits as an unsigned number."""
        start = self.position
        if start + count > self.total:
            raise LzsTruncated(
                f"stream ends inside the {what} at bit {start}: {count} bits needed, "
                f"{self.total - start} left of {self.total}", bit=start, output=self._output)
        index = start >> 3
        window = int.from_bytes(self._data[index:index + 3].ljust(3, b"\0"), "big")
        self.position = start + count
        return (window >> (24 - (start & 7) - count)) & ((1 << count) - 1)


# --- codes --------------------------------------------------------------------

def offset_code(offset: int):
    """``(value, bits)`` of the offset field with its form bit (the 7-bit
    form below 128)."""
    if not 1 <= offset <= WINDOW:
        raise ValueError(f"offset {offset} outside 1..{WINDOW}")
    if offset <= SHORT_OFFSET_MAX:
        return (1 << 7) | offset, 8
    return offset, 12


def length_code(length: int):
    """``(value, bits)`` of the length field for a match of ``length`` >= 2 bytes."""
    if length < 2:
        raise ValueError(f"match length {length} below 2")
    if length <= 4:
        return length - 2, 2
    if length <= 7:
        return 0b1100 + length - 5, 4
    k, n = divmod(length - 8, 15)
    value = 0b1111
    for _ in range(k):
        value = (value << 4) | 0b1111
    return (value << 4) | n, 8 + 4 * k


# --- compression ----------------------------------------------------------------

def compress(data: bytes) -> bytes:
    """Compress ``data`` (one packet, empty history) into an LZS stream with
    its end marker and padding.

    Greedy: at every position the longest match within the last
    :data:`WINDOW` bytes is taken (ties: the smallest offset), a literal when
    no match of at least 2 bytes exists. Candidates come from a chain of
    earlier positions per 3-byte prefix, newest first; a 2-byte match uses
    the most recent position of its byte pair.
    """
    data = bytes(data)
    n = len(data)
    out = BitWriter()
    last_pair = {}          # 2-byte prefix -> most recent position
    chains = {}             # 3-byte prefix -> positions, oldest first

    def insert(q):
        if q + 1 < n:
            last_pair[data[q:q + 2]] = q
        if q + 2 < n:
            chains.setdefault(data[q:q + 3], []).append(q)

    p = 0
    while p < n:
        remaining = n - p
        best, best_offset = 0, 0
        if remaining >= 3:
            chain = chains.get(data[p:p + 3], ())
            for index in range(len(chain) - 1, -1, -1):
                c = chain[index]
                if p - c > WINDOW:
                    break
                if best >= 3 and (best >= remaining or data[c + best] != data[p + best]):
                    continue
                length = 3
                while length < remaining and data[c + length] == data[p + length]:
                    length += 1
                if length > best:
                    best, best_offset = length, p - c
                    if best == remaining:
                        break
        if best < 2 and remaining >= 2:
            c = last_pair.get(data[p:p + 2])
            if c is not None and p - c <= WINDOW:
                best, best_offset = 2, p - c
        if best >= 2:
            out.write(1, 1)
            out.write(*offset_code(best_offset))
            out.write(*length_code(best))
            for q in range(p, p + best):
                insert(q)
            p += best
        else:
            out.write(data[p], 9)
            insert(p)
            p += 1
    out.write(*END_MARKER)
    return out.getvalue()


# --- decompression ----------------------------------------------------------------

def decompress(stream: bytes, limit: int) -> bytes:
    """Decode one LZS ``stream`` (empty history) of at most ``limit`` output bytes.

    Raises
    ------
    LzsBadOffset
        an 11-bit offset of 0, or an offset beyond the bytes decoded so far
        (checked when the offset field has been read, before the length).
    LzsTruncated
        the stream ends before the end marker.
    LzsOverflow
        a literal, or a match once its whole length field is read, would take
        the output past ``limit``; nothing of that token is output.
    """
    out = bytearray()
    bits = BitReader(stream, out)
    while True:
        token = bits.position
        if bits.read(1, "token type bit") == 0:
            value = bits.read(8, "literal")
            if len(out) >= limit:
                raise LzsOverflow(f"literal at bit {token} would be output byte {len(out) + 1}, "
                                  f"over the limit of {limit} bytes", bit=token, output=out)
            out.append(value)
            continue
        field = bits.position
        if bits.read(1, "offset form bit"):
            offset = bits.read(7, "7-bit offset")
            if offset == 0:
                return bytes(out)
        else:
            offset = bits.read(11, "11-bit offset")
            if offset == 0:
                raise LzsBadOffset(f"11-bit offset 0 at bit {field} (offsets are 1..{WINDOW})",
                                   bit=field, output=out)
        if offset > len(out):
            raise LzsBadOffset(f"offset {offset} at bit {field} reaches before the start of the "
                               f"output: only {len(out)} bytes decoded", bit=field, output=out)
        length = _read_length(bits)
        if len(out) + length > limit:
            raise LzsOverflow(f"match of {length} bytes at bit {token} would make "
                              f"{len(out) + length} output bytes, over the limit of {limit}",
                              bit=token, output=out)
        start = len(out) - offset
        if offset >= length:
            out += out[start:start + length]
        else:
            for k in range(length):
                out.append(out[start + k])


def _read_length(bits: BitReader) -> int:
    code = bits.read(2, "length field")
    if code != 0b11:
        return 2 + code
    code = bits.read(2, "length field")
    if code != 0b11:
        return 5 + code
    length = 8
    while True:
        nibble = bits.read(4, "length nibble")
        if nibble != 0b1111:
            return length + nibble
        length += 15
