"""Bus-agnostic checks of the card and its driver.

Each ``check_<name>(bus)`` coroutine takes a fresh :class:`PciBus` (the
behavioural :class:`ModelBus` under asyncio, or the RTL bus under cocotb),
asserts RST#, and checks the card's contract (the register map,
docs/rings.md and the PCI rules) against expectations derived from that
contract, never from either implementation: crypto outputs come from
:mod:`crypto_reference` (``cryptography``, ``hmac``, published vectors).
:data:`CHECKS` lists them all. Data is random from fixed seeds; a job moves
at most 64 KiB and a check runs few jobs, so the RTL runs them in seconds.
Waits are for INTA# or bounded polls, never assumed latencies. No check
needs more than 4 channels open at once. Compressed streams are held
against :func:`pacsim.sim.lzs_model.hardware_compress` (the card's
compressor, bit for bit) and the software reference ``reference/lzs.py``; the
public-key checks use 512- and 768-bit moduli with exponents of at most 160
bits (at most about 81 000 PCI clocks per operation on the RTL), the random
number generator is held against ``reference/drbg.py``.
"""
import random

from cryptography.hazmat.primitives.asymmetric import dh

from crypto_reference import (FIPS81_DES_CBC, FIPS113_DES_MAC, cipher_reference, hash_vectors, mac_reference,
                              nist_cipher_vectors, rfc2202_vectors)
from test_lzs_reference import HAND_STREAMS, bitstream, corpus, mutate, outcome
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, COUNTER_KINDS, MAC_DIGEST_BYTES, MAX_SEGMENTS,
                                   NO_CHANNEL, RANDOM_MAX_BYTES, AlgUnit, CipherAlg, CipherMode, CompAlg, Direction,
                                   IvSource, MacAlg, Opcode, ResultStatus, Service, alg_unit)
from pacsim.contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CMD, CONTEXT, RESULT
from pacsim.contract.pk import ModExpSlot, ModExpStatus, modexp_clocks
from pacsim.contract.regmap import BAR0, CONFIG, IDENTITY, MAX_CHANNELS, PCI_IDS, RINGS, VERSION, WINDOWS, Access
from pacsim.contract.rng import DrbgCommand, DrbgFault, DrbgStatus
from pacsim.host.device import COUNTERS, PacDevice, lzs_bound
from pacsim.host.errors import (CardTimeout, ChannelsExhausted, InvalidArgument, JobFailed, MasterAbort, PkFailed,
                                RingAborted, RingFull, RngFailed)
from pacsim.host.jobs import DriverStatus, Job
from pacsim.host.pk import value_of, words_of
from pacsim.reference.drbg import CtrDrbg
from pacsim.reference.lzs import LzsBadOffset, LzsOverflow, LzsTruncated, decompress
from pacsim.reference.lzs import compress as lzs_compress
from pacsim.reference.modp import GROUPS
from pacsim.sim.lzs_model import hardware_compress

#: A DMA address no target claims: outside host memory and outside the MMIO
#: window of both buses (host memory is well below 1 GiB on both).
UNCLAIMED_ADDRESS = 0x4000_0000
#: Bytes of random data kept on each side of a destination.
GUARD = 64
#: PCI clocks within which a registered INTA# follows its cause.
INTA_SETTLE_CLOCKS = 16
#: PCI clocks allowed to the card to reach a state that is being polled.
POLL_CLOCKS = 20_000
#: ESP header before the IV: SPI and sequence number, bytes.
ESP_HEADER = 8
#: 32-bit words of each PK_OPERANDS slot (the window's entry size).
PK_SLOT_WORDS = WINDOWS["PK_OPERANDS"][1] // 4


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


def trigger_mask(reg) -> int:
    """Bits of ``reg`` whose 1 triggers an action (W1S fields)."""
    return sum(f.mask for f in reg.fields if f.access is Access.W1S)


def burst_bytes(dev) -> int:
    return 4 * dev.identity.caps["burst_words"]


def window_address(dev, name: str, index: int, reg=None) -> int:
    """Bus address of entry ``index`` (and register ``reg``) of a BAR0 window."""
    base, entry_bytes = WINDOWS[name]
    return dev.bar0 + base + index * entry_bytes + (reg.offset if reg is not None else 0)


async def poll(dev, reg_name: str, predicate, clocks: int = POLL_CLOCKS) -> dict:
    """Read a BAR0 register until ``predicate(fields)`` holds; return its fields."""
    deadline = dev.bus.clocks() + clocks
    while not predicate(fields := await dev.read_fields(reg_name)):
        assert dev.bus.clocks() < deadline, f"{reg_name} = {fields} after {clocks} PCI clocks"
    return fields


class Buffers:
    """Allocate host buffers and free them all on exit (``async with``)."""

    def __init__(self, bus):
        self.bus = bus
        self.held = []

    def alloc(self, size: int):
        buffer = self.bus.alloc(size)
        self.held.append(buffer)
        return buffer

    def filled(self, data: bytes):
        """A buffer holding ``data``."""
        buffer = self.alloc(max(-(-len(data) // 4) * 4, 4))   # whole dwords
        self.bus.host_write(buffer.address, data)
        return buffer

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        for buffer in self.held:
            self.bus.free(buffer)


async def run_one(dev, job) -> object:
    (result,) = await dev.run([job])
    return result


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
        assert delta["JOBS"] == 1, f"JOBS moved by {delta['JOBS']} for one copy"
        # Descriptors: command, source and destination segment, result slot
        # STATUS, result, command own clear; then up to a few reads of the next
        # (empty) command. Data: a read and a write per burst.
        chunks = -(-length // burst_bytes(dev))
        descriptors = 6
        restarts = delta["DMA_RETRIES"] + delta["DMA_DISCONNECTS"] + delta["DMA_LATENCY_EXPIRIES"]
        low = 2 * chunks + descriptors
        assert low <= delta["DMA_TRANSACTIONS"] <= low + 4 + restarts, (
            f"{length} bytes in {chunks} burst(s): expected {low} transactions (2 per burst, "
            f"{descriptors} for descriptors) plus up to 4 command polls and one per "
            f"retry/disconnect/latency expiry; counters moved by {delta}")


def esp_packet(rng, block: int, payload_bytes: int, iv_in_packet: bool = True) -> tuple:
    """``(packet, skip)``: SPI and sequence number, the IV block when it
    travels in the packet, then ``payload_bytes`` of random payload."""
    header = rng.randbytes(ESP_HEADER + (block if iv_in_packet else 0))
    return header + rng.randbytes(payload_bytes), len(header)


def cipher_key(rng, alg: CipherAlg) -> bytes:
    return rng.randbytes(CIPHER_KEY_BYTES[alg])


async def open_pair(dev, alg, key, **options) -> tuple:
    """An ENCODE and a DECODE cipher channel with the same key and options."""
    return (await dev.open_cipher_channel(alg, Direction.ENCODE, key, **options),
            await dev.open_cipher_channel(alg, Direction.DECODE, key, **options))


async def open_mac_pair(dev, alg, key, **options) -> tuple:
    return (await dev.open_mac_channel(alg, Direction.ENCODE, key, **options),
            await dev.open_mac_channel(alg, Direction.DECODE, key, **options))


async def close_all(dev) -> None:
    for number in list(dev.channels):
        await dev.close_channel(number)


def expected_esp(packet: bytes, skip: int, cipher=None, cipher_key_bytes=b"", cipher_ivs=b"",
                 mac=None, mac_key=b"") -> bytes:
    """Reference ENCODE output: header, payload encrypted per ``cipher``
    (a Channel), ICV over header + ciphertext per ``mac`` (a Channel)."""
    header, payload = packet[:skip], packet[skip:]
    if cipher is not None:
        ivs = cipher_ivs
        if cipher.mode is CipherMode.CBC and cipher.iv_source is IvSource.PACKET:
            ivs = header[-cipher.block_bytes:] + cipher_ivs
        payload = cipher_reference(cipher.alg, cipher.mode, cipher_key_bytes, ivs, payload)
    out = header + payload
    if mac is not None:
        out += mac_reference(mac.alg, mac_key, out)[:mac.icv_bytes]
    return out


def assert_untouched(bus, buffer, background: bytes, what: str) -> None:
    assert bus.host_read(buffer.address, len(background)) == background, f"{what}: the destination was written"


# -- configuration space -------------------------------------------------------

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
    rng = random.Random(20)
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
    await copy_and_verify(dev, random.Random(21), 64)
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
    rng = random.Random(22)
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
    await copy_and_verify(dev, random.Random(23), 64)


async def check_control_reset_restores_registers(bus):
    """CONTROL.reset puts every BAR0 register and counter back to its reset
    value (CAPS, CHANNELS and PK_STATUS.max_words are the build's; the
    public-key unit and the random number generator included, the latter
    after its self-test), keeps channel contexts, and leaves configuration
    space alone."""
    dev = await fresh_device(bus)
    rng = random.Random(2)
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


async def check_reset_with_jobs_in_flight(bus):
    """reset() with jobs in flight: each gets LOST_TO_RESET, the card stops
    at once (no interrupt, the later jobs move nothing), counters and
    indices restart from 0, channels survive and new jobs run."""
    dev = await fresh_device(bus)
    rng = random.Random(3)
    key = cipher_key(rng, CipherAlg.TDES_INNER)
    cipher = await dev.open_cipher_channel(CipherAlg.TDES_INNER, Direction.ENCODE, key)
    packet, skip = esp_packet(rng, 8, 64)
    encoded = await dev.encode(packet, skip=skip, cipher=cipher)
    length = 16 * 1024
    async with Buffers(bus) as buffers:
        src = buffers.filled(rng.randbytes(length))
        destinations = [buffers.alloc(length) for _ in range(4)]
        backgrounds = [rng.randbytes(length) for _ in destinations]
        for dst, background in zip(destinations, backgrounds):
            bus.host_write(dst.address, background)
        jobs = [Job(Opcode.COPY, src, dst) for dst in destinations]
        tags = await dev.submit(jobs)
        lost = await dev.reset()
        assert [(r.tag, r.status, r.job) for r in lost] == \
               [(tag, DriverStatus.LOST_TO_RESET, job) for tag, job in zip(tags, jobs)], lost
        assert dev.driver_counters["jobs_lost"] == 4 and dev.in_flight == 0
        assert not await bus.wait_interrupt(8 * length // 4), "an interrupt for jobs lost to reset"
        assert await dev.read_fields("INT_STATUS") == {"result": 0, "ring_error": 0, "pk": 0}
        assert await dev.read("JOBS") == 0
        for name in RINGS:
            assert (await dev.read_fields(f"{name}_RING_INDEX"))["index"] == 0, f"{name} index after reset"
        tail = burst_bytes(dev)
        assert bus.host_read(destinations[0].address + length - tail, tail) == backgrounds[0][-tail:], \
            "the first copy ran on after CONTROL.reset"
        for dst, background in zip(destinations[1:], backgrounds[1:]):
            assert_untouched(bus, dst, background, "a job behind the reset")
    await copy_and_verify(dev, rng, 512)
    assert await dev.encode(packet, skip=skip, cipher=cipher) == encoded, "the channel did not survive reset()"


# -- copies ----------------------------------------------------------------------

async def check_copy_random_data(bus):
    """Copies of 4 bytes, a length that is no multiple of the burst, and 64 KiB
    arrive byte for byte, without touching anything around them."""
    dev = await fresh_device(bus)
    rng = random.Random(4)
    for length in (4, 2 * burst_bytes(dev) + 12, 64 * 1024):
        await copy_and_verify(dev, rng, length)


async def check_copy_scatter_gather(bus):
    """A COPY gathers up to MAX_SEGMENTS source pieces and scatters them over
    up to MAX_SEGMENTS destination pieces, in order, leaving guards alone."""
    dev = await fresh_device(bus)
    rng = random.Random(5)
    for source_count, destination_count in ((3, 4), (MAX_SEGMENTS, MAX_SEGMENTS), (1, MAX_SEGMENTS)):
        sizes = [4 * rng.randrange(1, 100) for _ in range(source_count)]
        total = sum(sizes)
        cuts = sorted(rng.sample(range(1, total // 4), destination_count - 1))
        pieces = [4 * (b - a) for a, b in zip([0] + cuts, cuts + [total // 4])]
        async with Buffers(bus) as buffers:
            data = rng.randbytes(total)
            sources, offset = [], 0
            for size in sizes:
                sources.append((buffers.filled(data[offset:offset + size]).address, size))
                offset += size
            areas = [buffers.alloc(size + 2 * GUARD) for size in pieces]
            backgrounds = [rng.randbytes(area.size) for area in areas]
            for area, background in zip(areas, backgrounds):
                bus.host_write(area.address, background)
            destinations = [(area.address + GUARD, size) for area, size in zip(areas, pieces)]
            result = (await run_one(dev, Job(Opcode.COPY, sources, destinations))).check()
            assert result.bytes == total
            offset = 0
            for area, size, background in zip(areas, pieces, backgrounds):
                assert bus.host_read(area.address + GUARD, size) == data[offset:offset + size], \
                    f"{source_count}->{destination_count} pieces: piece at byte {offset} differs"
                assert bus.host_read(area.address, GUARD) == background[:GUARD]
                assert bus.host_read(area.address + GUARD + size, GUARD) == background[-GUARD:]
                offset += size


async def check_many_jobs_in_flight(bus):
    """Two batches of copies submitted back to back (the second while the card
    works on the first) all complete, in order, with their data."""
    dev = await fresh_device(bus)
    rng = random.Random(6)
    async with Buffers(bus) as buffers:
        batches, expected = [], {}
        for _ in range(2):
            jobs = []
            for _ in range(12):
                length = 4 * rng.randrange(1, 512)
                data = rng.randbytes(length)
                dst = buffers.alloc(length)
                jobs.append(Job(Opcode.COPY, buffers.filled(data), dst))
                expected[id(jobs[-1])] = data
            batches.append(jobs)
        tags = await dev.submit(batches[0]) + await dev.submit(batches[1])
        assert len(set(tags)) == len(tags) and dev.in_flight == len(tags)
        results = []
        while len(results) < len(tags):
            results += await dev.collect()
        assert [r.tag for r in results] == tags, "results did not come in command order"
        for result in results:
            result.check()
            job = result.job
            data = expected[id(job)]
            assert result.bytes == len(data)
            assert bus.host_read(job.destination.address, len(data)) == data, f"{job.describe()}: data differs"
    assert await dev.read("JOBS") == len(tags)
    assert dev.driver_counters["results_collected"] == len(tags)


async def check_ring_full_refuses_the_whole_batch(bus):
    """A batch larger than the free command or segment entries raises RingFull
    and writes nothing; a batch that fits then runs."""
    dev = await fresh_device(bus, command_entries=4, segment_entries=8)
    rng = random.Random(7)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(64)), buffers.alloc(64)
        error = await raises(RingFull, dev.submit([Job(Opcode.COPY, src, dst) for _ in range(4)]))
        assert "CMD needs 4 entries, 3 free" in str(error), str(error)
        pieces = [(src.address + 16 * i, 16) for i in range(3)]
        error = await raises(RingFull, dev.submit([Job(Opcode.COPY, pieces, dst) for _ in range(3)]))
        assert "SRC needs 9 entries, 8 free" in str(error), str(error)
        assert dev.driver_counters["ring_full"] == 2 and dev.in_flight == 0
        for name in ("CMD", "SRC", "DST"):
            ring = dev.rings[name]
            assert bus.host_read(ring.buffer.address, ring.buffer.size) == bytes(ring.buffer.size), \
                f"a refused batch wrote the {name} ring"
        assert not await bus.wait_interrupt(2_000) and await dev.read("JOBS") == 0
        results = await dev.run([Job(Opcode.COPY, src, dst) for _ in range(3)])
        assert [r.status for r in results] == [ResultStatus.OK] * 3


async def check_master_abort(bus):
    """A job reading or writing an address nobody claims fails with MASTER_ABORT
    at that address and the output bytes written before it; the driver
    clears received_master_abort; the card goes on."""
    dev = await fresh_device(bus)
    rng = random.Random(8)
    base, size = bus.mmio_window()
    assert not base <= UNCLAIMED_ADDRESS < base + size
    length = 1024
    async with Buffers(bus) as buffers:
        data = rng.randbytes(length)
        src, dst = buffers.filled(data), buffers.alloc(length)
        background = rng.randbytes(length)
        bus.host_write(dst.address, background)
        for copy_src, copy_dst in ((src.address, UNCLAIMED_ADDRESS), (UNCLAIMED_ADDRESS, dst.address)):
            error = await raises(JobFailed, dev.copy(copy_src, copy_dst, length))
            assert error.status is ResultStatus.MASTER_ABORT, str(error)
            assert error.address == UNCLAIMED_ADDRESS and error.bytes == 0, str(error)
            assert f"bus address {UNCLAIMED_ADDRESS:#010x}" in str(error), str(error)
            assert (await dev.config_status())["received_master_abort"] == 0, "driver left the bit set"
        assert_untouched(bus, dst, background, "a failed read-side copy")

        half = length // 2
        result = await run_one(dev, Job(Opcode.COPY, src, [(dst.address, half), (UNCLAIMED_ADDRESS, half)]))
        assert (result.status, result.address, result.bytes) == (ResultStatus.MASTER_ABORT, UNCLAIMED_ADDRESS, half), result
        assert bus.host_read(dst.address, half) == data[:half], "the piece before the failure is wrong"
    await copy_and_verify(dev, rng, 1024)


async def check_descriptor_bus_error_aborts_rings(bus):
    """A descriptor transfer that fails stops the rings (RING_STATUS.aborted,
    INT_STATUS.ring_error); collect() resets the card and raises RingAborted
    with the jobs in flight lost; the card then works."""
    dev = await fresh_device(bus)
    rng = random.Random(9)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        await dev.write("RES_RING_BASE", UNCLAIMED_ADDRESS)     # the result slot read fails
        (tag,) = await dev.submit([Job(Opcode.COPY, src, dst)])
        error = await raises(RingAborted, dev.collect())
        assert error.status is ResultStatus.MASTER_ABORT, str(error)
        assert [(r.tag, r.status) for r in error.lost] == [(tag, DriverStatus.LOST_TO_RESET)], error.lost
        assert_untouched(bus, dst, background, "a job whose result slot could not be read")
    status = await dev.read_fields("RING_STATUS")
    assert status["aborted"] == 0, f"RING_STATUS {status} after the driver's reset"
    assert (await dev.read_fields("RES_RING_BASE"))["address"] == dev.rings["RES"].buffer.address
    assert (await dev.config_status())["received_master_abort"] == 0
    assert dev.driver_counters["ring_aborts"] == 1
    await copy_and_verify(dev, rng, 256)


# -- refused jobs ------------------------------------------------------------------

async def refused_then_good(dev, rng, job, status: ResultStatus, dst, background, what: str) -> None:
    """Run a job the card must refuse with ``status`` (no data moved), then a good copy."""
    result = await run_one(dev, job)
    assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
    assert result.bytes == 0, f"{what}: a refused job reports {result.bytes} bytes"
    assert_untouched(dev.bus, dst, background, what)
    await copy_and_verify(dev, rng, 64)


async def check_bad_descriptor(bus):
    """Unowned, zero-length, unaligned or too many segment descriptors give
    BAD_DESCRIPTOR; the rings stay in step (the next job is fine)."""
    dev = await fresh_device(bus)
    rng = random.Random(10)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(128)), buffers.alloc(128)
        background = rng.randbytes(128)
        bus.host_write(dst.address, background)
        s, d = src.address, dst.address
        many = MAX_SEGMENTS + 1
        cases = {
            "no source segment (the next one is not owned)": Job(Opcode.COPY, [], (d, 64), length=64),
            "zero-length source segment": Job(Opcode.COPY, [(s, 0), (s, 64)], (d, 64), length=64),
            "unaligned source address": Job(Opcode.COPY, (s + 2, 64), (d, 64)),
            "unaligned destination address": Job(Opcode.COPY, (s, 64), (d + 1, 64)),
            "destination length not a multiple of 4": Job(Opcode.COPY, (s, 64), [(d, 6), (d + 8, 58)], length=64),
            "too many source segments": Job(Opcode.COPY, [(s + 4 * i, 4) for i in range(many)], (d, 4 * many)),
            "too many destination segments": Job(Opcode.COPY, (s, 4 * many), [(d + 4 * i, 4) for i in range(many)]),
        }
        for what, job in cases.items():
            await refused_then_good(dev, rng, job, ResultStatus.BAD_DESCRIPTOR, dst, background, what)
        error = await raises(JobFailed, dev.copy(s + 2, d, 64))
        assert error.status is ResultStatus.BAD_DESCRIPTOR and "segment descriptor" in str(error), str(error)


async def check_bad_length(bus):
    """Lengths that do not fit the job give BAD_LENGTH and move nothing."""
    dev = await fresh_device(bus)
    rng = random.Random(11)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    mac_decode = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.DECODE, mac_key)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        s, d = src.address, dst.address
        block = 16
        esp = ESP_HEADER + block
        cases = {
            "COPY length not a multiple of 4": Job(Opcode.COPY, (s, 8), (d, 8), length=6),
            "COPY length 0": Job(Opcode.COPY, (s, 8), (d, 8), length=0),
            "destination smaller than the output": Job(Opcode.COPY, (s, 64), (d, 32), length=64),
            "source segments shorter than the length": Job(Opcode.COPY, (s, 32), (d, 64), length=64),
            "cipher region not a whole number of blocks": Job(Opcode.ENCODE, (s, esp + 20), (d, 256),
                                                              skip=esp, cipher=cipher, mac=mac),
            "skip not a multiple of 4": Job(Opcode.ENCODE, (s, 40), (d, 256), skip=10, mac=mac),
            "no IV block before the payload": Job(Opcode.ENCODE, (s, ESP_HEADER + 32), (d, 256),
                                                  skip=ESP_HEADER, cipher=cipher),
            "skip beyond the packet": Job(Opcode.ENCODE, (s, 40), (d, 256), skip=48, mac=mac),
            "no room for the ICV": Job(Opcode.ENCODE, (s, esp + 32), (d, esp + 32), skip=esp, cipher=cipher, mac=mac),
            "DECODE shorter than its ICV": Job(Opcode.DECODE, (s, 8), (d, 256), mac=mac_decode),
            "HASH with a skip": Job(Opcode.HASH, (s, 64), (d, 256), skip=4, mac=mac),
            "HASH source shorter than the message": Job(Opcode.HASH, (s, 8), (d, 256), length=9, mac=mac),
            "HASH destination smaller than the ICV": Job(Opcode.HASH, (s, 64), (d, 8), mac=mac),
        }
        for what, job in cases.items():
            await refused_then_good(dev, rng, job, ResultStatus.BAD_LENGTH, dst, background, what)


async def check_bad_opcode(bus):
    """Unknown opcodes give BAD_OPCODE, ahead of any channel check."""
    dev = await fresh_device(bus)
    rng = random.Random(12)
    known = {int(op) for op in Opcode}
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(64)), buffers.alloc(64)
        background = rng.randbytes(64)
        bus.host_write(dst.address, background)
        for opcode in sorted({0, max(known) + 1, (1 << CMD.CONTROL.opcode.width) - 1} - known):
            job = Job(opcode, src, dst, cipher=NO_CHANNEL - 1, mac=NO_CHANNEL - 2)
            await refused_then_good(dev, rng, job, ResultStatus.BAD_OPCODE, dst, background, f"opcode {opcode}")


async def check_channel_statuses(bus):
    """BAD_CHANNEL, CHANNEL_CLOSED and CHANNEL_MISMATCH, in the card's order,
    each followed by a good job."""
    dev = await fresh_device(bus)
    rng = random.Random(13)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher, cipher_decode = await open_pair(dev, CipherAlg.AES128, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    spare = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    closed = spare.number
    await dev.close_channel(spare)
    packet, skip = esp_packet(rng, 16, 32)
    beyond = dev.identity.channels
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        encode = lambda **slots: Job(Opcode.ENCODE, src, dst, skip=skip, **slots)
        cases = [
            ("a closed channel", encode(cipher=closed, mac=mac), ResultStatus.CHANNEL_CLOSED),
            ("no channel for ENCODE", encode(), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel in the cipher slot", encode(cipher=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a cipher channel in the MAC slot", encode(cipher=cipher, mac=cipher), ResultStatus.CHANNEL_MISMATCH),
            ("a DECODE channel in an ENCODE job", encode(cipher=cipher_decode, mac=mac),
             ResultStatus.CHANNEL_MISMATCH),
            ("ENCODE channels in a DECODE job", Job(Opcode.DECODE, src, dst, skip=skip, cipher=cipher),
             ResultStatus.CHANNEL_MISMATCH),
            ("closed before mismatch", encode(cipher=mac, mac=closed), ResultStatus.CHANNEL_CLOSED),
            ("HASH without a MAC channel", Job(Opcode.HASH, src, dst), ResultStatus.CHANNEL_MISMATCH),
            ("HASH naming a cipher channel", Job(Opcode.HASH, src, dst, cipher=cipher, mac=mac),
             ResultStatus.CHANNEL_MISMATCH),
            ("HASH on a cipher channel", Job(Opcode.HASH, src, dst, mac=cipher), ResultStatus.CHANNEL_MISMATCH),
            ("HASH on a closed channel", Job(Opcode.HASH, src, dst, mac=closed), ResultStatus.CHANNEL_CLOSED),
        ]
        if beyond < NO_CHANNEL:
            cases += [("a channel beyond CHANNELS.count", encode(cipher=beyond), ResultStatus.BAD_CHANNEL),
                      ("bad channel before closed", encode(cipher=closed, mac=beyond), ResultStatus.BAD_CHANNEL)]
        for what, job, status in cases:
            result = await run_one(dev, job)
            assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
            assert_untouched(bus, dst, background, what)
            out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
            assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key), \
                f"the good job after '{what}' is wrong"


async def check_bad_context(bus):
    """An open channel whose context names an unknown algorithm or a bad ICV
    length gives BAD_CONTEXT (after the mismatch check); restored, it works."""
    dev = await fresh_device(bus)
    rng = random.Random(14)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    packet, skip = esp_packet(rng, 16, 32)
    config = CONTEXT.CONFIG
    good = {n: (await bus.mem_read(window_address(dev, "CONTEXT", n, config)))[0] for n in (cipher.number, mac.number)}
    unknown_cipher = max(set(range(1 << config.alg.width)) - {int(a) for a in CipherAlg})
    unknown_mac = max(set(range(1 << config.alg.width)) - {int(a) for a in MacAlg})
    digest = MAC_DIGEST_BYTES[MacAlg.HMAC_SHA1]
    cases = [(cipher, {"alg": 0}), (cipher, {"alg": unknown_cipher}), (mac, {"alg": unknown_mac}),
             (mac, {"icv_bytes": 6}), (mac, {"icv_bytes": 0}), (mac, {"icv_bytes": digest + 4})]
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        for channel, change in cases:
            address = window_address(dev, "CONTEXT", channel.number, config)
            await bus.mem_write(address, [config.encode(**{**config.decode(good[channel.number]), **change})])
            result = await run_one(dev, Job(Opcode.ENCODE, src, dst, skip=skip, cipher=cipher, mac=mac))
            assert result.status is ResultStatus.BAD_CONTEXT, f"channel {channel.number} {change}: {result.status!r}"
            if channel is mac:
                swapped = await run_one(dev, Job(Opcode.ENCODE, src, dst, skip=skip, cipher=mac))
                assert swapped.status is ResultStatus.CHANNEL_MISMATCH, "BAD_CONTEXT checked before the mismatch"
            assert_untouched(bus, dst, background, f"channel {channel.number} {change}")
            await bus.mem_write(address, [good[channel.number]])
            out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
            assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key)


# -- result ring and interrupts ------------------------------------------------------

async def check_result_ring_full_and_recovery(bus):
    """With result slots 2 and 3 not armed the card stops before the third job
    (RING_STATUS.result_full, nothing moved); re-armed, it waits for a kick,
    then finishes."""
    dev = await fresh_device(bus)
    rng = random.Random(15)
    results_ring = dev.rings["RES"]
    for index in (2, 3):
        results_ring.write(index)                      # not armed
    async with Buffers(bus) as buffers:
        data = [rng.randbytes(512) for _ in range(4)]
        jobs = [Job(Opcode.COPY, buffers.filled(d), buffers.alloc(512)) for d in data]
        backgrounds = [rng.randbytes(512) for _ in jobs]
        for job, background in zip(jobs, backgrounds):
            bus.host_write(job.destination.address, background)
        await dev.submit(jobs)
        status = await poll(dev, "RING_STATUS", lambda f: f["result_full"])
        assert status["aborted"] == 0, status
        assert (await dev.read_fields("CMD_RING_INDEX"))["index"] == 2
        assert (await dev.read_fields("RES_RING_INDEX"))["index"] == 2
        assert await dev.read("JOBS") == 2
        assert (await dev.read_fields("INT_STATUS"))["result"] == 1, "the two results were not signalled"
        assert (await dev.read_fields("RING_STATUS"))["result_full"] == 1, "the card stopped waiting unkicked"
        for job, background in zip(jobs[2:], backgrounds[2:]):
            assert_untouched(bus, job.destination, background, "a job waiting for its result slot")
        for index in (2, 3):
            results_ring.arm(index)
        results = await dev.collect()
        assert [r.job for r in results] == jobs[:2], results
        assert not await bus.wait_interrupt(1_000), "the card went on without a kick"
        assert await dev.read("JOBS") == 2 and (await dev.read_fields("RING_STATUS"))["result_full"] == 1
        await dev.kick()
        while len(results) < 4:
            results += await dev.collect()
        assert [r.job for r in results] == jobs
        for result, job, d in zip(results, jobs, data):
            assert result.ok and bus.host_read(job.destination.address, 512) == d, result
    assert (await dev.read_fields("RING_STATUS"))["result_full"] == 0


async def check_coalescing_by_count(bus):
    """COALESCE.count = 3: two results raise no interrupt, the third does;
    count 0 acts as 1."""
    dev = await fresh_device(bus, coalesce_count=3)
    rng = random.Random(16)
    assert await dev.read_fields("COALESCE") == {"count": 3, "timeout": 0}
    async with Buffers(bus) as buffers:
        jobs = [Job(Opcode.COPY, buffers.filled(rng.randbytes(64)), buffers.alloc(64)) for _ in range(3)]
        await dev.submit(jobs[:2])
        await poll(dev, "RES_RING_INDEX", lambda f: f["index"] == 2)
        assert not await bus.wait_interrupt(1_000), "INTA# after 2 results with COALESCE.count = 3"
        assert (await dev.read_fields("INT_STATUS"))["result"] == 0
        await dev.submit(jobs[2:])
        assert await bus.wait_interrupt(POLL_CLOCKS), "no INTA# after the third result"
        assert (await dev.read_fields("INT_STATUS"))["result"] == 1
        results = await dev.collect()
        assert [r.job for r in results] == jobs and all(r.ok for r in results)
        assert not bus.interrupt_asserted()
        await dev.set_coalescing(0, 0)
        (result,) = await dev.run([jobs[0]], timeout_clocks=POLL_CLOCKS)
        assert result.ok, "COALESCE.count = 0 did not act as 1"


async def check_coalescing_by_timeout(bus):
    """COALESCE.timeout: a lone result (count not reached) interrupts about
    ``timeout`` PCI clocks after it was written, not before."""
    timeout = 2_000
    slack = 64
    dev = await fresh_device(bus, coalesce_count=8, coalesce_timeout=timeout)
    rng = random.Random(17)
    async with Buffers(bus) as buffers:
        job = Job(Opcode.COPY, buffers.filled(rng.randbytes(64)), buffers.alloc(64))
        await dev.submit([job])
        deadline = bus.clocks() + POLL_CLOCKS
        while True:
            before = bus.clocks()
            if (await dev.read_fields("RES_RING_INDEX"))["index"] == 1:
                seen = bus.clocks()
                break
            assert bus.clocks() < deadline, "the result was never written"
        assert not bus.interrupt_asserted()
        assert not await bus.wait_interrupt(max(before + timeout - slack - bus.clocks(), 0)), \
            f"INTA# earlier than {timeout} PCI clocks after the result"
        assert await bus.wait_interrupt(seen + timeout + slack - bus.clocks()), \
            f"no INTA# {timeout} PCI clocks after the result"
        (result,) = await dev.collect()
        assert result.job is job and result.ok


async def check_interrupt_disable(bus):
    """interrupt_disable keeps INTA# deasserted (the driver times out) while
    COMMAND_STATUS.interrupt_status shows the pending result."""
    dev = await fresh_device(bus)
    rng = random.Random(18)
    length = 256
    async with Buffers(bus) as buffers:
        data = rng.randbytes(length)
        src, dst = buffers.filled(data), buffers.alloc(length)
        await dev.set_command(interrupt_disable=1)
        start = bus.clocks()
        error = await raises(CardTimeout, dev.run([Job(Opcode.COPY, src, dst)], timeout_clocks=2_000))
        assert bus.clocks() - start >= 2_000, "the driver gave up before its timeout"
        assert "2000 PCI clocks" in str(error), str(error)
        assert not bus.interrupt_asserted(), "INTA# asserted with interrupt_disable = 1"
        assert (await dev.config_status())["interrupt_status"] == 1
        assert await dev.read_fields("INT_STATUS") == {"result": 1, "ring_error": 0, "pk": 0}
        assert bus.host_read(dst.address, length) == data
        await dev.set_command(interrupt_disable=0)
        assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# not asserted once re-enabled"
        (result,) = await dev.collect()
        assert result.ok and result.bytes == length
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


async def check_bus_master_off_holds_jobs(bus):
    """With COMMAND.bus_master = 0 the card starts no job; once it is 1
    again, a kick runs the waiting job."""
    dev = await fresh_device(bus)
    rng = random.Random(19)
    async with Buffers(bus) as buffers:
        data = rng.randbytes(256)
        src, dst = buffers.filled(data), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        await dev.set_command(bus_master=0)
        await dev.submit([Job(Opcode.COPY, src, dst)])
        assert not await bus.wait_interrupt(2_000), "a job ran with bus_master = 0"
        assert await dev.read("JOBS") == 0 and (await dev.read_fields("RES_RING_INDEX"))["index"] == 0
        assert_untouched(bus, dst, background, "bus_master = 0")
        await dev.set_command(bus_master=1)
        await dev.kick()
        (result,) = await dev.collect()
        assert result.ok and bus.host_read(dst.address, 256) == data


# -- crypto ----------------------------------------------------------------------------

CIPHER_VARIANTS = [(CipherMode.CBC, IvSource.PACKET), (CipherMode.CBC, IvSource.CONTEXT),
                   (CipherMode.ECB, IvSource.PACKET)]


async def check_cipher_known_answers(bus):
    """NIST CAVP multi-block vectors (DES, 2- and 3-key 3DES, AES-128/192/256;
    CBC and ECB) and FIPS 81: ENCODE with the IV from the context and from
    the packet, DECODE of the ciphertext."""
    dev = await fresh_device(bus)
    vectors = []
    for alg, mode in ((CipherAlg.DES, CipherMode.CBC), (CipherAlg.TDES_2KEY, CipherMode.CBC),
                      (CipherAlg.TDES_INNER, CipherMode.CBC), (CipherAlg.AES128, CipherMode.CBC),
                      (CipherAlg.AES192, CipherMode.CBC), (CipherAlg.AES256, CipherMode.CBC),
                      (CipherAlg.TDES_INNER, CipherMode.ECB), (CipherAlg.AES128, CipherMode.ECB)):
        for section in ("ENCRYPT", "DECRYPT"):
            vectors += [(alg, mode, v) for v in nist_cipher_vectors(alg, mode, section, (1, 3))]
    key, iv, plaintext, ciphertext = FIPS81_DES_CBC
    vectors.append((CipherAlg.DES, CipherMode.CBC, {"key": key, "iv": iv, "plaintext": plaintext,
                                                    "ciphertext": ciphertext, "count": "FIPS 81"}))
    for alg, mode, v in vectors:
        what = f"{alg.name}-{mode.name} vector {v['count']}"
        context_iv = v["iv"] if mode is CipherMode.CBC else b""
        encode, decode = await open_pair(dev, alg, v["key"], mode=mode, iv_source=IvSource.CONTEXT, iv=context_iv)
        assert await dev.encode(v["plaintext"], cipher=encode) == v["ciphertext"], f"{what}: ENCODE"
        assert await dev.decode(v["ciphertext"], cipher=decode) == v["plaintext"], f"{what}: DECODE"
        await close_all(dev)
        if mode is CipherMode.CBC:
            encode = await dev.open_cipher_channel(alg, Direction.ENCODE, v["key"])
            out = await dev.encode(v["iv"] + v["plaintext"], skip=len(v["iv"]), cipher=encode)
            assert out == v["iv"] + v["ciphertext"], f"{what}: ENCODE with the IV in the packet"
            await close_all(dev)


async def check_cipher_round_trips(bus):
    """Every CipherAlg in CBC (IV from the packet and from the context) and
    ECB: ENCODE matches the reference, DECODE gives the packet back."""
    dev = await fresh_device(bus)
    rng = random.Random(24)
    for alg in CipherAlg:
        block = CIPHER_BLOCK_BYTES[alg]
        for mode, iv_source in CIPHER_VARIANTS:
            what = f"{alg.name}-{mode.name}-{iv_source.name}"
            key = cipher_key(rng, alg)
            blocks = 3 if alg is CipherAlg.TDES_OUTER else 1      # 3DES outer: IV1..IV3
            if mode is CipherMode.ECB:
                ivs, iv = b"", b""
            elif iv_source is IvSource.CONTEXT:
                ivs = iv = rng.randbytes(blocks * block)
            else:
                iv = rng.randbytes((blocks - 1) * block)        # IV2‖IV3 from the context
                ivs = iv
            packet, skip = esp_packet(rng, block, block * rng.randrange(1, 9),
                                      iv_in_packet=mode is CipherMode.CBC and iv_source is IvSource.PACKET)
            encode, decode = await open_pair(dev, alg, key, mode=mode, iv_source=iv_source, iv=iv)
            out = await dev.encode(packet, skip=skip, cipher=encode)
            assert out == expected_esp(packet, skip, encode, key, ivs), f"{what}: ENCODE differs from the reference"
            assert await dev.decode(out, skip=skip, cipher=decode) == packet, f"{what}: DECODE"
            await close_all(dev)


async def check_mac_known_answers(bus):
    """RFC 2202 HMAC-SHA1/MD5 vectors (whole ICV and 96-bit) as HASH jobs
    and, for whole-dword messages, MAC-only ENCODE jobs; the RFC 1321 MD5
    suite on an MD5 channel; the FIPS 113 DES-MAC example."""
    dev = await fresh_device(bus)
    for alg in (MacAlg.HMAC_SHA1, MacAlg.HMAC_MD5):
        for key, message, digest in rfc2202_vectors(alg):
            for icv_bytes in (len(digest), 12):
                mac = await dev.open_mac_channel(alg, Direction.ENCODE, key, icv_bytes=icv_bytes)
                what = f"{alg.name} RFC 2202 key {key.hex()}, {icv_bytes}-byte ICV"
                assert await dev.hash(message, mac=mac) == digest[:icv_bytes], f"{what}: HASH"
                if len(message) % 4 == 0:
                    assert await dev.encode(message, mac=mac) == message + digest[:icv_bytes], f"{what}: ENCODE"
                await dev.close_channel(mac)
    md5 = await dev.open_mac_channel(MacAlg.MD5, Direction.ENCODE)
    for message, digest in hash_vectors("hashes/MD5/rfc-1321.txt"):
        assert await dev.hash(message, mac=md5) == digest, f"RFC 1321 MD5 of {message!r}"
    await dev.close_channel(md5)
    key, message, expected = FIPS113_DES_MAC
    mac = await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, key, icv_bytes=len(expected))
    assert await dev.encode(message, mac=mac) == message + expected, "DES-MAC FIPS 113 example"


async def check_hash_jobs(bus):
    """HASH: any message length (0..300 bytes, partial last dwords with junk
    after the message in the source buffer) on SHA1/MD5/HMAC/DES-MAC
    channels gives the reference digest in one batch per channel, writes
    exactly the ICV, and counts as an encode on the channel (BYTES = message
    bytes) and its algorithm unit; a HASH on a DECODE channel is
    CHANNEL_MISMATCH."""
    dev = await fresh_device(bus)
    rng = random.Random(28)
    keys = {MacAlg.HMAC_SHA1: rng.randbytes(20), MacAlg.HMAC_MD5: rng.randbytes(16), MacAlg.DES_MAC: rng.randbytes(8),
            MacAlg.SHA1: b"", MacAlg.MD5: b""}
    lengths = (0, 1, 2, 3, 5, 55, 56, 57, 64, 119, 300)
    for alg, key in keys.items():
        channel = await dev.open_mac_channel(alg, Direction.ENCODE, key)
        icv = channel.icv_bytes
        before = (await dev.alg_counters())[alg_unit(Service.MAC, alg)]
        channel_before = await dev.channel_counters(channel)      # counters outlive a channel's closing
        async with Buffers(bus) as buffers:
            jobs, expected = [], []
            for length in lengths:
                message = rng.randbytes(length)
                padded = -(-length // 4) * 4 or 4
                source = buffers.filled(message + rng.randbytes(padded - length))   # junk after the message
                destination = buffers.alloc(icv + 8)
                bus.host_write(destination.address, bytes([0xA5]) * destination.size)
                jobs.append(Job(Opcode.HASH, source, destination, length=length, mac=channel))
                expected.append((message, destination))
            for (message, destination), result in zip(expected, await dev.run(jobs)):
                what = f"HASH {alg.name} of {len(message)} bytes"
                assert (result.status, result.bytes) == (ResultStatus.OK, icv), \
                    f"{what}: {result.status!r}, {result.bytes} bytes"
                out = bus.host_read(destination.address, destination.size)
                assert out[:icv] == mac_reference(alg, key, message)[:icv], f"{what}: digest"
                assert out[icv:] == bytes([0xA5]) * (destination.size - icv), f"{what}: wrote past the ICV"
        counters = await dev.channel_counters(channel)
        assert (counters["good"] - channel_before["good"], counters["bytes"] - channel_before["bytes"]) == \
            (len(lengths), sum(lengths)), f"{alg.name} channel counters {channel_before} -> {counters}"
        after = (await dev.alg_counters())[alg_unit(Service.MAC, alg)]
        assert after["encode_good"] - before["encode_good"] == len(lengths), f"{alg.name}: {before} -> {after}"
        await dev.close_channel(channel)
    decode = await dev.open_mac_channel(MacAlg.SHA1, Direction.DECODE)
    async with Buffers(bus) as buffers:
        result = await run_one(dev, Job(Opcode.HASH, buffers.filled(b"abcd"), buffers.alloc(32), mac=decode))
    assert result.status is ResultStatus.CHANNEL_MISMATCH, f"HASH on a DECODE channel: {result.status!r}"


async def check_mac_round_trips_and_mismatch(bus):
    """Every MacAlg, alone and after AES-128-CBC (ESP: MAC over header and
    ciphertext): ENCODE matches the reference ICV, DECODE restores the
    packet, an altered ICV or ciphertext gives MAC_MISMATCH."""
    dev = await fresh_device(bus)
    rng = random.Random(25)
    for alg in MacAlg:
        key_sizes = {MacAlg.DES_MAC: (8,), MacAlg.SHA1: (0,), MacAlg.MD5: (0,)}.get(alg, (MAC_DIGEST_BYTES[alg], 80))
        for key_bytes in key_sizes:
            for with_cipher in (False, True):
                what = f"{alg.name} ({key_bytes}-byte key{', AES-128-CBC' if with_cipher else ''})"
                mac_key = rng.randbytes(key_bytes)
                icv_bytes = 8 if alg is MacAlg.DES_MAC else 12
                mac, mac_decode = await open_mac_pair(dev, alg, mac_key, icv_bytes=icv_bytes)
                cipher = cipher_decode = None
                key = cipher_key(rng, CipherAlg.AES128)
                if with_cipher:
                    cipher, cipher_decode = await open_pair(dev, CipherAlg.AES128, key)
                packet, skip = esp_packet(rng, 16, 16 * rng.randrange(1, 6), iv_in_packet=with_cipher)
                out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
                assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key), f"{what}: ENCODE"
                assert await dev.decode(out, skip=skip, cipher=cipher_decode, mac=mac_decode) == packet, \
                    f"{what}: DECODE"
                for position in (len(out) - 1, skip + 3):
                    altered = bytearray(out)
                    altered[position] ^= 0x40
                    error = await raises(JobFailed, dev.decode(bytes(altered), skip=skip, cipher=cipher_decode,
                                                               mac=mac_decode))
                    assert error.status is ResultStatus.MAC_MISMATCH, f"{what}, byte {position} altered: {error}"
                await close_all(dev)


async def check_channel_exhaustion(bus):
    """Channels are allocated lowest first; with all open, opening raises
    ChannelsExhausted naming the card's count; a closed number is reused."""
    dev = await fresh_device(bus)
    rng = random.Random(26)
    usable = min(dev.identity.channels, NO_CHANNEL)
    opened = [await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, rng.randbytes(8), icv_bytes=4)
              for _ in range(usable)]
    assert [c.number for c in opened] == list(range(usable))
    error = await raises(ChannelsExhausted, dev.open_cipher_channel(CipherAlg.DES, Direction.ENCODE,
                                                                    rng.randbytes(8)))
    assert str(dev.identity.channels) in str(error), str(error)
    middle = opened[usable // 2]
    await dev.close_channel(middle)
    again = await dev.open_cipher_channel(CipherAlg.DES, Direction.ENCODE, rng.randbytes(8))
    assert again.number == middle.number
    packet = rng.randbytes(16)
    out = await dev.encode(packet, mac=opened[0])
    assert len(out) == len(packet) + 4


async def check_channel_and_alg_counters(bus):
    """Per-channel (GOOD/FAIL/DISCARD/BYTES) and per-algorithm-unit counters
    after good, failed (MAC mismatch) and refused jobs: a refused job counts
    in every channel it names, and in the unit of each of them that is open
    and in its own slot; COPY and unknown opcodes count in neither; a
    channel's counters outlive its closing."""
    dev = await fresh_device(bus)
    rng = random.Random(27)
    expected = {number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0)
                for number in range(dev.identity.channels)}
    units = {unit: dict.fromkeys(COUNTER_KINDS, 0) for unit in AlgUnit}
    jobs = 0

    def count(kind: str, direction: str, payload: int, *channels, unit_channels=None):
        """Expected counts of an ENCODE/DECODE job naming ``channels``; the
        units of ``unit_channels`` (default: all of them, each open and in
        its own slot) count too."""
        nonlocal jobs
        jobs += 1
        for channel in channels:
            expected[channel.number][kind] += 1
            expected[channel.number]["bytes"] += payload if kind == "good" else 0
        for channel in channels if unit_channels is None else unit_channels:
            units[alg_unit(channel.service, channel.alg)][f"{direction}_{kind}"] += 1

    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        des_mac = await dev.open_mac_channel(MacAlg.DES_MAC, Direction.ENCODE, rng.randbytes(8), icv_bytes=8)
        packet = rng.randbytes(40)
        await dev.encode(packet, mac=des_mac)
        count("good", "encode", len(packet), des_mac)
        await dev.close_channel(des_mac)            # its number is reused below; counters accumulate
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, mac=des_mac))
        assert refused.status is ResultStatus.CHANNEL_CLOSED
        count("discard", "encode", 0, des_mac, unit_channels=())            # closed: no unit

        key, mac_key = cipher_key(rng, CipherAlg.AES256), rng.randbytes(16)
        cipher, cipher_decode = await open_pair(dev, CipherAlg.AES256, key)
        mac, mac_decode = await open_mac_pair(dev, MacAlg.HMAC_MD5, mac_key)
        encoded = []
        for _ in range(3):
            packet, skip = esp_packet(rng, 16, 16 * rng.randrange(1, 5))
            encoded.append((await dev.encode(packet, skip=skip, cipher=cipher, mac=mac), skip))
            count("good", "encode", len(packet) - skip, cipher, mac)
        refused = await run_one(dev, Job(Opcode.ENCODE, (src.address, 44), dst, skip=24, cipher=cipher, mac=mac))
        assert refused.status is ResultStatus.BAD_LENGTH
        count("discard", "encode", 0, cipher, mac)
        refused = await run_one(dev, Job(Opcode.DECODE, (src.address, 8), dst, mac=mac_decode))
        assert refused.status is ResultStatus.BAD_LENGTH
        count("discard", "decode", 0, mac_decode)
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, cipher=mac))
        assert refused.status is ResultStatus.CHANNEL_MISMATCH
        count("discard", "encode", 0, mac, unit_channels=())                # a MAC channel in the cipher slot
        refused = await run_one(dev, Job(Opcode.ENCODE, src, dst, cipher=cipher_decode, mac=mac))
        assert refused.status is ResultStatus.CHANNEL_MISMATCH
        count("discard", "encode", 0, cipher_decode, mac)                    # wrong direction, right slots
        for opcode in (Opcode.COPY, 0):                                      # in JOBS only
            await run_one(dev, Job(opcode, src, dst, cipher=cipher, mac=mac))
            jobs += 1
        for out, skip in encoded[:2]:
            await dev.decode(out, skip=skip, cipher=cipher_decode, mac=mac_decode)
            count("good", "decode", len(out) - mac.icv_bytes - skip, cipher_decode, mac_decode)
        out, skip = encoded[2]
        await raises(JobFailed, dev.decode(out[:-1] + bytes([out[-1] ^ 1]), skip=skip, cipher=cipher_decode,
                                           mac=mac_decode))
        count("fail", "decode", 0, cipher_decode, mac_decode)

    for number, counters in expected.items():
        assert await dev.channel_counters(number) == counters, f"channel {number} counters"
    assert await dev.alg_counters() == units
    assert await dev.read("JOBS") == jobs



# -- compression (COMPRESS / DECOMPRESS) ---------------------------------------------------

#: The card's status for each outcome of the software decompressor (docs/rings.md, DECOMPRESS).
STREAM_STATUS = {None: ResultStatus.OK, LzsBadOffset: ResultStatus.STREAM_BAD_OFFSET,
                 LzsTruncated: ResultStatus.STREAM_TRUNCATED, LzsOverflow: ResultStatus.OUTPUT_OVERFLOW}


def lzs_packets(rng, sizes, kinds=("text", "zeros", "random")) -> list:
    """Packets of ``sizes`` bytes, cycling through corpus ``kinds``."""
    return [corpus(rng, kinds[n % len(kinds)], size) for n, size in enumerate(sizes)]


async def open_comp_pair(dev) -> tuple:
    return (await dev.open_comp_channel(Direction.ENCODE), await dev.open_comp_channel(Direction.DECODE))


def lzs_job(opcode, buffers, data: bytes, destination, channel, **options) -> Job:
    """A COMPRESS/DECOMPRESS job of ``data`` (a buffer of whole dwords, junk
    after the data) into ``destination`` (segments)."""
    padded = -(-len(data) // 4) * 4 or 4
    source = buffers.filled(data + bytes([0xC3]) * (padded - len(data)))
    return Job(opcode, source, destination, length=len(data), comp=channel, **options)


async def check_lzs_round_trips(bus):
    """COMPRESS of 0..1500-byte packets (text, zeros, random) writes the
    card's compressor stream (sim/lzs_model.hardware_compress, bit for bit),
    which the software reference decodes to the packet; DECOMPRESS of the
    software compressor's streams gives the packets back; RESULT.BYTES is
    the exact output length, zero-padded to the dword, nothing written past
    it."""
    dev = await fresh_device(bus)
    rng = random.Random(40)
    encoder, decoder = await open_comp_pair(dev)
    sizes = (0, 1, 2, 3, 4, 5, 7, 64, 257, 1000, 1500, 1499)
    packets = lzs_packets(rng, sizes)
    async with Buffers(bus) as buffers:
        jobs, places = [], []
        for packet in packets:
            room = lzs_bound(len(packet)) + 4
            destination = buffers.alloc(-(-room // 4) * 4 + GUARD)
            background = rng.randbytes(destination.size)
            bus.host_write(destination.address, background)
            jobs.append(lzs_job(Opcode.COMPRESS, buffers, packet, (destination.address, destination.size - GUARD),
                                encoder))
            places.append((destination, background))
        streams = []
        for packet, job, result, (destination, background) in zip(packets, jobs, await dev.run(jobs), places):
            what = f"COMPRESS of {len(packet)} bytes"
            expected = hardware_compress(packet)
            assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected OK, {len(expected)}"
            written = -(-len(expected) // 4) * 4
            out = bus.host_read(destination.address, destination.size)
            assert out[:len(expected)] == expected, f"{what}: not the card compressor's stream"
            assert out[len(expected):written] == bytes(written - len(expected)), f"{what}: padding not zero"
            assert out[written:] == background[written:], f"{what}: wrote past its output"
            assert decompress(out[:len(expected)], len(packet)) == packet, f"{what}: does not decode"
            streams.append(out[:len(expected)])
        for packet, stream in zip(packets, streams):
            if len(packet) >= 64 and not any(packet):
                assert len(stream) <= 8 + len(packet) // 24, f"{len(packet)} zeros compressed to {len(stream)} bytes"

        jobs = []
        for packet in packets:
            stream = lzs_compress(packet)
            destination = buffers.alloc(max(-(-len(packet) // 4) * 4, 4))
            jobs.append(lzs_job(Opcode.DECOMPRESS, buffers, stream, destination, decoder))
        for packet, job, result in zip(packets, jobs, await dev.run(jobs)):
            assert (result.status, result.bytes) == (ResultStatus.OK, len(packet)), \
                f"DECOMPRESS to {len(packet)} bytes: {result.status!r}, {result.bytes} bytes"
            (address, _), = job.destination_segments()
            assert bus.host_read(address, len(packet)) == packet, f"DECOMPRESS to {len(packet)} bytes"
    for packet in packets[6:9]:
        assert await dev.decompress(await dev.compress(packet, channel=encoder), channel=decoder,
                                    limit=len(packet)) == packet


async def check_lzs_hand_written_streams(bus):
    """DECOMPRESS of streams written by hand from the bitstream definition
    (literals, both offset forms, every length code, overlapping matches,
    the end marker with and without padding), also with junk after the end
    marker, in one batch; and scattered over 3 source and 3 destination
    segments."""
    dev = await fresh_device(bus)
    decoder = await dev.open_comp_channel(Direction.DECODE)
    cases = [(stream, expected) for stream, expected in HAND_STREAMS.values()]
    cases += [(stream + b"\xff\x00\x12", expected) for stream, expected in list(HAND_STREAMS.values())[:6]]
    async with Buffers(bus) as buffers:
        jobs = [lzs_job(Opcode.DECOMPRESS, buffers, stream, buffers.alloc(max(-(-len(expected) // 4) * 4, 4)),
                        decoder) for stream, expected in cases]
        for (stream, expected), job, result in zip(cases, jobs, await dev.run(jobs)):
            what = f"stream {stream.hex()}"
            assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected OK, {len(expected)}"
            (address, _), = job.destination_segments()
            assert bus.host_read(address, len(expected)) == expected, what
        stream, expected = HAND_STREAMS["11-bit offset 130"]
        source = buffers.filled(stream)
        destination = buffers.alloc(144)
        pieces = [(source.address, 8), (source.address + 8, 4), (source.address + 12, source.size - 12)]
        outs = [(destination.address, 4), (destination.address + 4, 64), (destination.address + 68, 76)]
        result = await run_one(dev, Job(Opcode.DECOMPRESS, pieces, outs, length=len(stream), comp=decoder))
        assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), result
        assert bus.host_read(destination.address, len(expected)) == expected, "scattered DECOMPRESS"


async def check_lzs_stream_errors(bus):
    """Malformed streams and small destinations: STREAM_BAD_OFFSET,
    STREAM_TRUNCATED, OUTPUT_OVERFLOW, each with the bytes decoded before the
    error written (the reference's LzsError.output, zero-padded to the
    dword) and nothing past the destination; COMPRESS into a destination too
    small writes what fits and reports OUTPUT_OVERFLOW; each counts as FAIL."""
    dev = await fresh_device(bus)
    rng = random.Random(41)
    encoder, decoder = await open_comp_pair(dev)
    literals = " ".join(f"0 {b:08b}" for b in b"ABCDEFGH")
    run_of_100 = lzs_compress(bytes(100))
    cases = [                                            # (stream, destination bytes, error class)
        (bitstream("1 0 00000000000 00 1 1 0000000"), 16, LzsBadOffset),          # 11-bit offset 0
        (bitstream("0 01000001 1 1 0000010 00 1 1 0000000"), 16, LzsBadOffset),   # offset beyond output
        (bitstream(f"{literals} 1 0 00000001001 00 1 1 0000000"), 16, LzsBadOffset),
        (b"", 16, LzsTruncated),
        (bitstream(literals), 16, LzsTruncated),                                  # no end marker
        (bitstream("0 01000001 1 1 0000001 1111 1111 11"), 64, LzsTruncated),     # inside a length field
        (HAND_STREAMS["length 23"][0], 24, LzsOverflow),                          # 26 bytes into 24
        (run_of_100, 96, LzsOverflow),
        (HAND_STREAMS["literals"][0], 4, None),                                   # fits exactly: OK
    ]
    before = await dev.channel_counters(decoder)
    async with Buffers(bus) as buffers:
        for stream, room, error in cases:
            what = f"DECOMPRESS of {stream.hex() or 'nothing'} into {room} bytes"
            region = buffers.alloc(room + GUARD)
            background = rng.randbytes(region.size)
            bus.host_write(region.address, background)
            result = await run_one(dev, lzs_job(Opcode.DECOMPRESS, buffers, stream, (region.address, room), decoder))
            expected_error, output = outcome(stream, room)
            assert expected_error is error, f"{what}: the reference gives {expected_error}"
            status = STREAM_STATUS[error]
            assert (result.status, result.bytes) == (status, len(output)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected {status!r}, {len(output)}"
            written = -(-len(output) // 4) * 4
            out = bus.host_read(region.address, region.size)
            assert out[:len(output)] == output, f"{what}: the bytes before the error"
            assert out[len(output):written] == bytes(written - len(output)), f"{what}: padding not zero"
            assert out[written:] == background[written:], f"{what}: wrote past its output"
        failures = sum(error is not None for _, _, error in cases)
        after = await dev.channel_counters(decoder)
        assert (after["fail"] - before["fail"], after["good"] - before["good"]) == (failures, 1), \
            f"decoder counters {before} -> {after}"

        packet = rng.randbytes(200)
        stream = hardware_compress(packet)
        region = buffers.alloc(64 + GUARD)
        background = rng.randbytes(region.size)
        bus.host_write(region.address, background)
        result = await run_one(dev, lzs_job(Opcode.COMPRESS, buffers, packet, (region.address, 64), encoder))
        assert (result.status, result.bytes) == (ResultStatus.OUTPUT_OVERFLOW, 64), \
            f"COMPRESS of 200 random bytes into 64: {result.status!r}, {result.bytes} bytes"
        assert bus.host_read(region.address, region.size) == stream[:64] + background[64:], \
            "COMPRESS overflow: not the stream's first 64 bytes, or written past the destination"
        error = await raises(JobFailed, dev.compress(packet, channel=encoder, limit=len(packet)))
        assert error.status is ResultStatus.OUTPUT_OVERFLOW, error
        error = await raises(JobFailed, dev.decompress(bitstream(literals), channel=decoder, limit=100))
        assert error.status is ResultStatus.STREAM_TRUNCATED and error.bytes == 8, error
        assert (await dev.channel_counters(encoder))["fail"] == 2


async def check_lzs_mutated_streams(bus):
    """Thirty-two random and mutated streams (bit flips, truncations, random
    bytes) DECOMPRESSed in one batch into small guarded destinations: each
    ends as the software reference says (OK or the stream error, the same
    bytes decoded), nothing is written past its output, and the card takes
    the next good job."""
    dev = await fresh_device(bus)
    rng = random.Random(49)
    decoder = await dev.open_comp_channel(Direction.DECODE)
    streams = [mutate(rng, lzs_compress(corpus(rng, rng.choice(("text", "binary", "zeros")), rng.randrange(1, 300))))
               for _ in range(24)]
    streams += [rng.randbytes(rng.randrange(1, 64)) for _ in range(8)]
    async with Buffers(bus) as buffers:
        jobs, regions = [], []
        for stream in streams:
            room = 4 * rng.randrange(1, 80)
            region = buffers.alloc(room + GUARD)
            background = rng.randbytes(region.size)
            bus.host_write(region.address, background)
            jobs.append(lzs_job(Opcode.DECOMPRESS, buffers, stream, (region.address, room), decoder))
            regions.append((stream, room, region, background))
        results = await dev.run(jobs)
        errors = 0
        for index, ((stream, room, region, background), result) in enumerate(zip(regions, results)):
            error, output = outcome(stream, room)
            errors += error is not None
            what = f"mutated stream {index} ({len(stream)} bytes, {room}-byte destination)"
            assert (result.status, result.bytes) == (STREAM_STATUS[error], len(output)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; the reference: {error}, {len(output)} bytes"
            written = -(-len(output) // 4) * 4
            out = bus.host_read(region.address, region.size)
            assert out[:len(output)] == output and out[written:] == background[written:], f"{what}: output"
        assert errors >= 16, f"only {errors} of {len(streams)} streams were malformed"
        packet = corpus(rng, "text", 300)
        assert await dev.decompress(lzs_compress(packet), channel=decoder, limit=300) == packet


async def check_chained_compression(bus):
    """ENCODE/DECODE with a compression channel (compress, encrypt, MAC /
    MAC check, decrypt, decompress in one job) for AES-128-CBC and 3DES
    with HMAC-SHA1-96, MAC only and cipher only, payloads of any byte
    length: the ENCODE output decrypts with ``cryptography`` to an LZS
    stream (zero-padded to the block) that the software reference decodes
    to the payload, and its ICV is HMAC over header + ciphertext; a DECODE
    of a packet built the same way by the references gives header +
    payload; a flipped bit is MAC_MISMATCH, a destination too small
    OUTPUT_OVERFLOW; the compression channel counts the jobs. At most
    three channels are open at a time (one direction's)."""
    dev = await fresh_device(bus)
    rng = random.Random(50)
    for alg, use_cipher, use_mac in ((CipherAlg.AES128, True, True), (CipherAlg.TDES_INNER, True, True),
                                     (CipherAlg.AES128, False, True), (CipherAlg.AES128, True, False)):
        what = f"{alg.name if use_cipher else 'no cipher'}{' + HMAC-SHA1-96' if use_mac else ''} + LZS"
        key, mac_key = cipher_key(rng, alg), rng.randbytes(20)
        block = CIPHER_BLOCK_BYTES[alg] if use_cipher else 4
        icv = 12 if use_mac else 0
        cases = []
        for size in (0, 1, 37, 500, 1400):
            header = rng.randbytes(ESP_HEADER + (block if use_cipher else 0))
            cases.append((header, corpus(rng, rng.choice(("text", "html", "zeros")), size)))
        for direction in Direction:
            comp = await dev.open_comp_channel(direction)
            cipher = await dev.open_cipher_channel(alg, direction, key) if use_cipher else None
            mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, direction, mac_key) if use_mac else None
            before = await dev.channel_counters(comp)
            for header, payload in cases:
                skip, size = len(header), len(payload)
                if direction is Direction.ENCODE:
                    out = await dev.encode(header + payload, skip=skip, cipher=cipher, mac=mac, comp=comp)
                    body, tag = out[:len(out) - icv], out[len(out) - icv:]
                    assert body[:skip] == header and (len(body) - skip) % block == 0, f"{what}, {size} bytes: layout"
                    if use_mac:
                        assert tag == mac_reference(MacAlg.HMAC_SHA1, mac_key, body)[:12], f"{what}, {size}: ICV"
                    plain = body[skip:]
                    if use_cipher:
                        plain = cipher_reference(alg, CipherMode.CBC, key, header[-block:], plain, decrypt=True)
                    assert decompress(plain, size) == payload, f"{what}, {size} bytes: the stream does not decode"
                    continue
                stream = lzs_compress(payload)                  # a packet built by the references
                stream += bytes(-len(stream) % block)
                if use_cipher:
                    stream = cipher_reference(alg, CipherMode.CBC, key, header[-block:], stream)
                packet = header + stream
                if use_mac:
                    packet += mac_reference(MacAlg.HMAC_SHA1, mac_key, packet)[:12]
                assert await dev.decode(packet, skip=skip, cipher=cipher, mac=mac, comp=comp,
                                        limit=skip + size) == header + payload, f"{what}, {size} bytes: DECODE"
                if use_mac and size:
                    flipped = bytearray(packet)
                    flipped[skip] ^= 0x10
                    error = await raises(JobFailed, dev.decode(bytes(flipped), skip=skip, cipher=cipher, mac=mac,
                                                                comp=comp, limit=skip + size))
                    assert error.status is ResultStatus.MAC_MISMATCH, f"{what}: {error}"
            after = await dev.channel_counters(comp)
            assert after["good"] - before["good"] == len(cases), f"{what}: compression counters {before} -> {after}"
            if direction is Direction.ENCODE:
                async with Buffers(bus) as buffers:
                    header = cases[-1][0]
                    data = header + rng.randbytes(400)
                    job = Job(Opcode.ENCODE, buffers.filled(data), buffers.alloc(64), length=len(data),
                              skip=len(header), cipher=cipher, mac=mac, comp=comp)
                    result = await run_one(dev, job)
                    assert (result.status, result.bytes) == (ResultStatus.OUTPUT_OVERFLOW, 64), f"{what}: {result}"
            await close_all(dev)


async def check_lzs_validation(bus):
    """COMPRESS/DECOMPRESS validation in the card's order (BAD_OPCODE,
    BAD_CHANNEL, CHANNEL_CLOSED, CHANNEL_MISMATCH, BAD_CONTEXT, BAD_LENGTH);
    only the compression slot is used (a cipher or MAC channel named is a
    mismatch); refused jobs write nothing; other opcodes ignore the
    compression slot; RESULT echoes it."""
    dev = await fresh_device(bus)
    rng = random.Random(42)
    encoder, decoder = await open_comp_pair(dev)
    mac = await dev.open_mac_channel(MacAlg.SHA1, Direction.ENCODE)
    spare = await dev.open_comp_channel(Direction.ENCODE)
    closed = spare.number
    await dev.close_channel(spare)
    beyond = dev.identity.channels
    packet = corpus(rng, "text", 100)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        job = lambda opcode=Opcode.COMPRESS, **slots: Job(opcode, src, dst, length=len(packet), **slots)
        cases = [
            ("no compression channel", job(), ResultStatus.CHANNEL_MISMATCH),
            ("a DECODE channel for COMPRESS", job(comp=decoder), ResultStatus.CHANNEL_MISMATCH),
            ("an ENCODE channel for DECOMPRESS", job(Opcode.DECOMPRESS, comp=encoder), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel in the compression slot", job(comp=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a cipher-slot channel named", job(comp=encoder, cipher=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel named", job(comp=encoder, mac=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a compression channel in the MAC slot of HASH", job(Opcode.HASH, mac=encoder),
             ResultStatus.CHANNEL_MISMATCH),
            ("a closed compression channel", job(comp=closed), ResultStatus.CHANNEL_CLOSED),
            ("closed before mismatch", job(comp=closed, cipher=mac), ResultStatus.CHANNEL_CLOSED),
            ("closed before bad length", job(comp=closed, skip=4), ResultStatus.CHANNEL_CLOSED),
            ("mismatch before bad length", job(comp=decoder, skip=4), ResultStatus.CHANNEL_MISMATCH),
            ("a skip", job(comp=encoder, skip=4), ResultStatus.BAD_LENGTH),
            ("source shorter than length", Job(Opcode.COMPRESS, (src.address, 96), dst, length=100, comp=encoder),
             ResultStatus.BAD_LENGTH),
            ("an unknown opcode", job((1 << CMD.CONTROL.opcode.width) - 1, comp=encoder), ResultStatus.BAD_OPCODE),
        ]
        if beyond < NO_CHANNEL:
            cases += [("a channel beyond CHANNELS.count", job(comp=beyond), ResultStatus.BAD_CHANNEL),
                      ("bad channel before bad length", job(Opcode.DECOMPRESS, comp=beyond, skip=4),
                       ResultStatus.BAD_CHANNEL)]
        for what, refused, status in cases:
            result = await run_one(dev, refused)
            assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
            assert_untouched(bus, dst, background, what)

        config = CONTEXT.CONFIG
        address = window_address(dev, "CONTEXT", encoder.number, config)
        (good,) = await bus.mem_read(address)
        unknown = max(set(range(1 << config.alg.width)) - {int(a) for a in CompAlg})
        for alg in (0, unknown):
            await bus.mem_write(address, [config.encode(**{**config.decode(good), "alg": alg})])
            result = await run_one(dev, job(comp=encoder, skip=4))
            assert result.status is ResultStatus.BAD_CONTEXT, f"compression alg {alg}: {result.status!r}"
        await bus.mem_write(address, [good])
        assert await dev.compress(packet, channel=encoder) == hardware_compress(packet)

        digest = await run_one(dev, Job(Opcode.HASH, src, buffers.alloc(32), length=len(packet), mac=mac,
                                        comp=decoder))
        assert digest.status is ResultStatus.OK, f"HASH with a compression slot: {digest.status!r}"
        copied = await run_one(dev, Job(Opcode.COPY, src, buffers.alloc(128), comp=closed))
        assert copied.status is ResultStatus.OK, f"COPY with a compression slot: {copied.status!r}"
        enabled = await dev.read("INT_ENABLE")
        await dev.write("INT_ENABLE", 0)
        slot = dev.rings["RES"].head
        await dev.submit([Job(Opcode.COPY, src, buffers.alloc(128), comp=encoder)])
        await poll(dev, "INT_STATUS", lambda f: f["result"])
        echo = RESULT.BYTES.decode(dev.rings["RES"].read(slot)["BYTES"])
        assert echo == {"bytes": len(packet), "comp_channel": encoder.number}, f"RESULT.BYTES of a COPY: {echo}"
        await dev.write("INT_ENABLE", enabled)
        (result,) = await dev.collect()
        assert result.ok, result


async def check_lzs_counters(bus):
    """COMPRESS counts as an encode, DECOMPRESS as a decode, on the
    compression channel (BYTES += length of good jobs) and on AlgUnit.LZS:
    good, fail (stream errors, overflow) and discard (refused)."""
    dev = await fresh_device(bus)
    rng = random.Random(43)
    encoder, decoder = await open_comp_pair(dev)
    channels = {encoder.number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0),
                decoder.number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0)}
    unit = dict.fromkeys(COUNTER_KINDS, 0)
    before = await dev.read("JOBS")
    packets = lzs_packets(rng, (30, 0, 700))
    for packet in packets:
        stream = await dev.compress(packet, channel=encoder)
        assert await dev.decompress(stream, channel=decoder, limit=len(packet)) == packet
        channels[encoder.number]["good"] += 1
        channels[decoder.number]["good"] += 1
        channels[encoder.number]["bytes"] += len(packet)
        channels[decoder.number]["bytes"] += len(stream)
        unit["encode_good"] += 1
        unit["decode_good"] += 1
    await raises(JobFailed, dev.compress(rng.randbytes(100), channel=encoder, limit=64))
    await raises(JobFailed, dev.decompress(b"\x00", channel=decoder, limit=16))
    for channel, kind in ((encoder, "encode"), (decoder, "decode")):
        channels[channel.number]["fail"] += 1
        unit[f"{kind}_fail"] += 1
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packets[0]), buffers.alloc(64)
        for opcode, channel, kind in ((Opcode.COMPRESS, encoder, "encode"), (Opcode.DECOMPRESS, decoder, "decode"),
                                      (Opcode.DECOMPRESS, encoder, "decode")):
            refused = await run_one(dev, Job(opcode, src, dst, length=4, skip=4 if channel is not encoder
                                             or opcode is Opcode.COMPRESS else 0, comp=channel))
            assert refused.status in (ResultStatus.BAD_LENGTH, ResultStatus.CHANNEL_MISMATCH), refused
            channels[channel.number]["discard"] += 1
            unit[f"{kind}_discard"] += 1
    for number, expected in channels.items():
        assert await dev.channel_counters(number) == expected, f"channel {number} counters"
    counters = await dev.alg_counters()
    assert counters[AlgUnit.LZS] == unit, f"LZS unit counters {counters[AlgUnit.LZS]}; expected {unit}"
    assert not any(any(c.values()) for u, c in counters.items() if u is not AlgUnit.LZS), counters
    assert await dev.read("JOBS") - before == 2 * len(packets) + 2 + 3


# -- public-key unit ---------------------------------------------------------------------------

def odd_modulus(rng, bits: int) -> int:
    return rng.getrandbits(bits) | 1 << (bits - 1) | 1


async def pk_raw_start(dev, *, base: int, exponent: int, modulus: int, words: int, exp_bits: int) -> None:
    """Operands straight into the PK_OPERANDS window, PK_SIZE, then start."""
    for slot, value in ((ModExpSlot.BASE, base), (ModExpSlot.EXPONENT, exponent), (ModExpSlot.MODULUS, modulus)):
        count = max(1, -(-value.bit_length() // 32), words if slot is not ModExpSlot.EXPONENT else 1)
        count = min(count, dev.identity.pk_words)
        await dev.bus.mem_write(window_address(dev, "PK_OPERANDS", slot), words_of(value, count))
    await dev.write("PK_SIZE", BAR0.PK_SIZE.encode(words=words, exp_bits=exp_bits))
    await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(start=1))


async def pk_wait(dev, clocks: int = POLL_CLOCKS) -> dict:
    """Wait for INT_STATUS.pk; acknowledge it; PK_STATUS."""
    await poll(dev, "INT_STATUS", lambda f: f["pk"], clocks)
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
    return await dev.read_fields("PK_STATUS")


async def check_modexp_against_pow(bus):
    """modexp on 512- and 768-bit moduli (random odd ones and groups 0 and 1)
    with 0..160-bit exponents, a base at or above the modulus, equals
    Python's pow; the driver refuses what the unit cannot take."""
    dev = await fresh_device(bus)
    rng = random.Random(44)
    assert dev.identity.pk_words >= 24, f"PK_STATUS.max_words = {dev.identity.pk_words}"
    n512, n768 = odd_modulus(rng, 512), odd_modulus(rng, 768)
    cases = [
        (rng.getrandbits(511), rng.getrandbits(64) | 1 << 63, n512),
        ((1 << 512) - 1, rng.getrandbits(160) | 1 << 159, n512),                 # base above the modulus
        (n512, 65537, n512),                                                     # base = modulus: 0
        (2, rng.getrandbits(128) | 1 << 127, GROUPS[1].prime),
        (rng.getrandbits(767), rng.getrandbits(160) | 1 << 159, n768),
        (rng.getrandbits(500), 0, GROUPS[0].prime),                              # exponent 0: 1
        (rng.getrandbits(500), 1, n512),
    ]
    for base, exponent, modulus in cases:
        got = await dev.modexp(base, exponent, modulus)
        assert got == pow(base, exponent, modulus), \
            f"{modulus.bit_length()}-bit modulus, {exponent.bit_length()}-bit exponent: wrong result"
    max_bits = 32 * dev.identity.pk_words
    for base, exponent, modulus in ((2, 3, n512 + 1), (2, 3, 1), (2, 3, 0), (-1, 3, n512), (2, -3, n512),
                                    (2, 3, (1 << max_bits) + 1), (2, 1 << max_bits, n512)):
        await raises(InvalidArgument, dev.modexp(base, exponent, modulus))
    status = await dev.read_fields("PK_STATUS")
    assert (status["busy"], status["status"]) == (0, ModExpStatus.OK), status


async def check_modexp_statuses_and_interrupt(bus):
    """The unit's statuses through its registers: an operation raises
    INT_STATUS.pk (INTA# when enabled, RW1C); EVEN_MODULUS; BAD_SIZE (words 0
    or above max_words, exp_bits above the slot); TIMEOUT by a tiny
    PK_WATCHDOG (PK_CLOCKS just above it; the driver raises PkFailed);
    ABORTED; the operand window is read-only while busy; afterwards the unit
    works."""
    dev = await fresh_device(bus)
    rng = random.Random(45)
    modulus, base, exponent = odd_modulus(rng, 512), rng.getrandbits(500), rng.getrandbits(64) | 1 << 63
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=16, exp_bits=64)
    assert await bus.wait_interrupt(2 * modexp_clocks(512, 64) + POLL_CLOCKS), \
        "no INTA# for a finished public-key operation"
    assert (await dev.read_fields("INT_STATUS"))["pk"] == 1
    status = await dev.read_fields("PK_STATUS")
    assert (status["busy"], status["status"]) == (0, ModExpStatus.OK), status
    assert await dev.read("PK_CLOCKS") > 0
    result = await bus.mem_read(window_address(dev, "PK_OPERANDS", ModExpSlot.RESULT), 16)
    assert value_of(result) == pow(base, exponent, modulus)
    await dev.write("INT_STATUS", BAR0.INT_STATUS.encode(pk=1))
    assert (await dev.read_fields("INT_STATUS"))["pk"] == 0
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# stays asserted after clearing pk"

    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1))
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus - 1, words=16, exp_bits=64)
    assert (await pk_wait(dev))["status"] == ModExpStatus.EVEN_MODULUS
    assert not bus.interrupt_asserted(), "INTA# asserted for pk with INT_ENABLE.pk = 0"
    await dev.write("INT_ENABLE", BAR0.INT_ENABLE.encode(result=1, ring_error=1, pk=1))
    max_words = dev.identity.pk_words
    for words, exp_bits in ((0, 8), (max_words + 1, 8), (16, 32 * max_words + 1)):
        if words < 1 << BAR0.PK_SIZE.words.width and exp_bits < 1 << BAR0.PK_SIZE.exp_bits.width:
            await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=words, exp_bits=exp_bits)
            assert (await pk_wait(dev))["status"] == ModExpStatus.BAD_SIZE, (words, exp_bits)

    await dev.write("PK_WATCHDOG", 100)
    await pk_raw_start(dev, base=base, exponent=exponent, modulus=modulus, words=16, exp_bits=64)
    assert (await pk_wait(dev))["status"] == ModExpStatus.TIMEOUT
    clocks = await dev.read("PK_CLOCKS")
    assert 100 <= clocks <= 104, f"PK_CLOCKS = {clocks} for a watchdog of 100"
    error = await raises(PkFailed, dev.modexp(base, exponent, modulus))
    assert error.status is ModExpStatus.TIMEOUT, error
    await dev.write("PK_WATCHDOG", 0)                      # no limit

    big = odd_modulus(rng, 768)
    await pk_raw_start(dev, base=base, exponent=rng.getrandbits(160) | 1 << 159, modulus=big, words=24,
                       exp_bits=160)
    status = await dev.read_fields("PK_STATUS")
    assert status["busy"] == 1, f"PK_STATUS {status} just after starting a 768-bit operation"
    base_address = window_address(dev, "PK_OPERANDS", ModExpSlot.BASE)
    (word,) = await bus.mem_read(base_address)
    await bus.mem_write(base_address, [word ^ 0xFFFF_FFFF])
    assert (await bus.mem_read(base_address))[0] == word, "the operand window was written while busy"
    await dev.write("PK_CONTROL", BAR0.PK_CONTROL.encode(abort=1))
    assert (await pk_wait(dev, INTA_SETTLE_CLOCKS * 4))["status"] == ModExpStatus.ABORTED
    assert await dev.modexp(base, exponent, modulus) == pow(base, exponent, modulus)


async def check_dh_agrees_with_cryptography(bus):
    """A Diffie-Hellman exchange in group 1 (RFC 2409, 768 bits) between the
    card (160-bit private exponent from its generator) and ``cryptography``
    gives the same secret, padded to the prime's length; peer values
    outside 2..p-2 are refused."""
    dev = await fresh_device(bus)
    group = GROUPS[1]
    parameters = dh.DHParameterNumbers(group.prime, group.generator).parameters()
    private, public = await dev.dh_keypair(1, private_bits=160)
    assert private.bit_length() == 160, f"private exponent of {private.bit_length()} bits"
    assert public == pow(group.generator, private, group.prime)
    theirs = parameters.generate_private_key()
    secret = await dev.dh_shared(1, private, theirs.public_key().public_numbers().y)
    ours = dh.DHPublicNumbers(public, parameters.parameter_numbers()).public_key()
    assert secret == theirs.exchange(ours), "the card's shared secret differs from cryptography's"
    assert len(secret) == group.bits // 8
    for peer in (0, 1, group.prime - 1, group.prime):
        await raises(InvalidArgument, dev.dh_shared(1, private, peer))
    await raises(InvalidArgument, dev.dh_keypair(3))


# -- random number generator ------------------------------------------------------------------

async def rng_command(dev, command: DrbgCommand) -> dict:
    """A raw command through RNG_CONTROL; RNG_STATUS once it is done."""
    await poll(dev, "RNG_STATUS", lambda f: not f["busy"])
    await dev.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=command, start=1))
    return await poll(dev, "RNG_STATUS", lambda f: not f["busy"] and (f["valid"] or f["status"]
                                                                     or command is not DrbgCommand.GENERATE))


async def check_rng_against_reference(bus):
    """The generator refuses RESEED and GENERATE before INSTANTIATE
    (NOT_INSTANTIATED); instantiated from fixed seed material, random()
    equals the reference CTR_DRBG with one 16-byte generate request per
    block, also across a reseed; RNG_OUTPUT holds the block bytes as
    little-endian dwords with RNG_STATUS.valid; UNINSTANTIATE clears ready
    and valid; the driver instantiates the generator itself after a reset."""
    dev = await fresh_device(bus)
    rng = random.Random(46)
    seed, reseed = rng.randbytes(48), rng.randbytes(48)
    status = await rng_command(dev, DrbgCommand.GENERATE)
    assert (status["status"], status["ready"], status["valid"]) == (DrbgStatus.NOT_INSTANTIATED, 0, 0), status
    error = await raises(RngFailed, dev.rng_reseed(reseed))
    assert error.status is DrbgStatus.NOT_INSTANTIATED, error

    await dev.rng_instantiate(seed)
    status = await dev.read_fields("RNG_STATUS")
    assert (status["busy"], status["ready"], status["status"]) == (0, 1, DrbgStatus.OK), status
    reference = CtrDrbg(seed)
    blocks = lambda count: b"".join(reference.generate(16) for _ in range(count))
    assert await dev.random(64) == blocks(4), "random(64) differs from the reference"
    assert await dev.random(20) == blocks(2)[:20], "random(20) differs from the reference"
    await dev.rng_reseed(reseed)
    reference.reseed(reseed)
    assert await dev.random(16) == blocks(1), "random(16) after a reseed differs from the reference"

    status = await rng_command(dev, DrbgCommand.GENERATE)
    assert (status["valid"], status["ready"], status["status"]) == (1, 1, DrbgStatus.OK), status
    words = await bus.mem_read(dev.bar0 + BAR0.RNG_OUTPUT0.offset, 4)
    assert b"".join(w.to_bytes(4, "little") for w in words) == blocks(1), "RNG_OUTPUT byte order"
    status = await rng_command(dev, DrbgCommand.UNINSTANTIATE)
    assert (status["valid"], status["ready"], status["status"]) == (0, 0, DrbgStatus.OK), status
    assert (await rng_command(dev, DrbgCommand.GENERATE))["status"] == DrbgStatus.NOT_INSTANTIATED
    await raises(InvalidArgument, dev.rng_instantiate(seed[:47]))

    await dev.reset()
    first, second = await dev.random(32), await dev.random(32)
    assert len(first) == len(second) == 32 and first != second
    assert await dev.random(0) == b""


async def check_random_jobs(bus):
    """RANDOM commands: before INSTANTIATE the result is RNG_FAILED with
    nothing written; instantiated, a job of n bytes (1, 5, 16, 100) is one
    GENERATE request of ceil(n/16) blocks, equal to the reference, written
    exactly (BYTES = n, the last dword filled from the same blocks, nothing
    past it); the RNG registers interleave with jobs on one generator; bad
    lengths are BAD_LENGTH."""
    dev = await fresh_device(bus)
    rng = random.Random(47)
    seed = rng.randbytes(48)
    async with Buffers(bus) as buffers:
        destination = buffers.alloc(128)
        background = rng.randbytes(128)
        bus.host_write(destination.address, background)
        await dev._rng_status(lambda f: not f["busy"])           # the power-on self-test
        result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=16))
        assert (result.status, result.bytes) == (ResultStatus.RNG_FAILED, 0), result
        assert bus.host_read(destination.address, 128) == background, "RNG_FAILED wrote to the destination"
        for what, length in (("length 0", 0), ("beyond RANDOM_MAX_BYTES", RANDOM_MAX_BYTES + 4),
                             ("destination too small", 132)):
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=length))
            assert result.status is ResultStatus.BAD_LENGTH, f"RANDOM {what}: {result.status!r}"
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        for length in (1, 5, 16, 100):
            bus.host_write(destination.address, background)
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=length))
            assert (result.status, result.bytes) == (ResultStatus.OK, length), f"RANDOM {length}: {result}"
            expected = reference.generate(16 * -(-length // 16))
            padded = -(-length // 4) * 4
            out = bus.host_read(destination.address, 128)
            assert out[:padded] == expected[:padded], f"RANDOM {length} differs from the reference"
            assert out[padded:] == background[padded:], f"RANDOM {length} wrote past its dwords"
            assert await dev.random(16) == reference.generate(16), "RNG register block after a RANDOM job"
    assert await dev.random(40, job=True) == reference.generate(48)[:40], "random(job=True)"


async def set_rng_fault(dev, fault: DrbgFault) -> None:
    """TEST_CONTROL.rng_fault = ``fault``, read back."""
    await dev.write("TEST_CONTROL", BAR0.TEST_CONTROL.encode(rng_fault=fault))
    assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": fault}, "TEST_CONTROL.rng_fault read back"


async def assert_rng_health_failed(dev, seed: bytes, what: str) -> None:
    """The generator is zeroized and refuses everything: RNG_STATUS HEALTH_FAILED
    and not ready; a GENERATE through RNG_CONTROL ends HEALTH_FAILED, and
    random(), rng_instantiate() and rng_reseed() raise RngFailed HEALTH_FAILED."""
    status = await dev.read_fields("RNG_STATUS")
    assert (status["busy"], status["ready"], status["valid"], status["status"]) == \
        (0, 0, 0, DrbgStatus.HEALTH_FAILED), f"{what}: RNG_STATUS {status}"
    assert (await rng_command(dev, DrbgCommand.GENERATE))["status"] == DrbgStatus.HEALTH_FAILED, what
    error = await raises(RngFailed, dev.random(16))      # GENERATE, or INSTANTIATE if the driver seeds it
    assert error.status is DrbgStatus.HEALTH_FAILED, f"{what}: {error}"
    for command, call in ((DrbgCommand.INSTANTIATE, lambda: dev.rng_instantiate(seed)),
                          (DrbgCommand.RESEED, lambda: dev.rng_reseed(seed))):
        error = await raises(RngFailed, call())
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, command), f"{what}: {error}"


async def check_rng_fault_injection(bus):
    """TEST_CONTROL.rng_fault is the generator's fault hook: with
    STUCK_OUTPUT (which leaves INSTANTIATE alone) the continuous test fails
    the next GENERATE, a RANDOM job's (RNG_FAILED, BYTES 0, nothing written)
    or a register one's (RngFailed HEALTH_FAILED); with CORRUPT_KAT (which
    leaves GENERATE alone) the known-answer self-test fails the next
    INSTANTIATE. Cleared, the fault leaves the generator failed (every
    command HEALTH_FAILED, RANDOM jobs RNG_FAILED) until CONTROL.reset,
    which also clears TEST_CONTROL; the generator then matches the reference
    DRBG again."""
    dev = await fresh_device(bus)
    rng = random.Random(48)
    seed = rng.randbytes(48)
    assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": DrbgFault.NONE}
    async with Buffers(bus) as buffers:
        destination = buffers.alloc(64)
        background = rng.randbytes(64)
        bus.host_write(destination.address, background)

        async def random_job_fails(what: str) -> None:
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=48))
            assert (result.status, result.bytes) == (ResultStatus.RNG_FAILED, 0), f"RANDOM {what}: {result}"
            assert bus.host_read(destination.address, 64) == background, f"RANDOM {what} wrote to the destination"

        # STUCK_OUTPUT: the continuous test, first on a RANDOM job
        await set_rng_fault(dev, DrbgFault.STUCK_OUTPUT)
        await dev.rng_instantiate(seed)                          # the self-test's blocks are not GENERATE blocks
        assert (await dev.read_fields("RNG_STATUS"))["ready"] == 1
        await random_job_fails("with STUCK_OUTPUT")
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "STUCK_OUTPUT on a RANDOM job, then cleared")
        await random_job_fails("after STUCK_OUTPUT was cleared")

        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        assert await dev.random(16) == reference.generate(16), "random() after a reset differs from the reference"
        await set_rng_fault(dev, DrbgFault.STUCK_OUTPUT)        # then on a register GENERATE
        error = await raises(RngFailed, dev.random(16))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.GENERATE), error
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "STUCK_OUTPUT on RNG_CONTROL, then cleared")

        # CORRUPT_KAT: the known-answer self-test of INSTANTIATE; CONTROL.reset clears the field
        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        await set_rng_fault(dev, DrbgFault.CORRUPT_KAT)
        assert await dev.random(32) == reference.generate(16) + reference.generate(16), \
            "CORRUPT_KAT changed GENERATE"
        error = await raises(RngFailed, dev.rng_instantiate(seed))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.INSTANTIATE), error
        await dev.reset()
        assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": DrbgFault.NONE}, "CONTROL.reset kept the fault"
        await set_rng_fault(dev, DrbgFault.CORRUPT_KAT)
        error = await raises(RngFailed, dev.rng_instantiate(seed))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.INSTANTIATE), error
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "CORRUPT_KAT, then cleared")
        await random_job_fails("after CORRUPT_KAT was cleared")

        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        assert await dev.random(20) == (reference.generate(16) + reference.generate(16))[:20], \
            "random() after a reset differs from the reference"
        bus.host_write(destination.address, background)
        result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=48))
        assert (result.status, result.bytes) == (ResultStatus.OK, 48), result
        assert bus.host_read(destination.address, 48) == reference.generate(48), "RANDOM after a reset"


CHECKS = [
    check_random_jobs,
    check_rng_fault_injection,
    check_chained_compression,
    check_lzs_mutated_streams,
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
    check_reset_with_jobs_in_flight,
    check_copy_random_data,
    check_copy_scatter_gather,
    check_many_jobs_in_flight,
    check_ring_full_refuses_the_whole_batch,
    check_master_abort,
    check_descriptor_bus_error_aborts_rings,
    check_bad_descriptor,
    check_bad_length,
    check_bad_opcode,
    check_channel_statuses,
    check_bad_context,
    check_result_ring_full_and_recovery,
    check_coalescing_by_count,
    check_coalescing_by_timeout,
    check_interrupt_disable,
    check_memory_space_off,
    check_bus_master_off_holds_jobs,
    check_cipher_known_answers,
    check_cipher_round_trips,
    check_mac_known_answers,
    check_hash_jobs,
    check_mac_round_trips_and_mismatch,
    check_channel_exhaustion,
    check_channel_and_alg_counters,
    check_lzs_round_trips,
    check_lzs_hand_written_streams,
    check_lzs_stream_errors,
    check_lzs_validation,
    check_lzs_counters,
    check_modexp_against_pow,
    check_modexp_statuses_and_interrupt,
    check_dh_agrees_with_cryptography,
    check_rng_against_reference,
]
