# Ref: README.md, "Simulator speed"; Verilator 5 and Icarus Verilog 11 (the runners it times)
"""``pacsim bench sim``: PCI clocks per wall second of each simulator runner.

Runs the DMA and crypto workloads of :mod:`.cocotb_tests.bench_sim` under
cocotb on each simulator of ``runners`` (``verilator``, ``icarus``) and
returns one row per runner and workload with the keys

- ``bench`` ("sim"), ``workload`` (``dma-BYTES`` or ``crypto-ALG-BYTES``),
  ``runner`` (``cocotb-verilator``, ``cocotb-icarus``);
- ``clocks``: PCI clocks (30 ns) the workload took, ``wall_s``: the wall
  seconds the simulator needed for them, ``clocks_per_s``: their quotient;
- ``ratio_vs_cpp``: ``clocks_per_s`` over a pure C++ Verilator harness's on
  the same workload, ``null`` while that harness does not exist;
- ``build_s``: seconds the runner's compiler took on the bench's Verilog
  (from the build folder's file times, so a cached build still reports
  its compile time), ``build_cached``: whether this run reused the build.
"""
import time

from .build import TOPLEVEL, BenchConfig, build

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
        report = run_rtl("pacsim.sim.cocotb_tests.bench_sim", simulator, env=env)
        for row in report["rows"]:
            rows.append({"bench": "sim", "workload": row["workload"], "runner": f"cocotb-{simulator}",
                         "clocks": row["clocks"], "wall_s": round(row["wall_s"], 3),
                         "clocks_per_s": round(row["clocks"] / row["wall_s"]), "ratio_vs_cpp": None,
                         "build_s": compile_seconds(build_dir) if cached else round(build_call_s, 1),
                         "build_cached": cached})
    return rows
