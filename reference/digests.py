# Ref: FIPS 180-4 sections 4.2.1, 5.3.1, 6.1.2; RFC 1321 section 3.4; RFC 2104 section 2
"""Reference SHA-1, MD5 and HMAC pad states, in Python.

The card's hash cores (:mod:`pacsim.hdl.engines.sha1`, :mod:`pacsim.hdl.engines.md5`)
take their constants from here, the tests hold them against these
compression functions, and the driver computes a MAC channel's pad states with
:func:`hmac_pad_states` (the card never sees an HMAC key).

- :data:`SHA1_IV`, :data:`SHA1_K`; :data:`MD5_IV`, :data:`MD5_T`, :data:`MD5_S`,
  :func:`md5_word_index`: the algorithms' constants, states packed as the
  cores' ``iv`` port (SHA-1 ``H0<<128 | ... | H4``, MD5 ``A<<96 | ... | D``);
- :func:`sha1_compress`, :func:`md5_compress`: one compression of a 64-byte block;
- :func:`hmac_pad_blocks`: the two pad blocks of a key; :func:`hmac_pad_states`:
  ``(inner, outer)`` chaining states of a key.
"""
import hashlib
import math
import struct

__all__ = ["SHA1_IV", "SHA1_K", "MD5_IV", "MD5_T", "MD5_S", "HMAC_BLOCK_BYTES", "md5_word_index",
           "sha1_compress", "md5_compress", "hmac_pad_blocks", "hmac_pad_states"]

#: The FIPS 180-4 initial hash value H(0), packed as the ``iv`` port.
SHA1_IV = 0x67452301_EFCDAB89_98BADCFE_10325476_C3D2E1F0

#: One constant per 20 rounds (FIPS 180-4 4.2.1); the functions are in 4.1.1.
SHA1_K = (0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6)

#: The RFC 1321 initial value (A, B, C, D), packed as the ``iv`` port.
MD5_IV = 0x67452301_EFCDAB89_98BADCFE_10325476

#: T[i] = floor(2**32 * abs(sin(i + 1))), i = 0..63 (RFC 1321 3.4).
MD5_T = tuple(int(abs(math.sin(i + 1)) * 2**32) for i in range(64))

#: Left-rotation amount of step i.
MD5_S = (7, 12, 17, 22) * 4 + (5, 9, 14, 20) * 4 + (4, 11, 16, 23) * 4 + (6, 10, 15, 21) * 4

#: Bytes of a SHA-1 or MD5 block, the HMAC pad length.
HMAC_BLOCK_BYTES = 64


def md5_word_index(i: int) -> int:
    """The message word X[k] used by step ``i`` (0..63)."""
    return (i, 5 * i + 1, 3 * i + 5, 7 * i)[i // 16] % 16


_MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK


def _unpack(state: int, words: int) -> list[int]:
    return [(state >> (32 * (words - 1 - k))) & _MASK for k in range(words)]


def _pack(words: list[int]) -> int:
    return sum(w << (32 * (len(words) - 1 - k)) for k, w in enumerate(words))


def sha1_compress(state: int, block: bytes) -> int:
    """One SHA-1 compression (FIPS 180-4 6.1.2) of a 64-byte ``block``;
    ``state`` and the result are packed ``H0<<128 | ... | H4``."""
    w = list(struct.unpack(">16I", block))
    for t in range(16, 80):
        w.append(_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1))
    h = _unpack(state, 5)
    a, b, c, d, e = h
    for t in range(80):
        if t < 20:
            f = (b & c) | (~b & d)
        elif 40 <= t < 60:
            f = (b & c) | (b & d) | (c & d)
        else:
            f = b ^ c ^ d
        k = SHA1_K[t // 20]
        a, b, c, d, e = (_rotl(a, 5) + f + e + k + w[t]) & _MASK, a, _rotl(b, 30), c, d
    return _pack([(x + y) & _MASK for x, y in zip(h, (a, b, c, d, e))])


def md5_compress(state: int, block: bytes) -> int:
    """One MD5 compression (RFC 1321 3.4) of a 64-byte ``block``; ``state``
    and the result are packed ``A<<96 | B<<64 | C<<32 | D``."""
    x = struct.unpack("<16I", block)
    h = _unpack(state, 4)
    a, b, c, d = h
    for i in range(64):
        f = ((b & c) | (~b & d), (b & d) | (c & ~d), b ^ c ^ d, c ^ (b | (~d & _MASK)))[i // 16]
        total = (a + (f & _MASK) + MD5_T[i] + x[md5_word_index(i)]) & _MASK
        a, b, c, d = d, (b + _rotl(total, MD5_S[i])) & _MASK, b, c
    return _pack([(p + q) & _MASK for p, q in zip(h, (a, b, c, d))])


def hmac_pad_blocks(algorithm: str, key: bytes) -> tuple[bytes, bytes]:
    """``(K ^ ipad, K ^ opad)``, the two 64-byte blocks HMAC hashes first
    (RFC 2104 section 2): a key longer than 64 bytes is hashed with
    ``algorithm`` ("sha1" or "md5") first; a shorter one is zero-padded."""
    if algorithm not in ("sha1", "md5"):
        raise ValueError(f"algorithm must be 'sha1' or 'md5', not {algorithm!r}")
    key = bytes(key)
    if len(key) > HMAC_BLOCK_BYTES:
        key = hashlib.new(algorithm, key).digest()
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(k ^ 0x36 for k in key), bytes(k ^ 0x5C for k in key)


def hmac_pad_states(algorithm: str, key: bytes) -> tuple[int, int]:
    """``(inner_iv, outer_iv)`` for the card's HMAC engine (a MAC channel's
    ``INNER``/``OUTER`` context words): the ``algorithm`` state
    after compressing (K ^ ipad) and (K ^ opad) of :func:`hmac_pad_blocks`."""
    ipad, opad = hmac_pad_blocks(algorithm, key)
    compress, iv = (sha1_compress, SHA1_IV) if algorithm == "sha1" else (md5_compress, MD5_IV)
    return compress(iv, ipad), compress(iv, opad)
