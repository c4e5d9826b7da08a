# Ref: ANSI X3.241-1994, RFC 2395 (LZS for IPComp); README.md "Commands"
"""``pacsim bench lzs``: LZS compression on the card, the same runs on the
RTL and on the model bus, beside a greedy software LZS with the same window.

Each corpus (:mod:`.lzs_corpus`) is a batch of packets compressed by
COMPRESS jobs in one ring batch; every stream is decompressed by the
software reference and must give the packet back. A packet the card cannot
make smaller than itself (``OUTPUT_OVERFLOW`` with a destination of the
packet's size, the IPComp rule) counts as sent uncompressed (out = in).
"""
import random
import time

from ..contract.codes import Direction, Opcode, ResultStatus
from ..host.device import PacDevice
from ..host.jobs import Job
from ..reference import lzs
from .lzs_corpus import KINDS, corpus

__all__ = ["LZS_BENCH_PACKETS", "LZS_BENCH_BYTES", "run_lzs_bench", "KINDS"]

#: Packets per corpus and their size (bytes).
LZS_BENCH_PACKETS = 8
LZS_BENCH_BYTES = 1400


async def run_lzs_bench(bus, bus_name: str, kind: str, packets: int = LZS_BENCH_PACKETS,
                        size: int = LZS_BENCH_BYTES) -> dict:
    """One bench row for corpus ``kind`` (the device is probed on ``bus``)."""
    device = await PacDevice.probe(bus)
    channel = await device.open_comp_channel(Direction.ENCODE)
    rng = random.Random(f"lzs-{kind}")
    data = [corpus(rng, kind, size) for _ in range(packets)]
    padded = -(-size // 4) * 4
    held, jobs = [], []
    for packet in data:
        source, destination = bus.alloc(padded), bus.alloc(padded)
        bus.host_write(source.address, packet)
        held += [source, destination]
        jobs.append(Job(Opcode.COMPRESS, source, destination, length=len(packet), comp=channel))
    start_clocks, wall = bus.clocks(), time.perf_counter()
    results = await device.run(jobs)
    clocks, wall = bus.clocks() - start_clocks, time.perf_counter() - wall
    bytes_out = 0
    for packet, job, result in zip(data, jobs, results):
        if result.status is ResultStatus.OUTPUT_OVERFLOW:
            bytes_out += len(packet)                    # not smaller: sent uncompressed
            continue
        result.check()
        stream = bus.host_read(job.destination.address, result.bytes)
        if lzs.decompress(stream, len(packet)) != packet:
            raise AssertionError(f"{kind}: the card's stream does not decompress to the packet")
        bytes_out += min(result.bytes, len(packet))
    for buffer in held:
        bus.free(buffer)
    bytes_in = sum(map(len, data))
    software = sum(min(len(lzs.compress(p)), len(p)) for p in data)
    return {"bench": "lzs", "bus": bus_name, "corpus": kind, "packets": packets, "bytes_in": bytes_in,
            "bytes_out": bytes_out, "ratio": round(bytes_out / bytes_in, 4),
            "software_ratio": round(software / bytes_in, 4),
            "bytes_per_pci_clock": round(bytes_in / clocks, 3),
            "sim_clocks_per_second": round(clocks / wall) if wall > 0 else None}
