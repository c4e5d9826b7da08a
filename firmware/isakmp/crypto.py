# Ref: RFC 2409 sections 5, 5.5 and appendix B (IKE prf, hash, Diffie-Hellman, CBC of ISAKMP payloads)
"""The cryptography of one IKE SA, done by the card through the host driver.

:class:`IkeCrypto` is bound to a :class:`~pacsim.host.device.PacDevice` and
owns every channel it opens: a channel is opened on first use of a key and
kept for the SA's life (the SKEYIDs are used for many messages), and
:meth:`IkeCrypto.close` (or leaving ``async with``) closes them all.

What runs where:

- nonces and Diffie-Hellman private values: the card's random number
  generator (:meth:`PacDevice.random`);
- ``g ** x mod p`` and ``g ** xy mod p``: the public-key unit
  (:meth:`PacDevice.dh_keypair`, :meth:`PacDevice.dh_shared`);
- the negotiated hash (:meth:`IkeCrypto.hash`, a HASH job on a plain
  SHA1/MD5 MAC channel) and the prf, HMAC with that hash (:meth:`IkeCrypto.prf`,
  a HASH job on an HMAC channel; a key longer than the 64-byte block is
  hashed first on the card, RFC 2104 section 2);
- CBC encryption and decryption of ISAKMP payloads (:meth:`IkeCrypto.encrypt`,
  :meth:`IkeCrypto.decrypt`): ENCODE/DECODE jobs on a cipher channel that
  takes IV1 from the packet, so one channel per key serves every IV of the
  phase-1 and per-message-ID chains (kept by :class:`~.keymat.IvChain`).

Diffie-Hellman groups are the router's (``reference/modp.py`` :data:`GROUPS`):
``group=0`` is the manual's MODP512 ("MODP Group 0", spec/isakmp-commands.md
section 4: ``show isakmp`` prints MODP512 and the private exponent is at
most 511 bits; the manual gives no prime, so ``reference/modp.py`` has a
simulation-only one), ``group=1`` and ``group=2`` are the Oakley groups of
RFC 2409 (MODP768, MODP1024, the same numbers as IKE's group
descriptions), 5 and 14 those of RFC 3526.

Ciphers are the card's :class:`~pacsim.contract.codes.CipherAlg`: ``DES``,
``TDES_INNER`` (3DES-CBC with three keys, RFC 2451's 3DES: CBC around EDE)
and ``AES128``/``AES192``/``AES256`` (KEY_LENGTH 128/192/256); see
:data:`IKE_CIPHERS`.
"""
import contextlib
import enum
from collections import Counter

from ...contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, MAC_DIGEST_BYTES, CipherAlg, Direction, MacAlg
from ...reference.modp import ModpGroup, modp_group

__all__ = ["IkeCrypto", "IkeHash", "IKE_CIPHERS", "IkeCryptoError", "InvalidPublicValue", "InvalidCipherInput",
           "UnknownAlgorithm", "group_of"]

#: The ciphers IKEv1 phase 1 negotiates (DES, 3DES, AES with KEY_LENGTH), as the card's algorithms.
IKE_CIPHERS = (CipherAlg.DES, CipherAlg.TDES_INNER, CipherAlg.AES128, CipherAlg.AES192, CipherAlg.AES256)
#: HMAC block size of MD5 and SHA-1 in bytes (RFC 2104 ``B``).
HMAC_BLOCK_BYTES = 64


class IkeHash(enum.Enum):
    """An IKE hash algorithm (RFC 2409 appendix A) and the card's MAC
    algorithms that compute it: ``plain`` for the hash, ``hmac`` for the prf."""
    MD5 = (MacAlg.MD5, MacAlg.HMAC_MD5)
    SHA1 = (MacAlg.SHA1, MacAlg.HMAC_SHA1)

    @property
    def plain(self) -> MacAlg:
        return self.value[0]

    @property
    def hmac(self) -> MacAlg:
        return self.value[1]

    @property
    def digest_bytes(self) -> int:
        """Bytes of a hash or prf output (MD5 16, SHA-1 20)."""
        return MAC_DIGEST_BYTES[self.plain]


class IkeCryptoError(ValueError):
    """Base class of what :class:`IkeCrypto` refuses (bad input from a peer or a caller)."""


class InvalidPublicValue(IkeCryptoError):
    """A peer's Diffie-Hellman public value is out of range (RFC 2631 2.1.5)."""


class InvalidCipherInput(IkeCryptoError):
    """Encryption input, key or IV of the wrong size for the cipher."""


class UnknownAlgorithm(IkeCryptoError):
    """A hash, cipher or group IKE does not offer here."""


def group_of(group) -> ModpGroup:
    """The :class:`~pacsim.reference.modp.ModpGroup` of a router group number
    (0, 1, 2, 5, 14) or the group itself; :class:`UnknownAlgorithm` otherwise
    (the lookup is the driver's: :func:`~pacsim.reference.modp.modp_group`)."""
    return modp_group(group, UnknownAlgorithm)


def _hash_of(alg) -> IkeHash:
    if isinstance(alg, IkeHash):
        return alg
    raise UnknownAlgorithm(f"IKE hash {alg!r}: expected an IkeHash ({', '.join(h.name for h in IkeHash)})")


def _cipher_of(alg) -> CipherAlg:
    if alg not in IKE_CIPHERS:
        raise UnknownAlgorithm(f"IKE cipher {alg!r}: expected one of {[c.name for c in IKE_CIPHERS]}")
    return CipherAlg(alg)


def _peer_value(group: ModpGroup, peer_public) -> int:
    """The peer's public value (an int or KE bytes) as an int in 1 < y < p - 1, else :class:`InvalidPublicValue`."""
    if isinstance(peer_public, (bytes, bytearray)):
        if len(peer_public) > (group.bits + 7) // 8:
            raise InvalidPublicValue(f"KE data of {len(peer_public)} bytes for group {group.number}: expected at "
                                     f"most {(group.bits + 7) // 8} bytes (the {group.bits}-bit prime)")
        peer_public = int.from_bytes(peer_public, "big")
    if isinstance(peer_public, bool) or not isinstance(peer_public, int) or not 1 < peer_public < group.prime - 1:
        raise InvalidPublicValue(f"peer public value of group {group.number} out of range: expected 1 < y < p - 1")
    return peer_public


def _cbc_alg(alg, key: bytes, iv: bytes, data: bytes) -> CipherAlg:
    """The :class:`CipherAlg` of a CBC call after checking key, IV and data sizes."""
    alg = _cipher_of(alg)
    block = CIPHER_BLOCK_BYTES[alg]
    if len(key) != CIPHER_KEY_BYTES[alg]:
        raise InvalidCipherInput(f"{alg.name} key of {len(key)} bytes: expected {CIPHER_KEY_BYTES[alg]} bytes")
    if len(iv) != block:
        raise InvalidCipherInput(f"{alg.name} IV of {len(iv)} bytes: expected {block} bytes")
    if not data or len(data) % block:
        raise InvalidCipherInput(f"{alg.name} CBC data of {len(data)} bytes: expected a positive multiple of the "
                                 f"{block}-byte block (ISAKMP pads the payloads, RFC 2408 section 3.1)")
    return alg


class IkeCrypto:
    """The card's cryptography for one IKE SA (an async context manager).

    ``device``: the :class:`~pacsim.host.device.PacDevice` (or the router's
    :class:`~pacsim.firmware.enco.service.EncoService` in front of it);
    ``owner``: who the channels belong to (``ISAKMP SA 3``; the IKE SA sets
    it). Channels opened for this SA's keys are listed in :attr:`channels`
    until :meth:`close`; with an ENCO service each is labelled ``owner``
    plus its use (``prf``, ``hash`` or ``cipher``) for ``show enco``.
    A PSK main mode plus quick modes holds six: the prf under SKEYID,
    SKEYID_a and SKEYID_d, the plain hash, and an ENCODE and a DECODE
    cipher channel under Ka (:meth:`release_key` frees a prf key early,
    e.g. SKEYID once HASH_I and HASH_R are done).
    :attr:`refused` counts the inputs refused, by error class name.
    """

    def __init__(self, device, owner: str = ""):
        self.device = device
        self.owner = owner
        self._channels = {}
        self.refused = Counter()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def channels(self) -> list:
        """The card channels this SA holds open."""
        return list(self._channels.values())

    async def close(self) -> None:
        """Close every channel this SA opened (idempotent)."""
        while self._channels:
            _, channel = self._channels.popitem()
            await self.device.close_channel(channel)

    @contextlib.contextmanager
    def counted(self):
        """Count an :class:`IkeCryptoError` raised inside in :attr:`refused` (and let it through)."""
        try:
            yield
        except IkeCryptoError as error:
            self.refused[type(error).__name__] += 1
            raise

    async def _channel(self, kind: tuple, opener):
        channel = self._channels.get(kind)
        if channel is None:
            channel = self._channels[kind] = await opener()
            label = getattr(self.device, "label", None)     # the ENCO service names owners; a bare PacDevice cannot
            if label is not None and self.owner:
                label([channel], f"{self.owner} {kind[0]}")
        return channel

    # -- random values and Diffie-Hellman ---------------------------------------------

    async def nonce(self, length: int = 16) -> bytes:
        """A nonce of ``length`` bytes (RFC 2409: 8 to 256) from the card's generator."""
        with self.counted():
            if isinstance(length, bool) or not isinstance(length, int) or not 8 <= length <= 256:
                raise IkeCryptoError(f"nonce of {length!r} bytes: expected 8 to 256 bytes (RFC 2409 section 5)")
        return await self.device.random(length)

    async def dh_keypair(self, group, private_bits: int | None = None) -> tuple:
        """``(private, public)`` of MODP ``group`` (see :func:`group_of`): a
        private exponent of ``private_bits`` bits (default the driver's
        DH_PRIVATE_BITS; the router's DHExponentlength) from the card's
        generator, ``public = g ** private mod p`` on the public-key unit.
        ``public`` is an int; :meth:`public_bytes` gives the KE payload data."""
        with self.counted():
            group = group_of(group)
        return await self.device.dh_keypair(group, private_bits=private_bits)

    @staticmethod
    def public_bytes(group, public: int) -> bytes:
        """A public value as KE payload data: big-endian, left-padded to the prime's length."""
        return public.to_bytes((group_of(group).bits + 7) // 8, "big")

    async def dh_shared(self, group, private: int, peer_public) -> bytes:
        """g^xy of MODP ``group`` from our ``private`` exponent and the peer's
        public value (an int, or KE payload bytes, big-endian), computed on
        the public-key unit and left-padded to the prime's byte length (RFC
        2409: leading zero bytes are kept). Raises :class:`InvalidPublicValue`
        unless 1 < y < p - 1 (and KE bytes are no longer than the prime)."""
        with self.counted():
            group = group_of(group)
            peer_public = _peer_value(group, peer_public)
        return await self.device.dh_shared(group, private, peer_public)

    # -- hash and prf ---------------------------------------------------------------------

    async def hash(self, alg: IkeHash, data: bytes) -> bytes:
        """The negotiated hash of ``data`` (a HASH job on a plain MAC channel)."""
        with self.counted():
            alg = _hash_of(alg)
        channel = await self._channel(("hash", alg), lambda: self.device.open_mac_channel(
            alg.plain, Direction.ENCODE, icv_bytes=alg.digest_bytes))
        return await self.device.hash(bytes(data), mac=channel)

    async def prf(self, alg: IkeHash, key: bytes, data: bytes) -> bytes:
        """HMAC-``alg`` of ``data`` under ``key`` (RFC 2104, any key length; a
        key longer than 64 bytes is hashed on the card first), as a HASH job
        on an HMAC channel kept for that key."""
        with self.counted():
            alg = _hash_of(alg)
        key = bytes(key)
        channel = self._channels.get(("prf", alg, key))
        if channel is None:
            card_key = await self.hash(alg, key) if len(key) > HMAC_BLOCK_BYTES else key
            channel = await self._channel(("prf", alg, key), lambda: self.device.open_mac_channel(
                alg.hmac, Direction.ENCODE, card_key, icv_bytes=alg.digest_bytes))
        return await self.device.hash(bytes(data), mac=channel)

    async def prf_expand(self, alg: IkeHash, key: bytes, first: bytes, length: int, follow: bytes = b"") -> bytes:
        """``length`` bytes of K1 | K2 | ... with K1 = prf(key, first) and
        Kn = prf(key, Kn-1 | follow): RFC 2409 appendix B (``first`` one
        zero byte, ``follow`` empty) and the KEYMAT expansion of section 5.5
        (both the seed)."""
        block = await self.prf(alg, key, first)
        output = block
        while len(output) < length:
            block = await self.prf(alg, key, block + follow)
            output += block
        return output[:length]

    async def release_key(self, alg: IkeHash, key: bytes) -> None:
        """Close the prf channel of ``key`` now (a key used once, such as the
        pre-shared key or SKEYID_e during expansion); no-op if none is open."""
        with self.counted():
            alg = _hash_of(alg)
        channel = self._channels.pop(("prf", alg, bytes(key)), None)
        if channel is not None:
            await self.device.close_channel(channel)

    # -- CBC of ISAKMP payloads -------------------------------------------------------------

    def _check_cbc(self, alg, key: bytes, iv: bytes, data: bytes) -> CipherAlg:
        with self.counted():
            return _cbc_alg(alg, key, iv, data)

    async def _cipher_channel(self, alg: CipherAlg, direction: Direction, key: bytes):
        return await self._channel(("cipher", alg, direction, key), lambda: self.device.open_cipher_channel(
            alg, direction, key))

    async def encrypt(self, alg: CipherAlg, key: bytes, iv: bytes, plaintext: bytes) -> tuple:
        """CBC-encrypt ``plaintext`` (a multiple of the block) with ``key`` and
        ``iv`` on a cipher channel; returns ``(ciphertext, next IV)``, the
        next IV being the last ciphertext block (RFC 2409 appendix B)."""
        key, iv, plaintext = bytes(key), bytes(iv), bytes(plaintext)
        alg = self._check_cbc(alg, key, iv, plaintext)
        channel = await self._cipher_channel(alg, Direction.ENCODE, key)
        output = await self.device.encode(iv + plaintext, skip=len(iv), cipher=channel)
        ciphertext = output[len(iv):]
        return ciphertext, ciphertext[-len(iv):]

    async def decrypt(self, alg: CipherAlg, key: bytes, iv: bytes, ciphertext: bytes) -> tuple:
        """CBC-decrypt ``ciphertext`` (a multiple of the block) with ``key``
        and ``iv``; returns ``(plaintext, next IV)``, the next IV being the
        last ciphertext block."""
        key, iv, ciphertext = bytes(key), bytes(iv), bytes(ciphertext)
        alg = self._check_cbc(alg, key, iv, ciphertext)
        channel = await self._cipher_channel(alg, Direction.DECODE, key)
        output = await self.device.decode(iv + ciphertext, skip=len(iv), cipher=channel)
        return output[len(iv):], ciphertext[-len(iv):]
