"""HMAC engine and the host-side pad states, in Amaranth's simulator.

Expected values come only from the RFC 2202 files in ``cryptography_vectors``,
Python's ``hmac``/``hashlib`` and ``cryptography``'s HMAC.
"""
import hashlib
import hmac
import random

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC as CryptoHMAC
from test_engine_sha1 import (load_vectors, measure_stream_clocks, message_words, padded_blocks,
                              receive, reference_hash, run, send, verilog_size)

from pacsim.hdl.engines.hmac import Hmac
from pacsim.reference.digests import hmac_pad_states

ALGORITHMS = ["md5", "sha1"]
WIDTH = {"md5": 128, "sha1": 160}
CRYPTO_HASH = {"md5": hashes.MD5, "sha1": hashes.SHA1}


def rfc2202(algorithm):
    """``[(key, msg, mac_int)]`` of RFC 2202 for ``algorithm``."""
    out = []
    for rec in load_vectors(f"HMAC/rfc-2202-{algorithm}.txt"):
        msg = bytes.fromhex(rec["Msg"])
        assert int(rec["Len"]) == 8 * len(msg)
        out.append((bytes.fromhex(rec["Key"]), msg, int(rec["MD"], 16)))
    assert len(out) == 7
    return out


def py_hmac(algorithm, key, msg):
    return int.from_bytes(hmac.new(key, msg, algorithm).digest(), "big")


def crypto_hmac96(algorithm, key, msg):
    h = CryptoHMAC(key, CRYPTO_HASH[algorithm]())
    h.update(msg)
    return int.from_bytes(h.finalize()[:12], "big")


def hmac_run(algorithm, jobs, *, seed, p_gap=0.3, p_ready=0.5):
    """Run ``jobs`` = ``[(key, msg)]`` through one Hmac in one simulation; returns
    the MACs (``key`` None: a plain hash, ``keyed`` low and junk pad states).
    ``start`` is also pulsed with junk pad states and ``keyed`` flipped while
    each message is absorbed: it must be ignored."""
    rng = random.Random(seed)
    dut = Hmac(algorithm)
    macs = []

    async def testbench(ctx):
        for key, msg in jobs:
            assert not ctx.get(dut.busy)
            if key is None:
                inner, outer = (rng.getrandbits(WIDTH[algorithm]) for _ in range(2))
            else:
                inner, outer = hmac_pad_states(algorithm, key)
            ctx.set(dut.inner_iv, inner)
            ctx.set(dut.outer_iv, outer)
            ctx.set(dut.keyed, key is not None)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.inner_iv, rng.getrandbits(WIDTH[algorithm]))
            ctx.set(dut.outer_iv, rng.getrandbits(WIDTH[algorithm]))
            ctx.set(dut.keyed, key is None)
            ctx.set(dut.start, 0)
            assert ctx.get(dut.busy)
            words = message_words(msg, rng)
            half = len(words) // 2
            await send(ctx, dut.i, words[:half], rng, p_gap)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            await send(ctx, dut.i, words[half:], rng, p_gap)
            macs.append(await receive(ctx, dut.o, rng, p_ready))
            assert not ctx.get(dut.busy)
            for _ in range(rng.randrange(3)):
                await ctx.tick()

    run(dut, testbench)
    return macs


# --- host side: pad states --------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pad_states_reproduce_hmac(algorithm):
    """Hashing from the pad states with a 64-byte prefix gives Python's HMAC,
    for short, block-sized and long (pre-hashed) keys."""
    rng = random.Random(30)
    cases = [(key, msg) for key, msg, _ in rfc2202(algorithm)]
    cases += [(rng.randbytes(n), rng.randbytes(rng.randrange(200)))
              for n in (0, 1, 16, 20, 63, 64, 65, 80, 131, 200)]
    for key, msg in cases:
        inner, outer = hmac_pad_states(algorithm, key)
        inner_digest = reference_hash(algorithm, msg, inner, 64)
        mac = reference_hash(algorithm, inner_digest.to_bytes(WIDTH[algorithm] // 8, "big"),
                             outer, 64)
        assert mac == py_hmac(algorithm, key, msg), (algorithm, len(key), len(msg))


def test_pad_states_differ_per_key_and_pad():
    for algorithm in ALGORITHMS:
        a = hmac_pad_states(algorithm, b"key one")
        b = hmac_pad_states(algorithm, b"key two")
        assert a[0] != a[1] and a != b
        long_key = bytes(range(100))
        assert hmac_pad_states(algorithm, long_key) == hmac_pad_states(
            algorithm, hashlib.new(algorithm, long_key).digest())
    with pytest.raises(ValueError):
        hmac_pad_states("sha256", b"k")


# --- hardware -----------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_rfc2202_and_96_bit_truncation(algorithm):
    vectors = rfc2202(algorithm)
    macs = hmac_run(algorithm, [(key, msg) for key, msg, _ in vectors], seed=31)
    for (key, msg, expected), mac in zip(vectors, macs):
        assert mac == expected
        # RFC 2403 / 2404: HMAC-*-96 is the top 96 bits of the packed MAC
        assert mac >> (WIDTH[algorithm] - 96) == expected >> (WIDTH[algorithm] - 96) \
            == crypto_hmac96(algorithm, key, msg)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_random_keys_and_messages(algorithm):
    rng = random.Random(32 + len(algorithm))
    lengths = [0, 3, 4, 55, 56, 64, 119, 120] + [rng.randrange(300) for _ in range(12)]
    jobs = [(rng.randbytes(rng.choice((0, 16, 20, 32, 64, 65, 100))), rng.randbytes(n))
            for n in lengths]
    macs = hmac_run(algorithm, jobs, seed=33, p_gap=0.4, p_ready=0.3)
    for (key, msg), mac in zip(jobs, macs):
        assert mac == py_hmac(algorithm, key, msg), (len(key), len(msg))
        assert mac >> (WIDTH[algorithm] - 96) == crypto_hmac96(algorithm, key, msg)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_plain_hash_between_macs(algorithm):
    """``keyed`` low: the plain digest of the message (hashlib), with HMAC jobs
    before and after it in the same engine."""
    rng = random.Random(34 + len(algorithm))
    jobs = []
    for n in (0, 1, 3, 55, 56, 63, 64, 65, 130):
        jobs += [(None, rng.randbytes(n)), (rng.randbytes(20), rng.randbytes(n))]
    macs = hmac_run(algorithm, jobs, seed=35, p_gap=0.3, p_ready=0.4)
    for (key, msg), mac in zip(jobs, macs):
        if key is None:
            assert mac == int.from_bytes(hashlib.new(algorithm, msg).digest(), "big"), len(msg)
        else:
            assert mac == py_hmac(algorithm, key, msg), len(msg)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("length", [0, 64 * 4 + 17, 64 * 8 + 17])
def test_throughput_and_latency(algorithm, length):
    dut = Hmac(algorithm)
    assert dut.clocks_per_block == dut.outer_clocks == {"md5": 17, "sha1": 21}[algorithm]
    assert measure_stream_clocks(dut, algorithm, length, hmac=True) == \
        17 + padded_blocks(length) * dut.clocks_per_block + dut.outer_clocks
    assert measure_stream_clocks(Hmac(algorithm), algorithm, length, hmac=True, keyed=False) == \
        17 + padded_blocks(length) * dut.clocks_per_block


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_verilog(algorithm):
    print(verilog_size(Hmac(algorithm), f"hmac_{algorithm}"))
