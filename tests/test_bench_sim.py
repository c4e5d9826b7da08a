"""``pacsim bench sim --json`` (sim/bench_sim.py, sim/cocotb_tests/bench_sim.py,
sim/host_script.py, sim/cpp_harness.py, sim/host_script.cpp): one tiny run
on cocotb + Verilator gives a row per workload with the keys of the
contract, clocks that match the workloads' sizes and a build time, and the
C++ harness replays the DMA workload to the same clock count and host
memory (it exits non-zero otherwise); sizes that cannot run are refused
before anything is built.
"""
import json

import pytest

from pacsim.cli import main
from pacsim.sim.bench_sim import bench_sim_rows

KEYS = {"bench", "workload", "runner", "clocks", "wall_s", "clocks_per_s", "ratio_vs_cpp", "build_s",
        "build_cached"}


@pytest.mark.slow
def test_bench_sim_json_rows_on_verilator(capsys):
    assert main(["bench", "sim", "--json", "--runners", "verilator", "--bytes", "2048",
                 "--alg", "aes128-cbc+hmac-sha1-96", "--sizes", "64"]) == 0
    out = capsys.readouterr().out
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(row["workload"], row["runner"]) for row in rows] == [
        ("dma-2048", "cocotb-verilator"), ("crypto-aes128-cbc+hmac-sha1-96-64", "cocotb-verilator"),
        ("dma-2048", "cpp-verilator")]
    for row in rows:
        assert set(row) == KEYS and row["bench"] == "sim"
        assert row["wall_s"] > 0 and row["build_s"] > 0
        assert abs(row["clocks_per_s"] - row["clocks"] / row["wall_s"]) <= 0.01 * row["clocks_per_s"] + 1
    # a 2 KiB copy moves 512 dwords: at least one PCI clock per data phase, read and write
    dma, crypto, cpp = rows
    assert 1024 <= dma["clocks"] < 20 * 1024 and crypto["clocks"] > 0
    assert cpp["clocks"] == dma["clocks"] and cpp["ratio_vs_cpp"] == 1.0
    assert dma["ratio_vs_cpp"] == round(dma["clocks_per_s"] / cpp["clocks_per_s"], 3)
    assert crypto["ratio_vs_cpp"] is None        # the harness replays the DMA workload only


@pytest.mark.parametrize("size, packet_bytes", [(0, 64), (4096, 0), (-1, 64)])
def test_bench_sim_refuses_empty_workloads(size, packet_bytes):
    def never(*args, **kwargs):
        raise AssertionError("nothing may run for a refused size")
    with pytest.raises(ValueError, match="sizes must be positive"):
        bench_sim_rows(never, ("verilator",), size=size, alg="aes128-cbc+hmac-sha1-96", packet_bytes=packet_bytes)


@pytest.mark.slow
def test_cpp_harness_compares_host_memory(tmp_path):
    """The player checks the words a script expects: a store it saw passes, a word nobody wrote fails."""
    from pacsim.sim.build import BenchConfig, build
    from pacsim.sim.cpp_harness import play

    build_dir = build(BenchConfig(simulator="verilator", waves=False))
    script = tmp_path / "ok.script"
    script.write_text("W 5 3735928559\nM\nT 0 10 0 2048 1 15\nE\nC 5 3735928559\n")
    figures = play(build_dir, script)
    assert figures["checked"] == 1 and figures["mismatches"] == 0 and figures["violations"] == 0
    assert figures["clocks"] > 1                     # one configuration read over the bus
    script.write_text("W 5 1\nC 5 2\n")
    with pytest.raises(RuntimeError, match='"mismatches": 1'):
        play(build_dir, script)
