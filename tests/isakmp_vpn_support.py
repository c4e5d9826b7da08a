"""Shared helpers of the ISAKMP-keyed router tests (test_router_isakmp*):
two routers configured by :class:`~pacsim.sim.isakmp_vpn.IsakmpVpn`, the
WAN opened by scapy with the keys each router's SAD holds, and KEYMAT
recomputed with :mod:`hmac` from the nonces quick mode exchanged
(independent of the card). No tests of its own."""
import hashlib
import struct

from scapy.layers.inet import IP
from scapy.layers.ipsec import AH, ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from pacsim.firmware.ipsec.packet import parse_ip
from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg, Protocol
from pacsim.firmware.router.stack import udp_packet
from pacsim.reference import lzs
from pacsim.sim.ike_reference import keymat_reference as reference_keymat
from pacsim.sim.network import Network, model_router
from router_support import configure_router, pattern

SCAPY_CIPHER = {EncAlg.DES: "DES", EncAlg.TDESINNER: "3DES", EncAlg.AES128: "AES-CBC", EncAlg.AES192: "AES-CBC",
                EncAlg.AES256: "AES-CBC"}
SCAPY_AUTH = {HashAlg.MD5: "HMAC-MD5-96", HashAlg.SHA: "HMAC-SHA1-96"}
ISAKMP_PROTOCOL = {Protocol.ESP: 3, Protocol.AH: 2, Protocol.IPCOMP: 4}
PRF_HASH = {"sha": hashlib.sha1, "md5": hashlib.md5}


async def vpn_network(vpn, *, connect=True, lines=None) -> Network:
    """Routers ``a`` and ``b`` configured by ``vpn`` (or by ``lines(name)``,
    a router's console lines; every line must succeed), the WAN and the hosts."""
    network = Network()
    for seed, name in enumerate(("a", "b"), 1):
        router = await model_router(name, network.clock, seed=seed)
        network.add_router(router)
        await configure_router(router, (lines or vpn.router_lines)(name))
    if connect:
        network.join("a", "ppp0", "b", "ppp0")
        for name in ("a", "b"):
            network.add_host(vpn.site(name).host, name, "eth0", vpn.host_address(name))
    return network


def send(network, vpn, sender, n, size=120):
    """One UDP datagram from ``sender``'s side to the other (hosts in tunnel mode, routers in transport)."""
    other = "b" if sender == "a" else "a"
    if vpn.mode == "tunnel":
        network.send_udp(vpn.site(sender).host, vpn.host_address(other), payload=pattern(size, n))
    else:
        network.originate(sender, udp_packet(vpn.wan(sender), vpn.wan(other), 5000, 6000, pattern(size, n),
                                             identification=n + 1))


def received(network, vpn, name):
    """The UDP payloads that reached ``name``'s side (its host in tunnel mode, the router in transport)."""
    if vpn.mode == "tunnel":
        return network.hosts[vpn.site(name).host].udp_payloads()
    return [parse_ip(p).payload[8:] for p in network.routers[name].delivered]


async def both_ways(network, vpn, count=3, first=0):
    """``count`` datagrams each way; asserts every one arrived."""
    for n in range(first, first + count):
        send(network, vpn, "a", n)
        send(network, vpn, "b", n + 1000)
        await network.run()
    await network.wait(0)
    for name, offset in (("b", 0), ("a", 1000)):
        got = received(network, vpn, name)
        for n in range(first, first + count):
            assert pattern(120, n + offset) in got, f"datagram {n} did not reach {name}"


def sad_records(router):
    """Every SA pair record of ``router``'s SAD."""
    return [rec for bundle in router.ipsec.sad.all_bundles() for rec in bundle.sas]


def record_by_inbound(router, protocol, spi):
    found = [r for r in sad_records(router) if r.pair.protocol is protocol and r.pair.inbound_spi == spi]
    assert len(found) == 1, f"{router.name} has {len(found)} {protocol.name} SAs with inbound SPI {spi}"
    return found[0]


def scapy_sa_of(rec, protocol):
    """scapy's SA (``protocol`` ESP or AH) that opens what arrives on SAD record ``rec``."""
    keys = rec.pair.inbound_keys
    if protocol is ESP:
        return ScapySA(ESP, spi=rec.pair.inbound_spi, crypt_algo=SCAPY_CIPHER[rec.pair.encalg],
                       crypt_key=keys.encryption, auth_algo=SCAPY_AUTH[rec.pair.hashalg], auth_key=keys.hash)
    return ScapySA(AH, spi=rec.pair.inbound_spi, auth_algo=SCAPY_AUTH[rec.pair.hashalg], auth_key=keys.hash)


def open_wan(network, vpn, sender):
    """Every IPsec packet ``sender`` put on the WAN opened by scapy with the
    receiver's SAD keys (AH verified, ESP decrypted and verified, IPComp
    inflated by the reference LZS); returns the inner packets (tunnel) or
    the opened transport packets, and the number of each protocol seen."""
    receiver = network.routers["b" if sender == "a" else "a"]
    opened, seen = [], {50: 0, 51: 0, 108: 0}
    for w in network.wan:
        if w.router != sender:
            continue
        packet = IP(w.packet)
        if packet.proto not in (50, 51):
            continue
        if packet.proto == 51:
            seen[51] += 1
            rec = record_by_inbound(receiver, Protocol.AH, packet[AH].spi)
            packet = IP(bytes(scapy_sa_of(rec, AH).decrypt(packet)))
        if packet.proto == 50:
            seen[50] += 1
            packet = scapy_sa_of(record_by_inbound(receiver, Protocol.ESP, packet[ESP].spi), ESP).decrypt(packet)
        ip = parse_ip(bytes(packet))
        if ip.protocol == 108:
            seen[108] += 1
            next_header, _, _cpi = struct.unpack_from("!BBH", ip.payload)
            ip = parse_ip(ip.rebuild(next_header, lzs.decompress(ip.payload[4:], 65535)))
        if vpn.mode == "tunnel":
            assert ip.protocol == 4, f"protocol {ip.protocol} in a tunnel"
            opened.append(ip.payload)
        else:
            opened.append(ip.packet)
    return opened, seen


def check_keymat(router, prf="sha", gxy_qm=b""):
    """Every SA of ``router``'s SAD has the KEYMAT of RFC 2409 5.5 for its
    SPIs, the nonces exchanged and (with PFS) the quick mode's g^xy ``gxy_qm``."""
    daemon, keying = router.isakmp_daemon, router.isakmp_keying
    checked = 0
    for bundle in router.ipsec.sad.all_bundles():
        outcome = keying.negotiated[(bundle.policy_name, bundle.bundle_id)]
        ike = next(sa for sa in daemon.sas if sa.sa_id == outcome.ike_sa)
        ni, nr = outcome.nonces
        for rec in bundle.sas:
            pair = rec.pair
            for spi, keys in ((pair.inbound_spi, pair.inbound_keys), (pair.outbound_spi, pair.outbound_keys)):
                material = keys.encryption + keys.hash
                if pair.protocol is Protocol.IPCOMP:
                    assert material == b""
                    continue
                assert material == reference_keymat(PRF_HASH[prf], ike.keys.skeyid_d, ISAKMP_PROTOCOL[pair.protocol],
                                                     spi, ni, nr, len(material), gxy_qm), f"KEYMAT of SPI {spi}"
                checked += 1
    return checked


async def wait_following_timers(network, seconds):
    """Let ``seconds`` of virtual time pass, polling the routers at each of
    their timers (``Router.next_timer()``, as the wall-clock runtime does),
    not only at the end as ``Network.wait`` does."""
    end = network.clock.now + seconds
    while True:
        timers = [t for t in (r.next_timer() for r in network.routers.values()) if t is not None]
        due = min(timers, default=None)
        if due is None or due >= end:
            await network.wait(max(0.0, end - network.clock.now))
            return
        await network.wait(max(0.0, due - network.clock.now))
