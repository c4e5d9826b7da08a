# Ref: PCI Local Bus Specification 2.3 sections 2.2.1 (RST#: REQ#/GNT# tri-stated), 3.4 (arbitration), 3.5.4 (latency timer)
"""Central PCI arbiter: round-robin, bus parking, optional preemption.

Policy, evaluated at every rising edge (all inputs are bus levels sampled at
that edge; GNT# changes become visible at the next edge):

* Exactly one master owns the grant at any time; GNT# is asserted to it
  (never to two masters at once). After reset the bus is parked on master 0.
* The grant moves to the next requesting master in round-robin order
  (owner+1, owner+2, ... modulo ``n``) when another master requests and

  - the owner does not request (REQ# deasserted), or
  - the owner has started a transaction since it got GNT# and that
    transaction ends (final data phase completes) or the bus is idle, i.e.
    each master gets one transaction per turn, or
  - ``preempt`` != 0 and the owner's GNT# has been sampled asserted at
    ``preempt`` edges (GNT# is then deasserted from the next edge on, usually
    in the middle of the owner's transaction, which the owner's latency
    timer must honour).

* Moving the grant while the bus is busy (FRAME# or IRDY# asserted) swaps
  GNT# in one clock; while the bus is idle it first deasserts every GNT# for
  one clock, so that a parked master stops driving AD/C/BE#/PAR before the
  new master may start.
* With no request the grant stays on the last owner (bus parking).
* While RST# (the ``sync`` reset) is asserted no GNT# is asserted and REQ#
  is ignored (section 2.2.1); GNT# is released combinationally, in the very
  clock RST# is asserted, not at the next edge. The first edge after RST#
  parks the bus on master 0 again.

Ports (``n`` masters; bit k of the vectors is master k):

================ ===== ========== ================================================
port             dir   width      meaning / timing
================ ===== ========== ================================================
``req_n``        In    ``n``      REQ# levels, 0 = requesting
``gnt_n``        Out   ``n``      GNT# levels, 0 = granted; registered, all 1
                                  while RST# is asserted (asynchronously)
``frame_n``      In    1          resolved FRAME#
``irdy_n``       In    1          resolved IRDY#
``trdy_n``       In    1          resolved TRDY#
``stop_n``       In    1          resolved STOP#
``preempt``      In    16         clocks of GNT# after which a requesting competitor
                                  preempts the owner; 0 = never
``owner``        Out   range(n)   master owning the grant (during the no-GNT# clock
                                  still the previous owner)
``granted``      Out   1          1 while GNT# is asserted to ``owner`` (0 in RST#)
``grants[k]``    Out   32         number of times GNT# was newly asserted to master k
                                  (master 0's parked grant out of reset not counted)
================ ===== ========== ================================================
"""
from amaranth.hdl import Cat, Module, Mux, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Arbiter"]


class Arbiter(wiring.Component):
    """Round-robin PCI arbiter for ``n`` masters; see the module docstring for ports."""

    def __init__(self, n):
        if n < 1:
            raise ValueError("need at least one master")
        self.n = n
        super().__init__({
            "req_n": In(n, init=(1 << n) - 1),
            "gnt_n": Out(n, init=((1 << n) - 1) & ~1),
            "frame_n": In(1, init=1),
            "irdy_n": In(1, init=1),
            "trdy_n": In(1, init=1),
            "stop_n": In(1, init=1),
            "preempt": In(16),
            "owner": Out(range(n)),
            "granted": Out(1, init=1),
            "grants": Out(32).array(n),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.n
        owner = Signal(range(n))
        pending = Signal(range(n))      # next owner, during the no-GNT# clock
        held = Signal(16)               # earlier edges at which GNT# was sampled asserted to owner
        used = Signal()                 # owner started a transaction since it got GNT#
        prev_idle = Signal(init=1)
        grants = [Signal(32, name=f"grants_{k}") for k in range(n)]

        reqs = ~self.req_n
        idle = self.frame_n & self.irdy_n
        start = ~self.frame_n & prev_idle
        final = self.frame_n & ~self.irdy_n & ~(self.trdy_n & self.stop_n)
        m.d.sync += prev_idle.eq(idle)

        others = Signal(n)
        m.d.comb += others.eq(reqs & ~Cat(*(owner == k for k in range(n))))
        nxt = Signal(range(n))          # first requester after the owner, round robin
        with m.Switch(owner):
            for o in range(n):
                with m.Case(o):
                    for k in reversed(range(1, n)):
                        with m.If(reqs[(o + k) % n]):
                            m.d.comb += nxt.eq((o + k) % n)

        owner_req = (reqs >> owner)[0]
        preempted = (self.preempt != 0) & (held + 1 >= self.preempt)   # incl. this edge
        switch = (others != 0) & (~owner_req | (used & (final | idle)) | preempted)

        with m.FSM(init="GRANT") as fsm:
            with m.State("GRANT"):
                m.d.sync += [
                    held.eq(Mux(held == 0xFFFF, held, held + 1)),
                    used.eq(used | (start & (held != 0))),
                ]
                with m.If(switch & idle):
                    m.d.sync += pending.eq(nxt)
                    m.next = "GAP"
                with m.Elif(switch):
                    m.d.sync += [owner.eq(nxt), held.eq(0), used.eq(0)]
                    for k in range(n):
                        with m.If(nxt == k):
                            m.d.sync += grants[k].eq(grants[k] + 1)
            with m.State("GAP"):
                m.d.sync += [owner.eq(pending), held.eq(0), used.eq(0)]
                for k in range(n):
                    with m.If(pending == k):
                        m.d.sync += grants[k].eq(grants[k] + 1)
                m.next = "GRANT"

        granted = Signal()
        m.d.comb += granted.eq(fsm.ongoing("GRANT") & ~ResetSignal("sync"))
        m.d.comb += [
            self.gnt_n.eq(~Cat(*(granted & (owner == k) for k in range(n)))),
            self.owner.eq(owner),
            self.granted.eq(granted),
        ]
        for k in range(n):
            m.d.comb += self.grants[k].eq(grants[k])
        return m
