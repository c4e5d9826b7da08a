"""The network script's ``cut`` and ``restore`` statements (sim/network.py
:meth:`Network.cut`): a cut WAN link loses what is sent onto it either way,
each loss recorded as "link cut"; a restored one carries traffic again; a
cut or restore that cannot be carried out is refused and the rest runs."""
import re

import pytest

from router_support import run
from pacsim.sim.network import Network, VirtualClock
from pacsim.sim.network_script import ScriptError, run_network_script
from pacsim.sim.router_session import model_factory

TWO_SITES = """a: add ip int=eth0 ip=10.0.0.1
a: add ip int=eth1 ip=10.9.0.1
a: add ip rou=10.1.0.0 mask=255.255.255.0 int=eth1 next=10.9.0.2
b: add ip int=eth0 ip=10.1.0.1
b: add ip int=eth1 ip=10.9.0.2
b: add ip rou=10.0.0.0 mask=255.255.255.0 int=eth1 next=10.9.0.1
wan a eth1 b eth1
host h1 a eth0 10.0.0.5
host h2 b eth0 10.1.0.5
"""


def network_and_factory():
    network = Network(VirtualClock())
    make, seeds = model_factory(), iter(range(1, 10))

    async def factory(name):
        return await make(name, network.clock, next(seeds))
    return network, factory


def test_cut_loses_both_ways_and_restore_mends():
    async def body():
        network, factory = network_and_factory()
        result = await run_network_script(TWO_SITES + "send h1 h2 udp 10\ncut b eth1\nsend h1 h2 udp 10\n"
                                          "send h2 h1 icmp 8\nwait 1\nrestore a ETH1\nsend h1 h2 icmp 8\n",
                                          factory, network)
        assert (result.sent, result.arrived, result.errors) == (4, 2, 0), result.text
        lines = result.text.splitlines()
        assert "# 0.005 s: link b eth1 - a eth1 cut" in lines
        assert "h1 -> h2 UDP 10 bytes: NOT delivered; lost at a eth1: link cut" in lines
        assert "h2 -> h1 ICMP 8 bytes: NOT answered; lost at b eth1: link cut" in lines
        assert lines[-2:] == ["# 1.005 s: link a eth1 - b eth1 restored", "h1 -> h2 ICMP 8 bytes: reply received"]
        assert [(x.where, x.reason) for x in network.lost] == [("a eth1", "link cut"), ("b eth1", "link cut")]
        assert len(network.hosts["h2"].received) == 2 and not network.cut_ends
        # what crossed the link: the first datagram, then the echo and its reply after the restore
        assert [p.router for p in network.wan] == ["a", "a", "b"]
    run(body())


@pytest.mark.parametrize("statement, message", [
    ("cut a eth1 now", "expected cut NODE IFACE"),
    ("restore a", "expected restore NODE IFACE"),
    ("cut c eth1", "no router called c"),
    ("cut a eth7", "a has no interface eth7"),
    ("cut a eth0", "a eth0 has no WAN link"),
    ("restore b eth1", "the link b eth1 - a eth1 is not cut"),
])
def test_bad_cut_and_restore_are_refused_and_the_rest_runs(statement, message):
    async def body():
        network, factory = network_and_factory()
        script = TWO_SITES + f"{statement}\nsend h1 h2 udp 10\n"
        with pytest.raises(ScriptError, match=f"^line 10: {re.escape(statement)}: {re.escape(message)}") as caught:
            await run_network_script(script, factory, network)
        result = caught.value.result
        assert len(result.refused) == 1 and (result.sent, result.arrived) == (1, 1) and not network.cut_ends
    run(body())


def test_a_cut_link_cut_again_is_refused_and_stays_cut():
    async def body():
        network, factory = network_and_factory()
        with pytest.raises(ScriptError, match=r"^line 11: cut b eth1: the link b eth1 - a eth1 is already cut\Z") \
                as caught:
            await run_network_script(TWO_SITES + "cut a eth1\ncut b eth1\nsend h1 h2 udp 10\n", factory, network)
        assert (caught.value.result.sent, caught.value.result.arrived) == (1, 0)
        assert network.cut_ends == {("a", "eth1"), ("b", "eth1")}
    run(body())
