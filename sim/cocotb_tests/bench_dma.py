# Ref: docs/rings.md, "Jobs" (COPY)
"""cocotb entry point of ``pacsim bench dma`` on the RTL bus.

Copies ``PACSIM_BENCH_BYTES`` (default 64 KiB) of random data with
zero-wait-state host memory and reports PCI clocks, bus utilisation (data
phases per clock, from the host-memory target's counters) and simulator
speed. The copy is checked byte for byte and the protocol checker must be
clean, so a fast but wrong card cannot post a figure.
"""
import os
import random
import time

import cocotb

from pacsim.host.device import PacDevice
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus


@cocotb.test()
async def bench_dma(dut):
    size = int(os.environ.get("PACSIM_BENCH_BYTES", 65536))
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    src, dst = bus.alloc(size), bus.alloc(size)
    data = random.Random(size).randbytes(size)
    bus.host_write(src.address, data)
    before = bus.memory_stats()
    wall = time.perf_counter()
    result = await device.copy(src, dst, size)
    wall = time.perf_counter() - wall
    after = bus.memory_stats()
    assert bus.host_read(dst.address, size) == data, "copied data differs from the source"
    await bus.finish()
    phases = (after["reads"] - before["reads"]) + (after["writes"] - before["writes"])
    write_report({
        "bench": "dma", "bus": "rtl", "simulator": cocotb.SIM_NAME.split()[0].lower(),
        "bytes": size, "pci_clocks": result.clocks,
        "bytes_per_clock": round(size / result.clocks, 4),
        "bus_utilization": round(phases / result.clocks, 4),
        "wall_s": round(wall, 3),
        "sim_clocks_per_second": round(result.clocks / wall),
        "transactions": (await device.counters())["DMA_TRANSACTIONS"],
    })
