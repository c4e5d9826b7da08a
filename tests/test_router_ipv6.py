"""IPv6 on the router: two routers with manual keys (``ManualVpn(ip_version=6)``,
``ipversion=6`` policies) pass UDP and ICMPv6 between IPv6 hosts through ESP,
ESP+AH and ESP+IPComp in tunnel and transport mode; every WAN packet opens
with scapy's IPv6 ``SecurityAssociation`` and scapy-built IPv6 ESP/AH packets
are accepted. Then forwarding (hop limit, Packet Too Big with the right MTU
for plain and tunnelled traffic, no fragmentation on the way, RFC 2473's
fragmented tunnel packets), reassembly at the router, the IPv6 commands and
displays, and bad input counted. Checksums (UDP and ICMPv6 over the IPv6
pseudo-header) are checked with scapy's ``in6_chksum``."""
import re

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                                ICMPv6ParamProblem, ICMPv6TimeExceeded, IPerror6, IPv6, IPv6ExtHdrFragment,
                                IPv6ExtHdrRouting, fragment6, in6_chksum)
from scapy.layers.ipsec import ESP

from router_support import (configure_router, counter, exchange, pattern, run, scapy_open, scapy_sa, scapy_seal_v6,
                            two_routers,
                            wan_from, wan_from_v6)
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.router.stack import echo_packet, udp_packet
from pacsim.sim.manual_vpn import BUNDLES, MODES, ManualVpn
from pacsim.sim.network import Network, model_router

CASES = [(b, m) for b in BUNDLES for m in MODES]
IDS = [f"{b}-{m}" for b, m in CASES]
SIZES = (0, 1, 99, 500, 1300)
PC1, PC2 = "2001:db8:1:1::10", "2001:db8:2:1::10"
A_WAN, B_WAN = "2001:db8:45:12::8", "2001:db8:78:65::4"


def checksum_ok(packet: bytes) -> bool:
    """The UDP or ICMPv6 checksum of IPv6 ``packet`` is what scapy's
    ``in6_chksum`` computes over the pseudo-header and the message."""
    ip = IPv6(packet)
    upper = ip.payload
    while upper.name.startswith("IPv6 Extension"):
        upper = upper.payload
    data = bytes(upper)
    at = 6 if isinstance(upper, UDP) else 2
    ours = int.from_bytes(data[at:at + 2], "big")
    theirs = in6_chksum(17 if isinstance(upper, UDP) else 58, upper, data[:at] + b"\0\0" + data[at + 2:])
    if isinstance(upper, UDP) and theirs == 0:
        theirs = 0xFFFF                                  # UDP sends a computed 0 as all ones (RFC 768)
    return ours == theirs


def udp_payloads(packets) -> list[bytes]:
    return [bytes(IPv6(p)[UDP].payload) for p in packets if parse_ip(p).protocol == 17]


# -- two routers, manual keys ----------------------------------------------------------------------

@pytest.mark.parametrize("bundle, mode", CASES, ids=IDS)
def test_traffic_passes_and_the_wan_opens_with_scapy(bundle, mode):
    async def body():
        vpn = ManualVpn(bundle=bundle, mode=mode, ip_version=6)
        network = await exchange(vpn, SIZES)
        a, b = network.routers["a"], network.routers["b"]
        assert not network.lost and not a.drop_log and not b.drop_log, (a.drop_log, b.drop_log, network.lost)
        there = [pattern(size, n) for n, size in enumerate(SIZES)]
        back = [pattern(size, n + 100) for n, size in enumerate(SIZES)]
        if mode == "tunnel":
            pc1, pc2 = network.hosts["pc1"], network.hosts["pc2"]
            assert pc2.udp_payloads() == there and pc1.udp_payloads() == back
            assert pc1.echo_replies == [(0x1234, 1)] and pc2.echo_replies == [(0x1234, 2)]
            assert all(checksum_ok(p) for p in pc1.received + pc2.received)
        else:
            assert udp_payloads(b.delivered) == there and udp_payloads(a.delivered[:-1]) == back
            reply = IPv6(a.delivered[-1])
            assert reply.haslayer(ICMPv6EchoReply) and reply[ICMPv6EchoReply].seq == 1    # b answered
            assert (reply.src, reply.dst) == (B_WAN, A_WAN) and checksum_ok(a.delivered[-1])

        # Every WAN packet is IPv6, authenticates and decrypts with scapy; tunnel inner packets are the hosts'
        for sender in ("a", "b"):
            wires = wan_from_v6(network, sender)
            assert wires and len(wires) == len([w for w in network.wan if w.router == sender])
            for wire in wires:
                outer = IPv6(wire)
                assert (outer.src, outer.dst) == (vpn.wan(sender), vpn.wan(vpn.other(sender).name))
                assert outer.nh == (51 if bundle == "esp+ah" else 50)
                inner = IPv6(scapy_open(vpn, sender, wire))
                if mode == "tunnel":
                    assert inner.src.startswith("2001:db8:") and inner.dst.startswith("2001:db8:")
                    assert {inner.src, inner.dst} == {PC1, PC2}
                    assert inner.hlim == 63                     # decremented once, by the sending router
                else:
                    assert (inner.src, inner.dst) == (outer.src, outer.dst)
                assert inner.haslayer(UDP) or inner.haslayer(ICMPv6EchoRequest) or inner.haslayer(ICMPv6EchoReply)
                assert checksum_ok(bytes(inner))
        on_wan = [IPv6(scapy_open(vpn, "a", w)) for w in wan_from_v6(network, "a")]
        assert [bytes(p[UDP].payload) for p in on_wan if p.haslayer(UDP)] == there
        for r in (a, b):
            assert "Error" not in await r.execute("show ipsec sa")
            policy = await r.execute("show ipsec policy=vpn")
            assert f"Local IP Address ............... {vpn.wan(r.name)}" in policy
            assert f"Peer IP Address ................ {vpn.wan(vpn.other(r.name).name)}" in policy
            assert counter(await r.execute("show ipsec policy=vpn counter"), "outProcessDone") >= 3
    run(body())


@pytest.mark.parametrize("bundle, mode", CASES, ids=IDS)
def test_packets_built_by_scapy_are_accepted(bundle, mode):
    async def body():
        vpn = ManualVpn(bundle=bundle, mode=mode, ip_version=6)
        network = await two_routers(vpn)
        a = network.routers["a"]
        if mode == "tunnel":
            inner = IPv6(src=PC2, dst=PC1, hlim=30) / UDP(sport=53, dport=5353) / b"from scapy"
            network.inject("a", "ppp0", scapy_seal_v6(vpn, "b", inner))
            ping = IPv6(src=PC2, dst=PC1) / ICMPv6EchoRequest(id=9, seq=3, data=b"echo")
            network.inject("a", "ppp0", scapy_seal_v6(vpn, "b", ping))
            await network.run()
            pc1, pc2 = network.hosts["pc1"], network.hosts["pc2"]
            assert pc1.udp_payloads() == [b"from scapy"]
            assert IPv6(pc1.received[0]).hlim == 29                  # a forwarded it
            # pc1 answered the ping; the answer went back through a's bundle to b, and pc2 got it
            assert pc2.echo_replies == [(9, 3)] and IPv6(pc2.received[0])[ICMPv6EchoReply].data == b"echo"
        else:
            original = IPv6(src=B_WAN, dst=A_WAN) / UDP(sport=500, dport=500) / b"transport"
            network.inject("a", "ppp0", scapy_seal_v6(vpn, "b", original))
            ping = IPv6(src=B_WAN, dst=A_WAN) / ICMPv6EchoRequest(id=4, seq=5, data=b"to the router")
            network.inject("a", "ppp0", scapy_seal_v6(vpn, "b", ping))
            await network.run()
            assert udp_payloads(a.delivered) == [b"transport"]
            # a answered the echo request through its bundle; b opened it and kept the reply
            reply = IPv6(network.routers["b"].delivered[0])
            assert reply[ICMPv6EchoReply].id == 4 and reply[ICMPv6EchoReply].data == b"to the router"
        assert not a.drop_log, a.drop_log
    run(body())


def test_scapy_esp_with_a_wrong_key_or_plaintext_is_refused():
    async def body():
        vpn = ManualVpn(ip_version=6)
        network = await two_routers(vpn)
        a = network.routers["a"]
        inner = IPv6(src=PC2, dst=PC1) / UDP(sport=1, dport=2) / b"x"
        wrong = scapy_sa(vpn, ESP, "b", tunnel_header=True)
        wrong.auth_key = bytes(len(wrong.auth_key))
        network.inject("a", "ppp0", bytes(wrong.encrypt(inner)))
        network.inject("a", "ppp0", bytes(IPv6(src=PC2, dst=PC1) / UDP() / b"clear"))
        await network.run()
        assert not network.hosts["pc1"].received
        assert [d.reason for d in a.drop_log] == ["authentication failed", "inActionIpsecFail"]
        policy = await a.execute("show ipsec policy=vpn counter")
        assert counter(policy, "inActionIpsecFail") == 1 and counter(policy, "inProcessFail") == 1
        assert counter(await a.execute("show ipv6 counter"), "ipsecDiscards") == 2
    run(body())


def test_ipv4_and_ipv6_policies_on_one_interface():
    """A dual-stack router pair: the IPv4 VPN (ESP) and an ``ipversion=6``
    PERMIT policy on the same ppp0. IPv6 packets match only the IPv6 policy
    (B67) and pass in the clear; IPv4 goes through ESP."""
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn, configure=False)
        for name in ("a", "b"):
            v6 = ManualVpn(ip_version=6)
            site = vpn.site(name)
            await configure_router(network.routers[name], vpn.router_lines(name)[:-1] + [
                "enable ipv6", f"add ipv6 interface=eth0 ipaddress={site.lan6}/64",
                f"add ipv6 interface=ppp0 ipaddress={v6.wan(name)}/64", "add ipv6 route=::/0 interface=ppp0",
                "create ipsec policy=six interface=ppp0 action=permit ipversion=6", "enable ipsec"])
        network.join("a", "ppp0", "b", "ppp0")
        for name, host in (("a", "pc1"), ("b", "pc2")):
            site = vpn.site(name)
            network.add_host(host, name, "eth0", site.host_address, ipv6=site.host_address6)
        network.send_udp("pc1", "pc2", payload=b"over IPv4", version=4)
        network.send_udp("pc1", "pc2", payload=b"over IPv6", version=6)
        await network.run()
        assert network.hosts["pc2"].udp_payloads() == [b"over IPv4", b"over IPv6"]
        assert IP(network.wan[0].packet).proto == 50 and IPv6(network.wan[1].packet).nh == 17
        a = network.routers["a"]
        assert counter(await a.execute("show ipsec policy=six counter"), "outPermit") == 1
        assert counter(await a.execute("show ipsec policy=vpn counter"), "outProcessDone") == 1
        network.ping("pc2", "pc1", version=6)
        await network.run()
        assert network.hosts["pc2"].echo_replies == [(0x1234, 1)]
    run(body())


# -- MTU: Packet Too Big, no fragmentation on the way, RFC 2473 tunnels -----------------------------

def test_packet_too_big_reports_the_largest_inner_packet_the_tunnel_carries():
    """ESP (AES-CBC, HMAC-SHA1-96) in an IPv6 tunnel over ppp0 MTU 1400:
    40 (outer) + 8 (ESP) + 16 (IV) + pad16(inner + 2) + 12 (ICV) <= 1400
    gives 1310 bytes; ESP+AH (24 more bytes) 1294. A packet of that size
    passes, one byte more is refused with a Packet Too Big carrying it."""
    async def body():
        for bundle, largest in (("esp", 1310), ("esp+ah", 1294)):
            vpn = ManualVpn(bundle=bundle, ip_version=6)
            network = await two_routers(vpn)
            a = network.routers["a"]
            await a.execute("set ppp0 mtu=1400")
            header = 40 + 8                                  # IPv6 and UDP
            network.send_udp("pc1", "pc2", payload=pattern(largest - header, 1))
            network.send_udp("pc1", "pc2", payload=pattern(largest - header + 1, 2))
            await network.run()
            pc1 = network.hosts["pc1"]
            assert network.hosts["pc2"].udp_payloads() == [pattern(largest - header, 1)]
            assert all(len(w.packet) <= 1400 for w in network.wan)
            [error] = pc1.icmp_errors
            assert (error.version, error.type, error.code, error.mtu) == (6, 2, 0, largest)
            too_big = IPv6(pc1.received[-1])
            assert too_big.src == "2001:db8:1:1::1" and too_big[ICMPv6PacketTooBig].mtu == largest
            assert checksum_ok(pc1.received[-1])
            quoted = too_big[IPerror6]
            assert (quoted.src, quoted.dst, quoted.hlim, quoted.plen) == (PC1, PC2, 63, largest - 40 + 1)
            text = await a.execute("show ipv6 counter")
            assert counter(text, "inTooBigErrors") == 1 and counter(text, "icmpOutPktTooBigs") == 1
            assert a.drop_log[-1].reason == "inTooBigErrors"
    run(body())


def test_tunnel_mtu_below_1280_fragments_the_tunnel_packet():
    """ppp0 MTU 1280 leaves the ESP tunnel less than 1280 bytes: a packet of
    1280 bytes is sealed and the tunnel packet fragmented by a (its source),
    reassembled by b (RFC 2473 7.1 b); a bigger one gets a Packet Too Big of
    1280 (7.1 a)."""
    async def body():
        vpn = ManualVpn(ip_version=6)
        network = await two_routers(vpn)
        a, b = network.routers["a"], network.routers["b"]
        for r in (a, b):
            await r.execute("set ppp0 mtu=1280")
        network.send_udp("pc1", "pc2", payload=pattern(1280 - 48, 3))
        network.send_udp("pc1", "pc2", payload=pattern(1281 - 48, 4))
        await network.run()
        assert network.hosts["pc2"].udp_payloads() == [pattern(1280 - 48, 3)]
        pieces = [IPv6(w.packet) for w in network.wan]
        assert len(pieces) == 2 and all(p.haslayer(IPv6ExtHdrFragment) and len(bytes(p)) <= 1280 for p in pieces)
        [whole] = wan_from_v6(network, "a")
        assert IPv6(scapy_open(vpn, "a", whole))[UDP].load == pattern(1280 - 48, 3)
        assert [e.mtu for e in network.hosts["pc1"].icmp_errors] == [1280]
        text_a, text_b = await a.execute("show ipv6 counter"), await b.execute("show ipv6 counter")
        assert counter(text_a, "fragOKs") == 1 and counter(text_a, "fragCreates") == 2
        assert counter(text_b, "reasmReqds") == 2 and counter(text_b, "reasmOKs") == 1
    run(body())


async def lan_router() -> Network:
    """One router ``r`` with IPv6 on eth0 (host h0) and eth1 (host h1), no IPsec."""
    network = Network()
    r = network.add_router(await model_router("r", network.clock))
    await configure_router(r, ["enable ipv6", "add ipv6 interface=eth0 ipaddress=2001:db8:a::1/64",
                               "add ipv6 interface=eth1 ipaddress=2001:db8:b::1/64"])
    network.add_host("h0", "r", "eth0", "2001:db8:a::10")
    network.add_host("h1", "r", "eth1", "2001:db8:b::10")
    return network


def test_forwarding_hop_limit_and_packet_too_big_without_ipsec():
    async def body():
        network = await lan_router()
        r, h0, h1 = network.routers["r"], network.hosts["h0"], network.hosts["h1"]
        await r.execute("set eth1 mtu=1280")
        network.send_udp("h0", "h1", payload=b"hi")
        network.send_udp("h0", "h1", payload=bytes(1280 - 48))
        network.send_udp("h0", "h1", payload=bytes(1281 - 48))              # one byte too many
        network.inject("r", "eth0", bytes(IPv6(src="2001:db8:a::10", dst="2001:db8:b::10", hlim=1) / UDP() / b"x"))
        network.inject("r", "eth0", bytes(IPv6(src="2001:db8:a::10", dst="2001:db8:c::1") / UDP() / b"x"))
        await network.run()
        assert h1.udp_payloads() == [b"hi", bytes(1280 - 48)]
        assert IPv6(h1.received[0]).hlim == 63 and checksum_ok(h1.received[0])
        errors = [IPv6(p) for p in h0.received]               # the injected packets came first
        assert errors[0].haslayer(ICMPv6TimeExceeded) and errors[0][ICMPv6TimeExceeded].code == 0
        assert errors[0][IPerror6].hlim == 1
        assert errors[1].haslayer(ICMPv6DestUnreach) and errors[1][ICMPv6DestUnreach].code == 0
        assert errors[2][ICMPv6PacketTooBig].mtu == 1280 and errors[2][IPerror6].plen == 1281 - 40
        assert all(e.src == "2001:db8:a::1" and checksum_ok(bytes(e)) for e in errors)
        assert [(e.type, e.mtu) for e in h0.icmp_errors] == [(3, None), (1, None), (2, 1280)]
        text = await r.execute("show ipv6 counter")
        for name, value in (("inReceives", 5), ("forwDatagrams", 4), ("hopLimitExceeded", 1), ("inNoRoutes", 1),
                            ("inTooBigErrors", 1), ("icmpOutPktTooBigs", 1), ("icmpOutTimeExcds", 1),
                            ("icmpOutDestUnreachs", 1), ("icmpOutMsgs", 3), ("outTransmits", 5)):
            assert counter(text, name) == value, name
        interfaces = await r.execute("show ipv6 interface")
        assert re.search(r"eth0\s+2001:db8:a::1/64\s+1500\s+5\s+3", interfaces), interfaces
        assert re.search(r"eth1\s+2001:db8:b::1/64\s+1280\s+0\s+2", interfaces), interfaces
    run(body())


def test_the_router_answers_echo_reassembles_and_fragments_its_own_replies():
    """An echo request of 3000 bytes in fragments (scapy's ``fragment6``) is
    reassembled by the router, whose reply (the router is its source) is
    fragmented for the 1500-byte MTU and reassembled by the host. An
    incomplete packet times out after 60 s with Time Exceeded code 1."""
    async def body():
        network = await lan_router()
        r, h0 = network.routers["r"], network.hosts["h0"]
        request = IPv6(src="2001:db8:a::10", dst="2001:db8:a::1") / IPv6ExtHdrFragment(id=77) / \
            ICMPv6EchoRequest(id=5, seq=6, data=pattern(3000, 9))
        pieces = fragment6(request, 1280)
        for piece in pieces:
            network.inject("r", "eth0", bytes(piece))
        network.ping("h0", "2001:db8:a::1", 100, sequence=2)
        await network.run()
        assert h0.echo_replies == [(5, 6), (0x1234, 2)]
        reply = IPv6(h0.received[0])
        assert reply[ICMPv6EchoReply].data == pattern(3000, 9) and checksum_ok(h0.received[0])
        assert len(h0.fragments) == 3 and all(len(f) <= 1500 for f in h0.fragments)
        text = await r.execute("show ipv6 counter")
        assert counter(text, "reasmReqds") == len(pieces) and counter(text, "reasmOKs") == 1
        assert counter(text, "fragOKs") == 1 and counter(text, "fragCreates") == 3
        assert counter(text, "icmpInEchos") == 2 and counter(text, "icmpOutEchoReplies") == 2
        # only the first fragment of another request: given up after 60 s, Time Exceeded code 1
        network.inject("r", "eth0", bytes(fragment6(request.copy(), 1280)[0]))
        await network.run()
        assert "1 datagram waiting" in await r.execute("show ipv6 counter")
        await network.wait(61)
        error = IPv6(h0.received[-1])
        assert error[ICMPv6TimeExceeded].code == 1 and checksum_ok(h0.received[-1])
        text = await r.execute("show ipv6 counter")
        assert counter(text, "reasmTimeouts") == 1 and counter(text, "reasmFails") == 1
    run(body())


# -- commands and displays ---------------------------------------------------------------------------

def test_commands_and_displays():
    async def body():
        network = await lan_router()
        r = network.routers["r"]
        lines = {
            "add ipv6 route=2001:db8:2::/48 interface=eth1 nexthop=fe80::2": "successful",
            "add ipv6 route=::/0 interface=eth1": "successful",
            "add ipv6 interface=eth0 ipaddress=2001:db8:a::2/64": "successful",
            "add ipv6 interface=eth2 ipaddress=2001:db8:a:0:1::1/80": "overlaps 2001:db8:a::/64 of eth0",
            "add ipv6 interface=eth2 ipaddress=2001:db8:c::1": "has no prefix length",
            "add ipv6 interface=eth2 ipaddress=fe80::1/64": "is link-local",
            "add ipv6 interface=eth2 ipaddress=ff02::1/64": "is not a unicast address",
            "add ipv6 interface=eth2 ipaddress=2001:db8:c::/64": "Subnet-Router anycast",
            "add ipv6 interface=eth2 ipaddress=2001:db8:c::1/129": "0..128",
            "add ipv6 interface=eth2 ipaddress=10.0.0.1/24": "is not an IPv6 address",
            "add ipv6 route=2001:db8:3::1/48 interface=eth1": "host bits set",
            "add ipv6 route=2001:db8:3::/48 interface=eth7": "has no IPv6 address",
            "add ipv6 route=2001:db8:2::/48 interface=eth1": "exists already",
            "set eth1 mtu=1279": "at least 1280",
            "delete ipv6 interface=eth1 ipaddress=2001:db8:b::1": "used by the IPv6 route",
            "delete ipv6 interface=eth0 ipaddress=2001:db8:a::3": "has no IPv6 address 2001:db8:a::3",
            "delete ipv6 route=2001:db8:9::/48": "no IPv6 route",
        }
        for line, expected in lines.items():
            out = await r.run(line)
            assert expected in out, (line, out)
        assert "Error" not in await r.run("set eth2 mtu=1000")
        assert "MTU of 1000" in await r.run("add ipv6 interface=eth2 ipaddress=2001:db8:c::1/64")
        routes = await r.execute("show ipv6 route")
        rows = [line.split() for line in routes.splitlines()[4:]]
        assert rows == [["2001:db8:a::/64", "::", "eth0", "direct"], ["2001:db8:b::/64", "::", "eth1", "direct"],
                        ["2001:db8:2::/48", "fe80::2", "eth1", "static"], ["::/0", "::", "eth1", "static"]]
        interfaces = await r.execute("show ipv6 interface")
        assert re.search(r"eth0\s+2001:db8:a::1/64\s+1500", interfaces)
        assert re.search(r"\n\s+2001:db8:a::2/64\n", interfaces)             # the second address, own row
        general = await r.execute("show ipv6")
        assert "Status ........................ ENABLED" in general and "Routes ........................ 4 " \
            "(2 direct, 2 static)" in general and "IPv6 Counters" in general
        assert "2001:db8:a::1" not in await r.execute("show ip interface")     # IPv4's display is IPv4's
        for line in ("delete ipv6 route=::/0", "delete ipv6 route=2001:db8:2::/48",
                     "delete ipv6 interface=eth0 ipaddress=2001:db8:a::2/64", "disable ipv6"):
            assert "Error" not in await r.run(line), line
        assert "Status ........................ DISABLED" in await r.execute("show ipv6")
        network.ping("h0", "2001:db8:a::1")
        await network.run()
        assert not network.hosts["h0"].echo_replies and r.drop_log[-1].reason == "inDiscards"
        assert "IPv6 is disabled" in r.drop_log[-1].detail
        assert counter(await r.execute("show ipv6 counter"), "inDiscards") == 1
        help_text = await r.run("add ipv6 ?")
        assert "INTerface=interface" in help_text and "ROUte=ipv6add/prefix-length" in help_text
        assert "ipsec" not in (await r.run("sh ipv6 ?")).lower()
    run(body())


def test_policies_need_the_interfaces_ipv6_address():
    """An ``ipversion=6`` policy's bundle takes its local tunnel end from the
    interface's IPv6 address: without one it is not set up."""
    async def body():
        vpn = ManualVpn(ip_version=6)
        network = Network()
        r = network.add_router(await model_router("a", network.clock))
        lines = [line for line in vpn.router_lines("a") if "ipv6 interface=ppp0" not in line]
        lines.insert(0, "add ip int=ppp0 ip=192.0.2.1")
        outputs = [await r.run(line) for line in lines]
        assert "has no IPv6 address (the tunnel's local end)" in outputs[-1], outputs[-1]
        assert re.search(r"\n0\s+0\s+INVALID", await r.execute("show ipsec policy=vpn"))
    run(body())


# -- bad input -----------------------------------------------------------------------------------

def test_bad_input_is_counted():
    async def body():
        network = await lan_router()
        r, h0 = network.routers["r"], network.hosts["h0"]
        me, router = "2001:db8:a::10", "2001:db8:a::1"
        good = bytes(IPv6(src=me, dst=router) / ICMPv6EchoRequest(id=1, seq=1, data=b"ok"))
        bad_icmp = bytearray(good)
        bad_icmp[-1] ^= 1                                                     # ICMPv6 checksum now wrong
        zero_udp = bytearray(bytes(IPv6(src=me, dst=router) / UDP(sport=1, dport=2) / b"zero"))
        zero_udp[46:48] = b"\0\0"
        bad_udp = bytes(IPv6(src=me, dst=router) / UDP(sport=1, dport=2, chksum=0x1234) / b"bad")
        truncated = good[:-3]                                                 # payload length past the end
        unknown = bytes(IPv6(src=me, dst=router, nh=253) / bytes(8))
        routing = bytes(IPv6(src=me, dst=router) / IPv6ExtHdrRouting(addresses=["2001:db8:b::10"]) / UDP() / b"r")
        for packet in (good, bytes(bad_icmp), bytes(zero_udp), bad_udp, truncated, unknown, routing,
                       bytes(IPv6(src=me, dst="ff02::1") / UDP() / b"m"),
                       bytes(IPv6(src="fe80::10", dst="2001:db8:b::10") / UDP() / b"ll"),
                       bytes(IPv6(src=me, dst="2001:db8:b::10") / UDP() / b"fine"),
                       bytes(IPv6(src=me, dst="2001:db8:b::10") / IPv6ExtHdrFragment(offset=1, m=1, id=3) / b"xyz")):
            network.inject("r", "eth0", packet)
        await network.run()
        assert h0.echo_replies == [(1, 1)]
        text = await r.execute("show ipv6 counter")
        for name, value in (("inReceives", 11), ("inHdrErrors", 2), ("icmpInErrors", 1), ("udpInErrors", 2),
                            ("inUnknownProtos", 1), ("icmpOutParmProblems", 2), ("inAddrErrors", 2),
                            ("icmpInMsgs", 2), ("icmpInEchos", 1), ("forwDatagrams", 2), ("inDelivers", 1)):
            assert counter(text, name) == value, (name, text)
        problems = [IPv6(p)[ICMPv6ParamProblem] for p in h0.received if IPv6(p).haslayer(ICMPv6ParamProblem)]
        assert [(p.code, p.ptr) for p in problems] == [(1, 6), (0, 42)]     # next header; routing type
        assert all(checksum_ok(p) for p in h0.received)
        reasons = [d.reason for d in r.drop_log]
        assert reasons == ["icmpInErrors", "udpInErrors", "udpInErrors", "inHdrErrors", "inUnknownProtos",
                           "inHdrErrors", "inAddrErrors", "inAddrErrors"], reasons
        assert "checksum 0" in r.drop_log[1].detail
        # h1 got the fine packet and the fragment, which routers forward as they are
        assert len(network.hosts["h1"].received) == 1 and len(network.hosts["h1"].fragments) == 1
    run(body())


def test_ipv6_on_an_interface_with_only_ipv4_policies_is_dropped():
    """ppp0 has the IPv4 VPN only (VPN-only, B35): an IPv6 packet matches
    no policy; an IPv6 ESP packet for an unknown SPI is dropped too."""
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        for line in ("enable ipv6", "add ipv6 interface=ppp0 ipaddress=2001:db8:45:12::8/64",
                     "add ipv6 interface=eth0 ipaddress=2001:db8:1:1::1/64"):
            assert "Error" not in await a.run(line)
        network.inject("a", "ppp0", bytes(IPv6(src=B_WAN, dst=PC1) / UDP() / b"v6"))
        esp = scapy_sa(ManualVpn(ip_version=6), ESP, "b", tunnel_header=True)
        esp.spi = 0x7777
        network.inject("a", "ppp0", bytes(esp.encrypt(IPv6(src=PC2, dst=PC1) / UDP() / b"v6")))
        await network.run()
        assert [d.reason for d in a.drop_log] == ["inNoPolicyFound", "unknown SPI"]
        assert counter(await a.execute("show ipsec counter=main"), "inNoPolicyFound") == 1
        assert counter(await a.execute("show ipv6 counter"), "ipsecDiscards") == 2
        assert not wan_from(network, "a")
    run(body())


def test_host_and_packet_helpers_match_scapy():
    """Our IPv6 UDP and ICMPv6 echo builders give scapy's bytes; hosts take
    IPv6 addresses on the router interface's prefixes only."""
    src, dst = "2001:db8:a::10", "2001:db8:b::10"
    assert udp_packet(src, dst, 5000, 6000, b"payload") == \
        bytes(IPv6(src=src, dst=dst) / UDP(sport=5000, dport=6000) / b"payload")
    assert echo_packet(src, dst, 3, 4, b"data") == bytes(IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=3, seq=4,
                                                                                                   data=b"data"))
    assert echo_packet(dst, src, 3, 4, b"data", reply=True) == \
        bytes(IPv6(src=dst, dst=src) / ICMPv6EchoReply(id=3, seq=4, data=b"data"))

    async def body():
        network = await lan_router()
        with pytest.raises(ValueError, match="not a free host address"):
            network.add_host("x", "r", "eth0", "2001:db8:b::99")
        with pytest.raises(ValueError, match="no IPv4 address"):
            network.add_host("x", "r", "eth0", "10.0.0.1", ipv6="2001:db8:a::11")
        with pytest.raises(ValueError, match="already has address"):
            network.add_host("x", "r", "eth0", ipv6="2001:db8:a::10")
        with pytest.raises(ValueError, match="no IPv4 address"):
            network.address_of("h0", 4)
        assert str(network.address_of("h0")) == "2001:db8:a::10"
    run(body())


def test_manual_vpn_ipv6_script():
    vpn = ManualVpn(bundle="esp+ah", mode="transport", ip_version=6)
    lines = vpn.router_lines("b")
    assert "enable ipv6" in lines and "add ipv6 route=::/0 interface=ppp0" in lines
    assert any(line.endswith(f"peer={A_WAN} ipversion=6") for line in lines)
    assert f"set ipsec policy=vpn laddress={B_WAN} raddress={A_WAN}" in lines
    assert "host pc2 b eth0 2001:db8:2:1::10" in vpn.network_script()
    with pytest.raises(ValueError, match="IP version"):
        ManualVpn(ip_version=5)
