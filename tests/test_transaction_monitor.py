"""The bench's transaction monitor (``sim/vip/transactions.py``) on scripted bus clocks, in Amaranth's simulator.

Each case is a PCI 2.3 section 3.3.3 termination written out clock by clock
(FRAME#, IRDY#, TRDY#, DEVSEL#, STOP# as sampled at each edge); the monitor
must name it, count the data phases with TRDY# and hold the address phase's
command and address.
"""
import pytest
from amaranth.sim import Simulator

from pacsim.hdl.pci_protocol import PciCommand
from pacsim.sim.vip.transactions import BusPhase, Termination, TransactionMonitor

IDLE = (1, 1, 1, 1, 1)
ADDRESS = (0, 1, 1, 1, 1)
#: name -> (clocks after the address phase: (frame_n, irdy_n, trdy_n, devsel_n, stop_n), termination, words)
CASES = {
    "completed": ([(0, 0, 1, 0, 1), (0, 0, 0, 0, 1), (1, 0, 0, 0, 1)], Termination.COMPLETED, 2),
    "retry": ([(0, 0, 1, 0, 1), (0, 0, 1, 0, 0), (1, 0, 1, 0, 0)], Termination.RETRY, 0),
    "disconnect_with_data": ([(0, 0, 0, 0, 1), (0, 0, 0, 0, 0), (1, 0, 1, 0, 0)],
                             Termination.DISCONNECT_WITH_DATA, 2),
    "disconnect_without_data": ([(0, 0, 0, 0, 1), (0, 0, 1, 0, 0), (1, 0, 1, 0, 0)],
                                Termination.DISCONNECT_WITHOUT_DATA, 1),
    "master_abort": ([(0, 0, 1, 1, 1)] * 4 + [(1, 0, 1, 1, 1)], Termination.MASTER_ABORT, 0),
    "target_abort": ([(0, 0, 1, 0, 1), (0, 0, 1, 1, 0), (1, 0, 1, 1, 0)], Termination.TARGET_ABORT, 0),
}


@pytest.mark.parametrize("case", CASES)
def test_the_monitor_names_each_termination(case):
    clocks, termination, words = CASES[case]
    mon = TransactionMonitor(n_agents=3)
    seen = {}

    async def bench(ctx):
        def drive(levels):
            for signal, level in zip((mon.frame_n, mon.irdy_n, mon.trdy_n, mon.devsel_n, mon.stop_n), levels):
                ctx.set(signal, level)

        drive(IDLE)
        await ctx.tick()
        drive(ADDRESS)
        ctx.set(mon.cbe_n, PciCommand.MEM_WRITE.value)
        ctx.set(mon.ad, 0x8000_1230)
        ctx.set(mon.frame_drv, 0b010)
        seen["phase at the address"] = ctx.get(mon.phase)
        seen["command at the address"] = ctx.get(mon.command)
        await ctx.tick()
        ctx.set(mon.cbe_n, 0b0000)
        ctx.set(mon.ad, 0xDEAD_BEEF)
        for levels in clocks:
            drive(levels)
            seen.setdefault("phase in data", ctx.get(mon.phase))
            seen.setdefault("termination while running", ctx.get(mon.termination))
            await ctx.tick()
        drive(IDLE)
        await ctx.tick()
        await ctx.tick()
        seen.update(termination=ctx.get(mon.termination), words=ctx.get(mon.words), count=ctx.get(mon.count),
                    command=ctx.get(mon.command), address=ctx.get(mon.address), initiator=ctx.get(mon.initiator),
                    phase=ctx.get(mon.phase), byte_enables=ctx.get(mon.byte_enables))

    sim = Simulator(mon)
    sim.add_clock(30e-9)
    sim.add_testbench(bench)
    sim.run()
    assert seen["phase at the address"] == BusPhase.ADDRESS and seen["phase in data"] == BusPhase.DATA
    assert seen["command at the address"] == PciCommand.MEM_WRITE
    assert seen["termination while running"] == Termination.NONE
    assert (seen["termination"], seen["words"], seen["count"]) == (termination, words, 1)
    assert (seen["command"], seen["address"], seen["initiator"]) == (PciCommand.MEM_WRITE, 0x8000_1230, 0b010)
    assert seen["phase"] == BusPhase.IDLE and seen["byte_enables"] == 0xF
