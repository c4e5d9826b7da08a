"""ISAKMP over IPv6 where the manual allows it (R71, R83, §2.1.4 item 3):
main and aggressive mode, then quick mode, between two pacsim routers
over IPv6 in virtual time, with ESP both ways; and the clear refusals of
what ``ipversion=6`` forbids (heartbeats, XAUTH, srcinterface) and of
respondbadspi towards an IPv6 peer."""
import ipaddress

import pytest

from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import both_ways, send, vpn_network
from router_support import run


@pytest.mark.parametrize("mode", ("main", "aggressive"))
def test_phase_1_and_quick_mode_over_ipv6(mode):
    vpn = IsakmpVpn(ip_version=6, isakmp_params=f"mode={mode}")

    async def scenario():
        network = await vpn_network(vpn)
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 3)
        return network
    network = run(scenario())
    for name, peer in (("a", "b"), ("b", "a")):
        router = network.routers[name]
        (ike,) = router.isakmp_daemon.sas
        assert ike.mode.name.lower() == mode and ike.peer == ipaddress.ip_address(vpn.wan(peer))
        assert ike.local.version == 6
        assert [str(b.peer) for b in router.ipsec.sad.bundles("vpn")] == [str(ipaddress.ip_address(vpn.wan(peer)))]


def test_ipversion_6_refuses_heartbeats_xauth_srcinterface_and_respondbadspi():
    vpn = IsakmpVpn(ip_version=6)

    async def scenario():
        network = await vpn_network(vpn, connect=False)
        a = network.routers["a"]
        lines = ("set isakmp policy=i heartbeatmode=receive", "set isakmp policy=i xauth=server",
                 "set isakmp policy=i xauthname=remote xauthpasswd=friend", "set isakmp policy=i srcinterface=eth0",
                 "set ipsec policy=vpn respondbadspi=true")
        return a, [await a.run(line) for line in lines]
    a, outputs = run(scenario())
    heartbeat, xauth, credentials, srcinterface, badspi = outputs
    assert "HEARTBEATMODE cannot be specified when IPVERSION is 6" in heartbeat
    assert "XAUTH cannot be specified when IPVERSION is 6" in xauth
    assert "XAUTHNAME, XAUTHPASSWD cannot be specified when IPVERSION is 6" in credentials
    assert "SRCINTERFACE cannot be specified when IPVERSION is 6" in srcinterface
    assert "RESPONDBADSPI=TRUE needs action IPSEC, KEYMANAGEMENT=ISAKMP and an IPv4 PEERADDRESS" in badspi
    policy = a.state.isakmp.policy("i")
    assert (policy.heartbeatmode, policy.xauth, policy.xauthname, policy.srcinterface) == ("none", "none", None, None)
    assert not a.ipsec.spd.policy("vpn").respondbadspi
