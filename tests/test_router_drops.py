"""Bad packets on the WAN (replayed, tampered, unknown SPI, bad padding) and
other drops are dropped by the router and show in the right counters of
its displays (DESIGN.md principle 6); a card out of channels is an error
that is counted and shown by ``show enco``."""
import hashlib
import hmac
import re
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from router_support import counter, run, scapy_sa, scapy_seal, two_routers, wan_from
from pacsim.firmware.ipsec.packet import PROTO_ESP, ipv4_header
from pacsim.sim.manual_vpn import ManualVpn


def good_failed(text: str, row: str) -> tuple[int, int]:
    """(good, failed) of a row of a Good/Failed table (``show ipsec counter=sad``)."""
    m = re.search(rf"{re.escape(row)}\s+(\d+)\s+(\d+)", text)
    assert m, f"{row} not in:\n{text}"
    return int(m.group(1)), int(m.group(2))


async def one_packet(network, source="pc2", destination="pc1") -> bytes:
    """Send one UDP datagram and return the WAN packet that carried it."""
    before = len(network.wan)
    network.send_udp(source, destination, 40)
    await network.run()
    return network.wan[before].packet


def test_replayed_packet_dropped_and_counted_with_anti_replay():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn, replay_window={"a": 32, "b": 32})
        a = network.routers["a"]
        wire = await one_packet(network)
        network.inject("a", "ppp0", wire)                           # the same packet again
        await network.run()
        assert len(network.hosts["pc1"].received) == 1
        assert a.drop_log[-1].reason == "replayed"
        sa = await a.execute("show ipsec sa=0 counter")
        assert counter(sa, "espReplayedPacket") == 1 and counter(sa, "inProcessFailImm") == 1
        assert counter(sa, "inProcessDone") == 1
        assert counter(await a.execute("show ipsec counter=esp"), "replayedPacket") == 1
        assert counter(await a.execute("show ipsec policy=vpn counter"), "inProcessFailImm") == 1
        detail = await a.execute("show ipsec sa=0")
        assert "Anti-replay checking enabled .......... TRUE" in detail
        assert "Anti-replay bitmap .................... 00000001" in detail
        assert "Last received sequence number ......... 1" in detail
    run(body())


def test_manual_sas_have_no_anti_replay_by_default():
    """The manual: ANTIREPLAYENABLED is not valid with manual keys; a replay passes."""
    async def body():
        network = await two_routers(ManualVpn())
        wire = await one_packet(network)
        network.inject("a", "ppp0", wire)
        await network.run()
        assert len(network.hosts["pc1"].received) == 2
        assert "Anti-replay checking enabled .......... FALSE" in await network.routers["a"].execute("sh ips sa=0")
    run(body())


@pytest.mark.parametrize("where", ["ciphertext", "icv", "sequence"])
def test_tampered_esp_dropped_and_counted(where):
    async def body():
        network = await two_routers(ManualVpn())
        a = network.routers["a"]
        wire = bytearray(await one_packet(network))
        offset = {"ciphertext": 20 + 8 + 16 + 3, "icv": len(wire) - 1, "sequence": 20 + 7}[where]
        wire[offset] ^= 0x40
        network.inject("a", "ppp0", bytes(wire))
        await network.run()
        assert len(network.hosts["pc1"].received) == 1
        assert a.drop_log[-1].reason == "authentication failed"
        sa = await a.execute("show ipsec sa counter")
        assert counter(sa, "espIcvInvalid") == 1 and counter(sa, "espInHashFail") == 1
        assert counter(sa, "espDecryptionGood") == 1                # only the good packet was decrypted
        esp = await a.execute("show ipsec counter=esp")
        assert counter(esp, "icvInvalid") == 1 and counter(esp, "hashFail", 1) == 1
        assert counter(await a.execute("show ipsec policy=vpn counter"), "inProcessFail") == 1
        alg = await a.execute("show ipsec counter=alg")
        assert counter(alg, "shaDecodeFail") == 1 and counter(alg, "shaDecodeGood") == 1   # read from the card
        assert counter(alg, "ipsecDecodeFail") == 1
    run(body())


def test_tampered_ah_dropped_and_counted():
    async def body():
        network = await two_routers(ManualVpn(bundle="esp+ah"))
        a = network.routers["a"]
        wire = bytearray(await one_packet(network))
        wire[8] -= 1                                     # TTL: mutable, AH does not cover it
        wire[10:12] = b"\0\0"
        from pacsim.firmware.ipsec.packet import checksum
        wire[10:12] = struct.pack("!H", checksum(bytes(wire[:20])))
        network.inject("a", "ppp0", bytes(wire))         # accepted: only immutable fields count
        wire[15] ^= 1                                    # the source address: immutable
        wire[10:12] = b"\0\0"
        wire[10:12] = struct.pack("!H", checksum(bytes(wire[:20])))
        network.inject("a", "ppp0", bytes(wire))
        await network.run()
        assert len(network.hosts["pc1"].received) == 2
        sa_ids = [int(line.split()[0]) for line in (await a.execute("show ipsec sa")).splitlines()[2:]
                  if " AH " in line]
        ah = await a.execute(f"show ipsec sa={sa_ids[0]} counter")
        # the card's HASH job ran for all three; the ICV compare (in software) failed for one
        assert counter(ah, "ahIcvInvalid") == 1 and counter(ah, "ahInHashGood") == 3
        assert counter(ah, "inProcessDone") == 2 and counter(ah, "inProcessFail") == 1
        assert counter(await a.execute("show ipsec counter=ah"), "icvInvalid") == 1
    run(body())


def test_unknown_spi_dropped_and_counted():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        stranger = ScapySA(ESP, spi=0x9999, crypt_algo="AES-CBC", crypt_key=vpn.keys["esp_enc"],
                           auth_algo="HMAC-SHA1-96", auth_key=vpn.keys["esp_auth"],
                           tunnel_header=IP(src="202.78.65.4", dst="202.45.12.8"))
        network.inject("a", "ppp0", bytes(stranger.encrypt(IP(src="10.2.1.10", dst="10.1.1.10") / UDP() / b"?")))
        await network.run()
        assert not network.hosts["pc1"].received
        assert a.drop_log[-1].reason == "unknown SPI" and "SPI 39321" in a.drop_log[-1].detail
        assert good_failed(await a.execute("show ipsec counter=sad"), "Find SA") == (0, 1)
        ip = await a.execute("show ip counter")
        assert counter(ip, "ipsecDiscards") == 1
    run(body())


def esp_with_bad_padding(vpn: ManualVpn, sender: str, inner: bytes) -> bytes:
    """A tunnel-mode ESP packet with a correct ICV whose padding is not 1, 2, 3..."""
    iv = bytes(range(16))
    pad = b"\x07" * (-(len(inner) + 2) % 16)
    pad = pad or b"\x07" * 16
    plain = inner + pad + bytes((len(pad), 4))
    encryptor = Cipher(algorithms.AES(vpn.keys["esp_enc"]), modes.CBC(iv)).encryptor()
    body = struct.pack("!II", vpn.esp_spi(sender), 1) + iv + encryptor.update(plain) + encryptor.finalize()
    body += hmac.new(vpn.keys["esp_auth"], body, hashlib.sha1).digest()[:12]
    return ipv4_header(vpn.site(sender).wan, vpn.other(sender).wan, PROTO_ESP, len(body)) + body


def test_bad_padding_dropped_and_counted():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        inner = bytes(IP(src="10.2.1.10", dst="10.1.1.10") / UDP() / b"padded badly")
        network.inject("a", "ppp0", esp_with_bad_padding(vpn, "b", inner))
        await network.run()
        assert not network.hosts["pc1"].received
        assert a.drop_log[-1].reason == "bad padding"
        sa = await a.execute("show ipsec sa=0 counter")
        assert counter(sa, "espPaddingInvalid") == 1 and counter(sa, "espInHashGood") == 1
        assert counter(sa, "inProcessFail") == 1
        assert counter(await a.execute("show ipsec counter=esp"), "paddingInvalid") == 1
    run(body())


def test_selectors_checked_after_decapsulation():
    """A packet that authenticates but carries addresses outside the
    policy's selectors is dropped (inPolSelectMatchFail) after IPsec
    processing finished (inProcessDone in the policy and the SA alike) and
    is an ipsecDecodeDiscard."""
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        spoofed = IP(src="172.16.0.1", dst="10.1.1.10") / UDP() / b"not from the remote LAN"
        network.inject("a", "ppp0", scapy_seal(vpn, "b", spoofed))
        await network.run()
        assert not network.hosts["pc1"].received
        assert counter(await a.execute("show ipsec policy=vpn counter"), "inPolSelectMatchFail") == 1
        # processing finished (as the SA counts it), then the selector check discarded the packet
        sa_counters = await a.execute("show ipsec sa=0 counter")
        policy = await a.execute("show ipsec policy=vpn counter")
        for display in (sa_counters, policy):
            assert counter(display, "inProcessDone") == 1
            assert counter(display, "inProcessFail") == 0 and counter(display, "inProcessFailImm") == 0
        alg = await a.execute("show ipsec counter=alg")
        assert counter(alg, "ipsecDecodeGood") == 1 and counter(alg, "ipsecDecodeDiscard") == 1
        assert counter(alg, "ipsecDecodeFail") == 0
    run(body())


def test_deny_and_no_route_and_ttl_counted():
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        for line in ("create ipsec policy=block int=ppp0 action=deny lport=7 position=1",):
            assert "Error" not in await a.execute(line)
        network.send_udp("pc1", "pc2", 4, src_port=7)
        await network.run()
        assert not network.hosts["pc2"].received
        assert counter(await a.execute("show ipsec policy=block counter"), "outDeny") == 1
        await a.execute("delete ip route=0.0.0.0 mask=0.0.0.0")
        network.send_udp("pc1", "pc2", 4)
        network.inject("a", "eth0", bytes(IP(src="10.1.1.10", dst="10.2.1.10", ttl=1) / UDP()))
        await network.run()
        ip = await a.execute("show ip counter")
        assert counter(ip, "outNoRoutes") == 1 and counter(ip, "ttlExceeded") == 1
        assert sorted(d.reason for d in a.drop_log)[-2:] == ["outNoRoutes", "ttlExceeded"]
    run(body())


def test_channel_exhaustion_is_an_error_counted_and_displayed():
    async def body():
        vpn = ManualVpn(bundle="esp+ah")
        network = await two_routers(vpn, channels=8)              # ESP + AH take 6 of the 8
        a = network.routers["a"]
        lines = ("create ipsec saspecification=9 keymanagement=manual protocol=esp encalg=aes128 hashalg=sha "
                 "enckey=1 hashkey=2 inspi=700 outspi=800",
                 'create ipsec bundlespecification=9 keymanagement=manual string="9"',
                 "create ipsec policy=second int=ppp0 action=ipsec keymanagement=manual bundlespecification=9 "
                 "peer=202.78.65.4 laddress=10.1.1.0 lmask=255.255.255.0 raddress=10.9.9.0 rmask=255.255.255.0")
        for line in lines[:2]:
            assert "Error" not in await a.execute(line)
        out = await a.execute(lines[2])
        assert out.startswith("Info: Operation successful.")
        assert 'Error: SA bundle 0 of IPsec policy "second" was not set up' in out and "channels" in out
        assert len(a.device.channels) == 6                         # nothing of the failed bundle stays open
        enco = await a.execute("show enco")
        assert "Channels in use ...... 6" in enco and "Channels free ........ 2" in enco
        assert "Open failures ........ 1" in enco and "Last failure ......... all 8 channels" in enco
        setup = await a.execute("show ipsec counter=setup")
        assert counter(setup, "setupFailed") == 1 and counter(setup, "setupDone") == 2
        assert counter(await a.execute("show ipsec counter=esp"), "setupFailed") == 1
        alg = await a.execute("show ipsec counter=alg")
        assert counter(alg, "aesAttachGood") == 4 and (counter(alg, "aesAttachFail") +
                                                        counter(alg, "shaAttachFail")) == 1
        assert counter(alg, "ipsecAttachFail") == 1
        assert "INVALID" in await a.execute("show ipsec policy=second sabundle")
        network.routers["b"].ip.add_interface("eth1", "10.9.9.1", "255.255.255.0")
        network.send_udp("pc1", "10.9.9.9", 8)
        await network.run()
        assert counter(await a.execute("show ipsec policy=second counter"), "outBundleStateBad") == 1
        # free the channels of the first policy, then rebuild the second's bundle
        await a.execute("destroy ipsec policy=vpn")
        out = await a.execute("reset ipsec policy=second")
        assert "Error" not in out and len(a.device.channels) == 4
        assert "VALID" in await a.execute("show ipsec policy=second sabundle")
    run(body())


def test_reset_counters():
    async def body():
        network = await two_routers(ManualVpn())
        a = network.routers["a"]
        await one_packet(network, "pc1", "pc2")
        assert counter(await a.execute("show ipsec counter=alg"), "aesEncodeGood") == 1
        await a.execute("reset ipsec counter")
        for group, name in (("alg", "aesEncodeGood"), ("esp", "encryptionGood"), ("main", "outProcessPkt")):
            assert counter(await a.execute(f"show ipsec counter={group}"), name) == 0
        assert counter(await a.execute("show ipsec sa=0 counter"), "outProcessDone") == 1
        await a.execute("reset ipsec sa=0 counter")
        assert counter(await a.execute("show ipsec sa=0 counter"), "outProcessDone") == 0
        await one_packet(network, "pc1", "pc2")
        assert counter(await a.execute("show ipsec counter=alg"), "aesEncodeGood") == 1
    run(body())


def test_wan_packets_of_a_dropped_flow_not_sent():
    """A packet dropped outbound never reaches the WAN."""
    async def body():
        vpn = ManualVpn()
        network = await two_routers(vpn)
        a = network.routers["a"]
        await a.execute("disable ipsec")
        await a.execute("enable ipsec")
        await one_packet(network, "pc1", "pc2")
        assert len(wan_from(network, "a")) == 1
        assert scapy_sa(vpn, ESP, "a").decrypt(IP(wan_from(network, "a")[0])).proto == 4
    run(body())
