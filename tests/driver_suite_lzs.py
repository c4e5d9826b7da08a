# Ref: docs/rings.md "Jobs"; ANSI X3.241-1994, RFC 2395
"""Driver-suite checks of one unit.

LZS compression and decompression jobs against the card's compressor model and the software
reference: round trips, hand-written, malformed and mutated streams, chained compression, limits and
counters.

Each ``check_<name>(bus)`` is one check of :data:`driver_suite.CHECKS`.
"""
from pacsim.sim.seed import seeded_random

from crypto_reference import cipher_reference, mac_reference
from test_lzs_reference import HAND_STREAMS, bitstream, corpus, mutate, outcome
from pacsim.contract.codes import (CIPHER_BLOCK_BYTES, COUNTER_KINDS, NO_CHANNEL, AlgUnit, CipherAlg, CipherMode,
                                   CompAlg, Direction, MacAlg, Opcode, ResultStatus)
from pacsim.contract.layouts import CMD, CONTEXT, RESULT
from pacsim.host.device import lzs_bound
from pacsim.host.errors import JobFailed
from pacsim.host.jobs import Job
from pacsim.reference.lzs import LzsBadOffset, LzsOverflow, LzsTruncated, decompress
from pacsim.reference.lzs import compress as lzs_compress
from pacsim.sim.lzs_model import hardware_compress
from driver_suite_support import (fresh_device, raises, window_address, poll, Buffers, run_one, cipher_key, close_all,
                                  assert_untouched, GUARD, ESP_HEADER)


STREAM_STATUS = {None: ResultStatus.OK, LzsBadOffset: ResultStatus.STREAM_BAD_OFFSET,
                 LzsTruncated: ResultStatus.STREAM_TRUNCATED, LzsOverflow: ResultStatus.OUTPUT_OVERFLOW}


def lzs_packets(rng, sizes, kinds=("text", "zeros", "random")) -> list:
    """Packets of ``sizes`` bytes, cycling through corpus ``kinds``."""
    return [corpus(rng, kinds[n % len(kinds)], size) for n, size in enumerate(sizes)]


async def open_comp_pair(dev) -> tuple:
    return (await dev.open_comp_channel(Direction.ENCODE), await dev.open_comp_channel(Direction.DECODE))


def lzs_job(opcode, buffers, data: bytes, destination, channel, **options) -> Job:
    """A COMPRESS/DECOMPRESS job of ``data`` (a buffer of whole dwords, junk
    after the data) into ``destination`` (segments)."""
    padded = -(-len(data) // 4) * 4 or 4
    source = buffers.filled(data + bytes([0xC3]) * (padded - len(data)))
    return Job(opcode, source, destination, length=len(data), comp=channel, **options)


async def check_lzs_round_trips(bus):
    """COMPRESS of 0..1500-byte packets (text, zeros, random) writes the
    card's compressor stream (sim/lzs_model.hardware_compress, bit for bit),
    which the software reference decodes to the packet; DECOMPRESS of the
    software compressor's streams gives the packets back; RESULT.BYTES is
    the exact output length, zero-padded to the dword, nothing written past
    it."""
    dev = await fresh_device(bus)
    rng = seeded_random(40)
    encoder, decoder = await open_comp_pair(dev)
    sizes = (0, 1, 2, 3, 4, 5, 7, 64, 257, 1000, 1500, 1499)
    packets = lzs_packets(rng, sizes)
    async with Buffers(bus) as buffers:
        jobs, places = [], []
        for packet in packets:
            room = lzs_bound(len(packet)) + 4
            destination = buffers.alloc(-(-room // 4) * 4 + GUARD)
            background = rng.randbytes(destination.size)
            bus.host_write(destination.address, background)
            jobs.append(lzs_job(Opcode.COMPRESS, buffers, packet, (destination.address, destination.size - GUARD),
                                encoder))
            places.append((destination, background))
        streams = []
        for packet, job, result, (destination, background) in zip(packets, jobs, await dev.run(jobs), places):
            what = f"COMPRESS of {len(packet)} bytes"
            expected = hardware_compress(packet)
            assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected OK, {len(expected)}"
            written = -(-len(expected) // 4) * 4
            out = bus.host_read(destination.address, destination.size)
            assert out[:len(expected)] == expected, f"{what}: not the card compressor's stream"
            assert out[len(expected):written] == bytes(written - len(expected)), f"{what}: padding not zero"
            assert out[written:] == background[written:], f"{what}: wrote past its output"
            assert decompress(out[:len(expected)], len(packet)) == packet, f"{what}: does not decode"
            streams.append(out[:len(expected)])
        for packet, stream in zip(packets, streams):
            if len(packet) >= 64 and not any(packet):
                assert len(stream) <= 8 + len(packet) // 24, f"{len(packet)} zeros compressed to {len(stream)} bytes"

        jobs = []
        for packet in packets:
            stream = lzs_compress(packet)
            destination = buffers.alloc(max(-(-len(packet) // 4) * 4, 4))
            jobs.append(lzs_job(Opcode.DECOMPRESS, buffers, stream, destination, decoder))
        for packet, job, result in zip(packets, jobs, await dev.run(jobs)):
            assert (result.status, result.bytes) == (ResultStatus.OK, len(packet)), \
                f"DECOMPRESS to {len(packet)} bytes: {result.status!r}, {result.bytes} bytes"
            (address, _), = job.destination_segments()
            assert bus.host_read(address, len(packet)) == packet, f"DECOMPRESS to {len(packet)} bytes"
    for packet in packets[6:9]:
        assert await dev.decompress(await dev.compress(packet, channel=encoder), channel=decoder,
                                    limit=len(packet)) == packet


async def check_lzs_hand_written_streams(bus):
    """DECOMPRESS of streams written by hand from the bitstream definition
    (literals, both offset forms, every length code, overlapping matches,
    the end marker with and without padding), also with junk after the end
    marker, in one batch; and scattered over 3 source and 3 destination
    segments."""
    dev = await fresh_device(bus)
    decoder = await dev.open_comp_channel(Direction.DECODE)
    cases = [(stream, expected) for stream, expected in HAND_STREAMS.values()]
    cases += [(stream + b"\xff\x00\x12", expected) for stream, expected in list(HAND_STREAMS.values())[:6]]
    async with Buffers(bus) as buffers:
        jobs = [lzs_job(Opcode.DECOMPRESS, buffers, stream, buffers.alloc(max(-(-len(expected) // 4) * 4, 4)),
                        decoder) for stream, expected in cases]
        for (stream, expected), job, result in zip(cases, jobs, await dev.run(jobs)):
            what = f"stream {stream.hex()}"
            assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected OK, {len(expected)}"
            (address, _), = job.destination_segments()
            assert bus.host_read(address, len(expected)) == expected, what
        stream, expected = HAND_STREAMS["11-bit offset 130"]
        source = buffers.filled(stream)
        destination = buffers.alloc(144)
        pieces = [(source.address, 8), (source.address + 8, 4), (source.address + 12, source.size - 12)]
        outs = [(destination.address, 4), (destination.address + 4, 64), (destination.address + 68, 76)]
        result = await run_one(dev, Job(Opcode.DECOMPRESS, pieces, outs, length=len(stream), comp=decoder))
        assert (result.status, result.bytes) == (ResultStatus.OK, len(expected)), result
        assert bus.host_read(destination.address, len(expected)) == expected, "scattered DECOMPRESS"


async def check_lzs_stream_errors(bus):
    """Malformed streams and small destinations: STREAM_BAD_OFFSET,
    STREAM_TRUNCATED, OUTPUT_OVERFLOW, each with the bytes decoded before the
    error written (the reference's LzsError.output, zero-padded to the
    dword) and nothing past the destination; COMPRESS into a destination too
    small writes what fits and reports OUTPUT_OVERFLOW; each counts as FAIL."""
    dev = await fresh_device(bus)
    rng = seeded_random(41)
    encoder, decoder = await open_comp_pair(dev)
    literals = " ".join(f"0 {b:08b}" for b in b"ABCDEFGH")
    run_of_100 = lzs_compress(bytes(100))
    cases = [                                            # (stream, destination bytes, error class)
        (bitstream("1 0 00000000000 00 1 1 0000000"), 16, LzsBadOffset),          # 11-bit offset 0
        (bitstream("0 01000001 1 1 0000010 00 1 1 0000000"), 16, LzsBadOffset),   # offset beyond output
        (bitstream(f"{literals} 1 0 00000001001 00 1 1 0000000"), 16, LzsBadOffset),
        (b"", 16, LzsTruncated),
        (bitstream(literals), 16, LzsTruncated),                                  # no end marker
        (bitstream("0 01000001 1 1 0000001 1111 1111 11"), 64, LzsTruncated),     # inside a length field
        (HAND_STREAMS["length 23"][0], 24, LzsOverflow),                          # 26 bytes into 24
        (run_of_100, 96, LzsOverflow),
        (HAND_STREAMS["literals"][0], 4, None),                                   # fits exactly: OK
    ]
    before = await dev.channel_counters(decoder)
    async with Buffers(bus) as buffers:
        for stream, room, error in cases:
            what = f"DECOMPRESS of {stream.hex() or 'nothing'} into {room} bytes"
            region = buffers.alloc(room + GUARD)
            background = rng.randbytes(region.size)
            bus.host_write(region.address, background)
            result = await run_one(dev, lzs_job(Opcode.DECOMPRESS, buffers, stream, (region.address, room), decoder))
            expected_error, output = outcome(stream, room)
            assert expected_error is error, f"{what}: the reference gives {expected_error}"
            status = STREAM_STATUS[error]
            assert (result.status, result.bytes) == (status, len(output)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; expected {status!r}, {len(output)}"
            written = -(-len(output) // 4) * 4
            out = bus.host_read(region.address, region.size)
            assert out[:len(output)] == output, f"{what}: the bytes before the error"
            assert out[len(output):written] == bytes(written - len(output)), f"{what}: padding not zero"
            assert out[written:] == background[written:], f"{what}: wrote past its output"
        failures = sum(error is not None for _, _, error in cases)
        after = await dev.channel_counters(decoder)
        assert (after["fail"] - before["fail"], after["good"] - before["good"]) == (failures, 1), \
            f"decoder counters {before} -> {after}"

        packet = rng.randbytes(200)
        stream = hardware_compress(packet)
        region = buffers.alloc(64 + GUARD)
        background = rng.randbytes(region.size)
        bus.host_write(region.address, background)
        result = await run_one(dev, lzs_job(Opcode.COMPRESS, buffers, packet, (region.address, 64), encoder))
        assert (result.status, result.bytes) == (ResultStatus.OUTPUT_OVERFLOW, 64), \
            f"COMPRESS of 200 random bytes into 64: {result.status!r}, {result.bytes} bytes"
        assert bus.host_read(region.address, region.size) == stream[:64] + background[64:], \
            "COMPRESS overflow: not the stream's first 64 bytes, or written past the destination"
        error = await raises(JobFailed, dev.compress(packet, channel=encoder, limit=len(packet)))
        assert error.status is ResultStatus.OUTPUT_OVERFLOW, error
        error = await raises(JobFailed, dev.decompress(bitstream(literals), channel=decoder, limit=100))
        assert error.status is ResultStatus.STREAM_TRUNCATED and error.bytes == 8, error
        for limit in (5, 7):        # the card writes 8 bytes into its 8-byte destination, then the stream ends
            error = await raises(JobFailed, dev.decompress(bitstream(literals), channel=decoder, limit=limit))
            assert error.status is ResultStatus.OUTPUT_OVERFLOW, f"limit {limit}: {error}"
        assert (await dev.channel_counters(encoder))["fail"] == 2


async def check_lzs_mutated_streams(bus):
    """Thirty-two random and mutated streams (bit flips, truncations, random
    bytes) DECOMPRESSed in one batch into small guarded destinations: each
    ends as the software reference says (OK or the stream error, the same
    bytes decoded), nothing is written past its output, and the card takes
    the next good job."""
    dev = await fresh_device(bus)
    rng = seeded_random(49)
    decoder = await dev.open_comp_channel(Direction.DECODE)
    streams = [mutate(rng, lzs_compress(corpus(rng, rng.choice(("text", "binary", "zeros")), rng.randrange(1, 300))))
               for _ in range(24)]
    streams += [rng.randbytes(rng.randrange(1, 64)) for _ in range(8)]
    async with Buffers(bus) as buffers:
        jobs, regions = [], []
        for stream in streams:
            room = 4 * rng.randrange(1, 80)
            region = buffers.alloc(room + GUARD)
            background = rng.randbytes(region.size)
            bus.host_write(region.address, background)
            jobs.append(lzs_job(Opcode.DECOMPRESS, buffers, stream, (region.address, room), decoder))
            regions.append((stream, room, region, background))
        results = await dev.run(jobs)
        errors = 0
        for index, ((stream, room, region, background), result) in enumerate(zip(regions, results)):
            error, output = outcome(stream, room)
            errors += error is not None
            what = f"mutated stream {index} ({len(stream)} bytes, {room}-byte destination)"
            assert (result.status, result.bytes) == (STREAM_STATUS[error], len(output)), \
                f"{what}: {result.status!r}, {result.bytes} bytes; the reference: {error}, {len(output)} bytes"
            written = -(-len(output) // 4) * 4
            out = bus.host_read(region.address, region.size)
            assert out[:len(output)] == output and out[written:] == background[written:], f"{what}: output"
        assert errors >= 16, f"only {errors} of {len(streams)} streams were malformed"
        packet = corpus(rng, "text", 300)
        assert await dev.decompress(lzs_compress(packet), channel=decoder, limit=300) == packet


async def check_chained_compression(bus):
    """ENCODE/DECODE with a compression channel (compress, encrypt, MAC /
    MAC check, decrypt, decompress in one job) for AES-128-CBC and 3DES
    with HMAC-SHA1-96, MAC only and cipher only, payloads of any byte
    length: the ENCODE output decrypts with ``cryptography`` to an LZS
    stream (zero-padded to the block) that the software reference decodes
    to the payload, and its ICV is HMAC over header + ciphertext; a DECODE
    of a packet built the same way by the references gives header +
    payload; a flipped bit is MAC_MISMATCH, a destination too small
    OUTPUT_OVERFLOW; the compression channel counts the jobs. At most
    three channels are open at a time (one direction's)."""
    dev = await fresh_device(bus)
    rng = seeded_random(50)
    for alg, use_cipher, use_mac in ((CipherAlg.AES128, True, True), (CipherAlg.TDES_INNER, True, True),
                                     (CipherAlg.AES128, False, True), (CipherAlg.AES128, True, False)):
        what = f"{alg.name if use_cipher else 'no cipher'}{' + HMAC-SHA1-96' if use_mac else ''} + LZS"
        key, mac_key = cipher_key(rng, alg), rng.randbytes(20)
        block = CIPHER_BLOCK_BYTES[alg] if use_cipher else 4
        icv = 12 if use_mac else 0
        cases = []
        for size in (0, 1, 37, 500, 1400):
            header = rng.randbytes(ESP_HEADER + (block if use_cipher else 0))
            cases.append((header, corpus(rng, rng.choice(("text", "html", "zeros")), size)))
        for direction in Direction:
            comp = await dev.open_comp_channel(direction)
            cipher = await dev.open_cipher_channel(alg, direction, key) if use_cipher else None
            mac = await dev.open_mac_channel(MacAlg.HMAC_SHA1, direction, mac_key) if use_mac else None
            before = await dev.channel_counters(comp)
            for header, payload in cases:
                skip, size = len(header), len(payload)
                if direction is Direction.ENCODE:
                    out = await dev.encode(header + payload, skip=skip, cipher=cipher, mac=mac, comp=comp)
                    body, tag = out[:len(out) - icv], out[len(out) - icv:]
                    assert body[:skip] == header and (len(body) - skip) % block == 0, f"{what}, {size} bytes: layout"
                    if use_mac:
                        assert tag == mac_reference(MacAlg.HMAC_SHA1, mac_key, body)[:12], f"{what}, {size}: ICV"
                    plain = body[skip:]
                    if use_cipher:
                        plain = cipher_reference(alg, CipherMode.CBC, key, header[-block:], plain, decrypt=True)
                    assert decompress(plain, size) == payload, f"{what}, {size} bytes: the stream does not decode"
                    continue
                stream = lzs_compress(payload)                  # a packet built by the references
                stream += bytes(-len(stream) % block)
                if use_cipher:
                    stream = cipher_reference(alg, CipherMode.CBC, key, header[-block:], stream)
                packet = header + stream
                if use_mac:
                    packet += mac_reference(MacAlg.HMAC_SHA1, mac_key, packet)[:12]
                assert await dev.decode(packet, skip=skip, cipher=cipher, mac=mac, comp=comp,
                                        limit=skip + size) == header + payload, f"{what}, {size} bytes: DECODE"
                if use_mac and size:
                    flipped = bytearray(packet)
                    flipped[skip] ^= 0x10
                    error = await raises(JobFailed, dev.decode(bytes(flipped), skip=skip, cipher=cipher, mac=mac,
                                                                comp=comp, limit=skip + size))
                    assert error.status is ResultStatus.MAC_MISMATCH, f"{what}: {error}"
            after = await dev.channel_counters(comp)
            assert after["good"] - before["good"] == len(cases), f"{what}: compression counters {before} -> {after}"
            if direction is Direction.ENCODE:
                async with Buffers(bus) as buffers:
                    header = cases[-1][0]
                    data = header + rng.randbytes(400)
                    job = Job(Opcode.ENCODE, buffers.filled(data), buffers.alloc(64), length=len(data),
                              skip=len(header), cipher=cipher, mac=mac, comp=comp)
                    result = await run_one(dev, job)
                    assert (result.status, result.bytes) == (ResultStatus.OUTPUT_OVERFLOW, 64), f"{what}: {result}"
            await close_all(dev)


async def check_lzs_validation(bus):
    """COMPRESS/DECOMPRESS validation in the card's order (BAD_OPCODE,
    BAD_CHANNEL, CHANNEL_CLOSED, CHANNEL_MISMATCH, BAD_CONTEXT, BAD_LENGTH);
    only the compression slot is used (a cipher or MAC channel named is a
    mismatch); refused jobs write nothing; other opcodes ignore the
    compression slot; RESULT echoes it."""
    dev = await fresh_device(bus)
    rng = seeded_random(42)
    encoder, decoder = await open_comp_pair(dev)
    mac = await dev.open_mac_channel(MacAlg.SHA1, Direction.ENCODE)
    spare = await dev.open_comp_channel(Direction.ENCODE)
    closed = spare.number
    await dev.close_channel(spare)
    beyond = dev.identity.channels
    packet = corpus(rng, "text", 100)
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packet), buffers.alloc(256)
        background = rng.randbytes(256)
        bus.host_write(dst.address, background)
        job = lambda opcode=Opcode.COMPRESS, **slots: Job(opcode, src, dst, length=len(packet), **slots)
        cases = [
            ("no compression channel", job(), ResultStatus.CHANNEL_MISMATCH),
            ("a DECODE channel for COMPRESS", job(comp=decoder), ResultStatus.CHANNEL_MISMATCH),
            ("an ENCODE channel for DECOMPRESS", job(Opcode.DECOMPRESS, comp=encoder), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel in the compression slot", job(comp=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a cipher-slot channel named", job(comp=encoder, cipher=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a MAC channel named", job(comp=encoder, mac=mac), ResultStatus.CHANNEL_MISMATCH),
            ("a compression channel in the MAC slot of HASH", job(Opcode.HASH, mac=encoder),
             ResultStatus.CHANNEL_MISMATCH),
            ("a closed compression channel", job(comp=closed), ResultStatus.CHANNEL_CLOSED),
            ("closed before mismatch", job(comp=closed, cipher=mac), ResultStatus.CHANNEL_CLOSED),
            ("closed before bad length", job(comp=closed, skip=4), ResultStatus.CHANNEL_CLOSED),
            ("mismatch before bad length", job(comp=decoder, skip=4), ResultStatus.CHANNEL_MISMATCH),
            ("a skip", job(comp=encoder, skip=4), ResultStatus.BAD_LENGTH),
            ("source shorter than length", Job(Opcode.COMPRESS, (src.address, 96), dst, length=100, comp=encoder),
             ResultStatus.BAD_LENGTH),
            ("an unknown opcode", job((1 << CMD.CONTROL.opcode.width) - 1, comp=encoder), ResultStatus.BAD_OPCODE),
        ]
        if beyond < NO_CHANNEL:
            cases += [("a channel beyond CHANNELS.count", job(comp=beyond), ResultStatus.BAD_CHANNEL),
                      ("bad channel before bad length", job(Opcode.DECOMPRESS, comp=beyond, skip=4),
                       ResultStatus.BAD_CHANNEL)]
        for what, refused, status in cases:
            result = await run_one(dev, refused)
            assert result.status is status, f"{what}: {result.status!r}; expected {status!r}"
            assert_untouched(bus, dst, background, what)

        config = CONTEXT.CONFIG
        address = window_address(dev, "CONTEXT", encoder.number, config)
        (good,) = await bus.mem_read(address)
        unknown = max(set(range(1 << config.alg.width)) - {int(a) for a in CompAlg})
        for alg in (0, unknown):
            await bus.mem_write(address, [config.encode(**{**config.decode(good), "alg": alg})])
            result = await run_one(dev, job(comp=encoder, skip=4))
            assert result.status is ResultStatus.BAD_CONTEXT, f"compression alg {alg}: {result.status!r}"
        await bus.mem_write(address, [good])
        assert await dev.compress(packet, channel=encoder) == hardware_compress(packet)

        digest = await run_one(dev, Job(Opcode.HASH, src, buffers.alloc(32), length=len(packet), mac=mac,
                                        comp=decoder))
        assert digest.status is ResultStatus.OK, f"HASH with a compression slot: {digest.status!r}"
        copied = await run_one(dev, Job(Opcode.COPY, src, buffers.alloc(128), comp=closed))
        assert copied.status is ResultStatus.OK, f"COPY with a compression slot: {copied.status!r}"
        enabled = await dev.read("INT_ENABLE")
        await dev.write("INT_ENABLE", 0)
        slot = dev.rings["RES"].head
        await dev.submit([Job(Opcode.COPY, src, buffers.alloc(128), comp=encoder)])
        await poll(dev, "INT_STATUS", lambda f: f["result"])
        echo = RESULT.BYTES.decode(dev.rings["RES"].read(slot)["BYTES"])
        assert echo == {"bytes": len(packet), "comp_channel": encoder.number}, f"RESULT.BYTES of a COPY: {echo}"
        await dev.write("INT_ENABLE", enabled)
        (result,) = await dev.collect()
        assert result.ok, result


async def check_lzs_counters(bus):
    """COMPRESS counts as an encode, DECOMPRESS as a decode, on the
    compression channel (BYTES += length of good jobs) and on AlgUnit.LZS:
    good, fail (stream errors, overflow) and discard (refused)."""
    dev = await fresh_device(bus)
    rng = seeded_random(43)
    encoder, decoder = await open_comp_pair(dev)
    channels = {encoder.number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0),
                decoder.number: dict.fromkeys(("good", "fail", "discard", "bytes"), 0)}
    unit = dict.fromkeys(COUNTER_KINDS, 0)
    before = await dev.read("JOBS")
    packets = lzs_packets(rng, (30, 0, 700))
    for packet in packets:
        stream = await dev.compress(packet, channel=encoder)
        assert await dev.decompress(stream, channel=decoder, limit=len(packet)) == packet
        channels[encoder.number]["good"] += 1
        channels[decoder.number]["good"] += 1
        channels[encoder.number]["bytes"] += len(packet)
        channels[decoder.number]["bytes"] += len(stream)
        unit["encode_good"] += 1
        unit["decode_good"] += 1
    await raises(JobFailed, dev.compress(rng.randbytes(100), channel=encoder, limit=64))
    await raises(JobFailed, dev.decompress(b"\x00", channel=decoder, limit=16))
    for channel, kind in ((encoder, "encode"), (decoder, "decode")):
        channels[channel.number]["fail"] += 1
        unit[f"{kind}_fail"] += 1
    async with Buffers(bus) as buffers:
        src, dst = buffers.filled(packets[0]), buffers.alloc(64)
        for opcode, channel, kind in ((Opcode.COMPRESS, encoder, "encode"), (Opcode.DECOMPRESS, decoder, "decode"),
                                      (Opcode.DECOMPRESS, encoder, "decode")):
            refused = await run_one(dev, Job(opcode, src, dst, length=4, skip=4 if channel is not encoder
                                             or opcode is Opcode.COMPRESS else 0, comp=channel))
            assert refused.status in (ResultStatus.BAD_LENGTH, ResultStatus.CHANNEL_MISMATCH), refused
            channels[channel.number]["discard"] += 1
            unit[f"{kind}_discard"] += 1
    for number, expected in channels.items():
        assert await dev.channel_counters(number) == expected, f"channel {number} counters"
    counters = await dev.alg_counters()
    assert counters[AlgUnit.LZS] == unit, f"LZS unit counters {counters[AlgUnit.LZS]}; expected {unit}"
    assert not any(any(c.values()) for u, c in counters.items() if u is not AlgUnit.LZS), counters
    assert await dev.read("JOBS") - before == 2 * len(packets) + 2 + 3


# -- public-key unit ---------------------------------------------------------------------------
