# Ref: docs/rings.md; contract/regmap.py (configuration space and BAR0 of the card it models)
"""Behavioural model of the PAC: configuration space, BAR0 registers and
windows, the descriptor-ring engine (docs/rings.md) and INTA#, with no HDL
simulator.

It implements the same contract as the RTL, through :mod:`pacsim.contract.regmap`
and :mod:`pacsim.contract.layouts` (every register, descriptor and context word
is stored and decoded by its :class:`Register`; access types drive the
write semantics). It knows nothing of bus timing: its bus master runs
transactions through a :class:`DmaTarget` (host memory, provided by
:class:`pacsim.sim.model_bus.ModelBus`), which says how each transaction
ended and how many PCI clocks it took, and the bus moves the model's time
forward with :meth:`CardModel.advance_to`. Engine time comes from
:class:`~.pci_costs.PciCosts`; what a job does with its data is
:mod:`.card_jobs`.

Timing rule: each card-initiated transaction takes effect when it starts;
the ring engine starts its next transaction when the previous one has ended.
CONTROL.reset and RST# act at once.

Where docs/rings.md is silent, the model does this (the RTL follows it):

- The card is idle after reset (RST# or CONTROL.reset; ``RING_STATUS``
  reads 0), after finding the command ring empty (``cmd_empty``) and when
  a job ends with ``RING_CTRL.enable`` or ``COMMAND.bus_master`` at 0. It
  leaves idle, clearing ``cmd_empty``, once ``enable``, ``bus_master`` and a
  remembered kick are all 1; otherwise it goes on to the next command after
  each job without a kick.
- A kick is remembered until the card starts reading a command or a result
  slot's STATUS: one that arrives during such a read, or while the card is
  busy, makes its next wait (idle, ``result_full``) end at once. The
  ``result_full`` wait ends on a kick alone.
- ``RING_STATUS.busy`` is 1 from reading an owned command until its result
  is written (a ``result_full`` wait included).
- The card reads a whole descriptor in one transaction (command 4 dwords,
  segment 2, a result slot's STATUS 1), writes a result as one 4-dword
  transaction and releases a command by writing its first dword; it never
  writes segment descriptors. Results come in command order.
- A ring whose base is not 16-byte aligned or whose size is not a power of
  two in 2..4096 stops the rings when the card accesses it
  (``aborted``, ``abort_status = BAD_DESCRIPTOR``, ``ring_error``).
- An unowned segment descriptor ends that ring's descriptors for the job
  (the other ring is still read up to its ``last``). A job reads at most
  one ring's worth of descriptors per ring: no ``last`` among them is
  ``BAD_DESCRIPTOR``.
- Output is written as it is produced, in order: a bus error while moving
  data leaves ``BYTES`` = output bytes written before it (for an aborted
  write, the data phases of that transaction that completed count).
- A card-initiated transaction that is master- or target-aborted sets
  ``received_master_abort``/``received_target_abort`` in configuration
  space, for descriptors and data alike.
- RST# clears the channel contexts; CONTROL.reset keeps them. Context and
  counter entries of channels at or above ``CHANNELS.count`` and the
  unused dwords of each entry read 0 and ignore writes.
- CAPS.burst_words, CHANNELS.count and PK_STATUS.max_words read the build's
  values (the map's reset value 0 stands for "build parameter");
  CONTROL.reset keeps them.
- The public-key unit and the random number generator are
  :mod:`.card_units` (their own decisions are listed there); the PK unit
  raises ``INT_STATUS.pk`` whenever an operation ends. CONTROL.reset
  resets both (no interrupt). ``TEST_CONTROL.rng_fault`` is the generator's
  fault hook (:attr:`RngUnit.fault`), set on every write of the register.
"""
import enum
import struct
from typing import NamedTuple, Protocol, Sequence

from ..contract.build import BUILD
from ..contract.codes import MAX_SEGMENTS, AlgUnit, Opcode, ResultStatus, outcome
from ..contract.layouts import ALG_COUNTERS, CHANNEL_COUNTERS, CMD, CONTEXT, RESULT, SEG
from ..contract.pk import ModExpSlot
from ..contract.regmap import BAR0, CONFIG, MAX_CHANNELS, RING_ALIGN, RING_SIZES, WINDOWS
from .card_jobs import Command, JobContexts, RandomStream, job_stream, validate
from .card_registers import REGISTERS, Bar0Decoder, descriptor_words, field, lanes, set_fields, store
from .card_units import PkUnit, RngUnit
from .pci_costs import COSTS, PciCosts

__all__ = ["CardModel", "DmaTarget", "Burst", "Termination"]


class Termination(enum.Enum):
    """How a card-initiated bus transaction ended."""
    COMPLETED = "completed"        #: every data phase transferred
    DISCONNECT = "disconnect"      #: the target stopped after ``phases``; the master goes on in a new one
    MASTER_ABORT = "master_abort"  #: no target claimed the address
    TARGET_ABORT = "target_abort"  #: the target aborted after ``phases`` data phases


class Burst(NamedTuple):
    """Outcome of one card-initiated transaction: ``phases`` data phases
    completed (dwords), ``data`` the dwords read (reads only), ``clocks`` the
    PCI clocks the transaction occupied the bus. (A named tuple: one is
    made per transaction, and a frozen dataclass costs several times more.)"""
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


_ABORT_STATUS = {Termination.MASTER_ABORT: ResultStatus.MASTER_ABORT,
                 Termination.TARGET_ABORT: ResultStatus.TARGET_ABORT}
_ABORT_CONFIG_BIT = {ResultStatus.MASTER_ABORT: "received_master_abort",
                     ResultStatus.TARGET_ABORT: "received_target_abort"}
#: A segment descriptor's dwords and where its words are among them.
_SEG_WORDS, _SEG_CONTROL, _SEG_ADDRESS = SEG.size // 4, SEG.CONTROL.offset // 4, SEG.ADDRESS.offset // 4
#: Descriptor layout of each ring.
_ENTRY = {"CMD": CMD, "SRC": SEG, "DST": SEG, "RES": RESULT}
#: Yielded by the ring engine: wait for a kick.
_WAIT = None
#: Opcodes counted per channel and per algorithm unit, and the direction they count in.
_COUNTED = {Opcode.ENCODE: "encode", Opcode.DECODE: "decode", Opcode.HASH: "encode",
            Opcode.COMPRESS: "encode", Opcode.DECOMPRESS: "decode"}
_RNG_OUTPUTS = tuple(getattr(BAR0, f"RNG_OUTPUT{i}") for i in range(4))
_RNG_SEEDS = tuple(reg for reg in BAR0 if reg.name.startswith("RNG_SEED"))
#: Read on every bus access (claims, INTA#): the configuration words and fields, looked up once.
_COMMAND_STATUS, _BAR0 = CONFIG.COMMAND_STATUS.name, CONFIG.BAR0.name
_DMA_TRANSACTIONS = BAR0.DMA_TRANSACTIONS
#: ``{counter register name: (1 in its count field, the field's mask)}``.
_COUNT_FIELDS = {reg.name: (1 << reg.count.offset, reg.count.mask) for reg in BAR0
                 if [f.name for f in reg.fields] == ["count"]}
_COALESCE, _RING_CTRL, _INT_STATUS, _INT_ENABLE = (BAR0.COALESCE.name, BAR0.RING_CTRL.name, BAR0.INT_STATUS.name,
                                                  BAR0.INT_ENABLE.name)
_COMMAND_FIELDS = {f.name: f for f in CONFIG.COMMAND_STATUS.fields}
_BAR0_ADDRESS = CONFIG.BAR0.address.mask
#: The public-key operand window: base offset, bytes per slot, slots.
(_PK_BASE, _PK_SLOT_BYTES), _PK_SLOTS = WINDOWS["PK_OPERANDS"], len(ModExpSlot)
# Register storage (``_config``, ``_regs``, contexts, counters) is keyed by
# register name, unique in each map: a Register is a frozen dataclass whose
# hash walks all its fields, on every dict lookup.
#: The registers of each ring with the field the ring engine reads, as
#: ``(register, register name, shift, mask)`` of RING_BASE.address,
#: RING_SIZE.entries and RING_INDEX.index.
_RING_FIELDS = {name: tuple((reg, reg.name, getattr(reg, field).offset, (1 << getattr(reg, field).width) - 1)
                            for reg, field in ((getattr(BAR0, f"{name}_RING_BASE"), "address"),
                                               (getattr(BAR0, f"{name}_RING_SIZE"), "entries"),
                                               (getattr(BAR0, f"{name}_RING_INDEX"), "index")))
                for name in _ENTRY}
_RING_SIZES = frozenset(RING_SIZES)


def _earlier(first, second):
    """The earlier of two PCI clocks, either of which may be None (no event)."""
    if first is None:
        return second
    return first if second is None or first <= second else second


class _Aborted(Exception):
    """A transfer ended by an abort after ``words`` dwords, at ``address``."""

    def __init__(self, status: ResultStatus, address: int, words: int):
        super().__init__(status, address, words)
        self.status, self.address, self.words = status, address, words


class _RingAbort(Exception):
    """A descriptor transfer failed (or a ring is misprogrammed): the rings stop."""

    def __init__(self, status: ResultStatus):
        super().__init__(status)
        self.status = status


class CardModel:
    """The PAC as seen from the bus: configuration space, BAR0 and INTA#.

    ``target`` carries the card's DMA transactions; ``burst_words`` is the
    build's DMA chunk in 32-bit words (CAPS), ``channels`` its channel count
    (CHANNELS), ``pk_words`` the public-key unit's largest modulus in 32-bit
    words (PK_STATUS.max_words), ``rng_reseed_interval`` the generate
    requests the random number generator serves between seeds, ``costs``
    the engines' timing. Addresses are bus byte addresses; times are PCI
    clocks.
    """

    def __init__(self, target: DmaTarget, *, burst_words: int = BUILD.burst_words,
                 channels: int = BUILD.model_channels, pk_words: int = BUILD.pk_words,
                 rng_reseed_interval: int = BUILD.rng_reseed_interval, costs: PciCosts = COSTS):
        if burst_words < 1:
            raise ValueError(f"burst_words={burst_words}: expected at least 1 word")
        if not 1 <= channels <= MAX_CHANNELS:
            raise ValueError(f"channels={channels}: expected 1 to {MAX_CHANNELS}")
        self._target = target
        self._burst_words = burst_words
        self._channel_count = channels
        self._costs = costs
        caps = BAR0.CAPS.decode(BAR0.CAPS.reset_value)
        self._build = {BAR0.CAPS.name: BAR0.CAPS.encode(**{**caps, "burst_words": burst_words}),
                       BAR0.CHANNELS.name: BAR0.CHANNELS.encode(count=channels)}
        self._now = 0
        self._decoder = Bar0Decoder(channels)
        self._pk = PkUnit(costs, pk_words)
        self._rng = RngUnit(costs, rng_reseed_interval)
        self.power_on_reset()

    # -- reset -------------------------------------------------------------

    def power_on_reset(self) -> None:
        """RST#: configuration space, BAR0, channel contexts and engines to their reset state."""
        self._config = {reg.name: reg.reset_value for reg in CONFIG}
        self._contexts = [{reg.name: reg.reset_value for reg in CONTEXT} for _ in range(self._channel_count)]
        self._decoded_contexts = {}
        self._pk.power_on_reset()
        self._reset_bar0()

    def _reset_bar0(self) -> None:
        """CONTROL.reset: registers, ring state and counters to reset values,
        the running job dropped; channel contexts kept."""
        self._regs = {reg.name: reg.reset_value for reg in BAR0}
        self._regs.update(self._build)
        self._channel_counters = [{reg.name: 0 for reg in CHANNEL_COUNTERS} for _ in range(self._channel_count)]
        self._alg_counters = [{reg.name: 0 for reg in ALG_COUNTERS} for _ in AlgUnit]
        self._kick = False
        self._unsignalled = 0
        self._first_unsignalled = None
        self._dma_clocks = 0           # PCI clocks of the running job's transfers
        self._engine = self._rings()
        self._engine_at = self._now
        self._pk.reset()
        self._rng.reset(self._now)
        self._sync_units()

    # -- configuration space ----------------------------------------------

    def config_read(self, offset: int) -> int:
        """Configuration dword at byte ``offset``; unimplemented dwords read 0."""
        reg = CONFIG.at(offset)
        if reg is None:
            return 0
        word = self._config[reg.name]
        if reg is CONFIG.COMMAND_STATUS:
            word |= reg.encode(interrupt_status=int(self._interrupt_pending()))
        return word

    def config_write(self, offset: int, value: int, byte_enables: int = 0xF) -> None:
        """Write a configuration dword: RO bits kept, RW1C bits cleared by 1s."""
        reg = CONFIG.at(offset)
        if reg is not None:
            self._config[reg.name], _ = store(reg, self._config[reg.name], value, byte_enables)
            if reg is CONFIG.COMMAND_STATUS:
                self._wake()

    def _command_bit(self, name: str) -> int:
        """One field of COMMAND_STATUS (read on every access: one field, not the whole register)."""
        return _COMMAND_FIELDS[name].extract(self._config[_COMMAND_STATUS])

    def _config_flag(self, name: str) -> None:
        status = CONFIG.COMMAND_STATUS
        self._config[status.name] |= status.encode(**{name: 1})

    # -- BAR0 --------------------------------------------------------------

    @property
    def bar0(self) -> int:
        """Bus byte address programmed into BAR0."""
        return self._config[_BAR0] & _BAR0_ADDRESS

    def claims(self, address: int) -> bool:
        """Whether the card answers a memory access at ``address`` (memory space on, inside BAR0)."""
        if not self._command_bit("memory_space"):
            return False
        bar0 = self.bar0
        return bar0 <= address < bar0 + BAR0.size

    def _pk_operand(self, offset: int):
        """``(slot, word)`` of a PK_OPERANDS window offset, or None."""
        slot, inner = divmod(offset - _PK_BASE, _PK_SLOT_BYTES)
        return (slot, inner // 4) if 0 <= offset - _PK_BASE and slot < _PK_SLOTS else None

    def _locate(self, offset: int, written: bool = False) -> tuple:
        """``(storage dict, register)`` of the BAR0 dword at ``offset``, or
        ``(None, None)``; the storage is keyed by register name. ``written``:
        the caller writes the dword (a context entry's cached decoding is dropped)."""
        located = self._decoder.locate(offset)
        if located is None:
            return None, None
        window, index, reg = located
        if window == REGISTERS:
            return self._regs, reg
        if window == "CONTEXT":
            if written:
                self._decoded_contexts.pop(index, None)
            return self._contexts[index], reg
        return (self._alg_counters if window == "ALG_COUNTERS" else self._channel_counters)[index], reg

    def mem_read(self, address: int) -> int:
        """BAR0 dword at bus ``address`` (which the card claims); unimplemented dwords read 0."""
        offset = address - self.bar0
        operand = self._pk_operand(offset)
        if operand is not None:
            return self._pk.read_word(*operand)
        storage, reg = self._locate(offset)
        return 0 if reg is None else storage[reg.name]

    def _operand_run(self, address: int, count: int):
        """``(slot, first word)`` when ``count`` dwords at bus ``address`` all
        fall in one slot of the PK operand window, else None."""
        offset = address - self.bar0
        first, last = self._pk_operand(offset), self._pk_operand(offset + 4 * (count - 1))
        return first if first is not None and last == (first[0], first[1] + count - 1) else None

    def burst_read(self, address: int, count: int) -> list:
        """``count`` consecutive BAR0 dwords from bus ``address``, as :meth:`mem_read` reads each."""
        run = self._operand_run(address, count)
        if run is not None:
            return self._pk.read_words(*run, count)
        return [self.mem_read(address + 4 * i) for i in range(count)]

    def burst_write(self, address: int, values: list, byte_enables: int = 0xF) -> None:
        """Consecutive BAR0 dwords from bus ``address``, as :meth:`mem_write` writes each, in order."""
        run = self._operand_run(address, len(values))
        if run is not None:
            self._pk.write_words(*run, values, lanes(byte_enables))
            return
        for i, value in enumerate(values):
            self.mem_write(address + 4 * i, value, byte_enables)

    def mem_write(self, address: int, value: int, byte_enables: int = 0xF) -> None:
        """Write the BAR0 dword at bus ``address``; W1S fields trigger their action."""
        offset = address - self.bar0
        operand = self._pk_operand(offset)
        if operand is not None:
            self._pk.write_word(*operand, value, lanes(byte_enables))
            return
        storage, reg = self._locate(offset, written=True)
        if reg is None:
            return
        storage[reg.name], triggered = store(reg, storage[reg.name], value, byte_enables)
        if storage is not self._regs:
            return                          # a counter or context word: no action
        if reg is BAR0.CONTROL and "reset" in triggered:
            self._reset_bar0()
        if reg is BAR0.RING_CTRL:
            self._kick = self._kick or "kick" in triggered
            self._wake()
        if reg is BAR0.PK_CONTROL:
            self._pk_control(triggered)
        if reg is BAR0.TEST_CONTROL:
            self._rng.fault = self._get(BAR0.TEST_CONTROL)["rng_fault"]
        if reg is BAR0.RNG_CONTROL and "start" in triggered:
            seed = b"".join(self._regs[r.name].to_bytes(4, "little") for r in _RNG_SEEDS)
            self._rng.start(self._now, self._get(BAR0.RNG_CONTROL)["command"], seed)
            self._sync_units()

    # -- public-key unit and random number generator ----------------------------

    def _pk_control(self, triggered) -> None:
        ended = False
        if "abort" in triggered:
            ended = self._pk.abort(self._now)
        if "start" in triggered:
            size = self._get(BAR0.PK_SIZE)
            ended = self._pk.start(self._now, size["words"], size["exp_bits"],
                                   self._get(BAR0.PK_WATCHDOG)["clocks"]) or ended
        if ended:
            self._set(BAR0.INT_STATUS, pk=1)
        self._sync_units()

    def _sync_units(self) -> None:
        """The units' status and output registers from their state."""
        self._set(BAR0.PK_STATUS, **self._pk.status_fields())
        self._set(BAR0.PK_CLOCKS, clocks=self._pk.clocks & 0xFFFF_FFFF)
        self._set(BAR0.RNG_STATUS, **self._rng.status_fields())
        for reg, word in zip(_RNG_OUTPUTS, self._rng.output_words()):
            self._regs[reg.name] = word

    def _complete_units(self) -> None:
        """End the units' operations that are due now."""
        pk_at, rng_at = self._pk.next_event(), self._rng.next_event()
        if (pk_at is None or pk_at > self._now) and (rng_at is None or rng_at > self._now):
            return                                          # neither is due: nothing to do
        pk_ended = self._pk.complete(self._now)
        if pk_ended:
            self._set(BAR0.INT_STATUS, pk=1)
        if self._rng.complete(self._now) or pk_ended:
            self._sync_units()

    def _get(self, reg) -> dict:
        return reg.decode(self._regs[reg.name])

    def _set(self, reg, **fields) -> None:
        self._regs[reg.name] = set_fields(self._regs[reg.name], reg, **fields)

    def _bump(self, counter) -> None:
        """Count one event in a counter register (wraps at its width). Its
        other fields are kept (a stored word has no bits outside its fields)."""
        one, mask = _COUNT_FIELDS[counter.name]
        word = self._regs[counter.name]
        self._regs[counter.name] = (word & ~mask) | ((word & mask) + one) & mask

    # -- interrupt -----------------------------------------------------------

    def _interrupt_pending(self) -> bool:
        return bool(self._regs[_INT_STATUS] & self._regs[_INT_ENABLE])

    @property
    def inta(self) -> bool:
        """INTA# asserted: an enabled interrupt is pending and interrupt_disable is 0."""
        return self._interrupt_pending() and not self._command_bit("interrupt_disable")

    def _coalesce_deadline(self) -> int | None:
        if not self._unsignalled:
            return None
        timeout = field(self._regs[_COALESCE], BAR0.COALESCE, "timeout")
        return self._first_unsignalled + timeout if timeout else None

    def _result_written(self) -> None:
        """Coalescing: signal after COALESCE.count results (0 acts as 1)."""
        if not self._unsignalled:
            self._first_unsignalled = self._now
        self._unsignalled += 1
        if self._unsignalled >= max(field(self._regs[_COALESCE], BAR0.COALESCE, "count"), 1):
            self._signal_results()

    def _signal_results(self) -> None:
        self._set(BAR0.INT_STATUS, result=1)
        self._unsignalled = 0
        self._first_unsignalled = None

    # -- time ----------------------------------------------------------------

    def _wake(self) -> None:
        """A register write the waiting ring engine may be waiting for: let it look."""
        if self._engine is not None and self._engine_at is None:
            self._engine_at = self._now

    def next_event(self) -> int | None:
        """PCI clock of the card's next step (ring engine or coalescing timeout), or None."""
        first = self._engine_at
        if self._unsignalled:
            first = _earlier(first, self._coalesce_deadline())
        return _earlier(_earlier(first, self._pk.next_event()), self._rng.next_event())

    def advance_to(self, clock: int, until_interrupt: bool = False) -> int | None:
        """Run the card's steps due up to PCI clock ``clock``. With
        ``until_interrupt``, stop once INTA# is asserted (at once, running
        nothing, if it is): the steps due at the clock it was asserted run,
        later ones wait; returns that clock (None when INTA# is not asserted
        by ``clock``). :meth:`ModelBus.wait_interrupt` waits with it."""
        if until_interrupt and self.inta:
            return self._now                      # already asserted: nothing runs
        asserted = None
        while (event := self.next_event()) is not None and event <= clock:
            if asserted is not None and event > asserted:
                break
            self._now = max(self._now, event)
            self._complete_units()
            deadline = self._coalesce_deadline() if self._unsignalled else None
            if deadline is not None and deadline <= self._now:
                self._signal_results()
            if self._engine_at is not None and self._engine_at <= self._now:
                try:
                    delay = next(self._engine)
                except StopIteration:
                    self._engine = None
                    delay = _WAIT
                self._engine_at = None if delay is _WAIT else self._now + delay
            if until_interrupt and asserted is None and self.inta:
                asserted = self._now
        self._now = max(self._now, clock if asserted is None else asserted)
        return asserted

    # -- ring engine -----------------------------------------------------------

    def _runnable(self) -> bool:
        return bool(field(self._regs[_RING_CTRL], BAR0.RING_CTRL, "enable") and self._command_bit("bus_master"))

    def _rings(self):
        """The ring engine: a generator yielding the PCI clocks of each step,
        or ``_WAIT`` to wait for a register write; it returns when the rings stop."""
        while True:
            while not (self._kick and self._runnable()):        # idle
                yield _WAIT
            self._set(BAR0.RING_STATUS, cmd_empty=0)
            try:
                while (yield from self._job()) and self._runnable():
                    pass
            except _RingAbort as abort:
                self._set(BAR0.RING_STATUS, busy=0, result_full=0, aborted=1, abort_status=abort.status)
                self._set(BAR0.INT_STATUS, ring_error=1)
                return

    def _ring(self, name: str) -> tuple:
        """``(base, entries, index)`` of a ring; a misprogrammed ring stops the rings."""
        regs = self._regs
        (_, base_name, base_shift, base_mask), (_, size_name, size_shift, size_mask), \
            (_, index_name, index_shift, index_mask) = _RING_FIELDS[name]
        base = regs[base_name] >> base_shift & base_mask
        entries = regs[size_name] >> size_shift & size_mask
        if base % RING_ALIGN or entries not in _RING_SIZES:
            raise _RingAbort(ResultStatus.BAD_DESCRIPTOR)
        return base, entries, regs[index_name] >> index_shift & index_mask

    def _advance(self, name: str) -> None:
        _, entries, index = self._ring(name)
        self._set(_RING_FIELDS[name][2][0], index=(index + 1) % entries)

    def _descriptor(self, name: str, words=None, count: int | None = None):
        """Read ``count`` dwords of (or write ``words`` to) the entry at the
        ring's index; a bus error stops the rings."""
        base, _, index = self._ring(name)
        address = base + index * _ENTRY[name].size
        try:
            return (yield from self._transfer(address, count if words is None else len(words), words))
        except _Aborted as abort:
            raise _RingAbort(abort.status) from None

    def _job(self):
        """One command: read, segments, validation, result slot, data, result,
        counters. Returns False if the command ring was empty."""
        self._kick = False
        command = Command.decode((yield from self._descriptor("CMD", count=CMD.size // 4)))
        if not command.own:
            self._set(BAR0.RING_STATUS, cmd_empty=1)
            return False
        self._set(BAR0.RING_STATUS, busy=1)
        source, source_good = [], True
        if command.opcode != Opcode.RANDOM:                   # RANDOM has no source segments
            source, source_good = yield from self._segments("SRC")
        destination, destination_good = yield from self._segments("DST")
        contexts = JobContexts(self._contexts, command.channels, self._decoded_contexts)
        status = ResultStatus.BAD_DESCRIPTOR
        if source_good and destination_good:
            status = validate(command, sum(n for _, n in source), sum(n for _, n in destination), contexts)
        yield from self._result_slot()
        stream = None
        if status is ResultStatus.OK:
            stream = job_stream(command, contexts, sum(n for _, n in destination), self._rng)
        written, address = 0, 0
        if stream is not None:
            status, written, address = yield from self._run(stream, source, destination)
        result = descriptor_words(RESULT,
                        STATUS=set_fields(0, RESULT.STATUS, status=status, cipher_channel=command.cipher_channel,
                                          mac_channel=command.mac_channel, opcode=command.opcode),
                        TAG=set_fields(0, RESULT.TAG, tag=command.tag),
                        BYTES=set_fields(0, RESULT.BYTES, bytes=written, comp_channel=command.comp_channel),
                        ADDRESS=set_fields(0, RESULT.ADDRESS, address=address))
        yield from self._descriptor("RES", words=result)
        yield from self._descriptor("CMD", words=[command.control & ~CMD.CONTROL.own.mask])
        self._advance("CMD")
        self._advance("RES")
        self._bump(BAR0.JOBS)
        self._count(command, status, contexts, stream)
        self._set(BAR0.RING_STATUS, busy=0)
        self._result_written()
        return True

    def _segments(self, name: str):
        """Read one job's segment descriptors from ring ``name``: ``(segments, accepted)``."""
        _, entries, _ = self._ring(name)
        segments, accepted = [], True
        for count in range(1, entries + 1):
            words = yield from self._descriptor(name, count=_SEG_WORDS)
            control = words[_SEG_CONTROL]
            address = field(words[_SEG_ADDRESS], SEG.ADDRESS, "address")
            if not field(control, SEG.CONTROL, "own"):
                return segments, False            # not consumed
            self._advance(name)
            length = field(control, SEG.CONTROL, "length")
            if length == 0 or length % 4 or address % 4 or count > MAX_SEGMENTS:
                accepted = False
            segments.append((address, length))
            if field(control, SEG.CONTROL, "last"):
                return segments, accepted
        return segments, False

    def _result_slot(self):
        """Wait until the next result slot is owned by the card."""
        while True:
            self._kick = False
            (word,) = yield from self._descriptor("RES", count=1)
            if field(word, RESULT.STATUS, "own"):
                return
            self._set(BAR0.RING_STATUS, result_full=1)
            while not self._kick:
                yield _WAIT
            self._set(BAR0.RING_STATUS, result_full=0)

    def _run(self, stream, source, destination):
        """Move a validated job's data: read the source in chunks, write the
        output as it is produced. Returns ``(status, bytes written, failing
        address)``; the bytes are the stream's ``exact_bytes`` when it has
        them (COMPRESS/DECOMPRESS: the last dword written is padding)."""
        self._dma_clocks = 0
        writer = _Output(destination)
        remaining = -(-stream.command.length // 4) * 4      # whole dwords (HASH, LZS: any length)
        try:
            for address, length in source:
                take = min(length, remaining)
                for offset in range(0, take, 4 * self._burst_words):
                    words = min(self._burst_words, (take - offset) // 4)
                    data = yield from self._transfer(address + offset, words)
                    yield from self._write(writer, stream.feed(struct.pack(f"<{words}I", *data)))
                remaining -= take
                if not remaining:
                    break
            random = isinstance(stream, RandomStream)
            while random and self._rng.busy:                   # a register command first
                yield max(1, self._rng.next_event() - self._now)
            engine = stream.engine_clocks(self._costs)
            if engine > self._dma_clocks:
                yield engine - self._dma_clocks
            tail, status = stream.finish()
            if random:
                self._sync_units()
            yield from self._write(writer, tail)
        except _Aborted as abort:
            return abort.status, writer.written, abort.address
        return status, writer.written if stream.exact_bytes is None else stream.exact_bytes, 0

    def _write(self, writer: "_Output", data: bytes):
        for address, start, count in writer.pieces(len(data), 4 * self._burst_words):
            words = struct.unpack(f"<{count // 4}I", data[start:start + count])
            try:
                yield from self._transfer(address, len(words), words)
            except _Aborted as abort:
                writer.written += 4 * abort.words
                raise
            writer.written += count

    def _transfer(self, address: int, count: int, words=None):
        """Move ``count`` dwords at ``address`` (a read when ``words`` is None)
        in as many transactions as the target needs; returns the dwords read.
        Raises :class:`_Aborted` on a master or target abort (after flagging
        it in configuration space)."""
        data, done = [], 0
        while done < count:
            at = (address + 4 * done) & 0xFFFF_FFFF
            burst = (self._target.burst_read(at, count - done) if words is None
                     else self._target.burst_write(at, words[done:]))
            self._bump(_DMA_TRANSACTIONS)
            self._dma_clocks += burst.clocks
            yield burst.clocks
            data.extend(burst.data)
            done += burst.phases
            if burst.termination is Termination.COMPLETED:
                continue
            if burst.termination in _ABORT_STATUS:
                status = _ABORT_STATUS[burst.termination]
                self._config_flag(_ABORT_CONFIG_BIT[status])
                raise _Aborted(status, (address + 4 * done) & 0xFFFF_FFFF, done)
            if burst.termination is Termination.DISCONNECT:
                self._bump(BAR0.DMA_DISCONNECTS)
        return data

    # -- counters --------------------------------------------------------------

    def _count(self, command: Command, status: ResultStatus, contexts, stream) -> None:
        """Per-channel and per-algorithm counters of a finished ENCODE, DECODE,
        HASH, COMPRESS or DECOMPRESS job."""
        if command.opcode not in _COUNTED:
            return
        kind = outcome(status)
        direction = _COUNTED[Opcode(command.opcode)]
        named = {(service, number) for service, number in command.channels if number < len(contexts)}
        for number in {number for _, number in named}:
            counters = self._channel_counters[number]
            self._add(counters, getattr(CHANNEL_COUNTERS, kind.upper()), 1)
            if stream is not None and kind == "good":
                self._add(counters, CHANNEL_COUNTERS.BYTES, stream.payload_bytes)
        units = {contexts[number].unit for service, number in named
                 if contexts[number].open and contexts[number].service == service}
        for unit in units - {None}:
            self._add(self._alg_counters[unit], getattr(ALG_COUNTERS, f"{direction}_{kind}".upper()), 1)

    @staticmethod
    def _add(counters: dict, reg, amount: int) -> None:
        counters[reg.name] = (counters[reg.name] + amount) % (1 << reg.count.width)


class _Output:
    """Where a job's output goes: its destination segments, filled in order."""

    def __init__(self, segments):
        self.segments = segments
        self.written = 0

    def pieces(self, length: int, burst_bytes: int):
        """``(bus address, offset in the data, bytes)`` of each write of the
        next ``length`` output bytes: within one segment, at most a burst."""
        start, position = self.written, 0
        base = 0
        for address, size in self.segments:
            while start + position < base + size and position < length:
                offset = start + position - base
                count = min(size - offset, length - position, burst_bytes)
                yield address + offset, position, count
                position += count
            base += size
