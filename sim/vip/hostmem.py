# Ref: PCI Local Bus Specification 2.3 sections 2.2.1 (RST#), 3.2.2 (burst order), 3.3 (transfers), 3.3.3.2 (target termination), 3.5 (latency), 3.7 (parity)
"""Host-memory PCI target: the host bridge's memory, serving the card's DMA.

Claims the memory commands MEM_READ, MEM_READ_LINE, MEM_READ_MULTIPLE,
MEM_WRITE and MEM_WRITE_INVALIDATE whose address is in the window
[``base``, ``base + size``); never asserts DEVSEL# for anything else.

Storage is one :class:`amaranth.lib.memory.Memory` of ``size // 4`` 32-bit
words in the submodule attribute ``mem`` (word k = bytes ``base + 4k`` ..
``base + 4k + 3``, little endian: AD[7:0] is the lowest byte). cocotb can
backdoor it as ``dut.<instance>.mem[k]`` (Verilator ``--public-flat-rw``,
Icarus), the Amaranth simulator as ``ctx.get(hostmem.mem.data[k])``.

Behaviour (``A`` = address edge; all responses are registered outputs):

* DEVSEL# sampled asserted at A+1 (``devsel_speed`` 0, fast), A+2 (1, medium)
  or A+3 (2 or 3, slow); DEVSEL#, TRDY# and STOP# are driven (deasserted)
  from A+1, driven deasserted for one clock after the final data phase, then
  released. Read data is driven on AD from the clock after the turnaround
  (A+2 at the earliest) while DEVSEL# is asserted; PAR follows AD one clock
  later, over AD and the sampled C/BE#.
* Zero wait states: first TRDY# at A+1 (write) / A+2 (read) for fast
  decoding, then one data phase per clock for reads and writes (the read
  port's address is steered combinationally to the next word at each data
  transfer, so the next word is on AD right after the transfer edge).
  The master may insert IRDY# wait states; TRDY#, STOP#, DEVSEL# and AD are
  then held. Byte enables (C/BE# of each data phase) select the bytes
  written; reads return the whole word.
* Linear burst order only (AD[1:0] = 00); for any other order the first
  data phase carries STOP# with TRDY# (disconnect after the first phase).
  The window's last word also carries STOP# with TRDY#, so a burst never
  runs past (or wraps around) the end of the window. Such STOP#s are only
  added while FRAME# is asserted at the edge the response is decided.
* Random target behaviour from a xorshift32 LFSR (linear feedback generator,
  deterministic per ``seed``; loaded on the first clock after reset, 0 is
  replaced by a fixed non-zero value), one decision per data phase, taken
  at the address edge (first phase) or at the previous data transfer:

  - with probability ``wait_rate``/256 the phase gets 1..8 (first phase) or
    1..7 (later phases) extra wait states, capped so that TRDY#/STOP# comes
    by A+16 (initial latency) / 8 clocks after the previous completion;
    ``initial_wait`` clocks are added before the first phase's response
    *without* a cap (values that break the 16-clock rule are allowed);
  - first phase: probability ``retry_rate``/256 of Retry (STOP# without
    TRDY#, no data);
  - later phases: probability ``disconnect_rate``/256 of Disconnect, with
    data (TRDY# and STOP#) or without (STOP# only), 50 % each;
  - a data phase whose byte address is in [``abort_lo``, ``abort_hi``) gets
    Target-Abort (DEVSEL# deasserted together with STOP# asserted, no
    TRDY#, at least one clock after DEVSEL# was asserted). Target-Abort
    takes precedence over Retry/Disconnect.

* Parity: the address parity (PAR at A+1) is checked on every address
  phase, claimed or not; an error asserts SERR# (open drain) for one clock
  at A+2. Write data parity is checked on every data transfer; an error
  asserts PERR# two clocks after the data phase (the clock after PAR), for
  one clock, when ``perr_enable`` is 1 (PERR# is driven deasserted the
  following clock, then released). ``parity_errors`` counts both kinds
  whatever ``perr_enable``.

Ports:

==================== ===== ======= ==============================================
port                 dir   width   meaning / timing
==================== ===== ======= ==============================================
``bus``              Out   --      :class:`PciBusSignature` agent port (``_i`` in,
                                   ``_o``/``_oe`` out); drives AD, PAR, TRDY#,
                                   DEVSEL#, STOP#, PERR#, SERR#; never FRAME#,
                                   IRDY#, C/BE#, INTA# (their ``_oe`` are 0)
``devsel_speed``     In    2       0 fast, 1 medium, 2 (or 3) slow
``seed``             In    32      LFSR seed, loaded on the first clock after reset
``wait_rate``        In    8       probability/256 of wait states on a data phase
``initial_wait``     In    5       clocks added before the first TRDY#/STOP#
``retry_rate``       In    8       probability/256 of Retry on the first data phase
``disconnect_rate``  In    8       probability/256 of Disconnect on later phases
``abort_lo``         In    32      byte address, first one that gets Target-Abort
``abort_hi``         In    32      byte address, first one past the abort range
``perr_enable``      In    1       assert PERR# on write data parity errors
``reads``            Out   32      read data phases transferred (IRDY# & TRDY#)
``writes``           Out   32      write data phases transferred
``retries``          Out   32      transactions ended by Retry
``disconnects``      Out   32      transactions ended by Disconnect (random,
                                   window end, non-linear burst order)
``target_aborts``    Out   32      transactions ended by Target-Abort
``parity_errors``    Out   32      address + write-data parity errors detected
==================== ===== ======= ==============================================

RST# (the ``sync`` reset) releases every output asynchronously: all
``_oe`` are 0 from the moment RST# is asserted (not from the next edge), and
the registers behind them are reset at the next edge, so a reset in the
middle of a burst leaves nothing driven (section 2.2.1).

Configuration inputs are sampled continuously (change them only while the
bus is idle); counters count at the edge where the event is sampled on the
bus (termination: the first edge with STOP# and IRDY# asserted) and are
cleared by reset.
"""
from amaranth.hdl import Cat, Const, Module, Mux, ResetSignal, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from pacsim.hdl.pci_protocol import MEMORY_READS, MEMORY_WRITES
from .resolution import PciBusSignature

__all__ = ["HostMemory"]

_SEED_FOR_ZERO = 0x2545F491


class _Response(enum.Enum, shape=3):
    """How the target answers a data phase once its wait states have elapsed."""
    NORMAL = 0             # TRDY# (+ STOP# at the window end / non-linear burst)
    RETRY = 1              # STOP# only, first data phase
    DISCONNECT_DATA = 2    # TRDY# + STOP#
    DISCONNECT_NODATA = 3  # STOP# only, later data phase
    ABORT = 4              # STOP#, DEVSEL# deasserted


class HostMemory(wiring.Component):
    """Host-memory PCI target of ``size`` bytes at byte address ``base``; see module docstring."""

    def __init__(self, base, size):
        if size < 4 or size & (size - 1):
            raise ValueError("size must be a power of two >= 4")
        if base % 4 or base < 0 or base + size > 1 << 32:
            raise ValueError("base must be word aligned and the window inside 4 GiB")
        self.base, self.size, self.words = base, size, size // 4
        super().__init__({
            "bus": Out(PciBusSignature()),
            "devsel_speed": In(2), "seed": In(32), "wait_rate": In(8), "initial_wait": In(5),
            "retry_rate": In(8), "disconnect_rate": In(8),
            "abort_lo": In(32), "abort_hi": In(32), "perr_enable": In(1),
            "reads": Out(32), "writes": Out(32), "retries": Out(32), "disconnects": Out(32),
            "target_aborts": Out(32), "parity_errors": Out(32),
        })
        self.mem = Memory(shape=32, depth=self.words, init=[])
        self._rd = self.mem.read_port()
        self._wr = self.mem.write_port(granularity=8)

    def _in_abort(self, ptr):
        addr = self.base + Cat(Const(0, 2), ptr)
        return (addr >= self.abort_lo) & (addr < self.abort_hi)

    def _respond(self, m, kind, frame, last, nonlinear):
        """(TRDY#, STOP#, DEVSEL#) asserted-flags to drive once a phase's waits are over."""
        trdy, stop, devsel = Signal(), Signal(), Signal(init=1)
        disconnect = (kind == _Response.DISCONNECT_DATA) | (kind == _Response.DISCONNECT_NODATA)
        m.d.comb += [
            trdy.eq((kind == _Response.NORMAL) | (kind == _Response.DISCONNECT_DATA)
                    | ((kind == _Response.DISCONNECT_NODATA) & ~frame)),
            stop.eq((kind == _Response.RETRY) | (kind == _Response.ABORT)
                    | (frame & (disconnect | last | nonlinear))),
            devsel.eq(kind != _Response.ABORT),
        ]
        return trdy, stop, devsel

    def elaborate(self, platform):
        m = Module()
        m.submodules.mem = self.mem
        rd, wr, bus = self._rd, self._wr, self.bus
        aw = len(rd.addr)

        frame, irdy = ~bus.frame_n_i, ~bus.irdy_n_i
        ad, cbe_n, par = bus.ad_i, bus.cbe_n_i, bus.par_i

        # --- registered outputs -------------------------------------------------
        trdy, stop, devsel = Signal(), Signal(), Signal()   # asserted flags
        ctl_oe = Signal()                                   # drive DEVSEL#/TRDY#/STOP#
        ad_oe, par_q, par_oe = Signal(), Signal(), Signal()
        perr_q, perr_oe, serr_q = Signal(), Signal(), Signal()
        live = ~ResetSignal("sync")                         # RST# releases every driver at once
        m.d.comb += [
            bus.ad_o.eq(rd.data), bus.ad_oe.eq(ad_oe & live),
            bus.par_o.eq(par_q), bus.par_oe.eq(par_oe & live),
            bus.trdy_n_o.eq(~trdy), bus.trdy_n_oe.eq(ctl_oe & live),
            bus.stop_n_o.eq(~stop), bus.stop_n_oe.eq(ctl_oe & live),
            bus.devsel_n_o.eq(~devsel), bus.devsel_n_oe.eq(ctl_oe & live),
            bus.perr_n_o.eq(~perr_q), bus.perr_n_oe.eq(perr_oe & live),
            bus.serr_n_oe.eq(serr_q & live),
        ]

        # --- random numbers: xorshift32 ---------------------------------------
        rnd, seeded = Signal(32, init=_SEED_FOR_ZERO), Signal()
        x1 = rnd ^ (rnd << 13)[:32]
        x2 = x1 ^ (x1 >> 17)
        x3 = x2 ^ (x2 << 5)[:32]
        with m.If(seeded):
            m.d.sync += rnd.eq(x3)
        with m.Else():
            m.d.sync += [rnd.eq(Mux(self.seed == 0, _SEED_FOR_ZERO, self.seed)), seeded.eq(1)]
        wait_hit = rnd[0:8] < self.wait_rate
        wait_draw = rnd[8:11] + 1                          # 1..8
        stop_draw = rnd[11:19]
        with_data = rnd[19]

        # --- address decode ----------------------------------------------------
        prev_idle = Signal(init=1)
        m.d.sync += prev_idle.eq(~frame & ~irdy)
        addr_edge = frame & prev_idle
        is_read = Cat(*(cbe_n == c.value for c in MEMORY_READS)).any()
        is_write = Cat(*(cbe_n == c.value for c in MEMORY_WRITES)).any()
        in_window = (ad >= self.base) & (ad < self.base + self.size)
        offset = Signal(aw)
        m.d.comb += offset.eq((ad - self.base)[2:2 + aw])

        # --- first data phase decision (at the address edge) -------------------
        speed = Mux(self.devsel_speed == 3, 2, self.devsel_speed)
        devsel_lat = speed + 1                              # DEVSEL# sampled at A+devsel_lat
        abort_first = self._in_abort(offset)
        min_first = Mux(abort_first, devsel_lat + 1,
                        Mux(is_read & (devsel_lat < 2), 2, devsel_lat))
        e0 = Signal(6)
        budget = Signal(5)
        w0 = Signal(4)
        len_first = Signal(7)                               # response sampled at A+len_first
        m.d.comb += [
            e0.eq(min_first + self.initial_wait),
            budget.eq(Mux(e0 >= 16, 0, 16 - e0)),
            w0.eq(Mux(wait_hit, Mux(wait_draw > budget, budget, wait_draw), 0)),
            len_first.eq(e0 + w0),
        ]
        kind_first = Signal(_Response)
        with m.If(abort_first):
            m.d.comb += kind_first.eq(_Response.ABORT)
        with m.Elif(stop_draw < self.retry_rate):
            m.d.comb += kind_first.eq(_Response.RETRY)
        with m.Else():
            m.d.comb += kind_first.eq(_Response.NORMAL)

        # --- later data phase decision (at a data transfer) --------------------
        ptr = Signal(aw)                                    # word of the current data phase
        ptr_next = Signal(aw)
        m.d.comb += ptr_next.eq(ptr + 1)
        len_next = Mux(wait_hit, Mux(wait_draw > 7, 7, wait_draw), 0) + 1
        kind_next = Signal(_Response)
        with m.If(self._in_abort(ptr_next)):
            m.d.comb += kind_next.eq(_Response.ABORT)
        with m.Elif(stop_draw < self.disconnect_rate):
            m.d.comb += kind_next.eq(Mux(with_data, _Response.DISCONNECT_DATA,
                                         _Response.DISCONNECT_NODATA))
        with m.Else():
            m.d.comb += kind_next.eq(_Response.NORMAL)

        # --- transaction state machine -----------------------------------------
        writing = Signal()                                  # claimed transaction is a write
        nonlinear = Signal()                                # burst order != linear, first phase
        first = Signal()                                    # in the first data phase
        kind = Signal(_Response)                            # decided response of this phase
        cnt = Signal(7)                                     # edges until the response is due
        dcnt = Signal(2)                                    # edges until DEVSEL# is due
        stop_counted = Signal()

        last = ptr == self.words - 1
        xfer = Signal()                                     # data transferred at this edge
        resp_first = self._respond(m, kind_first, frame, offset == self.words - 1, ad[0:2] != 0)
        resp_next = self._respond(m, kind_next, frame, ptr_next == self.words - 1, 0)
        resp_due = self._respond(m, kind, frame, last, nonlinear)

        def drive(flags):
            return [trdy.eq(flags[0]), stop.eq(flags[1]), devsel.eq(flags[2])]

        def release():
            return [trdy.eq(0), stop.eq(0), devsel.eq(0), ad_oe.eq(0)]

        m.d.comb += rd.addr.eq(ptr)
        with m.FSM(init="IDLE") as fsm:
            with m.State("IDLE"):
                m.d.comb += rd.addr.eq(offset)
                with m.If(addr_edge & in_window & (is_read | is_write)):
                    m.d.sync += [
                        ptr.eq(offset), writing.eq(is_write), nonlinear.eq(ad[0:2] != 0),
                        first.eq(1), kind.eq(kind_first), stop_counted.eq(0),
                        dcnt.eq(speed), devsel.eq(speed == 0), ctl_oe.eq(1),
                        cnt.eq(len_first - 1),
                    ]
                    with m.If(len_first == 1):
                        m.d.sync += drive(resp_first)
                    m.next = "DATA"
            with m.State("DATA"):
                m.d.comb += xfer.eq(irdy & trdy)
                with m.If(~writing & (devsel | (dcnt == 1))):
                    m.d.sync += ad_oe.eq(1)
                with m.If(~frame & ~irdy):                  # master vanished: give up
                    m.d.sync += release()
                    m.next = "TURN"
                with m.Elif(irdy & (trdy | stop) & ~frame):  # final data phase completed
                    m.d.sync += release()
                    m.next = "TURN"
                with m.Elif(stop):                          # terminating: hold STOP# until the end
                    with m.If(irdy):
                        m.d.sync += trdy.eq(0)
                with m.Else():
                    with m.If(dcnt != 0):
                        m.d.sync += dcnt.eq(dcnt - 1)
                        with m.If(dcnt == 1):
                            m.d.sync += devsel.eq(1)
                    with m.If(xfer):
                        m.d.comb += rd.addr.eq(ptr_next)
                        m.d.sync += [ptr.eq(ptr_next), first.eq(0), nonlinear.eq(0),
                                     kind.eq(kind_next), cnt.eq(len_next - 1)]
                        with m.If(len_next == 1):
                            m.d.sync += drive(resp_next)
                        with m.Else():
                            m.d.sync += trdy.eq(0)
                    with m.Elif(cnt == 1):
                        m.d.sync += drive(resp_due)
                        m.d.sync += cnt.eq(0)
                    with m.Elif(cnt != 0):
                        m.d.sync += cnt.eq(cnt - 1)
            with m.State("TURN"):                           # s/t/s driven high one clock
                m.d.sync += ctl_oe.eq(0)
                m.next = "IDLE"

        # --- write port: one word per data transfer, byte enables from C/BE# ---
        m.d.comb += [
            wr.addr.eq(ptr),
            wr.data.eq(ad),
            wr.en.eq(Mux(xfer & writing, ~cbe_n, 0)),
        ]

        # --- parity --------------------------------------------------------------
        addr_chk, addr_par = Signal(), Signal()
        data_chk, data_par = Signal(), Signal()
        m.d.sync += [
            par_q.eq(Cat(rd.data, cbe_n).xor()), par_oe.eq(ad_oe),
            addr_chk.eq(addr_edge), addr_par.eq(Cat(ad, cbe_n).xor()),
            data_chk.eq(xfer & writing), data_par.eq(Cat(ad, cbe_n).xor()),
        ]
        addr_err = addr_chk & (par != addr_par)
        data_err = data_chk & (par != data_par)
        m.d.sync += [
            serr_q.eq(addr_err),
            perr_q.eq(data_err & self.perr_enable),
            perr_oe.eq((data_err & self.perr_enable) | perr_q),
        ]

        # --- status counters -----------------------------------------------------
        counters = {name: Signal(32, name=f"n_{name}") for name in
                    ("reads", "writes", "retries", "disconnects", "target_aborts", "parity_errors")}
        for name, sig in counters.items():
            m.d.comb += getattr(self, name).eq(sig)
        with m.If(xfer):
            with m.If(writing):
                m.d.sync += counters["writes"].eq(counters["writes"] + 1)
            with m.Else():
                m.d.sync += counters["reads"].eq(counters["reads"] + 1)
        with m.If(fsm.ongoing("DATA") & irdy & stop & ~stop_counted):
            m.d.sync += stop_counted.eq(1)
            with m.If(~devsel):
                m.d.sync += counters["target_aborts"].eq(counters["target_aborts"] + 1)
            with m.Elif(first & ~trdy):
                m.d.sync += counters["retries"].eq(counters["retries"] + 1)
            with m.Else():
                m.d.sync += counters["disconnects"].eq(counters["disconnects"] + 1)
        with m.If(addr_err | data_err):
            m.d.sync += counters["parity_errors"].eq(counters["parity_errors"] + addr_err + data_err)
        return m
