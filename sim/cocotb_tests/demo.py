# Ref: README.md, "Set up and run" (what the demo shows)
"""cocotb entry point of ``pacsim demo``: probe the card over PCI and run copies.

Everything printed by the demo comes from this run: the configuration
header as read over the bus, the BAR the driver assigned, the card's
identity, copies completed by interrupt (checked against the source), one
refused job, the card's counters and the protocol checker's verdict.
"""
import hashlib
import hmac
import random

import cocotb

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pacsim.contract.codes import CipherAlg, Direction, MacAlg
from pacsim.contract.regmap import CONFIG
from pacsim.host.device import PacDevice
from pacsim.host.errors import JobFailed
from pacsim.sim.report import write_report
from pacsim.sim.rtl_bus import RtlBus

COPY_SIZES = (64, 4096, 65536)


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
    sealed = await device.encode(packet, skip=24, cipher=cipher, mac=mac)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    expected = header + iv + encryptor.update(payload) + encryptor.finalize()
    expected += hmac.new(mac_key, expected, hashlib.sha1).digest()[:12]
    cipher, mac = channels[Direction.DECODE]
    opened = await device.decode(sealed, skip=24, cipher=cipher, mac=mac)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    try:
        await device.decode(bytes(tampered), skip=24, cipher=cipher, mac=mac)
        refused = "the card accepted a corrupted ICV"
    except JobFailed as error:
        refused = error.status.name
    return {"channels": {d.name: [c.number for c in pair] for d, pair in channels.items()},
            "packet_bytes": len(packet), "sealed_bytes": len(sealed),
            "sealed_matches_reference": sealed == expected, "opened_matches": opened == packet,
            "tampered": refused}


@cocotb.test()
async def demo(dut):
    bus = await RtlBus.start(dut)
    device = await PacDevice.probe(bus)
    header = {}
    for reg in CONFIG:
        header[reg.name] = {"offset": reg.offset, "value": await bus.config_read(device.device, reg.offset)}
    copies = []
    rng = random.Random(2026)
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
    try:
        await device.copy(0x1002, 0x2000, 64)
        rejected = "the card accepted an unaligned source"
    except JobFailed as error:
        rejected = str(error)
    esp = await esp_round_trip(device, random.Random(4303))
    counters = await device.counters()
    await bus.finish()
    write_report({
        "simulator": cocotb.SIM_NAME, "device": device.device, "bar0": device.bar0,
        "identity": {k: v if not isinstance(v, tuple) else list(v)
                     for k, v in vars(device.identity).items()},
        "config_header": header, "copies": copies, "rejected": rejected, "esp": esp,
        "counters": counters, "config_status": await device.config_status(),
        "checker": bus.checker_report(), "clocks": bus.clocks(),
    })
    assert all(c["verified"] for c in copies), "a copy did not match its source"
