"""Co-simulation: two routers' ISAKMP daemons, each on its own RTL card
(Verilator, a two-card bench), negotiate main mode with the cards doing
the Diffie-Hellman, prf and ISAKMP encryption (tests/cocotb_ike.py); keys
against the RFC 2409 reference, each card's counters, the protocol checker."""
import pytest

from pacsim.sim.build import BenchConfig, run


@pytest.mark.slow
def test_ike_negotiation_on_two_rtl_cards():
    tests, failed, _ = run(BenchConfig(simulator="verilator", cards=2), "cocotb_ike")
    assert tests == 1 and failed == 0
