# Ref: ../shared/spec/ipsec-commands.md; README.md, "Descriptor rings and channels" (rendered from this file)
"""Opcodes, services, algorithms and result statuses of the card's crypto datapath.

The single source of truth for every code the card and the host exchange in
descriptors and channel contexts (:mod:`.layouts` places them in fields):

- :class:`Opcode`, :class:`Service`, :class:`Direction`, :class:`CipherAlg`,
  :class:`CipherMode`, :class:`IvSource`, :class:`MacAlg`, :class:`CompAlg`:
  what a command and a channel ask for;
- :class:`ResultStatus` and its counting: :data:`FAILURES` (counted as
  ``fail``), :func:`outcome` (``good``, ``fail`` or ``discard``);
- :class:`AlgUnit`, :data:`COUNTER_KINDS`, :func:`alg_unit`: the counter window's
  indexing;
- sizes by algorithm (bytes): :data:`CIPHER_BLOCK_BYTES`, :data:`CIPHER_KEY_BYTES`,
  :data:`MAC_DIGEST_BYTES`; limits of a command: :data:`RANDOM_MAX_BYTES`,
  :data:`NO_CHANNEL`, :data:`MAX_SEGMENTS`.

Plain Python enums: the gateware uses them as Amaranth shapes, the driver and
the firmware without loading Amaranth.
"""
import enum

__all__ = [
    "Opcode", "Service", "CipherAlg", "CipherMode", "IvSource", "MacAlg", "CompAlg", "Direction",
    "ResultStatus", "FAILURES", "outcome", "AlgUnit", "COUNTER_KINDS", "NO_CHANNEL", "MAX_SEGMENTS",
    "RANDOM_MAX_BYTES", "CIPHER_BLOCK_BYTES", "CIPHER_KEY_BYTES", "MAC_DIGEST_BYTES", "alg_unit",
]


class Opcode(enum.IntEnum):
    """Command descriptor ``opcode``."""
    COPY = 1        #: move the source to the destination unchanged
    ENCODE = 2      #: encrypt the payload, then MAC header + ciphertext; append the ICV
    DECODE = 3      #: MAC header + ciphertext and compare the trailing ICV; decrypt the payload
    HASH = 4        #: digest a message of any byte length with a MAC channel; the output is the digest only
    COMPRESS = 5    #: LZS-compress a message of any byte length with a compression channel (ENCODE)
    DECOMPRESS = 6  #: decompress an LZS stream of any byte length with a compression channel (DECODE)
    RANDOM = 7      #: write ``length`` bytes of the RNG's output (1..RANDOM_MAX_BYTES) to the destination


class Service(enum.IntEnum):
    """What a channel does (one service per channel, as the router allocates them)."""
    NONE = 0
    CIPHER = 1
    MAC = 2
    COMPRESSION = 3


class Direction(enum.IntEnum):
    ENCODE = 0
    DECODE = 1


class CipherAlg(enum.IntEnum):
    """Cipher channel ``alg``."""
    DES = 1           #: DES-CBC/ECB, one 8-byte key
    TDES_2KEY = 2     #: 3DES EDE with K3 = K1 (keys K1, K2), inner CBC
    TDES_INNER = 3    #: 3DES EDE3, CBC around the EDE function (the standard 3DES-CBC)
    TDES_OUTER = 4    #: 3DES outer CBC: each DES stage chained by its own CBC (IV1..IV3)
    AES128 = 5
    AES192 = 6
    AES256 = 7


class CipherMode(enum.IntEnum):
    CBC = 0
    ECB = 1


class IvSource(enum.IntEnum):
    """Where CBC takes IV1 from."""
    PACKET = 0     #: the block-size bytes just before the encrypted region (ESP: after SPI and sequence)
    CONTEXT = 1    #: the channel context's IV field(s)


class MacAlg(enum.IntEnum):
    """MAC channel ``alg``."""
    HMAC_MD5 = 1      #: RFC 2104 over MD5 from precomputed pad states
    HMAC_SHA1 = 2     #: RFC 2104 over SHA-1 from precomputed pad states
    DES_MAC = 3       #: CBC-MAC with DES, IV 0 (ANSI X9.9), the MAC is the last block's top bytes
    SHA1 = 4          #: plain SHA-1 (FIPS 180-4), no key: the digest from the standard IV
    MD5 = 5           #: plain MD5 (RFC 1321), no key


class CompAlg(enum.IntEnum):
    """Compression channel ``alg``."""
    LZS = 1           #: ANSI X3.241 LZS, history cleared per packet (RFC 2395)


class ResultStatus(enum.IntEnum):
    """Result descriptor ``status``."""
    OK = 0
    MAC_MISMATCH = 1      #: decode: computed ICV differs from the packet's (output must be dropped)
    BAD_OPCODE = 2        #: unknown opcode
    BAD_CHANNEL = 3       #: channel number >= the card's channel count
    CHANNEL_CLOSED = 4    #: a named channel is not open
    CHANNEL_MISMATCH = 5  #: channel service or direction does not fit the opcode or slot
    BAD_CONTEXT = 6       #: unknown algorithm, mode or ICV length in an open channel's context
    BAD_LENGTH = 7        #: lengths not dword multiples, cipher region not block multiple, skip too long,
                          #: or destination smaller than the output
    BAD_DESCRIPTOR = 8    #: a source/destination descriptor not owned by the card, zero-length, or too many
    MASTER_ABORT = 9      #: a data transfer was master-aborted
    TARGET_ABORT = 10     #: a data transfer was target-aborted
    PARITY = 11           #: a data parity error during the job
    OUTPUT_OVERFLOW = 12  #: COMPRESS/DECOMPRESS: the output would not fit the destination (what fits is written)
    STREAM_BAD_OFFSET = 13  #: DECOMPRESS: a match reaches before the start of the output (or 11-bit offset 0)
    STREAM_TRUNCATED = 14   #: DECOMPRESS: the stream ends before its end marker
    RNG_FAILED = 15       #: RANDOM: the generator refused (not instantiated, reseed required, health test failed)


#: Statuses of jobs that failed in processing (counted as ``fail``); OK is
#: ``good`` and every other status is a refusal before processing (``discard``).
FAILURES = frozenset({ResultStatus.MAC_MISMATCH, ResultStatus.MASTER_ABORT, ResultStatus.TARGET_ABORT,
                      ResultStatus.PARITY, ResultStatus.OUTPUT_OVERFLOW, ResultStatus.STREAM_BAD_OFFSET,
                      ResultStatus.STREAM_TRUNCATED})


def outcome(status: ResultStatus) -> str:
    """``"good"``, ``"fail"`` or ``"discard"``: how a job of ``status`` is counted."""
    if status is ResultStatus.OK:
        return "good"
    return "fail" if status in FAILURES else "discard"


class AlgUnit(enum.IntEnum):
    """Algorithm processing units with counters (``show ipsec counter=alg``)."""
    DES = 0
    TDES_INNER = 1
    TDES_OUTER = 2
    TDES_2KEY = 3
    AES = 4
    SHA = 5
    MD5 = 6
    DES_MAC = 7
    LZS = 8


#: Counters of each algorithm unit, in window order.
COUNTER_KINDS = ("encode_good", "encode_fail", "encode_discard",
                 "decode_good", "decode_fail", "decode_discard")

#: Cipher block size, key bytes by algorithm; MAC digest bytes.
CIPHER_BLOCK_BYTES = {CipherAlg.DES: 8, CipherAlg.TDES_2KEY: 8, CipherAlg.TDES_INNER: 8,
                      CipherAlg.TDES_OUTER: 8, CipherAlg.AES128: 16, CipherAlg.AES192: 16,
                      CipherAlg.AES256: 16}
CIPHER_KEY_BYTES = {CipherAlg.DES: 8, CipherAlg.TDES_2KEY: 16, CipherAlg.TDES_INNER: 24,
                    CipherAlg.TDES_OUTER: 24, CipherAlg.AES128: 16, CipherAlg.AES192: 24,
                    CipherAlg.AES256: 32}
MAC_DIGEST_BYTES = {MacAlg.HMAC_MD5: 16, MacAlg.HMAC_SHA1: 20, MacAlg.DES_MAC: 8,
                    MacAlg.SHA1: 20, MacAlg.MD5: 16}

#: Most bytes one RANDOM command may ask for (one DRBG request of 4096 blocks, SP 800-90A).
RANDOM_MAX_BYTES = 65536

#: Command slot value meaning "no channel".
NO_CHANNEL = 0xFF
#: Most segment descriptors one command may use per direction.
MAX_SEGMENTS = 8


def alg_unit(service: Service, alg: int) -> AlgUnit:
    """The counter unit of a channel's algorithm."""
    if service is Service.CIPHER:
        return {CipherAlg.DES: AlgUnit.DES, CipherAlg.TDES_2KEY: AlgUnit.TDES_2KEY,
                CipherAlg.TDES_INNER: AlgUnit.TDES_INNER, CipherAlg.TDES_OUTER: AlgUnit.TDES_OUTER,
                CipherAlg.AES128: AlgUnit.AES, CipherAlg.AES192: AlgUnit.AES,
                CipherAlg.AES256: AlgUnit.AES}[CipherAlg(alg)]
    if service is Service.MAC:
        return {MacAlg.HMAC_MD5: AlgUnit.MD5, MacAlg.HMAC_SHA1: AlgUnit.SHA,
                MacAlg.DES_MAC: AlgUnit.DES_MAC, MacAlg.SHA1: AlgUnit.SHA,
                MacAlg.MD5: AlgUnit.MD5}[MacAlg(alg)]
    if service is Service.COMPRESSION:
        return {CompAlg.LZS: AlgUnit.LZS}[CompAlg(alg)]
    raise ValueError(f"no algorithm unit for service {service!r}")
