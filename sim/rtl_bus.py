# Ref: host/bus.py (the PciBus interface it implements); PCI Local Bus Specification 2.3, chapter 3 (bus operation)
"""``RtlBus``: the driver's :class:`~pacsim.host.bus.PciBus` on the card's RTL, under cocotb.

The bench (:mod:`.testbench`) holds the card, the host bridge's PCI
initiator, host memory, the arbiter and the protocol checker, all in HDL.
This class works per transaction: it loads the host bridge's burst buffer
through the simulator (backdoor), pulses ``hb_start`` and sleeps until the
bridge is idle again; it never wakes per clock. Host memory is read and
written through the backdoor too (CPU loads and stores take no bus time).

Use inside a cocotb test::

    bus = await RtlBus.start(dut)          # clock, reset, checker watch
    dev = await PacDevice.probe(bus)
    ...
    await bus.finish()                     # fails on any protocol violation
"""
from collections import deque

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, First, Lock, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time

from ..hdl.pci_master import MasterStatus
from ..hdl.pci_protocol import PciCommand
from ..host.bus import DmaBuffer, MasterAbort, PciBus, RetryLimit, TargetAbort
from .allocator import Allocator
from .annotations import ANNOTATIONS, annotation_port
from .testbench import BRIDGE_BURST_WORDS, CARD_DEVICES, HOSTMEM_BASE, MEMORY_STATS, MMIO_WINDOW
from .vip.rules import Rule

__all__ = ["RtlBus", "ProtocolViolation", "PCI_CLOCK_NS"]

#: PCI clock period in the simulation, nanoseconds (33 MHz).
PCI_CLOCK_NS = 30


class ProtocolViolation(AssertionError):
    """The passive protocol checker saw a rule broken."""


class RtlBus(PciBus):
    """Host side of the simulated PCI bus. Create with :meth:`start`.

    ``retry_limit_clocks``: how long one host transaction may keep being
    retried before :class:`~pacsim.host.bus.RetryLimit` is raised.
    """

    def __init__(self, dut, retry_limit_clocks: int = 4096):
        self.dut = dut
        self.retry_limit_clocks = retry_limit_clocks
        self.hostmem_size = 4 * len(dut.hostmem.mem)
        self.cards = len(dut.inta_n)
        self.allocator = Allocator(HOSTMEM_BASE, self.hostmem_size)
        self._bridge = Lock()    # one host transaction at a time
        self._annotations = deque()
        self._annotating = False
        self.script = None       # a HostScript recording the host side (sim/host_script.py)

    @classmethod
    async def start(cls, dut, **memory_config):
        """Start the clock, configure host memory, reset the bus; return the bus.

        ``memory_config``: host-memory target settings (see
        :meth:`configure_memory`).
        """
        bus = cls(dut)
        cocotb.start_soon(Clock(dut.clk, PCI_CLOCK_NS, unit="ns").start())
        dut.hb_start.value = 0
        dut.hb_par_invert.value = 0
        bus.configure_memory(**memory_config)
        dut.arb_preempt.value = 0
        for name in ANNOTATIONS:         # driven from time 0 (else X/Z on 4-state simulators)
            getattr(dut, annotation_port(name)).value = 0
        dut.chk_clear.value = 1          # forget earlier tests' verdicts before RST#, so that
        await RisingEdge(dut.clk)        # the reset itself is checked (PCI 2.3 section 2.2.1)
        dut.chk_clear.value = 0
        await bus.reset()
        return bus

    def configure_memory(self, *, devsel_speed=0, seed=1, wait_rate=0, initial_wait=0,
                         retry_rate=0, disconnect_rate=0, abort_range=(0, 0), perr_enable=1):
        """Set the host-memory target's behaviour (see ``sim/vip/hostmem.py``).

        Rates are probabilities out of 256 per data phase (wait, disconnect)
        or per transaction (retry); ``abort_range`` is a byte range
        ``[lo, hi)`` answered with Target-Abort; ``devsel_speed`` 0/1/2 is
        fast/medium/slow.
        """
        dut = self.dut
        dut.mem_devsel_speed.value = devsel_speed
        dut.mem_seed.value = seed
        dut.mem_wait_rate.value = wait_rate
        dut.mem_initial_wait.value = initial_wait
        dut.mem_retry_rate.value = retry_rate
        dut.mem_disconnect_rate.value = disconnect_rate
        dut.mem_abort_lo.value, dut.mem_abort_hi.value = abort_range
        dut.mem_perr_enable.value = perr_enable

    async def reset(self, clocks: int = 16) -> None:
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, clocks)
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    # --- host-initiated transactions

    async def _transaction(self, command, address, words=1, write=False, byte_enables=0xF,
                           data=()):
        async with self._bridge:
            return await self._bridge_transaction(command, address, words, write, byte_enables, data)

    async def _bridge_transaction(self, command, address, words, write, byte_enables, data):
        dut = self.dut
        for i, value in enumerate(data):
            dut.hb_buffer[i].value = value & 0xFFFF_FFFF
        await RisingEdge(dut.clk)
        dut.hb_command.value = int(command.value) if command is not None else 0
        dut.hb_write.value = int(write)
        dut.hb_address.value = address
        dut.hb_words.value = words
        dut.hb_byte_enables.value = byte_enables
        dut.hb_start.value = 1
        if self.script:
            self.script.transaction(int(command.value) if command is not None else 0, write, address, words,
                                    byte_enables, [value & 0xFFFF_FFFF for value in data])
        await RisingEdge(dut.clk)
        dut.hb_start.value = 0
        idle = FallingEdge(dut.hb_busy)
        expired = Timer(self.retry_limit_clocks * PCI_CLOCK_NS, unit="ns")   # no per-clock wake-ups
        if await First(idle, expired) is expired:
            raise RetryLimit(f"host transaction {command.name if command else 'memory'} at "
                             f"{address:#010x} not done in {self.retry_limit_clocks} clocks "
                             "(target kept retrying or the bus hung)")
        await ReadOnly()
        status = MasterStatus(int(dut.hb_status.value))
        if status is MasterStatus.OK and not write:
            values = [int(dut.hb_buffer[i].value) for i in range(words)]
        else:
            values = []
        await RisingEdge(dut.clk)
        if self.script:
            self.script.done()
        if status is MasterStatus.MASTER_ABORT:
            raise MasterAbort(f"no device claimed the access at {address:#010x}")
        if status is MasterStatus.TARGET_ABORT:
            raise TargetAbort(f"the target aborted the access at {address:#010x}")
        return values

    @staticmethod
    def _config_address(device: int, offset: int) -> int:
        if device not in PciBus.DEVICES:
            raise ValueError(f"device number {device} out of range 0-20")
        if offset % 4 or not 0 <= offset < 256:
            raise ValueError(f"configuration offset {offset:#x} not a dword offset below 0x100")
        return (1 << (11 + device)) | offset

    async def config_read(self, device: int, offset: int) -> int:
        try:
            (value,) = await self._transaction(PciCommand.CONFIG_READ,
                                               self._config_address(device, offset))
        except MasterAbort:
            return 0xFFFF_FFFF
        return value

    async def config_write(self, device: int, offset: int, value: int, byte_enables: int = 0xF) -> None:
        try:
            await self._transaction(PciCommand.CONFIG_WRITE, self._config_address(device, offset),
                                    write=True, byte_enables=byte_enables, data=[value])
        except MasterAbort:
            pass

    async def mem_read(self, address: int, count: int = 1) -> list:
        values = []
        for start in range(0, count, BRIDGE_BURST_WORDS):
            n = min(BRIDGE_BURST_WORDS, count - start)
            values += await self._transaction(PciCommand.MEM_READ, address + 4 * start, n)
        return values

    async def mem_write(self, address: int, values, byte_enables: int = 0xF) -> None:
        values = list(values)
        for start in range(0, len(values), BRIDGE_BURST_WORDS):
            chunk = values[start:start + BRIDGE_BURST_WORDS]
            await self._transaction(PciCommand.MEM_WRITE, address + 4 * start, len(chunk),
                                    write=True, byte_enables=byte_enables, data=chunk)

    # --- host memory

    def alloc(self, size: int, align: int = 64) -> DmaBuffer:
        buffer = self.allocator.alloc(size, align)
        self.host_write(buffer.address, bytes(size))
        return buffer

    def free(self, buffer: DmaBuffer) -> None:
        self.allocator.free(buffer)

    def _word_index(self, address: int) -> int:
        index = (address - HOSTMEM_BASE) // 4
        if not 0 <= index < self.hostmem_size // 4:
            raise ValueError(f"address {address:#010x} is outside host memory")
        return index

    def host_write(self, address: int, data: bytes) -> None:
        data = bytes(data)
        if not data:
            return
        start = address & ~3
        end = (address + len(data) + 3) & ~3
        self._word_index(end - 4)
        first = self._word_index(start)
        # Partial first/last words are read back and merged.
        buf = bytearray(self.host_read(start, end - start)) if (start != address or end != address + len(data)) \
            else bytearray(end - start)
        buf[address - start:address - start + len(data)] = data
        mem = self.dut.hostmem.mem
        for i in range(0, len(buf), 4):
            mem[first + i // 4].value = word = int.from_bytes(buf[i:i + 4], "little")
            if self.script:
                self.script.store(first + i // 4, word)

    def host_read(self, address: int, length: int) -> bytes:
        if length <= 0:
            return b""
        start = address & ~3
        end = (address + length + 3) & ~3
        self._word_index(end - 4)
        first = self._word_index(start)
        mem = self.dut.hostmem.mem
        raw = b"".join(int(mem[first + i].value).to_bytes(4, "little")
                       for i in range((end - start) // 4))
        return raw[address - start:address - start + length]

    def mmio_window(self) -> tuple:
        return MMIO_WINDOW

    def memory_stats(self) -> dict:
        """The host-memory target's counters (data phases, terminations, errors)."""
        return {name: int(getattr(self.dut, f"mem_{name}").value) for name in MEMORY_STATS}

    # --- interrupts and time

    def new_lock(self):
        return Lock()

    def _interrupt_lines(self, device: int | None) -> int:
        """Mask of ``inta_n`` bits for ``device`` (every card's, for None)."""
        if device is None:
            return (1 << self.cards) - 1
        if device not in CARD_DEVICES[:self.cards]:
            raise ValueError(f"device {device} has no interrupt line on this bench; its cards are "
                             f"devices {list(CARD_DEVICES[:self.cards])}")
        return 1 << CARD_DEVICES.index(device)

    def interrupt_asserted(self, device: int | None = None) -> bool:
        return ~int(self.dut.inta_n.value) & self._interrupt_lines(device) != 0

    async def wait_interrupt(self, timeout_clocks: int, device: int | None = None) -> bool:
        self._interrupt_lines(device)
        deadline = self.clocks() + max(1, timeout_clocks)
        while not self.interrupt_asserted(device):
            remaining = deadline - self.clocks()
            if remaining <= 0:
                return False
            # Wake on a change of any line (never per clock): it may be another card's.
            changed = self.dut.inta_n.value_change
            if await First(changed, Timer(remaining * PCI_CLOCK_NS, unit="ns")) is not changed:
                return self.interrupt_asserted(device)
        return True

    def clocks(self) -> int:
        return int(get_sim_time("ns")) // PCI_CLOCK_NS

    def annotate(self, **fields) -> None:
        """Drive the bench's ``ann_<name>`` inputs (:mod:`.annotations`) with
        ``fields``, from the next falling CLK edge; calls made at one moment
        are played one clock apart, in order."""
        ports = {annotation_port(name): int(value) for name, value in fields.items()}
        self._annotations.append(ports)
        if not self._annotating:
            self._annotating = True
            cocotb.start_soon(self._play_annotations())

    async def _play_annotations(self):
        while self._annotations:
            await FallingEdge(self.dut.clk)
            for port, value in self._annotations.popleft().items():
                handle = getattr(self.dut, port)
                handle.value = value & ((1 << len(handle)) - 1)
        self._annotating = False

    # --- the protocol checker's verdict

    def violations(self) -> list:
        """Rules the checker has seen broken so far (list of :class:`Rule`)."""
        mask = int(self.dut.chk_violations.value)
        return [rule for rule in Rule if mask >> rule.value & 1]

    def checker_report(self) -> str:
        broken = self.violations()
        if not broken:
            return "protocol checker: clean"
        first = Rule(int(self.dut.chk_first_rule.value))
        return (f"protocol checker: {int(self.dut.chk_count.value)} violation(s) of "
                f"{', '.join(r.name for r in broken)}; first {first.name} ({first.description}) "
                f"at clock {int(self.dut.chk_first_cycle.value)}")

    async def finish(self, expect=()) -> None:
        """Let the bus settle, then fail unless exactly ``expect`` rules fired."""
        await ClockCycles(self.dut.clk, 4)
        await ReadOnly()
        if set(self.violations()) != set(expect):
            raise ProtocolViolation(self.checker_report())
        await Timer(1, unit="ns")
