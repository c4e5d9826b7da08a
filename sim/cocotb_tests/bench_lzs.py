# Ref: sim/bench_lzs.py (the workload it runs on the RTL)
"""cocotb entry point of ``pacsim bench lzs`` on the RTL bus: the corpora of
``PACSIM_BENCH_LZS`` (comma-separated), see :mod:`pacsim.sim.bench_lzs`."""
import os

import cocotb

from pacsim.sim.bench_lzs import run_lzs_bench
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


@cocotb.test()
async def bench_lzs(dut):
    bus = await RtlBus.start(dut)
    rows = [await run_lzs_bench(bus, "rtl", kind) for kind in os.environ["PACSIM_BENCH_LZS"].split(",")]
    await bus.finish()
    write_report({"rows": rows})
