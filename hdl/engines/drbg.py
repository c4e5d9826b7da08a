# Ref: NIST SP 800-90A Rev. 1 section 10.2.1 (CTR_DRBG, AES-256, no derivation function)
"""The card's random number generator: a deterministic random bit generator,
CTR_DRBG with AES-256 and no derivation function (seedlen = 384 bits), on its
own :class:`~.aes.AesCore`, with health tests.

A simulation has no physical entropy source, so the generator is only as
random as the seeds it is given: the host supplies every entropy input
(``seed``), and equal seeds give equal output, bit for bit the output of the
reference model :class:`pacsim.reference.drbg.CtrDrbg`.

Functions (SP 800-90A 10.2.1), one per ``command``:

* ``INSTANTIATE``: first the known-answer self-test below; then
  ``Key || V`` = Update(``seed``) from ``Key = 0, V = 0``. With that fixed
  start the three cipher blocks of this Update are constants, so the
  instantiation is ``Key || V = C XOR seed`` with ``C`` computed at
  elaboration by the reference model (:data:`INSTANTIATE_ZERO`), then a key
  load. ``seed`` is the seed material, ``entropy_input XOR
  personalization_string`` (10.2.1.3.1, see
  :func:`pacsim.reference.drbg.seed_material`). Reseed counter = 1.
* ``RESEED``: Update(``seed``), ``seed`` = ``entropy_input XOR
  additional_input``; reseed counter = 1.
* ``GENERATE``: ``blocks`` 128-bit blocks ``AES(Key, V + i)`` on ``o``, then
  Update(0) (additional input is not supported: it is the all-zero
  ``seedlen`` string of 10.2.1.5.1 step 2), reseed counter + 1. A request of
  0 blocks only updates the state. Refused while the reseed counter exceeds
  ``reseed_interval``.
* ``UNINSTANTIATE``: ``Key``, ``V``, the latched seed and the continuous
  test's stored block are zeroized and the core's key schedule is reloaded
  with the zero key.

``V`` is incremented modulo 2^128 (ctr_len = blocklen). Update(d) encrypts
``V + 1``, ``V + 2``, ``V + 3`` and writes ``Key`` (first 256 bits) and ``V``
from the results XOR ``d`` as they leave the core, which keeps the expanded
old key until the new one is loaded.

Health tests:

* Known-answer self-test (SP 800-90A 11.3) after reset and again before
  every ``INSTANTIATE``: instantiate from the fixed :data:`KAT_ENTROPY`, two
  generate requests of one block each, both blocks compared with
  :data:`KAT_BLOCKS` from the reference model (the second block also covers
  the Update and the key reload in between). On a mismatch the unit
  zeroizes its state and stays in ``HEALTH_FAILED`` until reset.
* Continuous test on the output (FIPS 140-2 4.9.2 style): a ``GENERATE``
  block equal to the previous 128-bit block (the last output, or the
  self-test's last block at the start of an instantiation) is not output;
  the unit zeroizes and stays in ``HEALTH_FAILED``; the request ends short.
* ``inject_fault`` (a test hook; the card drives it from
  ``TEST_CONTROL.rng_fault``, 0 = ``NONE`` in service):
  ``CORRUPT_KAT`` flips bit 0 of the self-test blocks before the
  comparison; ``STUCK_OUTPUT`` replaces each ``GENERATE`` block by the
  previous one.

Ports (``sync`` = PCI CLK, 33 MHz):

================= ===== ====== ==============================================
port              dir   width  meaning
================= ===== ====== ==============================================
``command``       In    2      :class:`DrbgCommand`, sampled with ``start``
``start``         In    1      pulse while ``busy`` is low: run ``command``;
                               ignored while ``busy``
``seed``          In    384    seed material (INSTANTIATE, RESEED), sampled
                               with ``start``; first byte in bits [383:376]
``blocks``        In    16     GENERATE: 128-bit blocks in this request,
                               0 .. ``max_request_blocks``; sampled with
                               ``start``
``inject_fault``  In    2      :class:`DrbgFault`, test hook (see above)
``o``             Out   stream GENERATE output blocks, first byte in bits
                               [127:120]; held until ``o.ready``
``busy``          Out   1      a command or the power-on self-test is
                               running; high from the clock after ``start``
                               (unless the command is refused at once), and
                               from reset until the self-test ends
``done``          Out   1      pulse: high for the one clock after a command
                               ended (accepted or refused); ``status`` is
                               then valid
``status``        Out   3      :class:`DrbgStatus` of the last command (held
                               until the next one ends); ``HEALTH_FAILED``
                               from a failed test until reset
``ready_for_use`` Out   1      instantiated, healthy and within the reseed
                               interval: a GENERATE would be served
================= ===== ====== ==============================================

Refusals (``done`` the clock after ``start``, nothing changes), checked in
the order of SP 800-90A 9.3.1: RESEED or GENERATE when not instantiated:
``NOT_INSTANTIATED``; ``blocks`` above ``max_request_blocks``:
``REQUEST_TOO_LARGE``; GENERATE after ``reseed_interval`` requests since the
last (re)seed: ``RESEED_REQUIRED``; any command after a failed health test:
``HEALTH_FAILED``.

Parameters: ``reseed_interval`` (generate requests between reseeds; default
2^16, a simulation value, SP 800-90A allows up to 2^48), ``max_request_blocks``
(default 4096 = 2^19 bits, the SP 800-90A maximum per request),
``rounds_per_clock`` of the AES core (2).

Timing, in clock edges counted from the edge that samples ``start`` (edge 0)
to the edge after which ``done`` is high, ``o.ready`` high, ``rounds_per_clock``
= 2 (:attr:`CtrDrbg.clocks_per_block`, :meth:`CtrDrbg.generate_clocks` and the
other ``*_clocks`` attributes): within a request one 128-bit block per 7
clocks (16 bytes per 7 clocks, 75 MB/s at 33 MHz); a GENERATE of ``n``
blocks takes ``7 n + 40`` clocks (the three Update blocks 21, the key reload
17, in and out 2), its first block offered on ``o`` from edge 8. RESEED and
a GENERATE of 0 blocks take 40 clocks, INSTANTIATE 128 (111 of them the
self-test), UNINSTANTIATE 17; ``busy`` falls 112 clocks after reset, when the
power-on self-test has passed.
"""
from amaranth import Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, stream, wiring
from amaranth.lib.wiring import In, Out

from ...contract.rng import KAT_ENTROPY, RESEED_INTERVAL, DrbgCommand, DrbgFault, DrbgStatus
from ...reference.drbg import INSTANTIATE_ZERO, KAT_BLOCKS
from .aes import AesCore

__all__ = ["CtrDrbg"]

SEED_BITS = 384
UPDATE_BLOCKS = 3                 # seedlen / blocklen


class _Load(enum.Enum, shape=2):
    """A write of the whole working state ``Key || V`` (one multiplexer for all sites)."""
    NONE = 0
    SELF_TEST = 1             # instantiate from KAT_ENTROPY
    SEED = 2                  # instantiate from the latched seed material
    ZERO = 3                  # zeroize (also the latched seed and the continuous test's block)


class _Phase(enum.Enum, shape=3):
    """The function in progress (the last key load belongs to it)."""
    KAT_INSTANTIATE = 0
    KAT_GENERATE_1 = 1
    KAT_GENERATE_2 = 2
    INSTANTIATE = 3
    RESEED = 4
    GENERATE = 5
    UNINSTANTIATE = 6


class CtrDrbg(wiring.Component):
    """CTR_DRBG (AES-256, no df) with health tests; see the module docstring."""

    def __init__(self, *, reseed_interval: int = RESEED_INTERVAL, max_request_blocks: int = 4096,
                 rounds_per_clock: int = 2):
        if not 1 <= reseed_interval <= 1 << 48:
            raise ValueError(f"reseed_interval must be 1 .. 2^48 requests, not {reseed_interval}")
        if not 1 <= max_request_blocks <= 4096:
            raise ValueError(f"max_request_blocks must be 1 .. 4096 (2^19 bits), not {max_request_blocks}")
        self.reseed_interval = reseed_interval
        self.max_request_blocks = max_request_blocks
        self._aes = AesCore(rounds_per_clock)
        #: clocks per 128-bit block within a request (``o.ready`` high)
        self.clocks_per_block = self._aes.clocks_per_block[256]
        key_reload = 1 + self._aes.key_expansion_clocks[256] + 1     # LOAD, expansion, ready seen
        self.reseed_clocks = self._run_clocks(0) + key_reload
        self.self_test_clocks = key_reload + 2 * (self._run_clocks(1) + key_reload)
        self.instantiate_clocks = self.self_test_clocks + key_reload
        self.uninstantiate_clocks = key_reload
        self.power_on_clocks = 1 + self.self_test_clocks    # reset to the edge that ends busy
        super().__init__({
            "command": In(DrbgCommand), "start": In(1), "seed": In(SEED_BITS), "blocks": In(16),
            "inject_fault": In(DrbgFault),
            "o": Out(stream.Signature(128)),
            "busy": Out(1), "done": Out(1), "status": Out(DrbgStatus), "ready_for_use": Out(1),
        })

    def _run_clocks(self, blocks):
        """RUN: ``blocks`` outputs and the Update, from the edge into RUN to the edge out of it."""
        return 1 + self.clocks_per_block * (blocks + UPDATE_BLOCKS) + 1

    def generate_clocks(self, blocks: int) -> int:
        """Clocks from the ``start`` edge of a GENERATE of ``blocks`` blocks to
        the edge that raises ``done``, with ``o.ready`` high."""
        return self._run_clocks(blocks) + 1 + self._aes.key_expansion_clocks[256] + 1

    def elaborate(self, platform):
        m = Module()
        m.submodules.aes = aes = self._aes

        key = Signal(256)
        v = Signal(128)
        seed = Signal(SEED_BITS)              # latched seed material
        phase = Signal(_Phase)
        power_on = Signal(init=1)             # no command accepted yet: the self-test is the power-on one
        instantiated = Signal()               # cleared by a failed health test too
        counter = Signal(range(self.reseed_interval + 2))    # reseed_counter of SP 800-90A
        last_block = Signal(128)              # for the continuous test
        to_send = Signal(range(self.max_request_blocks + UPDATE_BLOCKS + 1))
        to_take = Signal.like(to_send)
        load = Signal(_Load)
        take_seed = Signal()                  # latch the seed input
        clear_seed = Signal()                 # the latched seed has been used

        m.d.comb += [
            aes.key.eq(key), aes.key_size.eq(2), aes.decrypt.eq(0),
            self.ready_for_use.eq(instantiated & (counter <= self.reseed_interval)),
        ]
        m.d.sync += self.done.eq(0)

        def start_self_test():
            m.d.comb += load.eq(_Load.SELF_TEST)
            m.d.sync += phase.eq(_Phase.KAT_INSTANTIATE)
            m.next = "LOAD"

        def start_run(outputs):
            m.d.sync += [to_send.eq(outputs + UPDATE_BLOCKS), to_take.eq(outputs + UPDATE_BLOCKS)]
            m.next = "RUN"

        def finish(status=DrbgStatus.OK):
            m.d.sync += [self.status.eq(status), self.done.eq(1)]
            m.next = "IDLE"

        def zeroize():
            m.d.comb += load.eq(_Load.ZERO)

        def fail():
            zeroize()
            m.d.sync += instantiated.eq(0)
            m.next = "FAILED_ZEROIZE"

        with m.FSM(name="drbg") as fsm:
            with m.State("POWER_ON"):
                start_self_test()

            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += power_on.eq(0)
                    with m.Switch(self.command):
                        with m.Case(DrbgCommand.INSTANTIATE):
                            m.d.comb += take_seed.eq(1)
                            start_self_test()
                        with m.Case(DrbgCommand.RESEED):
                            with m.If(~instantiated):
                                finish(DrbgStatus.NOT_INSTANTIATED)
                            with m.Else():
                                m.d.comb += take_seed.eq(1)
                                m.d.sync += phase.eq(_Phase.RESEED)
                                start_run(0)
                        with m.Case(DrbgCommand.GENERATE):
                            with m.If(~instantiated):
                                finish(DrbgStatus.NOT_INSTANTIATED)
                            with m.Elif(self.blocks > self.max_request_blocks):
                                finish(DrbgStatus.REQUEST_TOO_LARGE)
                            with m.Elif(counter > self.reseed_interval):
                                finish(DrbgStatus.RESEED_REQUIRED)
                            with m.Else():
                                m.d.sync += phase.eq(_Phase.GENERATE)
                                start_run(self.blocks)
                        with m.Case(DrbgCommand.UNINSTANTIATE):
                            zeroize()
                            m.d.sync += phase.eq(_Phase.UNINSTANTIATE)
                            m.next = "LOAD"

            # -- cipher blocks: outputs, then the three Update blocks ----------
            with m.State("RUN"):
                m.d.comb += [aes.i.valid.eq(to_send != 0), aes.i.payload.eq(v + 1)]
                with m.If(aes.i.valid & aes.i.ready):
                    m.d.sync += [v.eq(v + 1), to_send.eq(to_send - 1)]
                taken = Signal()
                m.d.comb += taken.eq(aes.o.valid & aes.o.ready)
                with m.If(taken):
                    m.d.sync += to_take.eq(to_take - 1)

                with m.If(to_take > UPDATE_BLOCKS):              # an output block
                    with m.If(phase == _Phase.GENERATE):
                        block = Signal(128)
                        repeat = Signal()
                        m.d.comb += [
                            block.eq(Mux(self.inject_fault == DrbgFault.STUCK_OUTPUT,
                                         last_block, aes.o.payload)),
                            repeat.eq(block == last_block),
                            self.o.payload.eq(block),
                            self.o.valid.eq(aes.o.valid & ~repeat),
                            aes.o.ready.eq(self.o.ready & ~repeat),
                        ]
                        with m.If(aes.o.valid & repeat):
                            fail()
                        with m.Elif(taken):
                            m.d.sync += last_block.eq(block)
                    with m.Else():                                # the self-test's blocks
                        seen = Signal(128)
                        m.d.comb += [
                            seen.eq(aes.o.payload ^ (self.inject_fault == DrbgFault.CORRUPT_KAT)),
                            aes.o.ready.eq(1),
                        ]
                        expected = Mux(phase == _Phase.KAT_GENERATE_1,
                                       Const(KAT_BLOCKS[0], 128), Const(KAT_BLOCKS[1], 128))
                        with m.If(aes.o.valid):
                            with m.If(seen != expected):
                                fail()
                            with m.Else():
                                m.d.sync += last_block.eq(seen)
                with m.Else():                                    # Update: Key, then V
                    provided = Mux(phase == _Phase.RESEED, seed, 0)
                    m.d.comb += aes.o.ready.eq(1)
                    with m.If(taken):
                        with m.Switch(to_take):
                            with m.Case(3):
                                m.d.sync += key[128:].eq(aes.o.payload ^ provided[256:])
                            with m.Case(2):
                                m.d.sync += key[:128].eq(aes.o.payload ^ provided[128:256])
                            with m.Case(1):
                                m.d.sync += v.eq(aes.o.payload ^ provided[:128])
                                m.d.comb += clear_seed.eq(phase == _Phase.RESEED)
                                m.next = "LOAD"

            # -- key schedule of the new Key, then the next step ------------------
            with m.State("LOAD"):
                m.d.comb += aes.key_load.eq(1)
                m.next = "EXPAND"

            with m.State("EXPAND"):
                with m.If(aes.key_ready):
                    with m.Switch(phase):
                        with m.Case(_Phase.KAT_INSTANTIATE):
                            m.d.sync += phase.eq(_Phase.KAT_GENERATE_1)
                            start_run(1)
                        with m.Case(_Phase.KAT_GENERATE_1):
                            m.d.sync += phase.eq(_Phase.KAT_GENERATE_2)
                            start_run(1)
                        with m.Case(_Phase.KAT_GENERATE_2):
                            with m.If(power_on):
                                m.next = "IDLE"
                            with m.Else():
                                m.d.comb += load.eq(_Load.SEED)
                                m.d.sync += phase.eq(_Phase.INSTANTIATE)
                                m.next = "LOAD"
                        with m.Case(_Phase.INSTANTIATE):
                            m.d.sync += [instantiated.eq(1), counter.eq(1)]
                            finish()
                        with m.Case(_Phase.RESEED):
                            m.d.sync += counter.eq(1)
                            finish()
                        with m.Case(_Phase.GENERATE):
                            m.d.sync += counter.eq(counter + 1)
                            finish()
                        with m.Case(_Phase.UNINSTANTIATE):
                            m.d.sync += [instantiated.eq(0), counter.eq(0)]
                            finish()

            # -- a failed health test: zero key schedule, then refuse everything --
            with m.State("FAILED_ZEROIZE"):
                m.d.comb += aes.key_load.eq(1)
                m.d.sync += [self.status.eq(DrbgStatus.HEALTH_FAILED), self.done.eq(~power_on)]
                m.next = "FAILED"

            with m.State("FAILED"):
                m.d.comb += aes.o.ready.eq(1)
                with m.If(self.start):
                    m.d.sync += [power_on.eq(0), self.done.eq(1)]

        # after the FSM: takes precedence over its partial writes of Key, V, seed
        with m.Switch(load):
            with m.Case(_Load.SELF_TEST):
                m.d.sync += Cat(v, key).eq(INSTANTIATE_ZERO ^ int.from_bytes(KAT_ENTROPY, "big"))
            with m.Case(_Load.SEED):
                m.d.sync += Cat(v, key).eq(INSTANTIATE_ZERO ^ seed)
            with m.Case(_Load.ZERO):
                m.d.sync += [Cat(v, key).eq(0), last_block.eq(0)]
        with m.If(take_seed):
            m.d.sync += seed.eq(self.seed)
        with m.If(clear_seed | (load == _Load.SEED) | (load == _Load.ZERO)):
            m.d.sync += seed.eq(0)

        m.d.comb += self.busy.eq(~fsm.ongoing("IDLE") & ~fsm.ongoing("FAILED"))
        return m
