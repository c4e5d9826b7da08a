# Ref: sim/bench_pk.py (the workload it runs on the RTL)
"""cocotb entry point of ``pacsim bench pk`` on the RTL bus: the runs of
``PACSIM_BENCH_PK`` (``bits:exponent_bits`` comma-separated), see
:mod:`pacsim.sim.bench_pk`."""
import os

import cocotb

from pacsim.sim.bench_pk import run_pk_bench
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


@cocotb.test()
async def bench_pk(dut):
    bus = await RtlBus.start(dut)
    rows = []
    for run in os.environ["PACSIM_BENCH_PK"].split(","):
        bits, exponent_bits = map(int, run.split(":"))
        rows.append(await run_pk_bench(bus, "rtl", bits, exponent_bits))
    await bus.finish()
    write_report({"rows": rows})
