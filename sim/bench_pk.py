# Ref: RFC 2409 section 6 and RFC 3526 (the MODP groups it exponentiates in)
"""``pacsim bench pk``: modular exponentiation on the card's public-key unit,
the same runs on the RTL and on the model bus.

Each run raises the generator of the IKE group of that size to a random
exponent of the given length (the top bit set) through
:meth:`~pacsim.host.device.PacDevice.modexp`, checks the result against
Python's ``pow`` and reports ``PK_CLOCKS``, the PCI clocks the card's unit
was busy (on the model: :func:`~pacsim.contract.pk.modexp_clocks`).
"""
import random
import time

from ..host.device import PacDevice
from ..reference.modp import GROUPS

__all__ = ["PK_BENCH_RUNS", "run_pk_bench"]

#: ``(modulus bits, exponent bits)`` of the default bench: 160-bit exponents
#: (the usual DH private size) and full-length ones.
PK_BENCH_RUNS = ((768, 160), (768, 768), (1024, 160), (1024, 1024), (2048, 160), (2048, 2048))
#: The card's core clock (the PCI clock), MHz.
CORE_CLOCK_MHZ = 33


def _group(bits: int):
    for group in GROUPS.values():
        if group.bits == bits:
            return group
    raise ValueError(f"no DH group of {bits} bits; groups: {sorted(g.bits for g in GROUPS.values())}")


async def run_pk_bench(bus, bus_name: str, bits: int, exponent_bits: int) -> dict:
    """One bench row (the device is probed on ``bus``)."""
    device = await PacDevice.probe(bus)
    group = _group(bits)
    exponent = random.Random(bits * 10_007 + exponent_bits).getrandbits(exponent_bits) | 1 << (exponent_bits - 1)
    start_clocks, wall = bus.clocks(), time.perf_counter()
    result = await device.modexp(group.generator, exponent, group.prime)
    wall = time.perf_counter() - wall
    if result != pow(group.generator, exponent, group.prime):
        raise AssertionError(f"{bits}-bit modexp on the {bus_name} bus differs from pow()")
    clocks = (await device.read_fields("PK_CLOCKS"))["clocks"]
    simulated = bus.clocks() - start_clocks
    return {"bench": "pk", "bus": bus_name, "bits": bits, "exponent_bits": exponent_bits, "clocks": clocks,
            "ms_at_core_clock": round(clocks / (CORE_CLOCK_MHZ * 1000), 3), "core_clock_mhz": CORE_CLOCK_MHZ,
            "sim_clocks_per_second": round(simulated / wall) if wall > 0 else None}
