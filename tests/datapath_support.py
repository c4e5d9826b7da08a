"""Shared helpers of the IPsec data-plane tests (test_firmware_esp, _ah,
_ipcomp, _datapath): a card on the behavioural model, SA pairs with
deterministic keys, IVs and clocks, bundles opened on a card, two routers
back to back, and the scapy peer that cross-checks them (scapy is a test
tool here, RFC 2406/2402 as an independent implementation). No tests of
its own."""
import asyncio
import random

from scapy.layers.inet import ICMP, IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from pacsim.contract.codes import CIPHER_KEY_BYTES, CipherAlg, CompAlg, MacAlg
from pacsim.firmware.ipsec.datapath import BundleProcessor, Datapath
from pacsim.firmware.ipsec.packet import ipv4_with_checksum
from pacsim.firmware.ipsec.sa import Mode, Protocol, SaKeys, SecurityAssociation
from pacsim.firmware.ipsec.transforms import IPCOMP_LZS_CPI
from pacsim.host.device import PacDevice
from pacsim.sim.model_bus import ModelBus

LOCAL, PEER = "192.0.2.1", "198.51.100.2"
LOCAL6, PEER6 = "2001:db8::1", "2001:db8:1::2"
#: Hosts behind the two gateways (tunnel mode's inner packets).
NEAR_HOST, FAR_HOST = "10.0.0.1", "10.0.1.1"

SCAPY_CIPHER = {CipherAlg.DES: "DES", CipherAlg.TDES_INNER: "3DES", CipherAlg.AES128: "AES-CBC",
                CipherAlg.AES192: "AES-CBC", CipherAlg.AES256: "AES-CBC", None: "NULL"}
SCAPY_MAC = {MacAlg.HMAC_MD5: "HMAC-MD5-96", MacAlg.HMAC_SHA1: "HMAC-SHA1-96", None: "NULL"}
MAC_KEY_BYTES = {MacAlg.HMAC_MD5: 16, MacAlg.HMAC_SHA1: 20, MacAlg.DES_MAC: 8, None: 0}


def run(coroutine):
    return asyncio.run(coroutine)


async def new_device(**model_options) -> PacDevice:
    bus = ModelBus(**model_options)
    await bus.reset()
    return await PacDevice.probe(bus)


class FakeClock:
    """Injected time, in seconds."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def keys(rng: random.Random, cipher, mac) -> SaKeys:
    return SaKeys(rng.randbytes(CIPHER_KEY_BYTES[cipher]) if cipher else b"", rng.randbytes(MAC_KEY_BYTES.get(mac, 0)))


def make_sa(protocol, *, seed: int = 1, out_spi: int = 0x1001, in_spi: int = 0x2002, mode=Mode.TUNNEL,
            local=LOCAL, peer=PEER, cipher=None, mac=None, compression=None, **options) -> SecurityAssociation:
    """An SA with keys from ``seed`` (outbound and inbound keys differ) and IVs from a seeded RNG."""
    rng = random.Random(seed)
    options.setdefault("random_bytes", random.Random(seed + 1000).randbytes)
    return SecurityAssociation(
        Protocol(protocol), outbound_spi=out_spi, inbound_spi=in_spi, mode=mode, local=local, peer=peer,
        cipher=cipher, mac=mac, compression=compression, outbound_keys=keys(rng, cipher, mac),
        inbound_keys=keys(rng, cipher, mac), **options)


def comp_sa(**options) -> SecurityAssociation:
    """An IPComp (LZS) SA; both CPIs the well-known LZS CPI unless given."""
    options.setdefault("out_spi", IPCOMP_LZS_CPI)
    options.setdefault("in_spi", IPCOMP_LZS_CPI)
    return make_sa(Protocol.IPCOMP, compression=CompAlg.LZS, **options)


def mirror(sa: SecurityAssociation, **options) -> SecurityAssociation:
    """The peer's SA pair for ``sa``: SPIs, keys and endpoints swapped."""
    return SecurityAssociation(
        sa.protocol, outbound_spi=sa.inbound_spi, inbound_spi=sa.outbound_spi, mode=sa.mode, local=sa.peer,
        peer=sa.local, cipher=sa.cipher, mac=sa.mac, compression=sa.compression, outbound_keys=sa.inbound_keys,
        inbound_keys=sa.outbound_keys, icv_bytes=sa.icv_bytes if sa.mac else None,
        random_bytes=random.Random(7).randbytes, **options)


def scapy_sa(sa: SecurityAssociation, side: str, *, tunnel: bool = True, **extra) -> ScapySA:
    """scapy's SA for one side of the peer's mirror of ``sa``: ``"inbound"``
    seals what our inbound side accepts, ``"outbound"`` opens what our
    outbound side sends. A tunnel-mode SA gets scapy's tunnel header unless
    ``tunnel`` is False (scapy then works in the transport manner over the
    outermost header, as for the inner SAs of a bundle). ``extra``: more
    ScapySA arguments (``seq_num``, ``nat_t_header``)."""
    proto = ESP if sa.protocol is Protocol.ESP else AH
    spi, material, src, dst = ((sa.inbound_spi, sa.inbound_keys, sa.peer, sa.local) if side == "inbound" else
                               (sa.outbound_spi, sa.outbound_keys, sa.local, sa.peer))
    args = {"auth_algo": SCAPY_MAC[sa.mac], "auth_key": material.mac or None}
    if proto is ESP:
        args.update(crypt_algo=SCAPY_CIPHER[sa.cipher], crypt_key=material.cipher or None)
    if tunnel and sa.mode is Mode.TUNNEL:
        ip = IP if sa.peer is None or sa.peer.version == 4 else IPv6
        args["tunnel_header"] = ip(src=str(src), dst=str(dst))
    return ScapySA(proto, spi=spi, **args, **extra)


def scapy_peer(sa: SecurityAssociation, *, seq_num: int = 1, nat_t_header=None) -> tuple:
    """``(sender, receiver)``: scapy SAs of the peer. ``sender`` makes what
    our SA's inbound side accepts, ``receiver`` opens what our outbound side
    sends; ``nat_t_header`` (RFC 3948 UDP) applies to both."""
    sender = scapy_sa(sa, "inbound", seq_num=seq_num, nat_t_header=nat_t_header)
    receiver = scapy_sa(sa, "outbound", nat_t_header=nat_t_header)
    return sender, receiver


def sealed_icmp(sender: ScapySA, payload: bytes = b"", **icmp) -> bytes:
    """An ICMP message (``icmp``: scapy ICMP fields) from FAR_HOST to
    NEAR_HOST carrying ``payload``, sealed by the peer's scapy ``sender``."""
    inner = IP(src=FAR_HOST, dst=NEAR_HOST) / ICMP(**icmp)
    return bytes(sender.encrypt(inner / payload if payload else inner))


def with_ipv4_checksum(packet) -> bytes:
    """``packet`` (IPv4, as changed in transit) with its header checksum recomputed."""
    header_bytes = (packet[0] & 0xF) * 4
    return ipv4_with_checksum(packet[:header_bytes]) + bytes(packet[header_bytes:])


async def opened(*sas, device=None, **bundle_options) -> tuple:
    """Open ``sas`` as one bundle on ``device`` (default: a new model card)
    with a new :class:`Datapath` counting for them; ``(bundle, datapath)``."""
    if device is None:
        device = await new_device()
    bundle = BundleProcessor(sas, **bundle_options)
    datapath = Datapath()
    for sa in sas:
        sa.counters.module = sa.module_counters = datapath.counters
    await bundle.open(device)
    datapath.add_bundle(bundle)
    return bundle, datapath


async def two_routers(sas, **bundle_options) -> tuple:
    """Router A with ``sas``, router B with their mirrors, each on its own
    card: ``((bundle, datapath) of A, (bundle, datapath) of B)``."""
    a = await opened(*sas, **bundle_options)
    b = await opened(*[mirror(sa) for sa in sas], **bundle_options)
    return a, b


def nonzero(counters: dict) -> dict:
    return {name: value for name, value in counters.items() if value}
