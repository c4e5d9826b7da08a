"""The driver against the behavioural card model (no simulator).

Runs every check of :mod:`driver_suite` on a fresh :class:`ModelBus`, then
tests what only the model offers: its cost model, its allocator and its
fault injection.
"""
import asyncio
import random

import pytest

from driver_suite import CHECKS, Buffers, fresh_device, raises, start_raw, wait_idle
from pacsim.hdl.regmap import BAR0, CONFIG, DmaError
from pacsim.host.bus import DmaBuffer
from pacsim.host.device import PacDevice
from pacsim.host.errors import CardNotFound, DmaFailed, UnsupportedCard
from pacsim.sim.model_bus import COSTS, ModelBus


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_suite_on_model(check):
    run(check(ModelBus()))


# -- cost model ------------------------------------------------------------------

def test_costs_grow_with_data_phases():
    costs = [COSTS.transaction(n) for n in range(1, 130)]
    assert all(a < b for a, b in zip(costs, costs[1:]))
    assert COSTS.master_abort() > COSTS.transaction(1)
    assert COSTS.target_abort(3) > COSTS.transaction(3)


def test_every_host_transaction_takes_its_cost():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        before = bus.clocks()
        await dev.read("SCRATCH")
        assert bus.clocks() - before == COSTS.transaction(1)
        before = bus.clocks()
        await bus.mem_read(dev.bar0, 4)
        assert bus.clocks() - before == COSTS.transaction(4)
        before = bus.clocks()
        assert await bus.config_read(dev.device + 1, CONFIG.ID.offset) == 0xFFFF_FFFF
        assert bus.clocks() - before == COSTS.master_abort()
    run(body())


def test_copy_time_grows_with_length_and_covers_its_bursts():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = dev.identity.caps["burst_words"]
        src, dst = bus.alloc(64 * 1024), bus.alloc(64 * 1024)
        clocks = []
        for length in (4, 64, 4 * burst, 4 * burst + 4, 16 * 1024, 64 * 1024):
            result = await dev.copy(src, dst, length)
            words = length // 4
            chunks = [min(burst, words - i) for i in range(0, words, burst)]
            dma = sum(2 * COSTS.transaction(n) for n in chunks)
            assert dma <= result.clocks <= dma + 20 * COSTS.transaction(1), (length, result, dma)
            clocks.append(result.clocks)
        assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
    run(body())


def test_wait_interrupt_times_out_by_exactly_its_timeout():
    async def body():
        bus = ModelBus()
        await fresh_device(bus)
        before = bus.clocks()
        assert not await bus.wait_interrupt(1234)
        assert bus.clocks() - before == 1234
    run(body())


def test_wait_interrupt_returns_at_once_when_inta_is_asserted():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        await start_raw(dev, 0, 0, 0)          # refused: BAD_LENGTH, dma_error pending
        before = bus.clocks()
        assert await bus.wait_interrupt(1000)
        assert bus.clocks() == before
    run(body())


# -- allocator ---------------------------------------------------------------------

def test_alloc_aligns_and_never_overlaps():
    rng = random.Random(11)
    bus = ModelBus()
    held = []
    for _ in range(200):
        size, align = rng.randrange(1, 4096), 1 << rng.randrange(0, 10)
        buffer = bus.alloc(size, align)
        assert buffer.address % align == 0 and buffer.size == size
        bus.host_read(buffer.address, size)              # inside host memory
        held.append(buffer)
        if rng.random() < 0.4:
            bus.free(held.pop(rng.randrange(len(held))))
    held.sort(key=lambda b: b.address)
    for a, b in zip(held, held[1:]):
        assert a.address + a.size <= b.address, (a, b)


def test_alloc_reuses_the_first_hole_and_coalesces():
    bus = ModelBus(64 * 1024)
    a, b, c = (bus.alloc(1024) for _ in range(3))
    bus.free(a)
    assert bus.alloc(512).address == a.address        # first fit: the lowest hole
    bus.free(DmaBuffer(a.address, 512))
    bus.free(b)
    bus.free(c)
    whole = bus.alloc(60 * 1024)                       # holes merged back into one
    with pytest.raises(MemoryError):
        bus.alloc(8 * 1024)
    bus.free(whole)
    with pytest.raises(ValueError, match="double free"):
        bus.free(whole)


def test_alloc_zero_fills_reused_memory():
    bus = ModelBus()
    buffer = bus.alloc(256)
    bus.host_write(buffer.address, b"\xff" * 256)
    bus.free(buffer)
    again = bus.alloc(256)
    assert again.address == buffer.address
    assert bus.host_read(again.address, 256) == bytes(256)


# -- fault injection and error paths ---------------------------------------------------

def test_target_abort_on_write_reports_the_failed_data_phase():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = 4 * dev.identity.caps["burst_words"]
        length = 3 * burst
        src, dst = bus.alloc(length), bus.alloc(length)
        data = random.Random(12).randbytes(length)
        bus.host_write(src.address, data)
        failing = dst.address + burst + 40
        bus.inject_target_abort(failing, 4)
        error = await raises(DmaFailed, dev.copy(src, dst, length))
        assert error.code is DmaError.TARGET_ABORT
        assert error.address == failing
        assert error.bytes_done == burst + 40
        assert f"bus address {failing:#010x}" in str(error) and "(TARGET_ABORT)" in str(error)
        written = bus.host_read(dst.address, length)
        assert written[:burst + 40] == data[:burst + 40]
        assert written[burst + 40:] == bytes(length - burst - 40)
        assert (await dev.config_status())["received_target_abort"] == 0
        assert (await dev.counters())["DMA_TRANSACTIONS"] == 4     # read, write, read, aborted write

        await dev.write("INT_ENABLE", 0)
        await start_raw(dev, src.address, dst.address, length)
        assert await wait_idle(dev) == {"busy": 0, "error": DmaError.TARGET_ABORT}
        assert (await dev.config_status())["received_target_abort"] == 1
        bus.clear_faults()
        await dev.reset()
        assert (await dev.copy(src, dst, length)).bytes == length
    run(body())


def test_target_abort_on_read_writes_nothing():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        src, dst = bus.alloc(256), bus.alloc(256)
        bus.inject_target_abort(src.address + 8, 4)
        error = await raises(DmaFailed, dev.copy(src, dst, 256))
        assert (error.code, error.address, error.bytes_done) == (DmaError.TARGET_ABORT, src.address + 8, 0)
    run(body())


def test_injected_master_abort_after_a_chunk():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        burst = 4 * dev.identity.caps["burst_words"]
        src, dst = bus.alloc(2 * burst), bus.alloc(2 * burst)
        bus.inject_master_abort(dst.address + burst, burst)
        error = await raises(DmaFailed, dev.copy(src, dst, 2 * burst))
        expected = (DmaError.MASTER_ABORT, dst.address + burst, burst)
        assert (error.code, error.address, error.bytes_done) == expected
        assert (await dev.config_status())["received_master_abort"] == 0
    run(body())


def test_burst_past_the_end_of_memory_disconnects_then_master_aborts():
    async def body():
        size = 64 * 1024
        bus = ModelBus(size)
        dev = await fresh_device(bus)
        dst = bus.alloc(64)
        error = await raises(DmaFailed, dev.copy(size - 8, dst, 16))
        assert (error.code, error.address, error.bytes_done) == (DmaError.MASTER_ABORT, size, 0)
        counters = await dev.counters()
        assert (counters["DMA_DISCONNECTS"], counters["DMA_TRANSACTIONS"]) == (1, 2)
    run(body())


def test_overlapping_copy_follows_the_chunking():
    async def body():
        bus = ModelBus(burst_words=4)
        dev = await fresh_device(bus)
        assert dev.identity.caps["burst_words"] == 4
        region = bus.alloc(256)
        data = bytearray(random.Random(13).randbytes(256))
        bus.host_write(region.address, bytes(data))
        src, dst, length, chunk = 0, 8, 200, 16
        await dev.copy(region.address + src, region.address + dst, length)
        for done in range(0, length, chunk):        # read a chunk, then write it, forward
            n = min(chunk, length - done)
            data[dst + done:dst + done + n] = data[src + done:src + done + n]
        assert bus.host_read(region.address, 256) == bytes(data)
    run(body())


def test_busy_refusal_keeps_the_running_count_and_the_copy_completes():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        src, dst = bus.alloc(8192), bus.alloc(8192)
        await start_raw(dev, src.address, dst.address, 8192)
        await bus.wait_interrupt(1000)               # let a few chunks through
        assert 0 < await dev.read("DMA_COUNT") < 8192
        running = await dev.read("DMA_COUNT")
        error = await raises(DmaFailed, dev.copy(src, dst, 8192))
        assert (error.code, error.bytes_done, error.address) == (DmaError.BUSY, 0, None)
        assert await dev.read("DMA_COUNT") >= running
        assert await bus.wait_interrupt(100_000)
        assert await dev.read("DMA_COUNT") == 8192
    run(body())


# -- driver-side errors ---------------------------------------------------------------

def test_dma_failed_messages_say_what_and_what_was_expected():
    aligned = DmaFailed(DmaError.BAD_ALIGNMENT, src=0x1003, dst=0x2000, length=64)
    assert str(aligned) == ("copy rejected by the card: source address 0x00001003 is not "
                            "4-byte aligned (BAD_ALIGNMENT)")
    both = DmaFailed(DmaError.BAD_ALIGNMENT, src=0x1001, dst=0x2002, length=64)
    assert "source address 0x00001001 and destination address 0x00002002 are not" in str(both)
    length = DmaFailed(DmaError.BAD_LENGTH, src=0, dst=0, length=6)
    assert "length 6 bytes is not a non-zero multiple of 4 (BAD_LENGTH)" in str(length)
    master = DmaFailed(DmaError.BUS_MASTER_OFF, src=0, dst=0, length=4)
    assert "bus_master is 0; expected 1" in str(master)
    abort = DmaFailed(DmaError.MASTER_ABORT, src=0x100, dst=0x4000_0000, length=1024,
                      address=0x4000_0000, bytes_done=0)
    assert str(abort) == ("copy of 1024 bytes from 0x00000100 to 0x40000000 failed after 0 bytes: "
                          "no target claimed the card's access to bus address 0x40000000; "
                          "expected host memory there (MASTER_ABORT)")
    assert abort.rejected is False and master.rejected is True
    with pytest.raises(ValueError):
        DmaFailed(DmaError.NONE, src=0, dst=0, length=4)


def test_driver_refuses_what_the_card_cannot_see():
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        small, big = bus.alloc(64), bus.alloc(1024)
        with pytest.raises(ValueError, match="holds 64 bytes; the copy needs 128"):
            await dev.copy(small, big, 128)
        with pytest.raises(ValueError, match="does not fit COPY_LEN"):
            await dev.copy(0, 0, 1 << 24)
        with pytest.raises(ValueError, match="not a 32-bit bus address"):
            await dev.copy(1 << 32, big, 4)
        with pytest.raises(KeyError, match="no register 'NOPE'"):
            await dev.read("NOPE")
    run(body())


def test_probe_on_an_empty_bus_raises_card_not_found():
    with pytest.raises(CardNotFound, match="no PAC .vendor 0x7ac5"):
        run(PacDevice.probe(ModelBus(card_device=None)))


def test_probe_finds_the_card_at_another_device_number():
    async def body():
        bus = ModelBus(card_device=9)
        dev = await fresh_device(bus)
        assert dev.device == 9
        assert await bus.config_read(4, CONFIG.ID.offset) == 0xFFFF_FFFF
    run(body())


class _ForgedRegister(ModelBus):
    """A model bus whose card answers one BAR0 register with a forged value."""

    def __init__(self, register, value):
        super().__init__()
        self.register, self.value = register, value

    async def mem_read(self, address, count=1):
        values = await super().mem_read(address, count)
        if address == self.card.bar0 + self.register.offset:
            values[0] = self.value
        return values


@pytest.mark.parametrize("register,value,message", [
    (BAR0.IDENT, 0x1234_5678, "IDENT reads 0x12345678; expected 0x50414331"),
    (BAR0.VERSION, BAR0.VERSION.encode(major=9), "this driver speaks major version"),
])
def test_probe_rejects_an_unsupported_card(register, value, message):
    with pytest.raises(UnsupportedCard, match=message):
        run(PacDevice.probe(_ForgedRegister(register, value)))


def test_buffers_are_returned():
    async def body():
        bus = ModelBus(64 * 1024)
        for _ in range(4):
            async with Buffers(bus) as buffers:
                buffers.alloc(48 * 1024)
    run(body())
