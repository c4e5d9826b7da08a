# Ref: README.md "Commands" (pacsim regress); docs/regress.md
"""``pacsim regress``: run a campaign on Ray, or rerun one cell here.

``pacsim regress CAMPAIGN [--seeds N] [--workers N] [--address ADDR]
[--db FILE] [--report FILE] [--json]`` runs every cell of the campaign for
seeds ``0 .. N-1`` on a local Ray instance of ``--workers`` CPUs (default:
this machine's) or on the cluster at ``--address``, with a live progress
line on standard error; stores the results in ``--db`` (DuckDB, default
``pacsim-regress.duckdb``, kept across runs); writes the HTML report
(default ``pacsim-regress.html``); prints a summary table (``--json``: one
object with ``cells``, ``passed``, ``failed``, ``wall_s``,
``cells_per_hour``, ``coverage``, ``run_id``, ``db``, ``report``,
``failures``) and, for every failed cell, the command that reproduces it.
Exit status 1 when a cell failed.

``pacsim regress --rerun CELL [--waves DIR]`` runs that one cell in this
process (RTL cells: with waveforms in DIR) and prints its verdict.
"""
import json
import os
import shlex
import sys
import time
from pathlib import Path

from ..test_fault import FAULT_ENV, TEST_ENV
from .campaign import campaign_names, cell_from_id, load_campaign

__all__ = ["add_parser", "cmd_regress", "rerun_command"]


def test_environment() -> dict:
    """The test-only variables set here (:data:`~pacsim.sim.test_fault.TEST_ENV`), handed to every cell."""
    return {name: os.environ[name] for name in TEST_ENV if os.environ.get(name)}


def fault_prefix(env: dict) -> str:
    """``PACSIM_TEST_FAULT=... `` when ``env`` sets the test-only fault (a rerun needs it too), else ``""``."""
    return "".join(f"{name}={shlex.quote(value)} " for name, value in env.items() if name == FAULT_ENV)


def rerun_command(cell_id: str, env: dict) -> str:
    """The command that reproduces cell ``cell_id`` here, with waveforms."""
    return f"{fault_prefix(env)}pacsim regress --rerun {cell_id} --waves {shlex.quote(cell_id.replace('/', '_'))}-waves"


def _rerun(args) -> int:
    from .cells import run_cell
    cell = cell_from_id(args.rerun)
    waves = None
    if args.waves:
        waves = Path(args.waves).resolve()
        waves.mkdir(parents=True, exist_ok=True)
    result = run_cell(cell, test_environment(), waves_dir=waves if cell.simulator != "model" else None)
    result.pop("bins")
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{cell.id}: {result['verdict']}" + (f" in {result['failing_check']}: {result['message']}"
                                                    if result["verdict"] != "pass" else ""))
        if waves and cell.simulator != "model":
            print(f"waveforms: {waves} (pacsim_tb.fst, pacsim.gtkw)")
        elif waves:
            print("a model cell has no waveforms; its RTL twin (same family and seed on verilator) has")
    return int(result["verdict"] != "pass")


def _summary_table(db, run_id) -> str:
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"run {run_id}")
    for column in ("family", "simulator", "configuration", "memory", "cells", "passed", "failed", "wall s"):
        table.add_column(column)
    for row in db.execute("SELECT family, simulator, configuration, memory, count(*), "
                          "count(*) FILTER (WHERE verdict = 'pass'), count(*) FILTER (WHERE verdict <> 'pass'), "
                          "round(sum(wall_s), 1) FROM cells WHERE run_id = ? GROUP BY ALL ORDER BY ALL",
                          [run_id]).fetchall():
        table.add_row(*(str(v) for v in row))
    console = Console(file=sys.stdout, width=120)
    with console.capture() as capture:
        console.print(table)
    return capture.get()


def cmd_regress(args) -> int:
    from .coverage import coverage_fraction
    from .html_report import render_report
    from .ray_runner import run_on_ray
    from .results import Results
    from .cells import versions

    if args.rerun:
        return _rerun(args)
    if not args.campaign:
        raise SystemExit(f"pacsim regress: name a campaign ({', '.join(campaign_names())}) or --rerun CELL")
    try:
        campaign = load_campaign(args.campaign)
    except ValueError as error:
        raise SystemExit(f"pacsim regress: {error}") from None
    cells = campaign.cells(args.seeds)
    workers = args.workers or os.cpu_count() or 1
    env = test_environment()
    results = Results(args.db, campaign.name, seeds=args.seeds or campaign.seeds, workers=workers,
                      address=args.address)
    started = time.perf_counter()
    done = failed = 0
    for result in run_on_ray(cells, workers=workers, address=args.address, env=env):
        if not results.add(result):
            continue
        done += 1
        failed += result["verdict"] != "pass"
        elapsed = time.perf_counter() - started
        print(f"\r[{done}/{len(cells)}] {failed} failed, {elapsed:.0f} s, {3600 * done / elapsed:.0f} cells/h  ",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    wall_s = time.perf_counter() - started
    coverage = coverage_fraction(results.hits())
    totals = results.finish(wall_s, coverage, versions())
    report = Path(args.report)
    report.write_text(render_report(results.db, results.run_id, fault_prefix(env)))
    failures = [(cell_id, check, message, rerun_command(cell_id, env)) for cell_id, check, message in results.failures()]
    summary = {**totals, "wall_s": round(wall_s, 2), "cells_per_hour": round(3600 * totals["cells"] / wall_s, 1),
               "coverage": round(coverage, 4), "run_id": results.run_id, "db": str(args.db), "report": str(report),
               "failures": [{"cell": c, "check": k, "rerun": r} for c, k, _, r in failures]}
    if not args.json:
        print(_summary_table(results.db, results.run_id), end="")
    results.close()
    for cell_id, check, message, rerun in failures:
        print(f"FAILED {cell_id} in {check}: {(message or '').splitlines()[0][:200] if message else ''}",
              file=sys.stderr)
        print(f"  reproduce: {rerun}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{totals['cells']} cells, {totals['passed']} passed, {totals['failed']} failed in {wall_s:.1f} s "
              f"({summary['cells_per_hour']} cells/h), coverage {100 * coverage:.1f}% of the declared bins; "
              f"results in {args.db}, report {report}")
    return int(totals["failed"] > 0)


def add_parser(sub) -> None:
    """Add ``regress`` to the ``pacsim`` subcommands ``sub``."""
    p = sub.add_parser("regress", help="a regression campaign on Ray: cells x seeds, DuckDB results, HTML report")
    p.add_argument("campaign", nargs="?", help=f"campaign name ({', '.join(campaign_names())}) or a .toml file")
    p.add_argument("--seeds", type=int, help="seeds 0..N-1 of every cell (default: the campaign file's)")
    p.add_argument("--workers", type=int, help="CPUs of the local Ray instance (default: this machine's)")
    p.add_argument("--address", help="join the Ray cluster at ADDR (e.g. auto, or host:6379) instead")
    p.add_argument("--db", default="pacsim-regress.duckdb", help="DuckDB results file (default %(default)s)")
    p.add_argument("--report", default="pacsim-regress.html", help="HTML report to write (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rerun", metavar="CELL", help="run one cell here (its id, as a failure prints it)")
    p.add_argument("--waves", metavar="DIR", help="with --rerun: write the RTL run's waveforms into DIR")
    p.set_defaults(func=cmd_regress)
