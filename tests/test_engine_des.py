# Ref: FIPS 46-3; NIST CAVP TDES response files (package cryptography_vectors)
"""DesCore and TripleDesCore in Amaranth's simulator.

Expected values come only from the NIST CAVP files or from ``cryptography``.
Each CAVP file is streamed through one simulation.
"""
import gc
import random
import re
import warnings
from pathlib import Path

import cryptography_vectors
import pytest
from amaranth.back import verilog
from amaranth.hdl import UnusedElaboratable
from amaranth.sim import Simulator
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from pacsim.hdl.engines.des import DesCore, TripleDesCore

VECTORS = Path(cryptography_vectors.__file__).parent / "ciphers" / "3DES"
# Keying option 3 (KEYs, or KEY1 = KEY2 = KEY3): single DES.
SINGLE_KEY_FILES = ["TECBvarkey", "TECBvartext", "TECBinvperm", "TECBpermop",
                    "TECBsubtab", "TECBMMT1"]
ECB_FILES = SINGLE_KEY_FILES + ["TECBMMT2", "TECBMMT3"]
CBC_FILES = ["TCBCMMT1", "TCBCMMT2", "TCBCMMT3"]


# --- CAVP files -------------------------------------------------------------

def parse_rsp(name):
    """The records of ``name``.rsp: dicts of its fields plus ``decrypt``."""
    folder = "CBC" if name.startswith("TCBC") else "ECB"
    records, record, decrypt = [], {}, None
    for line in (VECTORS / folder / f"{name}.rsp").read_text().splitlines():
        line = line.strip()
        if line in ("[ENCRYPT]", "[DECRYPT]"):
            decrypt = line == "[DECRYPT]"
        elif line and not line.startswith("#"):
            field, _, value = line.partition(" = ")
            record.setdefault("decrypt", decrypt)
            record[field] = value
        elif record:
            records.append(record)
            record = {}
    if record:
        records.append(record)
    for record in records:
        assert record["decrypt"] is not None and {"COUNT", "PLAINTEXT", "CIPHERTEXT"} <= set(record)
    return records


def record_keys(record):
    """(key1, key2, key3) as integers."""
    if "KEYs" in record:
        return (int(record["KEYs"], 16),) * 3
    return tuple(int(record[f"KEY{n}"], 16) for n in (1, 2, 3))


def blocks(hex_text):
    assert len(hex_text) % 16 == 0
    return [int(hex_text[n:n + 16], 16) for n in range(0, len(hex_text), 16)]


def ecb_jobs(records):
    """One (keys, decrypt, input, expected) per block of every record."""
    jobs = []
    for record in records:
        source, result = ("CIPHERTEXT", "PLAINTEXT") if record["decrypt"] else ("PLAINTEXT", "CIPHERTEXT")
        for x, y in zip(blocks(record[source]), blocks(record[result]), strict=True):
            jobs.append((record_keys(record), record["decrypt"], x, y))
    return jobs


# --- reference ----------------------------------------------------------------

def reference(keys, decrypt, block):
    """3DES EDE from ``cryptography`` (single DES when all keys are equal)."""
    cipher = Cipher(TripleDES(b"".join(k.to_bytes(8, "big") for k in keys)), modes.ECB())
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return int.from_bytes(op.update(block.to_bytes(8, "big")) + op.finalize(), "big")


def random_keys(rng, kind):
    k1, k2, k3 = (rng.getrandbits(64) for _ in range(3))
    return {"single": (k1, k1, k1), "two": (k1, k2, k1), "three": (k1, k2, k3)}[kind]


# --- simulation ---------------------------------------------------------------

def set_keys(ctx, dut, keys):
    if isinstance(dut, DesCore):
        assert keys[0] == keys[1] == keys[2], "DesCore takes single-DES keys only"
        ctx.set(dut.key, keys[0])
    else:
        ctx.set(dut.key1, keys[0])
        ctx.set(dut.key2, keys[1])
        ctx.set(dut.key3, keys[2])


async def handshake(ctx, dut, condition, *sample):
    """Tick until ``condition`` is 1 at a clock edge (at most a generous bound
    of clocks, so a stuck core fails instead of hanging); returns the number of
    clocks and the values of ``sample`` at that edge."""
    for clocks in range(1, 8 * dut.latency + 64):
        _, _, done, *values = await ctx.tick().sample(condition, *sample)
        if done:
            return clocks, values
    raise AssertionError(f"no handshake in {clocks} clocks")


def run(dut, testbenches):
    sim = Simulator(dut)
    sim.add_clock(1 / 33e6)
    for testbench in testbenches:
        sim.add_testbench(testbench)
    sim.run()


def stream(dut, jobs, *, ready=1.0, gaps=0.0, seed=0):
    """Stream ``jobs`` ((keys, decrypt, block, ...) tuples) through ``dut``.

    ``ready``: probability of ``o.ready`` per clock; ``gaps``: probability of
    an idle clock before a block, with random values on all inputs.
    Returns the results and the clock numbers of the ``i`` and ``o``
    handshakes; checks the output stream rules and ``busy`` on the way.
    """
    rng = random.Random(seed)
    results, in_clocks, out_clocks = [], [], []

    async def source(ctx):
        clock = 0
        for keys, decrypt, block, *_ in jobs:
            while rng.random() < gaps:
                set_keys(ctx, dut, random_keys(rng, "single"))
                ctx.set(dut.decrypt, rng.getrandbits(1))
                ctx.set(dut.i.payload, rng.getrandbits(64))
                ctx.set(dut.i.valid, 0)
                await ctx.tick()
                clock += 1
            set_keys(ctx, dut, keys)
            ctx.set(dut.decrypt, decrypt)
            ctx.set(dut.i.payload, block)
            ctx.set(dut.i.valid, 1)
            clocks, _ = await handshake(ctx, dut, dut.i.ready)
            clock += clocks
            in_clocks.append(clock)
            # the core must have latched key and direction: scramble them
            set_keys(ctx, dut, random_keys(rng, "single"))
            ctx.set(dut.decrypt, rng.getrandbits(1))
            ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        clock, offered = 0, None
        while len(results) < len(jobs):
            take = rng.random() < ready
            ctx.set(dut.o.ready, take)
            _, _, valid, payload, busy = await ctx.tick().sample(dut.o.valid, dut.o.payload, dut.busy)
            clock += 1
            assert clock < 64 * (dut.latency + 4) * (len(jobs) + 1), "stuck"
            assert not valid or busy, "o.valid without busy"
            if offered is not None:
                assert valid and payload == offered, "result changed or withdrawn before o.ready"
            offered = None
            if valid and take:
                results.append(payload)
                out_clocks.append(clock)
            elif valid:
                offered = payload
        assert not ctx.get(dut.o.valid) and not ctx.get(dut.busy), "idle after the last result"

    run(dut, [source, sink])
    return results, in_clocks, out_clocks


def check(jobs, results):
    assert len(results) == len(jobs)
    bad = [(n, job, got) for n, (job, got) in enumerate(zip(jobs, results)) if got != job[3]]
    assert not bad, (f"{len(bad)}/{len(jobs)} wrong; first: block {bad[0][0]} "
                     f"keys/decrypt/in/expected {bad[0][1]} got {bad[0][2]:016x}")


# --- NIST CAVP ------------------------------------------------------------------

@pytest.mark.parametrize("name", SINGLE_KEY_FILES)
def test_cavp_single_des_on_des_core(name):
    jobs = ecb_jobs(parse_rsp(name))
    assert {job[1] for job in jobs} == {False, True}
    results, _, _ = stream(DesCore(), jobs)
    check(jobs, results)


@pytest.mark.parametrize("name", ECB_FILES)
def test_cavp_ecb_on_triple_des_core(name):
    jobs = ecb_jobs(parse_rsp(name))
    assert {job[1] for job in jobs} == {False, True}
    results, _, _ = stream(TripleDesCore(), jobs)
    check(jobs, results)


def cbc_encrypt(dut, messages):
    """CBC encryption around ``dut``, the chaining done here: each block waits
    for the previous ciphertext. ``messages``: (keys, iv, plaintext blocks)."""
    out = []

    async def testbench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.decrypt, 0)
        for keys, iv, plaintext in messages:
            set_keys(ctx, dut, keys)
            chain, ciphertext = iv, []
            for block in plaintext:
                ctx.set(dut.i.payload, block ^ chain)
                ctx.set(dut.i.valid, 1)
                await handshake(ctx, dut, dut.i.ready)
                ctx.set(dut.i.valid, 0)
                _, (chain,) = await handshake(ctx, dut, dut.o.valid, dut.o.payload)
                ciphertext.append(chain)
            out.append(ciphertext)

    run(dut, [testbench])
    return out


@pytest.mark.parametrize("name", CBC_FILES)
def test_cavp_cbc_on_triple_des_core(name):
    records = parse_rsp(name)
    encrypt = [r for r in records if not r["decrypt"]]
    decrypt = [r for r in records if r["decrypt"]]
    assert encrypt and decrypt

    got = cbc_encrypt(TripleDesCore(), [(record_keys(r), int(r["IV"], 16), blocks(r["PLAINTEXT"]))
                                        for r in encrypt])
    for record, ciphertext in zip(encrypt, got, strict=True):
        assert ciphertext == blocks(record["CIPHERTEXT"]), f"{name} ENCRYPT COUNT {record['COUNT']}"

    # decryption does not chain through the core: stream all blocks, XOR after
    jobs = [(record_keys(r), True, c) for r in decrypt for c in blocks(r["CIPHERTEXT"])]
    results, _, _ = stream(TripleDesCore(), jobs)
    results = iter(results)
    for record in decrypt:
        chain, plaintext = int(record["IV"], 16), []
        for c in blocks(record["CIPHERTEXT"]):
            plaintext.append(next(results) ^ chain)
            chain = c
        assert plaintext == blocks(record["PLAINTEXT"]), f"{name} DECRYPT COUNT {record['COUNT']}"


# --- differential against cryptography, back-pressure, key changes -------------

def random_jobs(seed, count, kinds):
    rng = random.Random(seed)
    jobs = []
    for n in range(count):
        keys = random_keys(rng, kinds[n % len(kinds)])
        decrypt = bool(rng.getrandbits(1))
        block = rng.getrandbits(64)
        jobs.append((keys, decrypt, block, reference(keys, decrypt, block)))
    return jobs


@pytest.mark.parametrize("rounds_per_clock", [1, 2, 4, 8, 16])
def test_random_des_core(rounds_per_clock):
    jobs = random_jobs(rounds_per_clock, 48, ["single"])
    results, _, _ = stream(DesCore(rounds_per_clock), jobs, ready=0.5, gaps=0.3, seed=1)
    check(jobs, results)


@pytest.mark.parametrize("rounds_per_clock", [1, 4])
def test_random_triple_des_core(rounds_per_clock):
    jobs = random_jobs(100 + rounds_per_clock, 60, ["single", "two", "three"])
    results, _, _ = stream(TripleDesCore(rounds_per_clock), jobs, ready=0.5, gaps=0.3, seed=2)
    check(jobs, results)


def test_reference_matches_nist():
    """The reference itself against one record of each kind of file."""
    for name in ["TECBvarkey", "TECBMMT2", "TECBMMT3"]:
        for keys, decrypt, x, y in ecb_jobs(parse_rsp(name))[:3]:
            assert reference(keys, decrypt, x) == y


@pytest.mark.parametrize("core", [DesCore, TripleDesCore])
def test_bad_rounds_per_clock(core):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)  # the half-built object
        with pytest.raises(ValueError):
            core(3)
        gc.collect()


# --- throughput and latency -------------------------------------------------------

@pytest.mark.parametrize("core,rounds_per_clock", [
    (DesCore, 1), (DesCore, 2), (DesCore, 4), (DesCore, 8), (DesCore, 16),
    (TripleDesCore, 1), (TripleDesCore, 4), (TripleDesCore, 16)])
def test_clocks_per_block_and_latency(core, rounds_per_clock):
    dut = core(rounds_per_clock)
    jobs = random_jobs(7, 12, ["three"] if core is TripleDesCore else ["single"])
    results, in_clocks, out_clocks = stream(dut, jobs)
    check(jobs, results)
    # the first block went through an empty core: its handshake-to-handshake time
    assert out_clocks[0] - in_clocks[0] == dut.latency
    steady = {b - a for a, b in zip(out_clocks[4:], out_clocks[5:])}
    assert steady == {dut.clocks_per_block}
    assert {b - a for a, b in zip(in_clocks[4:], in_clocks[5:])} == {dut.clocks_per_block}
    des_latency = 16 // rounds_per_clock
    if core is DesCore:
        assert dut.latency == des_latency
        assert rounds_per_clock != 4 or dut.clocks_per_block <= 5
    else:
        assert dut.latency <= 3 * des_latency + 2


# --- Verilog ------------------------------------------------------------------------

@pytest.mark.parametrize("core,rounds_per_clock", [
    (DesCore, 1), (DesCore, 4), (DesCore, 16), (TripleDesCore, 4)])
def test_verilog(core, rounds_per_clock):
    text = verilog.convert(core(rounds_per_clock), name="des")
    header = re.search(r"^module des\((.*?)\);", text, re.M).group(1)
    keys = ["key"] if core is DesCore else ["key1", "key2", "key3"]
    assert set(header.split(", ")) == set(keys + [
        "decrypt", "i__payload", "i__valid", "i__ready",
        "o__payload", "o__valid", "o__ready", "busy", "clk", "rst"])
    print(f"{core.__name__}({rounds_per_clock}): {len(text)} bytes, {text.count(chr(10))} lines of Verilog")
