"""Consistency of the register map, the descriptor/context/counter
layouts, the codes and the build defaults: the contract, the single source
of truth."""
import enum
import importlib
import pkgutil
import random

import pytest

import pacsim.contract
from pacsim.cli import render_regmap
from pacsim.contract import ENUMS
from pacsim.contract.build import BUILD, BuildDefaults
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, COUNTER_KINDS, MAC_DIGEST_BYTES, MAX_SEGMENTS,
                                   NO_CHANNEL, AlgUnit, CipherAlg, CipherMode, CompAlg, Direction, IvSource, MacAlg,
                                   Opcode, ResultStatus, Service, alg_unit, outcome)
from pacsim.contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CMD, CONTEXT, RESULT, SEG
from pacsim.contract.pk import ModExpSlot, ModExpStatus
from pacsim.contract.regmap import (BAR0, CONFIG, IDENTITY, MAX_CHANNELS, PCI_IDS, RING_ALIGN, RING_SIZES, RINGS, VERSION,
                                    WINDOWS, Access)
from pacsim.contract.rng import DrbgCommand, DrbgStatus
from pacsim.reference.drbg import BLOCK_BYTES, SEED_BYTES
from pacsim.reference.modp import GROUPS

MAPS = {"CONFIG": CONFIG, "BAR0": BAR0, "CMD": CMD, "SEG": SEG, "RESULT": RESULT, "CONTEXT": CONTEXT,
        "CHANNEL_COUNTERS": CHANNEL_COUNTERS, "ALG_COUNTERS": ALG_COUNTERS}
REGISTERS = [(regmap, reg) for regmap in MAPS.values() for reg in regmap]
IDS = [f"{name}.{reg.name}" for name, regmap in MAPS.items() for reg in regmap]
#: Entries of each BAR0 window in the largest build.
WINDOW_ENTRIES = {"ALG_COUNTERS": len(AlgUnit), "CHANNEL_COUNTERS": MAX_CHANNELS, "CONTEXT": MAX_CHANNELS,
                  "PK_OPERANDS": len(ModExpSlot)}


@pytest.mark.parametrize("regmap", MAPS.values(), ids=MAPS.keys())
def test_offsets_unique_aligned_inside(regmap):
    offsets = [reg.offset for reg in regmap]
    assert len(offsets) == len(set(offsets))
    assert all(offset % 4 == 0 and 0 <= offset < regmap.size for offset in offsets)
    names = [reg.name for reg in regmap]
    assert len(names) == len(set(names))
    for reg in regmap:
        assert regmap.at(reg.offset) is reg
        assert getattr(regmap, reg.name) is reg, f"{reg.name} is shadowed by a RegisterMap attribute"


@pytest.mark.parametrize("regmap,reg", REGISTERS, ids=IDS)
def test_fields_do_not_overlap_and_fit(regmap, reg):
    used = set()
    for f in reg.fields:
        bits = set(range(f.offset, f.offset + f.width))
        assert f.width >= 1 and bits <= set(range(32)), f"{reg.name}.{f.name} outside 32 bits"
        assert not bits & used, f"{reg.name}.{f.name} overlaps another field"
        used |= bits
        assert 0 <= f.reset < (1 << f.width), f"{reg.name}.{f.name} reset does not fit"
        assert getattr(reg, f.name) is f, f"{reg.name}.{f.name} is shadowed by a Register attribute"
        if f.access in (Access.W1S, Access.RW1C):
            assert f.reset == 0, f"{reg.name}.{f.name}: event/trigger bits reset to 0"
    assert len({f.name for f in reg.fields}) == len(reg.fields)
    assert reg.reset_value == sum(f.reset << f.offset for f in reg.fields)


@pytest.mark.parametrize("regmap,reg", REGISTERS, ids=IDS)
def test_encode_decode_round_trip(regmap, reg):
    rng = random.Random(reg.name)
    for _ in range(20):
        values = {f.name: rng.getrandbits(f.width) for f in reg.fields}
        word = reg.encode(**values)
        assert 0 <= word < (1 << 32)
        assert reg.decode(word) == values
    assert reg.decode(reg.reset_value) == {f.name: f.reset for f in reg.fields}
    widest = max(reg.fields, key=lambda f: f.width)
    if widest.width < 32:
        with pytest.raises(ValueError):
            reg.encode(**{widest.name: 1 << widest.width})
    with pytest.raises(KeyError):
        reg.encode(no_such_field=1)


@pytest.mark.parametrize("regmap", MAPS.values(), ids=MAPS.keys())
def test_render_markdown_lists_every_register_and_field(regmap):
    text = regmap.render_markdown()
    for reg in regmap:
        assert f"**{reg.name}**" in text
        assert f"`{reg.offset:#05x}`" in text
        for f in reg.fields:
            assert f"`{f.name}` | {f.access.value} |" in text, f"{reg.name}.{f.name} missing"
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + sum(1 + len(reg.fields) for reg in regmap)


def test_pci_ids_are_the_config_reset_values():
    found = {}
    for reg in CONFIG:
        for f in reg.fields:
            if f.name in PCI_IDS:
                found[f.name] = f.reset
    assert found == PCI_IDS


def test_bar0_size_matches_the_bar_decoder():
    assert BAR0.size == 1 << CONFIG.BAR0.address.offset == 64 * 1024
    assert CONFIG.BAR0.address.offset + CONFIG.BAR0.address.width == 32


def test_identity_and_version():
    assert IDENTITY.to_bytes(4, "big") == b"PAC1"
    assert BAR0.IDENT.reset_value == IDENTITY
    version = BAR0.VERSION.decode(BAR0.VERSION.reset_value)
    assert (version["major"], version["minor"], version["patch"]) == VERSION


def test_interrupt_enable_mirrors_interrupt_status():
    assert [(f.name, f.offset, f.width) for f in BAR0.INT_STATUS.fields] == \
           [(f.name, f.offset, f.width) for f in BAR0.INT_ENABLE.fields]


# -- windows and rings --------------------------------------------------------------

def _extent(name: str) -> range:
    base, entry_bytes = WINDOWS[name]
    return range(base, base + WINDOW_ENTRIES[name] * entry_bytes)


def test_windows_fit_bar0_and_overlap_nothing():
    extents = {name: _extent(name) for name in WINDOWS}
    for name, extent in extents.items():
        assert extent.start % 4 == 0 and extent.stop <= BAR0.size, f"{name} {extent} outside BAR0"
        for reg in BAR0:
            assert reg.offset not in extent, f"register {reg.name} inside the {name} window"
        for other, other_extent in extents.items():
            if other != name:
                assert extent.stop <= other_extent.start or other_extent.stop <= extent.start, (name, other)


@pytest.mark.parametrize("name,layout", [("ALG_COUNTERS", ALG_COUNTERS), ("CHANNEL_COUNTERS", CHANNEL_COUNTERS),
                                         ("CONTEXT", CONTEXT)])
def test_window_entries_are_their_layouts(name, layout):
    assert WINDOWS[name][1] == layout.size
    assert layout.size & (layout.size - 1) == 0, f"{name} entries are not a power of two"
    assert WINDOWS[name][0] % layout.size == 0


def test_max_channels_fit_the_windows_and_registers():
    assert (1 << BAR0.CHANNELS.count.width) - 1 >= MAX_CHANNELS
    for name in ("CHANNEL_COUNTERS", "CONTEXT"):
        assert _extent(name).stop <= BAR0.size
    for reg, field in ((CMD.CONTROL, "cipher_channel"), (CMD.CONTROL, "mac_channel"), (CMD.CONTROL, "comp_channel"),
                       (RESULT.STATUS, "cipher_channel"), (RESULT.STATUS, "mac_channel"),
                       (RESULT.BYTES, "comp_channel")):
        assert 1 << getattr(reg, field).width >= MAX_CHANNELS, f"{reg.name}.{field}"
        assert NO_CHANNEL < 1 << getattr(reg, field).width


def test_ring_registers():
    assert RINGS == ("CMD", "SRC", "DST", "RES")
    for name in RINGS:
        base, size, index = (getattr(BAR0, f"{name}_RING_{what}") for what in ("BASE", "SIZE", "INDEX"))
        assert base.address.width == 32
        assert (1 << size.entries.width) > 4096, f"{name}_RING_SIZE cannot hold 4096 entries"
        assert (1 << index.index.width) == 4096, f"{name}_RING_INDEX does not span 4096 entries"
        assert index.index.access is Access.RO


def test_descriptor_sizes_and_ownership():
    assert (CMD.size, SEG.size, RESULT.size) == (16, 8, 16)
    for layout, reg in ((CMD, CMD.CONTROL), (SEG, SEG.CONTROL), (RESULT, RESULT.STATUS)):
        assert reg.offset == 0, f"{layout.name}: ownership must be in the first dword"
        assert reg.own.offset == 31 and reg.own.width == 1
        assert max(r.offset for r in layout) + 4 <= layout.size
    assert RESULT.BYTES.bytes.width >= CMD.LENGTH.length.width
    assert SEG.CONTROL.length.width == CMD.LENGTH.length.width


# -- codes fit their fields -------------------------------------------------------------

@pytest.mark.parametrize("codes,fields", [
    (Opcode, [CMD.CONTROL.opcode, RESULT.STATUS.opcode]),
    (ResultStatus, [RESULT.STATUS.status, BAR0.RING_STATUS.abort_status]),
    (Direction, [CONTEXT.CONFIG.direction]),
    (Service, [CONTEXT.CONFIG.service]),
    (CipherAlg, [CONTEXT.CONFIG.alg]),
    (MacAlg, [CONTEXT.CONFIG.alg]),
    (CompAlg, [CONTEXT.CONFIG.alg]),
    (ModExpStatus, [BAR0.PK_STATUS.status]),
    (DrbgStatus, [BAR0.RNG_STATUS.status]),
    (DrbgCommand, [BAR0.RNG_CONTROL.command]),
    (CipherMode, [CONTEXT.CONFIG.mode]),
    (IvSource, [CONTEXT.CONFIG.iv_source]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_every_code_fits_its_fields(codes, fields):
    for field in fields:
        assert max(codes) < (1 << field.width), f"{codes.__name__} does not fit {field.name}"
        assert min(codes) >= 0


def test_status_and_opcode_zero_meanings():
    assert ResultStatus.OK == 0
    assert 0 not in {int(op) for op in Opcode}, "opcode 0 (an empty descriptor) must not be a command"
    assert 0 not in {int(a) for a in CipherAlg} | {int(a) for a in MacAlg} | {int(a) for a in CompAlg}, \
        "alg 0 must be invalid"


def test_context_holds_every_key_iv_and_state():
    key_regs = [reg for reg in CONTEXT if reg.name.startswith("KEY")]
    iv_regs = [reg for reg in CONTEXT if reg.name.startswith("IV")]
    inner = [reg for reg in CONTEXT if reg.name.startswith("INNER")]
    outer = [reg for reg in CONTEXT if reg.name.startswith("OUTER")]
    assert 4 * len(key_regs) >= max(CIPHER_KEY_BYTES.values())
    assert 4 * len(iv_regs) >= 3 * CIPHER_BLOCK_BYTES[CipherAlg.TDES_OUTER]
    assert 4 * len(iv_regs) >= CIPHER_BLOCK_BYTES[CipherAlg.AES128]
    assert 4 * len(inner) == 4 * len(outer) >= max(MAC_DIGEST_BYTES[MacAlg.HMAC_SHA1], MAC_DIGEST_BYTES[MacAlg.HMAC_MD5])
    for group in (key_regs, iv_regs, inner, outer):
        offsets = [reg.offset for reg in group]
        assert offsets == list(range(offsets[0], offsets[0] + 4 * len(group), 4)), "not consecutive"
    assert (1 << CONTEXT.CONFIG.icv_bytes.width) > max(MAC_DIGEST_BYTES.values())


def test_tables_cover_every_algorithm():
    assert set(CIPHER_BLOCK_BYTES) == set(CIPHER_KEY_BYTES) == set(CipherAlg)
    assert set(MAC_DIGEST_BYTES) == set(MacAlg)
    units = {alg_unit(Service.CIPHER, a) for a in CipherAlg} | {alg_unit(Service.MAC, a) for a in MacAlg}
    assert units == set(AlgUnit) - {AlgUnit.LZS}
    assert {alg_unit(Service.COMPRESSION, a) for a in CompAlg} == {AlgUnit.LZS}
    with pytest.raises(ValueError):
        alg_unit(Service.NONE, 1)
    assert MAX_SEGMENTS >= 1


def test_counter_layouts():
    assert [reg.name.lower() for reg in ALG_COUNTERS] == list(COUNTER_KINDS)
    assert [reg.name for reg in CHANNEL_COUNTERS] == ["GOOD", "FAIL", "DISCARD", "BYTES"]
    assert all(f.access is Access.RO for layout in (ALG_COUNTERS, CHANNEL_COUNTERS)
               for reg in layout for f in reg.fields)
    assert list(AlgUnit) == sorted(AlgUnit) and AlgUnit(0) is list(AlgUnit)[0]


# -- public-key unit and random number generator ------------------------------------------

def test_pk_registers_hold_the_largest_group():
    """The operand slots and PK_SIZE hold a 2048-bit modulus and exponent
    (MODP group 14), and PK_STATUS.max_words can say so."""
    slot_words = WINDOWS["PK_OPERANDS"][1] // 4
    bits = max(group.bits for group in GROUPS.values())
    assert 32 * slot_words >= bits
    assert (1 << BAR0.PK_SIZE.words.width) > slot_words
    assert (1 << BAR0.PK_STATUS.max_words.width) > slot_words
    assert (1 << BAR0.PK_SIZE.exp_bits.width) > 32 * slot_words
    assert WINDOWS["PK_OPERANDS"][0] % WINDOWS["PK_OPERANDS"][1] == 0
    assert [f.name for f in BAR0.PK_CONTROL.fields] == ["start", "abort"]
    assert all(f.access is Access.W1S for f in BAR0.PK_CONTROL.fields)
    assert all(f.access is Access.RO for reg in (BAR0.PK_STATUS, BAR0.PK_CLOCKS) for f in reg.fields)


def test_rng_registers_hold_a_block_and_the_seed_material():
    outputs = [reg for reg in BAR0 if reg.name.startswith("RNG_OUTPUT")]
    seeds = [reg for reg in BAR0 if reg.name.startswith("RNG_SEED")]
    for group, size in ((outputs, BLOCK_BYTES), (seeds, SEED_BYTES)):
        offsets = [reg.offset for reg in group]
        assert 4 * len(group) == size
        assert offsets == list(range(offsets[0], offsets[0] + size, 4)), "not consecutive"
    assert all(f.access is Access.RO for reg in outputs for f in reg.fields)
    assert all(f.access is Access.RW for reg in seeds for f in reg.fields)
    assert BAR0.RNG_CONTROL.start.access is Access.W1S


def test_compression_fields():
    assert Service.COMPRESSION < (1 << CONTEXT.CONFIG.service.width)
    assert Opcode.COMPRESS in Opcode and Opcode.DECOMPRESS in Opcode
    assert {ResultStatus.OUTPUT_OVERFLOW, ResultStatus.STREAM_BAD_OFFSET, ResultStatus.STREAM_TRUNCATED} <= \
        set(ResultStatus)
    assert RESULT.BYTES.bytes.width + RESULT.BYTES.comp_channel.width <= 32


def _contract_enums():
    found = set()
    for info in pkgutil.walk_packages(pacsim.contract.__path__, "pacsim.contract."):
        module = importlib.import_module(info.name)
        found |= {value for value in vars(module).values() if isinstance(value, type)
                  and issubclass(value, enum.IntEnum) and value.__module__ == info.name}
    return found


def test_regmap_renders_every_code_enum():
    assert set(ENUMS) == _contract_enums(), "add the enum to pacsim.contract.ENUMS"
    text = render_regmap()
    for codes in ENUMS:
        section = text.split(f"### {codes.__name__}\n", 1)[1].split("###", 1)[0]
        for member in codes:
            assert f"| `{int(member)}` | `{member.name}` |" in section, f"{codes.__name__}.{member.name}"
    statuses = text.split("### ResultStatus\n", 1)[1].split("###", 1)[0]
    assert "| `1` | `MAC_MISMATCH` | fail | decode: computed ICV differs" in statuses
    assert "| `2` | `BAD_OPCODE` | discard | unknown opcode |" in statuses
    assert "| `0` | `OK` | good |" in statuses


def test_fail_statuses_are_the_processing_failures():
    processing = {ResultStatus.MAC_MISMATCH, ResultStatus.MASTER_ABORT, ResultStatus.TARGET_ABORT,
                  ResultStatus.PARITY, ResultStatus.OUTPUT_OVERFLOW, ResultStatus.STREAM_BAD_OFFSET,
                  ResultStatus.STREAM_TRUNCATED}
    assert {status for status in ResultStatus if outcome(status) == "fail"} == processing
    assert outcome(ResultStatus.OK) == "good"
    assert {outcome(status) for status in set(ResultStatus) - processing - {ResultStatus.OK}} == {"discard"}


def test_ring_rules_fit_the_ring_registers():
    assert RING_SIZES == tuple(2 ** n for n in range(1, 13))
    for name in RINGS:
        assert max(RING_SIZES) < 1 << getattr(BAR0, f"{name}_RING_SIZE").entries.width
        assert max(RING_SIZES) - 1 < 1 << getattr(BAR0, f"{name}_RING_INDEX").index.width
        assert f"{RING_ALIGN}-byte aligned" in getattr(BAR0, f"{name}_RING_BASE").address.doc
    assert all(layout.size % 4 == 0 and RING_ALIGN % 4 == 0 for layout in (CMD, SEG, RESULT))


def test_build_defaults_fit_the_registers_that_report_them():
    assert 1 <= BUILD.model_channels <= BUILD.card_channels <= MAX_CHANNELS < 1 << BAR0.CHANNELS.count.width
    assert BUILD.burst_words < 1 << BAR0.CAPS.burst_words.width
    assert BUILD.buffer_words >= 2 * BUILD.burst_words
    assert BUILD.pk_words < 1 << BAR0.PK_STATUS.max_words.width
    assert 4 * BUILD.pk_words == WINDOWS["PK_OPERANDS"][1]
    assert 32 * BUILD.pk_words >= max(group.bits for group in GROUPS.values())
    for channels in (0, MAX_CHANNELS + 1):
        with pytest.raises(ValueError, match="expected 1 to 256"):
            BuildDefaults(model_channels=channels)
