"""The NAT gateway (sim/nat_gateway.py): address and port translation with
checksums checked by scapy (an independent implementation), mappings,
address-dependent filtering, idle timeouts refreshed only outbound,
pinholes, and every refused packet dropped, counted and reported."""
import asyncio

from scapy.layers.inet import ICMP, IP, TCP, UDP

from pacsim.sim.nat_gateway import FIRST_PORT, INSIDE, OUTSIDE, NatGateway
from pacsim.sim.network import VirtualClock

PUBLIC, INSIDE_ADDRESS, HOST, PEER, OTHER = "198.51.100.2", "192.168.2.1", "192.168.2.2", "203.0.113.1", "203.0.113.9"


def gateway(clock, **options):
    drops = []
    gw = NatGateway("gw", PUBLIC, INSIDE_ADDRESS, clock=clock, on_drop=drops.append, **options)
    return gw, drops


def through(gw, packet, interface):
    return asyncio.run(gw.receive(bytes(packet), interface))


def valid(raw: bytes):
    """scapy's view of ``raw`` and whether its IP and transport checksums are right (scapy recomputes them)."""
    seen = IP(raw)
    fresh = IP(raw)
    del fresh.chksum
    layer = fresh.payload
    del layer.chksum
    again = IP(bytes(fresh))
    return seen, seen.chksum == again.chksum and seen.payload.chksum == again.payload.chksum


def test_napt_both_ways_with_checksums_and_filtering():
    clock = VirtualClock(10.0)
    gw, drops = gateway(clock)
    for n, (proto, layer) in enumerate(((UDP, UDP(sport=500, dport=500)), (TCP, TCP(sport=4000, dport=80)))):
        out = through(gw, IP(src=HOST, dst=PEER, ttl=9) / layer / b"payload!", INSIDE)
        assert [i for i, _ in out] == [OUTSIDE]
        seen, ok = valid(out[0][1])
        assert ok and (seen.src, seen.dst, seen.ttl) == (PUBLIC, PEER, 8)
        assert seen[proto].sport == FIRST_PORT + n and seen[proto].dport == layer.dport
        assert bytes(seen[proto].payload) == b"payload!"
        answer = IP(src=PEER, dst=PUBLIC) / proto(sport=layer.dport, dport=seen[proto].sport) / b"ok"
        back = through(gw, answer, OUTSIDE)
        seen, ok = valid(back[0][1])
        assert back[0][0] == INSIDE and ok and (seen.src, seen.dst, seen[proto].dport) == (PEER, HOST, layer.sport)
    # the same inside endpoint keeps its mapping towards another destination (endpoint-independent)
    out = through(gw, IP(src=HOST, dst=OTHER) / UDP(sport=500, dport=500), INSIDE)
    assert IP(out[0][1])[UDP].sport == FIRST_PORT
    # an ICMP echo gets a mapped identifier and its reply finds the host
    out = through(gw, IP(src=HOST, dst=PEER) / ICMP(type=8, id=77, seq=1) / b"ping", INSIDE)
    seen, ok = valid(out[0][1])
    assert ok and seen[ICMP].id == FIRST_PORT + 2
    back = through(gw, IP(src=PEER, dst=PUBLIC) / ICMP(type=0, id=seen[ICMP].id, seq=1) / b"ping", OUTSIDE)
    seen, ok = valid(back[0][1])
    assert ok and (seen.dst, seen[ICMP].id) == (HOST, 77)
    # a zero UDP checksum stays zero
    out = through(gw, IP(src=HOST, dst=PEER) / UDP(sport=7, dport=7, chksum=0) / b"x", INSIDE)
    assert IP(out[0][1])[UDP].chksum == 0
    assert gw.counters["outTranslated"] == 5 and gw.counters["inTranslated"] == 3 and not drops
    # from an address the mapping never sent to: filtered; to a port with no mapping: dropped
    assert through(gw, IP(src="192.0.2.50", dst=PUBLIC) / UDP(sport=500, dport=FIRST_PORT), OUTSIDE) == []
    assert through(gw, IP(src=PEER, dst=PUBLIC) / UDP(sport=500, dport=4500), OUTSIDE) == []
    assert (gw.counters["inFiltered"], gw.counters["inNoMapping"]) == (1, 1)
    assert drops == ["gw: 192.0.2.50 is not a peer of the mapping of port 20000",
                     "gw: no mapping for protocol 17 port 4500"]


def test_refused_packets_are_counted_and_lose_nothing_else():
    clock = VirtualClock()
    gw, drops = gateway(clock)
    good = through(gw, IP(src=HOST, dst=PEER) / UDP(sport=500, dport=500), INSIDE)
    cases = ((IP(src=HOST, dst=PEER, proto=50) / (b"\0" * 16), "badProtocol"),             # raw ESP: NAT-T only
             (IP(src=HOST, dst=PEER, flags="MF") / UDP(sport=1, dport=2) / (b"x" * 8), "badProtocol"),
             (b"\x45\x00\x00", "badPacket"),
             (IP(src=HOST, dst=PEER) / ICMP(type=3, code=1) / (b"\0" * 8), "badPacket"),        # not an echo
             (IP(src=HOST, dst=PEER, ttl=1) / UDP(sport=9, dport=9), "ttlExpired"),
             (IP(src=PEER, dst="198.51.100.3") / UDP(sport=500, dport=FIRST_PORT), "inNoMapping"))
    for packet, counter in cases:
        before = gw.counters[counter]
        interface = OUTSIDE if counter == "inNoMapping" else INSIDE
        assert through(gw, packet, interface) == [] and gw.counters[counter] == before + 1, counter
    assert len(drops) == len(cases)
    # the mapping made before is still there and still works
    back = through(gw, IP(src=PEER, dst=PUBLIC) / UDP(sport=500, dport=IP(good[0][1])[UDP].sport), OUTSIDE)
    assert IP(back[0][1]).dst == HOST


def test_mappings_expire_unless_refreshed_outbound():
    clock = VirtualClock()
    gw, drops = gateway(clock, udp_timeout=60.0)
    out = through(gw, IP(src=HOST, dst=PEER) / UDP(sport=4500, dport=4500), INSIDE)
    port = IP(out[0][1])[UDP].sport
    for now in (30.0, 59.0):                   # inbound traffic does not refresh the mapping
        clock.advance(now)
        assert through(gw, IP(src=PEER, dst=PUBLIC) / UDP(sport=4500, dport=port), OUTSIDE)
    clock.advance(61.0)
    assert through(gw, IP(src=PEER, dst=PUBLIC) / UDP(sport=4500, dport=port), OUTSIDE) == []
    assert gw.counters["mappingsExpired"] == 1 and gw.counters["inNoMapping"] == 1
    # a keepalive every 20 s keeps a new mapping alive past the timeout
    out = through(gw, IP(src=HOST, dst=PEER) / UDP(sport=4500, dport=4500) / b"\xff", INSIDE)
    port = IP(out[0][1])[UDP].sport
    for now in range(81, 300, 20):
        clock.advance(float(now))
        through(gw, IP(src=HOST, dst=PEER) / UDP(sport=4500, dport=4500) / b"\xff", INSIDE)
    assert IP(through(gw, IP(src=PEER, dst=PUBLIC) / UDP(sport=4500, dport=port), OUTSIDE)[0][1]).dst == HOST
    assert gw.counters["mappingsCreated"] == 2 and gw.counters["mappingsExpired"] == 1


def test_pinholes_forward_unsolicited_traffic_and_keep_their_port():
    clock = VirtualClock()
    office = "192.168.1.2"
    gw, drops = gateway(clock, pinholes={(17, 500): (office, 500), (17, 4500): (office, 4500)})
    for port in (500, 4500):
        out = through(gw, IP(src=OTHER, dst=PUBLIC) / UDP(sport=31000, dport=port) / b"ike", OUTSIDE)
        seen, ok = valid(out[0][1])
        assert out[0][0] == INSIDE and ok and (seen.dst, seen[UDP].dport, seen.src) == (office, port, OTHER)
        # the answer leaves from the pinhole's own public port
        reply = through(gw, IP(src=office, dst=OTHER) / UDP(sport=port, dport=31000), INSIDE)
        assert (IP(reply[0][1]).src, IP(reply[0][1])[UDP].sport) == (PUBLIC, port)
    assert gw.counters["inPinhole"] == 2 and not drops
    assert through(gw, IP(src=OTHER, dst=PUBLIC) / TCP(sport=1, dport=500), OUTSIDE) == []
