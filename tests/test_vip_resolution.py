"""Bus resolution (sim/vip/resolution.py) against a Python reference model."""
import random

import pytest
from amaranth.back import verilog
from amaranth.hdl import Elaboratable, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out
from amaranth.sim import Simulator

from pacsim.hdl.pci_port import OPEN_DRAIN_SIGNALS, TRISTATE_SIGNALS, PciSignature
from pacsim.sim.vip.resolution import PULL_UP_SIGNALS, BusResolver, connect_agent


def reference(name, drives):
    """Resolved level for ``drives`` = [(o, oe), ...] per agent."""
    if name in OPEN_DRAIN_SIGNALS:
        return 0 if any(oe for _, oe in drives) else 1
    driven = [o for o, oe in drives if oe]
    if not driven:
        return (1 << TRISTATE_SIGNALS[name]) - 1 if name in PULL_UP_SIGNALS else 0
    level = 0
    for o in driven:
        level |= o
    return level


def run_comb(dut, body):
    sim = Simulator(dut)
    out = {}

    async def tb(ctx):
        out["v"] = await body(ctx)

    sim.add_testbench(tb)
    sim.run()
    return out["v"]


@pytest.mark.parametrize("n_agents", [1, 3])
def test_random_vectors_match_reference(n_agents):
    res = BusResolver(n_agents)
    rng = random.Random(n_agents)

    async def body(ctx):
        checked = 0
        for _ in range(150):
            drives = {}
            for name in (*TRISTATE_SIGNALS, *OPEN_DRAIN_SIGNALS):
                drives[name] = []
                for agent in res.agent:
                    oe = int(rng.random() < 0.4)
                    ctx.set(getattr(agent, f"{name}_oe"), oe)
                    o = 0
                    if name in TRISTATE_SIGNALS:
                        o = rng.getrandbits(TRISTATE_SIGNALS[name])
                        ctx.set(getattr(agent, f"{name}_o"), o)
                    drives[name].append((o, oe))
            for name, drv in drives.items():
                level = ctx.get(getattr(res.bus, name))
                assert level == reference(name, drv), name
                assert ctx.get(getattr(res.bus, f"{name}_drv")) == sum(
                    oe << k for k, (_, oe) in enumerate(drv))
                if name in TRISTATE_SIGNALS:
                    for agent in res.agent:
                        assert ctx.get(getattr(agent, f"{name}_i")) == level
                checked += 1
        return checked

    assert run_comb(res, body) == 150 * (len(TRISTATE_SIGNALS) + len(OPEN_DRAIN_SIGNALS))


def test_pull_levels_when_undriven():
    res = BusResolver(2)

    async def body(ctx):
        for agent in res.agent:
            for name in TRISTATE_SIGNALS:
                ctx.set(getattr(agent, f"{name}_o"), (1 << TRISTATE_SIGNALS[name]) - 1)
        return {name: ctx.get(getattr(res.bus, name))
                for name in (*TRISTATE_SIGNALS, *OPEN_DRAIN_SIGNALS)}

    levels = run_comb(res, body)
    assert levels == {"ad": 0, "cbe_n": 0, "par": 0, "frame_n": 1, "irdy_n": 1, "trdy_n": 1,
                      "devsel_n": 1, "stop_n": 1, "perr_n": 1, "serr_n": 1, "inta_n": 1}


class _Card(wiring.Component):
    """Stand-in for the card: drives TRDY# low and pulls INTA#, exposes a PciSignature."""
    pci: Out(PciSignature())

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.pci.trdy_n_o.eq(0), self.pci.trdy_n_oe.eq(1), self.pci.inta_n_oe.eq(1)]
        return m


def test_connect_agent_with_full_pci_signature():
    class Top(Elaboratable):
        def __init__(self):
            self.res, self.card = BusResolver(2), _Card()

        def elaborate(self, platform):
            m = Module()
            m.submodules.res, m.submodules.card = self.res, self.card
            connect_agent(m, self.res.agent[0], self.card.pci)
            return m

    top = Top()

    async def body(ctx):
        ctx.set(top.res.agent[1].ad_o, 0x1234)
        ctx.set(top.res.agent[1].ad_oe, 1)
        return (ctx.get(top.res.bus.trdy_n), ctx.get(top.res.bus.trdy_n_drv),
                ctx.get(top.res.bus.inta_n), ctx.get(top.card.pci.ad_i))

    assert run_comb(top, body) == (0, 0b01, 0, 0x1234)


def test_converts_to_verilog():
    text = verilog.convert(BusResolver(3), name="res")
    assert "agent__2__ad_oe" in text and "bus__ad_drv" in text
