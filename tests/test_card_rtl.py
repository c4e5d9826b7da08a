"""The card's PCI corner cases (``tests/cocotb_card.py``) on both simulators."""
import pytest

from pacsim.sim.build import BenchConfig, run


def test_card_corner_cases_verilator():
    run(BenchConfig(simulator="verilator"), "cocotb_card")


@pytest.mark.icarus
@pytest.mark.slow
def test_card_corner_cases_icarus():
    run(BenchConfig(simulator="icarus"), "cocotb_card")
