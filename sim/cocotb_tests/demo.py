# Ref: README.md, "Set up and run" (what the demo shows)
"""cocotb entry point of ``pacsim demo``: probe the card over PCI and run copies.

Everything printed by the demo comes from this run: the configuration
header as read over the bus, the BAR the driver assigned, the card's
identity, copies completed by interrupt (checked against the source), one
refused job, an ESP packet, an IKEv1 main mode and quick mode between two
ISAKMP daemons on this card (:func:`negotiation_on_the_card`), the card's counters and the
protocol checker's verdict.
"""
import hashlib
import hmac
import random

import cocotb

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pacsim.contract.codes import AlgUnit, CipherAlg, Direction, MacAlg
from pacsim.firmware.isakmp.constants import ExchangeType, PayloadType
from pacsim.contract.regmap import CONFIG
from pacsim.host.device import PacDevice
from pacsim.host.errors import JobFailed
from pacsim.reference.modp import GROUPS
from pacsim.sim.annotations import BenchPhase
from pacsim.sim.bench_ike import PSK, IkePair, negotiate
from pacsim.sim.ike_reference import phase1_reference, phase2_keys_match, wire_chain
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus

COPY_SIZES = (64, 4096, 65536)
#: The main mode's Diffie-Hellman group: the manual's MODP group 0 (512 bits,
#: spec/isakmp-commands.md section 4), whose four exponentiations take a
#: quarter of group 2's clocks (the bench and the co-simulation use group 2),
#: so the demo stays short on the RTL, with waves too.
DEMO_GROUP = 0


async def esp_round_trip(device, rng) -> dict:
    """One ESP packet (AES-128-CBC + HMAC-SHA1-96) encoded and decoded by the card,
    checked against ``cryptography``/``hmac``; then a corrupted ICV."""
    key, mac_key = rng.randbytes(16), rng.randbytes(20)
    channels = {}
    for direction in (Direction.ENCODE, Direction.DECODE):
        channels[direction] = (
            await device.open_cipher_channel(CipherAlg.AES128, direction, key),
            await device.open_mac_channel(MacAlg.HMAC_SHA1, direction, mac_key, icv_bytes=12))
    header, iv, payload = rng.randbytes(8), rng.randbytes(16), rng.randbytes(1024)
    packet = header + iv + payload
    cipher, mac = channels[Direction.ENCODE]
    device.bus.annotate(packet=1)
    sealed = await device.encode(packet, skip=24, cipher=cipher, mac=mac)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    expected = header + iv + encryptor.update(payload) + encryptor.finalize()
    expected += hmac.new(mac_key, expected, hashlib.sha1).digest()[:12]
    cipher, mac = channels[Direction.DECODE]
    opened = await device.decode(sealed, skip=24, cipher=cipher, mac=mac)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    device.bus.annotate(packet=2)
    try:
        await device.decode(bytes(tampered), skip=24, cipher=cipher, mac=mac)
        refused = "the card accepted a corrupted ICV"
    except JobFailed as error:
        refused = error.status.name
    return {"channels": {d.name: [c.number for c in pair] for d, pair in channels.items()},
            "packet_bytes": len(packet), "sealed_bytes": len(sealed),
            "sealed_matches_reference": sealed == expected, "opened_matches": opened == packet,
            "tampered": refused}


def _step(pair, datagram) -> dict:
    """One message of the transcript: who sent it, the exchange, its payloads (or encrypted)."""
    data = datagram.data
    sender = "initiator" if datagram.src == pair.initiator.local_addresses[0] else "responder"
    encrypted = bool(data[19] & 1)
    payloads = [] if encrypted else [PayloadType(kind).name for kind, _ in wire_chain(data)]
    return {"from": sender, "exchange": ExchangeType(data[18]).name, "bytes": len(data), "encrypted": encrypted,
            "payloads": payloads}


async def negotiation_on_the_card(device) -> dict:
    """Two ISAKMP daemons on ``device`` (each its own IKE SA cryptography)
    negotiate main mode with a pre-shared key (the bench's policy in
    :data:`DEMO_GROUP`) and then quick mode over it (the bench's ESP
    tunnel pair, AES-128 + HMAC-SHA1): the transcript, the chosen
    transforms, the card's public-key clocks and HASH/AES jobs, the phase-1
    keys checked against the RFC 2409 reference from the wire and both
    sides' ESP KEYMAT against RFC 2409 5.5's (``hmac``)."""
    pair = IkePair(device, device, {"group": DEMO_GROUP})
    pk_clocks, pk_operations = device.pk_clocks, device.pk_operations
    jobs = await device.alg_counters()
    await negotiate(pair)
    after = await device.alg_counters()
    (sa_i,), (sa_r,) = list(pair.initiator.sas), list(pair.responder.sas)
    private = pair.initiator.exchange_for(sa_i.cky_i, 0).private
    expected = phase1_reference([d.data for _, d in pair.log], PSK, private, GROUPS[DEMO_GROUP].prime)
    matches = all((k.skeyid, k.skeyid_d, k.skeyid_a, k.skeyid_e, k.enc_key, k.initial_iv) == expected
                  for k in (sa_i.keys, sa_r.keys))
    transform = sa_i.transform
    outcomes = [side.outcomes[0] for side in pair.ipsec]
    (esp,) = outcomes[0].pairs
    report = {"steps": [_step(pair, d) for _, d in pair.log],
              "transform": f"{transform.cipher.name} {transform.hash.name} MODP group {transform.group} "
                           f"{transform.auth.name}, life {transform.life_seconds} s",
              "pk_clocks": device.pk_clocks - pk_clocks, "pk_operations": device.pk_operations - pk_operations,
              "hash_jobs": sum(after[AlgUnit.SHA][k] - jobs[AlgUnit.SHA][k] for k in ("encode_good", "decode_good")),
              "cipher_jobs": sum(after[AlgUnit.AES][k] - jobs[AlgUnit.AES][k] for k in ("encode_good", "decode_good")),
              "keys_match_reference": matches,
              "esp_transform": f"{esp.protocol.name} {esp.encalg.name} {esp.hashalg.name} {esp.mode.name}, "
                               f"SPIs 0x{esp.outbound_spi:08x} out, 0x{esp.inbound_spi:08x} in",
              "esp_keys_match_reference": all(phase2_keys_match(o, sa_i.keys.skeyid_d) for o in outcomes)}
    await pair.clear()
    return report


@cocotb.test()
async def demo(dut):
    bus = await RtlBus.start(dut)
    bus.annotate(phase=BenchPhase.PROBE)
    device = await PacDevice.probe(bus)
    header = {}
    for reg in CONFIG:
        header[reg.name] = {"offset": reg.offset, "value": await bus.config_read(device.device, reg.offset)}
    copies = []
    rng = random.Random(2026)
    bus.annotate(phase=BenchPhase.COPIES)
    for size in COPY_SIZES:
        src, dst = bus.alloc(size), bus.alloc(size)
        data = rng.randbytes(size)
        bus.host_write(src.address, data)
        result = await device.copy(src, dst, size)
        copies.append({"bytes": size, "src": src.address, "dst": dst.address,
                       "pci_clocks": result.clocks,
                       "bytes_per_clock": round(size / result.clocks, 3),
                       "verified": bus.host_read(dst.address, size) == data})
        bus.free(src)
        bus.free(dst)
    bus.annotate(phase=BenchPhase.REFUSED_JOB)
    try:
        await device.copy(0x1002, 0x2000, 64)
        rejected = "the card accepted an unaligned source"
    except JobFailed as error:
        rejected = str(error)
    bus.annotate(phase=BenchPhase.ESP)
    esp = await esp_round_trip(device, random.Random(4303))
    bus.annotate(phase=BenchPhase.IKE, packet=0)
    ike = await negotiation_on_the_card(device)
    bus.annotate(phase=BenchPhase.COUNTERS)
    counters = await device.counters()
    await bus.finish()
    write_report({
        "simulator": cocotb.SIM_NAME, "device": device.device, "bar0": device.bar0,
        "identity": {k: v if not isinstance(v, tuple) else list(v)
                     for k, v in vars(device.identity).items()},
        "config_header": header, "copies": copies, "rejected": rejected, "esp": esp, "ike": ike,
        "counters": counters, "config_status": await device.config_status(),
        "checker": bus.checker_report(), "clocks": bus.clocks(),
    })
    assert all(c["verified"] for c in copies), "a copy did not match its source"
    assert ike["keys_match_reference"], "the main mode's keys differ from the RFC 2409 reference"
    assert ike["esp_keys_match_reference"], "the quick mode's KEYMAT differs from the RFC 2409 reference"
