"""Consistency of the register map, the single source of truth."""
import random

import pytest

from pacsim.hdl.regmap import BAR0, CONFIG, IDENTITY, PCI_IDS, VERSION, Access, DmaError

MAPS = [CONFIG, BAR0]
REGISTERS = [(regmap, reg) for regmap in MAPS for reg in regmap]
IDS = [f"{regmap is CONFIG and 'CONFIG' or 'BAR0'}.{reg.name}" for regmap, reg in REGISTERS]


@pytest.mark.parametrize("regmap", MAPS, ids=["CONFIG", "BAR0"])
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


@pytest.mark.parametrize("regmap", MAPS, ids=["CONFIG", "BAR0"])
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
    assert BAR0.size == 1 << CONFIG.BAR0.address.offset
    assert CONFIG.BAR0.address.offset + CONFIG.BAR0.address.width == 32


def test_identity_version_and_error_codes_fit():
    assert IDENTITY.to_bytes(4, "big") == b"PAC1"
    assert BAR0.IDENT.reset_value == IDENTITY
    version = BAR0.VERSION.decode(BAR0.VERSION.reset_value)
    assert (version["major"], version["minor"], version["patch"]) == VERSION
    assert max(DmaError) < (1 << BAR0.DMA_STATUS.error.width)
    assert DmaError.NONE == 0


def test_interrupt_enable_mirrors_interrupt_status():
    assert [(f.name, f.offset, f.width) for f in BAR0.INT_STATUS.fields] == \
           [(f.name, f.offset, f.width) for f in BAR0.INT_ENABLE.fields]
