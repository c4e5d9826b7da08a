# Ref: NIST SP 800-90A Rev. 1 section 10.2.1; docs/rings.md "Random number generator"
"""Driver-suite checks of one unit.

The random number generator against the reference CTR_DRBG (``reference/drbg.py``): registers,
RANDOM jobs and fault injection.

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from pacsim.contract.codes import RANDOM_MAX_BYTES, Opcode, ResultStatus
from pacsim.contract.rng import DrbgCommand, DrbgFault, DrbgStatus
from pacsim.contract.regmap import BAR0
from pacsim.reference.drbg import CtrDrbg
from pacsim.host.errors import InvalidArgument, RngFailed
from pacsim.host.jobs import Job
from driver_suite_support import fresh_device, raises, poll, Buffers, run_one


async def rng_command(dev, command: DrbgCommand) -> dict:
    """A raw command through RNG_CONTROL; RNG_STATUS once it is done."""
    await poll(dev, "RNG_STATUS", lambda f: not f["busy"])
    await dev.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=command, start=1))
    return await poll(dev, "RNG_STATUS", lambda f: not f["busy"] and (f["valid"] or f["status"]
                                                                     or command is not DrbgCommand.GENERATE))


async def check_rng_against_reference(bus):
    """The generator refuses RESEED and GENERATE before INSTANTIATE
    (NOT_INSTANTIATED); instantiated from fixed seed material, random()
    equals the reference CTR_DRBG with one 16-byte generate request per
    block, also across a reseed; RNG_OUTPUT holds the block bytes as
    little-endian dwords with RNG_STATUS.valid; UNINSTANTIATE clears ready
    and valid; the driver instantiates the generator itself after a reset."""
    dev = await fresh_device(bus)
    rng = seeded_random(46)
    seed, reseed = rng.randbytes(48), rng.randbytes(48)
    status = await rng_command(dev, DrbgCommand.GENERATE)
    assert (status["status"], status["ready"], status["valid"]) == (DrbgStatus.NOT_INSTANTIATED, 0, 0), status
    error = await raises(RngFailed, dev.rng_reseed(reseed))
    assert error.status is DrbgStatus.NOT_INSTANTIATED, error

    await dev.rng_instantiate(seed)
    status = await dev.read_fields("RNG_STATUS")
    assert (status["busy"], status["ready"], status["status"]) == (0, 1, DrbgStatus.OK), status
    reference = CtrDrbg(seed)
    blocks = lambda count: b"".join(reference.generate(16) for _ in range(count))
    assert await dev.random(64) == blocks(4), "random(64) differs from the reference"
    assert await dev.random(20) == blocks(2)[:20], "random(20) differs from the reference"
    await dev.rng_reseed(reseed)
    reference.reseed(reseed)
    assert await dev.random(16) == blocks(1), "random(16) after a reseed differs from the reference"

    status = await rng_command(dev, DrbgCommand.GENERATE)
    assert (status["valid"], status["ready"], status["status"]) == (1, 1, DrbgStatus.OK), status
    words = await bus.mem_read(dev.bar0 + BAR0.RNG_OUTPUT0.offset, 4)
    assert b"".join(w.to_bytes(4, "little") for w in words) == blocks(1), "RNG_OUTPUT byte order"
    status = await rng_command(dev, DrbgCommand.UNINSTANTIATE)
    assert (status["valid"], status["ready"], status["status"]) == (0, 0, DrbgStatus.OK), status
    assert (await rng_command(dev, DrbgCommand.GENERATE))["status"] == DrbgStatus.NOT_INSTANTIATED
    await raises(InvalidArgument, dev.rng_instantiate(seed[:47]))

    await dev.reset()
    first, second = await dev.random(32), await dev.random(32)
    assert len(first) == len(second) == 32 and first != second
    assert await dev.random(0) == b""


async def check_random_jobs(bus):
    """RANDOM commands: before INSTANTIATE the result is RNG_FAILED with
    nothing written; instantiated, a job of n bytes (1, 5, 16, 100) is one
    GENERATE request of ceil(n/16) blocks, equal to the reference, written
    exactly (BYTES = n, the last dword filled from the same blocks, nothing
    past it); the RNG registers interleave with jobs on one generator; bad
    lengths are BAD_LENGTH."""
    dev = await fresh_device(bus)
    rng = seeded_random(47)
    seed = rng.randbytes(48)
    async with Buffers(bus) as buffers:
        destination = buffers.alloc(128)
        background = rng.randbytes(128)
        bus.host_write(destination.address, background)
        await dev._rng_status(lambda f: not f["busy"])           # the power-on self-test
        result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=16))
        assert (result.status, result.bytes) == (ResultStatus.RNG_FAILED, 0), result
        assert bus.host_read(destination.address, 128) == background, "RNG_FAILED wrote to the destination"
        for what, length in (("length 0", 0), ("beyond RANDOM_MAX_BYTES", RANDOM_MAX_BYTES + 4),
                             ("destination too small", 132)):
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=length))
            assert result.status is ResultStatus.BAD_LENGTH, f"RANDOM {what}: {result.status!r}"
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        for length in (1, 5, 16, 100):
            bus.host_write(destination.address, background)
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=length))
            assert (result.status, result.bytes) == (ResultStatus.OK, length), f"RANDOM {length}: {result}"
            expected = reference.generate(16 * -(-length // 16))
            padded = -(-length // 4) * 4
            out = bus.host_read(destination.address, 128)
            assert out[:padded] == expected[:padded], f"RANDOM {length} differs from the reference"
            assert out[padded:] == background[padded:], f"RANDOM {length} wrote past its dwords"
            assert await dev.random(16) == reference.generate(16), "RNG register block after a RANDOM job"
    assert await dev.random(40, job=True) == reference.generate(48)[:40], "random(job=True)"


async def set_rng_fault(dev, fault: DrbgFault) -> None:
    """TEST_CONTROL.rng_fault = ``fault``, read back."""
    await dev.write("TEST_CONTROL", BAR0.TEST_CONTROL.encode(rng_fault=fault))
    assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": fault}, "TEST_CONTROL.rng_fault read back"


async def assert_rng_health_failed(dev, seed: bytes, what: str) -> None:
    """The generator is zeroized and refuses everything: RNG_STATUS HEALTH_FAILED
    and not ready; a GENERATE through RNG_CONTROL ends HEALTH_FAILED, and
    random(), rng_instantiate() and rng_reseed() raise RngFailed HEALTH_FAILED."""
    status = await dev.read_fields("RNG_STATUS")
    assert (status["busy"], status["ready"], status["valid"], status["status"]) == \
        (0, 0, 0, DrbgStatus.HEALTH_FAILED), f"{what}: RNG_STATUS {status}"
    assert (await rng_command(dev, DrbgCommand.GENERATE))["status"] == DrbgStatus.HEALTH_FAILED, what
    error = await raises(RngFailed, dev.random(16))      # GENERATE, or INSTANTIATE if the driver seeds it
    assert error.status is DrbgStatus.HEALTH_FAILED, f"{what}: {error}"
    for command, call in ((DrbgCommand.INSTANTIATE, lambda: dev.rng_instantiate(seed)),
                          (DrbgCommand.RESEED, lambda: dev.rng_reseed(seed))):
        error = await raises(RngFailed, call())
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, command), f"{what}: {error}"


async def check_rng_fault_injection(bus):
    """TEST_CONTROL.rng_fault is the generator's fault hook: with
    STUCK_OUTPUT (which leaves INSTANTIATE alone) the continuous test fails
    the next GENERATE, a RANDOM job's (RNG_FAILED, BYTES 0, nothing written)
    or a register one's (RngFailed HEALTH_FAILED); with CORRUPT_KAT (which
    leaves GENERATE alone) the known-answer self-test fails the next
    INSTANTIATE. Cleared, the fault leaves the generator failed (every
    command HEALTH_FAILED, RANDOM jobs RNG_FAILED) until CONTROL.reset,
    which also clears TEST_CONTROL; the generator then matches the reference
    DRBG again."""
    dev = await fresh_device(bus)
    rng = seeded_random(48)
    seed = rng.randbytes(48)
    assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": DrbgFault.NONE}
    async with Buffers(bus) as buffers:
        destination = buffers.alloc(64)
        background = rng.randbytes(64)
        bus.host_write(destination.address, background)

        async def random_job_fails(what: str) -> None:
            result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=48))
            assert (result.status, result.bytes) == (ResultStatus.RNG_FAILED, 0), f"RANDOM {what}: {result}"
            assert bus.host_read(destination.address, 64) == background, f"RANDOM {what} wrote to the destination"

        # STUCK_OUTPUT: the continuous test, first on a RANDOM job
        await set_rng_fault(dev, DrbgFault.STUCK_OUTPUT)
        await dev.rng_instantiate(seed)                          # the self-test's blocks are not GENERATE blocks
        assert (await dev.read_fields("RNG_STATUS"))["ready"] == 1
        await random_job_fails("with STUCK_OUTPUT")
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "STUCK_OUTPUT on a RANDOM job, then cleared")
        await random_job_fails("after STUCK_OUTPUT was cleared")

        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        assert await dev.random(16) == reference.generate(16), "random() after a reset differs from the reference"
        await set_rng_fault(dev, DrbgFault.STUCK_OUTPUT)        # then on a register GENERATE
        error = await raises(RngFailed, dev.random(16))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.GENERATE), error
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "STUCK_OUTPUT on RNG_CONTROL, then cleared")

        # CORRUPT_KAT: the known-answer self-test of INSTANTIATE; CONTROL.reset clears the field
        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        await set_rng_fault(dev, DrbgFault.CORRUPT_KAT)
        assert await dev.random(32) == reference.generate(16) + reference.generate(16), \
            "CORRUPT_KAT changed GENERATE"
        error = await raises(RngFailed, dev.rng_instantiate(seed))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.INSTANTIATE), error
        await dev.reset()
        assert await dev.read_fields("TEST_CONTROL") == {"rng_fault": DrbgFault.NONE}, "CONTROL.reset kept the fault"
        await set_rng_fault(dev, DrbgFault.CORRUPT_KAT)
        error = await raises(RngFailed, dev.rng_instantiate(seed))
        assert (error.status, error.command) == (DrbgStatus.HEALTH_FAILED, DrbgCommand.INSTANTIATE), error
        await set_rng_fault(dev, DrbgFault.NONE)
        await assert_rng_health_failed(dev, seed, "CORRUPT_KAT, then cleared")
        await random_job_fails("after CORRUPT_KAT was cleared")

        await dev.reset()
        await dev.rng_instantiate(seed)
        reference = CtrDrbg(seed)
        assert await dev.random(20) == (reference.generate(16) + reference.generate(16))[:20], \
            "random() after a reset differs from the reference"
        bus.host_write(destination.address, background)
        result = await run_one(dev, Job(Opcode.RANDOM, [], destination, length=48))
        assert (result.status, result.bytes) == (ResultStatus.OK, 48), result
        assert bus.host_read(destination.address, 48) == reference.generate(48), "RANDOM after a reset"
