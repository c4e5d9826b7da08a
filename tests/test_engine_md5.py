"""MD5 engine: the compression core and HashUnit padding, in Amaranth's simulator.

Expected values come only from the RFC 1321 test suite in
``cryptography_vectors`` and from ``hashlib`` (the Python reference
compression is checked against ``hashlib`` in ``test_engine_sha1``).
"""
import hashlib
import random

import pytest
from test_engine_sha1 import (check_core, check_hash_unit, hash_unit_run, measure_core_clocks,
                              measure_stream_clocks, md5_compress, padded_blocks, reference_hash,
                              vector_messages, verilog_size)

from pacsim.hdl.engines.hash_unit import HashUnit
from pacsim.hdl.engines.md5 import Md5Core
from pacsim.reference.digests import MD5_IV


def md5_int(msg):
    return int.from_bytes(hashlib.md5(msg).digest(), "big")


# --- core -----------------------------------------------------------------------

@pytest.mark.parametrize("steps", [1, 2, 4])
def test_core_matches_reference(steps):
    check_core(Md5Core(steps), "md5", seed=10 + steps)


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_core_throughput(steps):
    core = Md5Core(steps)
    assert core.clocks_per_block == 64 // steps + 1
    assert measure_core_clocks(core) == core.clocks_per_block
    assert steps != 4 or core.clocks_per_block <= 18        # the default


# --- HashUnit -----------------------------------------------------------------

def test_rfc1321_suite():
    cases = vector_messages("hashes/MD5/rfc-1321.txt")
    assert len(cases) == 7
    check_hash_unit("md5", cases, seed=20)


def test_random_messages_and_padding_boundaries():
    rng = random.Random(21)
    lengths = [0, 1, 2, 3, 4, 5, 52, 54, 55, 56, 57, 59, 60, 61, 63, 64, 65, 116, 119, 120, 128]
    lengths += [rng.randrange(600) for _ in range(25)]
    msgs = [rng.randbytes(n) for n in lengths]
    check_hash_unit("md5", [(m, md5_int(m)) for m in msgs], seed=22, stray_start=True)


def test_full_rate_and_stalled_output():
    """No input gaps at all, then a slow consumer; then gaps with a fast one."""
    rng = random.Random(23)
    msgs = [rng.randbytes(rng.randrange(300)) for _ in range(8)]
    check_hash_unit("md5", [(m, md5_int(m)) for m in msgs], seed=24, p_gap=0.0, p_ready=0.1)
    check_hash_unit("md5", [(m, md5_int(m)) for m in msgs], seed=25, p_gap=0.7, p_ready=1.0)


def test_prefix_and_iv():
    rng = random.Random(26)
    jobs, expected = [], []
    for blocks in (1, 2):
        head, tail = rng.randbytes(64 * blocks), rng.randbytes(rng.randrange(130))
        state = MD5_IV
        for k in range(blocks):
            state = md5_compress(state, head[64 * k:64 * k + 64])
        jobs.append((tail, state, 64 * blocks))
        expected.append(md5_int(head + tail))
    iv, msg = rng.getrandbits(128), rng.randbytes(70)
    jobs.append((msg, iv, 0xFFFFFFC0))
    expected.append(reference_hash("md5", msg, iv, 0xFFFFFFC0))
    assert hash_unit_run("md5", jobs, seed=27) == expected


@pytest.mark.parametrize("length", [0, 55, 56, 64 * 4 + 17, 64 * 8 + 17])
def test_hash_unit_throughput_and_latency(length):
    unit = HashUnit("md5")
    assert unit.clocks_per_block == 17
    assert measure_stream_clocks(unit, "md5", length) == \
        17 + padded_blocks(length) * unit.clocks_per_block


def test_verilog():
    sizes = {f"md5_core_s{s}": verilog_size(Md5Core(s), f"md5_core_s{s}") for s in (1, 2, 4)}
    sizes["md5_hash_unit"] = verilog_size(HashUnit("md5"), "md5_hash_unit")
    print(sizes)
