"""prenegotiate and srcinterface (R64-R66) between two pacsim routers in
virtual time: ``enable isakmp`` on ``a`` negotiates phase 1 with ``b``
before any traffic, the first packets then need only a quick mode; a
prenegotiating policy created after ``enable isakmp`` does nothing (R65);
``srcinterface`` puts that interface's address on the ISAKMP SA and its
datagrams, and one without an address starts nothing (counted)."""
import ipaddress

from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.isakmp.ike_sa import IkeSaState
from pacsim.firmware.isakmp.rules import Role
from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import both_ways, vpn_network
from router_support import configure_router, run

LAN_A = "10.1.1.1"          # a's eth0 (sim/manual_vpn.py)


async def network_with(vpn, a_params, b_lines=()):
    """Routers a and b joined; a's ISAKMP policy gets ``a_params`` and a's
    ``enable isakmp`` is left out (the test runs it); ``b_lines`` run on b last."""
    def lines(name):
        if name == "b":
            return [*vpn.router_lines("b"), *b_lines]
        return [f"{line} {a_params}" if line.startswith("create isakmp policy") else line
                for line in vpn.router_lines("a") if line != "enable isakmp"]
    return await vpn_network(vpn, lines=lines)


def isakmp_sources(network, sender):
    return {str(parse_ip(w.packet).src) for w in network.wan if w.router == sender}


def test_enable_isakmp_prenegotiates_phase_1_and_traffic_needs_only_quick_mode():
    vpn = IsakmpVpn()

    async def scenario():
        network = await network_with(vpn, "prenegotiate=true")
        a, b = network.routers["a"], network.routers["b"]
        await configure_router(a, ["enable isakmp"])
        await network.wait(0)
        await network.run()
        phase1 = [(sa.sa_id, sa.role, sa.state) for sa in a.isakmp_daemon.sas]
        bundles = len(a.ipsec.sad.bundles("vpn"))
        # R65: created after enable isakmp, a prenegotiating policy does not start phase 1
        await configure_router(b, [f"create isakmp policy=late peer={vpn.wan('a')} key=1 prenegotiate=true"])
        await network.wait(0)
        await both_ways(network, vpn, 2)
        return a, b, phase1, bundles

    a, b, phase1, bundles = run(scenario())
    (prenegotiated, role, state), = phase1
    assert role is Role.INITIATOR and state is IkeSaState.ESTABLISHED and bundles == 0
    assert a.isakmp_daemon.counters.get("general", "doneGood") == 1          # the traffic needed no phase 1
    outcomes = list(a.isakmp_keying.negotiated.values())
    assert outcomes and {o.ike_sa for o in outcomes} == {prenegotiated}      # its quick modes ran over that SA
    assert a.isakmp_daemon.counters.get("main", "initSendSA") == 1
    assert b.isakmp_daemon.counters.get("main", "initSendSA") == 0           # b never started a phase 1
    assert a.ipsec.sad.bundles("vpn")


def test_srcinterface_gives_the_sa_and_its_datagrams_that_interfaces_address():
    vpn = IsakmpVpn()

    async def scenario():
        network = await network_with(vpn, "prenegotiate=true srcinterface=eth0",
                                     [f"create isakmp policy=lan peer={LAN_A} key=1"])
        a = network.routers["a"]
        await configure_router(a, ["enable isakmp"])
        await network.wait(0)
        await network.run()
        return network

    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    (sa_a,), (sa_b,) = a.isakmp_daemon.sas, b.isakmp_daemon.sas
    assert sa_a.local == ipaddress.ip_address(LAN_A) and sa_a.state is IkeSaState.ESTABLISHED
    assert sa_b.policy.name == "lan" and sa_b.peer == ipaddress.ip_address(LAN_A)
    assert isakmp_sources(network, "a") == {LAN_A}


def test_a_srcinterface_without_an_address_starts_nothing_and_is_counted():
    vpn = IsakmpVpn()

    async def scenario():
        network = await network_with(vpn, "prenegotiate=true srcinterface=eth5")
        a = network.routers["a"]
        await configure_router(a, ["enable isakmp"])
        await network.wait(0)
        return network

    network = run(scenario())
    a = network.routers["a"]
    assert not a.isakmp_daemon.sas and not network.wan
    assert a.isakmp_daemon.counters.get("general", "acqPh1XcgStartFailed") == 1
    assert a.isakmp_daemon.faults == []
