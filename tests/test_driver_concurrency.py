# Ref: docs/rings.md "Public-key unit", "Random number generator"
"""Concurrent callers of the driver's register-driven units on the model.

:class:`ModelBus` yields to the event loop at every transaction, as the RTL
bus waits for its clock, so callers interleave there as they would on the
card. Several tasks of one loop calling :meth:`PacDevice.modexp` and
:meth:`PacDevice.random` at once must each get their own result: the
public-key unit and the random number generator are one-operation-at-a-time
register interfaces, which the driver guards each with its own lock.
Results are held against ``pow()`` and the reference CTR_DRBG
(``host/drbg.py``).
"""
import asyncio
import random

from driver_suite_support import fresh_device
from pacsim.host.drbg import CtrDrbg
from pacsim.sim.model_bus import ModelBus

#: Concurrent callers of each unit.
CALLERS = 4
#: Bytes each random() caller asks for: two GENERATE requests of one block.
RANDOM_BYTES = 32


def test_concurrent_modexp_callers_each_get_their_power():
    async def body():
        dev = await fresh_device(ModelBus())
        rng = random.Random(71)
        operands = [(rng.getrandbits(512), rng.getrandbits(48) | 1 << 47, rng.getrandbits(512) | 1 << 511 | 1)
                    for _ in range(CALLERS)]
        results = await asyncio.gather(*(dev.modexp(*operand) for operand in operands))
        assert results == [pow(*operand) for operand in operands], "a concurrent modexp got another's result"
    asyncio.run(body())


def test_concurrent_random_callers_each_get_whole_requests():
    async def body():
        dev = await fresh_device(ModelBus())
        seed = random.Random(72).randbytes(48)
        await dev.rng_instantiate(seed)
        outputs = await asyncio.gather(*(dev.random(RANDOM_BYTES) for _ in range(CALLERS)))
        reference = CtrDrbg(seed)
        # One caller at a time: each output is two consecutive 16-byte
        # requests of the reference, in the order the callers got the unit.
        expected = [reference.generate(16) + reference.generate(16) for _ in range(CALLERS)]
        assert sorted(outputs) == sorted(expected), "concurrent random() callers interleaved their requests"
    asyncio.run(body())


def test_concurrent_modexp_and_random_callers():
    """Both units at once, as dh_keypair callers use them."""
    async def body():
        dev = await fresh_device(ModelBus())
        seed = random.Random(73).randbytes(48)
        await dev.rng_instantiate(seed)
        rng = random.Random(74)
        operands = [(rng.getrandbits(256), rng.getrandbits(32) | 1 << 31, rng.getrandbits(256) | 1 << 255 | 1)
                    for _ in range(CALLERS)]
        results = await asyncio.gather(*(dev.modexp(*operand) for operand in operands),
                                       *(dev.random(RANDOM_BYTES) for _ in range(CALLERS)))
        assert results[:CALLERS] == [pow(*operand) for operand in operands]
        reference = CtrDrbg(seed)
        expected = [reference.generate(16) + reference.generate(16) for _ in range(CALLERS)]
        assert sorted(results[CALLERS:]) == sorted(expected)
    asyncio.run(body())
