"""SA bundles and the inbound demultiplexer (firmware/ipsec/datapath.py,
udp_encap.py) on the behavioural model: bundle order out and reverse order
in between two routers (and against scapy, layer by layer), unknown SPIs,
the UDP tunnel on port 2746 and its heartbeats, NAT-T encapsulation, tunnel
outer headers, and random malformed input that must never escape."""
import hashlib
import hmac
import random
import struct

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.ipsec import AH, ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from datapath_support import (FAR_HOST, LOCAL, NEAR_HOST, PEER, FakeClock, comp_sa, make_sa, mirror, new_device,
                              opened, run, scapy_peer, scapy_sa, sealed_icmp, two_routers, with_ipv4_checksum)
from pacsim.contract.codes import CipherAlg, MacAlg
from pacsim.firmware.ipsec.datapath import BundleProcessor, Datapath, DfBit
from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.ipsec.sa import Mode, Protocol
from pacsim.firmware.ipsec.transforms import IPCOMP_LZS_CPI
from pacsim.firmware.ipsec.udp_encap import (UDP_TUNNEL_PORT, UdpTunnel, natt_decapsulate, natt_encapsulate)
from pacsim.reference import lzs

TEXT = b"IPsec bundles apply IPComp, then ESP, then AH. " * 12


def three_sas(mode=Mode.TUNNEL, **options):
    """IPComp, ESP, AH in bundle-string order ("1 and 2 and 3")."""
    return [comp_sa(seed=1, mode=mode, **options),
            make_sa(Protocol.ESP, seed=2, out_spi=0x1001, in_spi=0x2002, mode=mode, cipher=CipherAlg.AES128,
                    mac=MacAlg.HMAC_SHA1, **options),
            make_sa(Protocol.AH, seed=3, out_spi=0x3003, in_spi=0x4004, mode=mode, mac=MacAlg.HMAC_MD5, **options)]


def test_outbound_in_bundle_order_checked_layer_by_layer_with_scapy():
    """AH outermost (applied last), then ESP, then IPComp with the inner packet."""
    async def body():
        sas = three_sas()
        (bundle, _), _ = await two_routers(sas)
        comp, esp, ah = sas
        inner = bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / UDP(sport=5, dport=6) / TEXT)
        out = await bundle.outbound(inner)
        assert out.ok, out.detail
        wire = IP(out.packet)
        assert (wire.src, wire.dst, wire.proto, wire[AH].spi) == (LOCAL, PEER, 51, ah.outbound_spi)
        ah_receiver = scapy_sa(ah, "outbound", tunnel=False)
        esp_layer = IP(bytes(ah_receiver.decrypt(wire)))                       # transport manner over the outer header
        assert esp_layer.proto == 50 and esp_layer[ESP].spi == esp.outbound_spi
        esp_receiver = scapy_sa(esp, "outbound", tunnel=False)
        comp_layer = bytes(esp_receiver.decrypt(esp_layer))
        assert comp_layer[9] == 108
        next_header, _, cpi = struct.unpack_from("!BBH", comp_layer, 20)
        assert (next_header, cpi) == (4, IPCOMP_LZS_CPI)                       # IP in IP: the tunnel is innermost
        assert lzs.decompress(comp_layer[24:], len(inner)) == inner
        assert [sa.counters["outProcessDone"] for sa in sas] == [1, 1, 1]
    run(body())


@pytest.mark.parametrize("mode", [Mode.TUNNEL, Mode.TRANSPORT])
def test_two_routers_round_trip_reverse_order_inbound(mode):
    async def body():
        sas = three_sas(mode)
        (a_bundle, a_path), (b_bundle, b_path) = await two_routers(sas)
        src, dst = (NEAR_HOST, FAR_HOST) if mode is Mode.TUNNEL else (LOCAL, PEER)
        for payload in (TEXT, b"short"):                   # the short one goes without IPComp
            inner = bytes(IP(src=src, dst=dst) / UDP(sport=5, dport=6) / payload)
            out = await a_path.outbound(a_bundle, inner)
            assert out.ok
            result = await b_path.inbound(out.packet)
            assert result.ok, result.detail
            assert result.packet == inner
            back = bytes(IP(src=dst, dst=src) / UDP(sport=6, dport=5) / payload)
            out = await b_path.outbound(b_bundle, back)
            result = await a_path.inbound(out.packet)
            assert result.ok and result.packet == back
        comp = sas[0]
        assert comp.counters["compTooSmall"] == 1 and comp.counters["decompressionGood"] == 1
        assert comp.counters["inProcessStart"] == 1         # skipped for the uncompressed packet
        assert not a_path.drops and not b_path.drops
    run(body())


def test_inbound_requires_every_sa_of_the_bundle():
    async def body():
        sas = three_sas()
        (bundle, _), (_, b_path) = await two_routers(sas)
        out = await bundle.outbound(bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / UDP() / TEXT))
        ah_receiver = scapy_sa(sas[2], "outbound", tunnel=False)
        without_ah = bytes(ah_receiver.decrypt(IP(out.packet)))
        result = await b_path.inbound(without_ah)
        assert result.reason is DropReason.WRONG_PROTOCOL and "expects AH" in result.detail
        assert b_path.drops[DropReason.WRONG_PROTOCOL] == 1
    run(body())


def ah_over(packet: bytes, spi: int, seq: int, key: bytes) -> bytes:
    """AH (HMAC-SHA1-96) inserted into an option-less IPv4 packet, by hand:
    scapy signs AH over an ESP payload as if it were ESP."""
    header, payload = bytearray(packet[:20]), packet[20:]
    ah = struct.pack("!BBHII", header[9], 4, 0, spi, seq)
    header[9], header[2:4] = 51, struct.pack("!H", 20 + 24 + len(payload))
    zeroed = bytearray(header)
    zeroed[1], zeroed[6:9], zeroed[10:12] = 0, bytes(3), bytes(2)
    icv = hmac.new(key, bytes(zeroed) + ah + bytes(12) + payload, hashlib.sha1).digest()[:12]
    return with_ipv4_checksum(bytes(header) + ah + icv + payload)


def test_scapy_esp_then_ah_bundle_accepted():
    async def body():
        esp = make_sa(Protocol.ESP, cipher=CipherAlg.DES, mac=MacAlg.HMAC_MD5)
        ah = make_sa(Protocol.AH, seed=5, out_spi=0x5005, in_spi=0x6006, mac=MacAlg.HMAC_SHA1)
        _, datapath = await opened(esp, ah)
        esp_sender, _ = scapy_peer(esp)
        inner = IP(src=FAR_HOST, dst=NEAR_HOST) / ICMP() / b"bundle"
        wire = ah_over(bytes(esp_sender.encrypt(inner)), ah.inbound_spi, 1, ah.inbound_keys.mac)
        result = await datapath.inbound(wire)
        assert result.ok, result.detail
        assert result.packet == bytes(inner)
        assert ah.counters["inProcessDone"] == esp.counters["inProcessDone"] == 1
    run(body())


def test_unknown_spi_is_counted_dropped_and_reported():
    async def body():
        reports = []
        device = await new_device()
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        bundle = BundleProcessor([sa])
        datapath = Datapath(on_unknown_spi=lambda *args: reports.append(args))
        await bundle.open(device)
        datapath.add_bundle(bundle)
        sender, _ = scapy_peer(sa)
        stale = ScapySA(ESP, spi=0xDEAD, crypt_algo="AES-CBC", crypt_key=bytes(16), auth_algo="HMAC-SHA1-96",
                        auth_key=bytes(20), tunnel_header=IP(src=PEER, dst=LOCAL))
        result = await datapath.inbound(sealed_icmp(stale))
        assert result.reason is DropReason.UNKNOWN_SPI and "SPI 57005" in result.detail
        assert [(str(src), str(dst), protocol, spi) for src, dst, protocol, spi in reports] == \
            [(PEER, LOCAL, Protocol.ESP, 0xDEAD)]
        assert datapath.counters["sad_find"] == {"good": 0, "failed": 1}
        good = sealed_icmp(sender)
        datapath.remove_bundle(bundle)                               # e.g. after a restart lost the SAs
        assert (await datapath.inbound(good)).reason is DropReason.UNKNOWN_SPI
        datapath.add_bundle(bundle)
        assert (await datapath.inbound(good)).ok
        assert datapath.drops[DropReason.UNKNOWN_SPI] == 2
        with pytest.raises(ValueError, match="is taken"):
            datapath.add_bundle(BundleProcessor([make_sa(Protocol.ESP, seed=9, cipher=CipherAlg.DES)]))
    run(body())


# -- UDP tunnel ---------------------------------------------------------------------

def test_udp_tunnel_round_trip_heartbeats_and_counters():
    async def body():
        clock = FakeClock()
        sas = [make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)]
        (a_bundle, a_path), (b_bundle, b_path) = await two_routers(
            sas, udp_tunnel=UdpTunnel(heartbeats=True, clock=clock))
        inner = bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP() / b"over UDP")
        out = await a_path.outbound(a_bundle, inner)
        wire = IP(out.packet)
        assert wire.proto == 17 and (wire[UDP].sport, wire[UDP].dport) == (UDP_TUNNEL_PORT, UDP_TUNNEL_PORT)
        checked = wire[UDP].chksum
        del wire[UDP].chksum
        assert IP(bytes(wire))[UDP].chksum == checked
        assert bytes(wire[UDP].payload)[:4] == bytes((1, 0, 50, 0))           # version 1, data, ESP
        assert b_path.claims(out.packet) and not b_path.claims(bytes(IP() / UDP(dport=53)))
        result = await b_path.inbound(out.packet)
        assert result.ok and result.packet == inner
        assert a_path.counters["udp"]["outPkt"] == 1 and b_path.counters["udp"]["inPkt"] == 1
        assert a_path.heartbeats() == []                                      # a packet just went
        clock.now += 20
        (beat,) = a_path.heartbeats()
        assert a_path.heartbeats() == []
        assert bytes(IP(beat)[UDP].payload) == bytes((1, 1, 0, 0))
        result = await b_path.inbound(beat)
        assert result.heartbeat and result.packet is None and result.reason is None
        assert a_path.counters["udp"]["outUdpHeartBeat"] == 1 and b_path.counters["udp"]["inUdpHeartBeat"] == 1
        bad = bytearray(out.packet)
        bad[28] = 2                                                            # version 2
        bad[26:28] = b"\0\0"                                                   # no UDP checksum (IPv4)
        assert (await b_path.inbound(bytes(bad))).reason is DropReason.UDP_BAD_VERSION
        assert b_path.counters["udp"]["inPktBadVersion"] == 1
    run(body())


def test_udp_tunnelled_packet_for_a_bundle_without_udp_is_refused():
    async def body():
        sas = [make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)]
        (a_bundle, _), _ = await two_routers(sas, udp_tunnel=UdpTunnel())
        plain = await opened(mirror(sas[0]))
        out = await a_bundle.outbound(bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP()))
        result = await plain[1].inbound(out.packet)
        assert result.reason is DropReason.NO_UDP_TUNNEL
        assert plain[1].counters["udp"]["inPktNoPolicy"] == 1
    run(body())


def test_nat_t_encapsulation_interoperates_with_scapy():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        bundle, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa, nat_t_header=UDP(sport=4500, dport=4500))
        received = sealed_icmp(sender, b"behind a NAT")
        assert (await datapath.inbound(natt_decapsulate(parse_ip(received)))).ok
        out = await bundle.outbound(bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP() / b"to the NAT"))
        assert IP(bytes(receiver.decrypt(IP(natt_encapsulate(out.packet)))))[ICMP].load == b"to the NAT"
        keepalive = parse_ip(bytes(IP(src=PEER, dst=LOCAL) / UDP(sport=4500, dport=4500) / b"\xff"))
        assert natt_decapsulate(keepalive) is None
    run(body())


# -- tunnel outer headers -----------------------------------------------------------

@pytest.mark.parametrize("df_bit, inner_df, outer_df", [(DfBit.CLEAR, True, 0), (DfBit.SET, False, 2),
                                                        (DfBit.COPY, True, 2), (DfBit.COPY, False, 0)])
def test_outer_header_df_tos_ttl(df_bit, inner_df, outer_df):
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        bundle, _ = await opened(sa, df_bit=df_bit, ttl=50)
        inner = IP(src=NEAR_HOST, dst=FAR_HOST, tos=0x2E, flags="DF" if inner_df else 0, ttl=9) / ICMP()
        wire = IP((await bundle.outbound(bytes(inner))).packet)
        assert (int(wire.flags), wire.tos, wire.ttl) == (outer_df, 0x2E, 50)
    run(body())


def test_nested_tunnels_when_endpoints_differ():
    async def body():
        inner_sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1, local="172.16.0.1",
                           peer="172.16.0.2")
        outer_sa = make_sa(Protocol.ESP, seed=4, out_spi=0x7007, in_spi=0x8008, cipher=CipherAlg.DES,
                           mac=MacAlg.HMAC_MD5)
        (bundle, _), (_, b_path) = await two_routers([inner_sa, outer_sa])
        assert bundle.tunnels == [True, True]
        inner = bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP())
        out = await bundle.outbound(inner)
        assert (IP(out.packet).src, IP(out.packet).dst) == (LOCAL, PEER)
        result = await b_path.inbound(out.packet)
        assert result.ok and result.packet == inner
        same = three_sas()
        assert BundleProcessor(same).tunnels == [True, False, False]
    run(body())


# -- bad input never escapes ------------------------------------------------------------

def test_random_bad_input_is_dropped_counted_and_never_raises():
    async def body():
        rng = random.Random(2024)
        sas = three_sas()
        (a_bundle, a_path), (_, b_path) = await two_routers(sas, udp_tunnel=UdpTunnel())
        valid = []
        for size in (10, 100, 600):
            out = await a_path.outbound(a_bundle, bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / UDP() / TEXT[:size]))
            valid.append(out.packet)
        dropped = delivered = 0
        for _ in range(300):
            packet = bytearray(rng.choice(valid))
            kind = rng.randrange(5)
            if kind == 0:
                packet = packet[:rng.randrange(len(packet))]
            elif kind == 1:
                for _ in range(rng.randrange(1, 4)):
                    packet[rng.randrange(len(packet))] ^= 1 << rng.randrange(8)
            elif kind == 2:
                packet = packet[:20] + rng.randbytes(rng.randrange(80))
            elif kind == 3:
                packet = bytearray(rng.randbytes(rng.randrange(120)))
            else:
                start = rng.randrange(20, len(packet))
                packet[start:start + 4] = rng.randbytes(4)
            result = await b_path.inbound(bytes(packet))
            if result.ok:
                delivered += 1
            else:
                assert result.reason is not DropReason.INTERNAL_ERROR, result.detail
                assert result.reason is not None and result.detail
                dropped += 1
        assert sum(b_path.drops.values()) == dropped and dropped > 250
        for packet in valid:                                # the replays of the originals only
            assert (await b_path.inbound(packet)).reason in (DropReason.REPLAYED, None)
        for sa in b_path.bundles[0].sas:
            assert sa.drops[DropReason.INTERNAL_ERROR] == 0
        junk = [b"", b"\x45", bytes(20), bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / UDP() / TEXT)[:-3]]
        for packet in junk:
            assert (await a_path.outbound(a_bundle, packet)).reason is DropReason.MALFORMED
        assert a_path.drops[DropReason.INTERNAL_ERROR] == 0
        fragment = bytes(IP(src=NEAR_HOST, dst=FAR_HOST, frag=5) / (b"x" * 8))
        assert (await a_path.outbound(a_bundle, fragment)).ok              # a tunnel carries fragments
    run(body())


def test_runtime_sa_from_an_sad_pair():
    """The manual's example ``cre ips sas=1 prot=es key=ma inspi=300 outspi=400
    enc=des hashalg=md5`` as the SAD hands it over, through the card."""
    from pacsim.firmware.ipsec.sa import from_pair
    from pacsim.firmware.ipsec.sad import KeyMaterial, SaPairSpec
    from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg

    async def body():
        rng = random.Random(11)
        pair = SaPairSpec(spec_id=1, protocol=Protocol.ESP, mode=Mode.TUNNEL, outbound_spi=400, inbound_spi=300,
                          encalg=EncAlg.DES, hashalg=HashAlg.MD5,
                          outbound_keys=KeyMaterial(rng.randbytes(8), rng.randbytes(16)),
                          inbound_keys=KeyMaterial(rng.randbytes(8), rng.randbytes(16)), antireplay=True,
                          replay_window=64)
        sa = from_pair(pair, sa_id=7, local=LOCAL, peer=PEER, random_bytes=rng.randbytes)
        assert (sa.cipher, sa.mac, sa.replay.size, sa.sa_id) == (CipherAlg.DES, MacAlg.HMAC_MD5, 64, 7)
        bundle, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa)
        out = await bundle.outbound(bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP()))
        assert receiver.decrypt(IP(out.packet)).haslayer(ICMP)
        assert (await datapath.inbound(sealed_icmp(sender))).ok
    run(body())


@pytest.mark.parametrize("protocol, cipher, mac", [
    (Protocol.ESP, CipherAlg.TDES_2KEY, MacAlg.HMAC_SHA1), (Protocol.ESP, CipherAlg.TDES_OUTER, MacAlg.HMAC_MD5),
    (Protocol.ESP, CipherAlg.AES256, MacAlg.DES_MAC), (Protocol.AH, None, MacAlg.DES_MAC)],
    ids=["3des2key-sha", "3desouter-md5", "aes256-desmac", "ah-desmac"])
def test_card_only_algorithms_round_trip_between_routers(protocol, cipher, mac):
    """Algorithms scapy does not have: our two routers agree (the card's
    ciphers and MACs are checked against `cryptography` in the driver suite)."""
    async def body():
        sa = make_sa(protocol, cipher=cipher, mac=mac)
        (a_bundle, _), (_, b_path) = await two_routers([sa])
        inner = bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / UDP() / TEXT[:77])
        out = await a_bundle.outbound(inner)
        result = await b_path.inbound(out.packet)
        assert result.ok and result.packet == inner
        tampered = bytearray((await a_bundle.outbound(inner)).packet)
        tampered[-20] ^= 4
        assert (await b_path.inbound(bytes(tampered))).reason is DropReason.AUTHENTICATION_FAILED
    run(body())
