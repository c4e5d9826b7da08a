"""The LZS software reference (``pacsim.reference.lzs``).

Decoding is checked against streams written by hand from the bitstream
definition (ANSI X3.241 / RFC 1974 section 2.2, as RFC 2395 uses it), never
against :func:`compress`; :func:`compress` is then checked by round trips and
by a few hand-derived encodings. Malformed streams (crafted, random,
mutated) must give an :class:`LzsError` subclass or a decode, nothing else,
and never more than the limit.

The helpers here (:func:`bitstream`, :func:`corpus`, :data:`HAND_STREAMS`,
:func:`malformed_streams`) are shared with ``test_engine_lzs``.
"""
import random
import zlib

import pytest
from pacsim.reference.lzs import (LzsBadOffset, LzsError, LzsOverflow, LzsTruncated, compress, decompress, length_code,
                                  offset_code)
from pacsim.sim.lzs_corpus import KINDS, corpus

# --- shared helpers -----------------------------------------------------------

def bitstream(bits: str, pad: str = "0") -> bytes:
    """Bytes of a bit string written MSB first (spaces ignored), padded with
    ``pad`` bits (``"0"`` by default, repeated) to a byte boundary."""
    bits = bits.replace(" ", "")
    bits += (pad * 8)[:-len(bits) % 8]
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def literal_bits(text: bytes) -> str:
    return " ".join(f"0 {byte:08b}" for byte in text)


END = "1 1 0000000"

#: Length fields written from the definition (not by :func:`length_code`).
HAND_LENGTHS = {
    2: "00", 3: "01", 4: "10", 5: "1100", 6: "1101", 7: "1110",
    8: "1111 0000", 9: "1111 0001", 21: "1111 1101", 22: "1111 1110",
    23: "1111 1111 0000", 24: "1111 1111 0001", 37: "1111 1111 1110",
    38: "1111 1111 1111 0000", 53: "1111 1111 1111 1111 0000",
}


def copy(out: bytearray, offset: int, length: int) -> None:
    """Append a match byte by byte (the definition of an overlapping copy)."""
    for _ in range(length):
        out.append(out[-offset])


def _hand_streams():
    cases = {
        "empty packet": (END, b""),
        "literals": (f"{literal_bits(b'AB')} {END}", b"AB"),
        "7-bit offset": (f"{literal_bits(b'AB')} 1 1 0000010 00 {END}", b"ABAB"),
        "11-bit form of a small offset": (f"{literal_bits(b'AB')} 1 0 00000000010 01 {END}", b"ABABA"),
        "run, offset 1 length 10": (f"0 01111010 1 1 0000001 1111 0010 {END}", b"z" * 11),
        "end marker on a byte boundary, no padding": (f"{literal_bits(b'ABCDEFG')} {END}", b"ABCDEFG"),
    }
    prefix = bytes(range(32, 32 + 130))
    out = bytearray(prefix)
    copy(out, 130, 3)
    cases["11-bit offset 130"] = (f"{literal_bits(prefix)} 1 0 00010000010 01 {END}", bytes(out))
    out = bytearray(prefix[:127])
    copy(out, 127, 4)
    cases["7-bit offset 127"] = (f"{literal_bits(prefix[:127])} 1 1 1111111 10 {END}", bytes(out))
    for length, code in HAND_LENGTHS.items():
        out = bytearray(b"abc")
        copy(out, 3, length)
        cases[f"length {length}"] = (f"{literal_bits(b'abc')} 1 1 0000011 {code} {END}", bytes(out))
    # two matches back to back, then a literal
    out = bytearray(b"xy")
    copy(out, 2, 8)
    copy(out, 1, 3)
    out += b"!"
    cases["match, match, literal"] = (
        f"{literal_bits(b'xy')} 1 1 0000010 {HAND_LENGTHS[8]} 1 1 0000001 01 {literal_bits(b'!')} {END}",
        bytes(out))
    return {name: (bitstream(bits), expected) for name, (bits, expected) in cases.items()}


#: ``{name: (stream, expected output)}`` written by hand.
HAND_STREAMS = _hand_streams()




def mutate(rng: random.Random, stream: bytes) -> bytes:
    """One random corruption: bit flips, a truncation, a byte inserted or
    removed, or a span of random bytes."""
    data = bytearray(stream)
    how = rng.randrange(5)
    if how == 0 and data:
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(8 * len(data))
            data[k // 8] ^= 0x80 >> (k % 8)
    elif how == 1:
        del data[rng.randrange(len(data) + 1):]
    elif how == 2:
        data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
    elif how == 3 and data:
        del data[rng.randrange(len(data))]
    else:
        k = rng.randrange(len(data) + 1)
        data[k:k + 4] = rng.randbytes(rng.randint(1, 4))
    return bytes(data)


def malformed_streams(rng: random.Random, count: int, max_size: int = 300):
    """``[(stream, limit)]``: mutated compressed packets and random bytes, with
    limits around the packet size (sometimes smaller)."""
    out = []
    for n in range(count):
        size = rng.randint(0, max_size)
        packet = corpus(rng, KINDS[n % len(KINDS)], size)
        if n % 5 == 4:
            stream = rng.randbytes(rng.randint(0, 40))
        else:
            stream = compress(packet)
            for _ in range(rng.randint(1, 2)):
                stream = mutate(rng, stream)
        limit = rng.choice((size, size + 50, max(0, size - rng.randint(1, 20)), rng.randint(0, 20)))
        out.append((stream, limit))
    return out


def outcome(stream: bytes, limit: int):
    """``(error class or None, output)`` of the reference."""
    try:
        return None, decompress(stream, limit)
    except LzsError as error:
        return type(error), error.output


# --- decoding hand-written streams ----------------------------------------------

@pytest.mark.parametrize("name", list(HAND_STREAMS))
def test_hand_written_streams(name):
    stream, expected = HAND_STREAMS[name]
    assert decompress(stream, len(expected)) == expected
    assert decompress(stream + b"\xff\x00junk", len(expected) + 100) == expected


def test_bits_after_the_end_marker_are_ignored():
    # 9 + 9 bits: the 6 padding bits may be anything
    for pad in ("0", "1", "10"):
        stream = bitstream(f"0 01000001 {END}", pad)
        assert decompress(stream, 1) == b"A"
    assert bitstream(f"0 01000001 {END}", "1")[-1] == 0b00111111
    assert len(HAND_STREAMS["end marker on a byte boundary, no padding"][0]) == 9


def test_codes_match_the_definition():
    for length, bits in HAND_LENGTHS.items():
        bits = bits.replace(" ", "")
        assert length_code(length) == (int(bits, 2), len(bits)), length
    assert offset_code(1) == (0b10000001, 8)
    assert offset_code(127) == (0b11111111, 8)
    assert offset_code(128) == (0b000010000000, 12)
    assert offset_code(2047) == (0b011111111111, 12)
    for bad in (0, 2048):
        with pytest.raises(ValueError):
            offset_code(bad)


def test_compress_hand_derived_encodings():
    assert compress(b"") == bitstream(END)
    assert compress(b"A") == bitstream(f"0 01000001 {END}")
    assert compress(b"ABAB") == bitstream(f"{literal_bits(b'AB')} 1 1 0000010 00 {END}")
    # a run: one literal then offset 1, length 10
    assert compress(b"z" * 11) == bitstream(f"0 01111010 1 1 0000001 1111 0010 {END}")
    # equally long candidates at offsets 7 and 3: the smaller offset wins
    assert compress(b"abcXabcabc") == bitstream(
        f"{literal_bits(b'abcX')} 1 1 0000100 01 1 1 0000011 01 {END}")
    # the longer match wins over a nearer shorter one
    assert compress(b"abcdeYabcZabcde") == bitstream(
        f"{literal_bits(b'abcdeY')} 1 1 0000110 01 0 01011010 1 1 0001010 1100 {END}")


def test_window_limit():
    """A repeat exactly 2047 bytes back is a match; 2048 bytes back it is not."""
    rng = random.Random(1)
    head = rng.randbytes(12)
    for gap, reachable in ((2047 - 12, True), (2048 - 12, False)):
        filler = rng.randbytes(gap)
        base = len(compress(head + filler))
        data = head + filler + head
        stream = compress(data)
        assert decompress(stream, len(data)) == data
        grown = len(stream) - base          # ~3 bytes for one match, ~13 for 12 literals
        assert (grown <= 4) if reachable else (grown >= 9), (gap, grown)


# --- round trips -------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_corpora(kind):
    rng = random.Random(kind)
    sizes = list(range(1, 65)) + [rng.randint(65, 1500) for _ in range(40)] + [1499, 1500]
    for size in sizes:
        data = corpus(rng, kind, size)
        stream = compress(data)
        assert decompress(stream, len(data)) == data, (kind, size)
        assert len(stream) <= (9 * len(data) + 9 + 7) // 8
        with pytest.raises(LzsOverflow):
            decompress(stream, len(data) - 1)


def test_ratio_sanity():
    rng = random.Random(2)
    ratios = {}
    for kind in KINDS:
        data = b"".join(corpus(rng, kind, 1500) for _ in range(4))
        lzs_bytes = sum(len(compress(data[k:k + 1500])) for k in range(0, len(data), 1500))
        zlib_bytes = sum(len(zlib.compress(data[k:k + 1500], 9)) for k in range(0, len(data), 1500))
        ratios[kind] = (round(lzs_bytes / len(data), 3), round(zlib_bytes / len(data), 3))
    print("LZS vs zlib -9 output/input per 1500-byte packet:", ratios)
    assert ratios["zeros"][0] < 0.05
    assert ratios["random"][0] <= 9 / 8 + 0.01
    assert ratios["text"][0] < 0.7 and ratios["html"][0] < 0.5


# --- errors ---------------------------------------------------------------------------

def test_bad_offsets():
    with pytest.raises(LzsBadOffset, match="bit 1") as info:
        decompress(bitstream(f"1 0 00000000000 00 {END}"), 100)
    assert info.value.output == b""
    with pytest.raises(LzsBadOffset, match="offset 2 at bit 10") as info:
        decompress(bitstream(f"0 01000001 1 1 0000010 00 {END}"), 100)
    assert info.value.bit == 10 and info.value.output == b"A"
    with pytest.raises(LzsBadOffset, match="offset 3 at bit 19"):
        decompress(bitstream(f"{literal_bits(b'AB')} 1 0 00000000011 00 {END}"), 100)
    # the offset is checked before the length is read
    with pytest.raises(LzsBadOffset):
        decompress(bitstream("0 01000001 1 1 0000101"), 100)


def test_truncated():
    lit = literal_bits(b"ABCDEFGH")        # 8 literals, 72 bits
    for name, bits, at in (
            ("empty stream", "", 0),
            ("no end marker", lit, 72),
            ("literal cut short", "0 01000001 0 010000", 10),
            ("11-bit offset cut short", f"{literal_bits(b'ABCDEFG')} 1 0 1010101", 65),
            ("length field cut short", f"{literal_bits(b'ABCDE')} 1 1 0000001 11", 56),
            ("length nibbles cut short", "0 01000001 1 1 0000001 1111 1111 1111 11", 30),
            ("end marker cut short", "0 01000001 1 1 00000", 11)):
        stream = bitstream(bits)
        assert 8 * len(stream) == len(bits.replace(" ", "")), name
        with pytest.raises(LzsTruncated, match=f"at bit {at}:") as info:
            decompress(stream, 100)
        assert info.value.bit == at, name


def test_overflow():
    stream = HAND_STREAMS["length 23"][0]
    with pytest.raises(LzsOverflow, match="limit of 25") as info:
        decompress(stream, 25)
    assert info.value.output == b"abc"
    assert len(decompress(stream, 26)) == 26
    with pytest.raises(LzsOverflow, match="limit of 0"):
        decompress(HAND_STREAMS["literals"][0], 0)
    with pytest.raises(LzsOverflow) as info:
        decompress(HAND_STREAMS["literals"][0], 1)
    assert info.value.output == b"A"
    # a huge length (many 1111 nibbles) is an overflow, not a hang
    with pytest.raises(LzsOverflow):
        decompress(bitstream(f"0 01000001 1 1 0000001 1111 {'1111 ' * 5000} 0000 {END}"), 70000)
    # ... and truncated when the nibbles run out first
    with pytest.raises(LzsTruncated):
        decompress(bitstream(f"0 01000001 1 1 0000001 1111 {'1111 ' * 5000}"), 70000)


def test_malformed_streams_fail_cleanly():
    rng = random.Random(3)
    classes = {}
    for stream, limit in malformed_streams(rng, 600):
        error, output = outcome(stream, limit)
        assert len(output) <= limit
        classes[error] = classes.get(error, 0) + 1
    print({getattr(k, "__name__", "OK"): v for k, v in classes.items()})
    assert set(classes) == {None, LzsBadOffset, LzsTruncated, LzsOverflow}


def test_random_bytes_fail_cleanly():
    rng = random.Random(4)
    for _ in range(500):
        stream = rng.randbytes(rng.randint(0, 64))
        limit = rng.randint(0, 300)
        error, output = outcome(stream, limit)
        assert len(output) <= limit
        if error is None:
            assert isinstance(output, bytes)
