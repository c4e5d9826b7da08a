"""IPComp with LZS on the card (firmware/ipsec/ipcomp.py) on the behavioural
model: round trips, the size threshold, the not-smaller rule and the
non-expansion back-off, streams checked against the software LZS reference
(pacsim.reference.lzs), and bad IPComp packets dropped and counted."""
import random
import struct

from scapy.layers.inet import IP, UDP

from datapath_support import FAR_HOST, LOCAL, NEAR_HOST, PEER, comp_sa, mirror, new_device, nonzero, opened, run
from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.sa import Mode
from pacsim.firmware.ipsec.transforms import IPCOMP_LZS_CPI
from pacsim.reference import lzs

TEXT = b"The quick brown fox jumps over the lazy dog. " * 20


def udp(payload: bytes, *, src=NEAR_HOST, dst=FAR_HOST) -> bytes:
    return bytes(IP(src=src, dst=dst) / UDP(sport=7, dport=9) / payload)


def ipcomp_header(next_header: int = 17, cpi: int = IPCOMP_LZS_CPI) -> bytes:
    """An IPComp header built here (RFC 3173 2.2: next header, flags 0, CPI)."""
    return struct.pack("!BBH", next_header, 0, cpi)


def test_round_trip_between_two_routers_in_tunnel_and_transport_mode():
    async def body():
        here, there = await new_device(), await new_device()
        for mode, src, dst in ((Mode.TUNNEL, NEAR_HOST, FAR_HOST), (Mode.TRANSPORT, LOCAL, PEER)):
            sa = comp_sa(mode=mode)
            peer = mirror(sa)
            bundle, _ = await opened(sa, device=here)
            peer_bundle, peer_datapath = await opened(peer, device=there)
            original = udp(TEXT, src=src, dst=dst)
            out = await bundle.outbound(original)
            assert out.ok
            wire = IP(out.packet)
            assert wire.proto == 108 and (wire.src, wire.dst) == (LOCAL, PEER) and len(out.packet) < len(original)
            next_header, flags, cpi = struct.unpack_from("!BBH", out.packet, 20)
            assert (next_header, flags, cpi) == (4 if mode is Mode.TUNNEL else 17, 0, IPCOMP_LZS_CPI)
            stream = out.packet[24:]
            inner = original if mode is Mode.TUNNEL else original[20:]
            assert lzs.decompress(stream, len(inner)) == inner           # RFC 2395: one LZS stream
            back = await peer_datapath.inbound(out.packet)
            assert back.ok, back.detail
            assert back.packet == original
            assert nonzero(sa.counters) == {"outProcessStart": 1, "outProcessDone": 1, "compressionStart": 1,
                                            "compressionGood": 1}
            assert peer.counters["decompressionGood"] == 1
            await bundle.close()
            await peer_bundle.close()
    run(body())


def test_accepts_streams_from_the_software_reference():
    async def body():
        sa = comp_sa(mode=Mode.TRANSPORT)
        _, datapath = await opened(sa)
        payload = bytes(UDP(sport=1, dport=2) / TEXT)
        packet = bytes(IP(src=PEER, dst=LOCAL, proto=108) / (ipcomp_header() + lzs.compress(payload)))
        result = await datapath.inbound(packet)
        assert result.ok and result.packet == bytes(IP(src=PEER, dst=LOCAL, proto=17) / payload)
    run(body())


def test_small_payloads_go_uncompressed():
    async def body():
        sa = comp_sa(compress_threshold=120)
        bundle, _ = await opened(sa)
        small = udp(b"a" * 70)                                           # 98 bytes of inner packet
        out = await bundle.outbound(small)
        assert IP(out.packet).proto == 4 and IP(out.packet).payload.build() == small   # IP in IP, no IPComp
        assert sa.counters["compTooSmall"] == 1 and sa.counters["compressionStart"] == 0
        assert IP((await bundle.outbound(udp(b"a" * 200))).packet).proto == 108
    run(body())


def test_incompressible_payloads_go_uncompressed_and_back_off():
    async def body():
        sa = comp_sa(backoff_after=3, backoff_packets=4)
        bundle, _ = await opened(sa)
        rng = random.Random(1)
        protocols = []
        for _ in range(9):
            out = await bundle.outbound(udp(rng.randbytes(300)))
            assert out.ok
            protocols.append(IP(out.packet).proto)
        assert protocols == [4] * 9
        counters = nonzero(sa.counters)
        assert counters["dataExpansion"] == 5 and counters["nonExpansionBackoff"] == 4
        assert counters["compressionStart"] == 5 and counters["outProcessDone"] == 9
        assert IP((await bundle.outbound(udp(TEXT))).packet).proto == 108     # tries again after the back-off
    run(body())


def test_bad_ipcomp_packets_are_dropped_and_counted():
    async def body():
        sa = comp_sa(mode=Mode.TRANSPORT)
        _, datapath = await opened(sa)
        header = IP(src=PEER, dst=LOCAL, proto=108)
        stream = lzs.compress(bytes(UDP() / TEXT))
        cases = {
            bytes(header / ipcomp_header()): DropReason.MALFORMED,                              # no payload
            bytes(header / b"\x11\x00"): DropReason.MALFORMED,                                  # CPI cut
            bytes(header / (ipcomp_header() + stream[:-5])): DropReason.DECOMPRESSION_FAILED,
            bytes(header / (ipcomp_header() + b"\xff" * 40)): DropReason.DECOMPRESSION_FAILED,
            bytes(header / (ipcomp_header(108) + stream)): DropReason.MALFORMED,                # nested IPComp
            bytes(header / (ipcomp_header(cpi=999) + stream)): DropReason.UNKNOWN_SPI,
        }
        for packet, reason in cases.items():
            result = await datapath.inbound(packet)
            assert result.reason is reason, (packet.hex(), result)
        counters = nonzero(sa.counters)
        assert counters["decompressionFail"] == 2 and counters["decompressionFailImm"] == 2
        assert datapath.counters["comp_in"]["decompressionFail"] == 2
        assert datapath.drops[DropReason.INTERNAL_ERROR] == 0
    run(body())


def test_decompression_is_bounded_by_the_ip_length():
    async def body():
        sa = comp_sa(mode=Mode.TRANSPORT)
        _, datapath = await opened(sa)
        bomb = lzs.compress(bytes(70000))                # decodes past what an IPv4 packet holds
        packet = bytes(IP(src=PEER, dst=LOCAL, proto=108) / (ipcomp_header() + bomb))
        assert (await datapath.inbound(packet)).reason is DropReason.DECOMPRESSION_FAILED
    run(body())
