"""Protocol checker (sim/vip/checker.py, rules.py, xcheck.v).

Bus activity is written as edge tables: ``seq[e]`` maps a signal name to
``(agent, level)`` for each driven signal at edge ``e`` (anything absent is
released), plus optional ``"gnt_n"`` (default: master 0 granted, none
during RST#), ``"req_n"`` (default: none), ``"rst"`` and ``"xz"`` entries.
``legal()`` produces legal transactions; each negative case mutates one of
them (or builds a tiny illegal sequence) and is run only up to the edge of
the violation, so the test proves that exactly its rule fired, at that
edge. All cases run in one simulation (reset + clear between cases).
"""
import random
import subprocess
from collections import defaultdict

import pytest
from amaranth.back import verilog
from amaranth.hdl import ClockDomain, Elaboratable, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.sim import Simulator

from required_tools import required_tool
from pacsim.hdl.pci_port import OPEN_DRAIN_SIGNALS, TRISTATE_SIGNALS
from pacsim.hdl.pci_protocol import even_parity
from pacsim.sim.vip.checker import ProtocolChecker
from pacsim.sim.vip.resolution import BusResolver
from pacsim.sim.vip.rules import Rule
from pacsim.sim.vip.xcheck import XCHECK_VERILOG, XCheck

M0, M1, T = 0, 1, 2                 # agents: two masters, one target
N_AGENTS, N_MASTERS = 3, 2
GNT_M0 = 0b10                       # GNT# levels: master 0 granted
NONE = 0b11                         # REQ#/GNT# levels: nobody requesting / granted
A = 1                               # address edge of every legal() sequence


def legal(write=True, phases=1, devsel=1, twait=0, iwait=0, term=None, term_phase=0,
          master=M0, target=T, addr=0x1000, seed=0):
    """Edge table of one legal transaction preceded by one idle edge (A = 1).

    ``devsel``: DEVSEL# sampled at A+devsel (1..4), None = master-abort;
    ``twait``/``iwait``: target/master wait states per phase (int or list);
    ``term``: None, "retry", "disc_data", "disc_nodata" or "abort" at ``term_phase``.
    """
    rng = random.Random(seed)
    data = [rng.getrandbits(32) for _ in range(phases + 1)]
    be = [rng.getrandbits(4) for _ in range(phases + 1)]
    tw = twait if isinstance(twait, list) else [twait] * (phases + 1)
    iw = iwait if isinstance(iwait, list) else [iwait] * (phases + 1)
    seq = defaultdict(dict)
    put = lambda e, sig, agent, level: seq[e].__setitem__(sig, (agent, level))
    put(A, "frame_n", master, 0)
    put(A, "ad", master, addr)
    put(A, "cbe_n", master, 0x7 if write else 0x6)

    t, k, frame, stop_on, abort_on, e = A, 0, True, False, False, A

    def response_edge(k, t):
        if k == 0:
            first = max(A + devsel, A + (1 if write else 2)) + tw[0]
            return max(first, A + devsel + 1) if term == "abort" and term_phase == 0 else first
        return t + 1 + tw[k]

    resp = response_edge(0, A) if devsel else None
    irdy_on = False
    while True:
        e += 1
        if not irdy_on:
            irdy_on = stop_on or e >= t + 1 + iw[k]
        if frame and irdy_on and (k == phases - 1 or stop_on):
            frame = False
        if devsel is None and e == A + 5 and frame:        # master-abort
            frame, irdy_on = False, True
        put(e, "frame_n", master, 0 if frame else 1)
        put(e, "irdy_n", master, 0 if irdy_on else 1)
        put(e, "cbe_n", master, be[k])
        if write:
            put(e, "ad", master, data[k])
        if devsel is None:
            if not frame and e >= A + 5:
                c = e
                break
            continue
        # target
        kind = term if k == term_phase else None
        if e >= resp and not stop_on and kind in ("retry", "disc_nodata", "disc_data", "abort"):
            stop_on, abort_on = True, kind == "abort"
        trdy_on = e >= resp and not (stop_on and kind != "disc_data") and not (
            stop_on and k != term_phase)
        put(e, "devsel_n", target, 0 if e >= A + devsel and not abort_on else 1)
        put(e, "trdy_n", target, 0 if trdy_on else 1)
        put(e, "stop_n", target, 0 if stop_on else 1)
        if not write and e >= max(A + 2, A + devsel):
            put(e, "ad", target, data[k])
        if irdy_on and (trdy_on or stop_on):                # data phase completes
            if not frame:
                c = e
                break
            k, t, irdy_on = k + 1, e, False
            resp = response_edge(k, t) if not stop_on else e + 1
    # release after the final data phase: s/t/s driven high for one clock
    if devsel is None:
        seq[c + 1].update({"irdy_n": (master, 1)})
    else:
        seq[c + 1].update({"irdy_n": (master, 1), "devsel_n": (target, 1),
                           "trdy_n": (target, 1), "stop_n": (target, 1)})
    # PAR: one clock after AD, by the agent that drove AD
    for e in range(A, c + 1):
        if "ad" in seq[e]:
            agent, ad = seq[e]["ad"]
            put(e + 1, "par", agent, even_parity(ad, seq[e]["cbe_n"][1]))
    n = c + 4
    return [dict(seq[e]) for e in range(n)]


def mutate(seq, edge, **changes):
    """Copy of ``seq`` with signals at ``edge`` replaced ((agent, level)) or released (None)."""
    out = [dict(x) for x in seq]
    for sig, val in changes.items():
        if val is None:
            out[edge].pop(sig, None)
        else:
            out[edge][sig] = val
    return out


def overlay(seq, other, at):
    """``seq`` with the edges of ``other`` merged in from edge ``at`` on (``other`` wins)."""
    out = [dict(x) for x in seq] + [{} for _ in range(at + len(other) - len(seq))]
    for k, edge in enumerate(other):
        out[at + k].update(edge)
    return out


def final_edge(seq):
    """Edge of the final data phase completion (the last edge with IRDY# asserted)."""
    return max(e for e in range(len(seq)) if seq[e].get("irdy_n", (0, 1))[1] == 0)


def negative_cases():
    """name -> (rule, edge table truncated at the violation, violating edge, legal twin)."""
    cases = {}

    def case(rule, bad, edge, good, variant=""):
        cases[rule.name + (f"/{variant}" if variant else "")] = (rule, bad[:edge + 1], edge, good)

    def add(rule, base, edge, variant="", **changes):
        case(rule, mutate(base, edge, **changes), edge, base, variant)

    w1 = legal(write=True, iwait=2)                      # IRDY# at A+3, TRDY# from A+1
    add(Rule.FRAME_WITHOUT_IRDY, w1, A + 2, frame_n=(M0, 1))
    w = legal()
    c = final_edge(w)
    add(Rule.IRDY_OUTSIDE_TRANSACTION, w, A, "address", irdy_n=(M0, 0))
    add(Rule.IRDY_OUTSIDE_TRANSACTION, w, c + 1, "after", irdy_n=(M0, 0))
    w2 = legal(write=True, phases=2, twait=2)            # IRDY# from A+1, TRDY# at A+3
    add(Rule.IRDY_RELEASED_EARLY, w2, A + 2, irdy_n=(M0, 1))
    wm = legal(write=True, devsel=2)                     # DEVSEL#/TRDY# at A+2
    add(Rule.TARGET_WITHOUT_DEVSEL, wm, A + 1, "trdy", trdy_n=(T, 0))
    add(Rule.TARGET_WITHOUT_DEVSEL, wm, A + 1, "stop", stop_n=(T, 0))
    ma = legal(write=True, phases=3, devsel=None)        # master-abort: FRAME# high at A+5
    add(Rule.DEVSEL_LATE, ma, A + 5, devsel_n=(T, 0))
    add(Rule.MASTER_ABORT_MISSING, ma, A + 5, "frame", frame_n=(M0, 0))
    ma1 = legal(write=False, devsel=None)                # FRAME# high from A+1, IRDY# to A+5
    add(Rule.MASTER_ABORT_MISSING, ma1, A + 6, "irdy", irdy_n=(M0, 0), cbe_n=ma1[A + 5]["cbe_n"])
    w3 = legal(write=True, phases=2, twait=3)
    add(Rule.DEVSEL_DROPPED, w3, A + 2, devsel_n=(T, 1))
    r1 = legal(write=False, iwait=3)                     # TRDY# at A+2, IRDY# at A+4
    add(Rule.TARGET_NOT_HELD, r1, A + 3, "trdy", trdy_n=(T, 1))
    rt = legal(write=True, phases=2, term="retry")       # STOP# at A+1, final phase at A+2
    add(Rule.TARGET_NOT_HELD, rt, A + 2, "stop", stop_n=(T, 1))
    add(Rule.TARGET_SIGNAL_IDLE, w, c + 1, devsel_n=(T, 0))
    case(Rule.TARGET_INITIAL_LATENCY, legal(write=True, twait=16), A + 17,
         legal(write=True, twait=15))                    # TRDY# at A+17 / A+16
    case(Rule.TARGET_SUBSEQUENT_LATENCY, legal(write=True, phases=2, twait=[0, 8]), A + 10,
         legal(write=True, phases=2, twait=[0, 7]))      # C+9 / C+8
    case(Rule.MASTER_LATENCY, legal(write=True, iwait=8), A + 9,
         legal(write=True, iwait=7))                     # IRDY# at A+9 / A+8
    add(Rule.AD_UNSTABLE, w2, A + 2, "write", ad=(M0, w2[A + 2]["ad"][1] ^ 1))
    add(Rule.AD_UNSTABLE, r1, A + 3, "read", ad=(T, r1[A + 3]["ad"][1] ^ 1))
    r2 = legal(write=False, twait=2)                     # IRDY# from A+1, TRDY# at A+4
    add(Rule.CBE_UNSTABLE, r2, A + 2, cbe_n=(M0, r2[A + 2]["cbe_n"][1] ^ 1))
    add(Rule.PARITY, w, A + 1, par=(M0, w[A + 1]["par"][1] ^ 1))
    case(Rule.MULTIPLE_DRIVERS, [{}, {}, {"perr_n": [(M1, 1), (T, 1)]}], 2,
         [{}, {}, {"perr_n": (M1, 1)}, {}])
    r = legal(write=False)
    add(Rule.TURNAROUND, r, A + 1, "ad", ad=(T, 0))
    add(Rule.TURNAROUND, w, c + 2, "devsel", devsel_n=(M1, 1))
    add(Rule.STS_RELEASED_ASSERTED, w, c + 1, trdy_n=None)
    gnt = [dict(x) for x in w]
    gnt[0]["gnt_n"] = 0b01                                   # GNT# to master 1
    case(Rule.START_WITHOUT_GNT, gnt, A, w)
    second = legal(write=True, addr=0x2000, seed=1)
    case(Rule.NO_IDLE_BEFORE_ADDRESS, overlay(w, second[A:], c + 1), c + 1,
         overlay(w, second[A:], c + 2))
    case(Rule.MULTIPLE_GNT, [{}, {"gnt_n": 0b00}], 1, [{}, {"gnt_n": 0b01}, {}])
    case(Rule.DRIVE_IN_RESET, [{}, {"rst": 1, "inta_n": (T, 0)}], 1,
         [{}, {"rst": 1}, {}, {"inta_n": (T, 0)}, {}])
    # RST# in the middle of a read burst: a target whose synchronous reset
    # releases AD only at the first edge of the reset is caught at that edge.
    rb = legal(write=False, phases=4)
    cut = A + 3
    assert rb[cut]["ad"][0] == T
    in_reset = [{"rst": 1}, {"rst": 1}, {}, {}]
    case(Rule.DRIVE_IN_RESET, rb[:cut] + [{"rst": 1, "ad": rb[cut]["ad"]}], cut,
         rb[:cut] + in_reset, "ad_mid_burst")
    # ... and an arbiter that keeps GNT# to the burst's owner through RST#
    case(Rule.ARBITRATION_IN_RESET, rb[:cut] + [{"rst": 1, "gnt_n": GNT_M0}], cut,
         rb[:cut] + in_reset, "gnt_mid_burst")
    case(Rule.ARBITRATION_IN_RESET, [{}, {"rst": 1, "req_n": 0b01}], 1,
         [{}, {"rst": 1}, {"req_n": 0b01}, {}], "req")
    case(Rule.XZ_ON_BUS, [{}, {"xz": 1}], 1, [{}, {"xz": 0}, {}])
    return cases


class Bench(Elaboratable):
    def __init__(self):
        self.res = BusResolver(N_AGENTS)
        self.chk = ProtocolChecker(N_AGENTS, N_MASTERS)
        self.cd = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.cd
        m.submodules.res, m.submodules.chk = self.res, self.chk
        wiring.connect(m, self.res.bus, self.chk.bus)
        return m


async def play(ctx, bench, seq):
    """Drive ``seq`` edge by edge (values set before the edge that samples them).
    A signal entry is ``(agent, level)`` or a list of them (several drivers)."""
    for edge in seq:
        for name in (*TRISTATE_SIGNALS, *OPEN_DRAIN_SIGNALS):
            drivers = edge.get(name, [])
            drivers = dict([drivers] if isinstance(drivers, tuple) else drivers)
            for k, agent in enumerate(bench.res.agent):
                level = drivers.get(k)
                if level is not None and name in TRISTATE_SIGNALS:
                    ctx.set(getattr(agent, f"{name}_o"), level)
                drives = level is not None and (name in TRISTATE_SIGNALS or level == 0)
                ctx.set(getattr(agent, f"{name}_oe"), int(drives))
        ctx.set(bench.chk.gnt_n, edge.get("gnt_n", NONE if edge.get("rst") else GNT_M0))
        ctx.set(bench.chk.req_n, edge.get("req_n", NONE))
        ctx.set(bench.cd.rst, edge.get("rst", 0))
        ctx.set(bench.chk.xz, edge.get("xz", 0))
        await ctx.tick()


def run_all(runs):
    """Run each named edge table after a reset+clear; return name -> checker status."""
    bench = Bench()
    sim = Simulator(bench)
    sim.add_clock(1e-6)
    results = {}

    async def tb(ctx):
        for name, seq in runs.items():
            await play(ctx, bench, [{"rst": 1}, {}])
            ctx.set(bench.chk.clear, 1)
            await ctx.tick()
            ctx.set(bench.chk.clear, 0)
            start = ctx.get(bench.chk.cycle)
            await play(ctx, bench, seq)
            viol = ctx.get(bench.chk.violations)
            results[name] = {
                "rules": {r for r in Rule if viol >> r & 1},
                "first_rule": ctx.get(bench.chk.first_rule),
                "first_edge": ctx.get(bench.chk.first_cycle) - start - 1,
                "count": ctx.get(bench.chk.count),
            }

    sim.add_testbench(tb)
    sim.run()
    return results


def random_legal(rng, seed):
    write = rng.random() < 0.5
    phases = rng.randint(1, 5)
    term = rng.choice([None, None, "retry", "disc_data", "disc_nodata", "abort"])
    if term == "disc_nodata" and phases == 1:
        term = None
    term_phase = 0 if term == "retry" else rng.randint(1 if term == "disc_nodata" else 0,
                                                       phases - 1)
    return legal(write=write, phases=phases, devsel=rng.choice([1, 2, 3, 4, None]),
                 twait=[rng.choice([0, 0, 1, 7]) for _ in range(phases + 1)],
                 iwait=[rng.choice([0, 0, 2, 7]) for _ in range(phases + 1)],
                 term=term, term_phase=term_phase, seed=seed, addr=rng.getrandbits(30) << 2)


CASES = negative_cases()
RANDOM_LEGAL = {f"random{k}": random_legal(random.Random(k), k) for k in range(40)}


@pytest.fixture(scope="module")
def results():
    runs = {}
    for name, (_, bad, _, good) in CASES.items():
        runs[("bad", name)] = bad
        runs[("good", name)] = good
    runs.update(RANDOM_LEGAL)
    return run_all(runs)


def test_every_rule_has_a_negative_case():
    assert {rule for rule, *_ in CASES.values()} == set(Rule)
    assert all(r.description for r in Rule)


@pytest.mark.parametrize("name", list(CASES))
def test_rule_fires_exactly(results, name):
    rule, _, edge, _ = CASES[name]
    bad = results[("bad", name)]
    assert bad["rules"] == {rule}
    assert bad["first_rule"] == rule
    assert bad["first_edge"] == edge
    assert results[("good", name)]["rules"] == set()


@pytest.mark.parametrize("name", list(RANDOM_LEGAL))
def test_random_legal_traffic_is_clean(results, name):
    assert results[name]["rules"] == set()


def test_count_clear_and_survives_reset():
    w = legal()
    bad = mutate(w, A + 1, par=(M0, w[A + 1]["par"][1] ^ 1))
    bad = mutate(bad, A + 2, par=(M0, bad[A + 2]["par"][1] ^ 1))
    res = run_all({"two": bad + [{"rst": 1}, {}], "clean": legal()})
    assert res["two"]["count"] == 2 and res["two"]["rules"] == {Rule.PARITY}
    assert res["clean"]["count"] == 0 and res["clean"]["rules"] == set()


def test_converts_to_verilog():
    assert "module chk" in verilog.convert(ProtocolChecker(3, 2), name="chk")
    text = verilog.convert(XCheck(3), name="xtop")
    assert "pacsim_xcheck" in text


@pytest.mark.icarus
def test_xcheck_verilog_flags_x_and_z(tmp_path):
    tb = tmp_path / "tb.v"
    tb.write_text("""
module tb;
  reg clk = 0, rst = 1, clear = 0; reg [7:0] bus = 8'bx; wire xz;
  pacsim_xcheck #(.W(8)) dut(.clk(clk), .rst(rst), .clear(clear), .bus(bus), .xz_seen(xz));
  always #5 clk = ~clk;
  initial begin
    #20 $display("reset:%b", xz); rst = 0; bus = 8'h5a;
    #20 $display("clean:%b", xz); bus[3] = 1'bz;
    #10 $display("z:%b", xz); bus = 8'h00; clear = 1;
    #10 clear = 0; $display("cleared:%b", xz); bus[0] = 1'bx;
    #10 $display("x:%b", xz); $finish;
  end
endmodule
""")
    subprocess.run([required_tool("iverilog", "iverilog"), "-o", str(tmp_path / "sim"), str(XCHECK_VERILOG), str(tb)],
                   check=True)
    out = subprocess.run(["vvp", str(tmp_path / "sim")], check=True, capture_output=True,
                         text=True).stdout
    assert out.split() == ["reset:0", "clean:0", "z:1", "cleared:0", "x:1"]


class XTop(Elaboratable):
    """Resolver + checker + XCheck, for the 4-state (Icarus) end-to-end test."""

    def __init__(self):
        self.res = BusResolver(2)
        self.chk = ProtocolChecker(2, 1)
        self.xc = XCheck(2)

    def elaborate(self, platform):
        m = Module()
        m.submodules.res, m.submodules.chk, m.submodules.xc = self.res, self.chk, self.xc
        wiring.connect(m, self.res.bus, self.chk.bus, self.xc.bus)
        m.d.comb += [self.chk.xz.eq(self.xc.xz_seen), self.chk.gnt_n.eq(ResetSignal("sync")),
                     self.xc.clear.eq(self.chk.clear)]
        return m


@pytest.mark.icarus
def test_xz_rule_end_to_end_in_icarus(tmp_path):
    """An X driven by an agent (oe=1) reaches XZ_ON_BUS; an undriven X does not."""
    top = XTop()
    agent = top.res.agent[0]
    (tmp_path / "xtop.v").write_text(verilog.convert(
        top, name="xtop", ports=[agent.ad_o, agent.ad_oe, top.chk.violations]))
    (tmp_path / "tb.v").write_text("""
module tb;
  reg clk = 0, rst = 1, oe = 0; reg [31:0] ad = 32'bx; wire [%d:0] v;
  always #5 clk = ~clk;
  xtop dut(.clk(clk), .rst(rst), .agent__0__ad_o(ad), .agent__0__ad_oe(oe), .violations(v));
  initial begin
    #22 rst = 0;
    #20 $display("undriven:%%0d", v); oe = 1;
    #20 $display("driven:%%0d", v); $finish;
  end
endmodule
""" % (len(Rule) - 1))
    subprocess.run([required_tool("iverilog", "iverilog"), "-o", str(tmp_path / "sim"), str(XCHECK_VERILOG),
                    str(tmp_path / "xtop.v"), str(tmp_path / "tb.v")], check=True)
    out = subprocess.run(["vvp", str(tmp_path / "sim")], check=True, capture_output=True,
                         text=True).stdout
    assert out.split() == ["undriven:0", f"driven:{1 << Rule.XZ_ON_BUS}"]
