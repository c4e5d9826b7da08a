"""``pacsim bench dma`` on the model bus: the same copy, timed by the cost model.

The PCI clocks are the model's estimate (:class:`~.model_bus.PciCosts`), not
a measurement; the RTL row of the same bench is the measurement.
"""
import asyncio
import random
import time

from ..host.device import PacDevice
from .model_bus import ModelBus

__all__ = ["bench_dma_model"]


def bench_dma_model(size: int = 65536) -> dict:
    async def copy():
        bus = ModelBus(memory_size=max(1 << 20, 4 * size))
        device = await PacDevice.probe(bus)
        src, dst = bus.alloc(size), bus.alloc(size)
        data = random.Random(size).randbytes(size)
        bus.host_write(src.address, data)
        wall = time.perf_counter()
        result = await device.copy(src, dst, size)
        wall = time.perf_counter() - wall
        if bus.host_read(dst.address, size) != data:
            raise AssertionError("model copy differs from its source")
        return result, wall, (await device.counters())["DMA_TRANSACTIONS"]

    result, wall, transactions = asyncio.run(copy())
    phases = 2 * size // 4      # every dword is read once and written once
    return {
        "bench": "dma", "bus": "model", "simulator": "model",
        "bytes": size, "pci_clocks": result.clocks,
        "bytes_per_clock": round(size / result.clocks, 4),
        "bus_utilization": round(phases / result.clocks, 4),
        "wall_s": round(wall, 4),
        "sim_clocks_per_second": round(result.clocks / wall) if wall else None,
        "transactions": transactions,
    }
