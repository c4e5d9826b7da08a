"""The driver suite on the card's RTL, on both simulators and with hostile host memory.

Each pytest case runs every check of :mod:`driver_suite` in one simulator
process (``tests/cocotb_driver.py``); any failed check or protocol violation
fails the case with the simulator log's tail.
"""
import json

import pytest

from pacsim.sim.build import BenchConfig, run

#: Host-memory behaviours the driver and the card must survive unchanged.
HOSTILE = {
    "zero_wait": {},
    "slow_random": {"devsel_speed": 2, "seed": 7, "wait_rate": 96, "initial_wait": 3,
                    "retry_rate": 48, "disconnect_rate": 24},
    "medium_retry_disconnect": {"devsel_speed": 1, "seed": 1234, "wait_rate": 32,
                                "retry_rate": 128, "disconnect_rate": 64},
}


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
