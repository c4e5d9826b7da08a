"""Interface MTUs, IPv4 fragmentation and reassembly (RFC 791, RFC 815), and
"fragmentation needed" errors (RFC 1191, RFC 4301 8.2.1), checked against
scapy: our fragments against scapy's and its ``defragment``, scapy's
fragments fed to our reassembly and routers, scapy's ESP/AH on the WAN of
two routers whose tunnel packets are cut by ``set ppp0 mtu=...`` and joined
again by the peer, and the policy's ``dfbit`` deciding between fragments
and an ICMP error with the MTU the tunnel leaves."""
import random
import re

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPOption_RR, IPOption_Security, IPerror, defragment
from scapy.layers.inet import fragment as scapy_fragment

from router_support import counter, run, scapy_open, scapy_seal, two_routers, wan_from
from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.router.fragments import (DontFragment, MtuTooSmall, Outcome, Reassembly, fragment)
from pacsim.firmware.router.mtu import sealed_length
from pacsim.firmware.router.stack import may_send_icmp_error
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import Network, model_router

PC1, PC2 = "10.1.1.10", "10.2.1.10"


def scapy_checksum_ok(packet: bytes) -> bool:
    """scapy recomputes the IP header checksum and gets the one we wrote."""
    parsed = IP(packet)
    again = parsed.copy()
    del again.chksum
    return IP(bytes(again)).chksum == parsed.chksum


def scapy_join(packets) -> list:
    """scapy's ``defragment`` of ``packets`` (bytes), given in the order it
    expects (by Identification, then offset)."""
    return list(defragment(sorted((IP(p) for p in packets), key=lambda ip: (ip.id, ip.frag))))


def udp(src, dst, size: int, *, ident: int = 1, df: bool = False, seed: int = 0, **options) -> IP:
    payload = random.Random(seed).randbytes(size)
    return IP(src=src, dst=dst, id=ident, flags="DF" if df else 0, **options) / UDP(sport=5000, dport=6000) / payload


# -- fragmentation (RFC 791 3.2) against scapy ------------------------------------------------------------

@pytest.mark.parametrize("mtu", [68, 576, 1300, 1499])
@pytest.mark.parametrize("size", [100, 1472, 4000])
def test_fragments_are_scapys_and_defragment(mtu, size):
    original = bytes(udp("10.0.0.1", "10.0.1.1", size, ident=0x4242))
    pieces = fragment(parse_ip(original), mtu)
    if len(original) <= mtu:
        assert pieces == [original]
        return
    room = (mtu - 20) // 8 * 8
    assert pieces == [bytes(f) for f in scapy_fragment(IP(original), fragsize=room)]   # byte for byte
    for n, piece in enumerate(pieces):
        ip = IP(piece)
        assert len(piece) <= mtu and ip.id == 0x4242 and scapy_checksum_ok(piece)
        assert ip.frag == n * room // 8                              # offsets in 8-byte units
        assert ("MF" in ip.flags) == (n < len(pieces) - 1) and "DF" not in ip.flags
    assert bytes(scapy_join(reversed(pieces))[0]) == original


def test_only_copied_options_go_to_later_fragments():
    original = bytes(udp("10.0.0.1", "10.0.1.1", 400, ident=9,
                         options=[IPOption_Security(), IPOption_RR(routers=["192.0.2.1"])]))
    pieces = fragment(parse_ip(original), 200)
    first, later = IP(pieces[0]), [IP(p) for p in pieces[1:]]
    assert [o.option for o in first.options if o.option] == [2, 7]          # security (130) and record route (7)
    for ip in later:
        assert [(o.copy_flag, o.option) for o in ip.options if o.option] == [(1, 2)]   # security only
        assert ip.ihl == 8 and scapy_checksum_ok(bytes(ip))
    assert all(len(p) <= 200 for p in pieces)
    whole = scapy_join(pieces)[0]
    assert bytes(whole[UDP]) == bytes(IP(original)[UDP])


def test_a_fragment_is_cut_again_with_offsets_from_its_own():
    original = bytes(udp("10.0.0.1", "10.0.1.1", 2000, ident=5))
    first_cut = fragment(parse_ip(original), 1000)
    second_cut = [p for piece in first_cut for p in fragment(parse_ip(piece), 300)]
    assert all(len(p) <= 300 for p in second_cut) and len(second_cut) > len(first_cut)
    assert "MF" not in IP(second_cut[-1]).flags
    assert bytes(scapy_join(second_cut)[0]) == original


def test_df_and_ipv6_are_not_fragmented():
    with pytest.raises(DontFragment):
        fragment(parse_ip(bytes(udp("10.0.0.1", "10.0.1.1", 1000, df=True))), 576)
    assert len(fragment(parse_ip(bytes(udp("10.0.0.1", "10.0.1.1", 1000, df=True))), 576, ignore_df=True)) == 2
    from scapy.layers.inet6 import IPv6
    with pytest.raises(MtuTooSmall):
        fragment(parse_ip(bytes(IPv6(src="::1", dst="::2") / UDP() / bytes(1000))), 576)


# -- reassembly (RFC 815) of scapy's fragments --------------------------------------------------------------

def feed(reassembly: Reassembly, packets, now: float = 0.0):
    events = []
    for p in packets:
        events += reassembly.expire(now) + reassembly.add(parse_ip(bytes(p)), now)
    return events


@pytest.mark.parametrize("order", ["forward", "reverse", "shuffled"])
def test_reassembly_of_scapy_fragments_in_any_order(order):
    original = udp("10.0.0.1", "10.0.1.1", 3000, ident=77)
    pieces = [bytes(f) for f in scapy_fragment(original, fragsize=256)]
    if order == "reverse":
        pieces.reverse()
    elif order == "shuffled":
        random.Random(3).shuffle(pieces)
    reassembly = Reassembly()
    events = feed(reassembly, pieces)
    assert [e.outcome for e in events] == [Outcome.HELD] * (len(pieces) - 1) + [Outcome.REASSEMBLED]
    assert events[-1].packet == bytes(original) and len(reassembly) == 0


def test_reassembly_refuses_overlaps_conflicting_ends_and_malformed_fragments():
    pieces = [bytes(f) for f in scapy_fragment(udp("10.0.0.1", "10.0.1.1", 600, ident=1), fragsize=128)]
    # an overlap with other bytes drops the datagram; an exact repeat is only dropped itself
    overlapping = IP(pieces[1])
    overlapping.frag += 1
    del overlapping.chksum
    overlapping = bytes(overlapping)
    assert feed(Reassembly(), [pieces[0], pieces[1], overlapping])[-1].outcome is Outcome.INCONSISTENT
    events = feed(Reassembly(), [pieces[0], pieces[0]] + pieces[1:])
    assert [e.outcome for e in events].count(Outcome.DUPLICATE) == 1 and events[-1].outcome is Outcome.REASSEMBLED
    # two different ends
    last = IP(pieces[-1])
    shorter = IP(src=last.src, dst=last.dst, id=last.id, proto=last.proto, frag=last.frag) / bytes(8)
    assert feed(Reassembly(), [pieces[-1], bytes(shorter)])[-1].outcome is Outcome.INCONSISTENT
    # malformed: MF with 7 bytes, data past 65535; neither disturbs the datagram in progress
    reassembly = Reassembly()
    feed(reassembly, pieces[:2])
    odd = IP(src="10.0.0.1", dst="10.0.1.1", id=1, proto=17, flags="MF", frag=40) / bytes(7)
    huge = IP(src="10.0.0.1", dst="10.0.1.1", id=1, proto=17, frag=8189) / bytes(40)
    assert [e.outcome for e in feed(reassembly, [odd, huge])] == [Outcome.MALFORMED, Outcome.MALFORMED]
    assert feed(reassembly, pieces[2:])[-1].outcome is Outcome.REASSEMBLED


def test_reassembly_limits_and_timeout():
    def first_of(ident):
        return bytes(scapy_fragment(udp("10.0.0.1", "10.0.1.1", 300, ident=ident), fragsize=64)[0])
    reassembly = Reassembly(max_datagrams=2)
    events = feed(reassembly, [first_of(1), first_of(2), first_of(3)])
    assert [e.outcome for e in events] == [Outcome.HELD, Outcome.HELD, Outcome.EVICTED, Outcome.HELD]
    assert "datagram 1 " in events[2].detail and len(reassembly) == 2
    many = [bytes(f) for f in scapy_fragment(udp("10.0.0.1", "10.0.1.1", 300, ident=4), fragsize=16)]
    assert feed(Reassembly(max_fragments=4), many)[4].outcome is Outcome.TOO_MANY_FRAGMENTS
    reassembly = Reassembly(timeout=30)
    feed(reassembly, [first_of(5)], now=0.0)
    assert reassembly.expire(29.9) == []
    expired = reassembly.expire(30.0)
    assert [e.outcome for e in expired] == [Outcome.TIMED_OUT] and IP(expired[0].first).id == 5


def test_icmp_errors_are_not_sent_about_errors_later_fragments_or_no_host():
    assert may_send_icmp_error(parse_ip(bytes(udp("10.0.0.1", "10.0.1.1", 10))))
    error = IP(src="10.0.0.1", dst="10.0.1.1") / ICMP(type=3, code=4) / IPerror(src="10.0.1.1", dst="1.2.3.4")
    later = IP(src="10.0.0.1", dst="10.0.1.1", frag=10) / bytes(16)
    for packet in (error, later, udp("0.0.0.0", "10.0.1.1", 10), udp("224.0.0.5", "10.0.1.1", 10)):
        assert not may_send_icmp_error(parse_ip(bytes(packet)))


# -- one router, two LANs: forwarding, DF, frag=yes, commands -------------------------------------------------

async def lan_router(*lines):
    """Router r with LANs eth0 (10.0.0.0/24, host h0) and eth1 (10.0.1.0/24, host h1)."""
    network = Network()
    router = network.add_router(await model_router("r", network.clock))
    for line in ("add ip int=eth0 ip=10.0.0.1", "add ip int=eth1 ip=10.0.1.1", *lines):
        assert "Error" not in await router.execute(line), line
    network.add_host("h0", "r", "eth0", "10.0.0.10")
    network.add_host("h1", "r", "eth1", "10.0.1.10")
    return network, router


def test_mtu_command_errors_and_display():
    async def body():
        network = Network()
        r = network.add_router(await model_router("r", network.clock))
        assert "successful" in await r.execute("set ppp0 mtu=576")           # before the interface has an address
        assert "successful" in await r.execute("SET INT=eth0 MTU=1300")
        for line in ("add ip int=ppp0 ip=192.0.2.1", "add ip int=eth0 ip=10.0.0.1 frag=yes",
                     "add ip int=eth1 ip=10.0.1.1"):
            assert "Error" not in await r.execute(line)
        shown = await r.execute("show ip interface")
        assert "MTU   Frag" in shown
        assert re.search(r"eth0\s+10\.0\.0\.1\s+255\.255\.255\.0\s+1300\s+yes", shown)
        assert re.search(r"eth1\s+10\.0\.1\.1\s+255\.255\.255\.0\s+1500\s+no", shown)
        assert re.search(r"ppp0\s+192\.0\.2\.1\s+255\.255\.255\.0\s+576\s+no", shown)
        errors = {"set eth0 mtu=67": "67 is out of range: expected 68..1500 bytes",
                  "set eth0 mtu=1501": "1501 is out of range",
                  "set eth0 mtu=big": '"big" is not a number',
                  "set eth0": "SET needs MTU=68..1500",
                  "set mtu=1000": "SET needs [INTerface=]interface",
                  "set nonsense mtu=1000": '"nonsense" is neither a word SET takes nor an interface name',
                  "set ip int=eth9 frag=no": "interface eth9 has no IP address",
                  "add ip int=eth2 ip=10.0.2.1 frag=maybe": "Bad value for FRAgment"}
        for line, message in errors.items():
            out = await r.run(line)
            assert out.startswith("Error:") and message in out, (line, out)
        assert "successful" in await r.execute("set ip int=eth0 frag=no")
        assert "successful" in await r.execute("delete ip int=eth1")
        assert r.ip.mtu_of("eth0") == 1300 and not r.ip.interfaces["eth0"].fragment
        assert "successful" in await r.execute("set ipsec udpport=2000")       # other SET commands still parse
    run(body())


def test_forwarded_fragments_pass_as_they_are_and_are_cut_again():
    async def body():
        network, r = await lan_router()
        original = udp("10.0.0.10", "10.0.1.10", 1800, ident=0x77)
        pieces = scapy_fragment(original, fragsize=600)
        for piece in pieces:
            network.inject("r", "eth0", bytes(piece))
        await network.run()
        h1 = network.hosts["h1"]
        assert len(h1.fragments) == len(pieces)
        for sent, came in zip(pieces, h1.fragments):
            assert IP(came).ttl == sent.ttl - 1 and scapy_checksum_ok(came)
            assert bytes(IP(came).payload) == bytes(sent.payload) and (IP(came).frag, IP(came).flags) == \
                (sent.frag, sent.flags)
        assert IP(h1.received[-1])[UDP].load == original[UDP].load               # the host reassembled it
        ip = await r.execute("show ip counter")
        assert counter(ip, "reasmReqds") == 0 and counter(ip, "forwDatagrams") == len(pieces)

        await r.execute("set eth1 mtu=300")                                      # now each is cut again
        h1.fragments.clear()
        for piece in pieces:
            network.inject("r", "eth0", bytes(piece))
        await network.run()
        assert all(len(f) <= 300 for f in h1.fragments) and len(h1.fragments) > len(pieces)
        assert all(scapy_checksum_ok(f) for f in h1.fragments)
        whole = scapy_join(h1.fragments)[0]
        assert whole[UDP].load == original[UDP].load and whole.id == 0x77
        ip = await r.execute("show ip counter")
        cut = sum(len(p) > 300 for p in pieces)                          # the last piece fits as it is
        assert counter(ip, "fragOKs") == cut and counter(ip, "fragCreates") == len(h1.fragments) - (len(pieces) - cut)
    run(body())


def test_df_gives_fragmentation_needed_with_the_next_hop_mtu():
    async def body():
        network, r = await lan_router("set eth1 mtu=576")
        payload = network.send_udp("h0", "h1", 1000, df=True)
        await network.run()
        h0, h1 = network.hosts["h0"], network.hosts["h1"]
        assert not h1.received
        (error,) = h0.icmp_errors
        assert (error.type, error.code, error.mtu) == (3, 4, 576)
        assert error.about[:3] == (h0.ip, h1.ip, 17)
        icmp = IP(h0.received[0])                                   # scapy's reading of the error
        assert (icmp.src, icmp.dst) == ("10.0.0.1", "10.0.0.10")  # from the interface it leaves by
        assert icmp[ICMP].type == 3 and icmp[ICMP].code == 4 and icmp[ICMP].nexthopmtu == 576
        again = icmp[ICMP].copy()
        del again.chksum
        assert ICMP(bytes(again)).chksum == icmp[ICMP].chksum and scapy_checksum_ok(bytes(icmp))
        assert icmp[IPerror].src == "10.0.0.10" and icmp[IPerror].dst == "10.0.1.10" and len(icmp) <= 576
        assert bytes(icmp[IPerror])[28:60] == payload[:32]
        ip = await r.execute("show ip counter")
        assert counter(ip, "fragFails") == 1 and counter(ip, "icmpOutDestUnreachs") == 1
        assert r.drop_log[-1].reason == "fragFails" and "DF set" in r.drop_log[-1].detail

        await r.execute("set ip int=eth1 frag=yes")                 # AlliedWare's ipfragment: DF ignored
        network.send_udp("h0", "h1", 1000, df=True)
        await network.run()
        assert len(h0.icmp_errors) == 1 and len(h1.fragments) == 2
        assert len(IP(h1.received[-1])[UDP].load) == 1000
    run(body())


def test_router_pings_through_a_small_mtu_and_answers_a_fragmented_ping():
    async def body():
        network, r = await lan_router("set eth1 mtu=576")
        network.originate("r", r.send_echo("10.0.1.10", 7, 1, bytes(1200)))
        await network.run()
        h1 = network.hosts["h1"]
        assert len(h1.fragments) == 3 and IP(h1.received[-1])[ICMP].type == 8
        assert any(IP(p).haslayer(ICMP) and IP(p)[ICMP].type == 0 for p in r.delivered)   # the reply came back
        # a ping for the router itself, cut by scapy, is reassembled and answered (the answer cut again)
        request = IP(src="10.0.1.10", dst="10.0.1.1", id=99) / ICMP(id=3, seq=4) / (bytes(range(256)) * 4)
        for piece in reversed(scapy_fragment(request, fragsize=200)):
            network.inject("r", "eth1", bytes(piece))
        await network.run()
        assert (3, 4) in h1.echo_replies
        ip = await r.execute("show ip counter")
        assert counter(ip, "reasmOKs") == 1 and counter(ip, "reasmReqds") == 6
    run(body())


def fragments_for_router(ident: int, size: int = 900):
    """scapy's fragments of a UDP datagram from pc1 to router a's eth0 address."""
    return [bytes(f) for f in scapy_fragment(udp(PC1, "10.1.1.1", size, ident=ident, seed=ident), fragsize=256)]


def test_router_drops_overlaps_and_malformed_fragments_but_nothing_else():
    async def body():
        network = await two_routers(ManualVpn())
        a = network.routers["a"]
        good = fragments_for_router(1)
        bad = fragments_for_router(2)
        overlap = IP(bad[1])
        overlap.frag += 2
        del overlap.chksum
        malformed = IP(src=PC1, dst="10.1.1.1", id=1, proto=17, flags="MF", frag=60) / bytes(13)
        for packet in (good[0], bad[0], bad[1], bytes(overlap), bytes(malformed), good[0], *good[1:]):
            network.inject("a", "eth0", packet)
        await network.run()
        assert [IP(p)[UDP].load for p in a.delivered] == [udp(PC1, "10.1.1.1", 900, seed=1)[UDP].load]
        ip = await a.execute("show ip counter")
        assert counter(ip, "reasmOverlaps") == 1 and counter(ip, "reasmFails") == 1
        assert counter(ip, "reasmDuplicates") == 1 and counter(ip, "inHdrErrors") == 1
        assert counter(ip, "reasmOKs") == 1 and counter(ip, "reasmReqds") == 3 + len(good) + 2
        reasons = [d.reason for d in a.drop_log]
        assert reasons == ["reasmOverlaps", "inHdrErrors", "reasmDuplicates"]
        assert "overlap" in a.drop_log[0].detail and "multiple of 8" in a.drop_log[1].detail
    run(body())


def test_reassembly_timeout_on_the_router_clock_sends_time_exceeded():
    async def body():
        network = await two_routers(ManualVpn())
        a, pc1 = network.routers["a"], network.hosts["pc1"]
        late = fragments_for_router(3)
        network.inject("a", "eth0", late[0])
        await network.wait(29)                                      # within the 30 s: still waiting
        assert "Reassembly: 1 datagram waiting (256 bytes)" in await a.execute("show ip counter")
        for piece in late[1:]:
            network.inject("a", "eth0", piece)
        await network.run()
        assert len(a.delivered) == 1
        lost = fragments_for_router(4)
        network.inject("a", "eth0", lost[0])
        network.inject("a", "eth0", lost[2])
        await network.wait(30)
        ip = await a.execute("show ip counter")
        assert counter(ip, "reasmTimeouts") == 1 and counter(ip, "reasmFails") == 1
        assert counter(ip, "icmpOutTimeExcds") == 1 and "0 datagrams waiting (0 bytes), timeout 30 s" in ip
        (error,) = pc1.icmp_errors
        assert (error.type, error.code, error.mtu) == (11, 1, None) and error.about[3] == 4
        assert IP(pc1.received[-1])[ICMP].type == 11 and IP(pc1.received[-1])[IPerror].id == 4
    run(body())


# -- two routers: the tunnel's outer packets cut on the WAN and joined by the peer -----------------------------

@pytest.mark.parametrize("bundle", ["esp", "esp+ah", "esp+ipcomp"])
def test_tunnel_packets_are_fragmented_on_the_wan_and_reassembled_by_the_peer(bundle):
    async def body():
        vpn = ManualVpn(bundle=bundle)
        network = await two_routers(vpn)
        a, b = network.routers["a"], network.routers["b"]
        for router in (a, b):
            assert "successful" in await router.execute("set ppp0 mtu=576")
        sizes = (100, 1400, 3000)
        sent = [network.send_udp("pc1", "pc2", payload=random.Random(s).randbytes(s)) for s in sizes]
        back = network.send_udp("pc2", "pc1", payload=random.Random(9).randbytes(2000))
        await network.run()
        assert network.hosts["pc2"].udp_payloads() == sent and network.hosts["pc1"].udp_payloads() == [back]
        assert not a.drop_log and not b.drop_log and not network.lost
        from_a = [w.packet for w in network.wan if w.router == "a"]
        assert all(len(p) <= 576 and scapy_checksum_ok(p) for p in from_a)
        assert sum("MF" in IP(p).flags for p in from_a) > 0
        whole = wan_from(network, "a")                              # scapy joins and opens what a sent
        assert len(whole) == len(sizes)
        assert [IP(scapy_open(vpn, "a", w))[UDP].load for w in whole] == sent
        ip_a, ip_b = await a.execute("show ip counter"), await b.execute("show ip counter")
        pc1_fragments = len(network.hosts["pc1"].fragments)        # 2028 bytes from the tunnel for eth0's 1500
        assert pc1_fragments == 2
        assert counter(ip_a, "fragOKs") == 3 and counter(ip_a, "fragCreates") == len(from_a) - 1 + pc1_fragments
        assert counter(ip_b, "reasmOKs") == 2 and counter(ip_b, "reasmReqds") == len(from_a) - 1
        assert b.datapath.drops[DropReason.FRAGMENT] == 0
    run(body())


def test_scapy_esp_fragments_are_reassembled_before_ipsec():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        inner = IP(src=PC2, dst=PC1, ttl=64) / UDP(sport=1, dport=2) / random.Random(1).randbytes(1600)
        sealed = IP(scapy_seal(vpn, "b", inner))
        sealed.id = 0x5151
        pieces = scapy_fragment(sealed, fragsize=400)
        random.Random(2).shuffle(pieces)
        for piece in pieces:
            network.inject("a", "ppp0", bytes(piece))
        await network.run()
        assert network.hosts["pc1"].udp_payloads() == [inner[UDP].load]
        # the data plane still refuses a fragment that did not come through IP reassembly
        a = network.routers["a"]
        outcome = await a.datapath.inbound(bytes(pieces[0]))
        assert outcome.reason is DropReason.FRAGMENT
    run(body())


def expected_tunnel_mtu(mtu: int) -> int:
    """RFC 4303 by hand for AES-CBC (16-byte IV and block) with HMAC-SHA-1-96
    in tunnel mode: outer header 20, SPI and sequence 8, IV 16, the inner
    packet and 2 trailer bytes padded to 16, ICV 12."""
    return (mtu - 20 - 8 - 16 - 12) // 16 * 16 - 2


def test_dfbit_set_gives_fragmentation_needed_with_the_mtu_the_tunnel_leaves():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a, pc1, pc2 = network.routers["a"], network.hosts["pc1"], network.hosts["pc2"]
        assert "successful" in await a.execute("set ppp0 mtu=1300")
        assert "successful" in await a.execute("set ipsec policy=vpn dfbit=set")
        network.send_udp("pc1", "pc2", 1400)
        await network.run()
        assert not pc2.received and not network.wan
        (error,) = pc1.icmp_errors
        reported = expected_tunnel_mtu(1300)
        assert (error.type, error.code, error.mtu) == (3, 4, reported) == (3, 4, 1230)
        assert IP(pc1.received[-1])[ICMP].nexthopmtu == reported and str(error.source) == "10.1.1.1"
        assert error.about[:3] == (pc1.ip, pc2.ip, 17)              # about pc1's own datagram
        ip = await a.execute("show ip counter")
        assert counter(ip, "fragFails") == 1 and counter(ip, "icmpOutDestUnreachs") == 1
        # a datagram of the reported size goes through whole; one byte more does not
        fits = network.send_udp("pc1", "pc2", reported - 28)
        await network.run()
        assert pc2.udp_payloads() == [fits]
        (wire,) = wan_from(network, "a")
        assert len(wire) <= 1300 and "DF" in IP(wire).flags and IP(wire).frag == 0
        network.send_udp("pc1", "pc2", reported - 27)
        await network.run()
        assert len(pc1.icmp_errors) == 2 and len(pc2.received) == 1
        # with frag=yes the interface cuts it anyway
        assert "successful" in await a.execute("set ip int=ppp0 frag=yes")
        big = network.send_udp("pc1", "pc2", 1400)
        await network.run()
        assert pc2.udp_payloads()[-1] == big and len(pc1.icmp_errors) == 2
    run(body())


@pytest.mark.parametrize("dfbit, inner_df, fragmented", [("clear", True, True), ("copy", False, True),
                                                         ("copy", True, False), ("set", False, False)])
def test_dfbit_decides_between_fragments_and_an_icmp_error(dfbit, inner_df, fragmented):
    async def body():
        network = await two_routers(ManualVpn())
        a, pc1, pc2 = network.routers["a"], network.hosts["pc1"], network.hosts["pc2"]
        for line in ("set ppp0 mtu=1000", f"set ipsec policy=vpn dfbit={dfbit}"):
            assert "successful" in await a.execute(line)
        payload = network.send_udp("pc1", "pc2", 1200, df=inner_df)
        await network.run()
        if fragmented:
            assert pc2.udp_payloads() == [payload] and not pc1.icmp_errors
            assert len(network.wan) == 2 and not any("DF" in IP(w.packet).flags for w in network.wan)
        else:
            assert not pc2.received and [e.mtu for e in pc1.icmp_errors] == [expected_tunnel_mtu(1000)]
    run(body())


@pytest.mark.parametrize("bundle", ["esp", "esp+ah", "esp+ipcomp"])
def test_the_sealed_length_model_matches_the_wire(bundle):
    """The size model behind the reported MTU gives the length of every
    packet the routers really send (random payloads: IPComp gains nothing)."""
    async def body():
        network = await two_routers(ManualVpn(bundle=bundle))
        a = network.routers["a"]
        (proc,) = a.datapath.bundles
        for size in range(1000, 1040):
            network.send_udp("pc1", "pc2", payload=random.Random(size).randbytes(size))
            await network.run()
            assert len(network.wan[-1].packet) == sealed_length(proc, 28 + size)
    run(body())
