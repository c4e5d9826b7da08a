"""``pacsim regress selftest`` on a local Ray instance, run once for the module.

The run has the test-only model fault set (576-byte cipher regions
corrupted) and kills the worker process that starts one cell. Checked from
that one run: the JSON summary, every cell stored exactly once (the killed
cell too, retried to a pass), the fault caught in every cipher cell, its
printed rerun command reproducing the same failure, the small RTL cell's
clocks and coverage, and the HTML report rendered by headless Chromium.
"""
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pacsim.sim.regress.campaign import load_campaign
from pacsim.sim.test_fault import FAULT_ENV, KILL_CELL_ENV, KILL_MARK_ENV

pytestmark = pytest.mark.slow

KILLED = "selftest/hash-copy-differential/model/small/zero_wait/1"
FAULT = "cipher_payload=576"
PACSIM = [sys.executable, "-m", "pacsim.cli"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """The run: ``(process, summary, folder)``."""
    folder = tmp_path_factory.mktemp("regress")
    env = {**os.environ, FAULT_ENV: FAULT, KILL_CELL_ENV: KILLED, KILL_MARK_ENV: str(folder / "killed")}
    process = subprocess.run([*PACSIM, "regress", "selftest", "--seeds", "3", "--workers", "2", "--db",
                              str(folder / "results.duckdb"), "--report", str(folder / "report.html"), "--json"],
                             capture_output=True, text=True, env=env, cwd=folder, timeout=900)
    print(process.stderr[-3000:])
    return process, json.loads(process.stdout.splitlines()[-1]), folder


def test_summary_and_every_cell_once(campaign):
    process, summary, folder = campaign
    expected = {cell.id for cell in load_campaign("selftest").cells(3)}
    assert process.returncode == 1, "the faulty cipher cells fail the campaign"
    assert {"cells", "passed", "failed", "wall_s", "cells_per_hour", "coverage"} <= set(summary)
    assert summary["cells"] == len(expected) == 8
    assert (summary["passed"], summary["failed"]) == (5, 3)
    assert 0 < summary["coverage"] < 1 and summary["cells_per_hour"] > 0 and summary["wall_s"] > 0
    db = duckdb.connect(str(folder / "results.duckdb"), read_only=True)
    rows = db.execute("SELECT cell_id, verdict, worker, clocks, bins FROM cells WHERE run_id = ?",
                      [summary["run_id"]]).fetchall()
    assert sorted(r[0] for r in rows) == sorted(expected), "each cell exactly once"
    killed_pid = int((folder / "killed").read_text())
    (killed,) = [r for r in rows if r[0] == KILLED]
    assert killed[1] == "pass" and not killed[2].endswith(f":{killed_pid}"), "retried on another worker process"
    (rtl,) = [r for r in rows if "/verilator/" in r[0]]
    assert rtl[1] == "pass" and rtl[3] > 1000 and json.loads(rtl[4]).get("memory:slow_random/COPY", 0) >= 8
    stored = db.execute("SELECT cells, passed, failed, coverage FROM campaigns WHERE run_id = ?",
                        [summary["run_id"]]).fetchone()
    assert stored == (8, 5, 3, pytest.approx(summary["coverage"], abs=1e-4))
    assert db.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [summary["run_id"]]).fetchone()[0] > 20


def test_fault_caught_and_rerun_command_reproduces_it(campaign):
    process, summary, folder = campaign
    failed = sorted(f["cell"] for f in summary["failures"])
    assert failed == [f"selftest/cipher-differential/model/default/zero_wait/{seed}" for seed in range(3)]
    commands = re.findall(r"reproduce: (.*)", process.stderr)
    assert len(commands) == 3
    command = commands[0]
    assert command.startswith(f"{FAULT_ENV}={FAULT} pacsim regress --rerun {failed[0]} --waves ")
    words = shlex.split(command)
    env = {**os.environ, **dict(w.split("=", 1) for w in words[:1])}
    rerun = subprocess.run([*PACSIM, *words[2:]], capture_output=True, text=True, env=env, cwd=folder, timeout=300)
    assert rerun.returncode == 1
    assert f"{failed[0]}: fail in check_cipher_differential" in rerun.stdout
    assert "576 bytes: ENCODE differs from the reference" in rerun.stdout
    clean = subprocess.run([*PACSIM, *words[2:]], capture_output=True, text=True, cwd=folder, timeout=300,
                           env={k: v for k, v in os.environ.items() if k != FAULT_ENV})
    assert clean.returncode == 0 and f"{failed[0]}: pass" in clean.stdout


def _png_size(path: Path) -> tuple:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def _screenshot(page: Path, png: Path) -> None:
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1280,2400", page.as_uri()],
                   check=True, capture_output=True, timeout=120)


def test_html_report_renders_in_headless_chromium(campaign):
    _, summary, folder = campaign
    page = (folder / "report.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count("<svg") == 7 and page.count("<table>") >= 10
    for heading in ("Pass rate by axis", "Simulation speed", "Functional coverage", "Slowest cells", "Failures"):
        assert f"<h2>{heading}</h2>" in page
    assert f"{FAULT_ENV}={FAULT} pacsim regress --rerun selftest/cipher-differential" in page
    assert "cipher:ENCODE/" in page or "ENCODE/" in page, "the coverage holes are listed"
    assert shutil.which("chromium"), "Chromium from Debian (scripts/setup.sh)"
    blank = folder / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    _screenshot(folder / "report.html", folder / "report.png")
    _screenshot(blank, folder / "blank.png")
    assert _png_size(folder / "report.png") == (1280, 2400)
    report_bytes, blank_bytes = (folder / "report.png").stat().st_size, (folder / "blank.png").stat().st_size
    assert report_bytes > 20 * blank_bytes, f"the report rendered to {report_bytes} bytes of PNG ({blank_bytes} blank)"
