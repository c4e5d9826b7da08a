"""Co-simulation: two routers, each on its own RTL card (Verilator, a
two-card bench), negotiate main mode and quick mode with the cards doing
the Diffie-Hellman, prf, ISAKMP and ESP encryption, and pass a datagram
each way (tests/cocotb_ike.py): keys against the RFC 2409 references, the
ESP opened by scapy, each card's counters, the protocol checker. The same
network and checks on two model cards first (fast), so a failure of the
checks themselves shows without the RTL."""
import asyncio

import pytest

from cocotb_ike import check, negotiate_and_send, vpn_on
from pacsim.host.device import PacDevice
from pacsim.sim.build import BenchConfig, run
from pacsim.sim.model_bus import ModelBus


def test_vpn_checks_on_two_model_cards():
    async def body():
        devices = [await PacDevice.probe(ModelBus()) for _ in range(2)]
        network = await vpn_on(devices)
        await negotiate_and_send(network)
        return network, devices
    network, devices = asyncio.run(body())
    check(network)
    assert [d.pk_operations for d in devices] == [2, 2]


def test_vpn_checks_fail_on_a_wrong_key():
    async def body():
        network = await vpn_on([await PacDevice.probe(ModelBus()) for _ in range(2)])
        await negotiate_and_send(network)
        return network
    network = asyncio.run(body())
    (sa,) = list(network.routers["b"].isakmp_daemon.sas)
    sa.keys = type(sa.keys)(**dict(vars(sa.keys), skeyid_d=bytes(20)))
    with pytest.raises(AssertionError):
        check(network)


@pytest.mark.slow
def test_ike_negotiation_on_two_rtl_cards():
    tests, failed, _ = run(BenchConfig(simulator="verilator", cards=2), "cocotb_ike")
    assert tests == 1 and failed == 0
