"""SHA-1 engine: the compression core and HashUnit padding, in Amaranth's simulator.

Expected values come only from the NIST CAVP files in ``cryptography_vectors``
and from ``hashlib``; the Python reference compression used for core-level
checks is itself checked against ``hashlib`` first.

The stream helpers here are shared with ``test_engine_md5`` and
``test_engine_hmac``.
"""
import hashlib
import random

import cryptography_vectors
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from pacsim.hdl.engines.hash_unit import HashUnit
from pacsim.hdl.engines.sha1 import Sha1Core
from pacsim.reference.digests import MD5_IV, SHA1_IV, md5_compress, sha1_compress

PERIOD = 1 / 33e6
PATIENCE = 1000     # clocks without progress before a testbench gives up (no hangs)
IVS = {"sha1": SHA1_IV, "md5": MD5_IV}
COMPRESS = {"sha1": sha1_compress, "md5": md5_compress}
LENGTH_ORDER = {"sha1": "big", "md5": "little"}


# --- shared helpers -----------------------------------------------------------

def load_vectors(name):
    """The ``Len``/``Msg``/``MD`` (and ``Key``) records of a vector file, as
    dicts of strings; a record ends at its ``MD`` line."""
    records, record = [], {}
    with cryptography_vectors.open_vector_file(name, "r") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", "[")):
                continue
            key, _, value = line.partition("=")
            record[key.strip()] = value.strip()
            if key.strip() == "MD":
                records.append(record)
                record = {}
    assert records, name
    return records


def vector_messages(name):
    """``[(message, digest_int)]`` of a hash vector file, byte-aligned lengths only."""
    out = []
    for rec in load_vectors(name):
        bits = int(rec["Len"])
        if bits % 8:
            continue
        out.append((bytes.fromhex(rec["Msg"])[:bits // 8], int(rec["MD"], 16)))
    return out


def message_words(msg, rng):
    """The word-stream payloads of ``msg``, with random don't-care content: junk
    in the unused bytes of the last word, random ``bytes`` on non-last words,
    5..7 instead of 4 in a full last word, and sometimes an extra empty last
    word (``bytes`` = 0) after a message that ends on a word boundary."""
    chunks = [msg[k:k + 4] for k in range(0, len(msg), 4)] or [b""]
    if len(chunks[-1]) == 4 and rng.random() < 0.3:
        chunks.append(b"")
    words = []
    for k, chunk in enumerate(chunks):
        last = k == len(chunks) - 1
        junk = rng.randbytes(4 - len(chunk))
        count = len(chunk) if not last or len(chunk) < 4 else rng.choice((4, 4, 5, 6, 7))
        words.append({"data": int.from_bytes(chunk + junk, "little"), "last": int(last),
                      "bytes": count if last else rng.randrange(8)})
    return words


async def wait_until(ctx, condition):
    """Tick until ``condition`` is sampled high at an edge (at most ``PATIENCE`` clocks)."""
    for _ in range(PATIENCE):
        _, _, done = await ctx.tick().sample(condition)
        if done:
            return
    raise AssertionError(f"no progress in {PATIENCE} clocks")


async def send(ctx, port, items, rng, p_gap):
    """Offer ``items`` on stream ``port``, with idle clocks before each item with
    probability ``p_gap`` (repeatedly); valid stays high until accepted."""
    for item in items:
        while rng.random() < p_gap:
            ctx.set(port.valid, 0)
            await ctx.tick()
        ctx.set(port.payload, item)
        ctx.set(port.valid, 1)
        await wait_until(ctx, port.ready)
    ctx.set(port.valid, 0)


async def receive(ctx, port, rng, p_ready):
    """Take one item from stream ``port``, ready high with probability ``p_ready``
    per clock; checks that valid and payload hold while not taken."""
    held = None
    for _ in range(PATIENCE):
        ready = rng.random() < p_ready
        ctx.set(port.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(port.valid, port.payload)
        if held is not None:
            assert valid and payload == held, "output changed or dropped before it was taken"
        if valid and ready:
            ctx.set(port.ready, 0)
            return payload
        held = payload if valid else None
    raise AssertionError(f"no output in {PATIENCE} clocks")


def run(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(PERIOD)
    sim.add_testbench(testbench)
    sim.run()


def pad(algorithm, msg, total_bytes=None):
    """``msg`` with the algorithm's padding for a total length of ``total_bytes``
    (default ``len(msg)``)."""
    bits = 8 * (len(msg) if total_bytes is None else total_bytes)
    msg = msg + b"\x80"
    msg += b"\0" * ((56 - len(msg)) % 64)
    return msg + (bits % 2**64).to_bytes(8, LENGTH_ORDER[algorithm])


def digest_of_state(algorithm, state):
    """The digest bytes (packed big-endian) of a packed chaining state."""
    if algorithm == "sha1":
        return state
    words = [(state >> (32 * (3 - k))) & 0xFFFFFFFF for k in range(4)]
    return int.from_bytes(b"".join(w.to_bytes(4, "little") for w in words), "big")


def reference_hash(algorithm, msg, state=None, prefix=0):
    """Hash by the Python reference compression, from ``state`` with ``prefix``
    bytes already absorbed."""
    state = IVS[algorithm] if state is None else state
    data = pad(algorithm, msg, prefix + len(msg))
    for k in range(0, len(data), 64):
        state = COMPRESS[algorithm](state, data[k:k + 64])
    return digest_of_state(algorithm, state)


def hash_unit_run(algorithm, jobs, *, seed, p_gap=0.3, p_ready=0.5, stray_start=False):
    """Run ``jobs`` = ``[(msg, iv, prefix)]`` through one HashUnit in one simulation;
    returns the digests. With ``stray_start``, ``start`` is also pulsed (with a
    junk ``iv``) while each message is absorbed: it must be ignored."""
    rng = random.Random(seed)
    dut = HashUnit(algorithm)
    width = len(dut.iv)
    digests = []

    async def testbench(ctx):
        for msg, iv, prefix in jobs:
            assert not ctx.get(dut.busy)
            ctx.set(dut.iv, iv)
            ctx.set(dut.prefix_bytes, prefix)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            ctx.set(dut.iv, rng.getrandbits(width))
            ctx.set(dut.prefix_bytes, rng.getrandbits(32))
            assert ctx.get(dut.busy)
            words = message_words(msg, rng)
            if stray_start:
                await send(ctx, dut.i, words[:len(words) // 2], rng, p_gap)
                ctx.set(dut.start, 1)
                await ctx.tick()
                ctx.set(dut.start, 0)
                words = words[len(words) // 2:]
            await send(ctx, dut.i, words, rng, p_gap)
            digests.append(await receive(ctx, dut.o, rng, p_ready))
            assert not ctx.get(dut.busy)
            for _ in range(rng.randrange(3)):
                await ctx.tick()

    run(dut, testbench)
    return digests


def check_hash_unit(algorithm, cases, *, seed, **kwargs):
    """``cases`` = ``[(msg, expected_digest)]`` from the standard IV."""
    got = hash_unit_run(algorithm, [(msg, IVS[algorithm], 0) for msg, _ in cases],
                        seed=seed, **kwargs)
    bad = [(len(msg), hex(g), hex(e)) for (msg, e), g in zip(cases, got) if g != e]
    assert not bad, f"{len(bad)} of {len(cases)} wrong (length, got, expected): {bad[:5]}"


def core_run(core, jobs, *, seed, p_gap=0.3):
    """Drive a compression core: ``jobs`` = ``[(iv or None, [block, ...])]``;
    ``iv`` is loaded with ``init`` (in the same clock as the first block every
    other job). Returns the state after every block."""
    rng = random.Random(seed)
    states = []

    async def testbench(ctx):
        for n, (iv, blocks) in enumerate(jobs):
            if iv is not None:
                ctx.set(core.iv, iv)
                ctx.set(core.init, 1)
                if n % 2:                   # init alone, then the blocks
                    await ctx.tick()
                    ctx.set(core.init, 0)
            for block in blocks:
                while rng.random() < p_gap:
                    ctx.set(core.i.valid, 0)
                    await ctx.tick()
                ctx.set(core.i.payload, int.from_bytes(block, "big"))
                ctx.set(core.i.valid, 1)
                await wait_until(ctx, core.i.ready)
                ctx.set(core.i.valid, 0)
                ctx.set(core.init, 0)
                # init while busy is ignored
                ctx.set(core.iv, rng.getrandbits(len(core.iv)))
                ctx.set(core.init, 1)
                await ctx.tick()
                assert ctx.get(core.busy) and not ctx.get(core.i.ready)
                ctx.set(core.init, 0)
                await wait_until(ctx, ~core.busy)
                states.append(ctx.get(core.state))

    run(core, testbench)
    return states


def check_core(core, algorithm, *, seed):
    rng = random.Random(seed)
    width = len(core.iv)
    jobs = [(rng.getrandbits(width), [rng.randbytes(64) for _ in range(rng.randint(1, 3))])
            for _ in range(4)]
    jobs.insert(2, (None, [rng.randbytes(64)]))     # continue from the previous state
    expected, state = [], None
    for iv, blocks in jobs:
        state = iv if iv is not None else state
        for block in blocks:
            state = COMPRESS[algorithm](state, block)
            expected.append(state)
    assert core_run(core, jobs, seed=seed) == expected


def measure_core_clocks(core, blocks=4):
    """Clocks between acceptances of back-to-back blocks (valid always high)."""
    accepted = []

    async def testbench(ctx):
        ctx.set(core.i.valid, 1)
        for clock in range(PATIENCE):
            if len(accepted) == blocks:
                break
            _, _, ready = await ctx.tick().sample(core.i.ready)
            if ready:
                accepted.append(clock)

    run(core, testbench)
    assert len(accepted) == blocks, "the core stopped accepting blocks"
    gaps = {b - a for a, b in zip(accepted, accepted[1:])}
    assert len(gaps) == 1, gaps
    return gaps.pop()


def measure_stream_clocks(dut, algorithm, length, *, hmac=False, keyed=True):
    """Clocks from ``start`` (clock 0) to the first clock with ``o.valid``, for a
    ``length``-byte message offered from clock 1 with valid always high and the
    output always ready (``hmac``: an :class:`Hmac`, with ``keyed`` set)."""
    result = []

    async def testbench(ctx):
        if hmac:
            ctx.set(dut.inner_iv, IVS[algorithm])
            ctx.set(dut.outer_iv, IVS[algorithm])
            ctx.set(dut.keyed, keyed)
        else:
            ctx.set(dut.iv, IVS[algorithm])
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        ctx.set(dut.o.ready, 1)
        words = message_words(bytes(length), random.Random(0))
        index = 0
        for clock in range(1, 20 * PATIENCE):
            if index < len(words):
                ctx.set(dut.i.payload, words[index])
            ctx.set(dut.i.valid, index < len(words))
            _, _, ready, valid = await ctx.tick().sample(dut.i.ready, dut.o.valid)
            if valid:
                result.append(clock)
                return
            index += bool(ready and index < len(words))
        raise AssertionError("no output")

    run(dut, testbench)
    return result[0]


def verilog_size(component, name):
    text = verilog.convert(component, name=name)
    assert f"module {name}(" in text
    return len(text.splitlines()), len(text)


# --- reference compression ----------------------------------------------------

def test_reference_compression_matches_hashlib():
    rng = random.Random(1)
    lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 200] + [rng.randrange(300) for _ in range(20)]
    for length in lengths:
        msg = rng.randbytes(length)
        for algorithm in ("sha1", "md5"):
            assert reference_hash(algorithm, msg) == int.from_bytes(
                hashlib.new(algorithm, msg).digest(), "big"), (algorithm, length)


# --- core -----------------------------------------------------------------------

@pytest.mark.parametrize("rounds", [1, 2, 4, 5])
def test_core_matches_reference(rounds):
    check_core(Sha1Core(rounds), "sha1", seed=rounds)


@pytest.mark.parametrize("rounds", [1, 2, 4, 5])
def test_core_throughput(rounds):
    core = Sha1Core(rounds)
    assert core.clocks_per_block == 80 // rounds + 1
    assert measure_core_clocks(core) == core.clocks_per_block
    assert rounds != 4 or core.clocks_per_block <= 22       # the default


# --- HashUnit -----------------------------------------------------------------

def test_cavp_short_messages():
    cases = vector_messages("hashes/SHA1/SHA1ShortMsg.rsp")
    assert len(cases) == 65
    check_hash_unit("sha1", cases, seed=2)


def test_cavp_long_messages():
    cases = vector_messages("hashes/SHA1/SHA1LongMsg.rsp")
    assert len(cases) == 64
    check_hash_unit("sha1", cases, seed=3, p_gap=0.1, p_ready=0.7)


def test_random_messages_and_padding_boundaries():
    rng = random.Random(4)
    lengths = [0, 1, 3, 4, 5, 52, 54, 55, 56, 57, 59, 60, 61, 63, 64, 65, 116, 119, 120, 128]
    lengths += [rng.randrange(400) for _ in range(15)]
    msgs = [rng.randbytes(n) for n in lengths]
    check_hash_unit("sha1", [(m, int.from_bytes(hashlib.sha1(m).digest(), "big")) for m in msgs],
                    seed=5, stray_start=True)


def test_prefix_and_iv():
    """A message continued from the state after whole 64-byte blocks equals the
    hash of the whole; a 32-bit prefix near 2**32 exercises the upper half of
    the length field."""
    rng = random.Random(6)
    jobs, expected = [], []
    for blocks in (1, 2, 3):
        head, tail = rng.randbytes(64 * blocks), rng.randbytes(rng.randrange(130))
        state = SHA1_IV
        for k in range(blocks):
            state = sha1_compress(state, head[64 * k:64 * k + 64])
        jobs.append((tail, state, 64 * blocks))
        expected.append(int.from_bytes(hashlib.sha1(head + tail).digest(), "big"))
    iv, msg = rng.getrandbits(160), rng.randbytes(70)
    jobs.append((msg, iv, 0xFFFFFFC0))
    expected.append(reference_hash("sha1", msg, iv, 0xFFFFFFC0))
    assert hash_unit_run("sha1", jobs, seed=7) == expected


def padded_blocks(length):
    return (length + 9 + 63) // 64


@pytest.mark.parametrize("length", [0, 55, 56, 64 * 4 + 17, 64 * 8 + 17])
def test_hash_unit_throughput_and_latency(length):
    """Full-rate input: the documented latency 17 + B * clocks_per_block, so
    clocks_per_block is the measured steady-state cost of every block."""
    unit = HashUnit("sha1")
    assert unit.clocks_per_block == 21
    assert measure_stream_clocks(unit, "sha1", length) == \
        17 + padded_blocks(length) * unit.clocks_per_block


def test_verilog():
    sizes = {f"sha1_core_r{r}": verilog_size(Sha1Core(r), f"sha1_core_r{r}") for r in (1, 2, 4, 5)}
    sizes["sha1_hash_unit"] = verilog_size(HashUnit("sha1"), "sha1_hash_unit")
    print(sizes)
