# Ref: sim/bench_sim.py (the workloads it times on the RTL)
"""cocotb entry point of ``pacsim bench sim``: the simulator's own speed.

Runs the DMA workload (a copy of ``PACSIM_BENCH_BYTES`` random bytes,
checked byte for byte) and the crypto workload (the ESP batch of
:func:`~pacsim.sim.bench_model.run_crypto_bench` for ``PACSIM_BENCH_ALG``
and ``PACSIM_BENCH_SIZE`` payload bytes, checked against ``cryptography``)
and reports, per workload, the PCI clocks simulated and the wall seconds
they took. The protocol checker must stay clean. With
``PACSIM_HOST_SCRIPT`` set, the DMA workload's host side is recorded there
(:mod:`pacsim.sim.host_script`) for the C++ harness.
"""
import os
import random
import time
from pathlib import Path

import cocotb

from pacsim.host.device import PacDevice
from pacsim.sim.host_script import HostScript
from pacsim.sim.bench_model import run_crypto_bench
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus
from pacsim.sim.testbench import HOSTMEM_BASE


async def _dma_workload(bus, size: int) -> tuple:
    """Copy ``size`` random bytes on the card; return ``(PCI clocks, wall seconds)``."""
    script_path = os.environ.get("PACSIM_HOST_SCRIPT")
    if script_path:
        bus.script = HostScript(bus.clocks)
    device = await PacDevice.probe(bus)
    src, dst = bus.alloc(size), bus.alloc(size)
    data = random.Random(size).randbytes(size)
    bus.host_write(src.address, data)
    if bus.script:
        bus.script.mark("M")
    wall, start = time.perf_counter(), bus.clocks()
    await device.copy(src, dst, size)
    clocks, wall = bus.clocks() - start, time.perf_counter() - wall
    assert bus.host_read(dst.address, size) == data, "copied data differs from the source"
    if bus.script:
        bus.script.mark("E")
        first = (dst.address - HOSTMEM_BASE) // 4
        bus.script.expect(first, [int.from_bytes(data[i:i + 4], "little") for i in range(0, size - size % 4, 4)])
        Path(script_path).write_text(bus.script.text())
        bus.script = None
    bus.free(src)
    bus.free(dst)
    return clocks, wall


@cocotb.test()
async def bench_sim(dut):
    bus = await RtlBus.start(dut)
    size = int(os.environ["PACSIM_BENCH_BYTES"])
    alg, packet_bytes = os.environ["PACSIM_BENCH_ALG"], int(os.environ["PACSIM_BENCH_SIZE"])
    rows = []
    for name, run in ((f"dma-{size}", lambda: _dma_workload(bus, size)),
                      (f"crypto-{alg}-{packet_bytes}", lambda: run_crypto_bench(bus, alg, packet_bytes))):
        clocks, wall = await run()
        rows.append({"workload": name, "clocks": clocks, "wall_s": wall})
    await bus.finish()
    write_report({"rows": rows})
