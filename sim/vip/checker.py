# Ref: PCI Local Bus Specification 2.3 sections 2.2.1 (RST#), 3.2-3.8 (protocol rules), 3.4 (arbitration)
"""Passive PCI protocol checker (HDL: it evaluates every rising edge).

Watches the resolved bus and the per-signal driver masks produced by
:class:`~pacsim.sim.vip.resolution.BusResolver`, plus the GNT# vector, and
records violations of the rules listed in :class:`~pacsim.sim.vip.rules.Rule`
(the rule ids, descriptions and exact conditions are documented there and in
the ``_rules`` method below). Python only reads the status outputs, e.g. once
at the end of a test.

Conventions: every signal is sampled at the rising edge of ``sync`` (CLK);
the ``A`` is the *address edge* (FRAME# sampled asserted after an idle edge,
idle = FRAME# and IRDY# deasserted); a data phase *completes* at an edge
where IRDY# and (TRDY# or STOP#) are asserted; the *final* data phase
completes with FRAME# deasserted, which ends the transaction (a transaction
also ends at an idle edge, e.g. after master-abort). A master-abort is
recognised when no DEVSEL# was sampled at A+1..A+4.

Ports (``n_agents`` = agents on the resolver, ``n_masters`` = agents 0 ..
``n_masters``-1, which are also arbiter masters 0 .. ``n_masters``-1):

======================= ===== ============== ===========================================
port                    dir   width          meaning / timing
======================= ===== ============== ===========================================
``bus.<s>``             In    signal width   resolved bus level (ResolvedBusSignature)
``bus.<s>_drv``         In    ``n_agents``   driver mask of signal ``s``
``gnt_n``               In    ``n_masters``  GNT# levels (bit k = master k), 0 = granted
``req_n``               In    ``n_masters``  REQ# levels (bit k = master k), 0 = requesting
``xz``                  In    1              X/Z seen (``xz_seen`` of xcheck.v), 0 in 2-state
``clear``               In    1              synchronous clear of violations/first_*/count
``violations``          Out   ``len(Rule)``  sticky, bit r = rule r violated at some edge
``first_rule``          Out   5              rule of the first violation (lowest id if tie)
``first_cycle``         Out   32             ``cycle`` value just after the first violating edge
``count``               Out   32             number of edges at which >= 1 rule fired
``cycle``               Out   32             rising edges since power-on (free running)
======================= ===== ============== ===========================================

``violations``, ``first_*``, ``count`` and ``cycle`` are *not* cleared by RST#
(``sync`` reset) so that :data:`Rule.DRIVE_IN_RESET` survives the reset; use
``clear`` between tests. While RST# is asserted only the
:data:`~pacsim.sim.vip.rules.RESET_RULES` are evaluated, at every edge of the
reset, the first one included (an agent that releases its outputs only at the
first edge of the reset, a synchronous reset, is caught there): DRIVE_IN_RESET
(any ``_drv`` mask non-zero, SERR#/INTA# included) and ARBITRATION_IN_RESET
(any REQ# or GNT# asserted); the other rules are not evaluated in reset.

X/Z detection: Verilator (and Amaranth's simulator) are 2-state, so
XZ_ON_BUS can only fire on a 4-state simulator (Icarus) where the top
instantiates :class:`~pacsim.sim.vip.xcheck.XCheck` and wires its ``xz_seen``
to ``xz``; elsewhere tie ``xz`` to 0.
"""
from amaranth.hdl import Cat, Module, Mux, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from pacsim.hdl.pci_port import OPEN_DRAIN_SIGNALS, TRISTATE_SIGNALS
from .resolution import PULL_UP_SIGNALS, ResolvedBusSignature
from .rules import RESET_RULES, Rule

__all__ = ["ProtocolChecker"]


def _more_than_one(vec):
    """1 when more than one bit of ``vec`` is set."""
    return (vec & (vec - 1)[:len(vec)]) != 0


class ProtocolChecker(wiring.Component):
    """Passive checker of the shared PCI bus; see the module docstring for ports."""

    def __init__(self, n_agents, n_masters):
        if not 1 <= n_masters <= n_agents:
            raise ValueError("need 1 <= n_masters <= n_agents")
        self.n_agents = n_agents
        self.n_masters = n_masters
        super().__init__({
            "bus": In(ResolvedBusSignature(n_agents)),
            "gnt_n": In(n_masters, init=(1 << n_masters) - 1),
            "req_n": In(n_masters, init=(1 << n_masters) - 1),
            "xz": In(1),
            "clear": In(1),
            "violations": Out(len(Rule)),
            "first_rule": Out(range(len(Rule))),
            "first_cycle": Out(32),
            "count": Out(32),
            "cycle": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        fire = self._rules(m)
        assert set(fire) == set(Rule), "every rule needs a condition"

        rst = ResetSignal("sync")
        fired = Signal(len(Rule))
        for rule, cond in fire.items():
            gate = rst if rule in RESET_RULES else ~rst
            m.d.comb += fired[rule].eq(cond & gate)
        lowest = Signal(range(len(Rule)))
        for rule in reversed(Rule):
            with m.If(fired[rule]):
                m.d.comb += lowest.eq(rule)

        # Status registers survive RST# (reset_less); ``clear`` resets them.
        violations = Signal(len(Rule), reset_less=True)
        first_rule = Signal(range(len(Rule)), reset_less=True)
        first_cycle = Signal(32, reset_less=True)
        count = Signal(32, reset_less=True)
        cycle = Signal(32, reset_less=True)
        m.d.sync += cycle.eq(cycle + 1)
        with m.If(self.clear):
            m.d.sync += [violations.eq(0), first_rule.eq(0), first_cycle.eq(0), count.eq(0)]
        with m.Elif(fired != 0):
            m.d.sync += [violations.eq(violations | fired), count.eq(count + 1)]
            with m.If(violations == 0):
                m.d.sync += [first_rule.eq(lowest), first_cycle.eq(cycle + 1)]
        m.d.comb += [
            self.violations.eq(violations), self.first_rule.eq(first_rule),
            self.first_cycle.eq(first_cycle), self.count.eq(count), self.cycle.eq(cycle),
        ]
        return m

    def _rules(self, m):
        """Transaction tracking plus one condition per :class:`Rule` at the current edge."""
        b = self.bus
        f, i, t, s, d = (~b.frame_n, ~b.irdy_n, ~b.trdy_n, ~b.stop_n, ~b.devsel_n)

        # Samples of the previous edge.
        f_p, i_p, t_p, s_p, d_p = (Signal(name=f"{n}_p") for n in ("f", "i", "t", "s", "d"))
        ad_p, cbe_p = Signal(32), Signal(4)
        gnt_p = Signal(self.n_masters)
        xz_p = Signal()
        m.d.sync += [f_p.eq(f), i_p.eq(i), t_p.eq(t), s_p.eq(s), d_p.eq(d),
                     ad_p.eq(b.ad), cbe_p.eq(b.cbe_n), gnt_p.eq(~self.gnt_n), xz_p.eq(self.xz)]
        drv_p, lvl_p = {}, {}
        for name in TRISTATE_SIGNALS:
            drv_p[name] = Signal(self.n_agents, name=f"{name}_drv_p")
            m.d.sync += drv_p[name].eq(getattr(b, f"{name}_drv"))
        for name in PULL_UP_SIGNALS:
            lvl_p[name] = Signal(init=1, name=f"{name}_p")
            m.d.sync += lvl_p[name].eq(getattr(b, name))

        # Transaction state (as it stands before the current edge is taken into account).
        txn = Signal()                 # a transaction started at an earlier edge and has not ended
        since = Signal(range(8))       # edges since the address edge (saturating)
        dev_seen = Signal()            # DEVSEL# sampled asserted at an earlier edge of this transaction
        ma = Signal()                  # master-abort: no DEVSEL# at A+1..A+4
        pcnt = Signal(range(32))       # edges since the current data phase began (saturating)
        first_phase = Signal()         # the current data phase is the transaction's first
        ts_seen = Signal()             # TRDY# or STOP# seen earlier in the current data phase
        irdy_seen = Signal()           # IRDY# seen earlier in the current data phase
        write = Signal()               # command bit 0 at the address edge (1 = write)

        idle = ~f & ~i
        prev_idle = ~f_p & ~i_p
        start = f & ~f_p
        complete = txn & i & (t | s)
        final = complete & ~f
        phase_start = start | complete
        m.d.sync += [
            txn.eq(start | (txn & ~final & ~idle)),
            since.eq(Mux(start, 1, Mux(since == 7, 7, since + 1))),
            dev_seen.eq(~start & (dev_seen | (txn & d))),
            ma.eq(~start & (ma | (txn & (since == 4) & ~dev_seen & ~d))),
            pcnt.eq(Mux(phase_start, 1, Mux(pcnt == 31, 31, pcnt + 1))),
            first_phase.eq(start | (first_phase & ~complete)),
            ts_seen.eq(~phase_start & (ts_seen | t | s)),
            irdy_seen.eq(~phase_start & (irdy_seen | i)),
            write.eq(Mux(start, b.cbe_n[0], write)),
        ]

        gnt_by_agent = Cat(gnt_p, Signal(self.n_agents - self.n_masters))
        any_drv = Cat(*(getattr(b, f"{n}_drv") != 0
                        for n in (*TRISTATE_SIGNALS, *OPEN_DRAIN_SIGNALS))).any()
        multi = Cat(*(_more_than_one(getattr(b, f"{n}_drv")) for n in TRISTATE_SIGNALS)).any()
        turnaround = Cat(*(
            (drv_p[n] != 0) & (getattr(b, f"{n}_drv") != 0) & ((getattr(b, f"{n}_drv") & ~drv_p[n]) != 0)
            for n in TRISTATE_SIGNALS)).any()
        sts_release = Cat(*(
            (drv_p[n] != 0) & (getattr(b, f"{n}_drv") == 0) & ~lvl_p[n]
            for n in PULL_UP_SIGNALS)).any()
        wait_write = write & i_p & ~t_p & ~s_p & i
        wait_read = ~write & t_p & ~i_p & t

        return {
            Rule.FRAME_WITHOUT_IRDY: f_p & ~f & ~i,
            Rule.IRDY_OUTSIDE_TRANSACTION: i & ~txn,
            Rule.IRDY_RELEASED_EARLY: txn & i_p & ~t_p & ~s_p & ~i & ~ma,
            Rule.TARGET_WITHOUT_DEVSEL: txn & ~d & (t | (s & ~dev_seen)),
            Rule.DEVSEL_LATE: txn & d & ~dev_seen & (since >= 5),
            Rule.MASTER_ABORT_MISSING: txn & ma & ((f & (since >= 5)) | (i & (since >= 6))),
            Rule.DEVSEL_DROPPED: txn & d_p & ~d & ~s & ~idle,
            Rule.TARGET_NOT_HELD: txn & ~idle & (
                ((t_p | s_p) & ~i_p & ((t ^ t_p) | (s ^ s_p))) | (s_p & ~s)),
            Rule.TARGET_SIGNAL_IDLE: ~txn & (d | t | s),
            Rule.TARGET_INITIAL_LATENCY: txn & first_phase & (pcnt == 17) & ~ts_seen & ~ma,
            Rule.TARGET_SUBSEQUENT_LATENCY: txn & ~first_phase & (pcnt == 9) & ~ts_seen,
            Rule.MASTER_LATENCY: txn & (pcnt == 9) & ~irdy_seen,
            Rule.AD_UNSTABLE: txn & (wait_write | wait_read) & (b.ad != ad_p),
            Rule.CBE_UNSTABLE: txn & i_p & ~t_p & ~s_p & i & (b.cbe_n != cbe_p),
            Rule.PARITY: (b.par_drv != 0) & (drv_p["ad"] != 0) & (b.par != Cat(ad_p, cbe_p).xor()),
            Rule.MULTIPLE_DRIVERS: multi,
            Rule.TURNAROUND: turnaround,
            Rule.STS_RELEASED_ASSERTED: sts_release,
            Rule.START_WITHOUT_GNT: start & ((b.frame_n_drv & ~gnt_by_agent) != 0),
            Rule.NO_IDLE_BEFORE_ADDRESS: start & ~prev_idle,
            Rule.MULTIPLE_GNT: _more_than_one(~self.gnt_n),
            Rule.DRIVE_IN_RESET: any_drv,
            Rule.ARBITRATION_IN_RESET: (~self.gnt_n != 0) | (~self.req_n != 0),
            Rule.XZ_ON_BUS: self.xz & ~xz_p,
        }
