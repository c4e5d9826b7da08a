"""Scaling of ``pacsim regress``, measured and printed (not asserted: the
machine is shared): the ``model`` campaign with 1 and 2 local Ray workers,
and through ``--address`` on a Ray cluster started separately here
(``ray start --head``, stopped again by the test). Each run must pass
every cell."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SEEDS = "2"
#: Ray's command line as `ray` (its console script may live in a bin folder other than the interpreter's: pip as
#: root on Debian puts scripts in /usr/local/bin).
RAY = [sys.executable, "-m", "ray.scripts.scripts"]


def _campaign(folder: Path, *options) -> dict:
    process = subprocess.run([sys.executable, "-m", "pacsim.cli", "regress", "model", "--seeds", SEEDS, "--json",
                              "--db", str(folder / "results.duckdb"), "--report", str(folder / "report.html"),
                              *options], capture_output=True, text=True, cwd=folder, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    summary = json.loads(process.stdout.splitlines()[-1])
    assert summary["failed"] == 0 and summary["cells"] == summary["passed"] == 12
    return summary


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_one_and_two_workers_and_a_cluster(tmp_path):
    one = _campaign(tmp_path, "--workers", "1")
    two = _campaign(tmp_path, "--workers", "2")
    port = _free_port()
    log = tmp_path / "ray-head.log"
    with open(log, "w") as output:
        head = subprocess.Popen([*RAY, "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
                                 "--include-dashboard=false", "--disable-usage-stats"],
                                stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(120):                             # until the head says it is up (at most a minute)
            if "Ray runtime started" in log.read_text() or head.poll() is not None:
                break
            time.sleep(0.5)
        assert head.poll() is None, log.read_text()[-2000:]
        cluster = _campaign(tmp_path, "--address", f"127.0.0.1:{port}")
    finally:
        os.killpg(head.pid, signal.SIGINT)              # what Ctrl-C does to `ray start --block`
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
    efficiency = two["cells_per_hour"] / (2 * one["cells_per_hour"])
    print(f"\nmodel campaign, {one['cells']} cells: 1 worker {one['cells_per_hour']:.0f} cells/h "
          f"({one['wall_s']:.1f} s); 2 workers {two['cells_per_hour']:.0f} cells/h ({two['wall_s']:.1f} s), "
          f"efficiency {efficiency:.2f}; cluster via --address {cluster['cells_per_hour']:.0f} cells/h "
          f"({cluster['wall_s']:.1f} s)")
