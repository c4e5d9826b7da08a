# Ref: docs/rings.md "Public-key unit", "Random number generator"
"""Concurrent callers of the driver's register-driven units on the model.

:class:`ModelBus` yields to the event loop at every transaction, as the RTL
bus waits for its clock, so callers interleave there as they would on the
card. Several tasks of one loop calling :meth:`PacDevice.modexp` and
:meth:`PacDevice.random` at once must each get their own result: the
public-key unit and the random number generator are one-operation-at-a-time
register interfaces, which the driver guards each with its own lock.
Results are held against ``pow()`` and the reference CTR_DRBG
(``reference/drbg.py``).
"""
import asyncio
import random

from driver_suite_support import fresh_device
from pacsim.reference.drbg import CtrDrbg
from pacsim.sim.model_bus import ModelBus

#: Concurrent callers of each unit.
CALLERS = 4
#: Bytes each random() caller asks for: two GENERATE requests of one block.
RANDOM_BYTES = 32


def reference_outputs(seed: bytes) -> list:
    """What the callers of random(RANDOM_BYTES) get, one caller at a time:
    each two consecutive 16-byte requests of the reference CTR_DRBG."""
    reference = CtrDrbg(seed)
    return [reference.generate(16) + reference.generate(16) for _ in range(CALLERS)]


def operand_sets(seed: int, bits: int) -> list:
    """``(base, exponent, modulus)`` for each caller: a ``bits``-bit odd modulus."""
    rng = random.Random(seed)
    return [(rng.getrandbits(bits), rng.getrandbits(48) | 1 << 47, rng.getrandbits(bits) | 1 << (bits - 1) | 1)
            for _ in range(CALLERS)]


def test_concurrent_modexp_callers_each_get_their_power():
    async def body():
        dev = await fresh_device(ModelBus())
        operands = operand_sets(71, 512)
        results = await asyncio.gather(*(dev.modexp(*operand) for operand in operands))
        assert results == [pow(*operand) for operand in operands], "a concurrent modexp got another's result"
    asyncio.run(body())


def test_concurrent_random_callers_each_get_whole_requests():
    async def body():
        dev = await fresh_device(ModelBus())
        seed = random.Random(72).randbytes(48)
        await dev.rng_instantiate(seed)
        outputs = await asyncio.gather(*(dev.random(RANDOM_BYTES) for _ in range(CALLERS)))
        # In whichever order the callers got the generator.
        assert sorted(outputs) == sorted(reference_outputs(seed)), \
            "concurrent random() callers interleaved their requests"
    asyncio.run(body())


def test_concurrent_modexp_and_random_callers():
    """Both units at once, as dh_keypair callers use them."""
    async def body():
        dev = await fresh_device(ModelBus())
        seed = random.Random(73).randbytes(48)
        await dev.rng_instantiate(seed)
        operands = operand_sets(74, 256)
        results = await asyncio.gather(*(dev.modexp(*operand) for operand in operands),
                                       *(dev.random(RANDOM_BYTES) for _ in range(CALLERS)))
        assert results[:CALLERS] == [pow(*operand) for operand in operands]
        assert sorted(results[CALLERS:]) == sorted(reference_outputs(seed))
    asyncio.run(body())
