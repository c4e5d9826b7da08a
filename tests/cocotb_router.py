"""cocotb module: the two-router traffic of test_router_traffic with the
card's RTL doing the crypto (a handful of packets per case).

The bench has one card. ``rtl_and_model_*``: router ``a`` on the RTL card
(every job over the simulated PCI bus, DMA and engines in RTL), router ``b``
on a model card, so each packet is sealed by one and opened by the other.
``both_on_rtl``: both routers' data planes share the one RTL card (each its
own channels), so every encode and decode of both ends is RTL. The WAN
packets are opened with scapy, the card's algorithm counters are read over
PCI into ``show ipsec counter=alg``, and each test ends with the protocol
checker's verdict.
"""
import random

import cocotb
from scapy.layers.inet import IP, UDP

from router_support import configure_router, connect, scapy_open, wan_from
from pacsim.firmware.router import Router
from pacsim.host.device import PacDevice
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import Network, VirtualClock, model_router
from pacsim.sim.rtl_bus import RtlBus


async def network_on_rtl(dut, vpn: ManualVpn, *, shared: bool):
    bus = await RtlBus.start(dut)
    clock = VirtualClock()
    network = Network(clock)
    device = await PacDevice.probe(bus)
    network.add_router(Router("a", device, clock=clock, random_bytes=random.Random(1).randbytes, card="PAC (RTL)"))
    if shared:
        network.add_router(Router("b", device, clock=clock, random_bytes=random.Random(2).randbytes, card="PAC (RTL)"))
    else:
        network.add_router(await model_router("b", clock, seed=2))
    for name in ("a", "b"):
        await configure_router(network.routers[name], vpn.router_lines(name))
    connect(network, vpn)
    return bus, network


async def traffic(network: Network, vpn: ManualVpn) -> None:
    if vpn.mode == "tunnel":
        sent = [network.send_udp("pc1", "pc2", 100), network.send_udp("pc1", "pc2", 700)]
        back = network.send_udp("pc2", "pc1", 333)
        network.ping("pc1", "pc2", 40)
        await network.run()
        drops = {name: list(r.drop_log) for name, r in network.routers.items()}
        assert network.hosts["pc2"].udp_payloads() == sent, drops
        assert network.hosts["pc1"].udp_payloads() == [back], drops
        assert network.hosts["pc1"].echo_replies == [(0x1234, 1)]
    else:
        a, b = network.routers["a"], network.routers["b"]
        network.originate("a", a.send_echo(vpn.site("b").wan, 3, 1, b"transport mode ping"))
        network.originate("b", b.send_echo(vpn.site("a").wan, 4, 1, b"and back"))
        await network.run()
        assert len(a.delivered) == 1 and len(b.delivered) == 1          # each got its echo reply
    assert not network.lost, network.lost
    for name in ("a", "b"):
        assert not network.routers[name].drop_log, network.routers[name].drop_log
    for sender in ("a", "b"):
        for wire in wan_from(network, sender):
            inner = IP(scapy_open(vpn, sender, wire))               # authenticates and decrypts with scapy
            assert inner.version == 4
            if inner.haslayer(UDP):
                assert len(bytes(inner[UDP].payload)) in (100, 700, 333)


async def check_counters(network: Network) -> None:
    alg = await network.routers["a"].execute("show ipsec counter=alg")
    good = [int(line.split()[-1]) for line in alg.splitlines() if "aesEncodeGood" in line]
    assert good and good[0] > 0, alg                                # read from the RTL card's ALG_COUNTERS


def _case(bundle: str, mode: str, shared: bool):
    async def test(dut):
        vpn = ManualVpn(bundle=bundle, mode=mode)
        bus, network = await network_on_rtl(dut, vpn, shared=shared)
        await traffic(network, vpn)
        await check_counters(network)
        dut._log.info("%s %s: %d WAN packets, %d PCI clocks", bundle, mode, len(network.wan), bus.clocks())
        await bus.finish()
    name = f"{'both_on_rtl' if shared else 'rtl_and_model'}_{bundle.replace('+', '_')}_{mode}"
    test.__name__ = test.__qualname__ = name
    return name, cocotb.test()(test)


for _bundle, _mode, _shared in [(b, m, False) for b in ("esp", "esp+ah", "esp+ipcomp") for m in ("tunnel", "transport")] \
        + [("esp+ah", "tunnel", True), ("esp+ipcomp", "transport", True)]:
    _name, _test = _case(_bundle, _mode, _shared)
    globals()[_name] = _test
del _bundle, _mode, _shared, _name, _test
