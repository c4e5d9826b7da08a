# Ref: hdl/engines/modexp.py, hdl/engines/drbg.py (NIST SP 800-90A 10.2.1), docs/rings.md
"""The card model's register-driven units: the public-key unit (modular
exponentiation) and the random number generator.

Each unit computes its values exactly as the gateware does (Python ``pow``
for :class:`~pacsim.hdl.engines.modexp.ModExp`, the reference
:class:`pacsim.reference.drbg.CtrDrbg` for the DRBG) and takes the gateware's
documented clocks (:class:`~.pci_costs.PciCosts`): a command starts at once,
its results (status, output, ``busy`` falling, the PK interrupt) appear
``clocks`` later, when :class:`~.card_model.CardModel` calls
:meth:`complete`. The card model owns the registers; the units say what
they read (:meth:`PkUnit.status_fields`, :meth:`RngUnit.status_fields`).

Where the engine documentation leaves the card's wiring open, the model
does this:

- PK: ``PK_CLOCKS`` counts the busy clocks (0 for ``BAD_SIZE``, which never
  raises ``busy``); an operation stopped by the watchdog is busy for
  ``watchdog + 1`` clocks; an abort ends the operation at once; ``RESULT``
  is written only by an operation ending OK. ``CONTROL.reset`` stops a
  running operation without an interrupt and clears the status; the operand
  memory is kept (RST# clears it). Operand words at or above the build's
  ``max_words`` read 0 and ignore writes.
- RNG: every ``start`` clears ``valid`` at once, and is otherwise ignored
  while ``busy``; ``RNG_OUTPUT`` keeps the last block until the next one
  lands (``valid`` says whether it is new). A refused command (not
  instantiated, reseed required, after a health-test failure) ends at once,
  ``busy`` never rises. The seed registers are read at ``start`` and keep
  their values. ``CONTROL.reset`` and RST# reset the DRBG: uninstantiated,
  ``busy`` through the power-on self-test.
- RNG fault injection (``TEST_CONTROL.rng_fault``, the engine's
  ``inject_fault``, :attr:`RngUnit.fault`): taken as it stands when the
  self-test, command or RANDOM request ends (software changes it only while
  ``busy`` is low). ``CORRUPT_KAT`` fails the known-answer self-test (of an
  INSTANTIATE, or the power-on one); ``STUCK_OUTPUT`` makes each GENERATE
  block the previous one, which the continuous test then refuses. A failed
  health test ends its command at the command's full clocks (the engine
  stops at the failing block) with HEALTH_FAILED, nothing output.
"""
from dataclasses import dataclass

from ..contract.pk import ModExpSlot, ModExpStatus
from ..contract.rng import RESEED_INTERVAL, DrbgCommand, DrbgFault, DrbgStatus
from ..reference.drbg import BLOCK_BYTES, KAT_BLOCKS, SEED_BYTES, CtrDrbg
from .pci_costs import PciCosts

__all__ = ["PkUnit", "RngUnit"]


@dataclass
class _Operation:
    """A public-key operation in progress."""
    started: int
    done_at: int
    status: ModExpStatus
    words: int
    result: int


class PkUnit:
    """The public-key unit: ``max_words`` 32-bit words per operand slot."""

    def __init__(self, costs: PciCosts, max_words: int = 64):
        self.costs = costs
        self.max_words = max_words
        self.power_on_reset()

    def power_on_reset(self) -> None:
        """RST#: idle, status OK, operand memory cleared."""
        self.operands = [[0] * self.max_words for _ in ModExpSlot]
        self.reset()

    def reset(self) -> None:
        """CONTROL.reset: a running operation is dropped (no interrupt); the operands are kept."""
        self.running = None
        self.status = ModExpStatus.OK
        self.clocks = 0

    @property
    def busy(self) -> bool:
        return self.running is not None

    def status_fields(self) -> dict:
        """PK_STATUS fields."""
        return {"busy": int(self.busy), "status": self.status, "max_words": self.max_words}

    # -- operand window -------------------------------------------------------

    def read_word(self, slot: int, word: int) -> int:
        return self.operands[slot][word] if word < self.max_words else 0

    def write_word(self, slot: int, word: int, value: int, lanes: int) -> None:
        """A host write into the operand window: ignored while busy and beyond ``max_words``."""
        if word < self.max_words and not self.busy:
            old = self.operands[slot][word]
            self.operands[slot][word] = (old & ~lanes) | (value & lanes)

    def read_words(self, slot: int, word: int, count: int) -> list:
        """``count`` words from ``word`` on, as :meth:`read_word` gives each."""
        return [self.read_word(slot, k) for k in range(word, word + count)]

    def write_words(self, slot: int, word: int, values, lanes: int) -> None:
        """Consecutive host writes from ``word`` on, as :meth:`write_word` takes each."""
        if self.busy:
            return
        operands = self.operands[slot]
        for k, value in enumerate(values[:max(self.max_words - word, 0)], word):
            operands[k] = (operands[k] & ~lanes) | (value & lanes)

    def _value(self, slot: ModExpSlot, words: int) -> int:
        return sum(w << (32 * k) for k, w in enumerate(self.operands[slot][:words]))

    # -- operations ------------------------------------------------------------

    def start(self, now: int, words: int, exp_bits: int, watchdog: int) -> bool:
        """``PK_CONTROL.start`` with the PK_SIZE and PK_WATCHDOG fields. Ignored
        while busy. Returns True if the operation ended at once (``BAD_SIZE``)."""
        if self.busy:
            return False
        if words == 0 or words > self.max_words or exp_bits > 32 * self.max_words:
            self.status, self.clocks = ModExpStatus.BAD_SIZE, 0
            return True
        modulus = self._value(ModExpSlot.MODULUS, words)
        base = self._value(ModExpSlot.BASE, words)
        exponent = self._value(ModExpSlot.EXPONENT, self.max_words) & ((1 << exp_bits) - 1)
        if modulus % 2 == 0:
            status, result = ModExpStatus.EVEN_MODULUS, 0
            clocks = self.costs.modexp_load_clocks(words)
        else:
            status, result = ModExpStatus.OK, pow(base, exponent, modulus)
            clocks = self.costs.modexp_clocks(modulus.bit_length(), exp_bits, words)
        if watchdog and clocks > watchdog:
            status, clocks = ModExpStatus.TIMEOUT, watchdog + 1
        self.running = _Operation(now, now + clocks, status, words, result)
        return False

    def abort(self, now: int) -> bool:
        """``PK_CONTROL.abort``: stop a running operation (ABORTED). Returns
        True if one was stopped (it has ended: the card raises INT_STATUS.pk)."""
        if not self.busy:
            return False
        self.status, self.clocks = ModExpStatus.ABORTED, now - self.running.started
        self.running = None
        return True

    def next_event(self):
        """PCI clock the running operation ends, or None."""
        return self.running.done_at if self.running is not None else None

    def complete(self, now: int) -> bool:
        """End the running operation if it is due. Returns True if it ended."""
        operation = self.running
        if operation is None or operation.done_at > now:
            return False
        if operation.status is ModExpStatus.OK:
            for k in range(operation.words):
                self.operands[ModExpSlot.RESULT][k] = (operation.result >> (32 * k)) & 0xFFFF_FFFF
        self.status, self.clocks = operation.status, operation.done_at - operation.started
        self.running = None
        return True


class RngUnit:
    """The random number generator: CTR_DRBG (AES-256, no df) with the
    gateware's health tests (known answers at power-on and at every
    instantiation pass; the continuous test compares each block with the
    previous one) and ``reseed_interval`` generate requests between seeds."""

    def __init__(self, costs: PciCosts, reseed_interval: int = RESEED_INTERVAL):
        self.costs = costs
        self.reseed_interval = reseed_interval
        self.reset(0)

    def reset(self, now: int) -> None:
        """RST# or CONTROL.reset: uninstantiated, the power-on self-test
        running, no fault injected (TEST_CONTROL is reset too)."""
        #: the engine's ``inject_fault``: a :class:`DrbgFault` value (3 acts as NONE)
        self.fault = DrbgFault.NONE
        self.drbg = None
        self.counter = 0
        self.failed = False
        self.last_block = KAT_BLOCKS[1].to_bytes(BLOCK_BYTES, "big")   # the self-test's last block
        self.status = DrbgStatus.OK
        self.valid = False
        self.output = bytes(BLOCK_BYTES)
        self.done_at = now + self.costs.rng_power_on_clocks()
        self._pending = None

    @property
    def busy(self) -> bool:
        return self.done_at is not None

    @property
    def ready(self) -> bool:
        """Instantiated, healthy and within the reseed interval."""
        return self.drbg is not None and not self.failed and self.counter <= self.reseed_interval

    def status_fields(self) -> dict:
        """RNG_STATUS fields."""
        return {"busy": int(self.busy), "ready": int(self.ready), "valid": int(self.valid),
                "status": self.status}

    def output_words(self) -> list:
        """RNG_OUTPUT0..3: the block's bytes as little-endian dwords."""
        return [int.from_bytes(self.output[k:k + 4], "little") for k in range(0, BLOCK_BYTES, 4)]

    def _refusal(self, command: DrbgCommand):
        """The DrbgStatus a command is refused with now, or None."""
        if self.failed:
            return DrbgStatus.HEALTH_FAILED
        if command in (DrbgCommand.RESEED, DrbgCommand.GENERATE) and self.drbg is None:
            return DrbgStatus.NOT_INSTANTIATED
        if command is DrbgCommand.GENERATE and self.counter > self.reseed_interval:
            return DrbgStatus.RESEED_REQUIRED
        return None

    def generate_request(self, blocks: int) -> tuple:
        """A RANDOM job's GENERATE request of ``blocks`` blocks (the unit is
        not busy): ``(output bytes or None, clocks)``. The blocks do not reach
        RNG_OUTPUT; each passes the continuous test."""
        refusal = self._refusal(DrbgCommand.GENERATE)
        if refusal is not None:
            self.status = refusal
            return None, 1
        self.status = DrbgStatus.OK
        output = self.drbg.generate(blocks * BLOCK_BYTES)
        for k in range(0, len(output), BLOCK_BYTES):
            block = self._output_block(output[k:k + BLOCK_BYTES])
            if block == self.last_block:            # continuous test: zeroize, refuse until reset
                self._fail()
                return None, self.costs.rng_generate_clocks(blocks)
            self.last_block = block
        self.counter += 1
        return output, self.costs.rng_generate_clocks(blocks)

    def start(self, now: int, command: int, seed_material: bytes) -> None:
        """``RNG_CONTROL.start`` with ``command`` and the RNG_SEED registers'
        ``seed_material`` (48 bytes, byte 0 first). Clears ``valid``; otherwise
        ignored while busy."""
        self.valid = False
        if self.busy:
            return
        command = DrbgCommand(command)
        refusal = self._refusal(command)
        if refusal is not None:
            self.status = refusal
            return
        assert len(seed_material) == SEED_BYTES
        self._pending = (command, bytes(seed_material))
        self.done_at = now + self.costs.rng_clocks(command)

    def next_event(self):
        """PCI clock the running command (or self-test) ends, or None."""
        return self.done_at

    def complete(self, now: int) -> bool:
        """End the running command if it is due: its state change and outputs.
        Returns True if one ended."""
        if self.done_at is None or self.done_at > now:
            return False
        self.done_at = None
        pending, self._pending = self._pending, None
        if pending is None:                       # the power-on self-test
            if self.fault == DrbgFault.CORRUPT_KAT:
                self._fail()
            return True
        self._finish(*pending)
        return True

    def _output_block(self, block: bytes) -> bytes:
        """A GENERATE block as the continuous test sees it (STUCK_OUTPUT: the previous one)."""
        return self.last_block if self.fault == DrbgFault.STUCK_OUTPUT else block

    def _fail(self) -> None:
        """A failed health test: zeroize, HEALTH_FAILED and refuse everything until reset."""
        self.drbg, self.failed, self.status = None, True, DrbgStatus.HEALTH_FAILED
        self.last_block = bytes(BLOCK_BYTES)

    def _finish(self, command: DrbgCommand, seed: bytes) -> None:
        """Apply a finished command: the DRBG function, the continuous test."""
        self.status = DrbgStatus.OK
        if command is DrbgCommand.INSTANTIATE:
            if self.fault == DrbgFault.CORRUPT_KAT:      # the known-answer self-test first
                self._fail()
                return
            self.drbg = CtrDrbg(seed, reseed_interval=1 << 48)     # the counter is checked here
            self.counter = 1
            self.last_block = KAT_BLOCKS[1].to_bytes(BLOCK_BYTES, "big")
        elif command is DrbgCommand.RESEED:
            self.drbg.reseed(seed)
            self.counter = 1
        elif command is DrbgCommand.GENERATE:
            block = self._output_block(self.drbg.generate(BLOCK_BYTES))
            if block == self.last_block:           # continuous test: zeroize, refuse until reset
                self._fail()
                return
            self.last_block = self.output = block
            self.valid = True
            self.counter += 1
        else:
            self.drbg, self.counter = None, 0
            self.last_block = bytes(BLOCK_BYTES)
