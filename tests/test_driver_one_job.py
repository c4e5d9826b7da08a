# Ref: docs/rings.md "Jobs"; RFC 2395 section 2
"""The one-job conveniences of the driver on the model: who owns a job's
temporary buffers, and what a byte limit means.

A job's DMA buffers belong to it until its result is collected or the card
is reset: a call that raises :class:`CardTimeout` leaves the job in flight,
and the card may still write them. ``decompress`` with a limit that is not a whole number of dwords gives the card a
destination rounded up; whatever the card reports, the driver's verdict is
the reference decoder's (``reference/lzs.py``) with that limit.
"""
import asyncio
import random

import pytest

from driver_suite_lzs import STREAM_STATUS
from driver_suite_support import fresh_device, raises
from pacsim.contract.codes import Direction, ResultStatus
from pacsim.host.errors import CardTimeout, JobFailed
from pacsim.reference.lzs import LzsError, decompress
from pacsim.reference.lzs import compress as lzs_compress
from pacsim.sim.model_bus import ModelBus

#: Bytes of the packet the timed-out decompress produces.
PACKET_BYTES = 4000


def _timed_out_decompress(then):
    """Start a 4000-byte decompress that times out at once, fill a new
    buffer with a background, run ``then(dev)``; return what the buffer holds
    and the background."""
    async def body():
        bus = ModelBus()
        dev = await fresh_device(bus)
        decoder = await dev.open_comp_channel(Direction.DECODE)
        rng = random.Random(81)
        free_before = list(bus._allocator._free)
        packet = rng.randbytes(PACKET_BYTES // 2) * 2
        await raises(CardTimeout, dev.decompress(lzs_compress(packet), channel=decoder, limit=PACKET_BYTES,
                                                 timeout_clocks=1))
        assert dev.in_flight == 1
        fresh = bus.alloc(PACKET_BYTES)
        background = rng.randbytes(PACKET_BYTES)
        bus.host_write(fresh.address, background)
        await then(dev)
        held = bus.host_read(fresh.address, PACKET_BYTES)
        bus.free(fresh)
        assert bus._allocator._free == free_before, "the job's temporary buffers were not given back"
        return held, background
    return asyncio.run(body())


async def _collect(dev):
    (result,) = await dev.collect()
    assert result.status is ResultStatus.OK and result.bytes == PACKET_BYTES, result


async def _reset(dev):
    (lost,) = await dev.reset()
    assert lost.status.name == "LOST_TO_RESET"


@pytest.mark.parametrize("then", [_collect, _reset], ids=["collected", "reset"])
def test_a_timed_out_job_keeps_its_buffers_until_it_ends(then):
    held, background = _timed_out_decompress(then)
    changed = sum(a != b for a, b in zip(held, background))
    assert changed == 0, f"the timed-out job wrote {changed} bytes into a buffer allocated after it"


def _reference(stream: bytes, limit: int):
    """``(status, packet)`` of the reference decoder with ``limit``."""
    try:
        return ResultStatus.OK, decompress(stream, limit)
    except LzsError as error:
        return STREAM_STATUS[type(error)], None


def test_decompress_limits_inside_the_dword_rounding_follow_the_reference():
    """Truncated and good streams of 1..9-byte packets, limits 0..12: the
    driver's status is the reference's (OUTPUT_OVERFLOW before a stream
    error the card met past the limit, in the rounding of its destination)."""
    async def body():
        dev = await fresh_device(ModelBus())
        decoder = await dev.open_comp_channel(Direction.DECODE)
        rng = random.Random(82)
        seen = set()
        for length in range(1, 10):
            packet = rng.randbytes(length)
            for stream in (lzs_compress(packet), lzs_compress(packet)[:-1]):
                for limit in range(13):
                    status, expected = _reference(stream, limit)
                    seen.add(status)
                    call = dev.decompress(stream, channel=decoder, limit=limit)
                    if status is ResultStatus.OK:
                        assert await call == expected
                        continue
                    error = await raises(JobFailed, call)
                    assert error.status is status, (
                        f"{len(stream)}-byte stream of a {length}-byte packet, limit {limit}: "
                        f"{error.status.name} ({error.bytes} bytes); the reference says {status.name}")
        assert seen == {ResultStatus.OK, ResultStatus.OUTPUT_OVERFLOW, ResultStatus.STREAM_TRUNCATED}, seen
    asyncio.run(body())
