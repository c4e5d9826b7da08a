# Ref: spec/ipsec-commands.md §0.3 (ENCO key ids), §6.0 (create enco key ... random | value=), B48
"""The ENCO key database: numbered keys that manual SAs (ENCKEY, HASHKEY),
old SAs and ISAKMP (pre-shared keys) refer to.

A key has an id 0..65535, a :class:`KeyType` and its bytes. The manual
chapter in scope only shows ``create enco key=1 type=general random`` and
``value=...`` (L1632-1655); the ENCO chapter itself is not among our
sources, so these rules are ours:

- types: GENERAL (1..128 bytes: pre-shared and HMAC keys), DES (8 bytes),
  3DES (16 bytes for two-key, 24 for three-key 3DES), AES (16, 24 or 32);
- ``random``: the bytes come from the injected ``random_bytes(n)`` (the
  card's RNG can be plugged in); lengths default to 16 (GENERAL), 8, 24
  and 16 bytes, or ``length`` bytes;
- ``value``: ``0x`` followed by hex digits gives the bytes in hex; without
  ``0x`` a GENERAL key takes the characters themselves (the manual's
  alphanumeric pre-shared key for Microsoft clients) and the other types
  take hex digits. A key remembers the form it was entered in, and
  ``show enco key`` prints it back in that form (random keys in hex), so a
  value shown on one router can be typed into another (§6.0 step 3).

RSA keys (type RSA, ours too: see :mod:`.rsa_keys`) are made by
:meth:`KeyStore.create_rsa`, generated (``length`` in bits, 1024 by
default) or loaded from a key file; their value is the modulus and
:attr:`EncoKey.rsa` the :class:`~.rsa_keys.RsaKey`. The X.509
certificates that vouch for RSA keys are kept beside them in
:attr:`KeyStore.certificates` (:mod:`.certificates`).

Other modules may refuse the destruction of a key they use: register a
``user(key_id) -> str | None`` with :meth:`KeyStore.add_user` returning a
description of the use.
"""
import enum
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from .certificates import CertificateStore
from .rsa_keys import RsaKey, RsaKeyError, generate_rsa, load_rsa

__all__ = ["KeyType", "EncoKey", "KeyStore", "EncoKeyError", "KeyNotFound", "KeyExists", "InvalidKey", "KeyInUse",
           "parse_key_value", "MAX_KEY_ID"]

MAX_KEY_ID = 65535


class EncoKeyError(Exception):
    """Base class of key database errors."""


class KeyNotFound(EncoKeyError):
    """No key with that id."""


class KeyExists(EncoKeyError):
    """A key with that id exists already."""


class InvalidKey(EncoKeyError):
    """A key value or length that does not fit its type."""


class KeyInUse(EncoKeyError):
    """A key another module uses."""


class KeyType(enum.Enum):
    GENERAL = "GENERAL"
    DES = "DES"
    TDES = "3DES"
    AES = "AES"
    RSA = "RSA"

    @property
    def lengths(self) -> tuple[int, ...]:
        """Allowed lengths in bytes (not RSA: see :meth:`KeyStore.create_rsa`)."""
        return {"GENERAL": tuple(range(1, 129)), "DES": (8,), "3DES": (16, 24), "AES": (16, 24, 32)}[self.value]

    @property
    def default_length(self) -> int:
        """Length of a random key when none is given."""
        return {"GENERAL": 16, "DES": 8, "3DES": 24, "AES": 16}[self.value]


@dataclass(frozen=True)
class EncoKey:
    """One key: ``id``, ``type``, ``value`` (bytes), ``text`` (whether it was
    entered as characters rather than hex), ``random``, ``description`` and,
    for an RSA key, ``rsa`` (the :class:`~.rsa_keys.RsaKey`; ``value`` is its modulus)."""
    id: int
    type: KeyType
    value: bytes
    text: bool = False
    random: bool = False
    description: str | None = None
    rsa: RsaKey | None = None

    @property
    def length(self) -> int:
        return len(self.value)

    def display_value(self) -> str:
        """The value as ``show enco key`` prints it: the characters for a
        key entered as text, else ``0x`` and hex."""
        return self.value.decode("ascii") if self.text else "0x" + self.value.hex().upper()

    def __repr__(self) -> str:          # key bytes are never printed by accident
        return f"EncoKey(id={self.id}, type={self.type.value}, length={self.length})"


_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]+)\Z")


def parse_key_value(text: str, key_type: KeyType) -> tuple[bytes, bool]:
    """(bytes, entered as text) for a ``value=`` of ``key_type`` (see the module docstring)."""
    if text.lower().startswith("0x") or key_type is not KeyType.GENERAL:
        m = _HEX.match(text)
        if not m or len(m.group(1)) % 2:
            raise InvalidKey(f'"{text}" is not a hex key value: expected an even number of hex digits, '
                             "optionally after 0x")
        return bytes.fromhex(m.group(1)), False
    if not text or not all(ch.isprintable() for ch in text) or not text.isascii():
        raise InvalidKey("a GENERAL key entered as text must be printable ASCII characters")
    return text.encode("ascii"), True


class KeyStore:
    """The key database (see the module docstring)."""

    def __init__(self, random_bytes: Callable[[int], bytes] = os.urandom):
        self.random_bytes = random_bytes
        self._keys: dict[int, EncoKey] = {}
        self._users: list[Callable[[int], str | None]] = []
        self.certificates = CertificateStore()

    def add_user(self, user: Callable[[int], str | None]) -> None:
        """Register a check that says how a key is used (None: not used)."""
        self._users.append(user)

    def create(self, key_id: int, key_type: KeyType, *, random: bool = False, value: str | bytes | None = None,
               length: int | None = None, description: str | None = None) -> EncoKey:
        """``create enco key``: exactly one of ``random`` and ``value`` (RSA keys: :meth:`create_rsa`)."""
        self._check_new(key_id)
        if key_type is KeyType.RSA:
            raise InvalidKey("an RSA key is generated (LENGTH=512|1024|2048 bits) or loaded (FILE=), not RANDOM or "
                             "VALUE")
        if random == (value is not None):
            raise InvalidKey("give either RANDOM or VALUE=key-value")
        if random:
            n = key_type.default_length if length is None else length
            self._check_length(key_type, n)
            data = bytes(self.random_bytes(n))
            if len(data) != n:
                raise InvalidKey(f"the random source gave {len(data)} bytes, {n} were asked for")
            text = False
        else:
            if isinstance(value, bytes):
                data, text = value, False
            else:
                data, text = parse_key_value(value, key_type)
            self._check_length(key_type, len(data))
            if length is not None and length != len(data):
                raise InvalidKey(f"LENGTH={length} but the value is {len(data)} bytes long")
        key = EncoKey(key_id, key_type, data, text, random, description)
        self._keys[key_id] = key
        return key

    def create_rsa(self, key_id: int, *, bits: int | None = None, file: str | None = None,
                   public: RsaKey | None = None, description: str | None = None) -> EncoKey:
        """``create enco key=N type=rsa [length=bits | file=FILE]``: a key
        generated with ``random_bytes`` (``bits``, default 1024), loaded from
        ``file``, or (from code) the given ``public`` key of a peer."""
        self._check_new(key_id)
        if sum(x is not None for x in (bits, file, public)) > 1:
            raise InvalidKey("give either LENGTH=bits or FILE=key-file for an RSA key, not both")
        try:
            if public is not None:
                rsa = public.public().check("public key")
            else:
                rsa = load_rsa(file) if file is not None else generate_rsa(1024 if bits is None else bits,
                                                                            self.random_bytes)
        except RsaKeyError as error:
            raise InvalidKey(str(error)) from None
        key = EncoKey(key_id, KeyType.RSA, rsa.n.to_bytes(rsa.octets, "big"), random=file is None and public is None,
                      description=description, rsa=rsa)
        self._keys[key_id] = key
        return key

    def _check_new(self, key_id: int) -> None:
        if not 0 <= key_id <= MAX_KEY_ID:
            raise InvalidKey(f"key id {key_id} is out of range 0..{MAX_KEY_ID}")
        if key_id in self._keys:
            raise KeyExists(f"ENCO key {key_id} already exists (destroy it first)")

    @staticmethod
    def _check_length(key_type: KeyType, n: int) -> None:
        if n not in key_type.lengths:
            allowed = key_type.lengths
            what = f"{allowed[0]}..{allowed[-1]}" if len(allowed) > 3 else " or ".join(map(str, allowed))
            raise InvalidKey(f"a {key_type.value} key is {what} bytes long, not {n}")

    def destroy(self, key_id: int) -> EncoKey:
        """``destroy enco key``; refused while a registered user uses the key."""
        key = self.key(key_id)
        uses = [u for u in (user(key_id) for user in self._users) if u]
        if uses:
            raise KeyInUse(f"ENCO key {key_id} is used by {'; '.join(uses)}")
        del self._keys[key_id]
        return key

    def key(self, key_id: int) -> EncoKey:
        """The key ``key_id``; KeyNotFound if there is none."""
        try:
            return self._keys[key_id]
        except KeyError:
            raise KeyNotFound(f"ENCO key {key_id} does not exist") from None

    def get(self, key_id: int) -> EncoKey | None:
        return self._keys.get(key_id)

    def length(self, key_id: int) -> int | None:
        """Length in bytes of key ``key_id``, or None."""
        key = self._keys.get(key_id)
        return None if key is None else key.length

    def bytes(self, key_id: int) -> bytes | None:
        """The bytes of key ``key_id``, or None."""
        key = self._keys.get(key_id)
        return None if key is None else key.value

    def rsa(self, key_id: int | None) -> RsaKey | None:
        """The :class:`~.rsa_keys.RsaKey` of key ``key_id``, or None when there is no such RSA key."""
        key = self._keys.get(key_id)
        return None if key is None else key.rsa

    def keys(self) -> list[EncoKey]:
        """All keys by id."""
        return [self._keys[i] for i in sorted(self._keys)]
