# Ref: docs in README.md, "Descriptor rings and channels" (rendered from this file)
"""Descriptor, channel-context and counter layouts, opcodes and codes of the crypto datapath.

The single source of truth for everything the card and the host exchange in
host memory (descriptors) and in BAR0 windows (channel contexts, counters).
Layouts reuse :class:`~.regmap.RegisterMap`: a descriptor is a tiny map of
dwords with fields, so the HDL slices fields by their offsets and the driver
and model encode and decode through the same objects.

Byte order: host memory is little-endian as PCI carries it (the byte at the
lowest address is AD[7:0]); key and IV bytes are stored in context order
(byte *i* of a key at context byte ``KEY offset + i``), and the engines see
a block as the big-endian integer of its bytes in memory order.
"""
import enum

from .regmap import Access, Field, Register, RegisterMap

__all__ = [
    "Opcode", "Service", "CipherAlg", "CipherMode", "IvSource", "MacAlg", "CompAlg", "Direction",
    "ResultStatus", "AlgUnit", "COUNTER_KINDS", "CMD", "SEG", "RESULT", "CONTEXT",
    "CHANNEL_COUNTERS", "ALG_COUNTERS", "NO_CHANNEL", "MAX_SEGMENTS", "RANDOM_MAX_BYTES", "CIPHER_BLOCK_BYTES",
    "CIPHER_KEY_BYTES",
    "MAC_DIGEST_BYTES", "alg_unit",
]

RW, RO = Access.RW, Access.RO


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


#: Command descriptor: 16 bytes in the command ring.
CMD = RegisterMap("Command descriptor", 16, [
    Register("CONTROL", 0x0, (
        Field("cipher_channel", 0, 8, RW, 0, "cipher channel, 0xFF: none"),
        Field("mac_channel", 8, 8, RW, 0, "MAC channel, 0xFF: none"),
        Field("comp_channel", 16, 8, RW, 0, "compression channel, 0xFF: none (COMPRESS/DECOMPRESS; "
              "ENCODE/DECODE: chained with LZS)"),
        Field("opcode", 24, 4, RW, 0, "Opcode"),
        Field("own", 31, 1, RW, 0, "1: the card owns it (host sets, card clears when consumed)"),
    ), "Ownership, opcode and channels"),
    Register("LENGTH", 0x4, (
        Field("length", 0, 24, RW, 0, "source bytes (a multiple of 4; any count for HASH, COMPRESS and "
              "DECOMPRESS), ICV included on decode"),
    ), "Source length"),
    Register("SKIP", 0x8, (
        Field("skip", 0, 16, RW, 0, "leading bytes authenticated but not encrypted (ESP header + IV)"),
    ), "Header skip"),
    Register("TAG", 0xC, (
        Field("tag", 0, 32, RW, 0, "host's job id, echoed in the result"),
    ), "Job tag"),
])

#: Source and destination (scatter-gather) descriptor: 8 bytes.
SEG = RegisterMap("Segment descriptor", 8, [
    Register("CONTROL", 0x0, (
        Field("length", 0, 24, RW, 0, "segment bytes, a non-zero multiple of 4"),
        Field("last", 30, 1, RW, 0, "last segment of this command"),
        Field("own", 31, 1, RW, 0, "1: the card owns it"),
    ), "Ownership and length"),
    Register("ADDRESS", 0x4, (
        Field("address", 0, 32, RW, 0, "host byte address, 4-byte aligned"),
    ), "Segment address"),
])

#: Result descriptor: 16 bytes in the result ring.
RESULT = RegisterMap("Result descriptor", 16, [
    Register("STATUS", 0x0, (
        Field("status", 0, 8, RW, 0, "ResultStatus"),
        Field("cipher_channel", 8, 8, RW, 0, "from the command"),
        Field("mac_channel", 16, 8, RW, 0, "from the command"),
        Field("opcode", 24, 4, RW, 0, "from the command"),
        Field("own", 31, 1, RW, 0, "host arms a slot with 1; the card writes the result with 0"),
    ), "Status"),
    Register("TAG", 0x4, (
        Field("tag", 0, 32, RW, 0, "the command's tag"),
    ), "Job tag"),
    Register("BYTES", 0x8, (
        Field("bytes", 0, 24, RW, 0, "bytes written to the destination (COMPRESS/DECOMPRESS: the exact "
              "output bytes; the last dword may be partly padding)"),
        Field("comp_channel", 24, 8, RW, 0, "from the command"),
    ), "Output length"),
    Register("ADDRESS", 0xC, (
        Field("address", 0, 32, RW, 0, "failing bus address for MASTER_ABORT/TARGET_ABORT"),
    ), "Error address"),
])

#: Channel context: 128 bytes per channel in the BAR0 context window.
CONTEXT = RegisterMap("Channel context", 128, [
    Register("CONFIG", 0x00, (
        Field("open", 0, 1, RW, 0, "the channel may be used"),
        Field("direction", 1, 1, RW, 0, "Direction"),
        Field("service", 2, 2, RW, 0, "Service"),
        Field("alg", 4, 4, RW, 0, "CipherAlg, MacAlg or CompAlg"),
        Field("mode", 8, 1, RW, 0, "CipherMode (cipher channels)"),
        Field("iv_source", 9, 1, RW, 0, "IvSource (cipher channels, CBC)"),
        Field("icv_bytes", 16, 5, RW, 0, "ICV length, bytes (MAC channels): 4..digest, multiple of 4"),
    ), "What the channel does"),
    *[Register(f"KEY{i}", 0x08 + 4 * i, (Field("bytes", 0, 32, RW, 0, "key bytes, little-endian"),),
               f"Cipher key bytes {4 * i}..{4 * i + 3} (DES-MAC key for DES_MAC)") for i in range(8)],
    *[Register(f"IV{i}", 0x28 + 4 * i, (Field("bytes", 0, 32, RW, 0, "IV bytes, little-endian"),),
               f"IV bytes {4 * i}..{4 * i + 3} (3DES outer: IV1, IV2, IV3 at 0, 8, 16)") for i in range(6)],
    *[Register(f"INNER{i}", 0x40 + 4 * i, (Field("word", 0, 32, RW, 0, "chaining word"),),
               f"HMAC inner pad state word {i} (SHA-1 H{i}; MD5 A..D)") for i in range(5)],
    *[Register(f"OUTER{i}", 0x54 + 4 * i, (Field("word", 0, 32, RW, 0, "chaining word"),),
               f"HMAC outer pad state word {i}") for i in range(5)],
])

#: Per-channel counters: 16 bytes per channel in the BAR0 channel-counter window.
CHANNEL_COUNTERS = RegisterMap("Channel counters", 16, [
    Register("GOOD", 0x0, (Field("count", 0, 32, RO, 0, "jobs completed OK"),), "Good"),
    Register("FAIL", 0x4, (Field("count", 0, 32, RO, 0, "jobs failed in processing (MAC mismatch, DMA)"),),
             "Fail"),
    Register("DISCARD", 0x8, (Field("count", 0, 32, RO, 0, "jobs refused before processing"),), "Discard"),
    Register("BYTES", 0xC, (Field("count", 0, 32, RO, 0, "payload bytes of good jobs"),), "Bytes"),
])

#: Per-algorithm-unit counters: 32 bytes per AlgUnit in the BAR0 algorithm-counter window.
ALG_COUNTERS = RegisterMap("Algorithm unit counters", 32, [
    Register(kind.upper(), 4 * i, (Field("count", 0, 32, RO, 0, kind.replace("_", " ")),), kind)
    for i, kind in enumerate(COUNTER_KINDS)
])
