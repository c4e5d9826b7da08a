"""The driver suite on the card's RTL, on both simulators and with hostile host memory.

Each pytest case runs every check of :mod:`driver_suite` in one simulator
process (``tests/cocotb_driver.py``); any failed check or protocol violation
fails the case with the simulator log's tail.
"""
import json

import pytest

from pacsim.sim.build import BenchConfig, run
from pacsim.sim.regress.campaign import MEMORY_PROFILES

#: Host-memory behaviours the driver and the card must survive unchanged
#: (their settings: :data:`pacsim.sim.regress.campaign.MEMORY_PROFILES`).
HOSTILE = MEMORY_PROFILES


@pytest.mark.parametrize("memory", HOSTILE, ids=list(HOSTILE))
def test_driver_suite_verilator(memory):
    run(BenchConfig(simulator="verilator"), "cocotb_driver",
        extra_env={"PACSIM_HOSTMEM": json.dumps(HOSTILE[memory])})


#: Checks the Icarus run leaves out: the public-key unit's long operations
#: (hundreds of thousands of clocks, ten times slower on Icarus); the
#: Verilator runs cover them. Icarus runs with zero-wait host memory: its job
#: is a second simulator's reading of the same Verilog (four-state values,
#: its own event order); the hostile-memory runs above take the retries,
#: disconnects and waits (the Icarus run with them took 7 min of the suite's
#: 20 on 2 cores).
ICARUS_SKIPS = ("check_modexp_against_pow", "check_modexp_statuses_and_interrupt",
                "check_dh_agrees_with_cryptography")


@pytest.mark.icarus
@pytest.mark.slow
def test_driver_suite_icarus():
    run(BenchConfig(simulator="icarus"), "cocotb_driver",
        extra_env={"PACSIM_HOSTMEM": json.dumps(HOSTILE["zero_wait"]),
                   "PACSIM_SKIP_CHECKS": ",".join(ICARUS_SKIPS)})
