"""The sealed WAN packets of two manually keyed routers are a fixed function
of their configuration and seeds: 200 packets sealed through the ESP+AH
tunnel (every IV from a seeded generator, fixed keys) hash to a recorded
sha256. Guards refactorings of the router and the SA kernel: a change that
alters a single byte on the wire (IV draw order, sequence numbers, padding,
fragment identification) changes the digest.

# Ref: ../shared/spec/ipsec-commands.md §6.1 (the scenario of sim/manual_vpn.py)
"""
import hashlib

from pacsim.sim.manual_vpn import ManualVpn
from router_support import pattern, run, two_routers

#: sha256 over the 200 WAN packets, recorded on the base commit (4cd0d98) before the SA kernel.
SEALED_DIGEST = "c5a71921685548a7bcf8d4412cec4e05e1876aec6bf7f552880b16ca8402e529"


async def _sealed_wan() -> list[bytes]:
    vpn = ManualVpn(bundle="esp+ah", mode="tunnel")
    network = await two_routers(vpn)
    for n in range(100):
        network.send_udp("pc1", "pc2", payload=pattern(40 + 7 * n, n))
        network.send_udp("pc2", "pc1", payload=pattern(30 + 5 * n, n + 100))
        await network.run()
    return [w.packet for w in network.wan]


def test_200_sealed_packets_hash_as_recorded():
    wan = run(_sealed_wan())
    assert len(wan) == 200
    digest = hashlib.sha256(b"".join(len(p).to_bytes(2, "big") + p for p in wan)).hexdigest()
    assert digest == SEALED_DIGEST
