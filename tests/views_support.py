"""Shared helpers of the vendor-view tests (test_views_*): the seeds'
sample text, an ISAKMP-keyed VPN carrying traffic, the AlliedWare
displays read back, bad packets of each drop class built with scapy and
the reference ciphers, and a phase 1 stepped message by message. No
tests of its own."""
import hashlib
import hmac
import re
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA
from shared_docs import shared_dir

from isakmp_vpn_support import both_ways, sad_records, scapy_sa_of, send, vpn_network
from router_support import run
from pacsim.firmware.ipsec.packet import PROTO_ESP, ipv4_header
from pacsim.firmware.ipsec.transforms import Protocol
from pacsim.firmware.router.view_source import RouterViewSource
from pacsim.sim.interop.view_facts import leader_values
from pacsim.sim.isakmp_vpn import IsakmpVpn

VPN = IsakmpVpn(specs={1: "protocol=esp encalg=aes128 hashalg=sha"})


def seed(prefix: str) -> str:
    """The text of seed ``prefix`` (``000``...) of shared/seeds."""
    found = sorted((shared_dir() / "seeds").glob(f"{prefix}_*.txt"))
    assert found, f"no seed {prefix}_*.txt"
    return found[0].read_text()


def carrying(count=3):
    """Routers a and b of :data:`VPN` after a's first packet negotiated the
    bundle and ``count`` datagrams went each way."""
    async def body():
        network = await vpn_network(VPN)
        send(network, VPN, "a", 999)
        await network.run()
        await both_ways(network, VPN, count)
        return network
    return run(body())


def console(router, line: str) -> str:
    """``line``'s output on ``router``'s console."""
    return run(router.execute(line))


def alliedware(router) -> dict:
    """What the AlliedWare displays say: ``ike`` (show isakmp sa=N per IKE
    SA id), ``sas`` (show ipsec sa=N per SA id), ``counters`` ({SA id:
    {name: value}} of show ipsec sa=N counter), ``bundles`` (show ipsec
    policy sabundle: {bundle: (bytes hard/soft/used, seconds hard/soft/used)})."""
    summary = console(router, "show isakmp sa").splitlines()[2:]
    ike = {int(line.split()[0]): leader_values(console(router, f"show isakmp sa={line.split()[0]}"))
           for line in summary}
    ids = [int(line.split()[0]) for line in console(router, "show ipsec sa").splitlines()[2:]]
    sas = {i: leader_values(console(router, f"show ipsec sa={i}")) for i in ids}
    counters = {i: {k: int(v) for k, v in re.findall(r"(\w+)\s+(\d+)", console(router, f"show ipsec sa={i} counter"))}
                for i in ids}
    text = console(router, "show ipsec policy sabundle")
    bundles = {int(m.group(1)): (m.group(2), m.group(3))
               for m in re.finditer(r"^(\d+)\s+\S+\s+\S+\s+(\S+)\n\s+(\S+)$", text, re.M)}
    return {"ike": ike, "sas": sas, "counters": counters, "bundles": bundles}


def source(router) -> RouterViewSource:
    return RouterViewSource(router)


def esp_record(router):
    """The ESP SA record of ``router``'s SAD."""
    return next(r for r in sad_records(router) if r.pair.protocol is Protocol.ESP)


def _inner():
    return IP(src="10.2.1.10", dst="10.1.1.10") / UDP(sport=7, dport=7) / b"bad packet"


def bad_icv(network, seq=1000) -> bytes:
    """An ESP packet b -> a under a's inbound SA with a fresh sequence number and its ICV's last byte flipped."""
    rec = esp_record(network.routers["a"])
    sa = scapy_sa_of(rec, ESP)
    sa.tunnel_header = IP(src=str(VPN.wan("b")), dst=str(VPN.wan("a")))
    wire = bytearray(bytes(sa.encrypt(_inner(), seq_num=seq)))
    wire[-1] ^= 0x01
    return bytes(wire)


def unknown_spi() -> bytes:
    """An ESP packet b -> a under an SPI a does not have."""
    stranger = ScapySA(ESP, spi=0x9999, crypt_algo="AES-CBC", crypt_key=bytes(16), auth_algo="HMAC-SHA1-96",
                       auth_key=bytes(20), tunnel_header=IP(src=str(VPN.wan("b")), dst=str(VPN.wan("a"))))
    return bytes(stranger.encrypt(_inner()))


def bad_padding(network, seq=1001) -> bytes:
    """An ESP packet b -> a under a's inbound SA with a good ICV whose padding bytes are not 1, 2, 3..."""
    rec = esp_record(network.routers["a"])
    keys = rec.pair.inbound_keys
    inner = bytes(_inner())
    iv = bytes(range(16))
    pad = b"\x07" * (-(len(inner) + 2) % 16) or b"\x07" * 16
    plain = inner + pad + bytes((len(pad), 4))
    encryptor = Cipher(algorithms.AES(keys.encryption), modes.CBC(iv)).encryptor()
    body = struct.pack("!II", rec.pair.inbound_spi, seq) + iv + encryptor.update(plain) + encryptor.finalize()
    body += hmac.new(keys.hash, body, hashlib.sha1).digest()[:12]
    return ipv4_header(VPN.wan("b"), VPN.wan("a"), PROTO_ESP, len(body)) + body


def last_wan_from_b(network) -> bytes:
    """The last ESP packet b put on the WAN (to be replayed to a)."""
    return next(w.packet for w in reversed(network.wan) if w.router == "b" and w.packet[9] == PROTO_ESP)


def inject_each_drop_class(network):
    """One packet of each class (bad ICV, replay, unknown SPI, bad padding) into a's WAN interface."""
    async def body():
        for wire in (bad_icv(network), last_wan_from_b(network), unknown_spi(), bad_padding(network)):
            network.inject("a", "ppp0", wire)
            await network.run()
    run(body())


def stepped(mode, snap, steps=14):
    """Two routers of :data:`VPN` with ISAKMP ``mode`` (main or
    aggressive): a's first packet starts the negotiation, then virtual time
    moves one WAN latency at a time (one ISAKMP message crosses the WAN
    per step); ``snap(a, b)`` before the first step and after each.
    Returns the network."""
    vpn = IsakmpVpn(specs=VPN.specs, isakmp_params=f"mode={mode}")

    async def body():
        network = await vpn_network(vpn)
        send(network, vpn, "a", 1)
        a, b = network.routers["a"], network.routers["b"]
        snap(a, b)
        for _ in range(steps):
            await network.run(until=network.clock.now + network.wan_latency)
            snap(a, b)
        return network
    return run(body())


def states_seen(mode, read):
    """The states ``read(router)`` (None: no SA yet) showed on a and b
    while :func:`stepped` ran (``mode``), each change once, in order."""
    seen = {"a": [], "b": []}

    def snap(a, b):
        for name, router in (("a", a), ("b", b)):
            state = read(router)
            if state is not None and (not seen[name] or seen[name][-1] != state):
                seen[name].append(state)
    stepped(mode, snap)
    return seen


__all__ = ["VPN", "states_seen", "seed", "carrying", "console", "alliedware", "source", "inject_each_drop_class",
           "stepped"]
