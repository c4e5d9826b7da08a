# Ref: docs/rings.md, "Channels"; FIPS 46-3, FIPS 197, RFC 2104, FIPS 180-4, RFC 1321
"""The model's crypto: streaming ciphers and MACs built from what a channel
context holds (keys, IVs, HMAC pad states), as docs/rings.md defines them.

Ciphers come from ``cryptography`` (DES is 3DES with K1 = K2 = K3; 3DES
outer CBC is three single-DES CBC passes), HMAC from the channel's pad
states with the compression functions of :mod:`pacsim.hdl.engines.hmac`
(a channel holds no key; computed by libcrypto continued from those
states, :mod:`pacsim.reference.chained_digest`), DES-MAC is the last block of DES-CBC with a zero
IV, a plain SHA-1/MD5 the same hash from the standard IV with no key and no
outer pass. Every stream takes data in any pieces and returns output for the
complete blocks seen so far, as the card's engines produce it.
"""
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherAlg, CipherMode, MacAlg
from ..reference.chained_digest import DIGEST_WORDS, MD5_IV_WORDS, SHA1_IV_WORDS, ChainedHash, state_words

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
    are ignored. The hash runs in :class:`~pacsim.reference.chained_digest.ChainedHash`
    (libcrypto continued from the channel's state)."""

    _BLOCK = 64

    def __init__(self, alg: MacAlg, inner: int, outer: int):
        alg = MacAlg(alg)
        self._name = "sha1" if alg in (MacAlg.HMAC_SHA1, MacAlg.SHA1) else "md5"
        self._keyed = alg in (MacAlg.HMAC_SHA1, MacAlg.HMAC_MD5)
        words = DIGEST_WORDS[self._name]
        self._outer = state_words(outer, words)
        if self._keyed:
            self._inner = ChainedHash(self._name, state_words(inner, words), self._BLOCK)
        else:
            self._inner = ChainedHash(self._name, SHA1_IV_WORDS if self._name == "sha1" else MD5_IV_WORDS)

    def update(self, data: bytes) -> None:
        self._inner.update(data)

    def digest(self) -> bytes:
        inner = self._inner.digest()
        if not self._keyed:
            return inner
        outer = ChainedHash(self._name, self._outer, self._BLOCK)
        outer.update(inner)
        return outer.digest()


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
