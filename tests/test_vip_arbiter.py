"""Central arbiter (sim/vip/arbiter.py) against a cycle-level multi-master bus model.

The model drives FRAME#/IRDY#/TRDY#/STOP# and REQ# directly: a master keeps
REQ# asserted while it has queued work or its transaction runs; with queued
work it starts a transaction (address clock, then one data phase per
clock) when it samples GNT# asserted on an idle bus; a transaction ends
early when the master's latency timer has expired and its GNT# is gone (the
rest is re-queued). Every edge the invariants are checked.
"""
import random
from collections import deque

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

from pacsim.sim.vip.arbiter import Arbiter


def simulate(n, work, edges, preempt=0, lt=None, arrivals=None):
    """``work[m]``: list of burst lengths queued at reset; ``arrivals``: {edge: (m, len)}.
    Returns a trace dict (gnt per edge, starts, completion info)."""
    arb = Arbiter(n)
    sim = Simulator(arb)
    sim.add_clock(1e-6)
    lt = lt or [1 << 20] * n
    arrivals = arrivals or {}
    trace = {"gnt": [], "idle": [], "starts": [], "phases": [0] * n, "grants": None}

    async def tb(ctx):
        ctx.set(arb.preempt, preempt)
        queues = [deque(w) for w in work]
        cur, left, since, last = None, 0, 0, False
        frame_n = irdy_n = 1
        for edge in range(1, edges + 1):
            if edge in arrivals:
                m, length = arrivals[edge]
                queues[m].append(length)
            ctx.set(arb.frame_n, frame_n)
            ctx.set(arb.irdy_n, irdy_n)
            ctx.set(arb.trdy_n, irdy_n)
            # REQ#: asserted while work is queued or the master's transaction runs
            ctx.set(arb.req_n, sum((not queues[m] and cur != m) << m for m in range(n)))
            gnt_n = ctx.get(arb.gnt_n)
            await ctx.tick()
            granted = [m for m in range(n) if not gnt_n >> m & 1]
            idle = frame_n and irdy_n
            trace["gnt"].append(granted)
            trace["idle"].append(idle)
            # advance the bus model past this edge
            if cur is not None and not irdy_n:          # a data phase completed
                trace["phases"][cur] += 1
                left -= 1
                if frame_n:                              # that was the final one
                    if left:
                        queues[cur].appendleft(left)
                    cur = None
            if cur is None:
                frame_n = irdy_n = 1
                starters = [m for m in granted if queues[m]] if idle else []
                if starters:
                    cur, = starters
                    left, since, last = queues[cur].popleft(), 0, False
                    frame_n = 0
                    trace["starts"].append((edge + 1, cur))
            else:
                since += 1
                if left == 1 or (since >= lt[cur] and cur not in granted):
                    last = True
                frame_n, irdy_n = int(last), 0
        trace["grants"] = [ctx.get(arb.grants[m]) for m in range(n)]

    sim.add_testbench(tb)
    sim.run()
    return trace


def check_invariants(trace):
    gnt, idle = trace["gnt"], trace["idle"]
    for e in range(1, len(gnt)):
        assert len(gnt[e]) <= 1, f"two GNT# at edge {e}"
        if gnt[e - 1] and gnt[e] and gnt[e - 1] != gnt[e]:
            assert not idle[e - 1], f"grant moved on an idle bus without a gap at edge {e}"


def test_parks_on_master0_after_reset():
    trace = simulate(3, [[], [], []], 20)
    assert all(g == [0] for g in trace["gnt"])
    assert trace["grants"] == [0, 0, 0]


def test_round_robin_one_transaction_per_turn():
    trace = simulate(3, [[2] * 6, [3] * 6, [1] * 6], 200)
    check_invariants(trace)
    order = [m for _, m in trace["starts"]]
    assert order == [0, 1, 2] * 6
    assert trace["phases"] == [12, 18, 6]
    assert trace["grants"] == [5, 6, 6]            # master 0 started with the parked grant


def test_idle_handover_has_one_clock_without_gnt_and_parks_on_last():
    trace = simulate(3, [[], [], []], 40, arrivals={5: (2, 2)})
    check_invariants(trace)
    gnt = trace["gnt"]
    moved = next(e for e, g in enumerate(gnt) if g != [0])
    assert gnt[moved] == [] and gnt[moved + 1] == [2]
    assert trace["starts"] == [(moved + 3, 2)]     # GNT# seen on an idle bus, FRAME# next
    assert all(g == [2] for g in gnt[moved + 1:])   # parked on the last owner


@pytest.mark.parametrize("preempt", [0, 10, 25])
def test_preempt_exercises_latency_timer(preempt):
    trace = simulate(2, [[100], [2]], 160, preempt=preempt, lt=[16, 16])
    check_invariants(trace)
    gnt0 = [0 in g for g in trace["gnt"]]
    held = gnt0.index(False)                        # edges with GNT# to master 0 from reset
    first_burst = trace["starts"][1][0] - trace["starts"][0][0]
    if preempt == 0:
        assert held > 100 and trace["starts"][1][1] == 1 and first_burst > 100
    else:
        assert held == preempt
        assert first_burst < 30                     # cut by master 0's latency timer
        assert [m for _, m in trace["starts"][:3]] == [0, 1, 0]
    assert trace["phases"] == [100, 2]


def test_random_traffic_no_starvation():
    rng = random.Random(3)
    n = 4
    arrivals = {e: (rng.randrange(n), rng.randint(1, 12)) for e in range(1, 1500, 7)}
    trace = simulate(n, [[] for _ in range(n)], 2500, preempt=20, lt=[8, 16, 24, 32],
                     arrivals=arrivals)
    check_invariants(trace)
    wanted = [0] * n
    for m, length in arrivals.values():
        wanted[m] += length
    assert trace["phases"] == wanted               # every queued data phase was served


def test_rst_releases_gnt_at_once_and_ignores_req():
    """PCI 2.3 section 2.2.1: no GNT# while RST# is asserted, from the clock RST#
    is asserted on (also in the middle of a granted master's burst, with every
    master requesting), and REQ# is ignored until RST# goes; then the bus is
    parked on master 0 again."""
    n = 3
    m = Module()
    m.domains.sync = cd = ClockDomain("sync")
    m.submodules.arb = arb = Arbiter(n)
    sim = Simulator(m)
    sim.add_clock(1e-6)
    seen = {"before": [], "reset": [], "after": []}

    async def tb(ctx):
        ctx.set(arb.req_n, 0b101)                   # master 1 requests, gets the bus
        for _ in range(3):
            await ctx.tick()
        ctx.set(arb.frame_n, 0)                     # ... and bursts: FRAME#, IRDY# asserted
        ctx.set(arb.irdy_n, 0)
        ctx.set(arb.trdy_n, 0)
        ctx.set(arb.req_n, 0b000)                   # everybody wants the bus
        for _ in range(2):
            seen["before"].append((ctx.get(arb.gnt_n), ctx.get(arb.granted)))
            await ctx.tick()
        ctx.set(cd.rst, 1)                          # RST# in the middle of the burst
        for _ in range(5):
            seen["reset"].append((ctx.get(arb.gnt_n), ctx.get(arb.granted)))
            await ctx.tick()
        for name in ("frame_n", "irdy_n", "trdy_n"):   # the bus was released in reset
            ctx.set(getattr(arb, name), 1)
        ctx.set(cd.rst, 0)
        for _ in range(2):
            seen["after"].append((ctx.get(arb.gnt_n), ctx.get(arb.granted)))
            await ctx.tick()

    sim.add_testbench(tb)
    sim.run()
    assert seen["before"] == [(0b101, 1)] * 2       # the burst runs with GNT# to master 1
    assert seen["reset"] == [(0b111, 0)] * 5        # first clock of RST# included
    assert seen["after"] == [(0b110, 1)] * 2        # parked on master 0, which requests


def test_converts_to_verilog():
    for n in (1, 3):
        assert "module arb" in verilog.convert(Arbiter(n), name="arb")
