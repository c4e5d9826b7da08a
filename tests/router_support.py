"""Shared helpers of the router tests (test_router_*): two routers on model
cards joined by a WAN, configured by :class:`~pacsim.sim.manual_vpn.ManualVpn`
through their consoles, and scapy's view of the WAN (scapy is a test tool
here: an independent ESP/AH implementation). No tests of its own."""
import asyncio
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

from scapy.layers.inet import IP, defragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, defragment6
from scapy.packet import Raw
from scapy.layers.ipsec import AH, ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.router.stack import udp_packet
from pacsim.reference import lzs
from pacsim.sim.manual_vpn import ManualVpn
from pacsim.sim.network import Network, model_router

SCAPY_CIPHER = {"aes128": "AES-CBC", "aes192": "AES-CBC", "aes256": "AES-CBC", "des": "DES", "3desinner": "3DES"}
SCAPY_AUTH = {"sha": "HMAC-SHA1-96", "md5": "HMAC-MD5-96"}
TSHARK_CIPHER = {"aes128": "AES-CBC [RFC3602]", "des": "DES-CBC [RFC2405]", "3desinner": "TripleDES-CBC [RFC2451]"}
TSHARK_AUTH = {"sha": "HMAC-SHA-1-96 [RFC2404]", "md5": "HMAC-MD5-96 [RFC2403]"}


def run(coroutine):
    return asyncio.run(coroutine)


async def two_routers(vpn: ManualVpn, *, pcap=None, channels: int = 64, replay_window: dict | None = None,
                      configure: bool = True) -> Network:
    """Routers ``a`` and ``b`` (each on its own model card), the WAN between
    their ppp0 and a host on each LAN, configured by ``vpn``'s scripts (every
    line must succeed)."""
    network = Network(pcap=pcap)
    for seed, name in enumerate(("a", "b"), 1):
        router = await model_router(name, network.clock, seed=seed, channels=channels,
                                    replay_window=(replay_window or {}).get(name))
        network.add_router(router)
        if configure:
            await configure_router(router, vpn.router_lines(name))
    if configure:
        connect(network, vpn)
    return network


async def router_a(vpn: ManualVpn, **options):
    """:func:`two_routers` of ``vpn`` (``options`` as it takes them); ``(network, router a)``."""
    network = await two_routers(vpn, **options)
    return network, network.routers["a"]


async def configure_router(router, lines) -> None:
    for line in lines:
        out = await router.execute(line)
        assert "Error" not in out, f"{router.name}> {line}\n{out}"


def connect(network: Network, vpn: ManualVpn) -> None:
    network.join("a", "ppp0", "b", "ppp0")
    for name in ("a", "b"):
        site = vpn.site(name)
        network.add_host(site.host, name, "eth0", vpn.host_address(name))


def scapy_sa(vpn: ManualVpn, protocol, sender: str, *, tunnel_header: bool = False) -> ScapySA:
    """scapy's SA for what ``sender`` sends; with ``tunnel_header`` (to
    encrypt in tunnel mode) ESP puts packets in an outer header (IPv4 or
    IPv6, as the VPN is) from ``sender``'s WAN address to the peer's.
    Without it scapy works in the transport manner over whatever header is
    outermost."""
    outer = IPv6 if vpn.ip_version == 6 else IP
    src, dst = vpn.wan(sender), vpn.wan(vpn.other(sender).name)
    tunnel = {"tunnel_header": outer(src=src, dst=dst)} if tunnel_header and vpn.mode == "tunnel" else {}
    keys = vpn.keys
    if protocol is ESP:
        return ScapySA(ESP, spi=vpn.esp_spi(sender), crypt_algo=SCAPY_CIPHER[vpn.encalg], crypt_key=keys["esp_enc"],
                       auth_algo=SCAPY_AUTH[vpn.hashalg], auth_key=keys["esp_auth"], **tunnel)
    # AH shares ESP's tunnel (transport adjacency): scapy applies it over the outer header, in transport manner
    return ScapySA(AH, spi=vpn.ah_spi(sender), auth_algo=SCAPY_AUTH[vpn.ah_hashalg], auth_key=keys["ah_auth"])


def scapy_open(vpn: ManualVpn, sender: str, wire: bytes) -> bytes:
    """A WAN packet ``sender`` sent, authenticated and decrypted by scapy
    layer by layer (AH, ESP, then IPComp with the software LZS), each in the
    transport manner; then the tunnel's inner packet is taken out (IP in IP,
    or IPv6 in IPv6: next header 41). Returns the inner packet (tunnel) or
    the original packet (transport). scapy raises if an ICV is wrong."""
    layer, tunnelled = (IPv6, 41) if vpn.ip_version == 6 else (IP, 4)
    packet = layer(wire)
    protocol = (lambda p: p.nh) if vpn.ip_version == 6 else (lambda p: p.proto)
    if vpn.bundle == "esp+ah":
        assert protocol(packet) == 51 and packet[AH].spi == vpn.ah_spi(sender), packet.summary()
        packet = layer(bytes(scapy_sa(vpn, AH, sender).decrypt(packet)))
    assert protocol(packet) == 50 and packet[ESP].spi == vpn.esp_spi(sender), packet.summary()
    ip = parse_ip(bytes(scapy_sa(vpn, ESP, sender).decrypt(packet)))
    if vpn.bundle == "esp+ipcomp" and ip.protocol == 108:
        next_header, _, cpi = struct.unpack_from("!BBH", ip.payload)
        assert cpi == vpn.cpi
        ip = parse_ip(ip.rebuild(next_header, lzs.decompress(ip.payload[4:], 65535)))
    if vpn.mode == "tunnel":
        assert ip.protocol == tunnelled, f"protocol {ip.protocol} in a tunnel; expected {tunnelled} (IP in IP)"
        return ip.payload
    return ip.packet


def scapy_seal(vpn: ManualVpn, sender: str, inner) -> bytes:
    """What ``sender`` would send for ``inner`` (a scapy IP packet), built by
    scapy: ESP (tunnel: in scapy's tunnel header), then AH for esp+ah.
    IPComp bundles accept ESP without IPComp (RFC 3173 2.2)."""
    sealed = scapy_sa(vpn, ESP, sender, tunnel_header=True).encrypt(inner)
    if vpn.bundle == "esp+ah":
        sealed = scapy_ah_over_esp(scapy_sa(vpn, AH, sender), IP(bytes(sealed)))
    return bytes(sealed)


def scapy_ah_over_esp(ah: ScapySA, esp) -> bytes:
    """AH over an ESP packet (scapy IP/ESP), built with scapy's layers and
    signed by scapy's authentication algorithm. (scapy 2.8's
    ``SecurityAssociation(AH).encrypt`` signs an ESP payload wrongly and
    puts its ICV past the IP length.)"""
    icv_bytes = ah.auth_algo.icv_size
    packet = IP(src=esp.src, dst=esp.dst, id=esp.id, ttl=esp.ttl, tos=esp.tos) / \
        AH(nh=50, payloadlen=(12 + icv_bytes) // 4 - 2, spi=ah.spi, seq=ah.seq_num, icv=bytes(icv_bytes)) / \
        Raw(bytes(esp.payload))
    ah.seq_num += 1
    return bytes(ah.auth_algo.sign(IP(bytes(packet)), ah.auth_key))


def wan_from(network: Network, sender: str) -> list[bytes]:
    """The IP datagrams ``sender`` put on the WAN, in order; fragments (a
    datagram longer than the WAN interface's MTU) are joined again by
    scapy's ``defragment`` and stand where the first of them was sent."""
    order, fragments = [], {}
    for w in network.wan:
        if w.router != sender:
            continue
        ip = IP(w.packet)
        if not (ip.flags.MF or ip.frag):
            order.append(w.packet)
            continue
        key = (ip.src, ip.dst, ip.proto, ip.id)
        if key not in fragments:
            fragments[key] = []
            order.append(key)
        fragments[key].append(ip)
    return [bytes(defragment(sorted(fragments[x], key=lambda ip: ip.frag))[0]) if isinstance(x, tuple) else x
            for x in order]


# -- IPv6 (ManualVpn(ip_version=6)) ------------------------------------------------------------------

def scapy_seal_v6(vpn: ManualVpn, sender: str, inner) -> bytes:
    """:func:`scapy_seal` for an IPv6 VPN (``inner``: a scapy IPv6 packet)."""
    sealed = scapy_sa(vpn, ESP, sender, tunnel_header=True).encrypt(inner)
    if vpn.bundle == "esp+ah":
        sealed = scapy_ah_over_esp_v6(scapy_sa(vpn, AH, sender), IPv6(bytes(sealed)))
    return bytes(sealed)


def scapy_ah_over_esp_v6(ah: ScapySA, esp) -> bytes:
    """AH over an IPv6 ESP packet (scapy IPv6/ESP), built with scapy's
    layers and signed by scapy's authentication algorithm, which zeroes
    the mutable IPv6 fields (:func:`scapy_ah_over_esp` says why scapy's
    own ``encrypt`` is not used). The AH header, 12 bytes and the ICV, is a
    multiple of 8 bytes as IPv6 needs (RFC 4302 3.3.3.2.1)."""
    icv_bytes = ah.auth_algo.icv_size
    packet = IPv6(src=esp.src, dst=esp.dst, hlim=esp.hlim, tc=esp.tc, fl=esp.fl) / \
        AH(nh=50, payloadlen=(12 + icv_bytes) // 4 - 2, spi=ah.spi, seq=ah.seq_num, icv=bytes(icv_bytes)) / \
        Raw(bytes(esp.payload))
    ah.seq_num += 1
    return bytes(ah.auth_algo.sign(IPv6(bytes(packet)), ah.auth_key))


def wan_from_v6(network: Network, sender: str) -> list[bytes]:
    """:func:`wan_from` for IPv6: the packets ``sender`` put on the WAN, in
    order, fragments (the router is the source of a tunnel packet and may
    fragment it, RFC 2473 7.1) joined by scapy's ``defragment6`` where the
    first of them was sent."""
    order, fragments = [], {}
    for w in network.wan:
        if w.router != sender:
            continue
        ip = IPv6(w.packet)
        if not ip.haslayer(IPv6ExtHdrFragment):
            order.append(w.packet)
            continue
        key = (ip.src, ip.dst, ip[IPv6ExtHdrFragment].id)
        if key not in fragments:
            fragments[key] = []
            order.append(key)
        fragments[key].append(ip)
    return [bytes(defragment6(fragments[x])) if isinstance(x, tuple) else x for x in order]


# -- traffic and displays ---------------------------------------------------------------------------

def pattern(size: int, n: int) -> bytes:
    """``size`` payload bytes, different for each ``n``."""
    return bytes((i * 7 + n) % 256 for i in range(size))


async def exchange(vpn: ManualVpn, sizes) -> Network:
    """Two routers of ``vpn`` passing UDP of ``sizes`` bytes both ways and a
    ping each way (tunnel: between the hosts; transport: between the
    routers' WAN addresses, IPv4 or IPv6 as the VPN is); returns the network."""
    network = await two_routers(vpn)
    a, b = vpn.wan("a"), vpn.wan("b")
    for n, size in enumerate(sizes):
        if vpn.mode == "tunnel":
            network.send_udp("pc1", "pc2", payload=pattern(size, n))
            network.send_udp("pc2", "pc1", payload=pattern(size, n + 100))
        else:
            network.originate("a", udp_packet(a, b, 5000, 6000, pattern(size, n), identification=n + 1))
            network.originate("b", udp_packet(b, a, 5000, 6000, pattern(size, n + 100), identification=n + 1))
        await network.run()
    if vpn.mode == "tunnel":
        network.ping("pc1", "pc2", 56)
        network.ping("pc2", "pc1", 56, sequence=2)
    else:
        network.originate("a", network.routers["a"].send_echo(b, 7, 1, b"ping" * 14))
    await network.run()
    return network


def counter(text: str, name: str, nth: int = 0) -> int:
    """The value after counter ``name`` in a display (its ``nth`` appearance)."""
    values = re.findall(rf"(?<![\w]){re.escape(name)}\s+(\d+)", text)
    assert len(values) > nth, f"{name} not in:\n{text}"
    return int(values[nth])


def keyed_script_run(script: str, tmp_path):
    """``pacsim router --script script --pcap --strict`` from the repository
    root with ``PACSIM_KEYLOG`` set: (the completed process, the pcap, the key log directory)."""
    pcap, keys = tmp_path / "wan.pcap", tmp_path / "keys"
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", "router", "--script", script, "--pcap", str(pcap),
                             "--strict"], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parent.parent, env={**os.environ, "PACSIM_KEYLOG": str(keys)})
    return result, pcap, keys
