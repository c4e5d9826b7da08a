# Ref: NIST SP 800-90A Rev. 1 section 10.2.1 (CTR_DRBG)
# Ref: docs/rings.md "Random number generator"
"""The random number generator: its CTR_DRBG driven through the RNG
registers (INSTANTIATE, RESEED, GENERATE, polled by ``RNG_STATUS.busy``), or
by RANDOM jobs on the rings.

:class:`RandomGenerator` is the part of :class:`~.device.PacDevice` that
holds these. One command sequence at a time: callers take the generator's
lock (``_rng_lock``). ``_rng_seeded_by`` says who instantiated the generator
since the last reset (None, ``"caller"`` or ``"driver"``). Counts are bytes,
times PCI clocks.
"""
import os

from ..contract.rng import DrbgCommand, DrbgStatus
from ..contract.codes import RANDOM_MAX_BYTES, Opcode
from ..contract.regmap import BAR0
from ..reference.drbg import BLOCK_BYTES, SEED_BYTES
from .errors import CardTimeout, InvalidArgument, RngFailed
from .jobs import Job

__all__ = ["RandomGenerator", "RNG_TIMEOUT_CLOCKS"]

#: PCI clocks a random-number-generator command may take (the slowest,
#: INSTANTIATE with its self-test, takes about 130).
RNG_TIMEOUT_CLOCKS = 10_000


class RandomGenerator:
    """The card's deterministic random bit generator (a part of :class:`~.device.PacDevice`)."""

    async def rng_instantiate(self, seed_material: bytes) -> None:
        """Instantiate the card's CTR_DRBG (AES-256, no derivation function)
        from 48 bytes of ``seed_material`` (entropy input XOR personalization
        string, :func:`pacsim.reference.drbg.seed_material` as bytes). The card has
        no entropy source: its output is exactly as unpredictable as this
        material. Raises :class:`RngFailed` if the card refuses
        (HEALTH_FAILED)."""
        seed = self._seed(seed_material)
        async with self._rng_lock:
            await self._rng_command(DrbgCommand.INSTANTIATE, seed)
            self._rng_seeded_by = "caller"

    async def rng_reseed(self, seed_material: bytes) -> None:
        """Reseed the card's generator with 48 bytes of ``seed_material``
        (entropy input XOR additional input). Raises :class:`RngFailed`
        (NOT_INSTANTIATED before :meth:`rng_instantiate`)."""
        seed = self._seed(seed_material)
        async with self._rng_lock:
            await self._rng_command(DrbgCommand.RESEED, seed)

    async def random(self, count: int, *, job: bool = False) -> bytes:
        """``count`` random bytes from the card's generator: through the RNG
        registers, one 128-bit GENERATE request per 16 bytes (the last block
        cut to size), or with ``job`` by RANDOM commands on the rings (one
        GENERATE request of up to ``RANDOM_MAX_BYTES`` each, written to host
        memory by DMA; the ring's result says ``RNG_FAILED`` if the generator
        refuses, raised as :class:`JobFailed`).

        The card has no entropy source: unless :meth:`rng_instantiate` was
        called since the last reset, the driver instantiates the generator
        itself from ``os.urandom`` (48 bytes of seed material), and reseeds
        it from ``os.urandom`` when the card asks (RESEED_REQUIRED). Raises
        :class:`RngFailed` for the card's other refusals (and
        RESEED_REQUIRED of a caller-seeded generator)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidArgument(f"random byte count {count!r}: expected a non-negative integer")
        if not isinstance(job, bool):
            raise InvalidArgument(f"random job {job!r}: expected True (RANDOM jobs) or False (the registers)")
        async with self._rng_lock:
            return await self._random(count, job)

    async def _random(self, count: int, job: bool) -> bytes:
        """:meth:`random` with the generator's lock held."""
        if count and self._rng_seeded_by is None:
            await self._rng_command(DrbgCommand.INSTANTIATE, os.urandom(SEED_BYTES))
            self._rng_seeded_by = "driver"
        if job:
            return await self._random_jobs(count)
        output = bytearray()
        while len(output) < count:
            try:
                await self._rng_command(DrbgCommand.GENERATE)
            except RngFailed as error:
                if error.status is not DrbgStatus.RESEED_REQUIRED or self._rng_seeded_by != "driver":
                    raise
                await self._rng_command(DrbgCommand.RESEED, os.urandom(SEED_BYTES))
                continue
            words = await self.bus.mem_read(self._bar0 + BAR0.RNG_OUTPUT0.offset, BLOCK_BYTES // 4)
            output += b"".join(word.to_bytes(4, "little") for word in words)
        return bytes(output[:count])

    async def _random_jobs(self, count: int) -> bytes:
        output = bytearray()
        while len(output) < count:
            size = min(count - len(output), RANDOM_MAX_BYTES)
            destination = self.bus.alloc(-(-size // 4) * 4)
            job = Job(Opcode.RANDOM, [], destination, length=size)
            try:
                (result,) = await self.run([job])
                result.check()
                output += self.bus.host_read(destination.address, size)
            finally:
                self._give_back(job, destination)
        return bytes(output)

    @staticmethod
    def _seed(seed_material) -> bytes:
        if not isinstance(seed_material, (bytes, bytearray)) or len(seed_material) != SEED_BYTES:
            size = len(seed_material) if isinstance(seed_material, (bytes, bytearray)) else type(seed_material).__name__
            raise InvalidArgument(f"seed material of {size} bytes: expected exactly {SEED_BYTES} bytes "
                                  "(seedlen = 384 bits, CTR_DRBG AES-256 without derivation function)")
        return bytes(seed_material)

    async def _rng_status(self, done) -> dict:
        """Poll RNG_STATUS until ``done(fields)``; CardTimeout after RNG_TIMEOUT_CLOCKS."""
        deadline = self.bus.clocks() + RNG_TIMEOUT_CLOCKS
        while not done(fields := await self.read_fields("RNG_STATUS")):
            if self.bus.clocks() >= deadline:
                raise CardTimeout(f"RNG_STATUS {fields} for {RNG_TIMEOUT_CLOCKS} PCI clocks; expected the "
                                  "random number generator to finish its command")
        return fields

    async def _rng_command(self, command: DrbgCommand, seed: bytes | None = None) -> dict:
        """Run one generator command (seed material into RNG_SEED first, zeroed
        after); its RNG_STATUS, or :class:`RngFailed`."""
        await self._rng_status(lambda f: not f["busy"])          # e.g. the self-test after a reset
        seed_address = self._bar0 + BAR0.RNG_SEED0.offset
        if seed is not None:
            await self.bus.mem_write(seed_address, [int.from_bytes(seed[k:k + 4], "little")
                                                    for k in range(0, SEED_BYTES, 4)])
        await self.write("RNG_CONTROL", BAR0.RNG_CONTROL.encode(command=command, start=1))
        if command is DrbgCommand.GENERATE:
            status = await self._rng_status(lambda f: not f["busy"] and (f["valid"] or f["status"]))
        else:
            status = await self._rng_status(lambda f: not f["busy"])
        if seed is not None:
            await self.bus.mem_write(seed_address, [0] * (SEED_BYTES // 4))
        if status["status"] != DrbgStatus.OK:
            raise RngFailed(DrbgStatus(status["status"]), command=command)
        return status
