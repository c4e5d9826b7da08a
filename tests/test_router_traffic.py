"""Two routers with manual keys (spec/ipsec-commands.md §6.1 adapted, see
sim/manual_vpn.py) pass UDP and ICMP through ESP, ESP+AH and ESP+IPComp
bundles in tunnel and transport mode, on model cards; every WAN packet
authenticates and decrypts with scapy's SecurityAssociation (layer by
layer), and packets built by scapy are accepted by our routers."""
import pytest
from scapy.layers.inet import ICMP, IP, UDP

from router_support import connect, exchange, pattern, run, scapy_open, scapy_seal, two_routers, wan_from
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.sim.manual_vpn import BUNDLES, MODES, ManualVpn

CASES = [(b, m) for b in BUNDLES for m in MODES]
IDS = [f"{b}-{m}" for b, m in CASES]
SIZES = (0, 1, 99, 500, 1400)


def udp_payloads(packets) -> list[bytes]:
    return [bytes(IP(p)[UDP].payload) for p in packets if parse_ip(p).protocol == 17]


@pytest.mark.parametrize("bundle, mode", CASES, ids=IDS)
def test_traffic_passes_and_the_wan_opens_with_scapy(bundle, mode):
    async def body():
        vpn = ManualVpn(bundle=bundle, mode=mode)
        network = await exchange(vpn, SIZES)
        a, b = network.routers["a"], network.routers["b"]
        assert not network.lost and not a.drop_log and not b.drop_log
        there = [pattern(size, n) for n, size in enumerate(SIZES)]
        back = [pattern(size, n + 100) for n, size in enumerate(SIZES)]
        if mode == "tunnel":
            pc1, pc2 = network.hosts["pc1"], network.hosts["pc2"]
            assert pc2.udp_payloads() == there and pc1.udp_payloads() == back
            assert pc1.echo_replies == [(0x1234, 1)] and pc2.echo_replies == [(0x1234, 2)]
        else:
            assert udp_payloads(b.delivered) == there and udp_payloads(a.delivered[:-1]) == back
            assert IP(a.delivered[-1])[ICMP].type == 0 and IP(a.delivered[-1])[ICMP].seq == 1   # b answered

        # Every WAN packet authenticates and decrypts with scapy; tunnel inner packets are the hosts' packets
        for sender in ("a", "b"):
            for wire in wan_from(network, sender):
                outer = IP(wire)
                assert (outer.src, outer.dst) == (vpn.site(sender).wan, vpn.other(sender).wan)
                assert outer.proto == (51 if bundle == "esp+ah" else 50)
                inner = IP(scapy_open(vpn, sender, wire))
                if mode == "tunnel":
                    assert inner.src.startswith("10.") and inner.dst.startswith("10.")
                    assert inner.ttl == 63                        # decremented once, by the sending router
                else:
                    assert (inner.src, inner.dst) == (outer.src, outer.dst)
                assert inner.haslayer(UDP) or inner.haslayer(ICMP)
        # What scapy read on the WAN is what arrived
        on_wan = [IP(scapy_open(vpn, "a", w)) for w in wan_from(network, "a")]
        assert [bytes(p[UDP].payload) for p in on_wan if p.haslayer(UDP)] == there
        for r in (a, b):
            assert "Error" not in await r.execute("show ipsec sa")
    run(body())


def test_ipcomp_compresses_big_packets_only():
    async def body():
        vpn = ManualVpn(bundle="esp+ipcomp")
        network = await two_routers(vpn)
        network.send_udp("pc1", "pc2", payload=b"compressible " * 100)
        network.send_udp("pc1", "pc2", payload=b"tiny")
        await network.run()
        first, second = (IP(scapy_open(vpn, "a", w)) for w in wan_from(network, "a"))
        sizes = [len(w) for w in wan_from(network, "a")]
        assert sizes[0] < 1300 + 20 + 8               # 1300 bytes of text went much smaller
        assert first[UDP].payload.load == b"compressible " * 100 and second[UDP].payload.load == b"tiny"
        counters = await network.routers["a"].execute("show ipsec sa=0 counter")
        assert "compTooSmall          1" in counters and "compressionGood       1" in counters
        b_policy = await network.routers["b"].execute("show ipsec policy=vpn counter")
        assert "inCompUncompressed        1" in b_policy       # the tiny one came without IPComp
    run(body())


@pytest.mark.parametrize("bundle, mode", CASES, ids=IDS)
def test_packets_built_by_scapy_are_accepted(bundle, mode):
    async def body():
        vpn = ManualVpn(bundle=bundle, mode=mode)
        network = await two_routers(vpn)
        a = network.routers["a"]
        if mode == "tunnel":
            inner = IP(src="10.2.1.10", dst="10.1.1.10", ttl=30) / UDP(sport=53, dport=5353) / b"from scapy"
            network.inject("a", "ppp0", scapy_seal(vpn, "b", inner))
            ping = IP(src="10.2.1.10", dst="10.1.1.10") / ICMP(id=9, seq=3) / b"echo"
            network.inject("a", "ppp0", scapy_seal(vpn, "b", ping))
            await network.run()
            pc1 = network.hosts["pc1"]
            assert pc1.udp_payloads() == [b"from scapy"]
            # pc1 answered the ping; the answer went back through a's bundle to b, and pc2 got it
            assert network.hosts["pc2"].received and IP(network.hosts["pc2"].received[0])[ICMP].type == 0
        else:
            original = IP(src="202.78.65.4", dst="202.45.12.8") / UDP(sport=500, dport=500) / b"transport"
            network.inject("a", "ppp0", scapy_seal(vpn, "b", original))
            await network.run()
            assert [bytes(IP(p)[UDP].payload) for p in a.delivered] == [b"transport"]
        assert not a.drop_log, a.drop_log
    run(body())


def test_vpn_only_and_permit_policies():
    """Without the permit policy the configuration is VPN-only (B35): traffic
    outside the tunnel's selectors is dropped and counted; with it, it passes
    in the clear."""
    async def body():
        for permit in (False, True):
            vpn = ManualVpn(permit_other=permit)
            network = await two_routers(vpn)
            a, b = network.routers["a"], network.routers["b"]
            b.ip.add_interface("eth1", "192.168.7.1", "255.255.255.0")
            network.add_host("web", "b", "eth1", "192.168.7.80")
            network.send_udp("pc1", "web", 20)
            await network.run()
            if permit:
                assert len(network.hosts["web"].received) == 1
                assert IP(network.wan[0].packet).proto == 17          # in the clear
                assert "outPermit                 1" in await a.execute("show ipsec policy=internet counter")
                assert "inPermit                  1" in await b.execute("show ipsec policy=internet counter")
            else:
                assert not network.hosts["web"].received and not network.wan
                assert a.drop_log[-1].reason == "outNoPolicyFound"
                assert "outNoPolicyFound        1" in await a.execute("show ipsec counter=main")
    run(body())


def test_plaintext_for_an_ipsec_policy_is_dropped_inbound():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        network.inject("a", "ppp0", bytes(IP(src="10.2.1.10", dst="10.1.1.10") / UDP() / b"clear"))
        await network.run()
        a = network.routers["a"]
        assert not network.hosts["pc1"].received
        assert a.drop_log[-1].reason == "inActionIpsecFail"
        assert "inActionIpsecFail         1" in await a.execute("show ipsec policy=vpn counter")
    run(body())


def test_disabling_ipsec_closes_the_channels_and_enabling_reopens_them():
    async def body():
        vpn = ManualVpn(bundle="esp+ah")
        network = await two_routers(vpn)
        a = network.routers["a"]
        assert len(a.device.channels) == 6                     # ESP: 2 cipher + 2 MAC; AH: 2 MAC
        await a.execute("disable ipsec")
        assert a.device.channels == {} and a.datapath.bundles == []
        assert "removeDone                1" in await a.execute("show ipsec counter=esp")
        await a.execute("enable ipsec")
        assert len(a.device.channels) == 6
        network.send_udp("pc1", "pc2", 10)
        await network.run()
        assert network.hosts["pc2"].udp_payloads() == [bytes((i * 7) % 256 for i in range(10))]
        await a.execute("destroy ipsec policy=vpn")
        assert a.device.channels == {}
        text = await a.execute("show enco")
        assert "Channels in use ...... 0" in text and "Channels free ........ 64" in text
    run(body())


def test_connect_helper_rejects_hosts_on_wan_links():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn, configure=False)
        for name in ("a", "b"):
            r = network.routers[name]
            await r.execute(f"add ip int=eth0 ip={vpn.site(name).lan}")
            await r.execute(f"add ip int=ppp0 ip={vpn.site(name).wan}")
        connect(network, vpn)
        with pytest.raises(ValueError, match="is a WAN link"):
            network.add_host("x", "a", "ppp0", "202.45.12.9")
    run(body())


def test_udp_tunnel_and_heartbeats():
    """udptunnel=true on both policies: ESP inside UDP 2746 (B70-B76), and a
    heartbeat after 20 idle seconds (udpheartbeat=true) received by the peer."""
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a, b = network.routers["a"], network.routers["b"]
        for r in (a, b):
            assert "Error" not in await r.execute("set ipsec policy=vpn udptunnel=true udpheartbeat=true")
        network.send_udp("pc1", "pc2", payload=b"in UDP")
        await network.run()
        assert network.hosts["pc2"].udp_payloads() == [b"in UDP"]
        wire = IP(network.wan[-1].packet)
        assert wire.proto == 17 and wire[UDP].sport == wire[UDP].dport == 2746
        await network.wait(25)
        main_a, main_b = [await r.execute("show ipsec counter=main") for r in (a, b)]
        for text in (main_a, main_b):                    # each sent one and got the other's
            assert "outUdpHeartBeat         1    inUdpHeartBeat           1" in text
            assert "inProcessPktKeepalive    1" in text
        assert "Status .............................. OPEN" in await a.execute("show ipsec")
    run(body())
