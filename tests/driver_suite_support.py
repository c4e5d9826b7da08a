# Ref: docs/rings.md
"""Helpers of the bus-agnostic driver suite (:mod:`driver_suite`): a fresh card, buffers,
polls, ESP packets and their expected encodings, copies verified with their counters.

The suite's rules are in :mod:`driver_suite`.
"""
from crypto_reference import cipher_reference, mac_reference
from pacsim.contract.codes import CIPHER_KEY_BYTES, CipherAlg, CipherMode, Direction, IvSource
from pacsim.contract.regmap import CONFIG, PCI_IDS, WINDOWS, Access
from pacsim.host.device import COUNTERS, PacDevice

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
