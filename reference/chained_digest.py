# Ref: FIPS 180-4 section 6.1.2 (SHA-1), RFC 1321 section 3.4 (MD5), RFC 2104 section 2 (HMAC pad states)
# Ref: OpenSSL 3.0 manual, SHA1_Init(3) and MD5_Init(3) (the low-level digest functions and SHA_CTX/MD5_CTX)
"""SHA-1 and MD5 from any chaining state, computed by OpenSSL's libcrypto.

The card computes HMAC from a MAC channel's pad states (it never sees the
key), and the driver writes those states, so both need the hash to start
from, or stop at, a chaining state. :mod:`hashlib` cannot: its objects
start from the standard IV and keep their state hidden. libcrypto's
low-level digest functions keep it in a public structure (``SHA_CTX``:
``h0``..``h4``, the bit count ``Nl``/``Nh``, a block buffer and its fill
``num``; ``MD5_CTX`` the same with ``A``..``D``), so this module fills that
structure and lets libcrypto's ``SHA1_Update``/``SHA1_Final`` (``MD5_*``)
run, loaded with :mod:`ctypes` from the libcrypto that Python's own
:mod:`hashlib` links (Debian package ``libssl3``). Results are the same
functions as :func:`~pacsim.reference.digests.sha1_compress` and
:func:`~pacsim.reference.digests.md5_compress` (tests hold them against
those and against :mod:`hashlib`/:mod:`hmac`), at C speed.

States are word tuples: SHA-1 ``(H0, .., H4)``, MD5 ``(A, B, C, D)``;
:func:`state_words` and :func:`packed_state` convert from and to the
packed integers of :mod:`~pacsim.reference.digests` (SHA-1
``H0<<128 | ... | H4``, MD5 ``A<<96 | ... | D``).

- :class:`ChainedHash`: ``update(data)`` any pieces, ``digest()`` the
  padded final digest of everything hashed from the state (the bytes
  already hashed into the state count in the length, as HMAC's pad block);
- :func:`hmac_pad_states`: the driver's ``(inner, outer)`` packed states of
  a key, as :func:`pacsim.reference.digests.hmac_pad_states`.
"""
import ctypes
import ctypes.util

from .digests import hmac_pad_blocks

__all__ = ["ChainedHash", "hmac_pad_states", "state_words", "packed_state", "SHA1_IV_WORDS", "MD5_IV_WORDS",
           "DIGEST_WORDS", "LibcryptoMissing"]

#: Chaining-state words of each algorithm (SHA-1 five, MD5 four).
DIGEST_WORDS = {"sha1": 5, "md5": 4}
#: The standard initial states (FIPS 180-4 5.3.1, RFC 1321 3.3), as word tuples.
SHA1_IV_WORDS = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
MD5_IV_WORDS = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
_BLOCK = 64


class LibcryptoMissing(RuntimeError):
    """libcrypto, or its low-level SHA-1/MD5 functions, cannot be loaded."""


def _context_type(words: int):
    """``SHA_CTX`` (5 words) or ``MD5_CTX`` (4): state, Nl, Nh, data[16], num (32-bit words)."""
    return type(f"Ctx{words}", (ctypes.Structure,), {"_fields_": [
        ("h", ctypes.c_uint32 * words), ("Nl", ctypes.c_uint32), ("Nh", ctypes.c_uint32),
        ("data", ctypes.c_uint32 * 16), ("num", ctypes.c_uint)]})


def _load() -> dict:
    """``{algorithm: (context type, Update, Final)}`` from libcrypto."""
    name = ctypes.util.find_library("crypto")
    try:
        lib = ctypes.CDLL(name or "libcrypto.so.3")
        functions = {}
        for algorithm, prefix in (("sha1", "SHA1"), ("md5", "MD5")):
            update, final = getattr(lib, f"{prefix}_Update"), getattr(lib, f"{prefix}_Final")
            update.argtypes, update.restype = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t), ctypes.c_int
            final.argtypes, final.restype = (ctypes.c_char_p, ctypes.c_void_p), ctypes.c_int
            functions[algorithm] = (_context_type(DIGEST_WORDS[algorithm]), update, final)
    except (OSError, AttributeError) as error:
        raise LibcryptoMissing(f"libcrypto's SHA1_Update/MD5_Update could not be loaded ({error}); expected "
                               "OpenSSL 3 (Debian package libssl3), which Python's hashlib links") from None
    return functions


_FUNCTIONS = _load()
_DIGEST_BYTES = {"sha1": 20, "md5": 16}


def state_words(state: int, words: int) -> tuple:
    """A packed state (most significant word first) as a tuple of ``words`` 32-bit words."""
    return tuple((state >> 32 * (words - 1 - i)) & 0xFFFF_FFFF for i in range(words))


def packed_state(words) -> int:
    """A word tuple as the packed state (first word most significant)."""
    packed = 0
    for word in words:
        packed = packed << 32 | word
    return packed


class ChainedHash:
    """SHA-1 or MD5 (``algorithm`` "sha1"/"md5") continued from ``state``
    (a word tuple) after ``hashed`` bytes, a multiple of the 64-byte block
    (HMAC's pad block: 64; the standard IV: 0). :meth:`update` takes data
    in any pieces; :meth:`digest` pads and returns the digest bytes
    (SHA-1 big-endian words, MD5 little-endian) and may be called once."""

    __slots__ = ("_context", "_update", "_final", "_size")

    def __init__(self, algorithm: str, state, hashed: int = 0):
        context_type, self._update, self._final = _FUNCTIONS[algorithm]
        if hashed % _BLOCK or len(state) != DIGEST_WORDS[algorithm]:
            raise ValueError(f"{algorithm} state of {len(state)} words after {hashed} bytes: expected "
                             f"{DIGEST_WORDS[algorithm]} words after a multiple of {_BLOCK} bytes")
        self._context = context = context_type()
        context.h[:] = state
        bits = 8 * hashed
        context.Nl, context.Nh = bits & 0xFFFF_FFFF, bits >> 32
        self._size = _DIGEST_BYTES[algorithm]

    def update(self, data) -> None:
        """Hash ``data`` (bytes-like) after what came before."""
        data = bytes(data)
        self._update(ctypes.byref(self._context), data, len(data))

    def digest(self) -> bytes:
        """The padded hash of everything so far."""
        out = ctypes.create_string_buffer(self._size)
        self._final(out, ctypes.byref(self._context))
        return out.raw

    def state(self) -> tuple:
        """The chaining state now (meaningful after whole blocks only)."""
        return tuple(self._context.h)


def hmac_pad_states(algorithm: str, key: bytes) -> tuple:
    """``(inner, outer)`` packed chaining states after the two pad blocks of
    ``key`` (:func:`~pacsim.reference.digests.hmac_pad_blocks`, RFC 2104
    section 2): the same values as :func:`pacsim.reference.digests.hmac_pad_states`."""
    blocks = hmac_pad_blocks(algorithm, key)
    iv = SHA1_IV_WORDS if algorithm == "sha1" else MD5_IV_WORDS
    states = []
    for block in blocks:
        chained = ChainedHash(algorithm, iv)
        chained.update(block)
        states.append(packed_state(chained.state()))
    return tuple(states)
