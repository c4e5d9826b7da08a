"""The public-key unit at the Diffie-Hellman sizes (768..2048 bits) in Verilator.

``ModExp()`` is converted to Verilog and compiled once per source digest
(under ``$PACSIM_BUILD_DIR``, default ``~/.cache/pacsim``, like the card's
bench in ``sim/build.py``); the cocotb test below (this same module, run inside
the simulator) computes DH-shaped operations against ``pow``: the RFC groups
with random peer values and 160-bit exponents, random odd moduli of each size,
and full-length exponents at 768, 1024 and 2048 bits, and exponents of one
length but opposite weights (only the top bit set, all bits set). Every
operation's busy clocks must equal ``modexp_clocks``, which does not depend
on the exponent's value (constant time), so equal-length exponents take the
same clocks; the clocks and the wall-clock rate go to
``modexp_report.json`` in the run folder and are printed (``pytest -s``). The
rate, 160 to 230 k clocks/s, is mostly cocotb's per-edge cost (the same bench
with the unit idle runs 270 k clocks/s), not the model's.
"""
import fcntl
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import cocotb
import pytest
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from pacsim.contract.pk import ModExpSlot, ModExpStatus, modexp_clocks
from pacsim.hdl.engines.modexp import ModExp
from pacsim.host.pk import value_of, words_of
from pacsim.reference.modp import GROUPS

TOPLEVEL = "modexp"
PERIOD_NS = 30
#: Job lists by name, each job (label, modulus bits or DH group, exponent bits);
#: "group N" uses GROUPS[N]; a label ending in "sparse" takes the exponent
#: 0x80..0 (only the top bit), "dense" 0xFF..F (all bits), others a random
#: one with the top bit set. The 2048-bit full-length exponent (8.8 M clocks)
#: has its own list, so that each pytest item stays under a minute.
JOBS = {
    "dh": [("group 1", 1, 160), ("random", 768, 160), ("random", 768, 768),
           ("group 2", 2, 160), ("random", 1024, 160), ("random", 1024, 1024),
           ("group 5", 5, 160), ("random", 1536, 160),
           ("group 14", 14, 160), ("random", 2048, 160)],
    "weights": [("group 2 sparse", 2, 1024), ("group 2 dense", 2, 1024),
                ("group 14 sparse", 14, 256), ("group 14 dense", 14, 256)],
    "full2048": [("random", 2048, 2048)],
}
MAX_BITS = 2048
SLOT = MAX_BITS // 32     # words per operand slot


# --- inside the simulator -------------------------------------------------------

async def write(dut, slot, value, words):
    for k, word in enumerate(words_of(value, words)):
        await FallingEdge(dut.clk)
        dut.mem_addr.value = int(slot) * SLOT + k
        dut.mem_wdata.value = word
        dut.mem_we.value = 1
    await FallingEdge(dut.clk)
    dut.mem_we.value = 0


async def read(dut, slot, words):
    out = []
    await FallingEdge(dut.clk)
    for k in range(words):
        dut.mem_addr.value = int(slot) * SLOT + k
        await FallingEdge(dut.clk)
        out.append(int(dut.mem_rdata.value))
    return value_of(out)


def job_operands(rng, label, size, exp_bits):
    if label.startswith("group"):
        group = GROUPS[size]
        modulus, words = group.prime, group.words
        base = rng.randrange(2, modulus - 1)            # a peer's public value
    else:
        modulus = rng.getrandbits(size) | 1 | 1 << (size - 1)
        words = size // 32
        base = rng.getrandbits(32 * words)
    if label.endswith("sparse"):
        exponent = 1 << (exp_bits - 1)
    elif label.endswith("dense"):
        exponent = (1 << exp_bits) - 1
    else:
        exponent = rng.getrandbits(exp_bits) | 1 << (exp_bits - 1)
    return base, exponent, modulus, words


@cocotb.test()
async def modexp_dh_sizes(dut):
    jobs = JOBS[os.environ["MODEXP_JOBS"]]
    rng = random.Random(os.environ["MODEXP_JOBS"])
    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    dut.rst.value = 1
    for name in ("start", "abort", "mem_we", "watchdog"):
        getattr(dut, name).value = 0
    for _ in range(3):
        await FallingEdge(dut.clk)
    dut.rst.value = 0
    report = []
    for label, size, exp_bits in jobs:
        base, exponent, modulus, words = job_operands(rng, label, size, exp_bits)
        await write(dut, ModExpSlot.BASE, base, words)
        await write(dut, ModExpSlot.EXPONENT, exponent, (exp_bits + 31) // 32)
        await write(dut, ModExpSlot.MODULUS, modulus, words)
        expected = modexp_clocks(modulus.bit_length(), exp_bits, words=words)
        dut.words.value = words
        dut.exp_bits.value = exp_bits
        dut.start.value = 1
        sampled = get_sim_time("ns") + PERIOD_NS / 2        # the rising edge that takes start
        await FallingEdge(dut.clk)
        dut.start.value = 0
        assert int(dut.busy.value) == 1
        wall = time.perf_counter()
        await RisingEdge(dut.done)
        wall = time.perf_counter() - wall
        clocks = round((get_sim_time("ns") - sampled) / PERIOD_NS)
        await FallingEdge(dut.clk)
        status = ModExpStatus(int(dut.status.value))
        result = await read(dut, ModExpSlot.RESULT, words)
        entry = {"job": label, "bits": modulus.bit_length(), "exp_bits": exp_bits,
                 "ones": exponent.bit_count(), "clocks": clocks, "expected_clocks": expected,
                 "ms_at_33MHz": round(clocks / 33e3, 2), "wall_s": round(wall, 3),
                 "clocks_per_s": round(clocks / wall), "status": status.name,
                 "correct": result == pow(base, exponent, modulus)}
        dut._log.info(json.dumps(entry))
        report.append(entry)
    Path(os.environ["MODEXP_REPORT"]).write_text(json.dumps(report, indent=1))
    bad = [e for e in report if not e["correct"] or e["status"] != "OK"
           or e["clocks"] != e["expected_clocks"]]
    assert not bad, bad


# --- pytest side ----------------------------------------------------------------

def _build(runner) -> Path:
    """Convert and compile ``ModExp()`` once per digest of its source (and its contract's)."""
    import amaranth
    from amaranth.back import verilog

    from pacsim.contract import pk
    from pacsim.hdl.engines import modexp
    from pacsim.sim.build import build_root

    digest = hashlib.sha256(amaranth.__version__.encode() + Path(modexp.__file__).read_bytes()
                            + Path(pk.__file__).read_bytes())
    build_dir = build_root() / f"modexp-verilator-{digest.hexdigest()[:12]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (build_dir / "built.ok").exists():
            source = build_dir / f"{TOPLEVEL}.v"
            source.write_text(verilog.convert(ModExp(max_bits=MAX_BITS), name=TOPLEVEL))
            runner.build(sources=[source], hdl_toplevel=TOPLEVEL, build_dir=build_dir,
                         build_args=["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-O3",
                                     "--x-assign", "fast", "--x-initial", "fast"],
                         timescale=("1ns", "1ps"), log_file=build_dir / "build.log")
            (build_dir / "built.ok").write_text("ok\n")
    return build_dir


@pytest.mark.parametrize("jobs", list(JOBS))
def test_modexp_verilator(jobs, tmp_path):
    from cocotb_tools.runner import get_results

    from pacsim.sim.build import _runner

    runner = _runner("verilator")
    started = time.perf_counter()
    build_dir = _build(runner)
    built = time.perf_counter() - started
    report_path = tmp_path / "modexp_report.json"
    tests_dir = str(Path(__file__).resolve().parent)
    added = tests_dir not in sys.path
    if added:
        sys.path.append(tests_dir)      # the runner passes sys.path on as PYTHONPATH
    try:
        results = runner.test(test_module=Path(__file__).stem, hdl_toplevel=TOPLEVEL,
                              hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=tmp_path,
                              extra_env={"MODEXP_REPORT": str(report_path), "MODEXP_JOBS": jobs},
                              timescale=("1ns", "1ps"), log_file=tmp_path / "sim.log")
    finally:
        if added:
            sys.path.remove(tests_dir)
    tests, failed = get_results(results)
    log_tail = (tmp_path / "sim.log").read_text(errors="replace")[-4000:]
    assert tests == 1 and failed == 0, log_tail
    report = json.loads(report_path.read_text())
    print(f"\nbuild/reuse {built:.1f} s")
    for entry in report:
        print(entry)
    assert len(report) == len(JOBS[jobs])
    by_size = {}
    for entry in report:        # constant time: one clock count per (modulus, exponent) length
        by_size.setdefault((entry["bits"], entry["exp_bits"]), set()).add(entry["clocks"])
    assert all(len(clocks) == 1 for clocks in by_size.values()), by_size
