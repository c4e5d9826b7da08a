"""PFS (RFC 2409 section 5.5, the IPsec policy's ``usepfskey=true
group=N``) between two routers on model cards: the quick mode's
Diffie-Hellman secret is recomputed here with Python's ``pow`` from the
key pairs the cards made (each public value checked as g^x mod p), and the
KEYMAT of every SA in both SADs is recomputed with ``hmac`` from it, the
nonces and SKEYID_d (sim/ike_reference.py); traffic passes."""
import pytest
from isakmp_vpn_support import both_ways, check_keymat, send, vpn_network
from router_support import run

from pacsim.reference.modp import GROUPS
from pacsim.sim.isakmp_vpn import IsakmpVpn


def record_key_pairs(router):
    """Wrap ``router``'s card's dh_keypair: every (group, private, public) it returns is listed."""
    made, original = [], router.device.dh_keypair

    async def dh_keypair(group, **options):
        private, public = await original(group, **options)
        made.append((group, private, public))
        return private, public
    router.device.dh_keypair = dh_keypair
    return made


@pytest.mark.parametrize("pfs_group, isakmp_group", ((2, 1), (1, 2), (0, 2)))
def test_pfs_keymat_matches_a_recomputation_from_the_key_pairs(pfs_group, isakmp_group):
    vpn = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha"}, pfs_group=pfs_group,
                    isakmp_params=f"group={isakmp_group}")

    async def scenario():
        network = await vpn_network(vpn)
        pairs = {name: record_key_pairs(router) for name, router in network.routers.items()}
        send(network, vpn, "a", 999)
        await network.run()
        await both_ways(network, vpn, 2)
        return network, pairs
    network, pairs = run(scenario())
    modp = GROUPS[pfs_group]
    quick = {}
    for name, made in pairs.items():
        assert [g.number for g, _, _ in made] == [isakmp_group, pfs_group]   # phase 1's pair, then quick mode's
        group, private, public = made[-1]
        assert public == pow(modp.generator, private, modp.prime)
        quick[name] = (private, public)
    gxy = pow(quick["b"][1], quick["a"][0], modp.prime)
    assert gxy == pow(quick["a"][1], quick["b"][0], modp.prime)
    gxy_bytes = gxy.to_bytes((modp.bits + 7) // 8, "big")
    for router in network.routers.values():
        assert check_keymat(router, gxy_qm=gxy_bytes) == 2            # inbound and outbound SA of the ESP pair
        with pytest.raises(AssertionError, match="KEYMAT"):
            check_keymat(router)                                      # not the PFS-less KEYMAT
