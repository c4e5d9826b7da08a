# Ref: RFC 8017 sections 3.1-3.2 (RSA keys), 5.1-5.2 (RSAEP/RSADP, RSASP1/RSAVP1), 7.2 and 9.2 (PKCS#1 v1.5 padding)
# Ref: RFC 2409 section 5.1 (IKEv1 RSA signatures: PKCS#1 over the raw HASH, no DigestInfo), FIPS 186-4 C.3
"""RSA keys of the ENCO key database and the RSA operations on the card.

:class:`RsaKey` holds a modulus ``n``, public exponent ``e`` and, for a
private key, ``d``. Keys come from:

- :func:`generate_rsa` (``create enco key=N type=rsa length=1024|2048``):
  prime candidates are random bits from the injected ``random_bytes(n)``
  (the card's RNG when the router plugs it in); the primality test
  (Miller-Rabin, bases from the same source) runs in host Python, the
  firmware's CPU, not on the card;
- :func:`load_rsa` (``create enco key=N type=rsa file=FILE``): a PEM or DER
  file holding a private key (PKCS#1 or PKCS#8) or a public key
  (SubjectPublicKeyInfo or PKCS#1); ``cryptography`` only parses the file.

Every RSA operation is a modular exponentiation on the card's public-key
unit (``device.modexp``, operands up to ``32 * identity.pk_words`` bits):
:func:`rsa_sign`/:func:`rsa_verify` (PKCS#1 v1.5 block type 1 around the
given octets, which IKEv1 signs without a DigestInfo) and
:func:`rsa_encrypt`/:func:`rsa_decrypt` (block type 2). The moduli allowed
are :data:`RSA_BITS` bits long.
"""
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa as _rsa
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key, load_der_public_key, load_pem_private_key, load_pem_public_key)

__all__ = ["RsaKey", "RsaKeyError", "RSA_BITS", "PUBLIC_EXPONENT", "generate_rsa", "load_rsa", "rsa_sign",
           "rsa_verify", "rsa_encrypt", "rsa_decrypt"]

#: Modulus sizes of ``create enco key type=rsa length=`` (bits; the card's limit is 2048).
RSA_BITS = (512, 1024, 2048)
#: The public exponent of generated keys (F4).
PUBLIC_EXPONENT = 65537
#: Miller-Rabin rounds per candidate (error below 2**-80 for random candidates, FIPS 186-4 table C.2).
MILLER_RABIN_ROUNDS = 40
#: Least random padding octets of a PKCS#1 v1.5 block (RFC 8017 section 7.2.1).
MIN_PADDING = 8


class RsaKeyError(ValueError):
    """An RSA key file, size or operand the router refuses."""


@dataclass(frozen=True)
class RsaKey:
    """An RSA key: modulus ``n``, public exponent ``e``, private exponent ``d`` (None: a public key)."""
    n: int
    e: int
    d: int | None = None

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    @property
    def octets(self) -> int:
        """Octets of the modulus (k of RFC 8017): the length of a signature or ciphertext."""
        return (self.n.bit_length() + 7) // 8

    @property
    def private(self) -> bool:
        return self.d is not None

    def public(self) -> "RsaKey":
        """The public half."""
        return RsaKey(self.n, self.e)

    def check(self, what: str = "RSA key") -> "RsaKey":
        """This key if the card can use it (an odd modulus of at most
        max(:data:`RSA_BITS`) bits, 3 <= e < n); :class:`RsaKeyError` otherwise."""
        if self.n % 2 == 0 or not 3 <= self.e < self.n or self.bits > max(RSA_BITS) or self.bits < min(RSA_BITS):
            raise RsaKeyError(f"{what}: a {self.bits}-bit modulus (odd: {self.n % 2 == 1}) and exponent of "
                              f"{self.e.bit_length()} bits; the card takes odd moduli of {min(RSA_BITS)} to "
                              f"{max(RSA_BITS)} bits and 3 <= e < n")
        return self

    def matches(self, other) -> bool:
        """Whether ``other`` (an RsaKey) has the same public key."""
        return (self.n, self.e) == (other.n, other.e)

    def __repr__(self) -> str:          # the private exponent is never printed by accident
        return f"RsaKey({self.bits} bits, {'private' if self.private else 'public'})"


def _miller_rabin(n: int, random_bytes) -> bool:
    """Whether odd ``n`` > 3 is probably prime (bases from ``random_bytes``)."""
    s, r = 0, n - 1
    while not r & 1:
        s, r = s + 1, r >> 1
    size = (n.bit_length() + 7) // 8
    for _ in range(MILLER_RABIN_ROUNDS):
        a = 2 + int.from_bytes(random_bytes(size), "big") % (n - 3)
        y = pow(a, r, n)
        if y in (1, n - 1):
            continue
        for _ in range(s - 1):
            y = y * y % n
            if y == n - 1:
                break
        else:
            return False
    return True


_SMALL_PRIMES = tuple(p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p ** 0.5) + 1, 2)))


def _prime(bits: int, random_bytes) -> int:
    """A random prime of ``bits`` bits with the two top bits set (so p*q has 2*bits bits)."""
    while True:
        candidate = int.from_bytes(random_bytes(bits // 8), "big") | 3 << (bits - 2) | 1
        if any(candidate % p == 0 for p in _SMALL_PRIMES):
            continue
        if (candidate - 1) % PUBLIC_EXPONENT and _miller_rabin(candidate, random_bytes):
            return candidate


def generate_rsa(bits: int, random_bytes) -> RsaKey:
    """A new private key with a ``bits``-bit modulus (one of :data:`RSA_BITS`)
    and e = 65537; see the module docstring for where the randomness comes from."""
    if bits not in RSA_BITS:
        raise RsaKeyError(f"an RSA key is {' or '.join(map(str, RSA_BITS))} bits long, not {bits}")
    while True:
        p, q = _prime(bits // 2, random_bytes), _prime(bits // 2, random_bytes)
        if p != q:
            break
    return RsaKey(p * q, PUBLIC_EXPONENT, pow(PUBLIC_EXPONENT, -1, (p - 1) * (q - 1)))


def load_rsa(path) -> RsaKey:
    """The RSA key in file ``path`` (PEM or DER, private or public; see the module docstring)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise RsaKeyError(f"cannot read RSA key file {path}: {error.strerror}") from None
    pem = data.lstrip().startswith(b"-----")
    loaded = None
    for loader in ((load_pem_private_key, load_pem_public_key) if pem else
                   (load_der_private_key, load_der_public_key)):
        try:
            loaded = loader(data, None) if loader in (load_pem_private_key, load_der_private_key) else loader(data)
            break
        except (ValueError, TypeError):
            continue
    if isinstance(loaded, _rsa.RSAPrivateKey):
        numbers = loaded.private_numbers()
        key = RsaKey(numbers.public_numbers.n, numbers.public_numbers.e, numbers.d)
    elif isinstance(loaded, _rsa.RSAPublicKey):
        numbers = loaded.public_numbers()
        key = RsaKey(numbers.n, numbers.e)
    else:
        raise RsaKeyError(f"{path} holds no unencrypted RSA key (expected a PEM or DER RSA private or public key)")
    return key.check(str(path))


def _padded(key: RsaKey, block_type: int, data: bytes, filler: bytes) -> int:
    """``00 | block_type | filler | 00 | data`` as an integer (RFC 8017 7.2.1 and 9.2)."""
    if len(data) > key.octets - 3 - MIN_PADDING:
        raise RsaKeyError(f"{len(data)} octets do not fit a {key.bits}-bit RSA block")
    return int.from_bytes(bytes((0, block_type)) + filler + b"\0" + bytes(data), "big")


def _unpadded(key: RsaKey, block_type: int, value: int) -> bytes | None:
    """The data of a block of ``block_type`` (and for type 1 all-FF filler), or None when it is not one."""
    block = value.to_bytes(key.octets, "big")
    end = block.find(b"\0", 2)
    if block[:2] != bytes((0, block_type)) or end < 2 + MIN_PADDING:
        return None
    if block_type == 1 and block[2:end] != b"\xff" * (end - 2):
        return None
    return block[end + 1:]


async def _private(device, key: RsaKey, value: int) -> int:
    if not key.private:
        raise RsaKeyError(f"{key!r} has no private exponent")
    return await device.modexp(value, key.d, key.n)


async def rsa_sign(device, key: RsaKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 of ``data`` as given (IKEv1: the raw HASH_I/HASH_R,
    no DigestInfo), the private exponentiation on the card; ``key.octets`` octets."""
    value = _padded(key, 1, data, b"\xff" * (key.octets - 3 - len(data)))
    return (await _private(device, key, value)).to_bytes(key.octets, "big")


async def rsa_verify(device, key: RsaKey, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``key``'s PKCS#1 v1.5 type-1 signature of ``data`` (public exponentiation on the card)."""
    value = int.from_bytes(signature, "big")
    if len(signature) != key.octets or value >= key.n:
        return False
    return _unpadded(key, 1, await device.modexp(value, key.e, key.n)) == bytes(data)


async def rsa_encrypt(device, key: RsaKey, data: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 encryption of ``data`` under ``key`` (non-zero random padding from the card's RNG)."""
    filler = b""
    need = key.octets - 3 - len(data)
    while len(filler) < need:
        filler += bytes(b for b in await device.random(need - len(filler)) if b)
    value = _padded(key, 2, data, filler)
    return (await device.modexp(value, key.e, key.n)).to_bytes(key.octets, "big")


async def rsa_decrypt(device, key: RsaKey, ciphertext: bytes) -> bytes | None:
    """The data of an RSAES-PKCS1-v1_5 ``ciphertext`` under private ``key``, or None when it does not decrypt."""
    value = int.from_bytes(ciphertext, "big")
    if len(ciphertext) != key.octets or value >= key.n:
        return None
    return _unpadded(key, 2, await _private(device, key, value))
