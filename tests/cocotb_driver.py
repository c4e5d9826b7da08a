"""cocotb module: every check of :mod:`driver_suite` on the card's RTL.

One cocotb test per check; each gets a fresh :class:`RtlBus` and ends with
the protocol checker's verdict, so every driver check is also a protocol
check. Host memory may be made hostile through ``PACSIM_HOSTMEM`` (a JSON
object of :meth:`RtlBus.configure_memory` settings), which the same checks
must survive. ``PACSIM_SKIP_CHECKS`` (comma-separated check names) leaves
checks out of a run (the Icarus run leaves out the long public-key ones,
which the Verilator runs cover).
"""
import json
import os

import cocotb

import driver_suite
from pacsim.sim.rtl_bus import RtlBus

MEMORY = json.loads(os.environ.get("PACSIM_HOSTMEM", "{}"))
SKIPPED = {name for name in os.environ.get("PACSIM_SKIP_CHECKS", "").split(",") if name}


def _cocotb_test(check):
    async def run(dut):
        bus = await RtlBus.start(dut, **MEMORY)
        await check(bus)
        await bus.finish()
    run.__name__ = run.__qualname__ = check.__name__
    run.__doc__ = check.__doc__
    return cocotb.test(skip=check.__name__ in SKIPPED)(run)


assert SKIPPED <= {check.__name__ for check in driver_suite.CHECKS}, f"unknown checks to skip: {SKIPPED}"
for _check in driver_suite.CHECKS:
    globals()[_check.__name__] = _cocotb_test(_check)
