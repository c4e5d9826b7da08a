"""The model's fast SHA-1/MD5 compression (:mod:`pacsim.sim.fast_digest`) and
the HMAC stream built on it (:class:`pacsim.sim.card_crypto.HmacStream`).

Checked against the reference compression functions of
:mod:`pacsim.hdl.engines.hmac` on random and extreme states and blocks, and
against :mod:`hashlib`/:mod:`hmac` (whole messages, padded here) and
published vectors (FIPS 180 / RFC 1321 test suites, RFC 2202).
"""
import hashlib
import hmac
import random
import struct

import pytest

from pacsim.contract.codes import MacAlg
from pacsim.reference import digests as reference
from pacsim.reference.digests import MD5_IV, SHA1_IV, hmac_pad_states
from pacsim.sim import fast_digest
from pacsim.sim.card_crypto import HmacStream
from pacsim.sim.fast_digest import (MD5_IV_WORDS, SHA1_IV_WORDS, md5_blocks, packed_state, sha1_blocks,
                                    state_words)

ALGORITHMS = {
    # name: (fast blocks, fast compress, reference compress, words, IV, length/digest byte order)
    "sha1": (sha1_blocks, fast_digest.sha1_compress, reference.sha1_compress, 5, SHA1_IV, "big"),
    "md5": (md5_blocks, fast_digest.md5_compress, reference.md5_compress, 4, MD5_IV, "little"),
}
MASK = 0xFFFF_FFFF


def padded(message: bytes, order: str, prefix_bytes: int = 0) -> bytes:
    """``message`` with the SHA-1/MD5 padding (``prefix_bytes`` already hashed before it)."""
    bits = 8 * (prefix_bytes + len(message))
    return message + b"\x80" + bytes(-(len(message) + 9) % 64) + bits.to_bytes(8, order)


def digest(name: str, message: bytes) -> bytes:
    """The whole-message hash with :func:`sha1_blocks`/:func:`md5_blocks`."""
    blocks, _, _, words, _, order = ALGORITHMS[name]
    state = blocks(state_words(ALGORITHMS[name][4], words), padded(message, order))
    return struct.pack(("<" if order == "little" else ">") + f"{words}I", *state)


def extreme_states(words: int):
    yield (0,) * words
    yield (MASK,) * words
    yield tuple(0x8000_0000 for _ in range(words))
    yield tuple(MASK if k % 2 else 0 for k in range(words))


def extreme_blocks():
    yield bytes(64)
    yield b"\xff" * 64
    yield b"\x80" + bytes(63)
    yield bytes(63) + b"\x01"
    yield bytes(range(64))


@pytest.mark.parametrize("name", ALGORITHMS)
def test_compress_matches_reference_random(name):
    _, compress, ref_compress, words, _, _ = ALGORITHMS[name]
    rng = random.Random(f"fast-{name}")
    for _ in range(400):
        state = rng.getrandbits(32 * words)
        block = rng.randbytes(64)
        assert compress(state, block) == ref_compress(state, block)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_compress_matches_reference_extremes(name):
    blocks, _, ref_compress, words, _, _ = ALGORITHMS[name]
    for state in extreme_states(words):
        for block in extreme_blocks():
            assert packed_state(blocks(state, block)) == ref_compress(packed_state(state), block)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_blocks_chain_like_reference(name):
    """Several blocks in one call, from offsets in a larger buffer of any bytes-like type."""
    blocks, _, ref_compress, words, _, _ = ALGORITHMS[name]
    rng = random.Random(f"chain-{name}")
    for count in (0, 1, 2, fast_digest.LANE_MIN_BLOCKS - 1, fast_digest.LANE_MIN_BLOCKS,
                  fast_digest.LANE_MIN_BLOCKS + 1, 23, 100):
        state = rng.getrandbits(32 * words)
        head, tail = rng.randbytes(rng.randrange(0, 70)), rng.randbytes(rng.randrange(0, 70))
        data = head + rng.randbytes(64 * count) + tail
        expected = state
        for k in range(count):
            expected = ref_compress(expected, data[len(head) + 64 * k:len(head) + 64 * k + 64])
        for buffer in (data, bytearray(data), memoryview(data)):
            got = blocks(state_words(state, words), buffer, len(head), len(head) + 64 * count)
            assert all(0 <= w <= MASK for w in got)
            assert packed_state(got) == expected


def test_sha1_schedule_paths_agree():
    """The in-place schedule and the all-blocks-at-once schedule, on the same blocks."""
    rng = random.Random("paths")
    for count in (1, 2, 3, 8, 64):
        for data in (rng.randbytes(64 * count), b"\xff" * 64 * count, bytes(64 * count),
                     b"\x80\0\0\x01" * 16 * count):
            state = tuple(rng.getrandbits(32) for _ in range(5))
            scalar = fast_digest._sha1_scalar(state, data, 0, len(data))
            scheduled = fast_digest._sha1_scheduled(state, fast_digest._sha1_schedules(data, 0, len(data)))
            assert scalar == scheduled


def test_schedules_match_fips_recurrence():
    rng = random.Random("schedules")
    data = rng.randbytes(64 * 6)
    for block, schedule in enumerate(fast_digest._sha1_schedules(data, 0, len(data))):
        w = list(struct.unpack(">16I", data[64 * block:64 * block + 64]))
        for t in range(16, 80):
            x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
            w.append(((x << 1) | (x >> 31)) & MASK)
        assert schedule == tuple(w)


def test_blocks_reject_partial_blocks():
    for blocks in (sha1_blocks, md5_blocks):
        with pytest.raises(ValueError):
            blocks(SHA1_IV_WORDS[:4] if blocks is md5_blocks else SHA1_IV_WORDS, bytes(100))
        with pytest.raises(ValueError):
            blocks(SHA1_IV_WORDS[:4] if blocks is md5_blocks else SHA1_IV_WORDS, bytes(128), 64, 192)


@pytest.mark.parametrize("name", ALGORITHMS)
def test_whole_messages_match_hashlib(name):
    rng = random.Random(f"hashlib-{name}")
    for length in [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 1400, 4096 + 17]:
        message = rng.randbytes(length)
        assert digest(name, message) == hashlib.new(name, message).digest(), length


def test_known_vectors():
    # FIPS 180-2 appendix A (SHA-1), RFC 1321 appendix A.5 (MD5)
    assert digest("sha1", b"abc").hex() == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert digest("sha1", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex() == \
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    assert digest("sha1", b"a" * 1_000_000).hex() == "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
    assert digest("md5", b"").hex() == "d41d8cd98f00b204e9800998ecf8427e"
    assert digest("md5", b"abc").hex() == "900150983cd24fb0d6963f7d28e17f72"
    assert digest("md5", b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                  ).hex() == "57edf4a22be3c955ac49da2e2107b67a"


def test_state_words_round_trip():
    rng = random.Random("words")
    for words in (4, 5):
        for _ in range(50):
            state = rng.getrandbits(32 * words)
            assert packed_state(state_words(state, words)) == state
    assert packed_state(SHA1_IV_WORDS) == SHA1_IV and packed_state(MD5_IV_WORDS) == MD5_IV


def test_compress_rejects_short_block():
    with pytest.raises(ValueError):
        fast_digest.sha1_compress(SHA1_IV, bytes(63))
    with pytest.raises(ValueError):
        fast_digest.md5_compress(MD5_IV, bytes(65))


# -- the model's HMAC stream ----------------------------------------------------

def _feed(stream, message: bytes, rng: random.Random) -> bytes:
    """Feed ``message`` in random pieces (whole dwords, as the card does, and odd sizes)."""
    position = 0
    while position < len(message):
        size = rng.choice([1, 3, 4, 8, 60, 64, 65, 128, 512, rng.randrange(1, 300)])
        stream.update(message[position:position + size])
        position += size
    return stream.digest()


@pytest.mark.parametrize("name,alg", [("sha1", MacAlg.HMAC_SHA1), ("md5", MacAlg.HMAC_MD5)])
def test_hmac_stream_matches_hmac(name, alg):
    rng = random.Random(f"stream-{name}")
    for length in [0, 1, 20, 55, 56, 63, 64, 65, 127, 1400, 1500, 3000, 4095, 4096, 4097, 9000, 20000]:
        key = rng.randbytes(rng.choice([1, 16, 20, 64, 80]))
        message = rng.randbytes(length)
        inner, outer = hmac_pad_states(name, key)
        assert _feed(HmacStream(alg, inner, outer), message, rng) == hmac.new(key, message, name).digest()


@pytest.mark.parametrize("name,alg", [("sha1", MacAlg.SHA1), ("md5", MacAlg.MD5)])
def test_plain_hash_stream_matches_hashlib(name, alg):
    rng = random.Random(f"plain-{name}")
    for length in [0, 1, 55, 56, 64, 65, 1400]:
        message = rng.randbytes(length)
        assert _feed(HmacStream(alg, rng.getrandbits(160), rng.getrandbits(160)), message, rng) == \
            hashlib.new(name, message).digest()


def test_hmac_stream_rfc2202():
    """RFC 2202 test cases 1, 2 and 6 (key longer than a block)."""
    cases = [
        ("sha1", b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
        ("sha1", b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        ("sha1", b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First",
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
        ("md5", b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
        ("md5", b"Jefe", b"what do ya want for nothing?", "750c783e6ab0b503eaa86e310a5db738"),
        ("md5", b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First",
         "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
    ]
    for name, key, message, mac in cases:
        alg = MacAlg.HMAC_SHA1 if name == "sha1" else MacAlg.HMAC_MD5
        stream = HmacStream(alg, *hmac_pad_states(name, key))
        stream.update(message)
        assert stream.digest().hex() == mac


def test_generated_source_is_exposed():
    for name in ("_sha1_scalar", "_sha1_scheduled", "_md5_blocks"):
        assert f"def {name}(" in fast_digest.SOURCE
