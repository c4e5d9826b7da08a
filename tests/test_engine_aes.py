# amaranth: UnusedElaboratable=no
"""AES core (hdl/engines/aes.py) in Amaranth's simulator.

* NIST CAVP known-answer (GFSbox, KeySbox, VarKey, VarTxt) and multi-block
  (MMT) vectors from ``cryptography_vectors``, ECB and CBC, every file in
  both directions, one simulation per file streaming all its vectors. The
  core is ECB only: for CBC the test XORs the chaining value (the IV, then
  the previous ciphertext block from the file) into each plaintext block
  before encryption, and into each decrypted block after decryption.
* Random differential test against ``cryptography``: random key sizes,
  directions, keys and blocks, key reloads between blocks, random
  back-pressure on ``o.ready``.
* Throughput and latency measured in simulation against ``clocks_per_block``
  and ``key_expansion_clocks``; a key load dropping a block in its rounds;
  Verilog conversion.
"""
import os
import random
from collections import deque

import cryptography_vectors
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from crypto_reference import read_rsp
from pacsim.hdl.engines.aes import AesCore

KEY_SIZE = {16: 0, 24: 1, 32: 2}


# -- driver -------------------------------------------------------------------

class Run:
    """What a simulation saw: results in order and the clock (edge number) of
    every input and output handshake and of every key load."""

    def __init__(self):
        self.results = []
        self.accepted_at = []
        self.delivered_at = []
        self.key_load_at = []
        self.key_ready_at = []


def simulate(dut, ops, *, o_ready=None, offer=None):
    """Run ``ops`` through the core ``dut``: ``("key", key_bytes, decrypt)``
    (optionally a fourth item: the ``key_size`` to drive) loads a key once
    every earlier block has left its rounds (its result may still wait in
    ``o``); ``("block", bytes16)`` offers a block until accepted.
    ``o_ready(clock)`` gives ``o.ready`` (default: always 1), ``offer(clock)``
    whether a pending block is offered (default: always). Ends when every
    block's result has been taken, or fails after a generous clock limit."""
    clocks = 64 * len(ops) + 100
    ops = deque(ops)
    blocks = sum(op[0] == "block" for op in ops)
    run = Run()
    sim = Simulator(dut)
    sim.add_clock(30e-9)

    async def bench(ctx):
        sent = 0
        expanding = False
        for clock in range(clocks):
            if len(run.results) == blocks and not ops:
                return
            o_valid = ctx.get(dut.o.valid)
            load = valid = False
            if ops and ops[0][0] == "key" and sent == len(run.results) + o_valid:
                _, key, decrypt, *size = ops.popleft()
                ctx.set(dut.key, int.from_bytes(key, "big"))
                ctx.set(dut.key_size, size[0] if size else KEY_SIZE[len(key)])
                ctx.set(dut.decrypt, decrypt)
                load = True
                expanding = True
                run.key_load_at.append(clock)
            elif ops and ops[0][0] == "block" and (offer is None or offer(clock)):
                ctx.set(dut.i.payload, int.from_bytes(ops[0][1], "big"))
                valid = True
            ctx.set(dut.key_load, load)
            ctx.set(dut.i.valid, valid)
            ready = 1 if o_ready is None else o_ready(clock)
            ctx.set(dut.o.ready, ready)
            if expanding and ctx.get(dut.key_ready):
                run.key_ready_at.append(clock)
                expanding = False
            if valid and ctx.get(dut.i.ready):
                ops.popleft()
                sent += 1
                run.accepted_at.append(clock)
            if o_valid and ready:
                run.results.append(ctx.get(dut.o.payload).to_bytes(16, "big"))
                run.delivered_at.append(clock)
            await ctx.tick()
        raise AssertionError(f"timeout: {len(run.results)} of {blocks} results")

    sim.add_testbench(bench)
    sim.run()
    return run


def blocks_of(data):
    return [data[k:k + 16] for k in range(0, len(data), 16)]


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


# -- NIST CAVP ----------------------------------------------------------------

def nist_files():
    base = os.path.join(os.path.dirname(cryptography_vectors.__file__), "ciphers", "AES")
    return [(mode, name) for mode in ("ECB", "CBC")
            for name in sorted(os.listdir(os.path.join(base, mode))) if name.endswith(".rsp")]


# Largest files: every STRIDE-th vector of each section (a fixed stride, both
# directions); the rest run whole.
STRIDE = {"VarKey192": 2, "VarKey256": 3}


@pytest.mark.parametrize("mode,name", nist_files())
def test_nist_cavp(mode, name):
    vectors = read_rsp(os.path.join("ciphers", "AES", mode, name))
    stride = next((s for tag, s in STRIDE.items() if tag in name), 1)
    ops, expected, chain_after = [], [], []
    loaded = None
    counts = {"ENCRYPT": 0, "DECRYPT": 0}
    for v in vectors:
        section = v["section"]
        counts[section] += 1
        if (counts[section] - 1) % stride:
            continue
        decrypt = section == "DECRYPT"
        if (v["key"], decrypt) != loaded:
            ops.append(("key", v["key"], decrypt))
            loaded = (v["key"], decrypt)
        pt, ct = blocks_of(v["plaintext"]), blocks_of(v["ciphertext"])
        assert len(pt) == len(ct) and pt
        chain = [v["iv"]] + ct[:-1] if mode == "CBC" else [bytes(16)] * len(pt)
        for p, c, prev in zip(pt, ct, chain):
            ops.append(("block", c if decrypt else xor(p, prev)))
            expected.append(p if decrypt else c)
            chain_after.append(prev if decrypt else bytes(16))
    assert counts["ENCRYPT"] and counts["DECRYPT"], "file must cover both directions"
    run = simulate(AesCore(), ops)
    got = [xor(r, prev) for r, prev in zip(run.results, chain_after)]
    assert len(got) == len(expected)
    bad = [k for k, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not bad, f"{len(bad)} of {len(expected)} blocks wrong, first #{bad[0]}: " \
                    f"{got[bad[0]].hex()} != {expected[bad[0]].hex()}"


# -- random differential ------------------------------------------------------

def reference(key, decrypt, block):
    c = Cipher(algorithms.AES(key), modes.ECB())
    ctx = c.decryptor() if decrypt else c.encryptor()
    return ctx.update(block) + ctx.finalize()


def random_ops(rng, loads, max_blocks):
    ops, expected = [], []
    for _ in range(loads):
        key = rng.randbytes(rng.choice((16, 24, 32)))
        decrypt = rng.random() < 0.5
        ops.append(("key", key, decrypt))
        for _ in range(rng.randint(1, max_blocks)):
            block = rng.randbytes(16)
            ops.append(("block", block))
            expected.append(reference(key, decrypt, block))
    return ops, expected


@pytest.mark.parametrize("rounds_per_clock,seed", [(2, 1), (2, 2), (1, 3)])
def test_random_against_cryptography(rounds_per_clock, seed):
    rng = random.Random(seed)
    ops, expected = random_ops(rng, loads=24, max_blocks=8)
    ready_rng = random.Random(seed + 100)
    run = simulate(AesCore(rounds_per_clock), ops,
                   o_ready=lambda clock: ready_rng.random() < 0.6,
                   offer=lambda clock: ready_rng.random() < 0.8)
    assert run.results == expected


def test_key_size_3_is_256():
    rng = random.Random(5)
    key, blocks = rng.randbytes(32), [rng.randbytes(16) for _ in range(3)]
    for decrypt in (False, True):
        run = simulate(AesCore(), [("key", key, decrypt, 3)] + [("block", b) for b in blocks])
        assert run.results == [reference(key, decrypt, b) for b in blocks]


# -- timing -------------------------------------------------------------------

@pytest.mark.parametrize("rounds_per_clock", [2, 1])
def test_throughput_and_latency(rounds_per_clock):
    if rounds_per_clock == 2:                        # the default
        assert AesCore().clocks_per_block[128] <= 8 and AesCore().clocks_per_block[256] <= 10
    rng = random.Random(7)
    n = 12
    for bits in (128, 192, 256):
        for decrypt in (False, True):
            core = AesCore(rounds_per_clock)
            key = rng.randbytes(bits // 8)
            blocks = [rng.randbytes(16) for _ in range(n)]
            run = simulate(core, [("key", key, decrypt)] + [("block", b) for b in blocks])
            assert run.results == [reference(key, decrypt, b) for b in blocks]
            assert run.key_ready_at[0] - run.key_load_at[0] == \
                core.key_expansion_clocks[bits] + 1        # high in the clock after
            # o.valid rises at the clocks_per_block-th edge after the accepting
            # edge; with o.ready high the result is taken at the next edge
            latency = {d - a for a, d in zip(run.accepted_at, run.delivered_at)}
            assert latency == {core.clocks_per_block[bits] + 1}
            periods = {b - a for a, b in zip(run.delivered_at, run.delivered_at[1:])}
            assert periods == {core.clocks_per_block[bits]}, (bits, decrypt, periods)


def test_key_load_drops_block_in_rounds():
    """A key load while a block is in its rounds drops that block; a result
    already waiting in ``o`` is kept, and the new key is used afterwards."""
    rng = random.Random(11)
    key1, key2 = rng.randbytes(16), rng.randbytes(32)
    b1, b2, b3 = (rng.randbytes(16) for _ in range(3))
    dut = AesCore()
    sim = Simulator(dut)
    sim.add_clock(30e-9)
    results = []

    async def bench(ctx):
        async def wait_for(signal, what, limit=40):
            for _ in range(limit):
                seen = ctx.get(signal)
                await ctx.tick()
                if seen:
                    return
            raise AssertionError(f"{what} timed out")

        async def load(key, decrypt):
            ctx.set(dut.key, int.from_bytes(key, "big"))
            ctx.set(dut.key_size, KEY_SIZE[len(key)])
            ctx.set(dut.decrypt, decrypt)
            ctx.set(dut.key_load, 1)
            await ctx.tick()
            ctx.set(dut.key_load, 0)
            await wait_for(dut.key_ready, "key expansion")

        async def send(block):
            ctx.set(dut.i.payload, int.from_bytes(block, "big"))
            ctx.set(dut.i.valid, 1)
            await wait_for(dut.i.ready, "input handshake")
            ctx.set(dut.i.valid, 0)

        ctx.set(dut.o.ready, 0)
        await load(key1, False)
        await send(b1)                       # result held in o (o.ready low)
        await ctx.tick().repeat(dut.clocks_per_block[128] + 2)
        await send(b2)                       # waits in its final round
        assert ctx.get(dut.busy)
        await load(key2, True)               # drops b2
        await send(b3)
        for _ in range(40):
            ctx.set(dut.o.ready, 1)
            if ctx.get(dut.o.valid):
                results.append(ctx.get(dut.o.payload).to_bytes(16, "big"))
            await ctx.tick()
        assert not ctx.get(dut.busy)

    sim.add_testbench(bench)
    sim.run()
    assert results == [reference(key1, False, b1), reference(key2, True, b3)]


# -- conversion ---------------------------------------------------------------

@pytest.mark.parametrize("rounds_per_clock", [1, 2])
def test_verilog(rounds_per_clock):
    text = verilog.convert(AesCore(rounds_per_clock), name="aes_core")
    assert "module aes_core" in text
    for port in ("key", "key_size", "decrypt", "key_load", "key_ready", "i__payload",
                 "i__valid", "i__ready", "o__payload", "o__valid", "o__ready", "busy"):
        assert f" {port};" in text or f" {port}," in text, port
    assert len(text) < 3_000_000


def test_rounds_per_clock_must_divide_round_counts():
    with pytest.raises(ValueError):
        AesCore(3)
