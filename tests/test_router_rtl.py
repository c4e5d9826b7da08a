"""Co-simulation: two routers' traffic with the cards' RTL doing the crypto
(tests/cocotb_router.py on a bench of two cards on one PCI bus: each router
on its own RTL card for every bundle and mode, one router on the model, both
routers sharing one card, and concurrent driver callers on both cards), on
Verilator; and ``pacsim router --bus rtl --script`` with both routers on RTL cards."""
import subprocess
import sys
from pathlib import Path

import pytest

from pacsim.sim.build import BenchConfig, run

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_two_routers_on_two_rtl_cards():
    tests, failed, _ = run(BenchConfig(simulator="verilator", cards=2), "cocotb_router")
    assert tests == 11 and failed == 0


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
    assert "Accelerator .......... PAC (RTL on verilator, PCI device 4)" in out     # a> show enco
    assert "Accelerator .......... PAC (RTL on verilator, PCI device 5)" in out     # b> show enco
    assert "a on device 4, b on device 5" in result.stderr
    assert pcap.stat().st_size > 24
