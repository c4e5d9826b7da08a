"""AH with the ICV from the card's HASH jobs (firmware/ipsec/ah.py) on the
behavioural model, cross-checked with scapy's SecurityAssociation both
ways; mutable header fields, replay, tampering and bad lengths."""
import random
import struct

import pytest
from scapy.layers.inet import ICMP, IP, IPOption_Router_Alert, IPOption_RR, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, PadN
from scapy.layers.ipsec import AH

from datapath_support import (FAR_HOST, LOCAL, LOCAL6, NEAR_HOST, PEER, PEER6, make_sa, nonzero, opened, run,
                              scapy_peer, sealed_icmp, with_ipv4_checksum)
from pacsim.contract.codes import MacAlg
from pacsim.firmware.ipsec.ah import icv_field_bytes, zero_mutable
from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.ipsec.sa import Mode, Protocol


@pytest.mark.parametrize("mode", [Mode.TUNNEL, Mode.TRANSPORT])
@pytest.mark.parametrize("mac", [MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1])
def test_interoperates_with_scapy(mac, mode):
    async def body():
        sa = make_sa(Protocol.AH, mac=mac, mode=mode)
        bundle, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa)
        rng = random.Random(2)
        for size in (0, 1, 3, 64, 1000):
            if mode is Mode.TUNNEL:
                out_packet = IP(src=NEAR_HOST, dst=FAR_HOST, tos=0x10) / UDP() / rng.randbytes(size)
                in_packet = IP(src=FAR_HOST, dst=NEAR_HOST) / UDP() / rng.randbytes(size)
            else:
                out_packet = IP(src=LOCAL, dst=PEER, ttl=33) / TCP(dport=179) / rng.randbytes(size)
                in_packet = IP(src=PEER, dst=LOCAL) / TCP(dport=179) / rng.randbytes(size)
            out = await datapath.outbound(bundle, bytes(out_packet))
            assert out.ok, out.detail
            wire = IP(out.packet)
            assert wire.proto == 51 and wire[AH].spi == sa.outbound_spi and wire[AH].payloadlen == 4
            assert bytes(receiver.decrypt(wire)) == bytes(IP(bytes(out_packet)))     # scapy checks the ICV
            result = await datapath.inbound(bytes(sender.encrypt(in_packet)))
            assert result.ok, result.detail
            assert result.packet == bytes(IP(bytes(in_packet)))
        counters = nonzero(sa.counters)
        assert counters["ahOutHashGood"] == counters["ahInHashGood"] == counters["inProcessDone"] == 5
        assert datapath.counters["ah_in"]["hashGood"] == 5
    run(body())


def test_mutable_fields_and_options_may_change_in_transit():
    """TOS, flags, TTL, checksum and mutable options are zeroed for the ICV;
    immutable options and addresses are not."""
    async def body():
        sa = make_sa(Protocol.AH, mac=MacAlg.HMAC_SHA1, mode=Mode.TRANSPORT)
        _, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa)
        original = IP(src=PEER, dst=LOCAL, options=[IPOption_Router_Alert(), IPOption_RR(routers=["0.0.0.0"])]) / \
            ICMP() / b"opt"
        in_transit = bytearray(bytes(sender.encrypt(original)))
        assert in_transit[24:27] == bytes((7, 7, 4))                 # record route: one slot, pointer 4
        in_transit[1], in_transit[6], in_transit[8] = 0xB8, 0x40, 3   # TOS, DF, TTL
        in_transit[26], in_transit[27:31] = 8, bytes((203, 0, 113, 1))   # a router records itself
        assert (await datapath.inbound(with_ipv4_checksum(in_transit))).ok
        for field, value in (("src", "203.0.113.7"), ("id", 4242)):
            changed = IP(bytes(sender.encrypt(original)))
            setattr(changed, field, value)
            del changed.chksum
            result = await datapath.inbound(bytes(changed))
            assert result.reason is DropReason.AUTHENTICATION_FAILED, field
        alert = bytearray(bytes(sender.encrypt(original)))
        alert[23] = 1                                                 # router alert value: immutable
        assert (await datapath.inbound(with_ipv4_checksum(alert))).reason is DropReason.AUTHENTICATION_FAILED
        assert sa.counters["ahIcvInvalid"] == 3
        # and our outbound packets with options verify at scapy
        bundle = datapath.bundles[0]
        out = await bundle.outbound(bytes(IP(src=LOCAL, dst=PEER, options=[IPOption_RR()]) / ICMP()))
        assert out.ok and IP(bytes(receiver.decrypt(IP(out.packet)))).haslayer(ICMP)   # scapy checked the ICV
    run(body())


def test_zeroing_of_ipv4_header():
    packet = bytes(IP(src=LOCAL, dst=PEER, tos=0x28, ttl=9, flags="DF", options=[IPOption_RR()]) / b"x")
    zeroed = zero_mutable(parse_ip(packet))
    assert zeroed[1] == 0 and zeroed[6:9] == bytes(3) and zeroed[10:12] == bytes(2)
    assert zeroed[12:20] == packet[12:20] and zeroed[20:] == bytes(len(zeroed) - 20)
    assert icv_field_bytes(12, 4) == 12 and icv_field_bytes(8, 6) == 12 and icv_field_bytes(12, 6) == 12


def test_ipv6_transport_with_destination_options():
    async def body():
        sa = make_sa(Protocol.AH, mac=MacAlg.HMAC_SHA1, mode=Mode.TRANSPORT, local=LOCAL6, peer=PEER6)
        bundle, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa)
        out = await datapath.outbound(bundle, bytes(IPv6(src=LOCAL6, dst=PEER6, hlim=5) / UDP() / b"six"))
        assert out.ok, out.detail
        assert IPv6(bytes(receiver.decrypt(IPv6(out.packet)))).haslayer(UDP)
        original = IPv6(src=PEER6, dst=LOCAL6, tc=3) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) / \
            UDP() / b"back"
        in_transit = IPv6(bytes(sender.encrypt(original)))
        in_transit.hlim, in_transit.tc, in_transit.fl = 1, 0x20, 77
        result = await datapath.inbound(bytes(in_transit))
        assert result.ok, result.detail
        assert IPv6(result.packet)[UDP].load == b"back"
    run(body())


def test_replay_tamper_and_bad_lengths_are_dropped_and_counted():
    async def body():
        sa = make_sa(Protocol.AH, mac=MacAlg.HMAC_MD5)
        _, datapath = await opened(sa)
        sender, _ = scapy_peer(sa)
        first = sealed_icmp(sender, b"one")
        assert (await datapath.inbound(first)).ok
        assert (await datapath.inbound(first)).reason is DropReason.REPLAYED
        tampered = bytearray(sealed_icmp(sender, b"two"))
        tampered[-1] ^= 0x40
        assert (await datapath.inbound(bytes(tampered))).reason is DropReason.AUTHENTICATION_FAILED
        good = sealed_icmp(sender, b"three")
        ah = good[20:]
        header = IP(src=PEER, dst=LOCAL, proto=51)
        cases = [bytes(header / ah[:11]),                                        # truncated AH header
                 bytes(header / (ah[:1] + bytes((5,)) + ah[2:])),                 # length for a 16-byte ICV
                 bytes(header / (ah[:1] + bytes((4,)) + ah[2:])[:20])]           # header longer than the packet
        for packet in cases:
            assert (await datapath.inbound(packet)).reason is DropReason.BAD_PAYLOAD_LENGTH
        assert (await datapath.inbound(good)).ok
        counters = nonzero(sa.counters)
        assert counters["ahReplayedPacket"] == 1 and counters["ahIcvInvalid"] == 1
        assert counters["ahBadPayloadLength"] == 3 and counters["inProcessDone"] == 2
        assert counters["inProcessFailImm"] == 4 and counters["inProcessFail"] == 1
        assert datapath.counters["ah_in"]["badPayloadLength"] == 3
        unknown = bytes(header / (ah[:4] + struct.pack("!I", 999) + ah[8:]))
        assert (await datapath.inbound(unknown)).reason is DropReason.UNKNOWN_SPI
    run(body())


def test_channels_are_encode_mac_channels_with_each_directions_key():
    async def body():
        sa = make_sa(Protocol.AH, mac=MacAlg.HMAC_SHA1)
        await opened(sa)
        assert set(sa.channels) == {("mac", "outbound"), ("mac", "inbound")}
        assert {channel.direction.name for channel in sa.channels.values()} == {"ENCODE"}
        assert sa.outbound_keys.mac != sa.inbound_keys.mac
    run(body())
