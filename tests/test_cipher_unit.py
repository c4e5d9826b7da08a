# amaranth: UnusedElaboratable=no
"""Cipher unit (hdl/cipher_unit.py) in Amaranth's simulator.

* Random differential test against ``cryptography``: every CipherAlg x mode
  x direction, random keys (bytes beyond the algorithm's key random too),
  random IVs from the context or in-band (``iv_load``), messages of 1..40
  blocks, random gaps on ``i.valid`` and back-pressure on ``o.ready``, the
  parameter ports scrambled after ``start``, and messages abandoned part-way
  by a new ``start``. References: AES CBC/ECB; TripleDES for DES (K1 = K2 =
  K3) and 3DES; 3DES outer CBC as three chained single-DES CBC passes
  (CBC-E k1, CBC-D k2, CBC-E k3 and the inverse).
* NIST CAVP multi-block vectors (``CBCMMT128.rsp``, ``TCBCMMT3.rsp``) from
  ``cryptography_vectors``, both directions, through the word interface.
* Steady-state clocks per block, latency and the clocks from ``start`` to
  ``ready`` measured against ``clocks_per_block``, ``latency`` and
  ``ready_clocks``; Verilog conversion.
"""
import os
import random
from dataclasses import dataclass

import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from crypto_reference import read_rsp
from pacsim.contract.codes import CIPHER_BLOCK_BYTES, CIPHER_KEY_BYTES, CipherAlg, CipherMode
from pacsim.hdl.cipher_unit import CipherUnit

AES_ALGS = (CipherAlg.AES128, CipherAlg.AES192, CipherAlg.AES256)
DES_ALGS = (CipherAlg.DES, CipherAlg.TDES_2KEY, CipherAlg.TDES_INNER, CipherAlg.TDES_OUTER)
CASES = [(alg, mode, decrypt) for alg in CipherAlg for mode in CipherMode for decrypt in (False, True)]


@dataclass
class Job:
    alg: CipherAlg
    mode: CipherMode
    decrypt: bool
    key: bytes              # 32 context key bytes
    iv: bytes               # 24 context IV bytes
    iv_in: bytes | None     # 16 bytes given with iv_load, or None
    data: bytes
    in_rate: float = 1.0    # chance that a word is offered in a clock
    out_rate: float = 1.0   # chance of o.ready in a clock
    abandon_after: int | None = None   # clocks of words, then the next job starts


@dataclass
class Run:
    output: bytes
    ready_after: int        # clock edges from the start edge (included) to ready
    accepted_at: list       # clock of every input word handshake
    delivered_at: list      # clock of every output word handshake


# -- references (cryptography) -------------------------------------------------

def _crypt(cipher, decrypt, data):
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def _des_cbc(key, iv, decrypt, data):
    """Single DES (TripleDES with K1 = K2 = K3) in CBC."""
    return _crypt(Cipher(TripleDES(key * 3), modes.CBC(iv)), decrypt, data)


def reference(job):
    block = CIPHER_BLOCK_BYTES[job.alg]
    iv = job.iv if job.iv_in is None else job.iv_in + job.iv[16:]
    if job.alg in AES_ALGS:
        mode = modes.ECB() if job.mode is CipherMode.ECB else modes.CBC(iv[:16])
        return _crypt(Cipher(algorithms.AES(job.key[:CIPHER_KEY_BYTES[job.alg]]), mode),
                      job.decrypt, job.data)
    k1, k2, k3 = job.key[0:8], job.key[8:16], job.key[16:24]
    if job.alg is CipherAlg.DES:
        k2 = k3 = k1
    elif job.alg is CipherAlg.TDES_2KEY:
        k3 = k1
    if job.alg is CipherAlg.TDES_OUTER and job.mode is CipherMode.CBC:
        iv1, iv2, iv3 = job.iv[0:8], job.iv[8:16], job.iv[16:24]
        if job.iv_in is not None:
            iv1 = job.iv_in[:8]
        if job.decrypt:
            x = _des_cbc(k3, iv3, True, job.data)
            y = _des_cbc(k2, iv2, False, x)
            return _des_cbc(k1, iv1, True, y)
        x = _des_cbc(k1, iv1, False, job.data)
        y = _des_cbc(k2, iv2, True, x)
        return _des_cbc(k3, iv3, False, y)
    mode = modes.ECB() if job.mode is CipherMode.ECB else modes.CBC(iv[:block])
    return _crypt(Cipher(TripleDES(k1 + k2 + k3), mode), job.decrypt, job.data)


# -- driver -----------------------------------------------------------------------

def simulate(jobs, seed=0, clocks_per_job=20_000):
    """Run ``jobs`` through one CipherUnit, one ``start`` each; returns the
    unit and a Run per job (abandoned jobs: the output seen before the next
    start)."""
    dut = CipherUnit()
    rng = random.Random(seed)
    runs = []
    sim = Simulator(dut)
    sim.add_clock(30e-9)

    async def bench(ctx):
        clock = 0

        async def tick():
            nonlocal clock
            await ctx.tick()
            clock += 1

        for job in jobs:
            ctx.set(dut.alg, job.alg)
            ctx.set(dut.mode, job.mode)
            ctx.set(dut.decrypt, job.decrypt)
            ctx.set(dut.key, int.from_bytes(job.key, "little"))
            ctx.set(dut.iv, int.from_bytes(job.iv, "little"))
            ctx.set(dut.start, 1)
            # an abandoned job may leave a word offered: start refuses it
            assert not ctx.get(dut.i.ready), "i.ready during start"
            await tick()
            started = clock
            ctx.set(dut.start, 0)
            ctx.set(dut.i.valid, 0)
            # the parameters are latched: scramble the ports
            ctx.set(dut.alg, rng.randrange(16))
            ctx.set(dut.mode, rng.randrange(2))
            ctx.set(dut.decrypt, rng.randrange(2))
            ctx.set(dut.key, rng.getrandbits(256))
            ctx.set(dut.iv, rng.getrandbits(192))
            for _ in range(40):
                if ctx.get(dut.ready):
                    break
                assert not ctx.get(dut.i.ready), "i.ready before ready"
                await tick()
            assert ctx.get(dut.ready), "ready never came"
            run = Run(b"", clock - started + 1, [], [])
            words = [int.from_bytes(job.data[k:k + 4], "little") for k in range(0, len(job.data), 4)]
            out = []
            sent = 0
            offering = False
            for spent in range(clocks_per_job):
                if spent == job.abandon_after:
                    break
                if len(out) == len(words):
                    await tick()
                    assert not ctx.get(dut.busy), "busy after the last word"
                    break
                # the in-band IV comes with the first offered word (or before it)
                iv_load = spent == 0 and job.iv_in is not None
                ctx.set(dut.iv_load, iv_load)
                ctx.set(dut.iv_in, int.from_bytes(job.iv_in, "little") if iv_load else rng.getrandbits(128))
                if not offering and sent < len(words) and rng.random() < job.in_rate:
                    offering = True     # held until accepted
                ctx.set(dut.i.valid, offering)
                if offering:
                    ctx.set(dut.i.payload, words[sent])
                ready = rng.random() < job.out_rate
                ctx.set(dut.o.ready, ready)
                if offering and ctx.get(dut.i.ready):
                    run.accepted_at.append(clock)
                    sent += 1
                    offering = False
                if ready and ctx.get(dut.o.valid):
                    out.append(ctx.get(dut.o.payload))
                    run.delivered_at.append(clock)
                await tick()
            else:
                raise AssertionError(f"timeout: {len(out)} of {len(words)} words out")
            run.output = b"".join(w.to_bytes(4, "little") for w in out)
            runs.append(run)

    sim.add_testbench(bench)
    sim.run()
    return dut, runs


# -- random differential ------------------------------------------------------------

def random_job(rng, alg, mode, decrypt, max_blocks=40, in_band=False):
    key = bytearray(rng.randbytes(32))
    while alg is CipherAlg.TDES_2KEY and key[0:8] == key[8:16]:
        key[8:16] = rng.randbytes(8)
    block = CIPHER_BLOCK_BYTES[alg]
    return Job(alg, mode, decrypt, bytes(key), rng.randbytes(24),
               rng.randbytes(16) if in_band else None,
               rng.randbytes(block * rng.randint(1, max_blocks)),
               in_rate=rng.choice((1.0, 0.7, 0.3)), out_rate=rng.choice((1.0, 0.6, 0.25)))


@pytest.mark.parametrize("algs", [AES_ALGS, DES_ALGS], ids=["aes", "des"])
def test_random_against_cryptography(algs):
    rng = random.Random(sum(algs))
    jobs = []
    for alg, mode, decrypt in CASES:
        if alg in algs:
            # IV1 from the context for one, in-band for the other
            in_band = rng.random() < 0.5
            jobs.append(random_job(rng, alg, mode, decrypt, in_band=in_band))
            jobs.append(random_job(rng, alg, mode, decrypt, max_blocks=3, in_band=not in_band))
    rng.shuffle(jobs)
    # two messages abandoned part-way: the next start must discard their state
    for k in (1, len(jobs) // 2):
        alg, _, decrypt = rng.choice(CASES)
        victim = random_job(rng, alg, CipherMode.CBC, decrypt)
        victim.abandon_after = rng.randrange(10, 60)
        jobs.insert(k, victim)
    _, runs = simulate(jobs, seed=rng.randrange(1 << 30))
    checked = 0
    for job, run in zip(jobs, runs):
        if job.abandon_after is not None:
            continue
        assert run.output == reference(job), \
            f"{job.alg.name} {job.mode.name} {'decrypt' if job.decrypt else 'encrypt'} " \
            f"{len(job.data)} bytes, iv_in={job.iv_in is not None}"
        checked += 1
    assert checked == 2 * sum(alg in algs for alg, _, _ in CASES)


# -- NIST CAVP ----------------------------------------------------------------------

#: Vectors taken from each section (vector n has n + 1 blocks).
NIST_PICKS = (0, 3, 6, 9)


@pytest.mark.parametrize("path,alg", [
    (("ciphers", "AES", "CBC", "CBCMMT128.rsp"), CipherAlg.AES128),
    (("ciphers", "3DES", "CBC", "TCBCMMT3.rsp"), CipherAlg.TDES_INNER),
], ids=["CBCMMT128", "TCBCMMT3"])
def test_nist_cbc_mmt(path, alg):
    vectors = read_rsp(os.path.join(*path))
    jobs, expected = [], []
    taken = {"ENCRYPT": 0, "DECRYPT": 0}
    for v in vectors:
        section = v["section"]
        index = taken[section]
        taken[section] += 1
        if index not in NIST_PICKS:
            continue
        decrypt = section == "DECRYPT"
        key = v["key"] if "key" in v else v["key1"] + v["key2"] + v["key3"]
        in_band = index % 2 == 1         # IV in-band for every other pick
        jobs.append(Job(alg, CipherMode.CBC, decrypt, key.ljust(32, b"\0"),
                        bytes(24) if in_band else v["iv"].ljust(24, b"\0"),
                        v["iv"].ljust(16, b"\0") if in_band else None,
                        v["ciphertext"] if decrypt else v["plaintext"]))
        expected.append(v["plaintext"] if decrypt else v["ciphertext"])
    assert len(jobs) == 2 * len(NIST_PICKS)
    _, runs = simulate(jobs)
    assert [run.output for run in runs] == expected


# -- throughput and latency ---------------------------------------------------------

THROUGHPUT_BLOCKS = 8
TARGETS = {CipherAlg.AES128: 8, CipherAlg.DES: 7, CipherAlg.TDES_INNER: 16}


@pytest.mark.parametrize("algs", [AES_ALGS, DES_ALGS], ids=["aes", "des"])
def test_clocks_per_block_and_latency(algs):
    rng = random.Random(7)
    cases = [case for case in CASES if case[0] in algs]
    jobs = [random_job(rng, *case) for case in cases]
    for job in jobs:
        job.data = rng.randbytes(CIPHER_BLOCK_BYTES[job.alg] * THROUGHPUT_BLOCKS)
        job.in_rate = job.out_rate = 1.0
    dut, runs = simulate(jobs)
    for (alg, mode, decrypt), job, run in zip(cases, jobs, runs):
        assert run.output == reference(job)
        words = CIPHER_BLOCK_BYTES[alg] // 4
        firsts = run.delivered_at[::words]
        periods = [b - a for a, b in zip(firsts, firsts[1:])]
        name = f"{alg.name} {mode.name} {'decrypt' if decrypt else 'encrypt'}"
        # steady state: the last half of the message
        assert set(periods[THROUGHPUT_BLOCKS // 2:]) == {dut.clocks_per_block[(alg, mode, decrypt)]}, \
            f"{name}: {periods}"
        latency = run.delivered_at[0] - run.accepted_at[words - 1]
        assert latency == dut.latency[alg], f"{name}: latency {latency}"
        assert run.ready_after == dut.ready_clocks[alg], f"{name}: ready after {run.ready_after}"
    # the required bounds: CBC encryption, AES-128 16 bytes in 8 clocks, DES 8
    # bytes in 7, 3DES inner CBC 8 bytes in 16
    for alg, bound in TARGETS.items():
        if alg in algs:
            assert dut.clocks_per_block[(alg, CipherMode.CBC, False)] <= bound


# -- Verilog ----------------------------------------------------------------------

def test_verilog():
    text = verilog.convert(CipherUnit(), name="cipher_unit")
    assert "module cipher_unit" in text
    print(f"cipher_unit.v: {len(text)} bytes, {text.count(chr(10))} lines")
