"""The ``pacsim`` command line.

Subcommands: ``demo`` (build the card, probe it over PCI, run copies),
``bench dma`` (copy throughput, JSON lines with ``--json``), ``verilog``
(the card's Verilog), ``regmap`` (the register map as Markdown).
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]


def _console():
    from rich.console import Console
    return Console(stderr=False, highlight=False)


def cmd_verilog(args) -> int:
    from amaranth.back import verilog

    from .hdl.card import PacCard
    text = verilog.convert(PacCard(burst_words=args.burst_words), name="pac_card")
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output} ({len(text)} bytes, top module pac_card)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def cmd_regmap(args) -> int:
    from .hdl.regmap import BAR0, CONFIG
    sys.stdout.write(CONFIG.render_markdown() + "\n" + BAR0.render_markdown())
    return 0


def _run_rtl(module: str, simulator: str, *, waves_dir=None, env=None, progress=True):
    """Build (with a progress display) and run one cocotb entry point; return its report."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .sim.build import BenchConfig, build, run
    from .sim.report import REPORT_ENV, read_report

    config = BenchConfig(simulator=simulator, waves=waves_dir is not None)
    report_file = Path(tempfile.mkstemp(prefix="pacsim-", suffix=".json")[1])
    run_env = dict(env or {}, **{REPORT_ENV: str(report_file)})
    if progress:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      transient=False) as bar:
            task = bar.add_task("build", total=None)
            build(config, log=lambda message: bar.update(task, description=message))
            bar.update(task, description=f"running {module.rsplit('.', 1)[-1]} on {simulator}")
            run(config, module, test_dir=waves_dir, extra_env=run_env)
            bar.update(task, description="simulation done")
    else:
        run(config, module, test_dir=waves_dir, extra_env=run_env)
    report = read_report(report_file)
    report_file.unlink()
    return report


def cmd_demo(args) -> int:
    from rich.table import Table

    from .hdl.regmap import CONFIG
    from .sim.waves import write_save_file

    console = _console()
    waves_dir = Path(args.waves).resolve() if args.waves else None
    if waves_dir:
        waves_dir.mkdir(parents=True, exist_ok=True)
    console.rule("pacsim demo: the PCI Accelerator Card on a simulated PCI bus")
    started = time.perf_counter()
    report = _run_rtl("pacsim.sim.cocotb_tests.demo", args.sim, waves_dir=waves_dir)
    console.print(f"simulator: {report['simulator']}; {report['clocks']} PCI clocks "
                  f"({report['clocks'] * 30 / 1000:.1f} us at 33 MHz) in "
                  f"{time.perf_counter() - started:.1f} s wall")

    header = Table(title=f"Configuration header of device {report['device']} (read over PCI)")
    for column in ("offset", "register", "value", "fields"):
        header.add_column(column)
    for name, entry in report["config_header"].items():
        reg = getattr(CONFIG, name)
        fields = ", ".join(f"{k}={v:#x}" for k, v in reg.decode(entry["value"]).items() if v)
        header.add_row(f"{entry['offset']:#04x}", name, f"{entry['value']:#010x}", fields)
    console.print(header)
    ident = report["identity"]
    console.print(f"BAR0: {ident['bar0_size']} bytes of memory space, assigned at {report['bar0']:#010x}")
    console.print(f"card: vendor {ident['vendor_id']:#06x} device {ident['device_id']:#06x} "
                  f"revision {ident['revision_id']} class {ident['class_code']:#08x}, register map "
                  f"v{'.'.join(map(str, ident['version']))}, capabilities "
                  + ", ".join(f"{k}={v}" for k, v in ident["caps"].items()))

    copies = Table(title="Copies (bus-master DMA, completion by INTA#)")
    for column in ("bytes", "src", "dst", "PCI clocks", "bytes/clock", "verified"):
        copies.add_column(column, justify="right")
    for c in report["copies"]:
        copies.add_row(str(c["bytes"]), f"{c['src']:#x}", f"{c['dst']:#x}", str(c["pci_clocks"]),
                       f"{c['bytes_per_clock']:.3f}", "yes" if c["verified"] else "NO")
    console.print(copies)
    console.print(f"bad command: {report['rejected']}")
    console.print("card counters: " + ", ".join(f"{k}={v}" for k, v in report["counters"].items()))
    console.print("config status: " + ", ".join(f"{k}={v}" for k, v in report["config_status"].items() if v))
    console.print(report["checker"])
    if waves_dir:
        dump = waves_dir / "pacsim_tb.fst"
        save = write_save_file(waves_dir / "pacsim.gtkw", dump)
        console.print(f"waveform: {dump}\nGTKWave save file: {save}\nopen with: gtkwave {save}")
    return 0


def cmd_bench(args) -> int:
    if args.what != "dma":
        raise SystemExit(f"unknown bench {args.what!r}")
    rows = []
    if args.bus in ("rtl", "both"):
        rows.append(_run_rtl("pacsim.sim.cocotb_tests.bench_dma", args.sim, progress=not args.json,
                             env={"PACSIM_BENCH_BYTES": str(args.bytes)}))
    if args.bus in ("model", "both"):
        from .sim.bench_model import bench_dma_model
        rows.append(bench_dma_model(args.bytes))
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            print(", ".join(f"{k}={v}" for k, v in row.items()))
    return 0


def main(argv=None) -> int:
    from .sim.build import SIMULATORS, simulator_from_env

    parser = argparse.ArgumentParser(prog="pacsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("verilog", help="write the card's Verilog")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--burst-words", type=int, default=128, help="DMA buffer, dwords (default 128)")
    p.set_defaults(func=cmd_verilog)

    p = sub.add_parser("regmap", help="print the register map (Markdown)")
    p.set_defaults(func=cmd_regmap)

    p = sub.add_parser("demo", help="build the card, probe it over PCI, run copies")
    p.add_argument("--sim", choices=SIMULATORS, default=simulator_from_env())
    p.add_argument("--waves", metavar="DIR", help="write an FST and a GTKWave save file into DIR")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="measure throughput")
    p.add_argument("what", choices=["dma"])
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--bus", choices=["rtl", "model", "both"], default="both")
    p.add_argument("--sim", choices=SIMULATORS, default=simulator_from_env())
    p.add_argument("--bytes", type=int, default=65536, help="copy size (default 64 KiB)")
    p.set_defaults(func=cmd_bench)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
