# Ref: sim/lzs_tool.py (the job it runs on the RTL)
"""cocotb entry point of ``pacsim lzs ... --bus rtl``: ``PACSIM_LZS`` is JSON
``{"mode", "source", "target", "limit"}``, see :mod:`pacsim.sim.lzs_tool`."""
import json
import os

import cocotb

from pacsim.sim.lzs_tool import run_lzs_file
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


@cocotb.test()
async def lzs_file(dut):
    bus = await RtlBus.start(dut)
    job = json.loads(os.environ["PACSIM_LZS"])
    summary = await run_lzs_file(bus, job["mode"], job["source"], job["target"], job["limit"])
    await bus.finish()
    write_report(summary)
