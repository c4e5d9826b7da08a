"""cocotb entry point of ``pacsim demo``: probe the card over PCI and run copies.

Everything printed by the demo comes from this run: the configuration
header as read over the bus, the BAR the driver assigned, the card's
identity, copies completed by interrupt (checked against the source), one
refused job, the card's counters and the protocol checker's verdict.
"""
import random

import cocotb

from pacsim.hdl.regmap import CONFIG
from pacsim.host.device import PacDevice
from pacsim.host.errors import JobFailed
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus

COPY_SIZES = (64, 4096, 65536)


@cocotb.test()
async def demo(dut):
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    header = {}
    for reg in CONFIG:
        header[reg.name] = {"offset": reg.offset, "value": await bus.config_read(device.device, reg.offset)}
    copies = []
    rng = random.Random(2026)
    for size in COPY_SIZES:
        src, dst = bus.alloc(size), bus.alloc(size)
        data = rng.randbytes(size)
        bus.host_write(src.address, data)
        result = await device.copy(src, dst, size)
        copies.append({"bytes": size, "src": src.address, "dst": dst.address,
                       "pci_clocks": result.clocks,
                       "bytes_per_clock": round(size / result.clocks, 3),
                       "verified": bus.host_read(dst.address, size) == data})
        bus.free(src)
        bus.free(dst)
    try:
        await device.copy(0x1002, 0x2000, 64)
        rejected = "the card accepted an unaligned source"
    except JobFailed as error:
        rejected = str(error)
    counters = await device.counters()
    await bus.finish()
    write_report({
        "simulator": cocotb.SIM_NAME, "device": device.device, "bar0": device.bar0,
        "identity": {k: v if not isinstance(v, tuple) else list(v)
                     for k, v in vars(device.identity).items()},
        "config_header": header, "copies": copies, "rejected": rejected,
        "counters": counters, "config_status": await device.config_status(),
        "checker": bus.checker_report(), "clocks": bus.clocks(),
    })
    assert all(c["verified"] for c in copies), "a copy did not match its source"
