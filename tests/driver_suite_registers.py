# Ref: docs/rings.md; PCI Local Bus Specification 2.3, sections 6.1, 6.2
"""Driver-suite checks of one unit.

The card as a PCI device: probing, its configuration header, BAR0 sizing, COMMAND bits, and the
BAR0 registers (scratch, unimplemented offsets, read-only, RW1C and W1S fields, CONTROL.reset).

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from pacsim.contract.codes import AlgUnit, CipherAlg, Direction, MacAlg, Opcode, ResultStatus
from pacsim.contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CONTEXT, RESULT
from pacsim.contract.rng import DrbgCommand
from pacsim.contract.pk import ModExpSlot, ModExpStatus
from pacsim.contract.regmap import BAR0, CONFIG, IDENTITY, MAX_CHANNELS, PCI_IDS, RINGS, VERSION, WINDOWS, Access
from pacsim.host.device import PacDevice
from pacsim.host.jobs import DriverStatus, Job
from driver_suite_support import (fresh_device, find_card, lanes, writable_mask, trigger_mask, window_address, poll,
                                  Buffers, copy_and_verify, esp_packet, cipher_key, UNCLAIMED_ADDRESS,
                                  INTA_SETTLE_CLOCKS, PK_SLOT_WORDS)


async def check_probe_finds_card(bus):
    """probe() finds the card, identifies it, programs the rings and leaves it
    ready: every result slot armed, interrupts enabled, every channel closed."""
    dev = await fresh_device(bus)
    ident = dev.identity
    assert dev.device == await find_card(bus)
    for name in ("vendor_id", "device_id", "revision_id", "class_code"):
        assert getattr(ident, name) == PCI_IDS[name], f"identity {name}={getattr(ident, name):#x}"
    assert ident.version == VERSION, f"version {ident.version}; expected {VERSION}"
    for name in ("copy", "crypto", "hash", "compression", "pk", "rng"):
        assert ident.caps[name] == 1, f"CAPS {ident.caps}: {name} is missing"
    assert 16 <= ident.pk_words <= PK_SLOT_WORDS, f"PK_STATUS.max_words = {ident.pk_words}"
    assert ident.caps["burst_words"] >= 1, f"CAPS {ident.caps}: no DMA burst"
    assert 1 <= ident.channels <= MAX_CHANNELS, f"CHANNELS.count = {ident.channels}"
    assert ident.bar0_size == BAR0.size
    base, size = bus.mmio_window()
    assert base <= dev.bar0 and dev.bar0 + BAR0.size <= base + size, f"BAR0 at {dev.bar0:#x}"
    assert dev.bar0 % BAR0.size == 0, f"BAR0 at {dev.bar0:#x} is not aligned to its size"
    assert (await dev.read("IDENT")).to_bytes(4, "big") == b"PAC1"
    assert await dev.read("IDENT") == IDENTITY
    assert await dev.read_fields("INT_ENABLE") == {"result": 1, "ring_error": 1, "pk": 1}
    assert await dev.read_fields("RING_CTRL") == {"kick": 0, "enable": 1}
    assert await dev.read_fields("COALESCE") == {"count": 1, "timeout": 0}
    status = await dev.read_fields("RING_STATUS")
    assert (status["busy"], status["result_full"], status["aborted"]) == (0, 0, 0), status
    assert await dev.read("JOBS") == 0
    for name in RINGS:
        ring = dev.rings[name]
        assert (await dev.read_fields(f"{name}_RING_BASE"))["address"] == ring.buffer.address
        assert ring.buffer.address % 16 == 0, f"{name} ring at {ring.buffer.address:#x}"
        assert (await dev.read_fields(f"{name}_RING_SIZE"))["entries"] == 64
        assert (await dev.read_fields(f"{name}_RING_INDEX"))["index"] == 0
    armed = [RESULT.STATUS.decode(dev.rings["RES"].read(i)["STATUS"])["own"] for i in range(64)]
    assert armed == [1] * 64, "probe left result slots unarmed"
    for number in range(ident.channels):
        (config,) = await bus.mem_read(window_address(dev, "CONTEXT", number, CONTEXT.CONFIG))
        assert config == 0, f"channel {number} CONFIG = {config:#x} after probe; expected closed (0)"
    assert not bus.interrupt_asserted()


async def check_config_header_after_reset(bus):
    """After RST# every implemented config register holds the PCI_IDS / reset
    values; RO fields ignore writes, RW fields store them."""
    await bus.reset()
    device = await find_card(bus)
    seen = set()
    for reg in CONFIG:
        word = await bus.config_read(device, reg.offset)
        assert word == reg.reset_value, f"{reg.name} = {word:#010x}; expected {reg.reset_value:#010x}"
        for name, value in reg.decode(word).items():
            if name in PCI_IDS:
                assert value == PCI_IDS[name], f"{reg.name}.{name} = {value:#x}; expected {PCI_IDS[name]:#x}"
                seen.add(name)
    assert seen == set(PCI_IDS), f"PCI_IDS not found in config space: {set(PCI_IDS) - seen}"
    for reg in CONFIG:
        if reg in (CONFIG.COMMAND_STATUS, CONFIG.BAR0):   # own checks
            continue
        await bus.config_write(device, reg.offset, 0xFFFF_FFFF)
        expected = reg.reset_value | writable_mask(reg)
        word = await bus.config_read(device, reg.offset)
        assert word == expected, f"{reg.name} after writing all ones: {word:#010x}; expected {expected:#010x}"


async def check_unimplemented_config_dwords_read_zero(bus):
    """Config dwords outside the map read 0 and ignore writes."""
    await bus.reset()
    device = await find_card(bus)
    implemented = {reg.offset for reg in CONFIG}
    for offset in range(0, CONFIG.size, 4):
        if offset in implemented:
            continue
        await bus.config_write(device, offset, 0xFFFF_FFFF)
        word = await bus.config_read(device, offset)
        assert word == 0, f"config dword {offset:#04x} reads {word:#010x}; expected 0"


async def check_empty_slots_read_all_ones(bus):
    """Config reads of device numbers without a card are master-aborted: 0xFFFFFFFF."""
    await bus.reset()
    card = await find_card(bus)
    for device in bus.DEVICES:
        if device != card:
            await bus.config_write(device, CONFIG.INTERRUPT.offset, 0xFFFF_FFFF)
            word = await bus.config_read(device, CONFIG.ID.offset)
            assert word == 0xFFFF_FFFF, f"empty device {device} reads {word:#010x}; expected 0xffffffff"
    word = await bus.config_read(card, CONFIG.INTERRUPT.offset)
    assert word == CONFIG.INTERRUPT.reset_value, "a write to an empty slot reached the card"


async def check_bar0_sizing(bus):
    """BAR0 is a 32-bit non-prefetchable memory BAR of BAR0.size (64 KiB) bytes."""
    await bus.reset()
    device = await find_card(bus)
    await bus.config_write(device, CONFIG.BAR0.offset, 0xFFFF_FFFF)
    sized = await bus.config_read(device, CONFIG.BAR0.offset)
    expected = ~(BAR0.size - 1) & 0xFFFF_FFFF
    assert sized == expected, f"BAR0 after writing all ones reads {sized:#010x}; expected {expected:#010x}"
    base, _ = bus.mmio_window()
    await bus.config_write(device, CONFIG.BAR0.offset, base + BAR0.size + 0x123)
    placed = await bus.config_read(device, CONFIG.BAR0.offset)
    assert placed == base + BAR0.size, f"BAR0 reads {placed:#010x}; expected {base + BAR0.size:#010x}"
    dev = await PacDevice.probe(bus)
    assert await dev.config_read("BAR0") == dev.bar0


async def check_command_bits(bus):
    """probe() sets the command bits and timing registers; RO bits ignore writes;
    each RW bit toggles alone; config byte enables select bytes."""
    dev = await fresh_device(bus, latency_timer=48, cache_line_dwords=8)
    status = await dev.config_status()
    for name in ("memory_space", "bus_master", "parity_error_response", "serr_enable"):
        assert status[name] == 1, f"COMMAND.{name} = 0 after probe"
    reset = CONFIG.COMMAND_STATUS.decode(CONFIG.COMMAND_STATUS.reset_value)
    for name in ("io_space", "interrupt_disable", "interrupt_status", "devsel_timing"):
        assert status[name] == reset[name], f"COMMAND_STATUS.{name} = {status[name]}"
    errors = [f.name for f in CONFIG.COMMAND_STATUS.fields if f.access is Access.RW1C]
    assert not any(status[name] for name in errors), f"error bits set after probe: {status}"
    timing = CONFIG.BIST_HEADER_LATENCY_CACHE.decode(await dev.config_read("BIST_HEADER_LATENCY_CACHE"))
    assert (timing["latency_timer"], timing["cache_line_size"], timing["header_type"]) == (48, 8, 0), timing

    before = await dev.config_read("COMMAND_STATUS")
    await dev.config_write("COMMAND_STATUS", before | CONFIG.COMMAND_STATUS.io_space.mask)
    assert await dev.config_read("COMMAND_STATUS") == before, "writing io_space changed COMMAND_STATUS"
    for f in CONFIG.COMMAND_STATUS.fields:
        if f.access is Access.RW:
            value = (await dev.config_status())[f.name]
            await dev.set_command(**{f.name: 1 - value})
            toggled = await dev.config_read("COMMAND_STATUS")
            assert toggled == before ^ f.mask, f"toggling {f.name}: {toggled:#010x} from {before:#010x}"
            await dev.set_command(**{f.name: value})

    field = CONFIG.BIST_HEADER_LATENCY_CACHE.cache_line_size
    await dev.config_write("BIST_HEADER_LATENCY_CACHE", 0xFFFF_FFFF, 1 << (field.offset // 8))
    timing = CONFIG.BIST_HEADER_LATENCY_CACHE.decode(await dev.config_read("BIST_HEADER_LATENCY_CACHE"))
    assert (timing["cache_line_size"], timing["latency_timer"]) == (0xFF, 48), \
        f"byte-enabled write of the cache line size byte gave {timing}"


# -- BAR0 registers and windows ----------------------------------------------------

async def check_scratch_read_write(bus):
    """SCRATCH stores every value; byte enables write only the selected bytes."""
    dev = await fresh_device(bus)
    rng = seeded_random(1)
    for value in (0, 0xFFFF_FFFF, 0xA5A5_5A5A, *(rng.getrandbits(32) for _ in range(8))):
        await dev.write("SCRATCH", value)
        assert await dev.read("SCRATCH") == value, f"SCRATCH lost {value:#010x}"
    address = dev.bar0 + BAR0.SCRATCH.offset
    for byte_enables in range(16):
        old, new = rng.getrandbits(32), rng.getrandbits(32)
        await dev.write("SCRATCH", old)
        await bus.mem_write(address, [new], byte_enables)
        expected = (old & ~lanes(byte_enables)) | (new & lanes(byte_enables))
        word = await dev.read("SCRATCH")
        assert word == expected, (f"SCRATCH {old:#010x}, wrote {new:#010x} with byte enables "
                                  f"{byte_enables:#06b}: {word:#010x}; expected {expected:#010x}")


def implemented_offsets(channels: int, pk_words: int) -> set:
    """BAR0 offsets the contract implements for a card of ``channels``
    channels and ``pk_words`` words per public-key operand slot."""
    offsets = {reg.offset for reg in BAR0}
    for name, layout, entries in (("ALG_COUNTERS", ALG_COUNTERS, len(AlgUnit)),
                                  ("CHANNEL_COUNTERS", CHANNEL_COUNTERS, channels),
                                  ("CONTEXT", CONTEXT, channels)):
        base, size = WINDOWS[name]
        offsets |= {base + n * size + reg.offset for n in range(entries) for reg in layout}
    base, size = WINDOWS["PK_OPERANDS"]
    offsets |= {base + slot * size + 4 * word for slot in ModExpSlot for word in range(pk_words)}
    return offsets


async def check_unimplemented_bar0_offsets(bus):
    """BAR0 dwords outside the map read 0 and ignore writes: every hole among
    the registers, the holes of window entries, entries past the card's
    channel count, and a random sample of the rest."""
    dev = await fresh_device(bus)
    channels = dev.identity.channels
    await dev.write("SCRATCH", 0x1234_5678)
    implemented = implemented_offsets(channels, dev.identity.pk_words)
    first_window = min(base for base, _ in WINDOWS.values())
    candidates = set(range(0, first_window, 4))
    base, size = WINDOWS["PK_OPERANDS"]
    candidates |= set(range(base + len(ModExpSlot) * size - 8, base + len(ModExpSlot) * size + 8, 4))
    for name, entries in (("ALG_COUNTERS", len(AlgUnit)), ("CHANNEL_COUNTERS", channels), ("CONTEXT", channels)):
        base, size = WINDOWS[name]
        for n in {0, entries - 1, entries, entries + 1} & set(range(MAX_CHANNELS)):
            candidates |= set(range(base + n * size, base + (n + 1) * size, 4))
    rng = seeded_random(20)
    candidates |= {4 * rng.randrange(BAR0.size // 4) for _ in range(128)} | {BAR0.size - 4}
    holes = sorted(offset for offset in candidates if offset not in implemented and offset < BAR0.size)
    for offset in holes:
        await bus.mem_write(dev.bar0 + offset, [0xFFFF_FFFF])
    for offset in holes:
        (word,) = await bus.mem_read(dev.bar0 + offset)
        assert word == 0, f"BAR0 offset {offset:#06x} reads {word:#010x}; expected 0"
    assert await dev.read("SCRATCH") == 0x1234_5678, "a write to a hole changed SCRATCH"
    for number in (0, channels - 1):
        (config,) = await bus.mem_read(window_address(dev, "CONTEXT", number, CONTEXT.CONFIG))
        assert config == 0, f"a write to a hole changed channel {number}'s CONFIG to {config:#x}"


async def check_read_only_registers_ignore_writes(bus):
    """Registers made of RO fields, and the counter windows, keep their value when written."""
    dev = await fresh_device(bus)
    await copy_and_verify(dev, seeded_random(21), 64)
    for reg in BAR0:
        if all(f.access is Access.RO for f in reg.fields):
            value = await dev.read(reg.name)
            await dev.write(reg.name, ~value & 0xFFFF_FFFF)
            word = await dev.read(reg.name)
            assert word == value, f"{reg.name} changed from {value:#010x} to {word:#010x} by a write"
    for name, layout, index in (("CHANNEL_COUNTERS", CHANNEL_COUNTERS, dev.identity.channels - 1),
                                ("ALG_COUNTERS", ALG_COUNTERS, AlgUnit.AES)):
        for reg in layout:
            address = window_address(dev, name, index, reg)
            (value,) = await bus.mem_read(address)
            await bus.mem_write(address, [~value & 0xFFFF_FFFF])
            (word,) = await bus.mem_read(address)
            assert word == value, f"{name}[{index}].{reg.name} changed from {value} to {word} by a write"


async def check_int_status_rw1c(bus):
    """INT_STATUS bits are set by events (a result; a descriptor bus error) and
    cleared only by writing 1; INTA# and COMMAND_STATUS.interrupt_status
    follow INT_STATUS & INT_ENABLE."""
    dev = await fresh_device(bus)
    rng = seeded_random(22)
    await dev.write("INT_ENABLE", 0)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(64)), buffers.alloc(64)
        await dev.submit([Job(Opcode.COPY, src, dst)])
        assert await poll(dev, "INT_STATUS", lambda f: f["result"]) == {"result": 1, "ring_error": 0, "pk": 0}
        await dev.write("CMD_RING_BASE", UNCLAIMED_ADDRESS)     # the next command read fails
        await dev.kick()
        both = await poll(dev, "INT_STATUS", lambda f: f["ring_error"])
        assert both == {"result": 1, "ring_error": 1, "pk": 0}, both
        status = await dev.read_fields("RING_STATUS")
        assert status["aborted"] == 1 and status["abort_status"] == ResultStatus.MASTER_ABORT, status
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# asserted with INT_ENABLE = 0"
    assert (await dev.config_status())["interrupt_status"] == 0

    await dev.write("INT_STATUS", 0)
    assert await dev.read_fields("INT_STATUS") == both, "writing 0 cleared INT_STATUS bits"
    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1))
    assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# not asserted for an enabled result"
    assert (await dev.config_status())["interrupt_status"] == 1
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(ring_error=1))
    assert await dev.read_fields("INT_STATUS") == {"result": 1, "ring_error": 0, "pk": 0}
    assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS) and bus.interrupt_asserted()
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(result=1))
    assert await dev.read_fields("INT_STATUS") == {"result": 0, "ring_error": 0, "pk": 0}
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# stays asserted after clearing"
    assert (await dev.config_status())["interrupt_status"] == 0

    await dev.clear_config_errors()
    lost = await dev.reset()
    assert [r.status for r in lost] == [DriverStatus.LOST_TO_RESET], lost
    await copy_and_verify(dev, rng, 64)


async def check_w1s_fields_read_zero(bus):
    """Writing 1 to a W1S field triggers its action; the field reads 0."""
    dev = await fresh_device(bus)
    triggers = {reg.name for reg in BAR0 if any(f.access is Access.W1S for f in reg.fields)}
    assert triggers == {"CONTROL", "RING_CTRL", "PK_CONTROL", "RNG_CONTROL"}, \
        f"W1S registers {triggers}: extend this check"

    await dev.write("PK_SIZE", 0)                              # start: BAD_SIZE at once
    await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1, abort=1))
    assert await dev.read("PK_CONTROL") == 0, "PK_CONTROL start/abort read back 1"
    assert (await poll(dev, "INT_STATUS", lambda f: f["pk"]))["pk"] == 1
    assert (await dev.read_fields("PK_STATUS"))["status"] == ModExpStatus.BAD_SIZE
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
    await poll(dev, "RNG_STATUS", lambda f: not f["busy"])
    await dev.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=DrbgCommand.GENERATE, start=1))
    assert await dev.read_fields("RNG_CONTROL") == {"command": DrbgCommand.GENERATE, "start": 0}

    await dev.write("SCRATCH", 0x5A5A_5A5A)
    await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
    assert await dev.read("CONTROL") == 0, "CONTROL.reset reads back 1"
    assert await dev.read("SCRATCH") == BAR0.SCRATCH.reset_value, "CONTROL.reset did not reset SCRATCH"
    await dev.reset()

    await dev.kick()
    assert await dev.read_fields("RING_CTRL") == {"kick": 0, "enable": 1}, "RING_CTRL.kick reads back 1"
    await copy_and_verify(dev, seeded_random(23), 64)


async def check_control_reset_restores_registers(bus):
    """CONTROL.reset puts every BAR0 register and counter back to its reset
    value (CAPS, CHANNELS and PK_STATUS.max_words are the build's; the
    public-key unit and the random number generator included, the latter
    after its self-test), keeps channel contexts, and leaves configuration
    space alone."""
    dev = await fresh_device(bus)
    rng = seeded_random(2)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    packet, skip = esp_packet(rng, 16, 64)
    encoded = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
    await copy_and_verify(dev, rng, 256)                        # counters move
    await dev.rng_instantiate(rng.randbytes(48))                # RNG_OUTPUT, RNG_STATUS, PK_STATUS, PK_CLOCKS move
    await dev.random(16)
    assert await dev.modexp(3, 5, 7) == 5
    contexts = {n: await bus.mem_read(window_address(dev, "CONTEXT", n), CONTEXT.size // 4)
                for n in (cipher.number, mac.number)}

    await dev.write("RING_CTRL", 0)                             # stop the card before scribbling
    for reg in BAR0:
        if writable_mask(reg) and reg is not BAR0.RING_CTRL:       # no W1S action triggered
            await dev.write(reg.name, rng.getrandbits(32) & ~trigger_mask(reg))
    build = {name: await dev.read(name) for name in ("CAPS", "CHANNELS")}
    build["PK_STATUS"] = BAR0.PK_STATUS.encode(max_words=dev.identity.pk_words)
    config = {reg.name: await dev.config_read(reg.name) for reg in CONFIG}

    await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
    await poll(dev, "RNG_STATUS", lambda f: not f["busy"])      # a power-on self-test may follow a reset

    for reg in BAR0:
        word = await dev.read(reg.name)
        expected = build.get(reg.name, reg.reset_value)
        assert word == expected, f"{reg.name} = {word:#010x} after CONTROL.reset; expected {expected:#010x}"
    for number in range(dev.identity.channels):
        counters = await dev.channel_counters(number)
        assert not any(counters.values()), f"channel {number} counters {counters} after CONTROL.reset"
    for unit, counters in (await dev.alg_counters()).items():
        assert not any(counters.values()), f"{unit.name} counters {counters} after CONTROL.reset"
    for number, words in contexts.items():
        now = await bus.mem_read(window_address(dev, "CONTEXT", number), CONTEXT.size // 4)
        assert now == words, f"CONTROL.reset changed channel {number}'s context"
    pending = CONFIG.COMMAND_STATUS.interrupt_status.mask
    for reg in CONFIG:
        word = await dev.config_read(reg.name)
        assert word & ~pending == config[reg.name] & ~pending, \
            f"CONTROL.reset changed config {reg.name}: {config[reg.name]:#010x} -> {word:#010x}"
    assert (await dev.config_status())["interrupt_status"] == 0
    assert not bus.interrupt_asserted()

    await dev.reset()
    assert await dev.encode(packet, skip=skip, cipher=cipher, mac=mac) == encoded, \
        "the channels kept across CONTROL.reset encode differently"
