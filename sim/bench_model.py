# Ref: docs/rings.md (jobs and descriptors); sim/pci_costs.py (the cost model it times by)
"""``pacsim bench dma`` and ``pacsim bench crypto`` on the model bus: the same
jobs as on the RTL, timed by the cost model.

The PCI clocks are the model's estimate (:class:`~.pci_costs.PciCosts`), not
a measurement; the RTL rows of the same benches are the measurement. Every
bench checks its output (the copy byte for byte, the first ESP packet
against ``cryptography`` and ``hmac``), so a fast but wrong model cannot
post a figure.
"""
import asyncio
import hashlib
import hmac
import random
import time

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherAlg, CipherMode, Direction, MacAlg, Opcode
from ..host.device import PacDevice
from ..host.jobs import Job
from .model_bus import ModelBus
from .pci_costs import COSTS

__all__ = ["bench_dma_model", "bench_crypto_model", "run_crypto_bench", "crypto_bench_row",
           "crypto_bench_algorithms", "CRYPTO_BENCH_CIPHERS", "CRYPTO_BENCH_MACS"]

#: Cipher and MAC names of ``pacsim bench crypto`` (``<cipher>+<mac>``).
CRYPTO_BENCH_CIPHERS = {"des-cbc": CipherAlg.DES, "3des-cbc": CipherAlg.TDES_INNER,
                        "aes128-cbc": CipherAlg.AES128, "aes192-cbc": CipherAlg.AES192,
                        "aes256-cbc": CipherAlg.AES256}
CRYPTO_BENCH_MACS = {"hmac-md5-96": MacAlg.HMAC_MD5, "hmac-sha1-96": MacAlg.HMAC_SHA1}
#: ICV of the HMAC-*-96 algorithms, bytes.
ICV_BYTES = 12
#: ESP SPI and sequence number before the IV, bytes.
ESP_HEADER = 8
#: Packets in flight per crypto bench run (the steady state of a ring).
CRYPTO_BENCH_PACKETS = 32
#: The card's core clock (the PCI clock), MHz.
CORE_CLOCK_MHZ = 33


def bench_dma_model(size: int = 65536) -> dict:
    async def copy():
        bus = ModelBus(memory_size=max(1 << 20, 4 * size))
        device = await PacDevice.probe(bus)
        src, dst = bus.alloc(size), bus.alloc(size)
        data = random.Random(size).randbytes(size)
        bus.host_write(src.address, data)
        wall = time.perf_counter()
        result = await device.copy(src, dst, size)
        wall = time.perf_counter() - wall
        if bus.host_read(dst.address, size) != data:
            raise AssertionError("model copy differs from its source")
        return result, wall, (await device.counters())["DMA_TRANSACTIONS"]

    result, wall, transactions = asyncio.run(copy())
    phases = 2 * size // 4      # every dword is read once and written once
    return {
        "bench": "dma", "bus": "model", "simulator": "model",
        "bytes": size, "pci_clocks": result.clocks,
        "bytes_per_clock": round(size / result.clocks, 4),
        "bus_utilization": round(phases / result.clocks, 4),
        "wall_s": round(wall, 4),
        "sim_clocks_per_second": round(result.clocks / wall) if wall else None,
        "transactions": transactions,
    }


def crypto_bench_algorithms(name: str) -> tuple:
    """``(CipherAlg, MacAlg)`` of a bench name such as ``aes128-cbc+hmac-sha1-96``."""
    cipher, _, mac = name.partition("+")
    if cipher not in CRYPTO_BENCH_CIPHERS or mac not in CRYPTO_BENCH_MACS:
        names = [f"{c}+{m}" for c in CRYPTO_BENCH_CIPHERS for m in CRYPTO_BENCH_MACS]
        raise ValueError(f"unknown crypto bench {name!r}; expected one of {', '.join(names)}")
    return CRYPTO_BENCH_CIPHERS[cipher], CRYPTO_BENCH_MACS[mac]


def _reference_esp(cipher: CipherAlg, key: bytes, mac: MacAlg, mac_key: bytes, packet: bytes, skip: int) -> bytes:
    """ESP ENCODE output computed with ``cryptography`` and ``hmac``."""
    block = CIPHER_BLOCK_BYTES[cipher]
    algorithm = {CipherAlg.DES: lambda: TripleDES(key * 3),
                 CipherAlg.TDES_INNER: lambda: TripleDES(key)}.get(cipher, lambda: algorithms.AES(key))()
    encryptor = Cipher(algorithm, modes.CBC(packet[skip - block:skip])).encryptor()
    out = packet[:skip] + encryptor.update(packet[skip:]) + encryptor.finalize()
    digest = hashlib.sha1 if mac is MacAlg.HMAC_SHA1 else hashlib.md5
    return out + hmac.new(mac_key, out, digest).digest()[:ICV_BYTES]


async def run_crypto_bench(bus, alg_name: str, packet_bytes: int) -> tuple:
    """ESP ENCODE of :data:`CRYPTO_BENCH_PACKETS` packets in flight on any bus.

    Each packet carries ``packet_bytes`` of payload, padded to the cipher
    block as ESP does, after SPI, sequence number and IV, and gets a 96-bit
    ICV; throughput counts the payload bytes. Returns
    ``(PCI clocks, wall seconds)`` of the batch. The first packet is checked
    against ``cryptography`` and ``hmac``; every result must be OK.
    """
    cipher, mac = crypto_bench_algorithms(alg_name)
    block = CIPHER_BLOCK_BYTES[cipher]
    if packet_bytes <= 0:
        raise ValueError(f"packet_bytes {packet_bytes}: expected a positive payload size")
    skip = ESP_HEADER + block
    padded = -(-packet_bytes // block) * block       # ESP pads the payload to the block
    rng = random.Random(packet_bytes)
    device = await PacDevice.probe(bus)
    key, mac_key = rng.randbytes(CIPHER_KEY_BYTES[cipher]), rng.randbytes(20)
    cipher_channel = await device.open_cipher_channel(cipher, Direction.ENCODE, key)
    mac_channel = await device.open_mac_channel(mac, Direction.ENCODE, mac_key, icv_bytes=ICV_BYTES)
    jobs, packets = [], []
    for _ in range(CRYPTO_BENCH_PACKETS):
        packets.append(rng.randbytes(skip + padded))
        src, dst = bus.alloc(len(packets[-1])), bus.alloc(len(packets[-1]) + ICV_BYTES)
        bus.host_write(src.address, packets[-1])
        jobs.append(Job(Opcode.ENCODE, src, dst, skip=skip, cipher=cipher_channel, mac=mac_channel))
    wall, start = time.perf_counter(), bus.clocks()
    results = await device.run(jobs)
    clocks, wall = bus.clocks() - start, time.perf_counter() - wall
    for result in results:
        result.check()
    expected = _reference_esp(cipher, key, mac, mac_key, packets[0], skip)
    if bus.host_read(jobs[0].destination.address, len(expected)) != expected:
        raise AssertionError(f"{alg_name} output differs from the cryptography/hmac reference")
    for job in jobs:
        bus.free(job.source)
        bus.free(job.destination)
    await device.close_channel(cipher_channel)
    await device.close_channel(mac_channel)
    return clocks, wall


def crypto_bench_row(bus_name: str, alg_name: str, packet_bytes: int, clocks: int, wall: float,
                     engine_clocks_per_block) -> dict:
    """One ``pacsim bench crypto --json`` object."""
    per_clock = CRYPTO_BENCH_PACKETS * packet_bytes / clocks
    return {
        "bench": "crypto", "bus": bus_name, "alg": alg_name, "packet_bytes": packet_bytes,
        "engine_clocks_per_block": engine_clocks_per_block,
        "bytes_per_pci_clock": round(per_clock, 4),
        "mbit_s_at_33mhz": round(per_clock * 8 * CORE_CLOCK_MHZ, 1),
        "core_clock_mhz": CORE_CLOCK_MHZ,
        "sim_clocks_per_second": round(clocks / wall) if wall else None,
    }


def bench_crypto_model(alg_name: str = "aes128-cbc+hmac-sha1-96", packet_bytes: int = 1024) -> dict:
    """:func:`run_crypto_bench` on the model bus, timed by its cost model."""
    cipher, mac = crypto_bench_algorithms(alg_name)
    skip = ESP_HEADER + CIPHER_BLOCK_BYTES[cipher]
    bus = ModelBus(memory_size=max(1 << 20, 4 * CRYPTO_BENCH_PACKETS * (skip + packet_bytes + 16 + ICV_BYTES)))
    clocks, wall = asyncio.run(run_crypto_bench(bus, alg_name, packet_bytes))
    return crypto_bench_row("model", alg_name, packet_bytes, clocks, wall,
                            COSTS.engine_clocks_per_block(cipher, CipherMode.CBC, Direction.ENCODE, mac))
