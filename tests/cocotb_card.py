"""cocotb module: the card's PCI corner cases on the RTL.

Bus terminations from host memory and how the card's master counts and
survives them, the latency timer under bus contention, the target's retry,
disconnect and parity behaviour, and negative checks that the protocol
checker fires when the bench is made to break a rule. Expectations come from
the PCI rules and from the host-memory target's own counters, never from
the card's implementation.
"""
import random

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer

from pacsim.contract.codes import Opcode, ResultStatus
from pacsim.contract.layouts import CONTEXT
from pacsim.contract.regmap import BAR0, CONFIG, WINDOWS
from pacsim.hdl.pci_protocol import PciCommand
from pacsim.host.bus import MasterAbort
from pacsim.host.device import PacDevice
from pacsim.host.errors import JobFailed
from pacsim.host.jobs import Job
from pacsim.sim.rtl_bus import RtlBus
from pacsim.sim.vip.rules import Rule

BURST = 128   # the card's default burst buffer, dwords


async def wait_idle(device):
    """Until the ring engine runs no DMA: it found its command ring empty, or
    (before the first job) it has not been kicked since the reset."""
    for _ in range(100):
        status = await device.read_fields("RING_STATUS")
        if not status["busy"] and (status["cmd_empty"] or await device.read("JOBS") == 0):
            return
    raise AssertionError("the ring engine did not go idle")


async def copy_checked(bus, device, size, seed=1):
    """Copy ``size`` random bytes and check them; return (src, dst, data, result)."""
    src, dst = bus.alloc(size), bus.alloc(size)
    data = random.Random(seed).randbytes(size)
    bus.host_write(src.address, data)
    result = await device.copy(src, dst, size)
    assert bus.host_read(dst.address, size) == data, "copy does not match its source"
    return src, dst, data, result


@cocotb.test()
async def terminations_from_host_memory_are_counted(dut):
    """Every Retry and Disconnect host memory gives is seen and counted by the card."""
    bus = await RtlBus.start(dut, seed=99, wait_rate=64, retry_rate=160, disconnect_rate=80)
    device = await PacDevice.probe(bus)
    await wait_idle(device)
    before, card_before = bus.memory_stats(), await device.counters()
    await copy_checked(bus, device, 16384)
    await wait_idle(device)
    after, counters = bus.memory_stats(), await device.counters()
    retries = after["retries"] - before["retries"]
    disconnects = after["disconnects"] - before["disconnects"]
    assert retries > 0 and disconnects > 0, "host memory was configured to terminate bursts"
    assert counters["DMA_RETRIES"] - card_before["DMA_RETRIES"] == retries
    assert counters["DMA_DISCONNECTS"] - card_before["DMA_DISCONNECTS"] == disconnects
    chunks = 2 * 16384 // (4 * BURST)
    assert counters["DMA_TRANSACTIONS"] - card_before["DMA_TRANSACTIONS"] >= chunks + retries
    await bus.finish()


@cocotb.test()
async def target_abort_on_write_stops_at_the_failing_dword(dut):
    """A target-abort inside the destination: DMA_COUNT and DMA_ERROR_ADDR name the dword."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    size, offset = 16384, 5000
    src, dst = bus.alloc(size), bus.alloc(size)
    data = random.Random(5).randbytes(size)
    bus.host_write(src.address, data)
    bus.configure_memory(abort_range=(dst.address + offset, dst.address + offset + 64))
    try:
        await device.copy(src, dst, size)
        raise AssertionError("the copy into a target-aborting range succeeded")
    except JobFailed as failure:
        assert failure.status is ResultStatus.TARGET_ABORT
        assert failure.address == dst.address + offset
        assert failure.bytes == offset
    assert bus.host_read(dst.address, offset) == data[:offset]
    assert bus.host_read(dst.address + offset, size - offset) == bytes(size - offset)
    # The card goes on working once the range is harmless again.
    bus.configure_memory()
    await copy_checked(bus, device, 4096, seed=6)
    await bus.finish()


@cocotb.test()
async def target_abort_on_read(dut):
    """A target-abort in the source fails the job at that address; nothing past it is written."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    size, offset = 8192, 3 * 4 * BURST + 40
    src, dst = bus.alloc(size), bus.alloc(size)
    bus.configure_memory(abort_range=(src.address + offset, src.address + offset + 4))
    try:
        await device.copy(src, dst, size)
        raise AssertionError("the copy from a target-aborting range succeeded")
    except JobFailed as failure:
        assert failure.status is ResultStatus.TARGET_ABORT
        assert failure.address == src.address + offset
        # What was written before the failing read is the source's beginning.
        assert failure.bytes <= offset and failure.bytes % 4 == 0
        assert bus.host_read(dst.address, failure.bytes) == bus.host_read(src.address, failure.bytes)
    await bus.finish()


@cocotb.test()
async def latency_timer_ends_bursts_under_contention(dut):
    """With GNT# pre-empted while the host polls, the card's bursts end by its latency timer."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus, latency_timer=16)
    dut.arb_preempt.value = 4
    size = 32768
    src, dst = bus.alloc(size), bus.alloc(size)
    data = random.Random(7).randbytes(size)
    bus.host_write(src.address, data)
    copy = cocotb.start_soon(device.copy(src, dst, size))
    polls = 0
    while not copy.done():
        assert await device.read("SCRATCH") == 0
        polls += 1
        await ClockCycles(dut.clk, 20)
    copy.result()
    assert bus.host_read(dst.address, size) == data
    counters = await device.counters()
    assert polls > 10
    assert counters["DMA_LATENCY_EXPIRIES"] > 0
    assert counters["DMA_TRANSACTIONS"] > 2 * size // (4 * BURST)
    await bus.finish()


@cocotb.test()
async def soft_reset_retries_host_accesses(dut):
    """During CONTROL.reset the card answers BAR0 with Retry; the access completes after it."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    await device.write("SCRATCH", 0x1234_5678)
    retries = int(dut.hb_retries.value)
    await bus.mem_write(device.bar0 + BAR0.CONTROL.offset, [BAR0.CONTROL.encode(reset=1)])
    assert (await bus.mem_read(device.bar0 + BAR0.SCRATCH.offset))[0] == 0
    assert int(dut.hb_retries.value) > retries, "the access during reset was not retried"
    # Configuration space stays reachable during the reset.
    await bus.mem_write(device.bar0 + BAR0.CONTROL.offset, [BAR0.CONTROL.encode(reset=1)])
    assert await device.config_read("ID") == CONFIG.ID.reset_value
    await bus.finish()


@cocotb.test()
async def register_bursts(dut):
    """Burst writes and reads of BAR0 equal the same accesses done one dword at a time."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    # Three key dwords of a closed channel's context: plain storage.
    key = WINDOWS["CONTEXT"][0] + WINDOWS["CONTEXT"][1] * 5 + CONTEXT.KEY0.offset
    values = [0x0000_1000, 0x0000_2000, 0x0000_0040]
    await bus.mem_write(device.bar0 + key, values)
    assert [(await bus.mem_read(device.bar0 + key + 4 * i))[0] for i in range(3)] == values
    singles = [(await bus.mem_read(device.bar0 + 4 * i))[0] for i in range(16)]
    burst = await bus.mem_read(device.bar0, 16)
    assert burst == singles
    assert burst[BAR0.IDENT.offset // 4] == BAR0.IDENT.reset_value
    await bus.finish()


@cocotb.test()
async def burst_past_the_bar_is_disconnected(dut):
    """A burst running off the end of BAR0 is disconnected at the last dword."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    end = device.bar0 + BAR0.size
    assert await bus.mem_read(end - 16, 4) == [0, 0, 0, 0]
    disconnects = int(dut.hb_disconnects.value)
    try:
        await bus.mem_read(end - 8, 4)
        raise AssertionError("a read past BAR0 was claimed")
    except MasterAbort:
        pass
    assert int(dut.hb_disconnects.value) == disconnects + 1
    await bus.finish()


@cocotb.test()
async def reserved_burst_order_disconnects_after_one_dword(dut):
    """Memory bursts with AD[1:0] != 00 move one dword per transaction."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    await device.write("SCRATCH", 0xCAFE_F00D)
    disconnects = int(dut.hb_disconnects.value)
    values = await bus._transaction(PciCommand.MEM_READ, device.bar0 + BAR0.SCRATCH.offset + 1, 3)
    assert values == [0xCAFE_F00D, await device.read("CONTROL"), await device.read("INT_STATUS")]
    # Disconnected after the first and the second dword; the third is alone.
    assert int(dut.hb_disconnects.value) == disconnects + 2
    await bus.finish()


@cocotb.test()
async def type1_configuration_cycles_are_ignored(dut):
    """A configuration cycle with AD[1:0] = 01 (type 1) is not claimed, even with IDSEL."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    address = (1 << (11 + device.device)) | CONFIG.ID.offset | 1
    try:
        await bus._transaction(PciCommand.CONFIG_READ, address)
        raise AssertionError("the card claimed a type-1 configuration cycle")
    except MasterAbort:
        pass
    await bus.finish()


@cocotb.test()
async def write_data_parity_error_asserts_perr(dut):
    """Bad PAR on write data: the write lands, PERR# follows, the error is recorded and counted."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    dut.hb_par_invert.value = 0b10
    await device.write("SCRATCH", 0x0BAD_0BAD)
    dut.hb_par_invert.value = 0
    assert await device.read("SCRATCH") == 0x0BAD_0BAD
    status = await device.config_status()
    assert status["detected_parity_error"] == 1
    assert status["signaled_system_error"] == 0
    assert (await device.counters())["PCI_PARITY_ERRORS"] == 1
    await bus.finish(expect={Rule.PARITY})


@cocotb.test()
async def address_parity_error_signals_serr(dut):
    """Bad PAR on the address: the card does not claim, and reports it on SERR#."""
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    dut.hb_par_invert.value = 0b01
    try:
        await bus.mem_write(device.bar0 + BAR0.SCRATCH.offset, [0x5555_AAAA])
        raise AssertionError("an access with a bad address parity was claimed")
    except MasterAbort:
        pass
    dut.hb_par_invert.value = 0
    assert await device.read("SCRATCH") == 0
    status = await device.config_status()
    assert status["detected_parity_error"] == 1
    assert status["signaled_system_error"] == 1
    await bus.finish(expect={Rule.PARITY})


@cocotb.test()
async def checker_catches_slow_initial_latency(dut):
    """Negative: host memory waiting 20 clocks before its first TRDY# breaks the 16-clock rule."""
    bus = await RtlBus.start(dut, initial_wait=20)
    device = await PacDevice.probe(bus)
    await copy_checked(bus, device, 512)
    assert Rule.TARGET_INITIAL_LATENCY in bus.violations()
    await bus.finish(expect={Rule.TARGET_INITIAL_LATENCY})


async def reset_in_burst(bus, device, counter, phases=8):
    """Start a 16 KiB copy and assert RST# once host memory's ``counter``
    (``reads``: the card's read bursts, ``writes``: its write bursts) has moved
    ``phases`` data phases and a burst is still on the bus (FRAME# asserted)."""
    dut = bus.dut
    size = 16384
    src, dst = bus.alloc(size), bus.alloc(size)
    bus.host_write(src.address, random.Random(phases).randbytes(size))
    stat = getattr(dut, f"mem_{counter}")
    start = int(stat.value)
    await device.submit([Job(Opcode.COPY, src, dst)])
    for _ in range(100_000):
        await RisingEdge(dut.clk)
        await ReadOnly()
        in_burst = int(stat.value) >= start + phases and int(dut.bus_frame_n.value) == 0
        await Timer(1, unit="ns")
        if in_burst:
            await bus.reset()
            return
    raise AssertionError(f"no {counter} burst seen")


@cocotb.test()
async def rst_in_the_middle_of_dma_bursts_releases_the_bus(dut):
    """RST# in the middle of a card read burst (host memory driving AD) and of a
    card write burst (the card driving AD): every agent lets go of the bus and
    of REQ#/GNT# from the first clock of the reset (PCI 2.3 section 2.2.1), as
    the checker, which watches every clock of RST#, confirms; the card works
    after being probed again."""
    bus = await RtlBus.start(dut)
    for counter in ("reads", "writes"):
        device = await PacDevice.probe(bus)
        await reset_in_burst(bus, device, counter)
    device = await PacDevice.probe(bus)
    await copy_checked(bus, device, 4096)
    await bus.finish()
