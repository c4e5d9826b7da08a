# Ref: ANSI X3.241-1994, RFC 2395; hdl/engines/lzs_compress.py, hdl/engines/lzs_decompress.py
"""Python models of the card's LZS engines, for the behavioural card model
and the engine tests.

- :func:`hardware_compress` is what :class:`~pacsim.hdl.engines.lzs_compress.LzsCompressor`
  emits, bit for bit (``tests/test_engine_lzs.py`` holds the two against each
  other): a greedy encoder with *one candidate per position* from two hash
  tables, not the longest-match search of :func:`pacsim.reference.lzs.compress`.
  Both streams are valid LZS and decode to the same packet; only this one is
  what the card writes.
- Decompression needs no model of its own: the
  :class:`~pacsim.hdl.engines.lzs_decompress.LzsDecompressor` outputs exactly
  what :func:`pacsim.reference.lzs.decompress` returns, and on a malformed stream
  exactly the ``output`` of the :class:`~pacsim.reference.lzs.LzsError` it raises.
- :func:`compress_clocks` and :func:`decompress_clocks` estimate the engines'
  clocks for the model's timing (the documented throughput of each engine,
  not a cycle-accurate count).
"""
import inspect

from ..hdl.engines.lzs_compress import LzsCompressor, pair_hash_value, triple_hash_value
from ..hdl.engines.lzs_decompress import LzsDecompressor
from ..reference.lzs import END_MARKER, WINDOW, BitReader, BitWriter, LzsError, length_code, offset_code

__all__ = ["HASH_BITS", "hardware_compress", "compress_clocks", "decompress_clocks"]

#: ``hash_bits`` of the card's compressor (the :class:`LzsCompressor` default).
HASH_BITS = inspect.signature(LzsCompressor).parameters["hash_bits"].default
#: Clocks from ``start`` to ``done`` beyond one per byte (the compressor's doc: 7 to 9 measured).
COMPRESS_OVERHEAD_CLOCKS = 8
#: Clocks from ``start`` to ``done`` beyond the tokens' own. Both overheads are held against the
#: engines at full rate by ``tests/test_engine_lzs.py`` (within 4 clocks).
DECOMPRESS_OVERHEAD_CLOCKS = 5


def hardware_compress(data: bytes, hash_bits: int = HASH_BITS) -> bytes:
    """The LZS stream :class:`LzsCompressor` (with ``hash_bits``) emits for
    the packet ``data``, end marker and zero padding to a byte included.

    At each token start p there is one candidate: the most recent earlier
    position with the same hash of the 3 bytes at p (if it holds the same
    bytes and lies within the window), else that of the 2 bytes at p; the
    match then runs as long as the bytes agree (to the end of the packet at
    most), or p is a literal. Every position is entered in both tables as it
    is passed, so a table entry is the most recent position of its hash."""
    data = bytes(data)
    n = len(data)
    pairs, triples = {}, {}
    out = BitWriter()

    def candidate(table, index, size):
        q = table.get(index)
        if q is not None and data[q:q + size] == data[p:p + size] and p - q <= WINDOW:
            return p - q
        return None

    p = 0
    while p < n:
        offset = None
        if p + 2 < n:
            offset = candidate(triples, triple_hash_value(*data[p:p + 3], hash_bits), 3)
        if offset is None and p + 1 < n:
            offset = candidate(pairs, pair_hash_value(*data[p:p + 2], hash_bits), 2)
        if offset is None:
            out.write(data[p], 9)
            length = 1
        else:
            length = 2
            while p + length < n and data[p + length - offset] == data[p + length]:
                length += 1
            out.write(1, 1)
            out.write(*offset_code(offset))
            out.write(*length_code(length))
        for q in range(p, p + length):
            if q + 1 < n:
                pairs[pair_hash_value(*data[q:q + 2], hash_bits)] = q
            if q + 2 < n:
                triples[triple_hash_value(*data[q:q + 3], hash_bits)] = q
        p += length
    out.write(*END_MARKER)
    return out.getvalue()


def compress_clocks(length: int) -> int:
    """Estimated compressor clocks for a packet of ``length`` bytes:
    ``LzsCompressor.clocks_per_byte`` per byte plus a fixed overhead (the
    occasional table wipe, :attr:`LzsCompressor.wipe_clocks`, is ignored)."""
    return LzsCompressor.clocks_per_byte * length + COMPRESS_OVERHEAD_CLOCKS


def decompress_clocks(stream: bytes) -> int:
    """Estimated decompressor clocks for ``stream``, from its tokens up to the
    end marker or the first malformed field: a literal
    ``LzsDecompressor.clocks_per_literal`` (1); a match its length plus
    ``LzsDecompressor.match_overhead`` (2) plus one per length nibble after
    ``1111`` (lengths 8..22 one, each further 15 one more); plus a fixed
    overhead. The output limit is not considered (an overflowing stream is
    charged as if it were decoded to its end)."""
    bits = BitReader(stream)
    clocks, produced = DECOMPRESS_OVERHEAD_CLOCKS, 0
    try:
        while True:
            if bits.read(1, "token type bit") == 0:
                bits.read(8, "literal")
                produced += 1
                clocks += LzsDecompressor.clocks_per_literal
                continue
            if bits.read(1, "offset form bit"):
                offset = bits.read(7, "7-bit offset")
                if offset == 0:                     # the end marker
                    return clocks
            else:
                offset = bits.read(11, "11-bit offset")
            if not 1 <= offset <= produced:         # the decompressor stops: STREAM_BAD_OFFSET
                return clocks
            clocks += LzsDecompressor.match_overhead
            code = bits.read(2, "length field")
            if code != 0b11:
                length = 2 + code
            elif (code := bits.read(2, "length field")) != 0b11:
                length = 5 + code
            else:
                length = 8
                while (nibble := bits.read(4, "length nibble")) == 0b1111:
                    length += 15
                    clocks += 1
                length += nibble
                clocks += 1
            produced += length
            clocks += length
    except LzsError:
        return clocks
