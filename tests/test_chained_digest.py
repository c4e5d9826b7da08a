"""SHA-1/MD5 continued from any chaining state (:mod:`pacsim.reference.chained_digest`,
libcrypto's low-level digest functions), the driver's HMAC pad states made
with it, and the model's HMAC stream built on it
(:class:`pacsim.sim.card_crypto.HmacStream`).

Checked against the reference compression functions of
:mod:`pacsim.reference.digests` on random and extreme states and blocks,
and against :mod:`hashlib`/:mod:`hmac` and published vectors (FIPS 180 /
RFC 1321 test suites, RFC 2202).
"""
import hashlib
import hmac
import random

import pytest

from pacsim.contract.codes import MacAlg
from pacsim.reference import chained_digest, digests as reference
from pacsim.reference.chained_digest import (MD5_IV_WORDS, SHA1_IV_WORDS, ChainedHash, packed_state,
                                             state_words)
from pacsim.reference.digests import MD5_IV, SHA1_IV, hmac_pad_states
from pacsim.sim.card_crypto import HmacStream

ALGORITHMS = {
    # name: (reference compress, words, packed IV, IV words)
    "sha1": (reference.sha1_compress, 5, SHA1_IV, SHA1_IV_WORDS),
    "md5": (reference.md5_compress, 4, MD5_IV, MD5_IV_WORDS),
}
MASK = 0xFFFF_FFFF


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


def chained_state(name: str, state: tuple, data: bytes, hashed: int = 0) -> int:
    chained = ChainedHash(name, state, hashed)
    chained.update(data)
    return packed_state(chained.state())


@pytest.mark.parametrize("name", ALGORITHMS)
def test_blocks_match_reference_compression(name):
    """Random and extreme states, one and several blocks, any bytes-like input."""
    compress, words, _, _ = ALGORITHMS[name]
    rng = random.Random(f"chained-{name}")
    for _ in range(300):
        state, block = rng.getrandbits(32 * words), rng.randbytes(64)
        assert chained_state(name, state_words(state, words), block, 64 * rng.randrange(4)) == compress(state, block)
    for state in extreme_states(words):
        for block in extreme_blocks():
            assert chained_state(name, state, block) == compress(packed_state(state), block)
    for count in (0, 2, 23):
        state, data = rng.getrandbits(32 * words), rng.randbytes(64 * count)
        expected = state
        for k in range(count):
            expected = compress(expected, data[64 * k:64 * k + 64])
        for buffer in (data, bytearray(data), memoryview(data)):
            assert chained_state(name, state_words(state, words), buffer) == expected


@pytest.mark.parametrize("name", ALGORITHMS)
def test_whole_messages_match_hashlib(name):
    rng = random.Random(f"hashlib-{name}")
    for length in [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 1400, 4096 + 17]:
        message = rng.randbytes(length)
        chained = ChainedHash(name, ALGORITHMS[name][3])
        for start in range(0, length, 37):
            chained.update(message[start:start + 37])
        assert chained.digest() == hashlib.new(name, message).digest(), length


def test_known_vectors():
    # FIPS 180-2 appendix A (SHA-1), RFC 1321 appendix A.5 (MD5)
    def digest(name, message):
        chained = ChainedHash(name, ALGORITHMS[name][3])
        chained.update(message)
        return chained.digest().hex()
    assert digest("sha1", b"abc") == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert digest("sha1", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") == \
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    assert digest("sha1", b"a" * 1_000_000) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
    assert digest("md5", b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert digest("md5", b"abc") == "900150983cd24fb0d6963f7d28e17f72"
    assert digest("md5", b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                  ) == "57edf4a22be3c955ac49da2e2107b67a"


def test_state_words_round_trip():
    rng = random.Random("words")
    for words in (4, 5):
        for _ in range(50):
            state = rng.getrandbits(32 * words)
            assert packed_state(state_words(state, words)) == state
    assert packed_state(SHA1_IV_WORDS) == SHA1_IV and packed_state(MD5_IV_WORDS) == MD5_IV


def test_bad_states_refused():
    with pytest.raises(ValueError):
        ChainedHash("sha1", SHA1_IV_WORDS, 63)          # not a whole block hashed before
    with pytest.raises(ValueError):
        ChainedHash("md5", SHA1_IV_WORDS)               # five words for MD5
    with pytest.raises(ValueError):
        chained_digest.hmac_pad_states("sha256", b"key")


@pytest.mark.parametrize("name", ALGORITHMS)
def test_pad_states_match_reference(name):
    """The driver's pad states (libcrypto) equal the reference's, keys of every length class."""
    rng = random.Random(f"pads-{name}")
    for length in (0, 1, 16, 20, 63, 64, 65, 80, 200):
        key = rng.randbytes(length)
        assert chained_digest.hmac_pad_states(name, key) == hmac_pad_states(name, key)


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
