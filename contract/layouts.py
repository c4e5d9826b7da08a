# Ref: README.md, "Descriptor rings and channels" (rendered from this file)
"""Descriptor, channel-context and counter layouts of the crypto datapath.

The single source of truth for everything the card and the host exchange in
host memory (descriptors) and in BAR0 windows (channel contexts, counters);
the codes in their fields are in :mod:`.codes`. Layouts reuse
:class:`~.regmap.RegisterMap`: a descriptor is a tiny map of dwords with
fields, so the HDL slices fields by their offsets and the driver and model
encode and decode through the same objects.

- :data:`CMD` (16 bytes), :data:`SEG` (8 bytes), :data:`RESULT` (16 bytes): ring entries;
- :data:`CONTEXT` (128 bytes per channel): the BAR0 context window's entries;
- :data:`CHANNEL_COUNTERS` (16 bytes per channel), :data:`ALG_COUNTERS`
  (32 bytes per :class:`~.codes.AlgUnit`): the counter windows' entries.

Byte order: host memory is little-endian as PCI carries it (the byte at the
lowest address is AD[7:0]); key and IV bytes are stored in context order
(byte *i* of a key at context byte ``KEY offset + i``), and the engines see
a block as the big-endian integer of its bytes in memory order.
"""
from .codes import COUNTER_KINDS
from .regmap import Access, Field, Register, RegisterMap

__all__ = ["CMD", "SEG", "RESULT", "CONTEXT", "CHANNEL_COUNTERS", "ALG_COUNTERS"]

RW, RO = Access.RW, Access.RO


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
