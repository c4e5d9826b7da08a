# Ref: RFC 4303 (ESP), RFC 2404 (HMAC-SHA1-96), RFC 3602 (AES-CBC); README.md "Commands" (bench output keys)
"""``pacsim bench ipsec``: ESP (aes128-cbc + hmac-sha1-96, tunnel mode) of
1400-byte IP packets through the router firmware and the driver on the
model bus, beside scapy's ``SecurityAssociation`` sealing the same packets
in the same run.

The router is :class:`~pacsim.firmware.router.Router` with the manual-key
configuration of :mod:`.manual_vpn` (head office ``a``): each packet
enters its LAN interface and leaves its WAN interface in ESP, through the
policy lookup, the SA bundle, one ENCODE job on the model card (descriptor
rings, DMA and the crypto in the behavioural model) and the driver. Both
figures are wall-clock rates of Python code on this machine (the card's
PCI-clock throughput is ``pacsim bench crypto``'s). The first ESP packet is
opened with scapy and must give back the packet sent, so a fast but wrong
path cannot post a figure.

Row keys: ``bench`` ("ipsec"), ``bus`` ("model"), ``alg``,
``packet_bytes``, ``packets``, ``packets_per_s``, ``mbit_s`` (IP packet
bits in), ``scapy_packets_per_s``, ``ratio_vs_scapy`` (ours / scapy's),
``pci_clocks_per_packet`` (the model's cost estimate of one packet's bus
transactions and job, one packet at a time) and ``card_mbit_s_at_33mhz``
(what that would carry at 33 MHz: the simulated card's rate, not the
simulation's).
"""
import asyncio
import time

from ..firmware.router.stack import decrement_ttl, udp_packet
from .bench_model import CORE_CLOCK_MHZ
from .manual_vpn import ManualVpn
from .network import VirtualClock, model_router

__all__ = ["bench_ipsec_model", "DEFAULT_PACKETS", "PACKET_BYTES", "ALG"]

DEFAULT_PACKETS = 500
PACKET_BYTES = 1400
ALG = "aes128-cbc+hmac-sha1-96"


def _packets(count: int, size: int) -> list[bytes]:
    payload = size - 28
    pattern = bytes(range(256)) * (payload // 256 + 2)    # payload n: bytes (n + i) % 256
    return [udp_packet("10.1.1.10", "10.2.1.10", 5000 + n % 1000, 6000, pattern[n % 256:n % 256 + payload],
                       identification=n + 1) for n in range(count)]


async def _firmware(packets: list[bytes]):
    vpn = ManualVpn(bundle="esp", mode="tunnel", encalg="aes128", hashalg="sha")
    router = await model_router("a", VirtualClock())
    for line in vpn.router_lines("a"):
        out = await router.execute(line)
        if "Error" in out:
            raise RuntimeError(f"bench router configuration failed at {line!r}: {out}")
    bus = router.device.bus
    sealed = []
    clocks, wall = bus.clocks(), time.perf_counter()
    for packet in packets:
        sealed += await router.receive(packet, "eth0")
    wall, clocks = time.perf_counter() - wall, bus.clocks() - clocks
    if len(sealed) != len(packets) or any(interface != "ppp0" for interface, _ in sealed):
        raise AssertionError(f"{len(sealed)} of {len(packets)} packets left by ppp0; drops: {list(router.drop_log)[:3]}")
    return vpn, sealed, wall, clocks


def bench_ipsec_model(count: int = DEFAULT_PACKETS, size: int = PACKET_BYTES) -> dict:
    """One ``pacsim bench ipsec --json`` row (see the module docstring)."""
    try:
        from scapy.layers.inet import IP
        from scapy.layers.ipsec import ESP, SecurityAssociation
    except ImportError as error:
        raise SystemExit(f"pacsim bench ipsec compares with scapy, which is not installed ({error}); "
                         "pip install scapy (it is in the test extras: pip install -e '.[test]')") from None
    if count < 1 or not 64 <= size <= 65000:
        raise ValueError(f"{count} packets of {size} bytes; expected at least 1 packet of 64 to 65000 bytes")
    packets = _packets(count, size)
    vpn, sealed, wall, clocks = asyncio.run(_firmware(packets))

    keys = vpn.keys
    scapy_sa = SecurityAssociation(ESP, spi=vpn.esp_spi("a"), crypt_algo="AES-CBC", crypt_key=keys["esp_enc"],
                                   auth_algo="HMAC-SHA1-96", auth_key=keys["esp_auth"],
                                   tunnel_header=IP(src=vpn.site("a").wan, dst=vpn.site("b").wan))
    opened = bytes(SecurityAssociation(ESP, spi=vpn.esp_spi("a"), crypt_algo="AES-CBC", crypt_key=keys["esp_enc"],
                                       auth_algo="HMAC-SHA1-96", auth_key=keys["esp_auth"])
                   .decrypt(IP(sealed[0][1])))
    if opened[20:] != decrement_ttl(packets[0]):         # the router forwarded it: TTL one less
        raise AssertionError("the router's first ESP packet does not open (with scapy) to the packet sent")
    parsed = [IP(p) for p in packets]
    scapy_wall = time.perf_counter()
    for p in parsed:
        bytes(scapy_sa.encrypt(p))
    scapy_wall = time.perf_counter() - scapy_wall
    ours, theirs = count / wall, count / scapy_wall
    return {"bench": "ipsec", "bus": "model", "alg": ALG, "packet_bytes": size, "packets": count,
            "packets_per_s": round(ours, 1), "mbit_s": round(ours * size * 8 / 1e6, 2),
            "scapy_packets_per_s": round(theirs, 1), "ratio_vs_scapy": round(ours / theirs, 3),
            "pci_clocks_per_packet": round(clocks / count),
            "card_mbit_s_at_33mhz": round(size * 8 * CORE_CLOCK_MHZ / (clocks / count), 1)}
