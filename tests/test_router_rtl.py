"""Co-simulation: two routers' traffic with the card's RTL doing the crypto
(tests/cocotb_router.py: one router on the RTL card and one on the model
for each bundle and mode, and both routers sharing the RTL card), on
Verilator; and ``pacsim router --bus rtl --script``."""
import subprocess
import sys
from pathlib import Path

import pytest

from pacsim.sim.build import BenchConfig, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_two_routers_on_the_rtl_card():
    tests, failed, _ = run(BenchConfig(simulator="verilator"), "cocotb_router")
    assert tests == 8 and failed == 0


@pytest.mark.slow
def test_router_command_on_the_rtl_bus(tmp_path):
    pcap = tmp_path / "wan.pcap"
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", "router", "--bus", "rtl", "--sim", "verilator",
                             "--script", "docs/two-routers.txt", "--pcap", str(pcap)],
                            capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "pc1 -> pc2 UDP 100 bytes: delivered" in out and "#3: delivered" in out
    assert "pc2 -> pc1 ICMP 56 bytes: reply received" in out
    assert "Accelerator .......... PAC (RTL on verilator, PCI bus)" in out       # a> show enco
    assert "router a ran on the card's RTL" in result.stderr
    assert pcap.stat().st_size > 24
