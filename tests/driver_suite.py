"""Bus-agnostic checks of the card and its driver.

Each ``check_<name>(bus)`` coroutine takes a fresh :class:`PciBus` (the
behavioural :class:`ModelBus` under asyncio, or the RTL bus under cocotb),
asserts RST#, and checks the card's contract against expectations derived
from the register map and the PCI rules, not from either implementation.
:data:`CHECKS` lists them all. Data is random from fixed seeds; each copy
moves at most 64 KiB so the RTL runs them in seconds.
"""
import random

from pacsim.hdl.regmap import BAR0, CONFIG, IDENTITY, PCI_IDS, VERSION, Access, DmaError
from pacsim.host.device import COUNTERS, PacDevice, default_copy_timeout
from pacsim.host.errors import CardTimeout, DmaFailed, MasterAbort

#: A DMA address no target claims: outside host memory and outside the MMIO
#: window of both buses (host memory is well below 1 GiB on both).
UNCLAIMED_ADDRESS = 0x4000_0000
#: Bytes of random data kept on each side of a copy's destination.
GUARD = 64
#: PCI clocks within which a registered INTA# follows its cause.
INTA_SETTLE_CLOCKS = 16
#: PCI clocks allowed to the card to finish a command that is being polled.
POLL_CLOCKS = 20_000


# -- helpers -----------------------------------------------------------------

async def fresh_device(bus, **probe_options) -> PacDevice:
    """RST#, then probe: a configured card with nothing left from earlier checks."""
    await bus.reset()
    return await PacDevice.probe(bus, **probe_options)


async def find_card(bus) -> int:
    """Device number answering with the PAC's IDs, by a plain configuration scan."""
    for device in bus.DEVICES:
        ids = CONFIG.ID.decode(await bus.config_read(device, CONFIG.ID.offset))
        if (ids["vendor_id"], ids["device_id"]) == (PCI_IDS["vendor_id"], PCI_IDS["device_id"]):
            return device
    raise AssertionError(f"no device answered with vendor {PCI_IDS['vendor_id']:#06x}")


async def raises(exception_type, awaitable):
    """Await ``awaitable``; return the ``exception_type`` it raised, fail if none."""
    try:
        await awaitable
    except exception_type as exc:
        return exc
    raise AssertionError(f"expected {exception_type.__name__}, nothing was raised")


def lanes(byte_enables: int) -> int:
    """Bit mask of the bytes selected by active-high byte enables."""
    mask = 0
    for byte in range(4):
        if byte_enables & (1 << byte):
            mask |= 0xFF << (8 * byte)
    return mask


def writable_mask(reg) -> int:
    """Bits of ``reg`` that store what software writes (RW fields)."""
    return sum(f.mask for f in reg.fields if f.access is Access.RW)


def burst_bytes(dev) -> int:
    return 4 * dev.identity.caps["burst_words"]


async def start_raw(dev, src: int, dst: int, length: int) -> None:
    """Program and start a copy by register writes only (no driver bookkeeping)."""
    await dev.write("COPY_SRC", src)
    await dev.write("COPY_DST", dst)
    await dev.write("COPY_LEN", length)
    await dev.write("COPY_CTRL", BAR0.COPY_CTRL.encode(start=1))


async def wait_idle(dev, clocks: int = POLL_CLOCKS) -> dict:
    """Poll DMA_STATUS until busy reads 0; return its fields."""
    deadline = dev.bus.clocks() + clocks
    while (status := await dev.read_fields("DMA_STATUS"))["busy"]:
        assert dev.bus.clocks() < deadline, f"DMA_STATUS still busy after {clocks} PCI clocks: {status}"
    return status


class Buffers:
    """Allocate host buffers and free them all on exit (``async with``)."""

    def __init__(self, bus):
        self.bus = bus
        self.held = []

    def alloc(self, size: int):
        buffer = self.bus.alloc(size)
        self.held.append(buffer)
        return buffer

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        for buffer in self.held:
            self.bus.free(buffer)


async def copy_and_verify(dev, rng, length: int) -> None:
    """Copy ``length`` random bytes by the driver; check the destination, its
    guard bytes, the source and the transaction counters."""
    bus = dev.bus
    async with Buffers(bus) as buffers:
        src = buffers.alloc(length)
        dst = buffers.alloc(length + 2 * GUARD)
        data = rng.randbytes(length)
        background = rng.randbytes(dst.size)
        bus.host_write(src.address, data)
        bus.host_write(dst.address, background)
        before = await dev.counters()

        result = await dev.copy(src, dst.address + GUARD, length)

        after = await dev.counters()
        assert result.bytes == length, f"copy reports {result.bytes} bytes; expected {length}"
        assert result.clocks >= 2 * length // 4, (
            f"{length} bytes in {result.clocks} PCI clocks: fewer than one clock per dword each way")
        copied = bus.host_read(dst.address + GUARD, length)
        if copied != data:
            first = next(i for i in range(length) if copied[i] != data[i])
            raise AssertionError(f"copy of {length} bytes: destination differs from the source "
                                 f"first at byte {first} ({copied[first]:#04x} != {data[first]:#04x})")
        assert bus.host_read(dst.address, GUARD) == background[:GUARD], "bytes before dst changed"
        assert bus.host_read(dst.address + GUARD + length, GUARD) == background[-GUARD:], \
            "bytes after dst changed"
        assert bus.host_read(src.address, length) == data, "the copy changed its source"
        delta = {name: after[name] - before[name] for name in COUNTERS}
        chunks = -(-length // burst_bytes(dev))
        restarts = delta["DMA_RETRIES"] + delta["DMA_DISCONNECTS"] + delta["DMA_LATENCY_EXPIRIES"]
        assert 2 * chunks <= delta["DMA_TRANSACTIONS"] <= 2 * chunks + restarts, (
            f"{length} bytes in {chunks} chunk(s): expected 2 transactions per chunk plus one per "
            f"retry/disconnect/latency expiry; counters moved by {delta}")


# -- configuration space -------------------------------------------------------

async def check_probe_finds_card(bus):
    """probe() finds the card, identifies it and leaves it ready."""
    dev = await fresh_device(bus)
    ident = dev.identity
    assert dev.device == await find_card(bus)
    for name in ("vendor_id", "device_id", "revision_id", "class_code"):
        assert getattr(ident, name) == PCI_IDS[name], f"identity {name}={getattr(ident, name):#x}"
    assert ident.version == VERSION, f"version {ident.version}; expected {VERSION}"
    assert ident.caps["copy"] == 1, f"CAPS {ident.caps}: the copy command is missing"
    assert ident.caps["burst_words"] >= 1, f"CAPS {ident.caps}: no burst buffer"
    assert ident.bar0_size == BAR0.size
    base, size = bus.mmio_window()
    assert base <= dev.bar0 and dev.bar0 + BAR0.size <= base + size, f"BAR0 at {dev.bar0:#x}"
    assert dev.bar0 % BAR0.size == 0, f"BAR0 at {dev.bar0:#x} is not aligned to its size"
    assert (await dev.read("IDENT")).to_bytes(4, "big") == b"PAC1"
    assert await dev.read("IDENT") == IDENTITY
    assert await dev.read_fields("INT_ENABLE") == {"copy_done": 1, "dma_error": 1}
    assert await dev.read_fields("DMA_STATUS") == {"busy": 0, "error": DmaError.NONE}
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
    """BAR0 is a 32-bit non-prefetchable memory BAR of BAR0.size bytes."""
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


# -- BAR0 registers --------------------------------------------------------------

async def check_scratch_read_write(bus):
    """SCRATCH stores every value; byte enables write only the selected bytes."""
    dev = await fresh_device(bus)
    rng = random.Random(1)
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


async def check_unimplemented_bar0_offsets(bus):
    """BAR0 offsets outside the map read 0 and ignore writes."""
    dev = await fresh_device(bus)
    await dev.write("SCRATCH", 0x1234_5678)
    holes = [offset for offset in range(0, BAR0.size, 4) if BAR0.at(offset) is None]
    for offset in holes:
        await bus.mem_write(dev.bar0 + offset, [0xFFFF_FFFF])
    for offset in holes:
        (word,) = await bus.mem_read(dev.bar0 + offset)
        assert word == 0, f"BAR0 offset {offset:#05x} reads {word:#010x}; expected 0"
    assert await dev.read("SCRATCH") == 0x1234_5678, "a write to a hole changed SCRATCH"


async def check_read_only_registers_ignore_writes(bus):
    """Registers made of RO fields keep their value when written."""
    dev = await fresh_device(bus)
    for reg in BAR0:
        if all(f.access is Access.RO for f in reg.fields):
            value = await dev.read(reg.name)
            await dev.write(reg.name, ~value & 0xFFFF_FFFF)
            word = await dev.read(reg.name)
            assert word == value, f"{reg.name} changed from {value:#010x} to {word:#010x} by a write"


async def check_int_status_rw1c(bus):
    """INT_STATUS bits are set by events and cleared only by writing 1;
    INTA# and COMMAND_STATUS.interrupt_status follow INT_STATUS & INT_ENABLE."""
    dev = await fresh_device(bus)
    await dev.write("INT_ENABLE", 0)
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(64), buffers.alloc(64)
        await start_raw(dev, src.address, dst.address, 0)          # refused: BAD_LENGTH
        assert await dev.read_fields("INT_STATUS") == {"copy_done": 0, "dma_error": 1}
        await start_raw(dev, src.address, dst.address, 64)
        await wait_idle(dev)
    both = {"copy_done": 1, "dma_error": 1}
    assert await dev.read_fields("INT_STATUS") == both
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# asserted with INT_ENABLE = 0"
    assert (await dev.config_status())["interrupt_status"] == 0

    await dev.write("INT_STATUS", 0)
    assert await dev.read_fields("INT_STATUS") == both, "writing 0 cleared INT_STATUS bits"
    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(copy_done=1))
    assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# not asserted for enabled copy_done"
    assert (await dev.config_status())["interrupt_status"] == 1
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(dma_error=1))
    assert await dev.read_fields("INT_STATUS") == {"copy_done": 1, "dma_error": 0}
    assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS) and bus.interrupt_asserted()
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(copy_done=1))
    assert await dev.read_fields("INT_STATUS") == {"copy_done": 0, "dma_error": 0}
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# stays asserted after clearing"
    assert (await dev.config_status())["interrupt_status"] == 0


async def check_w1s_fields_read_zero(bus):
    """Writing 1 to a W1S field triggers its action; the field reads 0."""
    dev = await fresh_device(bus)
    triggers = {reg.name for reg in BAR0 if any(f.access is Access.W1S for f in reg.fields)}
    assert triggers == {"CONTROL", "COPY_CTRL"}, f"W1S registers {triggers}: extend this check"

    await dev.write("SCRATCH", 0x5A5A_5A5A)
    await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
    assert await dev.read("CONTROL") == 0, "CONTROL.reset reads back 1"
    assert await dev.read("SCRATCH") == BAR0.SCRATCH.reset_value, "CONTROL.reset did not reset SCRATCH"

    await dev.write("COPY_LEN", 0)
    await dev.write("COPY_CTRL", BAR0.COPY_CTRL.encode(start=1))
    assert await dev.read("COPY_CTRL") == 0, "COPY_CTRL.start reads back 1"
    assert (await dev.read_fields("DMA_STATUS"))["error"] == DmaError.BAD_LENGTH, \
        "COPY_CTRL.start with COPY_LEN = 0 was not refused with BAD_LENGTH"


async def check_control_reset_restores_registers(bus):
    """CONTROL.reset puts every BAR0 register back to its reset value (CAPS is
    the build's) and leaves configuration space alone."""
    dev = await fresh_device(bus)
    rng = random.Random(2)
    await copy_and_verify(dev, rng, 256)                        # counters and DMA_COUNT move
    for reg in BAR0:
        if writable_mask(reg):
            await dev.write(reg.name, rng.getrandbits(32))
    await start_raw(dev, 0x1001, 0x2000, 64)                    # refused: BAD_ALIGNMENT
    caps = await dev.read("CAPS")
    config = {reg.name: await dev.config_read(reg.name) for reg in CONFIG}
    assert (await dev.read_fields("DMA_STATUS"))["error"] == DmaError.BAD_ALIGNMENT

    await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
    await wait_idle(dev)

    for reg in BAR0:
        word = await dev.read(reg.name)
        expected = caps if reg is BAR0.CAPS else reg.reset_value
        assert word == expected, f"{reg.name} = {word:#010x} after CONTROL.reset; expected {expected:#010x}"
    pending = CONFIG.COMMAND_STATUS.interrupt_status.mask
    for reg in CONFIG:
        word = await dev.config_read(reg.name)
        assert word & ~pending == config[reg.name] & ~pending, \
            f"CONTROL.reset changed config {reg.name}: {config[reg.name]:#010x} -> {word:#010x}"
    assert (await dev.config_status())["interrupt_status"] == 0
    assert not bus.interrupt_asserted()


async def check_control_reset_aborts_running_copy(bus):
    """CONTROL.reset during a copy stops it without an interrupt; the card
    then copies normally."""
    dev = await fresh_device(bus)
    rng = random.Random(3)
    length = 16 * 1024
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(length), buffers.alloc(length)
        bus.host_write(src.address, rng.randbytes(length))
        background = rng.randbytes(length)
        bus.host_write(dst.address, background)
        await start_raw(dev, src.address, dst.address, length)
        await dev.write("CONTROL", BAR0.CONTROL.encode(reset=1))
        assert await wait_idle(dev) == {"busy": 0, "error": DmaError.NONE}
        await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(copy_done=1, dma_error=1))
        assert not await bus.wait_interrupt(8 * length // 4), "interrupt for a copy aborted by reset"
        assert await dev.read_fields("INT_STATUS") == {"copy_done": 0, "dma_error": 0}
        assert await dev.read("DMA_COUNT") == 0
        tail = burst_bytes(dev)
        assert bus.host_read(dst.address + length - tail, tail) == background[-tail:], \
            "the last chunk was written: the copy ran on after CONTROL.reset"
    await dev.reset()
    await copy_and_verify(dev, rng, 512)


# -- copies ----------------------------------------------------------------------

async def check_copy_random_data(bus):
    """Copies of 4 bytes, a length that is no multiple of the burst, and 64 KiB
    arrive byte for byte, without touching anything around them."""
    dev = await fresh_device(bus)
    rng = random.Random(4)
    for length in (4, 2 * burst_bytes(dev) + 12, 64 * 1024):
        await copy_and_verify(dev, rng, length)


async def check_bad_alignment(bus):
    """A misaligned source or destination is refused with BAD_ALIGNMENT, before
    the length is looked at; the card still works afterwards."""
    dev = await fresh_device(bus)
    rng = random.Random(5)
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(256), buffers.alloc(256)
        background = rng.randbytes(dst.size)
        bus.host_write(dst.address, background)
        for src_offset, dst_offset, length in ((3, 0, 64), (0, 2, 64), (1, 1, 64), (1, 0, 6)):
            copy = dev.copy(src.address + src_offset, dst.address + dst_offset, length)
            error = await raises(DmaFailed, copy)
            assert error.code is DmaError.BAD_ALIGNMENT, f"offsets {src_offset}/{dst_offset}: {error}"
            assert error.bytes_done == 0 and error.address is None, error
            assert "not 4-byte aligned" in str(error), str(error)
        assert bus.host_read(dst.address, dst.size) == background, "a refused copy wrote memory"
    await copy_and_verify(dev, rng, 128)


async def check_bad_length(bus):
    """Zero or non-multiple-of-4 lengths are refused with BAD_LENGTH."""
    dev = await fresh_device(bus)
    rng = random.Random(6)
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(64), buffers.alloc(64)
        for length in (0, 2, 6, 63):
            error = await raises(DmaFailed, dev.copy(src, dst, length))
            assert error.code is DmaError.BAD_LENGTH, f"length {length}: {error}"
            assert f"length {length} bytes" in str(error), str(error)
    await copy_and_verify(dev, rng, 64)


async def check_bus_master_off(bus):
    """With COMMAND.bus_master = 0 a start is refused with BUS_MASTER_OFF, ahead
    of alignment and length checks."""
    dev = await fresh_device(bus)
    rng = random.Random(7)
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(64), buffers.alloc(64)
        await dev.set_command(bus_master=0)
        for src_address, length in ((src.address, 64), (src.address + 1, 6)):
            error = await raises(DmaFailed, dev.copy(src_address, dst, length))
            assert error.code is DmaError.BUS_MASTER_OFF, str(error)
        assert (await dev.config_status())["bus_master"] == 0
        await dev.set_command(bus_master=1)
    await copy_and_verify(dev, rng, 64)


async def check_master_abort(bus):
    """A copy from or to an address nobody claims fails with MASTER_ABORT at that
    address, sets received_master_abort (the driver clears it) and leaves the
    card working."""
    dev = await fresh_device(bus)
    rng = random.Random(8)
    base, size = bus.mmio_window()
    assert not base <= UNCLAIMED_ADDRESS < base + size
    length = 1024
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(length), buffers.alloc(length)
        background = rng.randbytes(length)
        bus.host_write(dst.address, background)
        for copy_src, copy_dst in ((src.address, UNCLAIMED_ADDRESS), (UNCLAIMED_ADDRESS, dst.address)):
            error = await raises(DmaFailed, dev.copy(copy_src, copy_dst, length))
            assert error.code is DmaError.MASTER_ABORT, str(error)
            assert error.address == UNCLAIMED_ADDRESS, str(error)
            assert error.bytes_done == 0, str(error)
            assert (await dev.config_status())["received_master_abort"] == 0, "driver left the bit set"
        assert bus.host_read(dst.address, length) == background, "a failed read-side copy wrote dst"

        await dev.write("INT_ENABLE", 0)
        await start_raw(dev, src.address, UNCLAIMED_ADDRESS, length)
        status = await wait_idle(dev)
        assert status == {"busy": 0, "error": DmaError.MASTER_ABORT}, status
        assert await dev.read_fields("INT_STATUS") == {"copy_done": 0, "dma_error": 1}
        assert await dev.read("DMA_ERROR_ADDR") == UNCLAIMED_ADDRESS
        assert await dev.read("DMA_COUNT") == 0
        assert (await dev.config_status())["received_master_abort"] == 1
        await dev.clear_config_errors()
        assert (await dev.config_status())["received_master_abort"] == 0
    await dev.reset()
    await copy_and_verify(dev, rng, 1024)


async def check_busy(bus):
    """A start while a copy runs is refused with BUSY; the running copy goes on
    and completes correctly."""
    dev = await fresh_device(bus)
    rng = random.Random(9)
    length = 16 * 1024
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(length), buffers.alloc(length)
        data = rng.randbytes(length)
        bus.host_write(src.address, data)
        await start_raw(dev, src.address, dst.address, length)
        error = await raises(DmaFailed, dev.copy(src, dst, length))
        assert error.code is DmaError.BUSY, str(error)
        assert await bus.wait_interrupt(default_copy_timeout(length)), "the running copy never completed"
        assert await dev.read_fields("INT_STATUS") == {"copy_done": 1, "dma_error": 0}
        assert (await dev.read_fields("DMA_STATUS"))["busy"] == 0
        assert await dev.read("DMA_COUNT") == length
        assert bus.host_read(dst.address, length) == data, "the copy that kept running is corrupt"
        await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(copy_done=1))
    await copy_and_verify(dev, rng, 256)


# -- interrupt and decoding ----------------------------------------------------------

async def check_interrupt_disable(bus):
    """interrupt_disable keeps INTA# deasserted (the driver times out) while
    COMMAND_STATUS.interrupt_status shows the pending completion."""
    dev = await fresh_device(bus)
    rng = random.Random(10)
    length = 256
    async with Buffers(bus) as buffers:
        src, dst = buffers.alloc(length), buffers.alloc(length)
        data = rng.randbytes(length)
        bus.host_write(src.address, data)
        await dev.set_command(interrupt_disable=1)
        start = bus.clocks()
        error = await raises(CardTimeout, dev.copy(src, dst, length, timeout_clocks=2_000))
        assert bus.clocks() - start >= 2_000, "the driver gave up before its timeout"
        assert "2000 PCI clocks" in str(error), str(error)
        assert not bus.interrupt_asserted(), "INTA# asserted with interrupt_disable = 1"
        assert (await dev.config_status())["interrupt_status"] == 1
        assert await dev.read_fields("INT_STATUS") == {"copy_done": 1, "dma_error": 0}
        assert bus.host_read(dst.address, length) == data
    await dev.set_command(interrupt_disable=0)
    assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# not asserted once re-enabled"
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(copy_done=1))
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS)
    assert (await dev.config_status())["interrupt_status"] == 0


async def check_memory_space_off(bus):
    """With memory_space = 0, or outside BAR0, memory accesses are master-aborted."""
    dev = await fresh_device(bus)
    await dev.write("SCRATCH", 0x0BAD_F00D)
    await raises(MasterAbort, bus.mem_read(dev.bar0 + BAR0.size))
    await dev.set_command(memory_space=0)
    await raises(MasterAbort, bus.mem_read(dev.bar0 + BAR0.IDENT.offset))
    await raises(MasterAbort, bus.mem_write(dev.bar0 + BAR0.SCRATCH.offset, [0]))
    await dev.set_command(memory_space=1)
    assert await dev.read("IDENT") == IDENTITY
    assert await dev.read("SCRATCH") == 0x0BAD_F00D, "a master-aborted write reached SCRATCH"


CHECKS = [
    check_probe_finds_card,
    check_config_header_after_reset,
    check_unimplemented_config_dwords_read_zero,
    check_empty_slots_read_all_ones,
    check_bar0_sizing,
    check_command_bits,
    check_scratch_read_write,
    check_unimplemented_bar0_offsets,
    check_read_only_registers_ignore_writes,
    check_int_status_rw1c,
    check_w1s_fields_read_zero,
    check_control_reset_restores_registers,
    check_control_reset_aborts_running_copy,
    check_copy_random_data,
    check_bad_alignment,
    check_bad_length,
    check_bus_master_off,
    check_master_abort,
    check_busy,
    check_interrupt_disable,
    check_memory_space_off,
]
