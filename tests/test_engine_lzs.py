"""The LZS engines (``hdl/engines/lzs_compress.py``, ``lzs_decompress.py``)
in Amaranth's simulator, against the software reference ``pacsim.reference.lzs``.

- Compressor: its bitstream decodes (by the reference) to the input, and it
  is bit-for-bit the output of :func:`pacsim.sim.lzs_model.hardware_compress`,
  the Python model of the one-candidate encoder the module doc describes
  (which the behavioural card model uses too); its ratio beside
  the reference's greedy search is printed, not asserted.
- Decompressor: the reference's streams, hand-written streams and malformed
  streams give the reference's outcome: the same error class (or OK) and the
  same bytes (``LzsError.output`` on an error).
- Both: random valid/ready stalls on both streams, a stray ``start`` while
  busy (ignored), exactly ceil(length / 4) input words taken (junk words
  offered afterwards are refused), output held until taken, and a patience
  limit so that nothing hangs.
"""
import random
from dataclasses import dataclass

import pytest
from amaranth.sim import Simulator
from pacsim.hdl.engines.lzs_compress import LzsCompressor
from pacsim.hdl.engines.lzs_decompress import LzsDecompressor, LzsStatus
from pacsim.reference.lzs import WINDOW, LzsBadOffset, LzsOverflow, LzsTruncated, compress, decompress
from pacsim.sim.lzs_model import compress_clocks, decompress_clocks, hardware_compress
from test_lzs_reference import (
    HAND_STREAMS,
    KINDS,
    bitstream,
    corpus,
    malformed_streams,
    outcome,
)

PERIOD = 1 / 33e6
PATIENCE = 3000     # clocks without a handshake before giving up (a table wipe is 1024)
STATUS_ERROR = {LzsStatus.OK: None, LzsStatus.BAD_OFFSET: LzsBadOffset,
                LzsStatus.TRUNCATED: LzsTruncated, LzsStatus.OVERFLOW: LzsOverflow}


# --- driving an engine ----------------------------------------------------------------

@dataclass
class Job:
    stream: bytes           # the bytes sent on `i`
    ports: dict             # values set with `start` (`length` is added)


@dataclass
class Result:
    output: bytes           # every `o` word, 4 bytes each
    out_bytes: int
    status: int
    clocks: int             # `start` to `done`
    words: int              # `i` words taken


def words_of(stream: bytes, rng: random.Random):
    """The ``i`` words of ``stream``, junk in the unused bytes of the last one."""
    tail = rng.randbytes(-len(stream) % 4)
    return [int.from_bytes((stream + tail)[k:k + 4], "little") for k in range(0, len(stream), 4)]


def run_jobs(dut, jobs, *, seed, p_in=0.3, p_out=0.3, stray_start=True):
    """Run ``jobs`` back to back through ``dut`` in one simulation: input words
    offered with probability ``1 - p_in`` per clock (junk words after the
    last one), output ready with probability ``1 - p_out``."""
    rng = random.Random(seed)
    results = []

    async def testbench(ctx):
        for job in jobs:
            words = words_of(job.stream, rng)
            assert not ctx.get(dut.busy)
            for port, value in {"length": len(job.stream), **job.ports}.items():
                ctx.set(getattr(dut, port), value)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            for port in ("length", *job.ports):
                ctx.set(getattr(dut, port), rng.getrandbits(24))
            assert ctx.get(dut.busy) and not ctx.get(dut.done)
            taken, output, clocks, quiet, held = 0, [], 1, 0, None
            stray_at = rng.randrange(1, 2 + len(words) * 3) if stray_start else -1
            while True:
                more = taken < len(words)
                offer = rng.random() >= p_in
                ctx.set(dut.i.valid, offer)
                ctx.set(dut.i.payload, words[taken] if more else rng.getrandbits(32))
                ready = rng.random() >= p_out
                ctx.set(dut.o.ready, ready)
                ctx.set(dut.start, clocks == stray_at and ctx.get(dut.busy))   # must be ignored
                _, _, i_ready, o_valid, o_payload, done = await ctx.tick().sample(
                    dut.i.ready, dut.o.valid, dut.o.payload, dut.done)
                clocks += 1
                quiet += 1
                if held is not None:
                    assert o_valid and o_payload == held, "o changed or dropped before it was taken"
                held = None
                if offer and i_ready:
                    assert more, f"took input word {taken + 1} of a {len(words)}-word stream"
                    taken, quiet = taken + 1, 0
                if o_valid:
                    if ready:
                        output.append(o_payload)
                        quiet = 0
                    else:
                        held = o_payload
                if done:
                    break
                assert quiet < PATIENCE, f"no progress in {PATIENCE} clocks"
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.o.ready, 0)
            ctx.set(dut.start, 0)
            assert not ctx.get(dut.busy)
            status = ctx.get(dut.status) if hasattr(dut, "status") else 0
            results.append(Result(b"".join(w.to_bytes(4, "little") for w in output),
                                  ctx.get(dut.out_bytes), status, clocks, taken))
            for _ in range(rng.randrange(3)):
                await ctx.tick()
                assert ctx.get(dut.done)

    sim = Simulator(dut)
    sim.add_clock(PERIOD)
    sim.add_testbench(testbench)
    sim.run()
    return results


def check_output_words(result):
    """``out_bytes`` bytes in ceil(out_bytes / 4) words, zero-padded."""
    assert len(result.output) == 4 * -(-result.out_bytes // 4)
    assert not any(result.output[result.out_bytes:])


# --- compressor -----------------------------------------------------------------------

def check_compressed(packets, results, hash_bits=9):
    for packet, result in zip(packets, results):
        assert result.words == -(-len(packet) // 4)
        check_output_words(result)
        stream = result.output[:result.out_bytes]
        assert decompress(stream, len(packet)) == packet, len(packet)
        assert stream == hardware_compress(packet, hash_bits), len(packet)


def test_compressor_round_trip():
    rng = random.Random(10)
    lengths = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] + [rng.randint(12, 600) for _ in range(48)]
    packets = [corpus(rng, KINDS[n % len(KINDS)], size) for n, size in enumerate(lengths)]
    packets.append(b"ab" * 150)     # long overlapping match: many 1111 nibbles
    dut = LzsCompressor()
    results = run_jobs(dut, [Job(p, {}) for p in packets], seed=11)
    check_compressed(packets, results)


def test_compressor_table_wipes():
    """With 12-bit positions the table is wiped every few packets (and first):
    the wipe costs 2**hash_bits clocks and the output stays right."""
    rng = random.Random(12)
    packets = [corpus(rng, ("text", "html", "binary")[n % 3], rng.randint(300, 600)) for n in range(24)]
    dut = LzsCompressor(hash_bits=8, position_bits=12)
    results = run_jobs(dut, [Job(p, {}) for p in packets], seed=13, p_in=0.1, p_out=0.1)
    check_compressed(packets, results, hash_bits=8)
    position, wiped = 2 ** 12 - 1, []
    for packet in packets:
        wiped.append(position + len(packet) >= 2 ** 12 - 1)
        position = 1 + len(packet) if wiped[-1] else position + len(packet)
    assert wiped[0] and 3 <= sum(wiped) < len(packets)
    for flag, packet, result in zip(wiped, packets, results):
        assert (result.clocks > len(packet) + dut.wipe_clocks) == flag


def test_compressor_window_and_long_matches():
    rng = random.Random(14)
    head = rng.randbytes(8)
    packets = [head + bytes(WINDOW - 8) + head,          # offset 2047: a match
               head + bytes(WINDOW - 7) + head,          # offset 2048: literals
               bytes(700), rng.randbytes(3) * 200]
    dut = LzsCompressor()
    results = run_jobs(dut, [Job(p, {}) for p in packets], seed=15, p_in=0.05, p_out=0.05)
    check_compressed(packets, results)
    assert results[0].out_bytes + 5 <= results[1].out_bytes     # 21 bits against 72


def full_rate_clocks(dut, packet, ports=None):
    """Clocks from ``start`` to ``done`` with input offered every clock and the
    output always ready (after a first empty job, which does any wipe)."""
    jobs = [Job(b"", dict(ports or {})), Job(packet, dict(ports or {}))]
    results = run_jobs(dut, jobs, seed=0, p_in=0, p_out=0, stray_start=False)
    return results[1]


@pytest.mark.parametrize("kind", ["text", "random", "zeros"])
def test_compressor_throughput(kind):
    packet = corpus(random.Random(16), kind, 1000)
    dut = LzsCompressor()
    result = full_rate_clocks(dut, packet)
    words_out = -(-result.out_bytes // 4)
    print(f"{kind}: {len(packet)} bytes in {result.clocks} clocks "
          f"({result.clocks / len(packet):.3f} clocks/byte), {result.out_bytes} bytes out")
    assert result.clocks <= dut.clocks_per_byte * len(packet) + 9
    assert words_out == len(result.output) // 4


def test_compressor_ratio_against_software():
    """Printed for the record: the single-candidate hardware output beside the
    greedy software search and zlib (only sanity is asserted)."""
    rng = random.Random(17)
    rows = {}
    for kind in ("text", "html", "binary"):
        packets = [corpus(rng, kind, rng.randint(500, 1500)) for _ in range(20)]
        total = sum(map(len, packets))
        rows[kind] = (round(sum(len(hardware_compress(p)) for p in packets) / total, 3),
                      round(sum(len(compress(p)) for p in packets) / total, 3))
    print("output/input (hardware, software):", rows)
    for hardware, software in rows.values():
        assert software <= hardware < 1.3 * software


# --- decompressor -----------------------------------------------------------------------

def decompress_jobs(cases, *, seed, **kwargs):
    """``cases`` = ``[(stream, limit)]``; checks every outcome against the
    reference and returns the results."""
    dut = LzsDecompressor()
    results = run_jobs(dut, [Job(s, {"limit": limit}) for s, limit in cases], seed=seed, **kwargs)
    for (stream, limit), result in zip(cases, results):
        error, expected = outcome(stream, limit)
        where = f"stream {stream.hex()} limit {limit}"
        assert result.words == -(-len(stream) // 4), where
        check_output_words(result)
        assert result.out_bytes <= limit, where
        assert STATUS_ERROR[LzsStatus(result.status)] is error, where
        assert result.output[:result.out_bytes] == expected, where
    return results


def test_decompressor_round_trip():
    rng = random.Random(20)
    lengths = [0, 1, 2, 3, 4, 5, 6, 7] + [rng.randint(8, 600) for _ in range(40)]
    packets = [corpus(rng, KINDS[n % len(KINDS)], size) for n, size in enumerate(lengths)]
    packets += [b"ab" * 150, bytes(600)]
    cases = [(compress(p), len(p) + rng.choice((0, 0, 7))) for p in packets]
    results = decompress_jobs(cases, seed=21)
    assert all(r.status == LzsStatus.OK for r in results)


def test_decompressor_hand_written_streams():
    cases = [(stream, len(expected)) for stream, expected in HAND_STREAMS.values()]
    cases += [(stream + b"\xff\x00\x12", len(expected) + 3) for stream, expected in HAND_STREAMS.values()]
    results = decompress_jobs(cases, seed=22)
    assert all(r.status == LzsStatus.OK for r in results)


def test_decompressor_crafted_errors():
    lit = " ".join(f"0 {b:08b}" for b in b"ABCDEFGH")
    cases = [
        (b"", 10),                                                      # truncated at once
        (bitstream("1 0 00000000000 00 1 1 0000000"), 10),              # 11-bit offset 0
        (bitstream("0 01000001 1 1 0000010 00 1 1 0000000"), 10),       # offset beyond output
        (bitstream("0 01000001 1 0 00000000010 00 1 1 0000000"), 10),
        (bitstream(lit), 100),                                          # no end marker
        (bitstream("0 01000001 0 010000"), 100),                        # literal cut short
        (bitstream("0 01000001 1 1 0000001 1111 1111 1111 11"), 100),   # nibbles cut short
        (HAND_STREAMS["length 23"][0], 25),                             # match over the limit
        (HAND_STREAMS["literals"][0], 0), (HAND_STREAMS["literals"][0], 1),
        (HAND_STREAMS["length 53"][0], 56), (HAND_STREAMS["length 53"][0], 55),
        (bitstream(f"0 01000001 1 1 0000001 1111 {'1111 ' * 300} 0000 1 1 0000000"), 4000),
        (bitstream(f"0 01000001 1 1 0000001 1111 {'1111 ' * 300}"), 8000),
        (compress(bytes(100)), 99),
    ]
    results = decompress_jobs(cases, seed=23)
    assert {LzsStatus(r.status) for r in results} == set(LzsStatus)


def test_decompressor_malformed_streams():
    cases = malformed_streams(random.Random(24), 400, max_size=200)
    results = decompress_jobs(cases, seed=25, p_in=0.2, p_out=0.2)
    seen = {LzsStatus(r.status) for r in results}
    assert seen == set(LzsStatus), seen


def test_decompressor_throughput():
    dut = LzsDecompressor()
    literals = random.Random(26).randbytes(400)
    result = full_rate_clocks(dut, compress(literals), {"limit": 400})
    assert result.out_bytes == 400
    print(f"literals: {result.clocks} clocks for 400 bytes")
    assert result.clocks <= 400 * dut.clocks_per_literal + 8
    dut = LzsDecompressor()
    run = compress(bytes(1000))                 # a literal and one long match
    result = full_rate_clocks(dut, run, {"limit": 1000})
    print(f"run: {result.clocks} clocks for 1000 bytes")
    assert result.clocks <= 1000 + dut.match_overhead + (1000 - 22) // 15 + 10


def test_decompressor_match_overhead():
    """Ten more matches of 4 (of 8) cost ten times 4 + ``match_overhead``
    (8 + ``match_overhead`` + 1 for the nibble) clocks."""
    def stream(count, length_bits):             # "ab", then matches at offset 2
        return bitstream("0 01100001 0 01100010 " + f"1 1 0000010 {length_bits} " * count
                         + "1 1 0000000")
    for length, bits, extra in ((4, "10", 0), (8, "1111 0000", 1)):
        clocks = [full_rate_clocks(LzsDecompressor(), stream(k, bits), {"limit": 1000}).clocks
                  for k in (10, 20)]
        assert clocks[1] - clocks[0] == 10 * (length + LzsDecompressor.match_overhead + extra)


@pytest.mark.slow
def test_compressor_to_decompressor_sweep():
    """Longer sweep: every length 0..80 and some up to 1500, through both engines."""
    rng = random.Random(30)
    packets = [corpus(rng, KINDS[n % len(KINDS)], n) for n in range(81)]
    packets += [corpus(rng, KINDS[n % len(KINDS)], rng.randint(600, 1500)) for n in range(12)]
    dut = LzsCompressor()
    results = run_jobs(dut, [Job(p, {}) for p in packets], seed=31)
    check_compressed(packets, results)
    streams = [r.output[:r.out_bytes] for r in results]
    decompress_jobs([(s, len(p)) for s, p in zip(streams, packets)], seed=32)


def test_decompressor_back_pressure_and_starvation():
    """Output mostly refused (copies wait with the history byte held), then
    input mostly missing (the parser waits for bits)."""
    rng = random.Random(27)
    packets = [corpus(rng, kind, rng.randint(50, 300)) for kind in KINDS] + [b"ab" * 60]
    cases = [(compress(p), len(p)) for p in packets]
    decompress_jobs(cases, seed=28, p_in=0.0, p_out=0.85, stray_start=False)
    decompress_jobs(cases, seed=29, p_in=0.85, p_out=0.0)


def test_hardware_streams_through_the_decompressor():
    """The compressor's own bitstreams (not the reference's) decode in the
    decompressor."""
    rng = random.Random(33)
    packets = [corpus(rng, KINDS[n % len(KINDS)], rng.randint(0, 400)) for n in range(12)]
    decompress_jobs([(hardware_compress(p), len(p)) for p in packets], seed=34)


def test_model_clock_estimates_follow_the_engines():
    """The behavioural model's LZS timing (sim/lzs_model.compress_clocks,
    decompress_clocks) is within a few clocks of the engines' measured
    ``start`` to ``done`` at full rate."""
    rng = random.Random(35)
    for packet in (corpus(rng, "text", 600), bytes(900), rng.randbytes(300), b"ab" * 150):
        measured = full_rate_clocks(LzsCompressor(), packet).clocks
        assert abs(compress_clocks(len(packet)) - measured) <= 4, (len(packet), measured)
        stream = compress(packet)
        measured = full_rate_clocks(LzsDecompressor(), stream, {"limit": len(packet)}).clocks
        estimate = decompress_clocks(stream)
        assert abs(estimate - measured) <= 4, (len(packet), estimate, measured)
