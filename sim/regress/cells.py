# Ref: docs/regress.md "Cells"
"""Running one cell of a campaign, in this process (a Ray worker or ``--rerun``).

:func:`run_cell` takes a :class:`~.campaign.Cell` and returns its result, a
dict of plain values (the columns of :mod:`.results`): ``verdict``
(``pass``/``fail``), ``failing_check`` and ``message``, ``clocks`` (PCI
clocks simulated; None for the fuzz), ``wall_s`` (seconds), ``versions``
and ``bins`` (``{coverage bin: hits}``). The cell's seed reaches every check
through ``PACSIM_SEED`` (:mod:`pacsim.sim.seed`).

Kinds: ``check`` runs driver-suite checks (:data:`driver_suite.CHECKS` and
:data:`driver_suite_differential.DIFFERENTIAL_CHECKS`, modules of the test
suite's folder) on a :class:`ModelBus` or, on Verilator/Icarus, in one cocotb
run of ``tests/cocotb_regress.py`` on the bench of the cell's build (built at
most once per configuration: :func:`pacsim.sim.build.build`); ``fuzz`` runs
the ISAKMP fuzz; ``traffic`` two routers on model cards passing UDP through
a manual-keyed VPN.
"""
import asyncio
import contextlib
import functools
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from ..seed import SEED_ENV
from ..test_fault import kill_worker_once
from .coverage import bins_of, fuzz_samples, job_sample
from .campaign import memory_settings

__all__ = ["run_cell", "cell_result", "TESTS_DIR", "COVERAGE_FILE_ENV", "CHECKS_ENV", "MEMORY_NAME_ENV", "versions"]

#: The test suite's folder (the driver-suite checks live there).
TESTS_DIR = Path(__file__).resolve().parents[2] / "tests"
#: Environment of the cocotb run of an RTL cell: the checks to run (comma-separated
#: names), the file the coverage hits go to (JSON), the host-memory behaviour's name.
CHECKS_ENV = "PACSIM_REGRESS_CHECKS"
COVERAGE_FILE_ENV = "PACSIM_COVERAGE_FILE"
MEMORY_NAME_ENV = "PACSIM_REGRESS_MEMORY"
#: Host memory of a model cell's bus, bytes (a 64 KiB job needs source, destination and rings).
MODEL_MEMORY_BYTES = 1 << 21
#: PCI clock period of the bench, ns (:data:`pacsim.sim.rtl_bus.PCI_CLOCK_NS`, without importing cocotb here).
_PCI_CLOCK_NS = 30


def _commit() -> str | None:
    """The source tree's commit (short hash), or None outside a git work tree."""
    import subprocess
    try:
        return subprocess.run(["git", "-C", str(TESTS_DIR.parent), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


@functools.cache
def versions() -> dict:
    """Versions a result depends on: the source tree's commit, Python, Amaranth, cocotb, Verilator."""
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": platform.python_version(), "pacsim": _commit() or version("pacsim")}
    for package in ("amaranth", "cocotb", "verilator"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    return found


def _apply(values: dict) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def _environment(values: dict):
    """``os.environ`` with ``values`` set (None: removed) for the block."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        _apply(values)
        yield
    finally:
        _apply(saved)


def _tests_on_path() -> None:
    if str(TESTS_DIR) not in sys.path:
        sys.path.append(str(TESTS_DIR))


def check_registry() -> dict:
    """``{name: check coroutine}`` of every check a ``check`` cell may name."""
    _tests_on_path()
    import driver_suite
    import driver_suite_differential
    return {check.__name__: check for check in driver_suite.CHECKS + driver_suite_differential.DIFFERENTIAL_CHECKS}


@contextlib.contextmanager
def sampling(memory: str, hits: Counter):
    """Count the coverage bins of every job the driver collects in the block into ``hits``."""
    from ...host.job_queue import RESULT_OBSERVERS

    def observe(result):
        hits.update(bins_of(job_sample(result, memory)))
    RESULT_OBSERVERS.append(observe)
    try:
        yield
    finally:
        RESULT_OBSERVERS.remove(observe)


def _model_checks(cell, hits: Counter) -> dict:
    from ..model_bus import ModelBus
    registry = check_registry()
    clocks = 0
    for name in cell.params["checks"]:
        bus = ModelBus(MODEL_MEMORY_BYTES, **cell.build_params)
        try:
            with sampling(cell.memory, hits):
                asyncio.run(registry[name](bus))
        except Exception as error:            # noqa: BLE001 - a failed check is the cell's verdict
            return {"verdict": "fail", "failing_check": name, "message": f"{type(error).__name__}: {error}",
                    "clocks": clocks + bus.clocks()}
        clocks += bus.clocks()
    return {"verdict": "pass", "clocks": clocks}


def _failures(results_xml: Path) -> tuple:
    """``(sim clocks, [(test name, message)])`` of a cocotb results file."""
    clocks, failed = 0.0, []
    for case in ElementTree.parse(results_xml).getroot().iter("testcase"):
        for prop in case.iter("property"):
            if prop.get("name") == "sim_time_duration":
                clocks += float(prop.get("value")) / _PCI_CLOCK_NS
        for problem in (*case.findall("failure"), *case.findall("error")):
            failed.append((case.get("name"), (problem.get("message") or problem.text or "").strip()))
    return int(clocks), failed


def _rtl_checks(cell, hits: Counter, waves_dir) -> dict:
    from ..build import BenchConfig, run
    registry = check_registry()
    unknown = [name for name in cell.params["checks"] if name not in registry]
    if unknown:
        raise ValueError(f"{cell.id}: unknown checks {unknown}")
    config = BenchConfig(simulator=cell.simulator, waves=waves_dir is not None, **cell.build_params)
    run_dir = Path(waves_dir) if waves_dir else Path(tempfile.mkdtemp(prefix="pacsim-regress-"))
    coverage_file = run_dir / "coverage.json"
    env = {SEED_ENV: str(cell.seed), "PACSIM_HOSTMEM": json.dumps(memory_settings(cell.memory, cell.seed)),
           CHECKS_ENV: ",".join(cell.params["checks"]), COVERAGE_FILE_ENV: str(coverage_file),
           MEMORY_NAME_ENV: cell.memory}
    try:
        tests, _, results_xml = run(config, "cocotb_regress", test_dir=run_dir, extra_env=env, check=False)
        clocks, failed = _failures(Path(results_xml))
        if coverage_file.exists():
            hits.update(json.loads(coverage_file.read_text()))
        if tests == 0:
            failed.append(("cocotb_regress", f"no test ran; log {run_dir / 'sim.log'}"))
    finally:
        if waves_dir is None:
            shutil.rmtree(run_dir, ignore_errors=True)
    if failed:
        name, message = failed[0]
        return {"verdict": "fail", "failing_check": name, "message": message[-4000:], "clocks": clocks}
    return {"verdict": "pass", "clocks": clocks}


def _fuzz(cell, hits: Counter) -> dict:
    from ..fuzz_isakmp import run_campaign
    with tempfile.TemporaryDirectory(prefix="pacsim-regress-fuzz-") as findings:
        result = run_campaign(cell.params.get("messages", 40), seed=cell.seed, findings_dir=findings)
        for sample in fuzz_samples(result.outcomes):
            hits.update(bins_of(sample))
        if result.escaped or not result.sa_survived:
            detail = Path(result.findings[0]).read_text() if result.findings else "the established SA did not survive"
            return {"verdict": "fail", "failing_check": "isakmp fuzz",
                    "message": f"{result.escaped} of {result.messages} messages escaped the daemon: {detail}"}
    return {"verdict": "pass", "clocks": None}


def _traffic(cell, hits: Counter) -> dict:
    _tests_on_path()
    from router_support import exchange, pattern

    from ..manual_vpn import ManualVpn
    from ..seed import seeded_random
    rng = seeded_random("traffic")
    sizes = [rng.randrange(1, 1400) for _ in range(cell.params.get("packets", 3))]
    vpn = ManualVpn(seed=cell.seed)

    async def run():
        with sampling(cell.memory, hits):
            network = await exchange(vpn, sizes)
        pc1, pc2 = network.hosts["pc1"], network.hosts["pc2"]
        problems = []
        if network.lost or network.routers["a"].drop_log or network.routers["b"].drop_log:
            problems.append(f"packets lost or dropped: {network.lost or ''}")
        if pc2.udp_payloads() != [pattern(size, n) for n, size in enumerate(sizes)]:
            problems.append(f"pc2 did not receive the UDP payloads of sizes {sizes}")
        if pc1.udp_payloads() != [pattern(size, n + 100) for n, size in enumerate(sizes)]:
            problems.append(f"pc1 did not receive the UDP payloads of sizes {sizes}")
        return problems
    problems = asyncio.run(run())
    if problems:
        return {"verdict": "fail", "failing_check": "two-router traffic", "message": "; ".join(problems)}
    return {"verdict": "pass", "clocks": None}


def run_cell(cell, env: dict | None = None, waves_dir=None) -> dict:
    """Run ``cell`` with ``env`` (more environment, e.g. the test-only fault)
    set; ``waves_dir``: write the RTL run's waveforms there. Returns the result dict."""
    from .campaign import Cell
    if isinstance(cell, dict):
        cell = Cell(**cell)
    hits = Counter()
    started = time.perf_counter()
    with _environment({**(env or {}), SEED_ENV: str(cell.seed)}):
        kill_worker_once(cell.id)
        try:
            if cell.kind == "fuzz":
                outcome = _fuzz(cell, hits)
            elif cell.kind == "traffic":
                outcome = _traffic(cell, hits)
            elif cell.simulator == "model":
                outcome = _model_checks(cell, hits)
            else:
                outcome = _rtl_checks(cell, hits, waves_dir)
        except Exception as error:            # noqa: BLE001 - the harness failing is the cell's verdict too
            outcome = {"verdict": "fail", "failing_check": "harness", "message": f"{type(error).__name__}: {error}"}
    return cell_result(cell, outcome, time.perf_counter() - started, dict(hits), versions(),
                       f"{platform.node()}:{os.getpid()}")


def cell_result(cell, outcome: dict, wall_s: float, bins=None, found_versions=None, worker=None) -> dict:
    """The result dict of ``cell`` (see the module docstring) from its ``outcome``
    (``verdict``, and ``failing_check``, ``message``, ``clocks`` when known)."""
    return {"cell_id": cell.id, "campaign": cell.campaign, "family": cell.family, "kind": cell.kind,
            "simulator": cell.simulator, "configuration": cell.configuration, "memory": cell.memory,
            "seed": cell.seed, "failing_check": None, "message": None, "clocks": None, **outcome,
            "wall_s": wall_s, "versions": found_versions or {}, "bins": bins or {}, "worker": worker}
