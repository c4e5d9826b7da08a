"""``show enco`` names who owns each card channel: the IPsec bundle an
ISAKMP quick mode installed (``IPsec SA n``), and the IKE SA (``ISAKMP SA n``) whose prf,
hash and payload encryption run on it; the channels of an IKE SA are freed
when the SA ends (reset isakmp policy, a failed negotiation), the bundle's
stay. Two routers on model cards in virtual time."""
import re

from isakmp_vpn_support import both_ways, sad_records, send, vpn_network
from router_support import run

from pacsim.sim.isakmp_vpn import IsakmpVpn


def owners(show_enco):
    """{channel number: owner} of a ``show enco`` display."""
    rows = re.findall(r"^(\d+)\s+(?:CIPHER|MAC|COMPRESSION)\s+\S+\s+(?:ENCODE|DECODE)\s+\d+\s+\d+\s+\d+\s+(.+)$",
                      show_enco, re.M)
    return {int(number): owner.strip() for number, owner in rows}


def test_show_enco_labels_ike_sa_channels_and_frees_them_with_the_sa():
    vpn = IsakmpVpn()

    async def scenario():
        network = await vpn_network(vpn)
        send(network, vpn, "a", 1)
        await network.run()
        await both_ways(network, vpn, 1, first=10)
        a = network.routers["a"]
        (sa,) = a.isakmp_daemon.sas
        ike_channels = {c.number for c in sa.crypto.channels}
        during = owners(await a.execute("show enco"))
        assert "Error" not in await a.execute("reset isakmp policy=i")
        after = owners(await a.execute("show enco"))
        await both_ways(network, vpn, 1, first=20)           # the bundle does not need the IKE SA
        ipsec_owners = {f"IPsec SA {rec.sa_id}" for rec in sad_records(a)}
        return sa.sa_id, ike_channels, during, after, set(a.device.channels), ipsec_owners
    sa_id, ike_channels, during, after, open_after, ipsec_owners = run(scenario())
    assert ike_channels and {during[n] for n in ike_channels} >= {f"ISAKMP SA {sa_id} prf",
                                                                   f"ISAKMP SA {sa_id} cipher"}
    assert {n for n, owner in during.items() if owner.startswith("ISAKMP SA ")} == ike_channels
    bundle = {n: owner for n, owner in during.items() if n not in ike_channels}
    assert bundle and set(bundle.values()) == ipsec_owners
    assert "-" not in during.values()
    assert after == bundle and open_after == set(bundle)     # the IKE SA's channels are free again


def test_a_failed_negotiation_leaves_no_ike_channels():
    vpn = IsakmpVpn(psk_b=b"not-the-same-key-at-all")

    async def scenario():
        network = await vpn_network(vpn)
        before = {name: set(r.device.channels) for name, r in network.routers.items()}
        send(network, vpn, "a", 1)
        await network.run()
        await network.wait(300)
        return network, before
    network, before = run(scenario())
    a, b = network.routers["a"], network.routers["b"]
    assert b.isakmp_daemon.counters.get("main", "authFailed") >= 1        # the PSKs differ: HASH_I fails at b
    for router in (a, b):
        assert router.isakmp_daemon.counters.get("general", "donePhase1Failed") == 1
        assert router.isakmp_daemon.counters.get("general", "doneGood") == 0
    for name, router in network.routers.items():
        assert not router.isakmp_daemon.sas
        assert set(router.device.channels) == before[name]
