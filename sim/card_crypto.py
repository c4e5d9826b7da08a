# Ref: docs/rings.md, "Channels"; FIPS 46-3, FIPS 197, RFC 2104, FIPS 180-4, RFC 1321
"""The model's crypto: streaming ciphers and MACs built from what a channel
context holds (keys, IVs, HMAC pad states), as docs/rings.md defines them.

Ciphers come from ``cryptography`` (DES is 3DES with K1 = K2 = K3; 3DES
outer CBC is three single-DES CBC passes), HMAC from the channel's pad
states with the compression functions of :mod:`pacsim.hdl.engines.hmac`
(a channel holds no key; computed by their faster equivalents in
:mod:`.fast_digest`), DES-MAC is the last block of DES-CBC with a zero
IV, a plain SHA-1/MD5 the same hash from the standard IV with no key and no
outer pass. Every stream takes data in any pieces and returns output for the
complete blocks seen so far, as the card's engines produce it.
"""
import struct

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherAlg, CipherMode, MacAlg
from .fast_digest import MD5_IV_WORDS, SHA1_IV_WORDS, md5_blocks, sha1_blocks, state_words

__all__ = ["CipherStream", "HmacStream", "DesMacStream"]

_DES_BYTES = CIPHER_BLOCK_BYTES[CipherAlg.DES]


def _des(key: bytes):
    """Single DES as 3DES with K1 = K2 = K3."""
    return TripleDES(key * 3)


def _context(algorithm, mode: CipherMode, iv: bytes, decrypt: bool):
    cipher = Cipher(algorithm, modes.ECB() if mode == CipherMode.ECB else modes.CBC(iv))
    return cipher.decryptor() if decrypt else cipher.encryptor()


class CipherStream:
    """Encrypts (``decrypt`` False) or decrypts a stream with a channel's
    cipher. ``key`` holds at least the algorithm's key bytes (3DES 2-key:
    K1‖K2, the card uses K1 as K3); ``ivs`` the IV field bytes with IV1
    replaced by the packet's when the IV comes from the packet (3DES outer:
    IV1, IV2, IV3 at bytes 0, 8, 16)."""

    def __init__(self, alg: CipherAlg, mode: CipherMode, decrypt: bool, key: bytes, ivs: bytes):
        alg = CipherAlg(alg)
        key = key[:CIPHER_KEY_BYTES[alg]]
        block = CIPHER_BLOCK_BYTES[alg]
        if alg is CipherAlg.TDES_OUTER and mode == CipherMode.CBC:
            k1, k2, k3 = (key[i:i + _DES_BYTES] for i in range(0, 3 * _DES_BYTES, _DES_BYTES))
            iv1, iv2, iv3 = (ivs[i:i + _DES_BYTES] for i in range(0, 3 * _DES_BYTES, _DES_BYTES))
            if decrypt:   # D_k3 (IV3), E_k2 (IV2), D_k1 (IV1)
                passes = [(k3, iv3, True), (k2, iv2, False), (k1, iv1, True)]
            else:         # E_k1 (IV1), D_k2 (IV2), E_k3 (IV3)
                passes = [(k1, iv1, False), (k2, iv2, True), (k3, iv3, False)]
            self._stages = [_context(_des(k), mode, iv, d) for k, iv, d in passes]
            return
        if alg is CipherAlg.DES:
            algorithm = _des(key)
        elif alg is CipherAlg.TDES_2KEY:
            algorithm = TripleDES(key + key[:_DES_BYTES])
        elif alg in (CipherAlg.TDES_INNER, CipherAlg.TDES_OUTER):
            algorithm = TripleDES(key)
        else:
            algorithm = algorithms.AES(key)
        self._stages = [_context(algorithm, mode, ivs[:block], decrypt)]

    def update(self, data: bytes) -> bytes:
        """Feed ``data``; returns the output of every block completed so far."""
        for stage in self._stages:
            data = stage.update(data)
        return data


class HmacStream:
    """HMAC (RFC 2104) from the channel's pad states: the inner hash starts
    from ``inner`` after one 64-byte block (K ⊕ ipad), the outer from
    ``outer``. States are packed as :func:`~pacsim.reference.digests.hmac_pad_states`
    returns them (SHA-1 ``H0<<128 | … | H4``, MD5 ``A<<96 | … | D``).
    For ``MacAlg.SHA1``/``MD5`` it is the plain hash: ``inner`` and ``outer``
    are ignored."""

    _BLOCK = 64
    #: Input is buffered and compressed once this many bytes are waiting (or
    #: at :meth:`digest`): many blocks per call are faster (:mod:`.fast_digest`).
    _CHUNK = 4096

    def __init__(self, alg: MacAlg, inner: int, outer: int):
        alg = MacAlg(alg)
        sha1 = alg in (MacAlg.HMAC_SHA1, MacAlg.SHA1)
        self._keyed = alg in (MacAlg.HMAC_SHA1, MacAlg.HMAC_MD5)
        self._blocks = sha1_blocks if sha1 else md5_blocks     # compress whole blocks of a buffer
        words = 5 if sha1 else 4
        self._order = "big" if sha1 else "little"   # of the length field and of the digest words
        self._digest_format = struct.Struct((">" if sha1 else "<") + f"{words}I")
        # States are word tuples (H0..H4, A..D) between blocks: :mod:`.fast_digest`.
        self._outer = state_words(outer, words)
        self._state = state_words(inner, words) if self._keyed else (SHA1_IV_WORDS if sha1 else MD5_IV_WORDS)
        self._buffer = bytearray()                          # input not compressed yet
        self._length = self._BLOCK if self._keyed else 0    # the pad block already hashed

    def _digest_bytes(self, state: tuple) -> bytes:
        return self._digest_format.pack(*state)

    def _finish(self, state: tuple, tail: bytes, length: int) -> tuple:
        """``state`` after ``tail`` (the input not compressed yet, any length)
        and the padding of a message of ``length`` bytes."""
        padded = tail + b"\x80" + bytes(-(len(tail) + 9) % self._BLOCK) + (8 * length).to_bytes(8, self._order)
        return self._blocks(state, padded)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        self._buffer += data
        if len(self._buffer) >= self._CHUNK:
            whole = len(self._buffer) - len(self._buffer) % self._BLOCK
            self._state = self._blocks(self._state, self._buffer, 0, whole)
            del self._buffer[:whole]

    def digest(self) -> bytes:
        inner = self._digest_bytes(self._finish(self._state, self._buffer, self._length))
        if not self._keyed:
            return inner
        return self._digest_bytes(self._finish(self._outer, inner, self._BLOCK + len(inner)))


class DesMacStream:
    """DES-MAC (ANSI X9.9): DES-CBC with a zero IV, the MAC is the last
    ciphertext block; a final partial block is padded with zero bytes, an
    empty message is one zero block (ISO/IEC 9797-1 padding method 1)."""

    def __init__(self, key: bytes):
        self._cbc = _context(_des(key[:_DES_BYTES]), CipherMode.CBC, bytes(_DES_BYTES), False)
        self._length = 0
        self._last = bytes(_DES_BYTES)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        out = self._cbc.update(data)
        if out:
            self._last = out[-_DES_BYTES:]

    def digest(self) -> bytes:
        pad = -self._length % _DES_BYTES or (_DES_BYTES if self._length == 0 else 0)
        if pad:
            self.update(bytes(pad))
        return self._last
