"""ESP through the card (firmware/ipsec/esp.py, sa.py) on the behavioural
model, cross-checked with scapy's SecurityAssociation both ways, and every
kind of bad inbound packet dropped and counted."""
import hashlib
import hmac
import random
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import ESP

from datapath_support import (FAR_HOST, LOCAL, LOCAL6, NEAR_HOST, PEER, PEER6, make_sa, new_device,
                              nonzero, opened, run, scapy_peer, sealed_icmp)
from shared_docs import shared_file
from pacsim.contract.codes import CipherAlg, MacAlg
from pacsim.firmware.ipsec.counters import SA_COUNTER_NAMES
from pacsim.firmware.ipsec.esp import padding
from pacsim.firmware.ipsec.outcome import DropReason
from pacsim.firmware.ipsec.sa import Mode, Protocol, SaSetupError, SaState

SUITES = [(CipherAlg.DES, MacAlg.HMAC_MD5), (CipherAlg.TDES_INNER, MacAlg.HMAC_SHA1),
          (CipherAlg.AES128, MacAlg.HMAC_SHA1), (CipherAlg.AES192, MacAlg.HMAC_MD5),
          (CipherAlg.AES256, MacAlg.HMAC_SHA1), (None, MacAlg.HMAC_SHA1), (CipherAlg.AES128, None)]
SUITE_IDS = [f"{c.name if c else 'NULL'}-{m.name if m else 'NULL'}" for c, m in SUITES]


def inner_packet(rng: random.Random, size: int, *, src=NEAR_HOST, dst=FAR_HOST):
    return IP(src=src, dst=dst, id=rng.randrange(65536)) / UDP(sport=1000, dport=2000) / rng.randbytes(size)


def transport_packet(rng, size, *, src=LOCAL, dst=PEER):
    return IP(src=src, dst=dst, id=rng.randrange(65536), ttl=60) / TCP(sport=1234, dport=80) / rng.randbytes(size)


@pytest.mark.parametrize("mode", [Mode.TUNNEL, Mode.TRANSPORT])
@pytest.mark.parametrize("cipher, mac", SUITES, ids=SUITE_IDS)
def test_interoperates_with_scapy(cipher, mac, mode):
    async def body():
        sa = make_sa(Protocol.ESP, cipher=cipher, mac=mac, mode=mode)
        bundle, datapath = await opened(sa)
        sender, receiver = scapy_peer(sa)
        rng = random.Random(5)
        build = inner_packet if mode is Mode.TUNNEL else transport_packet
        for size in (0, 1, 2, 13, 14, 15, 16, 17, 64, 333, 1400):
            original = build(rng, size)
            out = await datapath.outbound(bundle, bytes(original))
            assert out.ok, out.detail
            wire = IP(out.packet)
            assert wire.proto == 50 and wire[ESP].spi == sa.outbound_spi and wire.src == LOCAL and wire.dst == PEER
            opened_by_scapy = receiver.decrypt(wire)
            assert bytes(opened_by_scapy) == bytes(IP(bytes(original))), size
            back = build(rng, size, src=FAR_HOST, dst=NEAR_HOST) if mode is Mode.TUNNEL else \
                build(rng, size, src=PEER, dst=LOCAL)
            result = await datapath.inbound(bytes(sender.encrypt(back)))
            assert result.ok, result.detail
            assert result.packet == bytes(IP(bytes(back)))
        assert sa.sequence == 11 and sa.replay.last == (11 if mac else 0)   # no ICV: no anti-replay
        counters = nonzero(sa.counters)
        assert counters["outProcessDone"] == counters["inProcessDone"] == 11
        assert "outProcessFail" not in counters and "inProcessFail" not in counters
        if cipher:
            assert counters["espEncryptionGood"] == counters["espDecryptionGood"] == 11
        if mac:
            assert counters["espOutHashGood"] == counters["espInHashGood"] == 11
        assert not datapath.drops
    run(body())


def test_outbound_layout_padding_and_iv():
    """SPI, sequence, a fresh IV from the injected source, padding 1, 2, 3, ...
    to the block; decrypted here with `cryptography` and HMAC-SHA1-96 checked."""
    async def body():
        ivs = random.Random(99)
        drawn = []

        def random_bytes(n):
            drawn.append(ivs.randbytes(n))
            return drawn[-1]

        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1, mode=Mode.TRANSPORT,
                     random_bytes=random_bytes)
        bundle, _ = await opened(sa)
        for size in range(0, 40):
            original = bytes(IP(src=LOCAL, dst=PEER, proto=253) / bytes(range(size)))
            out = await bundle.outbound(original)
            assert out.ok
            esp = out.packet[20:]
            spi, seq = struct.unpack_from("!II", esp)
            assert (spi, seq) == (sa.outbound_spi, size + 1)
            iv, ciphertext, icv = esp[8:24], esp[24:-12], esp[-12:]
            assert iv == drawn[-1] and len(ciphertext) % 16 == 0
            assert icv == hmac.new(sa.outbound_keys.mac, esp[:-12], hashlib.sha1).digest()[:12]
            decryptor = Cipher(algorithms.AES(sa.outbound_keys.cipher), modes.CBC(iv)).decryptor()
            plain = decryptor.update(ciphertext) + decryptor.finalize()
            pad_length, next_header = plain[-2], plain[-1]
            assert next_header == 253 and pad_length < 16
            assert plain[:size] == bytes(range(size))
            assert plain[size:-2] == bytes(range(1, pad_length + 1)) == padding(size, 16)
        assert len(set(drawn)) == len(drawn) == 40
    run(body())


def test_ipv6_tunnel_and_transport():
    async def body():
        device = await new_device()
        tunnel = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1, local=LOCAL6, peer=PEER6)
        transport = make_sa(Protocol.ESP, seed=2, out_spi=0x3003, in_spi=0x4004, cipher=CipherAlg.DES,
                            mac=MacAlg.HMAC_MD5, mode=Mode.TRANSPORT, local=LOCAL6, peer=PEER6)
        peers = {id(sa): scapy_peer(sa) for sa in (tunnel, transport)}
        for sa, inner in ((tunnel, IPv6(src="2001:db8:a::1", dst="2001:db8:b::1") / UDP() / b"v6 in v6"),
                          (tunnel, IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP() / b"v4 in v6"),
                          (transport, IPv6(src=LOCAL6, dst=PEER6) / TCP(dport=22) / b"transport v6")):
            if sa.state is SaState.UNDEF:
                bundle, datapath = await opened(sa, device=device)
            sender, receiver = peers[id(sa)]
            out = await datapath.outbound(bundle, bytes(inner))
            assert out.ok, out.detail
            assert bytes(receiver.decrypt(IPv6(out.packet))) == bytes(inner)
            sent = sender.encrypt(inner if sa.mode is Mode.TUNNEL else
                                  IPv6(src=PEER6, dst=LOCAL6) / TCP(dport=22) / b"back")
            result = await datapath.inbound(bytes(sent))
            assert result.ok, result.detail
    run(body())


# -- anti-replay ---------------------------------------------------------------

def test_replayed_and_old_packets_are_dropped_and_counted():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        bundle, datapath = await opened(sa)
        sender, _ = scapy_peer(sa)
        packets = [sealed_icmp(sender, seq=n) for n in range(1, 101)]
        order = [3, 1, 2, 2, 100, 69, 68, 3, 100, 70]
        verdicts = [(await datapath.inbound(packets[n - 1])).reason for n in order]
        assert verdicts == [None, None, None, DropReason.REPLAYED, None, None, DropReason.REPLAYED,
                            DropReason.REPLAYED, DropReason.REPLAYED, None]
        assert sa.counters["espReplayedPacket"] == 4 and sa.counters["inProcessDone"] == 6
        assert sa.counters["espInHashStart"] == 6          # replays never reach the card
        assert sa.replay.last == 100 and sa.replay.display_bitmap() == "c0000001"   # 100, 70, 69
        assert datapath.drops[DropReason.REPLAYED] == 4
    run(body())


def test_sequence_zero_is_refused():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.DES, mac=MacAlg.HMAC_MD5)
        _, datapath = await opened(sa)
        sender, _ = scapy_peer(sa, seq_num=0)
        result = await datapath.inbound(sealed_icmp(sender))
        assert result.reason is DropReason.REPLAYED
    run(body())


def test_forged_packets_do_not_move_the_window():
    """Check before, update after authentication (RFC 2401 appendix C)."""
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES256, mac=MacAlg.HMAC_SHA1, replay_window=64)
        _, datapath = await opened(sa)
        sender, _ = scapy_peer(sa, seq_num=1000)
        forged = bytearray(sealed_icmp(sender))
        forged[-1] ^= 1
        assert (await datapath.inbound(bytes(forged))).reason is DropReason.AUTHENTICATION_FAILED
        assert sa.replay.last == 0
        early, _ = scapy_peer(sa, seq_num=5)
        assert (await datapath.inbound(sealed_icmp(early))).ok
    run(body())


def test_without_anti_replay_duplicates_pass():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1, replay_window=None)
        _, datapath = await opened(sa)
        sender, _ = scapy_peer(sa)
        packet = sealed_icmp(sender)
        assert (await datapath.inbound(packet)).ok and (await datapath.inbound(packet)).ok
    run(body())


# -- tampering, padding, malformed input -------------------------------------------

def craft_esp(sa, seq: int, plaintext: bytes, *, iv: bytes = bytes(16)) -> bytes:
    """An ESP packet (AES-CBC, HMAC-SHA1-96) with the plaintext (payload,
    padding and trailer) exactly as given, keyed as our SA's peer sends."""
    encryptor = Cipher(algorithms.AES(sa.inbound_keys.cipher), modes.CBC(iv)).encryptor()
    body = struct.pack("!II", sa.inbound_spi, seq) + iv + encryptor.update(plaintext) + encryptor.finalize()
    body += hmac.new(sa.inbound_keys.mac, body, hashlib.sha1).digest()[:12]
    return bytes(IP(src=PEER, dst=LOCAL, proto=50) / body)


def test_bad_padding_is_dropped_and_counted():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1, mode=Mode.TRANSPORT)
        _, datapath = await opened(sa)
        payload = bytes(range(10))
        good = payload + bytes((1, 2, 3, 4)) + bytes((4, 253))
        assert (await datapath.inbound(craft_esp(sa, 1, good))).ok
        cases = [payload + bytes((1, 2, 9, 4)) + bytes((4, 253)),       # padding bytes not 1, 2, 3, ...
                 bytes(14) + bytes((200, 253)),                          # pad length past the plaintext
                 payload + bytes((0, 0, 0, 0)) + bytes((4, 253))]
        for seq, plain in enumerate(cases, 2):
            result = await datapath.inbound(craft_esp(sa, seq, plain))
            assert result.reason is DropReason.BAD_PADDING and result.sa is sa
        assert sa.counters["espPaddingInvalid"] == 3 and sa.counters["inProcessFail"] == 3
        assert datapath.counters["esp_in"]["paddingInvalid"] == 3
    run(body())


def test_tampered_packets_fail_authentication_and_deliver_nothing():
    async def body():
        device = await new_device()
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.TDES_INNER, mac=MacAlg.HMAC_SHA1)
        _, datapath = await opened(sa, device=device)
        sender, _ = scapy_peer(sa)
        rng = random.Random(3)
        for n in range(12):
            packet = bytearray(sealed_icmp(sender, rng.randbytes(40)))
            position = rng.randrange(24, len(packet))        # sequence, IV, ciphertext or ICV
            packet[position] ^= 1 << rng.randrange(8)
            result = await datapath.inbound(bytes(packet))
            assert result.packet is None and result.reason is DropReason.AUTHENTICATION_FAILED, position
        counters = nonzero(sa.counters)
        assert counters["espIcvInvalid"] == counters["espInHashFail"] == counters["inProcessFail"] == 12
        assert "espDecryptionGood" not in counters and "inProcessDone" not in counters
        assert (await device.channel_counters(sa.channel("mac", "inbound")))["fail"] == 12
    run(body())


def test_malformed_and_unknown_inbound_packets_are_dropped_with_a_reason():
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        _, datapath = await opened(sa)
        sender, _ = scapy_peer(sa)
        good = sealed_icmp(sender, b"hello")
        header = IP(src=PEER, dst=LOCAL, proto=50)
        spi = struct.pack("!I", sa.inbound_spi)
        cases = {
            b"": DropReason.MALFORMED,
            good[:10]: DropReason.MALFORMED,                                      # truncated IP header
            good[:-1]: DropReason.MALFORMED,                                      # IP length past the bytes
            bytes(header / spi[:3]): DropReason.MALFORMED,                        # SPI cut
            bytes(header / (spi + bytes(4))): DropReason.MALFORMED,               # header only
            bytes(header / (spi + bytes(4 + 16 + 15 + 12))): DropReason.MALFORMED,  # not whole blocks
            bytes(header / (b"\0\0\0\x07" + bytes(60))): DropReason.UNKNOWN_SPI,
            bytes(IP(src=PEER, dst="203.0.113.9", proto=50) / good[20:]): DropReason.UNKNOWN_SPI,
            bytes(IP(src=PEER, dst=LOCAL, flags="MF") / good[20:]): DropReason.FRAGMENT,
            bytes(IP(src=PEER, dst=LOCAL) / UDP(dport=53) / b"x"): DropReason.WRONG_PROTOCOL,
        }
        for packet, reason in cases.items():
            result = await datapath.inbound(packet)
            assert result.reason is reason, (packet.hex(), result)
            assert result.detail
        assert datapath.drops[DropReason.INTERNAL_ERROR] == 0
        assert datapath.counters["sad_find"]["failed"] == 2
        assert (await datapath.inbound(good)).ok
    run(body())


def test_decrypts_to_a_packet_too_long_for_ip_is_dropped():
    """A tunnel-mode SA whose payload is not an IP packet: dropped, not delivered."""
    async def body():
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        _, datapath = await opened(sa)
        plain = b"not an IP packet" + bytes((1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)) + bytes((14, 6))
        result = await datapath.inbound(craft_esp(sa, 1, plain))
        assert result.reason is DropReason.TUNNEL_MISMATCH
    run(body())


# -- sequence numbers, lifetime, channels -------------------------------------------

def test_sequence_number_cycling():
    async def body():
        device = await new_device()
        with_replay = make_sa(Protocol.ESP, cipher=CipherAlg.DES, mac=MacAlg.HMAC_MD5)
        without = make_sa(Protocol.ESP, seed=2, out_spi=0x3003, in_spi=0x4004, cipher=CipherAlg.DES,
                          mac=MacAlg.HMAC_MD5, replay_window=None)
        inner = bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP())
        bundle, datapath = await opened(with_replay, device=device)
        with_replay.sequence = 0xFFFF_FFFE
        assert (await bundle.outbound(inner)).ok
        result = await bundle.outbound(inner)
        assert result.reason is DropReason.SEQUENCE_EXHAUSTED and with_replay.sequence == 0xFFFF_FFFF
        assert datapath.counters["esp_out"]["seqNumberCycled"] == 1
        other, _ = await opened(without, device=device)
        without.sequence = 0xFFFF_FFFF
        out = await other.outbound(inner)
        assert out.ok and struct.unpack_from("!I", out.packet, 24)[0] == 1
    run(body())


def test_channels_one_per_service_per_direction_and_closed():
    async def body():
        device = await new_device()
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        bundle, datapath = await opened(sa, device=device)
        channels = {key: channel.number for key, channel in sa.channels.items()}
        assert set(channels) == {("cipher", "outbound"), ("cipher", "inbound"), ("mac", "outbound"),
                                 ("mac", "inbound")}
        assert sorted(device.channels) == sorted(channels.values())
        assert sa.state is SaState.VALID
        await bundle.close()
        assert device.channels == {} and sa.state is SaState.UNDEF
        assert datapath.counters["esp_setup"]["setupDone"] == 1
        assert datapath.counters["esp_setup"]["removeDone"] == 1
        result = await bundle.outbound(bytes(IP(src=NEAR_HOST, dst=FAR_HOST) / ICMP()))
        assert result.reason is DropReason.SA_NOT_VALID
    run(body())


def test_setup_fails_cleanly_when_the_card_runs_out_of_channels():
    async def body():
        device = await new_device(channels=4)
        first = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        await opened(first, device=device)
        second = make_sa(Protocol.ESP, seed=2, out_spi=0x3003, in_spi=0x4004, cipher=CipherAlg.DES,
                         mac=MacAlg.HMAC_MD5)
        with pytest.raises(SaSetupError, match="channel"):
            await second.open(device)
        assert second.state is SaState.UNDEF and second.channels == {}
        assert sorted(device.channels) == [0, 1, 2, 3]
        await first.close()
        await second.open(device)
        assert second.state is SaState.VALID
    run(body())


def test_bad_keys_are_refused_at_setup():
    async def body():
        device = await new_device()
        sa = make_sa(Protocol.ESP, cipher=CipherAlg.AES128, mac=MacAlg.HMAC_SHA1)
        sa.outbound_keys = type(sa.outbound_keys)(b"short", b"k")
        with pytest.raises(SaSetupError, match="AES128 key of 5 bytes"):
            await sa.open(device)
        assert device.channels == {}
    run(body())


def test_sa_configuration_is_checked():
    with pytest.raises(ValueError, match="neither a cipher nor a MAC"):
        make_sa(Protocol.ESP)
    with pytest.raises(ValueError, match="tunnel endpoints"):
        make_sa(Protocol.ESP, cipher=CipherAlg.DES, local=None)
    with pytest.raises(ValueError, match="SPI 0"):
        make_sa(Protocol.ESP, cipher=CipherAlg.DES, in_spi=0)
    with pytest.raises(ValueError, match="not an IPsec authenticator"):
        make_sa(Protocol.AH, mac=MacAlg.SHA1)


def test_counter_names_are_the_displays():
    """Figure 48-22 of spec/show-outputs.md, in display order."""
    text = shared_file("spec/show-outputs.md").read_text()
    figure = text[text.index("### Figure 48-22"):]
    figure = figure[figure.index("```text"):figure.index("```", figure.index("```text") + 7)]
    names = [word for line in figure.splitlines() if line.startswith("  ") for word in line.split()
             if not word.isdigit()]
    assert tuple(names) == SA_COUNTER_NAMES
