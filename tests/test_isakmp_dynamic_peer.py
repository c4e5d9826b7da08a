"""Dynamic peers (R47-R50, B59-B64) between two pacsim routers in virtual
time: the head office ``b`` has an ISAKMP policy ``peer=any`` and an IPsec
policy ``peer=dynamic`` with ``rname``; the remote ``a`` identifies itself
with ``localid``. The peer is learnt from the exchange (its address and
phase-1 name), the bundle is bound to that address, and a peer with
another name, or an IPsec policy bound to another ISAKMP policy, gets no
bundle: refused and counted, nothing leaks."""
import ipaddress
from types import SimpleNamespace

import pytest

from pacsim.firmware.isakmp.constants import IdType
from pacsim.firmware.isakmp.dynamic_peer import admits
from pacsim.sim.isakmp_vpn import IsakmpVpn
from isakmp_vpn_support import both_ways, received, send, vpn_network
from router_support import run


def head_office_lines(vpn, ipsec_extra):
    """b's lines with its ISAKMP policy for any peer and its IPsec policy for a dynamic one."""
    lines = []
    for line in vpn.router_lines("b"):
        if line.startswith("create isakmp policy=i"):
            line = line.replace(f"peer={vpn.wan('a')}", "peer=any") + " localid=head_office"
        elif line.startswith("create ipsec policy=vpn"):
            if "isakmppolicy=" in ipsec_extra:
                line = line.replace(" isakmppolicy=i", "")
            line = line.replace(f"peer={vpn.wan('a')}", "peer=dynamic") + f" {ipsec_extra}"
        lines.append(line)
    return lines


async def dynamic_vpn(vpn, localid, ipsec_extra, b_first=(), b_last=()):
    def lines(name):
        if name == "b":
            return [*b_first, *head_office_lines(vpn, ipsec_extra), *b_last]
        return [f"{line} localid={localid}" if line.startswith("create isakmp policy=i") else line
                for line in vpn.router_lines("a")]
    network = await vpn_network(vpn, lines=lines)
    send(network, vpn, "a", 999)
    await network.run()
    return network


def test_a_dynamic_peer_is_learnt_by_name_and_its_bundle_bound_to_its_address():
    vpn = IsakmpVpn()

    async def scenario():
        network = await dynamic_vpn(vpn, "remote_site", "rname=remote_site")
        await both_ways(network, vpn, 3)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    (ike_b,) = b.isakmp_daemon.sas
    assert ike_b.policy.name == "i" and ike_b.peer == ipaddress.ip_address(vpn.wan("a"))
    assert (ike_b.peer_id.id_type, ike_b.peer_id.data) == (IdType.ID_FQDN, b"remote_site")
    (ike_a,) = a.isakmp_daemon.sas
    assert (ike_a.peer_id.id_type, ike_a.peer_id.data) == (IdType.ID_FQDN, b"head_office")
    bundles = b.ipsec.sad.bundles("vpn")
    assert bundles and {str(bundle.peer) for bundle in bundles} == {vpn.wan("a")}
    # peer=dynamic takes one peer at a time: the same name from another address is refused while a's bundle lives
    policy = b.ipsec.spd.policy("vpn")
    assert admits(policy, ike_b, b.ipsec.sad)
    elsewhere = SimpleNamespace(policy=ike_b.policy, peer=ipaddress.ip_address("198.51.100.9"), peer_id=ike_b.peer_id)
    assert not admits(policy, elsewhere, b.ipsec.sad)


@pytest.mark.parametrize("localid, ipsec_extra, b_first", [
    ("intruder", "rname=remote_site", ()),                                 # another name
    ("remote_site", "rname=remote_site isakmppolicy=j",                    # bound to another ISAKMP policy
     ("create isakmp policy=j peer=192.0.2.7 key=1",)),
])
def test_a_peer_the_dynamic_policy_does_not_admit_gets_no_bundle(localid, ipsec_extra, b_first):
    vpn = IsakmpVpn()

    async def scenario():
        network = await dynamic_vpn(vpn, localid, ipsec_extra, b_first)
        await network.wait(1)
        return network
    network = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert len(b.isakmp_daemon.sas) == 1                       # phase 1 with the shared key is fine
    assert not b.ipsec.sad.bundles("vpn") and not received(network, vpn, "b")
    assert b.isakmp_daemon.counters.get("quick.responder.errors", "respAcquireNoPolicy") >= 1
    assert a.isakmp_daemon.faults == b.isakmp_daemon.faults == []


def test_aggressive_mode_picks_the_peer_any_policy_whose_remoteid_is_the_initiators_name():
    """Two ``peer=any`` policies with their own keys: the initiator's name in
    AM1 chooses the one whose REMOTEID it is (the first, another peer's,
    would have the wrong key)."""
    vpn = IsakmpVpn(isakmp_params="mode=aggressive")
    other = ("create enco key=2 type=general value=0x6f746865722d706565722d736563726574",
             "create isakmp policy=other peer=any key=2 mode=aggressive remoteid=someone_else")

    async def scenario():
        network = await dynamic_vpn(vpn, "remote_site", "rname=remote_site", other,
                                    ("set isakmp policy=i remoteid=remote_site",))
        await both_ways(network, vpn, 2)
        return network
    network = run(scenario())
    b = network.routers["b"]
    (ike_b,) = b.isakmp_daemon.sas
    assert ike_b.policy.name == "i" and ike_b.mode.name == "AGGRESSIVE"
    assert b.isakmp_daemon.counters.get("aggressive", "authFailed") == 0
