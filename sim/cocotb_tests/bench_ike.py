# Ref: README.md, "Commands" (bench ike)
"""cocotb entry point of ``pacsim bench ike --bus rtl``: the negotiations of
:mod:`pacsim.sim.bench_ike` between two daemons, each on its own RTL card
of a two-card bench; ``PACSIM_BENCH_IKE`` is the number of negotiations.
The report holds the row and the protocol checker's verdict.
"""
import os

import cocotb

from pacsim.sim.bench_ike import DEFAULT_NEGOTIATIONS, bench_ike, ike_pair_on
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


@cocotb.test()
async def bench_ike_rtl(dut):
    bus = await RtlBus.start(dut)
    pair = await ike_pair_on(bus)
    row = await bench_ike(pair, "rtl", int(os.environ.get("PACSIM_BENCH_IKE", DEFAULT_NEGOTIATIONS)))
    await bus.finish()
    write_report({"rows": [row], "checker": bus.checker_report()})
