"""Crypto regressions on the card's RTL: known answers and the RTL/model/reference differential.

``tests/cocotb_kat.py`` runs the NIST CAVP AES, TDES and SHA-1 files (the
first SHA1Monte checkpoint included: 1000 chained HASH jobs), RFC 1321 MD5,
RFC 2202 HMAC and reference-checked 3DES outer CBC and DES-MAC through the
whole PCI path; ``tests/cocotb_differential.py`` runs random packets on many channels
through the RTL (with hostile host memory) and the behavioural model and
compares both with the reference. Any failed cocotb test or protocol
violation fails the case with the simulator log's tail. Each case runs in
its own folder of the build so parallel workers do not share one.
"""
import json

import pytest

from pacsim.sim.build import BenchConfig, build, run

#: Hostile host-memory mixes of the differential runs (different seeds and rates).
DIFFERENTIAL = {
    "hostile_seed_11": {"memory": {"devsel_speed": 1, "seed": 11, "wait_rate": 40, "initial_wait": 2,
                                   "retry_rate": 32, "disconnect_rate": 32},
                        "diff": {"seed": 101}},
    "hostile_seed_2024": {"memory": {"devsel_speed": 2, "seed": 2024, "wait_rate": 72, "initial_wait": 1,
                                     "retry_rate": 64, "disconnect_rate": 48},
                          "diff": {"seed": 202}},
}
#: The Icarus run: a few packets of at most 512 bytes (Icarus is about ten times slower).
ICARUS_DIFFERENTIAL = {"memory": {"devsel_speed": 1, "seed": 77, "wait_rate": 48, "initial_wait": 2,
                                  "retry_rate": 40, "disconnect_rate": 32},
                       "diff": {"seed": 303, "packets": 60, "max_bytes": 512, "phases": 2}}


def run_in_own_folder(config: BenchConfig, module: str, name: str, env: dict):
    folder = build(config) / "runs" / f"{module}-{name}"
    return run(config, module, test_dir=folder, extra_env=env)


def test_known_answers_verilator():
    run_in_own_folder(BenchConfig(simulator="verilator"), "cocotb_kat", "default", {})


@pytest.mark.parametrize("case", DIFFERENTIAL, ids=list(DIFFERENTIAL))
def test_differential_verilator(case):
    settings = DIFFERENTIAL[case]
    run_in_own_folder(BenchConfig(simulator="verilator"), "cocotb_differential", case,
                      {"PACSIM_HOSTMEM": json.dumps(settings["memory"]), "PACSIM_DIFF": json.dumps(settings["diff"])})


@pytest.mark.icarus
@pytest.mark.slow
def test_differential_icarus():
    run_in_own_folder(BenchConfig(simulator="icarus"), "cocotb_differential", "icarus",
                      {"PACSIM_HOSTMEM": json.dumps(ICARUS_DIFFERENTIAL["memory"]),
                       "PACSIM_DIFF": json.dumps(ICARUS_DIFFERENTIAL["diff"])})
