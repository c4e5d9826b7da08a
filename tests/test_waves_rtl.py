"""The waveform as a debugging product, read back from a real traced run (Verilator, FST).

One short cocotb run (``tests/cocotb_waves.py``) serves every assertion:
the annotation signals name exactly the jobs the run handed the card, in
order, with their opcodes and channels; every translate filter the save
file names exists and decodes every value the dump holds for its signal;
the decoded transaction row agrees with the raw bus; the markers sit at
the first transaction and at every announced phase; the save file opens
on the first transaction.
"""
import json
import math
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import pywellen
from vcd.gtkw import GTKWFlag

from pacsim.contract.codes import Opcode
from pacsim.hdl.pci_protocol import PciCommand
from pacsim.sim.annotations import BenchPhase
from pacsim.sim.build import BenchConfig, build, run
from pacsim.sim.rtl_bus import PCI_CLOCK_NS
from pacsim.sim.wave_markers import read_markers, signal_changes
from pacsim.sim.wave_window import WINDOW_DUMP
from pacsim.sim.waves import OPEN_GROUPS
from required_tools import required_tool

TOP = "pacsim_tb"
#: The failure window of ``cocotb_waves.fault_leaves_a_window``, clocks.
WINDOW_CLOCKS = 200


def _traces(save: Path) -> list:
    """``[(trace name, filter file or None)]`` in save-file order, and the groups' flag lines."""
    traces, pending = [], None
    for line in save.read_text().splitlines():
        if re.match(r"\^\d+ ", line):
            pending = line.split(" ", 1)[1]
        elif line.startswith(f"{TOP}."):
            traces.append((line, pending))
            pending = None
    return traces


def _value_at(changes, time):
    value = None
    for t, v in changes:
        if t > time:
            break
        value = v
    return value


@pytest.fixture(scope="module")
def traced_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("waves")
    run(BenchConfig(simulator="verilator", waves=True), "cocotb_waves", "jobs_on_the_bus", test_dir=folder)
    return folder


@pytest.mark.slow
def test_waves_name_the_jobs_decode_every_value_and_open_on_the_first_transaction(traced_run):
    dump, save = traced_run / f"{TOP}.fst", traced_run / "pacsim.gtkw"
    jobs = json.loads((traced_run / "jobs.json").read_text())
    assert len(jobs) == 6 and len({job["tag"] for job in jobs}) == 6

    # --- the job on the bus: exactly the jobs run, in order, with their opcode and channels
    names = {name: f"{TOP}.ann_{name}" for name in ("job", "opcode", "cipher_channel", "mac_channel", "phase")}
    ann = signal_changes(dump, names.values())
    seen = [(t, v) for t, v in ann[names["job"]] if v]
    assert [v for _, v in seen] == [job["tag"] for job in jobs]
    for (time, _), job in zip(seen, jobs):
        assert Opcode(_value_at(ann[names["opcode"]], time)) == Opcode(job["opcode"])
        assert _value_at(ann[names["cipher_channel"]], time) == job["cipher_channel"]
        assert _value_at(ann[names["mac_channel"]], time) == job["mac_channel"]
    phases = [BenchPhase(v) for _, v in ann[names["phase"]] if v]
    assert phases == [BenchPhase.PROBE, BenchPhase.COPIES, BenchPhase.ESP, BenchPhase.COUNTERS]

    # --- every filter the save file names exists and decodes every value its signal holds
    traces = _traces(save)
    filtered = [(name, Path(file)) for name, file in traces if file]
    assert len(filtered) >= 15
    dumped = signal_changes(dump, [re.sub(r"\[\d+:0\]$", "", name) for name, _ in filtered])
    labels_of = {}
    for name, file in filtered:
        assert file.exists(), f"{name}: filter {file} is missing"
        match = re.search(r"\[(\d+):0\]$", name)
        digits = math.ceil((int(match.group(1)) + 1 if match else 1) / 4)
        labels = dict(line.split(" ", 1) for line in file.read_text().splitlines())
        values = {v for _, v in dumped[re.sub(r"\[\d+:0\]$", "", name)]}
        missing = {f"{v:0{digits}x}" for v in values} - set(labels)
        assert not missing, f"{name}: {file.name} has no name for {missing}"
        labels_of[name] = {int(k, 16): label for k, label in labels.items()}

    # FSM states by name, and the decoded transaction row against the raw bus
    target = labels_of[f"{TOP}.card.core.target.target_state[1:0]"]
    assert {"IDLE", "DATA"} <= set(target.values())
    raw = signal_changes(dump, [f"{TOP}.bus_cbe_n", f"{TOP}.bus_ad", f"{TOP}.mon.phase", f"{TOP}.mon.command",
                                f"{TOP}.mon.address", f"{TOP}.mon.termination"])
    phase_names = labels_of[f"{TOP}.mon.phase[1:0]"]
    command_names = labels_of[f"{TOP}.mon.command[3:0]"]
    addresses = [t for t, v in raw[f"{TOP}.mon.phase"] if phase_names[v] == "ADDRESS"]
    assert len(addresses) > 50
    for time in addresses:
        cbe = _value_at(raw[f"{TOP}.bus_cbe_n"], time)
        assert command_names[_value_at(raw[f"{TOP}.mon.command"], time)] == PciCommand(cbe).name
        assert _value_at(raw[f"{TOP}.mon.address"], time) == _value_at(raw[f"{TOP}.bus_ad"], time)
    ended = {labels_of[f"{TOP}.mon.termination[2:0]"][v] for _, v in raw[f"{TOP}.mon.termination"]}
    assert {"COMPLETED", "RETRY", "MASTER_ABORT"} <= ended
    assert {"DISCONNECT_WITH_DATA", "DISCONNECT_WITHOUT_DATA"} & ended

    # --- markers: the first transaction, then each phase at its annotation's time
    text = save.read_text()
    marker_names = re.findall(r"^\[markername\] ([A-Z])(.*)$", text, re.M)
    zoom_line = next(line for line in text.splitlines() if line.startswith("*"))
    _, cursor, *named = zoom_line[1:].split()
    times = [int(t) for t in named[:len(marker_names)]]
    labels = [label for _, label in marker_names]
    assert labels == ["first transaction", "phase PROBE", "phase COPIES", "phase ESP", "phase COUNTERS"] or \
        labels == ["phase PROBE", "first transaction", "phase COPIES", "phase ESP", "phase COUNTERS"]
    assert times[labels.index("first transaction")] == addresses[0] == int(cursor)
    phase_times = [t for t, v in ann[names["phase"]] if v]
    assert [t for t, label in zip(times, labels) if label.startswith("phase")] == phase_times

    # --- the first view: the first transaction, a few clocks in; PCI open, deeper groups collapsed
    start = int(re.search(r"^\[timestart\] (\d+)$", text, re.M).group(1))
    clock_ps = PCI_CLOCK_NS * 1000
    assert 0 < addresses[0] - start <= 4 * clock_ps
    begins = {name: GTKWFlag(int(flags, 16)) for flags, name in re.findall(r"^@(\w+)\n-(.+)$", text, re.M)
              if GTKWFlag(int(flags, 16)) & GTKWFlag.grp_begin}
    assert {name for name, flags in begins.items() if not flags & GTKWFlag.closed} == set(OPEN_GROUPS)
    assert begins["Card rings"] & GTKWFlag.closed



@pytest.mark.slow
def test_traced_and_untraced_runs_share_one_trace_capable_build(traced_run):
    """Tracing is a run-time switch: the traced run's build is the untraced one (no second
    compile); the untraced run on it writes no FST (``test_a_failed_check_...`` below)."""
    traced = build(BenchConfig(simulator="verilator", waves=True))
    assert build(BenchConfig(simulator="verilator", waves=False)) == traced
    assert (traced_run / f"{TOP}.fst").stat().st_size > 0
    assert "VM_TRACE_FST = 1" in (traced / "Vtop_classes.mk").read_text()

@pytest.mark.slow
def test_a_failed_check_leaves_a_dump_of_the_clocks_before_it_with_markers(tmp_path):
    """An untraced build: the failure window (:mod:`pacsim.sim.wave_window`) alone writes the dump."""
    run(BenchConfig(simulator="verilator", waves=False), "cocotb_waves", "fault_leaves_a_window",   # fails as expected
        test_dir=tmp_path, extra_env={"PACSIM_WINDOW_CLOCKS": str(WINDOW_CLOCKS)})
    assert "PARITY" in (tmp_path / "sim.log").read_text()
    dump, save = tmp_path / WINDOW_DUMP, tmp_path / "pacsim.gtkw"
    assert not (tmp_path / f"{TOP}.fst").exists()
    markers, unit_ps = read_markers(dump)
    labels = [m.label for m in markers]
    assert labels[-1] == "FAILED CHECK" and "violation PARITY" in labels
    clock = PCI_CLOCK_NS * 1000 / unit_ps
    rising = [t for t, v in signal_changes(dump, [f"{TOP}.clk"])[f"{TOP}.clk"] if v == 1]
    assert len(rising) == WINDOW_CLOCKS and rising[-1] - rising[0] == (WINDOW_CLOCKS - 1) * clock
    cycles = signal_changes(dump, [f"{TOP}.chk_cycle"])[f"{TOP}.chk_cycle"]
    assert cycles[0][1] > 2 * WINDOW_CLOCKS           # the run was longer than the window
    assert markers[-1].time == rising[-1]
    assert re.findall(r"^\[markername\] [A-Z](.*)$", save.read_text(), re.M) == labels
    # only the chosen groups (and the job annotations) were kept and are shown
    kept = {var.full_name for var in pywellen.Waveform(str(dump)).all_vars()}
    assert f"{TOP}.mon.termination" in kept and f"{TOP}.ann_phase" in kept
    assert f"{TOP}.card.core.target.target_state" not in kept
    shown = re.findall(r"^@\w+\n-(.+)$", save.read_text(), re.M)
    assert set(shown) == {"PCI bus", "Transaction", "Job", "Protocol checker"}


#: GTKWave Tcl: the view, the cursor, and every trace's value at the cursor as shown (translated), then a
#: screenshot of the screen and quit.
_PROBE_TCL = """set out [open {%(out)s} w]
puts $out "window [gtkwave::getWindowStartTime] [gtkwave::getWindowEndTime] marker [gtkwave::getMarker]"
for {set i 0} {$i < [gtkwave::getTotalNumTraces]} {incr i} {
    puts $out "trace [gtkwave::getTraceNameFromIndex $i]=[gtkwave::getTraceValueAtMarkerFromIndex $i]"
}
close $out
exec %(import)s -window root {%(png)s}
gtkwave::/File/Quit
"""


@pytest.mark.slow
def test_gtkwave_opens_on_the_first_transaction_showing_names(traced_run):
    """GTKWave itself, under Xvfb, on the save file: the view holds the first
    transaction and the rows there read as names; the screenshot is kept
    beside the run (``gtkwave.png``)."""
    xvfb, gtkwave = required_tool("Xvfb", "xvfb"), required_tool("gtkwave", "gtkwave")
    probe, out, png = traced_run / "probe.tcl", traced_run / "gtkwave.txt", traced_run / "gtkwave.png"
    probe.write_text(_PROBE_TCL % {"out": out, "png": png, "import": required_tool("import", "imagemagick")})
    display = f":{90 + os.getpid() % 500}"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1600x900x24"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)                    # the X server's start-up (not a timed assertion)
        subprocess.run([gtkwave, str(traced_run / "pacsim.gtkw"), "--script", str(probe)], check=True,
                       env={**os.environ, "DISPLAY": display}, capture_output=True, timeout=300)
    finally:
        server.terminate()
        server.wait()
    lines = out.read_text().splitlines()
    start, end, _, cursor = lines[0].split()[1:]
    shown = dict(line[len("trace "):].split("=", 1) for line in lines[1:])     # GTKWave shows leaf names
    first = min(t for t, v in signal_changes(traced_run / f"{TOP}.fst", [f"{TOP}.mon.phase"])[f"{TOP}.mon.phase"]
                if v == 1)
    assert int(start) < first == int(cursor) < int(end)
    assert 10 * PCI_CLOCK_NS * 1000 < int(end) - int(start) < 200 * PCI_CLOCK_NS * 1000
    # rows of the open groups, by name (GTKWave leaves collapsed groups' rows unevaluated)
    assert shown["phase[1:0]"] == "ADDRESS" and shown["termination[2:0]"] == "NONE"
    assert shown["command[3:0]"] == PciCommand(int(shown["bus_cbe_n[3:0]"], 16)).name
    assert shown["ann_phase[2:0]"] == "PROBE" and shown["ann_opcode[2:0]"] == "NONE"
    assert shown["target_state[1:0]"] == ""
    assert png.stat().st_size > 20_000
