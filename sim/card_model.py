"""Behavioural model of the PAC: configuration space, BAR0 registers, the copy
engine and INTA#, with no HDL simulator.

It implements the same contract as the RTL, through :mod:`pacsim.hdl.regmap`
(every register is stored and decoded by its :class:`Register`; access types
drive the write semantics). It knows nothing of bus timing: its DMA engine
runs bus transactions through a :class:`DmaTarget` (host memory, provided by
:class:`pacsim.sim.model_bus.ModelBus`), which says how each transaction
ended and how many PCI clocks it took, and the bus moves the model's time
forward with :meth:`CardModel.advance_to`.

Timing rule: each card-initiated transaction takes effect when it starts; the
engine starts its next transaction when the previous one has ended, and a
command completes (status, interrupt) when its last transaction has ended.
CONTROL.reset and RST# act at once.

Where the contract leaves room, the model does this:

- CAPS.burst_words reads the build's ``burst_words`` (the map's reset value
  0 stands for "build parameter"); CONTROL.reset keeps it.
- COPY_SRC/DST/LEN are latched at the start; later writes do not affect a
  running command.
- DMA_COUNT follows each chunk written. After a target abort of a write it
  includes the data phases completed before the aborted one.
- DMA_ERROR_ADDR is the address of the failed data phase: for a master abort
  the transaction's first address, for a target abort the aborted phase.
- A start refused with BUSY sets error = BUSY and leaves DMA_COUNT to the
  running command, which goes on and, on success, leaves error as it is (so
  it still reads BUSY). Other refusals set DMA_COUNT = 0.
"""
import enum
from dataclasses import dataclass
from typing import Protocol, Sequence

from ..hdl.regmap import BAR0, CONFIG, Access, DmaError

__all__ = ["CardModel", "DmaTarget", "Burst", "Termination"]


class Termination(enum.Enum):
    """How a card-initiated bus transaction ended."""
    COMPLETED = "completed"        #: every data phase transferred
    DISCONNECT = "disconnect"      #: the target stopped after ``phases``; the master goes on in a new one
    MASTER_ABORT = "master_abort"  #: no target claimed the address
    TARGET_ABORT = "target_abort"  #: the target aborted after ``phases`` data phases


@dataclass(frozen=True)
class Burst:
    """Outcome of one card-initiated transaction: ``phases`` data phases
    completed (dwords), ``data`` the dwords read (reads only), ``clocks`` the
    PCI clocks the transaction occupied the bus."""
    termination: Termination
    phases: int
    clocks: int
    data: tuple = ()


class DmaTarget(Protocol):
    """What the card's bus master sees: the targets of its DMA transactions."""

    def burst_read(self, address: int, count: int) -> Burst:
        """One memory-read transaction of up to ``count`` dwords at byte ``address``."""

    def burst_write(self, address: int, words: Sequence[int]) -> Burst:
        """One memory-write transaction of up to ``len(words)`` dwords at byte ``address``."""


_ABORT_CODE = {Termination.MASTER_ABORT: DmaError.MASTER_ABORT,
               Termination.TARGET_ABORT: DmaError.TARGET_ABORT}
_ABORT_STATUS_BIT = {DmaError.MASTER_ABORT: "received_master_abort",
                     DmaError.TARGET_ABORT: "received_target_abort"}


class _Aborted(Exception):
    """A transfer ended by an abort after ``words`` dwords, at ``address``."""

    def __init__(self, code: DmaError, address: int, words: int):
        super().__init__(code, address, words)
        self.code, self.address, self.words = code, address, words


def _lanes(byte_enables: int) -> int:
    """Bit mask of the byte lanes enabled by active-high ``byte_enables``."""
    return sum(0xFF << (8 * byte) for byte in range(4) if byte_enables >> byte & 1)


def _store(reg, old: int, value: int, byte_enables: int) -> tuple:
    """Apply a register write by access type: ``(new word, names of W1S fields triggered)``."""
    lanes = _lanes(byte_enables)
    new, triggered = old, []
    for f in reg.fields:
        bits = value & f.mask & lanes
        if f.access is Access.RW:
            new = (new & ~(f.mask & lanes)) | bits
        elif f.access is Access.RW1C:
            new &= ~bits
        elif f.access is Access.W1S and bits:
            triggered.append(f.name)
    return new, triggered


class CardModel:
    """The PAC as seen from the bus: configuration space, BAR0 and INTA#.

    ``target`` carries the card's DMA transactions; ``burst_words`` is the
    build's DMA chunk size in 32-bit words (reported in CAPS). All addresses
    are bus byte addresses; times are PCI clocks.
    """

    def __init__(self, target: DmaTarget, *, burst_words: int = 128):
        if burst_words < 1:
            raise ValueError(f"burst_words={burst_words}: expected at least 1 word")
        self._target = target
        self._burst_words = burst_words
        caps = BAR0.CAPS.decode(BAR0.CAPS.reset_value)
        self._caps = BAR0.CAPS.encode(**{**caps, "burst_words": burst_words})
        self._now = 0
        self.power_on_reset()

    # -- reset -------------------------------------------------------------

    def power_on_reset(self) -> None:
        """RST#: configuration space, BAR0 and engines to their reset state."""
        self._config = {reg: reg.reset_value for reg in CONFIG}
        self._reset_bar0()

    def _reset_bar0(self) -> None:
        """CONTROL.reset: BAR0 registers to reset values, running command dropped."""
        self._regs = {reg: reg.reset_value for reg in BAR0}
        self._regs[BAR0.CAPS] = self._caps
        self._engine = None
        self._next_event = None

    # -- configuration space ----------------------------------------------

    def config_read(self, offset: int) -> int:
        """Configuration dword at byte ``offset``; unimplemented dwords read 0."""
        reg = CONFIG.at(offset)
        if reg is None:
            return 0
        word = self._config[reg]
        if reg is CONFIG.COMMAND_STATUS:
            word |= reg.encode(interrupt_status=int(self._interrupt_pending()))
        return word

    def config_write(self, offset: int, value: int, byte_enables: int = 0xF) -> None:
        """Write a configuration dword: RO bits kept, RW1C bits cleared by 1s."""
        reg = CONFIG.at(offset)
        if reg is not None:
            self._config[reg], _ = _store(reg, self._config[reg], value, byte_enables)

    def _command(self) -> dict:
        return CONFIG.COMMAND_STATUS.decode(self._config[CONFIG.COMMAND_STATUS])

    # -- BAR0 --------------------------------------------------------------

    @property
    def bar0(self) -> int:
        """Bus byte address programmed into BAR0."""
        bar = CONFIG.BAR0
        return bar.encode(address=bar.decode(self._config[bar])["address"])

    def claims(self, address: int) -> bool:
        """Whether the card answers a memory access at ``address`` (memory space on, inside BAR0)."""
        return bool(self._command()["memory_space"]) and self.bar0 <= address < self.bar0 + BAR0.size

    def mem_read(self, address: int) -> int:
        """BAR0 dword at bus ``address`` (which the card claims); unimplemented offsets read 0."""
        reg = BAR0.at(address - self.bar0)
        return 0 if reg is None else self._regs[reg]

    def mem_write(self, address: int, value: int, byte_enables: int = 0xF) -> None:
        """Write the BAR0 dword at bus ``address``; W1S fields trigger their action."""
        reg = BAR0.at(address - self.bar0)
        if reg is None:
            return
        self._regs[reg], triggered = _store(reg, self._regs[reg], value, byte_enables)
        if reg is BAR0.CONTROL and "reset" in triggered:
            self._reset_bar0()
        if reg is BAR0.COPY_CTRL and "start" in triggered:
            self._start_copy()

    def _get(self, reg) -> dict:
        return reg.decode(self._regs[reg])

    def _set(self, reg, **fields) -> None:
        self._regs[reg] = reg.encode(**{**self._get(reg), **fields})

    def _bump(self, counter) -> None:
        """Count one event in a counter register (wraps at its width)."""
        self._set(counter, count=(self._get(counter)["count"] + 1) % (1 << counter.count.width))

    # -- interrupt -----------------------------------------------------------

    def _interrupt_pending(self) -> bool:
        return bool(self._regs[BAR0.INT_STATUS] & self._regs[BAR0.INT_ENABLE])

    @property
    def inta(self) -> bool:
        """INTA# asserted: an enabled interrupt is pending and interrupt_disable is 0."""
        return self._interrupt_pending() and not self._command()["interrupt_disable"]

    # -- time ----------------------------------------------------------------

    def next_event(self) -> int | None:
        """PCI clock of the engine's next step, or None when idle."""
        return self._next_event

    def advance_to(self, clock: int) -> None:
        """Run the engine's steps due up to PCI clock ``clock``."""
        while self._engine is not None and self._next_event <= clock:
            self._now = self._next_event
            try:
                self._next_event += next(self._engine)
            except StopIteration:
                self._engine = self._next_event = None
        self._now = max(self._now, clock)

    # -- copy engine -------------------------------------------------------

    def _start_copy(self) -> None:
        code = self._rejection()
        if code is not None:
            self._set(BAR0.DMA_STATUS, error=code)
            if code is not DmaError.BUSY:   # DMA_COUNT belongs to the running command
                self._regs[BAR0.DMA_COUNT] = BAR0.DMA_COUNT.encode(bytes=0)
            self._set(BAR0.INT_STATUS, dma_error=1)
            return
        src = self._get(BAR0.COPY_SRC)["address"]
        dst = self._get(BAR0.COPY_DST)["address"]
        length = self._get(BAR0.COPY_LEN)["length"]
        self._set(BAR0.DMA_STATUS, busy=1, error=DmaError.NONE)
        self._regs[BAR0.DMA_COUNT] = BAR0.DMA_COUNT.encode(bytes=0)
        self._engine = self._copy(src, dst, length)
        self._next_event = self._now

    def _rejection(self) -> DmaError | None:
        """Start-time validation, in the card's order; None if the command is accepted."""
        if self._get(BAR0.DMA_STATUS)["busy"]:
            return DmaError.BUSY
        if not self._command()["bus_master"]:
            return DmaError.BUS_MASTER_OFF
        if self._get(BAR0.COPY_SRC)["address"] % 4 or self._get(BAR0.COPY_DST)["address"] % 4:
            return DmaError.BAD_ALIGNMENT
        length = self._get(BAR0.COPY_LEN)["length"]
        if length == 0 or length % 4:
            return DmaError.BAD_LENGTH
        return None

    def _copy(self, src: int, dst: int, length: int):
        """The copy command: chunks of ``burst_words`` read then written, in
        forward order; DMA_COUNT follows each chunk written. A generator
        yielding the clocks of each transaction."""
        done = 0
        while done < length:
            words = min(self._burst_words, (length - done) // 4)
            try:
                data = yield from self._transfer(src + done, words)
            except _Aborted as abort:
                self._finish(abort.code, done, abort.address)
                return
            try:
                yield from self._transfer(dst + done, words, data)
            except _Aborted as abort:
                self._finish(abort.code, done + 4 * abort.words, abort.address)
                return
            done += 4 * words
            self._regs[BAR0.DMA_COUNT] = BAR0.DMA_COUNT.encode(bytes=done)
        self._finish(DmaError.NONE, done)

    def _transfer(self, address: int, count: int, words=None):
        """Move ``count`` dwords at ``address`` (a read when ``words`` is None)
        in as many transactions as the target needs; returns the dwords read.
        Raises :class:`_Aborted` on a master or target abort."""
        data, done = [], 0
        while done < count:
            at = (address + 4 * done) & 0xFFFF_FFFF
            burst = (self._target.burst_read(at, count - done) if words is None
                     else self._target.burst_write(at, words[done:]))
            self._bump(BAR0.DMA_TRANSACTIONS)
            yield burst.clocks
            data.extend(burst.data)
            done += burst.phases
            if burst.termination in _ABORT_CODE:
                raise _Aborted(_ABORT_CODE[burst.termination], (address + 4 * done) & 0xFFFF_FFFF, done)
            if burst.termination is Termination.DISCONNECT:
                self._bump(BAR0.DMA_DISCONNECTS)
        return data

    def _finish(self, code: DmaError, written: int, error_address: int | None = None) -> None:
        """End the running command. Success leaves DMA_STATUS.error as it is
        (NONE since the start, or BUSY if a later start was refused)."""
        self._regs[BAR0.DMA_COUNT] = BAR0.DMA_COUNT.encode(bytes=written)
        if code is DmaError.NONE:
            self._set(BAR0.DMA_STATUS, busy=0)
            self._set(BAR0.INT_STATUS, copy_done=1)
            return
        self._set(BAR0.DMA_STATUS, busy=0, error=code)
        self._regs[BAR0.DMA_ERROR_ADDR] = BAR0.DMA_ERROR_ADDR.encode(address=error_address)
        self._set(BAR0.INT_STATUS, dma_error=1)
        status = CONFIG.COMMAND_STATUS
        self._config[status] |= status.encode(**{_ABORT_STATUS_BIT[code]: 1})
