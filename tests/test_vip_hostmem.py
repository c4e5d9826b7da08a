"""Host-memory PCI target (sim/vip/hostmem.py), driven by a cycle-level Python initiator.

The bench: BusResolver(2) (agent 0 = the Python initiator below, agent 1 =
HostMemory), Arbiter(1) and ProtocolChecker(2, 1) watching the bus; every
test of legal traffic also asserts the checker stayed clean.
"""
import random
from dataclasses import dataclass, field

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.lib import wiring
from amaranth.sim import Simulator

from pacsim.hdl.pci_protocol import PciCommand, even_parity
from pacsim.sim.vip.arbiter import Arbiter
from pacsim.sim.vip.checker import ProtocolChecker
from pacsim.sim.vip.hostmem import HostMemory
from pacsim.sim.vip.resolution import BusResolver
from pacsim.sim.vip.rules import Rule

BASE = 0x0010_0000
SIZE = 4096
WORDS = SIZE // 4
RD, WR = PciCommand.MEM_READ.value, PciCommand.MEM_WRITE.value
#: Host memory's driver enables (it never drives FRAME#, IRDY#, C/BE#, INTA#).
HOSTMEM_ENABLES = ("ad_oe", "par_oe", "trdy_n_oe", "devsel_n_oe", "stop_n_oe", "perr_n_oe",
                   "serr_n_oe")


class Bench(Elaboratable):
    def __init__(self):
        self.res = BusResolver(2)
        self.mem = HostMemory(BASE, SIZE)
        self.arb = Arbiter(1)
        self.chk = ProtocolChecker(2, 1)
        self.cd = ClockDomain("sync")               # ``cd.rst`` is RST#

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.cd
        m.submodules.res, m.submodules.mem = self.res, self.mem
        m.submodules.arb, m.submodules.chk = self.arb, self.chk
        wiring.connect(m, self.res.agent[1], self.mem.bus)
        wiring.connect(m, self.res.bus, self.chk.bus)
        bus = self.res.bus
        m.d.comb += [
            self.arb.frame_n.eq(bus.frame_n), self.arb.irdy_n.eq(bus.irdy_n),
            self.arb.trdy_n.eq(bus.trdy_n), self.arb.stop_n.eq(bus.stop_n),
            self.chk.gnt_n.eq(self.arb.gnt_n), self.chk.req_n.eq(self.arb.req_n),
        ]
        return m


@dataclass
class Result:
    term: str = "normal"          # normal, retry, disconnect, abort, master_abort
    stop_with_data: bool = False  # STOP# first came together with TRDY#
    addr_cycle: int = 0           # initiator cycle number of the address edge
    data: list = field(default_factory=list)
    devsel_edge: int = None       # edges after the address edge
    xfer_edges: list = field(default_factory=list)
    phase_lat: list = field(default_factory=list)   # edges from phase start to TRDY#/STOP#


class Initiator:
    """Registered PCI master on resolver port agent[0]: drives after each edge,
    samples what the next edge will see (values settle before ``ctx.tick()``)."""

    def __init__(self, ctx, bench, limit):
        self.ctx, self.bench, self.limit = ctx, bench, limit
        self.port, self.bus = bench.res.agent[0], bench.res.bus
        self.cycle = 0
        self.perr, self.serr = [], []        # cycles at which PERR#/SERR# were sampled asserted
        self.ad = self.cbe = None            # what we drive now (None = released)
        self.flip_par = False                # corrupt the PAR that covers the current AD

    def drive(self, name, value):
        if value is None:
            self.ctx.set(getattr(self.port, f"{name}_oe"), 0)
        else:
            self.ctx.set(getattr(self.port, f"{name}_o"), value)
            self.ctx.set(getattr(self.port, f"{name}_oe"), 1)
        if name in ("ad", "cbe_n"):
            setattr(self, "ad" if name == "ad" else "cbe", value)

    async def clock(self):
        """Take one edge; return the levels sampled at it."""
        g = self.ctx.get
        b = self.bus
        s = {k: g(getattr(b, k)) for k in
             ("frame_n", "irdy_n", "trdy_n", "stop_n", "devsel_n", "ad", "perr_n", "serr_n")}
        s["gnt"] = not g(self.bench.arb.gnt_n)
        ad, cbe, flip = self.ad, self.cbe, self.flip_par
        await self.ctx.tick()
        self.cycle += 1
        assert self.cycle < self.limit, "simulation ran away"

        if not s["perr_n"]:
            self.perr.append(self.cycle)
        if not s["serr_n"]:
            self.serr.append(self.cycle)
        self.drive("par", None if ad is None else even_parity(ad, cbe or 0) ^ flip)
        return s

    async def idle(self, n):
        for _ in range(n):
            await self.clock()

    async def reset(self, clocks):
        """RST# for ``clocks`` edges, our own drivers released with it. Return the
        host-memory outputs enabled just before RST#, and, per clock of the reset
        (the first one included), host memory's driver enables and the GNT#
        levels as the bus sees them just before the edge."""
        mem = self.bench.mem.bus
        driving = {name for name in HOSTMEM_ENABLES if self.ctx.get(getattr(mem, name))}
        for name in ("frame_n", "irdy_n", "ad", "cbe_n", "par"):
            self.drive(name, None)
        self.flip_par = False
        self.ctx.set(self.bench.arb.req_n, 1)
        self.ctx.set(self.bench.cd.rst, 1)
        seen = []
        for _ in range(clocks):
            seen.append({name: self.ctx.get(getattr(mem, name)) for name in HOSTMEM_ENABLES}
                        | {"gnt_n": self.ctx.get(self.bench.arb.gnt_n)})
            await self.ctx.tick()
            self.cycle += 1
        self.ctx.set(self.bench.cd.rst, 0)
        return driving, seen

    async def transaction(self, cmd, addr, count=1, data=None, be=None, irdy_waits=None,
                          bad_par=(), cut_after=None):
        """One transaction of up to ``count`` data phases; ``bad_par`` holds "addr"
        and/or indices of write data phases whose PAR is corrupted. ``cut_after``:
        stop ``cut_after`` edges after the address edge, with everything still
        driven (term "cut"; for a reset in the middle of the transaction)."""
        write = cmd & 1
        be = be or [0] * count
        waits_of = irdy_waits or (lambda phase: 0)
        ctx, res = self.ctx, Result()
        ctx.set(self.bench.arb.req_n, 0)
        while True:
            s = await self.clock()
            if s["gnt"] and s["frame_n"] and s["irdy_n"]:
                break
        ctx.set(self.bench.arb.req_n, 1)
        self.drive("frame_n", 0)
        self.drive("ad", addr)
        self.drive("cbe_n", cmd)
        self.flip_par = "addr" in bad_par
        await self.clock()
        a_cycle = res.addr_cycle = self.cycle
        phase, waits, phase_start = 0, waits_of(0), a_cycle
        frame, irdy, stopping, ts_seen = True, False, False, False
        if not write:
            self.drive("ad", None)
        while True:
            if cut_after is not None and self.cycle - a_cycle >= cut_after:
                res.term = "cut"
                return res
            if stopping:
                irdy = True
            elif not irdy:
                irdy, waits = waits == 0, max(waits - 1, 0)
            if frame and irdy and (stopping or phase == count - 1):
                frame = False
            self.drive("frame_n", 0 if frame else 1)
            self.drive("irdy_n", 0 if irdy else 1)
            self.drive("cbe_n", be[min(phase, count - 1)])
            if write:
                self.drive("ad", data[min(phase, count - 1)])
                self.flip_par = phase in bad_par
            s = await self.clock()
            since = self.cycle - a_cycle
            if not s["devsel_n"] and res.devsel_edge is None:
                res.devsel_edge = since
            if not ts_seen and not (s["trdy_n"] and s["stop_n"]):
                ts_seen = True
                res.phase_lat.append(self.cycle - phase_start)
            if irdy and not (s["trdy_n"] and s["stop_n"]):     # data phase completed
                if not s["trdy_n"]:
                    res.xfer_edges.append(since)
                    if not write:
                        res.data.append(s["ad"])
                    phase += 1
                if not s["stop_n"] and not stopping:
                    stopping, res.stop_with_data = True, not s["trdy_n"]
                    if s["devsel_n"]:
                        res.term = "abort"
                    elif not res.xfer_edges:
                        res.term = "retry"
                    else:
                        res.term = "disconnect"
                if not frame:
                    break
                irdy, waits, phase_start, ts_seen = False, waits_of(phase), self.cycle, False
            elif since >= 4 and res.devsel_edge is None:          # master-abort
                res.term = "master_abort"
                if not frame:
                    break
                frame, irdy, stopping = False, True, True
                self.drive("frame_n", 1)
                self.drive("irdy_n", 0)
                await self.clock()
                break
        self.drive("frame_n", None)
        self.drive("irdy_n", 1)
        self.drive("ad", None)
        self.drive("cbe_n", None)
        self.flip_par = False
        await self.clock()
        self.drive("irdy_n", None)
        return res


def run(body, config=None, limit=20000):
    """Simulate ``body(ctx, bench, initiator)``; return (bench, outcome dict)."""
    bench = Bench()
    sim = Simulator(bench)
    sim.add_clock(1e-6)
    out = {}
    cfg = {"abort_lo": 0xFFFF_FFFF, "abort_hi": 0xFFFF_FFFF, "perr_enable": 1}
    cfg.update(config or {})

    async def tb(ctx):
        for name, value in cfg.items():
            ctx.set(getattr(bench.mem, name), value)
        ini = Initiator(ctx, bench, limit)
        await ini.idle(2)
        out["body"] = await body(ctx, bench, ini)
        await ini.idle(4)
        out["ini"] = ini
        for name in ("reads", "writes", "retries", "disconnects", "target_aborts", "parity_errors"):
            out[name] = ctx.get(getattr(bench.mem, name))
        out["violations"] = ctx.get(bench.chk.violations)
        out["rules"] = {r for r in Rule if out["violations"] >> r & 1}
        out["mem"] = [ctx.get(bench.mem.mem.data[k]) for k in range(WORDS)]

    sim.add_testbench(tb)
    sim.run()
    return out


def words(n, seed):
    rng = random.Random(seed)
    return [rng.getrandbits(32) for _ in range(n)]


@pytest.mark.parametrize("speed", [0, 1, 2])
def test_single_write_then_read(speed):
    async def body(ctx, bench, ini):
        w = await ini.transaction(WR, BASE + 40, 1, [0xDEADBEEF])
        r = await ini.transaction(RD, BASE + 40, 1)
        return w, r

    out = run(body, {"devsel_speed": speed})
    w, r = out["body"]
    assert r.data == [0xDEADBEEF] and out["mem"][10] == 0xDEADBEEF
    assert w.devsel_edge == r.devsel_edge == speed + 1
    assert w.xfer_edges == [speed + 1]                  # write: TRDY# with DEVSEL#
    assert r.xfer_edges == [max(2, speed + 1)]          # read: after the AD turnaround
    assert (out["reads"], out["writes"]) == (1, 1)
    assert out["rules"] == set()


@pytest.mark.parametrize("cmd_r,cmd_w", [
    (PciCommand.MEM_READ_MULTIPLE.value, PciCommand.MEM_WRITE.value),
    (PciCommand.MEM_READ_LINE.value, PciCommand.MEM_WRITE_INVALIDATE.value),
])
def test_zero_wait_bursts_one_phase_per_clock(cmd_r, cmd_w):
    n, data = 64, words(64, 1)

    async def body(ctx, bench, ini):
        w = await ini.transaction(cmd_w, BASE + 0x100, n, data)
        r = await ini.transaction(cmd_r, BASE + 0x100, n)
        return w, r

    out = run(body)
    w, r = out["body"]
    assert r.data == data and out["mem"][0x40:0x40 + n] == data
    assert w.xfer_edges == list(range(1, n + 1))
    assert r.xfer_edges == list(range(2, n + 2))
    assert (out["reads"], out["writes"], out["disconnects"]) == (n, n, 0)
    assert out["rules"] == set()


def test_byte_enables_on_writes():
    async def body(ctx, bench, ini):
        await ini.transaction(WR, BASE, 2, [0x11111111, 0x22222222])
        await ini.transaction(WR, BASE, 2, [0xAABBCCDD, 0x55667788], be=[0b1010, 0b0111])
        return await ini.transaction(RD, BASE, 2, be=[0b1111, 0b1111])

    out = run(body)
    assert out["body"].data == [0x11BB11DD, 0x55222222]
    assert out["rules"] == set()


def test_irdy_wait_states_reads_and_writes():
    rng = random.Random(7)
    n, data = 24, words(24, 2)
    waits = [rng.choice([0, 0, 1, 3, 7]) for _ in range(n)]   # 7: IRDY# at the 8-clock limit

    async def body(ctx, bench, ini):
        w = await ini.transaction(WR, BASE + 0x200, n, data, irdy_waits=lambda k: waits[k])
        r = await ini.transaction(RD, BASE + 0x200, n, irdy_waits=lambda k: waits[k])
        return w, r

    out = run(body, {"wait_rate": 64, "seed": 3})
    w, r = out["body"]
    assert r.data == data and out["mem"][0x80:0x80 + n] == data
    assert len(w.xfer_edges) == len(r.xfer_edges) == n
    assert out["rules"] == set()


def test_target_wait_states_rate_and_limits():
    rate, n, reps = 96, 32, 8

    async def body(ctx, bench, ini):
        return [await ini.transaction(RD, BASE + 0x400, n) for _ in range(reps)]

    out = run(body, {"wait_rate": rate, "seed": 11, "devsel_speed": 2})
    later = [lat for res in out["body"] for lat in res.phase_lat[1:]]
    first = [res.phase_lat[0] for res in out["body"]]
    waited = sum(lat > 1 for lat in later)
    p, total = rate / 256, len(later)
    assert total == reps * (n - 1)
    assert abs(waited - p * total) < 4 * (p * (1 - p) * total) ** 0.5
    assert max(later) <= 8 and max(first) <= 16 and max(later) > 2
    assert out["rules"] == set()


@pytest.mark.parametrize("initial_wait,late", [(13, False), (14, True)])
def test_initial_wait_can_break_16_clock_rule(initial_wait, late):
    async def body(ctx, bench, ini):
        return await ini.transaction(WR, BASE, 1, [1])

    out = run(body, {"initial_wait": initial_wait, "devsel_speed": 2})   # base: A+3
    assert out["body"].phase_lat == [3 + initial_wait]
    assert out["rules"] == ({Rule.TARGET_INITIAL_LATENCY} if late else set())


def test_retry_rate():
    rate, reps = 64, 300

    async def body(ctx, bench, ini):
        return [await ini.transaction(WR, BASE + 8, 1, [k]) for k in range(reps)]

    out = run(body, {"retry_rate": rate, "seed": 5}, limit=40000)
    terms = [res.term for res in out["body"]]
    retried = terms.count("retry")
    p = rate / 256
    assert out["retries"] == retried and out["writes"] == reps - retried
    assert abs(retried - p * reps) < 4 * (p * (1 - p) * reps) ** 0.5
    assert all(t in ("normal", "retry") for t in terms)
    assert out["rules"] == set()


def test_disconnect_rate():
    rate, n, reps = 32, 16, 30

    async def body(ctx, bench, ini):
        return [await ini.transaction(RD, BASE + 0x800, n) for _ in range(reps)]

    out = run(body, {"disconnect_rate": rate, "seed": 9})
    results = out["body"]
    disconnected = [r for r in results if r.term == "disconnect"]
    # every data phase after the first is one draw (wait_rate = 0: decided while FRAME# asserted)
    later_phases = sum(len(r.xfer_edges) - 1 + (r.term == "disconnect" and not r.stop_with_data)
                       for r in results)
    p = rate / 256
    assert out["disconnects"] == len(disconnected) > 0
    assert out["reads"] == sum(len(r.xfer_edges) for r in results)
    assert abs(len(disconnected) - p * later_phases) < 4 * (p * (1 - p) * later_phases) ** 0.5 + 1
    assert any(len(r.xfer_edges) < n for r in disconnected)
    assert out["rules"] == set()


def test_target_abort_range():
    async def body(ctx, bench, ini):
        single = await ini.transaction(RD, BASE + 0x310, 1)
        burst = await ini.transaction(WR, BASE + 0x300, 8, list(range(1, 9)))
        outside = await ini.transaction(RD, BASE + 0x320, 2)
        return single, burst, outside

    out = run(body, {"abort_lo": BASE + 0x310, "abort_hi": BASE + 0x320})
    single, burst, outside = out["body"]
    assert single.term == "abort" and single.xfer_edges == []
    assert burst.term == "abort" and len(burst.xfer_edges) == 4     # 0x300..0x30C written
    assert out["mem"][0xC0:0xC5] == [1, 2, 3, 4, 0]
    assert outside.term == "normal" and len(outside.data) == 2
    assert out["target_aborts"] == 2
    assert out["rules"] == set()


@pytest.mark.parametrize("write", [False, True])
def test_disconnect_at_window_end(write):
    async def body(ctx, bench, ini):
        cmd = WR if write else RD
        return await ini.transaction(cmd, BASE + SIZE - 12, 8, list(range(10, 18)))

    out = run(body)
    res = out["body"]
    assert res.term == "disconnect" and len(res.xfer_edges) == 3
    assert out["disconnects"] == 1
    if write:
        assert out["mem"][WORDS - 3:] == [10, 11, 12] and out["mem"][0] == 0
    assert out["rules"] == set()


def test_nonlinear_burst_order_disconnects_after_first_phase():
    async def body(ctx, bench, ini):
        return await ini.transaction(RD, BASE + 0x40 | 0b10, 4)

    out = run(body)
    assert out["body"].term == "disconnect" and len(out["body"].xfer_edges) == 1
    assert out["rules"] == set()


@pytest.mark.parametrize("addr,cmd", [
    (BASE - 4, RD), (BASE + SIZE, WR), (BASE, PciCommand.IO_READ.value),
    (BASE, PciCommand.CONFIG_WRITE.value),
])
def test_ignores_foreign_transactions(addr, cmd):
    async def body(ctx, bench, ini):
        return await ini.transaction(cmd, addr, 2, [1, 2])

    out = run(body)
    assert out["body"].term == "master_abort" and out["body"].devsel_edge is None
    assert out["reads"] == out["writes"] == 0 and out["mem"][0] == 0
    assert out["rules"] == set()


@pytest.mark.parametrize("perr_enable", [1, 0])
def test_parity_errors(perr_enable):
    async def body(ctx, bench, ini):
        a = await ini.transaction(WR, BASE, 1, [5], bad_par=("addr",))
        await ini.idle(3)
        serr_at = list(ini.serr)
        d = await ini.transaction(WR, BASE, 4, [1, 2, 3, 4], bad_par=(2,))
        await ini.idle(3)
        return a, serr_at, d

    out = run(body, {"perr_enable": perr_enable})
    a, serr_at, d = out["body"]
    ini = out["ini"]
    assert a.term == d.term == "normal"
    assert serr_at == ini.serr == [a.addr_cycle + 2]               # one clock, at A+2
    third_phase = d.addr_cycle + d.xfer_edges[2]
    assert ini.perr == ([third_phase + 2] if perr_enable else [])  # two clocks after the phase
    assert out["parity_errors"] == 2
    assert out["rules"] == {Rule.PARITY}


def test_same_seed_same_behaviour_different_seed_differs():
    def trace(seed):
        async def body(ctx, bench, ini):
            return [(r.term, tuple(r.phase_lat)) for r in
                    [await ini.transaction(RD, BASE + 0x40 * k, 6) for k in range(6)]]
        return run(body, {"seed": seed, "wait_rate": 100, "retry_rate": 60,
                          "disconnect_rate": 60})["body"]

    assert trace(1234) == trace(1234)
    assert trace(1234) != trace(4321)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_traffic_against_shadow_memory(seed):
    """Random target config and random reads/writes (IRDY# waits, byte enables,
    window end, abort range) against a Python shadow memory; counters must match
    what the initiator saw, and the checker must stay clean."""
    rng = random.Random(seed)
    cfg = {"devsel_speed": seed % 3, "seed": seed * 77, "wait_rate": rng.randrange(160),
           "initial_wait": rng.randrange(6), "retry_rate": rng.randrange(60),
           "disconnect_rate": rng.randrange(60), "abort_lo": BASE + 0x600, "abort_hi": BASE + 0x640}
    ops = []
    for _ in range(50):
        n = rng.choice([1, 2, 4, 8, 16])
        word = rng.choice([rng.randrange(WORDS), WORDS - rng.randint(1, 4), 0x17C + rng.randrange(8)])
        waits = [rng.choice([0, 0, 0, 1, 2, 7]) for _ in range(n)]
        ops.append((rng.random() < 0.5, word, n, words(n, rng.random()),
                    [rng.getrandbits(4) for _ in range(n)], waits))

    async def body(ctx, bench, ini):
        return [await ini.transaction(WR if write else RD, BASE + 4 * word, n, data, be,
                                      irdy_waits=lambda k, w=waits: w[k])
                for write, word, n, data, be, waits in ops]

    out = run(body, cfg)
    shadow = [0] * WORDS
    for (write, word, n, data, be, _), res in zip(ops, out["body"]):
        done = len(res.xfer_edges)
        assert done <= min(n, WORDS - word)
        in_abort = [0x180 <= w < 0x190 for w in range(word, word + done + 1)]
        assert not any(in_abort[:done])
        if res.term == "abort" or (res.term in ("retry", "disconnect") and not res.stop_with_data):
            assert in_abort[done] == (res.term == "abort")     # the phase that was refused
        for k in range(done):
            if write:
                mask = sum(0xFF << 8 * b for b in range(4) if not be[k] >> b & 1)
                shadow[word + k] = shadow[word + k] & ~mask | data[k] & mask
            else:
                assert res.data[k] == shadow[word + k]
    terms = [res.term for res in out["body"]]
    assert out["mem"] == shadow
    assert out["writes"] == sum(len(r.xfer_edges) for (w, *_), r in zip(ops, out["body"]) if w)
    assert out["reads"] == sum(len(r.xfer_edges) for (w, *_), r in zip(ops, out["body"]) if not w)
    assert (out["retries"], out["disconnects"], out["target_aborts"]) == (
        terms.count("retry"), terms.count("disconnect"), terms.count("abort"))
    assert out["rules"] == set()


@pytest.mark.parametrize("write", [False, True])
def test_rst_mid_burst_releases_every_driver_at_once(write):
    """PCI 2.3 section 2.2.1: RST# asserted at each edge of a burst, from the
    address edge to after the turnaround (bad address PAR, so SERR# is cut
    too; a write with a bad data PAR, so PERR# is), leaves host memory driving
    nothing from the first clock of the reset on and the arbiter asserting no
    GNT#; the checker sees no driver in reset; the burst after works."""
    n, data = 8, words(8, 4)

    async def body(ctx, bench, ini):
        cuts = []
        for cut in range(12):
            res = await ini.transaction(WR if write else RD, BASE + 0x100, n, data,
                                        bad_par=("addr", 3), cut_after=cut)
            cuts.append((res, *await ini.reset(3)))
            await ini.idle(1)
        after = await ini.transaction(RD, BASE + 0x100, n)
        return cuts, after

    out = run(body, {"devsel_speed": 1, "perr_enable": 1})
    cuts, after = out["body"]
    assert out["rules"] == {Rule.PARITY}                # the injected parity errors only
    released = dict.fromkeys(HOSTMEM_ENABLES, 0) | {"gnt_n": 1}
    for cut, (_, _, seen) in enumerate(cuts):
        assert seen == [released] * 3, f"RST# {cut} edges after the address edge"
    terms = [res.term for res, _, _ in cuts]
    assert terms.count("cut") >= 8 and {"cut"} < set(terms) <= {"cut", "normal"}
    # every output host memory drives in such a burst was cut by a reset
    driven = set().union(*(driving for _, driving, _ in cuts))
    assert driven == set(HOSTMEM_ENABLES) - ({"ad_oe", "par_oe"} if write else {"perr_n_oe"})
    assert after.term == "normal" and after.data == out["mem"][0x40:0x40 + n]


def test_converts_to_verilog_with_mem_name():
    text = verilog.convert(HostMemory(0, 256 * 1024), name="hostmem")
    assert "reg [31:0] mem [65535:0];" in text
