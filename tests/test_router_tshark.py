"""The WAN written to a pcap file (our own writer: classic pcap, LINKTYPE_RAW)
between two routers with manual keys, read back by tshark's ESP dissector
given the keys (``uat:esp_sa``, Wireshark 4.0 format): every ESP packet's
ICV checks and its inner UDP or ICMP is shown. Skipped when tshark is
missing (Debian package ``tshark``)."""
import struct
import subprocess

import pytest

from required_tools import required_tool
from router_support import TSHARK_AUTH, TSHARK_CIPHER, run, two_routers
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import LINKTYPE_RAW, PCAP_MAGIC, PcapWriter

def esp_sa_entries(vpn: ManualVpn) -> list[str]:
    """The ``esp_sa`` UAT records of both directions (protocol, source,
    destination, SPI, encryption, key, authentication, key)."""
    entries = []
    for sender in ("a", "b"):
        src, dst = vpn.site(sender).wan, vpn.other(sender).wan
        entries.append(f'"IPv4","{src}","{dst}","0x{vpn.esp_spi(sender):08x}","{TSHARK_CIPHER[vpn.encalg]}",'
                       f'"0x{vpn.keys["esp_enc"].hex()}","{TSHARK_AUTH[vpn.hashalg]}","0x{vpn.keys["esp_auth"].hex()}"')
    return entries


def tshark_fields(pcap, vpn: ManualVpn, *fields: str) -> list[list[str]]:
    args = [required_tool("tshark", "tshark"), "-r", str(pcap), "-o", "esp.enable_encryption_decode:TRUE",
            "-o", "esp.enable_authentication_check:TRUE"]
    for entry in esp_sa_entries(vpn):
        args += ["-o", f"uat:esp_sa:{entry}"]
    args += ["-T", "fields", "-E", "separator=|"] + [a for f in fields for a in ("-e", f)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.splitlines()]


async def capture(vpn: ManualVpn, path) -> None:
    with PcapWriter(path) as pcap:
        network = await two_routers(vpn, pcap=pcap)
        if vpn.mode == "tunnel":
            network.send_udp("pc1", "pc2", payload=b"through the tunnel")
            network.ping("pc2", "pc1", 32)
        else:
            network.originate("a", network.routers["a"].send_echo("202.78.65.4", 5, 1, b"transport"))
        await network.run()
        assert len(network.wan) >= 2 and not network.lost


def test_pcap_file_format(tmp_path):
    async def body():
        await capture(ManualVpn(), tmp_path / "wan.pcap")
    run(body())
    data = (tmp_path / "wan.pcap").read_bytes()
    magic, major, minor, _, _, snaplen, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor, snaplen, linktype) == (PCAP_MAGIC, 2, 4, 65535, LINKTYPE_RAW)
    offset, records = 24, 0
    while offset < len(data):
        seconds, micros, captured, original = struct.unpack_from("<IIII", data, offset)
        assert captured == original and data[offset + 16] >> 4 == 4 and micros < 1_000_000
        offset += 16 + captured
        records += 1
    assert offset == len(data) and records == 3           # UDP, echo request, echo reply


@pytest.mark.parametrize("bundle, mode", [("esp", "tunnel"), ("esp+ah", "transport"), ("esp+ah", "tunnel")])
def test_tshark_decrypts_and_authenticates_the_wan(tmp_path, bundle, mode):
    vpn = ManualVpn(bundle=bundle, mode=mode)
    pcap = tmp_path / "wan.pcap"
    run(capture(vpn, pcap))
    rows = tshark_fields(pcap, vpn, "ip.src", "ip.dst", "ah.spi", "esp.spi", "esp.icv_good", "udp.length",
                         "icmp.type", "data.data")
    assert len(rows) >= 2
    spis = {f"0x{vpn.esp_spi(s):08x}" for s in ("a", "b")}
    for src, dst, ah_spi, esp_spi, icv_good, udp_length, icmp_type, data in rows:
        assert esp_spi in spis and icv_good == "1", rows            # decrypted with the keys, ICV good
        assert bool(ah_spi) == (bundle == "esp+ah")
        assert udp_length or icmp_type                              # the inner packet was dissected
        if mode == "tunnel":
            assert src.count(",") == 1 and src.split(",")[1].startswith("10.")   # outer and inner header
        if udp_length:
            assert bytes.fromhex(data) == b"through the tunnel"


def test_tshark_with_wrong_keys_finds_bad_icvs(tmp_path):
    vpn = ManualVpn()
    pcap = tmp_path / "wan.pcap"
    run(capture(vpn, pcap))
    wrong = ManualVpn(seed=99)                                     # same SPIs, other keys
    rows = tshark_fields(pcap, wrong, "esp.spi", "esp.icv_good", "udp.length")
    assert rows and all(r[1] != "1" and not r[2] for r in rows)
