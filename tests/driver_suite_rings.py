# Ref: docs/rings.md "Rings", "Jobs"; PCI Local Bus Specification 2.3, section 3.3
"""Driver-suite checks of one unit.

Jobs on the rings: copies, scatter-gather, batches, a full ring, DMA and descriptor errors, bad
commands and contexts, the result ring, coalescing, interrupt disable and the COMMAND bits that stop
the card.

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from pacsim.contract.codes import (MAC_DIGEST_BYTES, MAX_SEGMENTS, NO_CHANNEL, CipherAlg, Direction, MacAlg, Opcode,
                                   ResultStatus)
from pacsim.contract.layouts import CMD, CONTEXT
from pacsim.contract.regmap import BAR0, IDENTITY, RINGS
from pacsim.host.errors import CardTimeout, JobFailed, MasterAbort, RingAborted, RingFull
from pacsim.host.jobs import DriverStatus, Job
from driver_suite_support import (fresh_device, raises, burst_bytes, window_address, poll, Buffers, run_one,
                                  copy_and_verify, esp_packet, cipher_key, open_pair, expected_esp, assert_untouched,
                                  UNCLAIMED_ADDRESS, GUARD, INTA_SETTLE_CLOCKS, POLL_CLOCKS, ESP_HEADER)


async def check_reset_with_jobs_in_flight(bus):
    """reset() with jobs in flight: each gets LOST_TO_RESET, the card stops
    at once (no interrupt, the later jobs move nothing), counters and
    indices restart from 0, channels survive and new jobs run."""
    dev = await fresh_device(bus)
    rng = seeded_random(3)
    key = cipher_key(rng, CipherAlg.TDES_INNER)
    cipher = await dev.open_cipher_channel(CipherAlg.TDES_INNER, Direction.ENCODE, key)
    packet, skip = esp_packet(rng, 8, 64)
    encoded = await dev.encode(packet, skip=skip, cipher=cipher)
    length = 16 * 1024
    async with Buffers(bus) as buffers:
        src = buffers.filled(rng.randbytes(length))
        destinations = [buffers.alloc(length) for _ in range(4)]
        backgrounds = [rng.randbytes(length) for _ in destinations]
        for dst, background in zip(destinations, backgrounds):
            bus.host_write(dst.address, background)
        jobs = [Job(Opcode.COPY, src, dst) for dst in destinations]
        tags = await dev.submit(jobs)
        lost = await dev.reset()
        assert [(r.tag, r.status, r.job) for r in lost] == \
               [(tag, DriverStatus.LOST_TO_RESET, job) for tag, job in zip(tags, jobs)], lost
        assert dev.driver_counters["jobs_lost"] == 4 and dev.in_flight == 0
        assert not await bus.wait_interrupt(8 * length // 4), "an interrupt for jobs lost to reset"
        assert await dev.read_fields("INT_STATUS") == {"result": 0, "ring_error": 0, "pk": 0}
        assert await dev.read("JOBS") == 0
        for name in RINGS:
            assert (await dev.read_fields(f"{name}_RING_INDEX"))["index"] == 0, f"{name} index after reset"
        tail = burst_bytes(dev)
        assert bus.host_read(destinations[0].address + length - tail, tail) == backgrounds[0][-tail:], \
            "the first copy ran on after CONTROL.reset"
        for dst, background in zip(destinations[1:], backgrounds[1:]):
            assert_untouched(bus, dst, background, "a job behind the reset")
    await copy_and_verify(dev, rng, 512)
    assert await dev.encode(packet, skip=skip, cipher=cipher) == encoded, "the channel did not survive reset()"


# -- copies ----------------------------------------------------------------------

async def check_copy_random_data(bus):
    """Copies of 4 bytes, a length that is no multiple of the burst, and 64 KiB
    arrive byte for byte, without touching anything around them."""
    dev = await fresh_device(bus)
    rng = seeded_random(4)
    for length in (4, 2 * burst_bytes(dev) + 12, 64 * 1024):
        await copy_and_verify(dev, rng, length)


async def check_copy_scatter_gather(bus):
    """A COPY gathers up to MAX_SEGMENTS source pieces and scatters them over
    up to MAX_SEGMENTS destination pieces, in order, leaving guards alone."""
    dev = await fresh_device(bus)
    rng = seeded_random(5)
    for source_count, destination_count in ((3, 4), (MAX_SEGMENTS, MAX_SEGMENTS), (1, MAX_SEGMENTS)):
        sizes = [4 * rng.randrange(1, 100) for _ in range(source_count)]
        while sum(sizes) // 4 < destination_count:       # too few dwords to cut into destination_count pieces
            sizes = [4 * rng.randrange(1, 100) for _ in range(source_count)]
        total = sum(sizes)
        cuts = sorted(rng.sample(range(1, total // 4), destination_count - 1))
        pieces = [4 * (b - a) for a, b in zip([0] + cuts, cuts + [total // 4])]
        async with Buffers(bus) as buffers:
            data = rng.randbytes(total)
            sources, offset = [], 0
            for size in sizes:
                sources.append((buffers.filled(data[offset:offset + size]).address, size))
                offset += size
            areas = [buffers.alloc(size + 2 * GUARD) for size in pieces]
            backgrounds = [rng.randbytes(area.size) for area in areas]
            for area, background in zip(areas, backgrounds):
                bus.host_write(area.address, background)
            destinations = [(area.address + GUARD, size) for area, size in zip(areas, pieces)]
            result = (await run_one(dev, Job(Opcode.COPY, sources, destinations))).check()
            assert result.bytes == total
            offset = 0
            for area, size, background in zip(areas, pieces, backgrounds):
                assert bus.host_read(area.address + GUARD, size) == data[offset:offset + size], \
                    f"{source_count}->{destination_count} pieces: piece at byte {offset} differs"
                assert bus.host_read(area.address, GUARD) == background[:GUARD]
                assert bus.host_read(area.address + GUARD + size, GUARD) == background[-GUARD:]
                offset += size


async def check_many_jobs_in_flight(bus):
    """Two batches of copies submitted back to back (the second while the card
    works on the first) all complete, in order, with their data."""
    dev = await fresh_device(bus)
    rng = seeded_random(6)
    async with Buffers(bus) as buffers:
        batches, expected = [], {}
        for _ in range(2):
            jobs = []
            for _ in range(12):
                length = 4 * rng.randrange(1, 512)
                data = rng.randbytes(length)
                dst = buffers.alloc(length)
                jobs.append(Job(Opcode.COPY, buffers.filled(data), dst))
                expected[id(jobs[-1])] = data
            batches.append(jobs)
        tags = await dev.submit(batches[0]) + await dev.submit(batches[1])
        assert len(set(tags)) == len(tags) and dev.in_flight == len(tags)
        results = []
        while len(results) < len(tags):
            results += await dev.collect()
        assert [r.tag for r in results] == tags, "results did not come in command order"
        for result in results:
            result.check()
            job = result.job
            data = expected[id(job)]
            assert result.bytes == len(data)
            assert bus.host_read(job.destination.address, len(data)) == data, f"{job.describe()}: data differs"
    assert await dev.read("JOBS") == len(tags)
    assert dev.driver_counters["results_collected"] == len(tags)


async def check_ring_full_refuses_the_whole_batch(bus):
    """A batch larger than the free command or segment entries raises RingFull
    and writes nothing; a batch that fits then runs."""
    dev = await fresh_device(bus, command_entries=4, segment_entries=8)
    rng = seeded_random(7)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(64)), buffers.alloc(64)
        error = await raises(RingFull, dev.submit([Job(Opcode.COPY, src, dst) for _ in range(4)]))
        assert "CMD needs 4 entries, 3 free" in str(error), str(error)
        pieces = [(src.address + 16 * i, 16) for i in range(3)]
        error = await raises(RingFull, dev.submit([Job(Opcode.COPY, pieces, dst) for _ in range(3)]))
        assert "SRC needs 9 entries, 8 free" in str(error), str(error)
        assert dev.driver_counters["ring_full"] == 2 and dev.in_flight == 0
        for name in ("CMD", "SRC", "DST"):
            ring = dev.rings[name]
            assert bus.host_read(ring.buffer.address, ring.buffer.size) == bytes(ring.buffer.size), \
                f"a refused batch wrote the {name} ring"
        assert not await bus.wait_interrupt(2_000) and await dev.read("JOBS") == 0
        results = await dev.run([Job(Opcode.COPY, src, dst) for _ in range(3)])
        assert [r.status for r in results] == [ResultStatus.OK] * 3


async def check_master_abort(bus):
    """A job reading or writing an address nobody claims fails with MASTER_ABORT
    at that address and the output bytes written before it; the driver
    clears received_master_abort; the card goes on."""
    dev = await fresh_device(bus)
    rng = seeded_random(8)
    base, size = bus.mmio_window()
    assert not base <= UNCLAIMED_ADDRESS < base + size
    length = 1024
    async with Buffers(bus) as buffers:
        data = rng.randbytes(length)
        src, dst = buffers.filled(data), buffers.alloc(length)
        background = rng.randbytes(length)
        bus.host_write(dst.address, background)
        for copy_src, copy_dst in ((src.address, UNCLAIMED_ADDRESS), (UNCLAIMED_ADDRESS, dst.address)):
            error = await raises(JobFailed, dev.copy(copy_src, copy_dst, length))
            assert error.status is ResultStatus.MASTER_ABORT, str(error)
            assert error.address == UNCLAIMED_ADDRESS and error.bytes == 0, str(error)
            assert f"bus address {UNCLAIMED_ADDRESS:#010x}" in str(error), str(error)
            assert (await dev.config_status())["received_master_abort"] == 0, "driver left the bit set"
        assert_untouched(bus, dst, background, "a failed read-side copy")

        half = length // 2
        result = await run_one(dev, Job(Opcode.COPY, src, [(dst.address, half), (UNCLAIMED_ADDRESS, half)]))
        assert (result.status, result.address, result.bytes) == (ResultStatus.MASTER_ABORT, UNCLAIMED_ADDRESS, half), result
        assert bus.host_read(dst.address, half) == data[:half], "the piece before the failure is wrong"
    await copy_and_verify(dev, rng, 1024)


async def check_descriptor_bus_error_aborts_rings(bus):
    """A descriptor transfer that fails stops the rings (RING_STATUS.aborted,
    INT_STATUS.ring_error); collect() resets the card and raises RingAborted
    with the jobs in flight lost; the card then works."""
    dev = await fresh_device(bus)
    rng = seeded_random(9)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        await dev.write("RES_RING_BASE", UNCLAIMED_ADDRESS)     # the result slot read fails
        (tag,) = await dev.submit([Job(Opcode.COPY, src, dst)])
        error = await raises(RingAborted, dev.collect())
        assert error.status is ResultStatus.MASTER_ABORT, str(error)
        assert [(r.tag, r.status) for r in error.lost] == [(tag, DriverStatus.LOST_TO_RESET)], error.lost
        assert_untouched(bus, dst, background, "a job whose result slot could not be read")
    status = await dev.read_fields("RING_STATUS")
    assert status["aborted"] == 0, f"RING_STATUS {status} after the driver's reset"
    assert (await dev.read_fields("RES_RING_BASE"))["address"] == dev.rings["RES"].buffer.address
    assert (await dev.config_status())["received_master_abort"] == 0
    assert dev.driver_counters["ring_aborts"] == 1
    await copy_and_verify(dev, rng, 256)


# -- refused jobs ------------------------------------------------------------------

async def refused_then_good(dev, rng, job, status: ResultStatus, dst, background, what: str) -> None:
    """Run a job the card must refuse with ``status`` (no data moved), then a good copy."""
    result = await run_one(dev, job)
    assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
    assert result.bytes == 0, f"{what}: a refused job reports {result.bytes} bytes"
    assert_untouched(dev.bus, dst, background, what)
    await copy_and_verify(dev, rng, 64)


async def check_bad_descriptor(bus):
    """Unowned, zero-length, unaligned or too many segment descriptors give
    BAD_DESCRIPTOR; the rings stay in step (the next job is fine)."""
    dev = await fresh_device(bus)
    rng = seeded_random(10)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(128)), buffers.alloc(128)
        background = rng.randbytes(128)
        bus.host_write(dst.address, background)
        s, d = src.address, dst.address
        many = MAX_SEGMENTS + 1
        cases = {
            "no source segment (the next one is not owned)": Job(Opcode.COPY, [], (d, 64), length=64),
            "zero-length source segment": Job(Opcode.COPY, [(s, 0), (s, 64)], (d, 64), length=64),
            "unaligned source address": Job(Opcode.COPY, (s + 2, 64), (d, 64)),
            "unaligned destination address": Job(Opcode.COPY, (s, 64), (d + 1, 64)),
            "destination length not a multiple of 4": Job(Opcode.COPY, (s, 64), [(d, 6), (d + 8, 58)], length=64),
            "too many source segments": Job(Opcode.COPY, [(s + 4 * i, 4) for i in range(many)], (d, 4 * many)),
            "too many destination segments": Job(Opcode.COPY, (s, 4 * many), [(d + 4 * i, 4) for i in range(many)]),
        }
        for what, job in cases.items():
            await refused_then_good(dev, rng, job, ResultStatus.BAD_DESCRIPTOR, dst, background, what)
        error = await raises(JobFailed, dev.copy(s + 2, d, 64))
        assert error.status is ResultStatus.BAD_DESCRIPTOR and "segment descriptor" in str(error), str(error)


async def check_bad_length(bus):
    """Lengths that do not fit the job give BAD_LENGTH and move nothing."""
    dev = await fresh_device(bus)
    rng = seeded_random(11)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    mac_decode = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.DECODE, mac_key)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(256)), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        s, d = src.address, dst.address
        block = 16
        esp = ESP_HEADER + block
        cases = {
            "COPY length not a multiple of 4": Job(Opcode.COPY, (s, 8), (d, 8), length=6),
            "COPY length 0": Job(Opcode.COPY, (s, 8), (d, 8), length=0),
            "destination smaller than the output": Job(Opcode.COPY, (s, 64), (d, 32), length=64),
            "source segments shorter than the length": Job(Opcode.COPY, (s, 32), (d, 64), length=64),
            "cipher region not a whole number of blocks": Job(Opcode.ENCODE, (s, esp + 20), (d, 256),
                                                              skip=esp, cipher=cipher, mac=mac),
            "skip not a multiple of 4": Job(Opcode.ENCODE, (s, 40), (d, 256), skip=10, mac=mac),
            "no IV block before the payload": Job(Opcode.ENCODE, (s, ESP_HEADER + 32), (d, 256),
                                                  skip=ESP_HEADER, cipher=cipher),
            "skip beyond the packet": Job(Opcode.ENCODE, (s, 40), (d, 256), skip=48, mac=mac),
            "no room for the ICV": Job(Opcode.ENCODE, (s, esp + 32), (d, esp + 32), skip=esp, cipher=cipher, mac=mac),
            "DECODE shorter than its ICV": Job(Opcode.DECODE, (s, 8), (d, 256), mac=mac_decode),
            "HASH with a skip": Job(Opcode.HASH, (s, 64), (d, 256), skip=4, mac=mac),
            "HASH source shorter than the message": Job(Opcode.HASH, (s, 8), (d, 256), length=9, mac=mac),
            "HASH destination smaller than the ICV": Job(Opcode.HASH, (s, 64), (d, 8), mac=mac),
        }
        for what, job in cases.items():
            await refused_then_good(dev, rng, job, ResultStatus.BAD_LENGTH, dst, background, what)


async def check_bad_opcode(bus):
    """Unknown opcodes give BAD_OPCODE, ahead of any channel check."""
    dev = await fresh_device(bus)
    rng = seeded_random(12)
    known = {int(op) for op in Opcode}
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(rng.randbytes(64)), buffers.alloc(64)
        background = rng.randbytes(64)
        bus.host_write(dst.address, background)
        for opcode in sorted({0, max(known) + 1, (1 << CMD.CONTROL.opcode.width) - 1} - known):
            job = Job(opcode, src, dst, cipher=NO_CHANNEL - 1, mac=NO_CHANNEL - 2)
            await refused_then_good(dev, rng, job, ResultStatus.BAD_OPCODE, dst, background, f"opcode {opcode}")


async def check_channel_statuses(bus):
    """BAD_CHANNEL, CHANNEL_CLOSED and CHANNEL_MISMATCH, in the card's order,
    each followed by a good job."""
    dev = await fresh_device(bus)
    rng = seeded_random(13)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher, cipher_decode = await open_pair(dev, CipherAlg.AES128, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    spare = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    closed = spare.number
    await dev.close_channel(spare)
    packet, skip = esp_packet(rng, 16, 32)
    beyond = dev.identity.channels
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        encode = lambda **slots: Job(Opcode.ENCODE, src, dst, skip=skip, **slots)
        cases = [
            ("a closed channel", encode(cipher=closed, mac=mac), ResultStatus.CHANNEL_CLOSED),
            ("no channel for ENCODE", encode(), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel in the cipher slot", encode(cipher=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a cipher channel in the MAC slot", encode(cipher=cipher, mac=cipher), ResultStatus.CHANNEL_MISMATCH),
            ("a DECODE channel in an ENCODE job", encode(cipher=cipher_decode, mac=mac),
             ResultStatus.CHANNEL_MISMATCH),
            ("ENCODE channels in a DECODE job", Job(Opcode.DECODE, src, dst, skip=skip, cipher=cipher),
             ResultStatus.CHANNEL_MISMATCH),
            ("closed before mismatch", encode(cipher=mac, mac=closed), ResultStatus.CHANNEL_CLOSED),
            ("HASH without a MAC channel", Job(Opcode.HASH, src, dst), ResultStatus.CHANNEL_MISMATCH),
            ("HASH naming a cipher channel", Job(Opcode.HASH, src, dst, cipher=cipher, mac=mac),
             ResultStatus.CHANNEL_MISMATCH),
            ("HASH on a cipher channel", Job(Opcode.HASH, src, dst, mac=cipher), ResultStatus.CHANNEL_MISMATCH),
            ("HASH on a closed channel", Job(Opcode.HASH, src, dst, mac=closed), ResultStatus.CHANNEL_CLOSED),
        ]
        if beyond < NO_CHANNEL:
            cases += [("a channel beyond CHANNELS.count", encode(cipher=beyond), ResultStatus.BAD_CHANNEL),
                      ("bad channel before closed", encode(cipher=closed, mac=beyond), ResultStatus.BAD_CHANNEL)]
        for what, job, status in cases:
            result = await run_one(dev, job)
            assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
            assert_untouched(bus, dst, background, what)
            out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
            assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key), \
                f"the good job after '{what}' is wrong"


async def check_bad_context(bus):
    """An open channel whose context names an unknown algorithm or a bad ICV
    length gives BAD_CONTEXT (after the mismatch check); restored, it works."""
    dev = await fresh_device(bus)
    rng = seeded_random(14)
    key, mac_key = cipher_key(rng, CipherAlg.AES128), rng.randbytes(20)
    cipher = await dev.open_cipher_channel(CipherAlg.AES128, Direction.ENCODE, key)
    mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, Direction.ENCODE, mac_key)
    packet, skip = esp_packet(rng, 16, 32)
    config = CONTEXT.CONFIG
    good = {n: (await bus.mem_read(window_address(dev, "CONTEXT", n, config)))[0] for n in (cipher.number, mac.number)}
    unknown_cipher = max(set(range(1 << config.alg.width)) - {int(a) for a in CipherAlg})
    unknown_mac = max(set(range(1 << config.alg.width)) - {int(a) for a in MacAlg})
    digest = MAC_DIGEST_BYTES[MacAlg.HMAC_SHA1]
    cases = [(cipher, {"alg": 0}), (cipher, {"alg": unknown_cipher}), (mac, {"alg": unknown_mac}),
             (mac, {"icv_bytes": 6}), (mac, {"icv_bytes": 0}), (mac, {"icv_bytes": digest + 4})]
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        for channel, change in cases:
            address = window_address(dev, "CONTEXT", channel.number, config)
            await bus.mem_write(address, [config.encode(**{**config.decode(good[channel.number]), **change})])
            result = await run_one(dev, Job(Opcode.ENCODE, src, dst, skip=skip, cipher=cipher, mac=mac))
            assert result.status is ResultStatus.BAD_CONTEXT, f"channel {channel.number} {change}: {result.status!r}"
            if channel is mac:
                swapped = await run_one(dev, Job(Opcode.ENCODE, src, dst, skip=skip, cipher=mac))
                assert swapped.status is ResultStatus.CHANNEL_MISMATCH, "BAD_CONTEXT checked before the mismatch"
            assert_untouched(bus, dst, background, f"channel {channel.number} {change}")
            await bus.mem_write(address, [good[channel.number]])
            out = await dev.encode(packet, skip=skip, cipher=cipher, mac=mac)
            assert out == expected_esp(packet, skip, cipher, key, mac=mac, mac_key=mac_key)


# -- result ring and interrupts ------------------------------------------------------

async def check_result_ring_full_and_recovery(bus):
    """With result slots 2 and 3 not armed the card stops before the third job
    (RING_STATUS.result_full, nothing moved); re-armed, it waits for a kick,
    then finishes."""
    dev = await fresh_device(bus)
    rng = seeded_random(15)
    results_ring = dev.rings["RES"]
    for index in (2, 3):
        results_ring.write(index)                      # not armed
    async with Buffers(bus) as buffers:
        data = [rng.randbytes(512) for _ in range(4)]
        jobs = [Job(Opcode.COPY, buffers.filled(d), buffers.alloc(512)) for d in data]
        backgrounds = [rng.randbytes(512) for _ in jobs]
        for job, background in zip(jobs, backgrounds):
            bus.host_write(job.destination.address, background)
        await dev.submit(jobs)
        status = await poll(dev, "RING_STATUS", lambda f: f["result_full"])
        assert status["aborted"] == 0, status
        assert (await dev.read_fields("CMD_RING_INDEX"))["index"] == 2
        assert (await dev.read_fields("RES_RING_INDEX"))["index"] == 2
        assert await dev.read("JOBS") == 2
        assert (await dev.read_fields("INT_STATUS"))["result"] == 1, "the two results were not signalled"
        assert (await dev.read_fields("RING_STATUS"))["result_full"] == 1, "the card stopped waiting unkicked"
        for job, background in zip(jobs[2:], backgrounds[2:]):
            assert_untouched(bus, job.destination, background, "a job waiting for its result slot")
        for index in (2, 3):
            results_ring.arm(index)
        results = await dev.collect()
        assert [r.job for r in results] == jobs[:2], results
        assert not await bus.wait_interrupt(1_000), "the card went on without a kick"
        assert await dev.read("JOBS") == 2 and (await dev.read_fields("RING_STATUS"))["result_full"] == 1
        await dev.kick()
        while len(results) < 4:
            results += await dev.collect()
        assert [r.job for r in results] == jobs
        for result, job, d in zip(results, jobs, data):
            assert result.ok and bus.host_read(job.destination.address, 512) == d, result
    assert (await dev.read_fields("RING_STATUS"))["result_full"] == 0


async def check_coalescing_by_count(bus):
    """COALESCE.count = 3: two results raise no interrupt, the third does;
    count 0 acts as 1."""
    dev = await fresh_device(bus, coalesce_count=3)
    rng = seeded_random(16)
    assert await dev.read_fields("COALESCE") == {"count": 3, "timeout": 0}
    async with Buffers(bus) as buffers:
        jobs = [Job(Opcode.COPY, buffers.filled(rng.randbytes(64)), buffers.alloc(64)) for _ in range(3)]
        await dev.submit(jobs[:2])
        await poll(dev, "RES_RING_INDEX", lambda f: f["index"] == 2)
        assert not await bus.wait_interrupt(1_000), "INTA# after 2 results with COALESCE.count = 3"
        assert (await dev.read_fields("INT_STATUS"))["result"] == 0
        await dev.submit(jobs[2:])
        assert await bus.wait_interrupt(POLL_CLOCKS), "no INTA# after the third result"
        assert (await dev.read_fields("INT_STATUS"))["result"] == 1
        results = await dev.collect()
        assert [r.job for r in results] == jobs and all(r.ok for r in results)
        assert not bus.interrupt_asserted()
        await dev.set_coalescing(0, 0)
        (result,) = await dev.run([jobs[0]], timeout_clocks=POLL_CLOCKS)
        assert result.ok, "COALESCE.count = 0 did not act as 1"


async def check_coalescing_by_timeout(bus):
    """COALESCE.timeout: a lone result (count not reached) interrupts about
    ``timeout`` PCI clocks after it was written, not before."""
    timeout = 2_000
    slack = 64
    dev = await fresh_device(bus, coalesce_count=8, coalesce_timeout=timeout)
    rng = seeded_random(17)
    async with Buffers(bus) as buffers:
        job = Job(Opcode.COPY, buffers.filled(rng.randbytes(64)), buffers.alloc(64))
        await dev.submit([job])
        deadline = bus.clocks() + POLL_CLOCKS
        while True:
            before = bus.clocks()
            if (await dev.read_fields("RES_RING_INDEX"))["index"] == 1:
                seen = bus.clocks()
                break
            assert bus.clocks() < deadline, "the result was never written"
        assert not bus.interrupt_asserted()
        assert not await bus.wait_interrupt(max(before + timeout - slack - bus.clocks(), 0)), \
            f"INTA# earlier than {timeout} PCI clocks after the result"
        assert await bus.wait_interrupt(seen + timeout + slack - bus.clocks()), \
            f"no INTA# {timeout} PCI clocks after the result"
        (result,) = await dev.collect()
        assert result.job is job and result.ok


async def check_interrupt_disable(bus):
    """interrupt_disable keeps INTA# deasserted (the driver times out) while
    COMMAND_STATUS.interrupt_status shows the pending result."""
    dev = await fresh_device(bus)
    rng = seeded_random(18)
    length = 256
    async with Buffers(bus) as buffers:
        data = rng.randbytes(length)
        src, dst = buffers.filled(data), buffers.alloc(length)
        await dev.set_command(interrupt_disable=1)
        start = bus.clocks()
        error = await raises(CardTimeout, dev.run([Job(Opcode.COPY, src, dst)], timeout_clocks=2_000))
        assert bus.clocks() - start >= 2_000, "the driver gave up before its timeout"
        assert "2000 PCI clocks" in str(error), str(error)
        assert not bus.interrupt_asserted(), "INTA# asserted with interrupt_disable = 1"
        assert (await dev.config_status())["interrupt_status"] == 1
        assert await dev.read_fields("INT_STATUS") == {"result": 1, "ring_error": 0, "pk": 0}
        assert bus.host_read(dst.address, length) == data
        await dev.set_command(interrupt_disable=0)
        assert await bus.wait_interrupt(INTA_SETTLE_CLOCKS), "INTA# not asserted once re-enabled"
        (result,) = await dev.collect()
        assert result.ok and result.bytes == length
    assert not await bus.wait_interrupt(INTA_SETTLE_CLOCKS)
    assert (await dev.config_status())["interrupt_status"] == 0


async def check_memory_space_off(bus):
    """With memory_space = 0, or outside BAR0, memory accesses are master-aborted."""
    dev = await fresh_device(bus)
    await dev.write("SCRATCH", 0x0BAD_F00D)
    await raises(MasterAbort, bus.mem_read(dev.bar0 + BAR0.size))
    await dev.set_command(memory_space=0)
    await raises(MasterAbort, bus.mem_read(dev.bar0 + BAR0.IDENT.offset))
    await raises(MasterAbort, bus.mem_write(dev.bar0 + BAR0.SCRATCH.offset, [0]))
    await dev.set_command(memory_space=1)
    assert await dev.read("IDENT") == IDENTITY
    assert await dev.read("SCRATCH") == 0x0BAD_F00D, "a master-aborted write reached SCRATCH"


async def check_bus_master_off_holds_jobs(bus):
    """With COMMAND.bus_master = 0 the card starts no job; once it is 1
    again, a kick runs the waiting job."""
    dev = await fresh_device(bus)
    rng = seeded_random(19)
    async with Buffers(bus) as buffers:
        data = rng.randbytes(256)
        src, dst = buffers.filled(data), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        await dev.set_command(bus_master=0)
        await dev.submit([Job(Opcode.COPY, src, dst)])
        assert not await bus.wait_interrupt(2_000), "a job ran with bus_master = 0"
        assert await dev.read("JOBS") == 0 and (await dev.read_fields("RES_RING_INDEX"))["index"] == 0
        assert_untouched(bus, dst, background, "bus_master = 0")
        await dev.set_command(bus_master=1)
        await dev.kick()
        (result,) = await dev.collect()
        assert result.ok and bus.host_read(dst.address, 256) == data


# -- crypto ----------------------------------------------------------------------------
