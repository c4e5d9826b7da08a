"""cocotb module of an RTL cell of ``pacsim regress``: the named checks on the card's RTL.

``PACSIM_REGRESS_CHECKS`` names the checks (comma-separated, from
:func:`pacsim.sim.regress.cells.check_registry`), one cocotb test each on a
fresh :class:`RtlBus` with ``PACSIM_HOSTMEM`` host memory, ending with the
protocol checker's verdict. The coverage bins of the jobs the driver collects
(host memory named ``PACSIM_REGRESS_MEMORY``) are added to the JSON file
``PACSIM_COVERAGE_FILE`` after each test.
"""
import json
import os
from collections import Counter
from pathlib import Path

import cocotb

from pacsim.sim.regress.cells import CHECKS_ENV, COVERAGE_FILE_ENV, MEMORY_NAME_ENV, check_registry, sampling
from pacsim.sim.rtl_bus import RtlBus

MEMORY = json.loads(os.environ.get("PACSIM_HOSTMEM", "{}"))
NAMES = [name for name in os.environ.get(CHECKS_ENV, "").split(",") if name]


def _cocotb_test(check):
    async def run(dut):
        hits = Counter()
        try:
            with sampling(os.environ.get(MEMORY_NAME_ENV, "zero_wait"), hits):
                bus = await RtlBus.start(dut, **MEMORY)
                await check(bus)
                await bus.finish()
        finally:
            path = Path(os.environ[COVERAGE_FILE_ENV]) if os.environ.get(COVERAGE_FILE_ENV) else None
            if path is not None:
                saved = Counter(json.loads(path.read_text())) if path.exists() else Counter()
                path.write_text(json.dumps(saved + hits))
    run.__name__ = run.__qualname__ = check.__name__
    run.__doc__ = check.__doc__
    return cocotb.test(run)


_REGISTRY = check_registry()
assert set(NAMES) <= set(_REGISTRY), f"unknown checks: {set(NAMES) - set(_REGISTRY)}"
for _name in NAMES:
    globals()[_name] = _cocotb_test(_REGISTRY[_name])
