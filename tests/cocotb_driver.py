"""cocotb module: every check of :mod:`driver_suite` on the card's RTL.

One cocotb test per check; each gets a fresh :class:`RtlBus` and ends with
the protocol checker's verdict, so every driver check is also a protocol
check. Host memory may be made hostile through ``PACSIM_HOSTMEM`` (a JSON
object of :meth:`RtlBus.configure_memory` settings), which the same checks
must survive.
"""
import json
import os

import cocotb

import driver_suite
from pacsim.sim.rtl_bus import RtlBus

MEMORY = json.loads(os.environ.get("PACSIM_HOSTMEM", "{}"))


def _cocotb_test(check):
    async def run(dut):
        bus = await RtlBus.start(dut, **MEMORY)
        await check(bus)
        await bus.finish()
    run.__name__ = run.__qualname__ = check.__name__
    run.__doc__ = check.__doc__
    return cocotb.test()(run)


for _check in driver_suite.CHECKS:
    globals()[_check.__name__] = _cocotb_test(_check)
