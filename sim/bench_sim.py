# Ref: README.md, "Simulator speed"; Verilator 5 and Icarus Verilog 11 (the runners it times)
"""``pacsim bench sim``: PCI clocks per wall second of each simulator runner.

Runs the DMA and crypto workloads of :mod:`.cocotb_tests.bench_sim` under
cocotb on each simulator of ``runners`` (``verilator``, ``icarus``); on
Verilator the DMA workload's host side is recorded (:mod:`.host_script`)
and played again by the pure C++ harness (:mod:`.cpp_harness`) on the same
build, which must end with the same host memory and clock count. Returns
one row per runner and workload with the keys

- ``bench`` ("sim"), ``workload`` (``dma-BYTES`` or ``crypto-ALG-BYTES``),
  ``runner`` (``cocotb-verilator``, ``cocotb-icarus``, ``cpp-verilator``);
- ``clocks``: PCI clocks (30 ns) the workload took, ``wall_s``: the wall
  seconds the simulator needed for them, ``clocks_per_s``: their quotient;
- ``ratio_vs_cpp``: ``clocks_per_s`` over the C++ harness's on the same
  workload (``null`` where the harness did not run it: the crypto workload,
  or Verilator not among the runners);
- ``build_s``: seconds the runner's compiler took on the bench's Verilog
  (from the build folder's file times, so a cached build still reports
  its compile time), ``build_cached``: whether this run reused the build.
"""
import tempfile
import time
from pathlib import Path

from .build import TOPLEVEL, BenchConfig, build
from .cpp_harness import play

__all__ = ["RUNNERS", "bench_sim_rows", "compile_seconds"]

#: Simulators ``pacsim bench sim`` times by default, in row order.
RUNNERS = ("verilator", "icarus")


def compile_seconds(build_dir) -> float:
    """Seconds from the bench's Verilog being written to the build being stamped done."""
    source, stamp = build_dir / f"{TOPLEVEL}.v", build_dir / "built.ok"
    return round(stamp.stat().st_mtime - source.stat().st_mtime, 1)


def bench_sim_rows(run_rtl, runners=RUNNERS, *, size: int, alg: str, packet_bytes: int) -> list:
    """Time both workloads on each runner; return the rows (see the module docstring).

    ``run_rtl(module, simulator, env=...)`` runs a cocotb entry point and
    returns its report (the CLI's, which shows build progress);
    ``size``: DMA copy bytes; ``alg``, ``packet_bytes``: the crypto
    workload's cipher+MAC name and ESP payload bytes per packet.
    """
    if size <= 0 or packet_bytes <= 0:
        raise ValueError(f"bench sim: sizes must be positive (dma {size}, crypto {packet_bytes})")
    env = {"PACSIM_BENCH_BYTES": str(size), "PACSIM_BENCH_ALG": alg, "PACSIM_BENCH_SIZE": str(packet_bytes)}
    rows = []
    for simulator in runners:
        messages = []
        started = time.perf_counter()
        build_dir = build(BenchConfig(simulator=simulator, waves=False), log=messages.append)
        cached = any(message.startswith("reusing") for message in messages)
        build_call_s = time.perf_counter() - started
        build_s = compile_seconds(build_dir) if cached else round(build_call_s, 1)
        with tempfile.TemporaryDirectory(prefix="pacsim-bench-sim-") as folder:
            script = Path(folder) / "dma.script"
            run_env = dict(env, PACSIM_HOST_SCRIPT=str(script)) if simulator == "verilator" else env
            report = run_rtl("pacsim.sim.cocotb_tests.bench_sim", simulator, env=run_env)
            runs = [(f"cocotb-{simulator}", row) for row in report["rows"]]
            if simulator == "verilator":
                played = play(build_dir, script)
                dma = report["rows"][0]
                if played["clocks"] != dma["clocks"]:
                    raise RuntimeError(f"the C++ harness took {played['clocks']} clocks for the DMA workload, "
                                       f"cocotb {dma['clocks']}: the replay diverged")
                runs.append(("cpp-verilator", dict(played, workload=dma["workload"])))
        rows += [_row(runner, row, build_s, cached) for runner, row in runs]
    cpp = {row["workload"]: row["clocks_per_s"] for row in rows if row["runner"] == "cpp-verilator"}
    for row in rows:
        if row["workload"] in cpp:
            row["ratio_vs_cpp"] = round(row["clocks_per_s"] / cpp[row["workload"]], 3)
    return rows


def _row(runner: str, figures: dict, build_s: float, cached: bool) -> dict:
    return {"bench": "sim", "workload": figures["workload"], "runner": runner, "clocks": figures["clocks"],
            "wall_s": round(figures["wall_s"], 6), "clocks_per_s": round(figures["clocks"] / figures["wall_s"]),
            "ratio_vs_cpp": None, "build_s": build_s, "build_cached": cached}
