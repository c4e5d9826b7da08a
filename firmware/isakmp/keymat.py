# Ref: RFC 2409 sections 5, 5.4, 5.5, 5.7 and appendix B (IKEv1 keying material, hashes and IVs)
"""IKEv1 key derivation and authentication hashes, every prf and hash run
on the card through an :class:`~.crypto.IkeCrypto`.

Arguments are the ``_b`` bodies of RFC 2409 (payload bodies without the
generic header): nonces ``ni``/``nr``, KE data ``gxi``/``gxr``, the cookies
``cky_i``/``cky_r`` (8 bytes each), g^xy as :meth:`IkeCrypto.dh_shared`
returns it (left-padded to the prime's length). ``msg_id`` is the 4-byte
message ID as sent.

- :func:`phase1_keys`: SKEYID for pre-shared keys, signatures or public-key
  encryption, SKEYID_d/a/e, the cipher key Ka (truncated SKEYID_e, or the
  appendix-B expansion when the key is longer than the prf output) and the
  initial IV hash(g^xi | g^xr), as a :class:`Phase1Keys`.
- :func:`hash_i`, :func:`hash_r`: main and aggressive mode HASH_I/HASH_R (5.4).
- :func:`phase2_iv`: the first IV of a quick-mode or informational exchange,
  hash(last phase-1 CBC block | M-ID).
- :func:`quick_hash1`, :func:`quick_hash2`, :func:`quick_hash3`,
  :func:`informational_hash`: quick mode HASH(1)/(2)/(3) (5.5) and the
  informational HASH(1) (5.7).
- :func:`keymat`: KEYMAT of one SA direction (5.5), with or without PFS,
  expanded to the bytes the transforms need.
- :class:`IvChain`: the CBC IVs of one ISAKMP SA and the encryption and
  decryption of its message bodies. Phase 1 (message ID 0) starts from the
  initial IV; every other exchange (quick mode, informational) from
  :func:`phase2_iv` of the last phase-1 block, computed on its first
  message; within a chain each message's IV is the previous message's last
  ciphertext block. A received message that fails its checks (HASH,
  payload rules) must not move the chain: :meth:`IvChain.decrypt` with
  ``advance=False`` leaves it and :meth:`IvChain.advance` moves it once
  the message is accepted.
"""
import enum
from dataclasses import dataclass

from ...contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES
from .crypto import IkeCrypto, IkeCryptoError, IkeHash

__all__ = ["AuthMethod", "IvChain", "PHASE1_MSG_ID", "Phase1Keys", "phase1_keys", "hash_i", "hash_r", "phase2_iv", "quick_hash1",
           "quick_hash2", "quick_hash3", "informational_hash", "keymat"]

COOKIE_BYTES = 8
MSG_ID_BYTES = 4
SPI_BYTES = 4


class AuthMethod(enum.Enum):
    """How SKEYID is computed (RFC 2409 section 5)."""
    PRE_SHARED_KEY = "psk"          #: prf(pre-shared-key, Ni_b | Nr_b)
    SIGNATURE = "sig"               #: prf(Ni_b | Nr_b, g^xy)
    PUBLIC_KEY_ENCRYPTION = "enc"   #: prf(hash(Ni_b | Nr_b), CKY-I | CKY-R)


@dataclass(frozen=True)
class Phase1Keys:
    """The keying material of an ISAKMP SA: ``skeyid``, ``skeyid_d`` (for
    KEYMAT), ``skeyid_a`` (for the phase-2 hashes), ``skeyid_e``,
    ``enc_key`` (Ka, the cipher's key length) and ``initial_iv`` (the
    cipher's block size); ``hash_alg`` the prf's hash, ``cipher`` a
    :class:`~pacsim.contract.codes.CipherAlg`."""
    hash_alg: IkeHash
    cipher: object
    skeyid: bytes
    skeyid_d: bytes
    skeyid_a: bytes
    skeyid_e: bytes
    enc_key: bytes
    initial_iv: bytes


def _sized(crypto: IkeCrypto, value: bytes, size: int, what: str) -> bytes:
    """``value`` as bytes if it has ``size`` bytes, else a counted :class:`IkeCryptoError`."""
    value = bytes(value)
    with crypto.counted():
        if len(value) != size:
            raise IkeCryptoError(f"{what} of {len(value)} bytes: expected {size} bytes")
    return value


async def phase1_keys(crypto: IkeCrypto, hash_alg: IkeHash, cipher, *, ni: bytes, nr: bytes, gxi: bytes,
                      gxr: bytes, gxy: bytes, cky_i: bytes, cky_r: bytes,
                      auth: AuthMethod = AuthMethod.PRE_SHARED_KEY, psk: bytes = b"") -> Phase1Keys:
    """The phase-1 keys (RFC 2409 section 5 and appendix B) of ``cipher``
    (one of :data:`~.crypto.IKE_CIPHERS`) with prf HMAC-``hash_alg``.
    ``psk``: the pre-shared key (ENCO key bytes), only for PRE_SHARED_KEY.
    One-time prf keys (the PSK, SKEYID_e's expansion) are released after use."""
    cky = _sized(crypto, cky_i, COOKIE_BYTES, "CKY-I") + _sized(crypto, cky_r, COOKIE_BYTES, "CKY-R")
    nonces = bytes(ni) + bytes(nr)
    gxy = bytes(gxy)
    if auth is AuthMethod.PRE_SHARED_KEY:
        with crypto.counted():
            if not psk:
                raise IkeCryptoError("pre-shared-key authentication without a pre-shared key")
        skeyid = await crypto.prf(hash_alg, psk, nonces)
        await crypto.release_key(hash_alg, psk)
    elif auth is AuthMethod.SIGNATURE:
        skeyid = await crypto.prf(hash_alg, nonces, gxy)
        await crypto.release_key(hash_alg, nonces)
    else:
        prf_key = await crypto.hash(hash_alg, nonces)
        skeyid = await crypto.prf(hash_alg, prf_key, cky)
        await crypto.release_key(hash_alg, prf_key)
    skeyid_d = await crypto.prf(hash_alg, skeyid, gxy + cky + b"\0")
    skeyid_a = await crypto.prf(hash_alg, skeyid, skeyid_d + gxy + cky + b"\1")
    skeyid_e = await crypto.prf(hash_alg, skeyid, skeyid_a + gxy + cky + b"\2")
    key_bytes = CIPHER_KEY_BYTES[cipher]
    if key_bytes <= len(skeyid_e):
        enc_key = skeyid_e[:key_bytes]
    else:
        enc_key = await crypto.prf_expand(hash_alg, skeyid_e, b"\0", key_bytes)
        await crypto.release_key(hash_alg, skeyid_e)
    initial_iv = (await crypto.hash(hash_alg, bytes(gxi) + bytes(gxr)))[:CIPHER_BLOCK_BYTES[cipher]]
    return Phase1Keys(hash_alg, cipher, skeyid, skeyid_d, skeyid_a, skeyid_e, enc_key, initial_iv)


async def hash_i(crypto: IkeCrypto, keys: Phase1Keys, *, gxi: bytes, gxr: bytes, cky_i: bytes, cky_r: bytes,
                 sai: bytes, id_body: bytes) -> bytes:
    """HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b).
    ``sai``: the initiator's whole SA payload body, ``id_body``: IDii_b."""
    return await _authentication_hash(crypto, keys, (gxi, gxr), (cky_i, cky_r), sai, id_body)


async def hash_r(crypto: IkeCrypto, keys: Phase1Keys, *, gxi: bytes, gxr: bytes, cky_i: bytes, cky_r: bytes,
                 sai: bytes, id_body: bytes) -> bytes:
    """HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
    (``id_body``: IDir_b)."""
    return await _authentication_hash(crypto, keys, (gxr, gxi), (cky_r, cky_i), sai, id_body)


async def _authentication_hash(crypto: IkeCrypto, keys: Phase1Keys, kes: tuple, cookies: tuple, sai: bytes,
                               id_body: bytes) -> bytes:
    """prf(SKEYID, KE data | cookies | SAi_b | ID_b), the pairs in the order given."""
    cookies = b"".join(_sized(crypto, cookie, COOKIE_BYTES, "cookie") for cookie in cookies)
    return await crypto.prf(keys.hash_alg, keys.skeyid, b"".join(map(bytes, kes)) + cookies + bytes(sai)
                            + bytes(id_body))


async def phase2_iv(crypto: IkeCrypto, keys: Phase1Keys, last_phase1_block: bytes, msg_id: bytes) -> bytes:
    """The first IV of the exchange with message ID ``msg_id``: hash(last
    phase-1 CBC output block | M-ID) truncated to the block (RFC 2409
    appendix B). ``last_phase1_block``: the next IV left by the last
    phase-1 message (:meth:`IkeCrypto.encrypt`/``decrypt``'s second value)."""
    block = CIPHER_BLOCK_BYTES[keys.cipher]
    digest = await crypto.hash(keys.hash_alg, _sized(crypto, last_phase1_block, block, "last phase-1 block")
                               + _sized(crypto, msg_id, MSG_ID_BYTES, "M-ID"))
    return digest[:block]


async def quick_hash1(crypto: IkeCrypto, keys: Phase1Keys, msg_id: bytes, after_hash: bytes) -> bytes:
    """HASH(1) = prf(SKEYID_a, M-ID | SA | Ni [| KE] [| IDci | IDcr]):
    ``after_hash`` is the message from the payload after HASH to the end
    (generic headers included)."""
    return await crypto.prf(keys.hash_alg, keys.skeyid_a,
                            _sized(crypto, msg_id, MSG_ID_BYTES, "M-ID") + bytes(after_hash))


async def quick_hash2(crypto: IkeCrypto, keys: Phase1Keys, msg_id: bytes, ni: bytes, after_hash: bytes) -> bytes:
    """HASH(2) = prf(SKEYID_a, M-ID | Ni_b | SA | Nr [| KE] [| IDci | IDcr])."""
    return await crypto.prf(keys.hash_alg, keys.skeyid_a,
                            _sized(crypto, msg_id, MSG_ID_BYTES, "M-ID") + bytes(ni) + bytes(after_hash))


async def quick_hash3(crypto: IkeCrypto, keys: Phase1Keys, msg_id: bytes, ni: bytes, nr: bytes) -> bytes:
    """HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)."""
    return await crypto.prf(keys.hash_alg, keys.skeyid_a,
                            b"\0" + _sized(crypto, msg_id, MSG_ID_BYTES, "M-ID") + bytes(ni) + bytes(nr))


async def informational_hash(crypto: IkeCrypto, keys: Phase1Keys, msg_id: bytes, after_hash: bytes) -> bytes:
    """An informational exchange's HASH(1) = prf(SKEYID_a, M-ID | N/D):
    ``after_hash`` is the Notification or Delete payload (header included)."""
    return await quick_hash1(crypto, keys, msg_id, after_hash)


async def keymat(crypto: IkeCrypto, keys: Phase1Keys, *, protocol: int, spi: bytes, ni: bytes, nr: bytes,
                 length: int, gxy_qm: bytes = b"") -> bytes:
    """KEYMAT of the SA with ``spi`` (4 bytes, as the receiving side chose
    it) for ``protocol`` (ISAKMP protocol ID: 2 AH, 3 ESP, 4 IPCOMP):
    K1 | K2 | ... with K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
    and Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
    cut to ``length`` bytes (encryption key then authentication key, as the
    transforms need them). ``gxy_qm``: the quick-mode g^xy with PFS, empty
    without."""
    with crypto.counted():
        if isinstance(protocol, bool) or not isinstance(protocol, int) or not 0 <= protocol <= 255:
            raise IkeCryptoError(f"protocol {protocol!r}: expected an ISAKMP protocol ID 0..255")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise IkeCryptoError(f"KEYMAT length {length!r}: expected a positive byte count")
    seed = bytes(gxy_qm) + bytes([protocol]) + _sized(crypto, spi, SPI_BYTES, "SPI") + bytes(ni) + bytes(nr)
    return await crypto.prf_expand(keys.hash_alg, keys.skeyid_d, seed, length, follow=seed)


#: The message ID of phase-1 (main and aggressive mode) messages.
PHASE1_MSG_ID = bytes(MSG_ID_BYTES)


class IvChain:
    """The IVs of the ISAKMP SA keyed by ``keys`` (a :class:`Phase1Keys`),
    its messages encrypted and decrypted through ``crypto`` (the SA's
    :class:`~.crypto.IkeCrypto`). Message IDs are the 4 bytes of the header."""

    def __init__(self, crypto: IkeCrypto, keys: Phase1Keys):
        self.crypto = crypto
        self.keys = keys
        self._block = CIPHER_BLOCK_BYTES[keys.cipher]
        self._ivs = {PHASE1_MSG_ID: keys.initial_iv}

    async def iv(self, msg_id: bytes) -> bytes:
        """The IV the next message of exchange ``msg_id`` is encrypted with."""
        msg_id = _sized(self.crypto, msg_id, MSG_ID_BYTES, "M-ID")
        if msg_id not in self._ivs:
            self._ivs[msg_id] = await phase2_iv(self.crypto, self.keys, self._ivs[PHASE1_MSG_ID], msg_id)
        return self._ivs[msg_id]

    async def encrypt(self, msg_id: bytes, plaintext: bytes) -> bytes:
        """The ciphertext of a message body (padded to the block by the
        caller) of exchange ``msg_id``; the chain moves to its last block."""
        ciphertext, self._ivs[bytes(msg_id)] = await self.crypto.encrypt(self.keys.cipher, self.keys.enc_key,
                                                                         await self.iv(msg_id), plaintext)
        return ciphertext

    async def decrypt(self, msg_id: bytes, ciphertext: bytes, *, advance: bool = True) -> bytes:
        """The plaintext of a received message body of exchange ``msg_id``;
        the chain moves to its last ciphertext block unless ``advance`` is
        false (then :meth:`advance` once the message is accepted)."""
        plaintext, following = await self.crypto.decrypt(self.keys.cipher, self.keys.enc_key,
                                                         await self.iv(msg_id), ciphertext)
        if advance:
            self._ivs[bytes(msg_id)] = following
        return plaintext

    def advance(self, msg_id: bytes, ciphertext: bytes) -> None:
        """Move the chain of ``msg_id`` past an accepted message ``ciphertext``."""
        with self.crypto.counted():
            if bytes(msg_id) not in self._ivs or len(ciphertext) < self._block:
                raise IkeCryptoError(f"advance of exchange {bytes(msg_id).hex()} by {len(ciphertext)} bytes: "
                                     f"expected a started exchange and at least one {self._block}-byte block")
        self._ivs[bytes(msg_id)] = bytes(ciphertext[-self._block:])

    def forget(self, msg_id: bytes) -> None:
        """Drop the chain of a finished exchange (no-op if unknown; phase 1 is kept)."""
        if bytes(msg_id) != PHASE1_MSG_ID:
            self._ivs.pop(bytes(msg_id), None)
