"""Shared helpers of the IPsec data-plane tests (test_firmware_esp, _ah,
_ipcomp, _datapath): a card on the behavioural model, SA pairs with
deterministic keys, IVs and clocks, and the scapy peer that cross-checks
them (scapy is a test tool here, RFC 2406/2402 as an independent
implementation). No tests of its own."""
import asyncio
import random

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, ESP
from scapy.layers.ipsec import SecurityAssociation as ScapySA

from pacsim.firmware.ipsec.datapath import BundleProcessor, Datapath
from pacsim.firmware.ipsec.sa import Mode, Protocol, SaKeys, SecurityAssociation
from pacsim.hdl.layouts import CIPHER_KEY_BYTES, CipherAlg, MacAlg
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


def mirror(sa: SecurityAssociation, **options) -> SecurityAssociation:
    """The peer's SA pair for ``sa``: SPIs, keys and endpoints swapped."""
    return SecurityAssociation(
        sa.protocol, outbound_spi=sa.inbound_spi, inbound_spi=sa.outbound_spi, mode=sa.mode, local=sa.peer,
        peer=sa.local, cipher=sa.cipher, mac=sa.mac, compression=sa.compression, outbound_keys=sa.inbound_keys,
        inbound_keys=sa.outbound_keys, icv_bytes=sa.icv_bytes if sa.mac else None,
        random_bytes=random.Random(7).randbytes, **options)


def scapy_peer(sa: SecurityAssociation, *, seq_num: int = 1, nat_t_header=None) -> tuple:
    """``(sender, receiver)``: scapy SAs of the peer. ``sender`` makes what
    our SA's inbound side accepts, ``receiver`` opens what our outbound side sends."""
    proto = ESP if sa.protocol is Protocol.ESP else AH
    ip = IP if sa.peer is None or sa.peer.version == 4 else IPv6

    def one(spi, material, src, dst, **extra):
        args = dict(auth_algo=SCAPY_MAC[sa.mac], auth_key=material.mac or None)
        if proto is ESP:
            args.update(crypt_algo=SCAPY_CIPHER[sa.cipher], crypt_key=material.cipher or None)
        if sa.mode is Mode.TUNNEL:
            args["tunnel_header"] = ip(src=str(src), dst=str(dst))
        return ScapySA(proto, spi=spi, **args, **extra)

    sender = one(sa.inbound_spi, sa.inbound_keys, sa.peer, sa.local, seq_num=seq_num, nat_t_header=nat_t_header)
    receiver = one(sa.outbound_spi, sa.outbound_keys, sa.local, sa.peer)
    return sender, receiver


async def opened(device, *sas, **bundle_options) -> tuple:
    """Open ``sas`` as one bundle on ``device``; ``(bundle, datapath)``."""
    bundle = BundleProcessor(sas, **bundle_options)
    datapath = Datapath()
    for sa in sas:
        sa.counters.module = sa.module_counters = datapath.counters
    await bundle.open(device)
    datapath.add_bundle(bundle)
    return bundle, datapath


def nonzero(counters: dict) -> dict:
    return {name: value for name, value in counters.items() if value}
