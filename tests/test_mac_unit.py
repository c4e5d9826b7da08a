"""MacUnit (HMAC-MD5, HMAC-SHA1, DES-MAC, plain SHA-1/MD5; ICV out and ICV
compare) in Amaranth's simulator.

Expected values come only from the RFC 2202 files in ``cryptography_vectors``,
Python's ``hmac``/``hashlib`` and ``cryptography`` (single DES = TripleDES with
K1 = K2 = K3, in CBC mode with a zero IV).
"""
import hashlib
import hmac
import random

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from test_engine_hmac import rfc2202
from test_engine_sha1 import measure_stream_clocks, receive, run, send, verilog_size

from pacsim.contract.codes import MAC_DIGEST_BYTES, MacAlg
from pacsim.hdl.engines.hmac import Hmac
from pacsim.hdl.mac_unit import MacUnit
from pacsim.reference.digests import hmac_pad_states

HASH = {MacAlg.HMAC_MD5: "md5", MacAlg.HMAC_SHA1: "sha1", MacAlg.MD5: "md5", MacAlg.SHA1: "sha1"}
ALGS = list(MacAlg)
PLAIN = (MacAlg.MD5, MacAlg.SHA1)


# --- references -----------------------------------------------------------------

def des_mac(key, msg):
    """ANSI X9.9 CBC-MAC: the last block of DES-CBC (IV 0) over ``msg``
    zero-padded to a multiple of 8 bytes (the empty message is one zero block)."""
    padded = msg + bytes(-len(msg) % 8) if msg else bytes(8)
    enc = Cipher(TripleDES(key * 3), modes.CBC(bytes(8))).encryptor()
    return (enc.update(padded) + enc.finalize())[-8:]


def reference_mac(job):
    if job["alg"] == MacAlg.DES_MAC:
        return des_mac(job["key"], job["msg"])
    if job["alg"] in PLAIN:
        return hashlib.new(HASH[job["alg"]], job["msg"]).digest()
    return hmac.new(job["key"], job["msg"], HASH[job["alg"]]).digest()


def make_job(alg, key, msg, icv_words, check=False, flip=None):
    """A job dict; with ``check`` the unit gets the reference ICV (one bit
    flipped if ``flip`` is a bit index) on ``expect``."""
    job = {"alg": alg, "key": key, "msg": msg, "icv_words": icv_words, "check": check}
    if check:
        icv = bytearray(reference_mac(job)[:4 * icv_words])
        if flip is not None:
            icv[flip // 8] ^= 1 << (flip % 8)
        job["expect"] = bytes(icv)
    return job


def words_of(data):
    """PCI-order words: byte 0 of each word in bits [7:0] (a short last word
    is zero-extended)."""
    return [int.from_bytes(data[k:k + 4], "little") for k in range(0, len(data), 4)]


# --- driver ---------------------------------------------------------------------

def mac_run(jobs, *, seed, p_gap=0.3, p_ready=0.5):
    """Run ``jobs`` through one MacUnit in one simulation. Returns per job the
    ICV bytes (encode) or the ``match`` bit (decode). All job inputs are
    scrambled after ``start`` and a stray ``start`` (with scrambled inputs)
    is pulsed in the middle of a non-empty message: both must be ignored. On decode
    a random number of the ICV words is fed before the message. The bytes of
    a partial last message word past the message are random (must be
    ignored)."""
    rng = random.Random(seed)
    dut = MacUnit()
    results = []

    def scramble(ctx):
        ctx.set(dut.alg, rng.randrange(8))
        ctx.set(dut.icv_words, rng.randrange(8))
        ctx.set(dut.length, rng.getrandbits(24))
        ctx.set(dut.check, rng.randrange(2))
        for port, width in ((dut.inner_iv, 160), (dut.outer_iv, 160), (dut.key, 64)):
            ctx.set(port, rng.getrandbits(width))

    async def testbench(ctx):
        for job in jobs:
            assert not ctx.get(dut.busy)
            alg = job["alg"]
            ctx.set(dut.alg, alg)
            ctx.set(dut.icv_words, job["icv_words"])
            ctx.set(dut.length, len(job["msg"]))
            ctx.set(dut.check, job["check"])
            if alg == MacAlg.DES_MAC:
                ctx.set(dut.key, int.from_bytes(job["key"], "little"))
            elif alg not in PLAIN:
                inner, outer = hmac_pad_states(HASH[alg], job["key"])
                ctx.set(dut.inner_iv, inner)
                ctx.set(dut.outer_iv, outer)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            scramble(ctx)
            assert ctx.get(dut.busy) and not ctx.get(dut.checked)

            words = words_of(job["msg"] + rng.randbytes(-len(job["msg"]) % 4))
            expect = words_of(job["expect"]) if job["check"] else []
            early = rng.randrange(len(expect) + 1)
            await send(ctx, dut.expect, expect[:early], rng, p_gap)
            half = len(words) // 2
            await send(ctx, dut.i, words[:half], rng, p_gap)
            if words:                           # the job is surely still running
                ctx.set(dut.start, 1)
                await ctx.tick()
                ctx.set(dut.start, 0)
            await send(ctx, dut.i, words[half:], rng, p_gap)
            assert not ctx.get(dut.i.ready)

            if job["check"]:
                await send(ctx, dut.expect, expect[early:], rng, p_gap)
                assert not ctx.get(dut.expect.ready)
                if not ctx.get(dut.checked):
                    await ctx.tick().until(dut.checked)
                assert not ctx.get(dut.busy)
                assert not ctx.get(dut.icv.valid)
                results.append(ctx.get(dut.match))
            else:
                icv = [await receive(ctx, dut.icv, rng, p_ready) for _ in range(job["icv_words"])]
                assert not ctx.get(dut.busy) and not ctx.get(dut.icv.valid)
                assert not ctx.get(dut.checked)
                results.append(b"".join(w.to_bytes(4, "little") for w in icv))
            for _ in range(rng.randrange(3)):
                await ctx.tick()

    run(dut, testbench)
    return results


def check_encode(jobs, **kwargs):
    got = mac_run(jobs, **kwargs)
    bad = [(job["alg"].name, len(job["key"]), len(job["msg"]), icv.hex())
           for job, icv in zip(jobs, got) if icv != reference_mac(job)[:4 * job["icv_words"]]]
    assert not bad, f"{len(bad)} of {len(jobs)} wrong (alg, key, msg bytes, icv): {bad[:5]}"


# --- HMAC -----------------------------------------------------------------------

@pytest.mark.parametrize("alg", [MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1])
def test_rfc2202_full_and_96_bit(alg):
    """All seven RFC 2202 vectors (four have a partial last word), full MAC
    and the RFC 2403 / RFC 2404 96-bit ICV (icv_words = 3)."""
    vectors = rfc2202(HASH[alg])
    assert {len(msg) % 4 for _, msg, _ in vectors} > {0}
    full = MAC_DIGEST_BYTES[alg] // 4
    jobs = [make_job(alg, key, msg, n) for key, msg, _ in vectors for n in (full, 3)]
    got = mac_run(jobs, seed=1)
    for job, icv in zip(jobs, got):
        mac = next(mac for key, msg, mac in vectors if (key, msg) == (job["key"], job["msg"]))
        assert icv == mac.to_bytes(MAC_DIGEST_BYTES[alg], "big")[:4 * job["icv_words"]]


@pytest.mark.parametrize("alg", [MacAlg.HMAC_MD5, MacAlg.HMAC_SHA1])
def test_hmac_random(alg):
    rng = random.Random(10 + alg)
    lengths = [0, 1, 4, 52, 55, 56, 60, 63, 64, 116, 119, 120, 1600] + [rng.randrange(1601) for _ in range(5)]
    jobs = [make_job(alg, rng.randbytes(rng.choice((0, 12, 16, 20, 64, 80))), rng.randbytes(n),
                     rng.randint(1, MAC_DIGEST_BYTES[alg] // 4)) for n in lengths]
    check_encode(jobs, seed=11 + alg, p_gap=0.4, p_ready=0.3)


@pytest.mark.parametrize("alg", PLAIN)
def test_plain_hash(alg):
    """SHA1 / MD5 channels: the plain digest (no key), full or truncated, at
    lengths around the padding boundaries, between HMAC jobs on the same engine."""
    rng = random.Random(60 + alg)
    keyed = {MacAlg.MD5: MacAlg.HMAC_MD5, MacAlg.SHA1: MacAlg.HMAC_SHA1}[alg]
    full = MAC_DIGEST_BYTES[alg] // 4
    jobs = []
    for n in [0, 1, 2, 3, 5, 55, 56, 57, 63, 64, 65, 119, 120, 300] + [rng.randrange(700) for _ in range(4)]:
        jobs.append(make_job(alg, b"", rng.randbytes(n), rng.choice((full, 3))))
        if n % 3 == 0:
            jobs.append(make_job(keyed, rng.randbytes(16), rng.randbytes(n), 3))
    check_encode(jobs, seed=61 + alg, p_gap=0.3, p_ready=0.4)


# --- DES-MAC ----------------------------------------------------------------------

def test_des_mac_random():
    """Empty message, partial words, odd and even word counts (padding or none), up to 1600 bytes."""
    rng = random.Random(20)
    lengths = [0, 1, 4, 7, 8, 12, 13, 16, 1600] + [rng.randrange(1601) for _ in range(8)]
    jobs = [make_job(MacAlg.DES_MAC, rng.randbytes(8), rng.randbytes(n), rng.randint(1, 2))
            for n in lengths]
    check_encode(jobs, seed=21)


def test_des_mac_key_byte_order():
    """Key byte k at ``key`` bits [8k+7:8k]: a key and its byte reversal differ."""
    key = bytes(range(1, 9))
    jobs = [make_job(MacAlg.DES_MAC, k, b"\x5a" * 8, 2) for k in (key, key[::-1])]
    check_encode(jobs, seed=22)
    assert des_mac(key, b"\x5a" * 8) != des_mac(key[::-1], b"\x5a" * 8)


# --- ICV compare ----------------------------------------------------------------

@pytest.mark.parametrize("alg", ALGS)
def test_compare(alg):
    """Matching ICV -> match = 1; any single flipped bit -> 0. Encode and decode
    jobs interleave in one simulation."""
    rng = random.Random(30 + alg)
    digest_words = MAC_DIGEST_BYTES[alg] // 4
    jobs = []
    for n in range(12):
        key = rng.randbytes(8 if alg == MacAlg.DES_MAC else 20)
        msg = rng.randbytes(rng.randrange(160))
        icv_words = rng.randint(1, digest_words)
        flip = rng.randrange(32 * icv_words) if n % 2 else None
        jobs.append(make_job(alg, key, msg, icv_words, check=True, flip=flip))
        if n % 3 == 0:
            jobs.append(make_job(alg, key, msg, icv_words))
    got = mac_run(jobs, seed=40 + alg)
    for job, result in zip(jobs, got):
        if not job["check"]:
            assert result == reference_mac(job)[:4 * job["icv_words"]]
        else:
            assert result == (job["expect"] == reference_mac(job)[:4 * job["icv_words"]])
    assert sum(1 for r in got if r == 1) >= 6 and sum(1 for r in got if r == 0) >= 6


def test_compare_every_bit():
    """HMAC-SHA1 full 160-bit ICV: each of the 160 single-bit flips is caught."""
    rng = random.Random(50)
    key, msg = rng.randbytes(20), rng.randbytes(64)
    jobs = [make_job(MacAlg.HMAC_SHA1, key, msg, 5, check=True, flip=b) for b in range(0, 160, 7)]
    jobs.append(make_job(MacAlg.HMAC_SHA1, key, msg, 5, check=True))
    assert mac_run(jobs, seed=51, p_gap=0) == [0] * (len(jobs) - 1) + [1]


# --- throughput -------------------------------------------------------------------

def clocks_to_icv(alg, blocks):
    """Clocks from ``start`` to the first ICV word for a message of ``blocks``
    blocks (64 bytes HMAC, 8 bytes DES-MAC), words offered every clock, and
    the simulated unit."""
    dut = MacUnit()
    words = dut.block_bytes[alg] // 4 * blocks
    result = []

    async def testbench(ctx):
        ctx.set(dut.alg, alg)
        ctx.set(dut.icv_words, 1)
        ctx.set(dut.length, 4 * words)
        ctx.set(dut.start, 1)
        await ctx.tick()
        ctx.set(dut.start, 0)
        ctx.set(dut.icv.ready, 1)
        ctx.set(dut.i.valid, 1)
        clock, sent = 1, 0
        while True:
            _, _, ready, valid = await ctx.tick().sample(dut.i.ready, dut.icv.valid)
            if valid:
                break
            sent += ready
            ctx.set(dut.i.valid, sent < words)
            clock += 1
        assert sent == words
        result.append(clock)

    run(dut, testbench)
    return result[0], dut


@pytest.mark.parametrize("alg", ALGS)
def test_throughput(alg):
    """Clocks per block in the message phase are the engine's steady state
    (the unit adds none): 17 HMAC-MD5, 17 HMAC-SHA1 (5 rounds per clock) per 64 bytes, 4 DES-MAC
    per 8 bytes. HMAC: the first ICV word comes one clock after a bare Hmac's
    MAC (the ICV register)."""
    t2, dut = clocks_to_icv(alg, 2)
    t6, _ = clocks_to_icv(alg, 6)
    engine = {MacAlg.HMAC_MD5: dut.md5, MacAlg.HMAC_SHA1: dut.sha1, MacAlg.DES_MAC: dut.des,
              MacAlg.MD5: dut.md5, MacAlg.SHA1: dut.sha1}[alg]
    per_block = (t6 - t2) / 4
    assert per_block == dut.clocks_per_block[alg] == engine.clocks_per_block
    assert per_block == {MacAlg.DES_MAC: 4}.get(alg, 17)
    if alg != MacAlg.DES_MAC:
        assert t2 == measure_stream_clocks(Hmac(HASH[alg], engine.per_clock), HASH[alg], 128, hmac=True,
                                           keyed=alg not in PLAIN) + 1
    print(f"{alg.name}: {per_block:g} clocks per {dut.block_bytes[alg]}-byte block; "
          f"start to first ICV word, 2 blocks: {t2} clocks")


def test_verilog():
    print(verilog_size(MacUnit(), "mac_unit"))
