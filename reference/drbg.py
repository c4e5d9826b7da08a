# Ref: NIST SP 800-90A Rev. 1 section 10.2.1 (CTR_DRBG, AES-256, no derivation function)
"""Reference CTR_DRBG: AES-256 without a derivation function, in Python.

The card's random number generator (:class:`pacsim.hdl.engines.drbg.CtrDrbg`)
is this deterministic random bit generator in gateware; this model is what
the tests hold it against, what the card model uses, and where the constants
of the gateware's known-answer self-test come from (:data:`KAT_BLOCKS`,
:data:`INSTANTIATE_ZERO`). The block cipher is
``cryptography``'s AES in ECB mode, one block at a time.

Parameters (SP 800-90A table 3, AES-256, no df):

================== ==============================================================
``blocklen``       128 bits (the output block, ``V``)
``keylen``         256 bits (``Key``)
``seedlen``        384 bits: ``Key || V``; entropy input exactly this long
``ctr_len``        128 (= blocklen): ``V`` is incremented modulo 2^128
``reseed_interval`` requests between reseeds, at most 2^48; the card uses
                   :data:`~pacsim.contract.rng.RESEED_INTERVAL` = 2^16
max request        2^19 bits (:data:`MAX_REQUEST_BYTES` = 65536 bytes)
================== ==============================================================

Without a derivation function the personalization string (instantiate) and
the additional input (reseed, generate) are at most ``seedlen`` bits and are
padded on the right with zero bits to ``seedlen``; the seed material is
``entropy_input XOR personalization_string`` (10.2.1.3.1) and
``entropy_input XOR additional_input`` (10.2.1.4.1). :func:`seed_material`
forms it for the gateware's ``seed`` port.

Prediction resistance is not offered: the simulation has no entropy source,
the caller supplies every entropy input. Refusals raise :class:`DrbgError`
subclasses: :class:`InvalidInput` (also a ValueError), :class:`NotInstantiated`,
:class:`ReseedRequired`.
"""
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..contract.rng import KAT_ENTROPY, RESEED_INTERVAL

__all__ = [
    "BLOCK_BYTES",
    "KEY_BYTES",
    "MAX_REQUEST_BYTES",
    "INSTANTIATE_ZERO",
    "KAT_BLOCKS",
    "SEED_BYTES",
    "CtrDrbg",
    "DrbgError",
    "InvalidInput",
    "NotInstantiated",
    "ReseedRequired",
    "seed_material",
]

BLOCK_BYTES = 16                  # blocklen / 8
KEY_BYTES = 32                    # keylen / 8
SEED_BYTES = KEY_BYTES + BLOCK_BYTES   # seedlen / 8
MAX_REQUEST_BYTES = (1 << 19) // 8


class DrbgError(Exception):
    """A DRBG function refused to run (SP 800-90A: returned an error status)."""


class InvalidInput(DrbgError, ValueError):
    """An input of the wrong length, a request too large or a bad reseed interval."""


class NotInstantiated(DrbgError):
    """Reseed or generate on an uninstantiated DRBG."""


class ReseedRequired(DrbgError):
    """More than ``reseed_interval`` generate requests since the last (re)seed."""


def _check_length(value: bytes, what: str, *, exact: bool = False) -> bytes:
    value = bytes(value)
    if len(value) > SEED_BYTES or (exact and len(value) != SEED_BYTES):
        expected = f"exactly {SEED_BYTES}" if exact else f"at most {SEED_BYTES}"
        raise InvalidInput(f"{what} of {len(value)} bytes: expected {expected} bytes "
                              "(seedlen = 384 bits, CTR_DRBG AES-256 without derivation function)")
    return value


def _xor(a: bytes, b: bytes) -> bytes:
    """``a XOR b``, ``b`` padded on the right with zero bytes to ``len(a)``."""
    b = b.ljust(len(a), b"\0")
    return bytes(x ^ y for x, y in zip(a, b))


def seed_material(entropy_input: bytes, extra: bytes = b"") -> int:
    """The 384-bit seed material ``entropy_input XOR extra`` (personalization
    string or additional input, zero-padded) as the integer the gateware's
    ``seed`` port takes: the first byte in bits [383:376]."""
    entropy_input = _check_length(entropy_input, "entropy input", exact=True)
    return int.from_bytes(_xor(entropy_input, _check_length(extra, "personalization/additional input")),
                          "big")


class CtrDrbg:
    """One CTR_DRBG instance, instantiated from ``entropy_input`` (48 bytes)
    and an optional ``personalization`` string (at most 48 bytes).

    ``key``, ``v`` and ``reseed_counter`` are the working state of SP 800-90A
    10.2.1.1; :meth:`uninstantiate` zeroizes it.
    """

    def __init__(self, entropy_input: bytes, personalization: bytes = b"", *,
                 reseed_interval: int = RESEED_INTERVAL):
        if not 1 <= reseed_interval <= 1 << 48:
            raise InvalidInput(f"reseed interval {reseed_interval}: expected 1 .. 2^48 requests")
        self.reseed_interval = reseed_interval
        self._cipher_key = self._encryptor = None
        self._instantiate(entropy_input, personalization)

    # -- SP 800-90A 10.2.1.2 -------------------------------------------------

    def _block(self) -> bytes:
        """Increment ``V`` (ctr_len = blocklen) and encrypt it under ``Key``."""
        self.v = ((int.from_bytes(self.v, "big") + 1) % (1 << 128)).to_bytes(BLOCK_BYTES, "big")
        return self._cipher().update(self.v)

    def __getstate__(self) -> dict:
        """The working state for copies and pickles; the key schedule is rebuilt from ``Key``."""
        return dict(self.__dict__, _cipher_key=None, _encryptor=None)

    def _cipher(self):
        """AES-256 ECB under ``Key``, kept while ``Key`` is (the four blocks of
        a GENERATE and its update share one key schedule)."""
        if self._cipher_key != self.key:
            self._cipher_key, self._encryptor = self.key, Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        return self._encryptor

    def _update(self, provided_data: bytes) -> None:
        """CTR_DRBG_Update: ``Key || V`` from three cipher blocks XOR ``provided_data`` (seedlen)."""
        temp = b"".join(self._block() for _ in range(SEED_BYTES // BLOCK_BYTES))
        temp = _xor(temp, provided_data)
        self.key, self.v = temp[:KEY_BYTES], temp[KEY_BYTES:]

    # -- SP 800-90A 10.2.1.3.1, 10.2.1.4.1, 10.2.1.5.1 ------------------------

    def _instantiate(self, entropy_input: bytes, personalization: bytes) -> None:
        material = _xor(_check_length(entropy_input, "entropy input", exact=True),
                        _check_length(personalization, "personalization string"))
        self.key, self.v = bytes(KEY_BYTES), bytes(BLOCK_BYTES)
        self._update(material)
        self.reseed_counter = 1

    def reseed(self, entropy_input: bytes, additional_input: bytes = b"") -> None:
        """Reseed with a fresh 48-byte entropy input and optional additional input."""
        if self.key is None:
            raise NotInstantiated("reseed of an uninstantiated CTR_DRBG: expected instantiate first")
        self._update(_xor(_check_length(entropy_input, "entropy input", exact=True),
                          _check_length(additional_input, "additional input")))
        self.reseed_counter = 1

    def generate(self, n_bytes: int, additional_input: bytes = b"") -> bytes:
        """``n_bytes`` (at most 65536) pseudorandom bytes; the working state
        then takes the Update step with ``additional_input`` (zero if none)."""
        if self.key is None:
            raise NotInstantiated("generate on an uninstantiated CTR_DRBG: expected instantiate first")
        if not 0 <= n_bytes <= MAX_REQUEST_BYTES:
            raise InvalidInput(f"request of {n_bytes} bytes: expected 0 .. {MAX_REQUEST_BYTES} "
                                  "(max_number_of_bits_per_request = 2^19)")
        if self.reseed_counter > self.reseed_interval:
            raise ReseedRequired(f"{self.reseed_counter - 1} requests since the last seed: "
                                 f"expected a reseed after {self.reseed_interval}")
        additional_input = _check_length(additional_input, "additional input")
        if additional_input:
            additional_input = additional_input.ljust(SEED_BYTES, b"\0")
            self._update(additional_input)
        else:
            additional_input = bytes(SEED_BYTES)
        blocks = -(-n_bytes // BLOCK_BYTES)
        output = b"".join(self._block() for _ in range(blocks))[:n_bytes]
        self._update(additional_input)
        self.reseed_counter += 1
        return output

    def generate_blocks(self, blocks: int) -> list:
        """One request of ``blocks`` 128-bit blocks, as the integers the
        gateware's ``o`` stream carries (first byte in bits [127:120])."""
        data = self.generate(blocks * BLOCK_BYTES)
        return [int.from_bytes(data[k:k + BLOCK_BYTES], "big") for k in range(0, len(data), BLOCK_BYTES)]

    def uninstantiate(self) -> None:
        """Zeroize the working state; the instance can no longer be used."""
        self.key = self.v = None
        self._cipher_key = self._encryptor = None
        self.reseed_counter = 0

    @property
    def state(self) -> int:
        """``Key || V`` as a 384-bit integer (``Key``'s first byte on top)."""
        if self.key is None:
            raise NotInstantiated("no working state: the CTR_DRBG is uninstantiated")
        return int.from_bytes(self.key + self.v, "big")


def _known_answers():
    kat = CtrDrbg(KAT_ENTROPY)
    return [kat.generate_blocks(1)[0], kat.generate_blocks(1)[0]]


#: The card's self-test: the two one-block generate requests after instantiating
#: from :data:`~pacsim.contract.rng.KAT_ENTROPY`.
KAT_BLOCKS = _known_answers()
#: ``Key || V`` after instantiating with all-zero seed material: an instantiation
#: with seed material ``s`` is ``INSTANTIATE_ZERO ^ s``.
INSTANTIATE_ZERO = CtrDrbg(bytes(SEED_BYTES)).state
