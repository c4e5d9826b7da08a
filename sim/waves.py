# Ref: GTKWave 3.3 user's guide, save file format (groups, traces, translate filters, markers)
"""GTKWave save files for the bench's waveforms: named groups, value names, markers and a first view.

The groups follow the bench's structure: the resolved PCI bus, the decoded
transaction (:mod:`.vip.transactions`), the job it serves (the bench's
annotations, :mod:`.annotations`), who drives the bus, arbitration, each
card's target, registers, ring engine, bus master and datapath, the host
bridge, host memory and the protocol checker. Verilator and Icarus both put
the bench at ``pacsim_tb`` in the dump; a test checks every path here
against a real dump.

Every signal with named values (FSM states, enums, agent masks; see
:mod:`.wave_filters`) gets a translate filter file, written beside the save
file in ``filters/``. When the dump exists, the save file also carries
markers read from it (:mod:`.wave_markers`) and opens zoomed on the first
bus transaction with the cursor there; the PCI, transaction and job groups
are open, the deeper ones collapsed.
"""
import math
from pathlib import Path

from amaranth.hdl import Shape
from vcd.gtkw import GTKWColor, GTKWSave

from .annotations import ANNOTATIONS, annotation_port
from .vip.rules import Rule
from .wave_filters import agent_names, signal_values, write_filters

__all__ = ["SIGNAL_GROUPS", "OPEN_GROUPS", "signal_groups", "signal_path", "write_save_file", "waves_guide",
           "VIEW_CLOCKS", "SPAN_AT_ZOOM_0"]

#: Per-card groups: name -> [(signal path below the card, width)].
_CARD_GROUPS = {
    "target": [("core.target.target_state", 2), ("core.target.addr_q", 32), ("core.target.is_cfg", 1),
               ("core.target.is_read", 1), ("core.target.retry", 1)],
    "CSR": [("core.bar.addr", 14), ("core.bar.we", 1), ("core.bar.wdata", 32),
            ("core.bar.int_status_result", 1), ("core.bar.int_status_ring_error", 1)],
    "rings": [("core.ring.ring_state", 5), ("core.ring.cmd_index", 12), ("core.ring.res_index", 12),
              ("core.ring.status", 8), ("core.ring.src_left", 23), ("core.ring.out_left", 22),
              ("core.ring.jobs", 32)],
    "DMA": [("core.master.master_state", 3), ("core.master.idx", 8), ("core.master.status", 2)],
    "datapath": [("core.pipe.pipe_state", 4), ("core.pipe.done", 1), ("core.pipe.status", 8)],
}
#: Groups the save file opens expanded; the others start collapsed.
OPEN_GROUPS = ("PCI bus", "Transaction", "Job")
#: PCI clocks the first view spans.
VIEW_CLOCKS = 48
#: Dump units GTKWave's wave window spans at zoom 0 in the save file's window size (measured with
#: GTKWave 3.3 under Xvfb: each zoom step of -1 doubles the span).
SPAN_AT_ZOOM_0 = 4.9
_CONTROL = {"bus_frame_n", "bus_irdy_n", "bus_trdy_n", "bus_devsel_n", "bus_stop_n"}
_ADDRESS_DATA = {"bus_ad", "bus_cbe_n", "bus_par", "mon.address", "mon.byte_enables"}


def _card_name(k: int) -> str:
    """The bench's name of the card in slot ``k`` (see :mod:`.testbench`)."""
    return "card" if k == 0 else f"card{k}"


def signal_groups(cards: int = 1) -> dict:
    """group name -> [(signal path below the top module, width)] for a bench
    of ``cards`` cards; width 1 shows binary, wider shows hex."""
    agents = cards + 2
    names = [_card_name(k) for k in range(cards)]
    groups = {
        "PCI bus": [("clk", 1), ("rst", 1), ("bus_frame_n", 1), ("bus_irdy_n", 1),
                    ("bus_trdy_n", 1), ("bus_devsel_n", 1), ("bus_stop_n", 1), ("bus_ad", 32),
                    ("bus_cbe_n", 4), ("bus_par", 1), ("bus_perr_n", 1), ("bus_serr_n", 1),
                    ("inta_n", cards), *((f"{name}_idsel", 1) for name in names)],
        "Transaction": [("mon.phase", 2), ("mon.command", 4), ("mon.address", 32), ("mon.initiator", agents),
                        ("mon.byte_enables", 4), ("mon.words", 16), ("mon.termination", 3), ("mon.count", 32)],
        "Job": [(annotation_port(name), Shape.cast(shape).width) for name, shape in ANNOTATIONS.items()],
        "Drivers": [("res.bus__ad_drv", agents), ("res.bus__frame_n_drv", agents), ("res.bus__trdy_n_drv", agents)],
        "Arbitration": [*((f"{name}_{pin}", 1) for name in names for pin in ("req_n", "gnt_n")),
                        ("hb_req_n", 1), ("hb_gnt_n", 1)],
    }
    for name in names:
        label = "Card" if name == "card" else f"Card {name[4:]}"
        for group, signals in _CARD_GROUPS.items():
            groups[f"{label} {group}"] = [(f"{name}.{path}", width) for path, width in signals]
    groups.update({
        "Host bridge": [("hb_start", 1), ("hb_busy", 1), ("hb_command", 4), ("hb_address", 32),
                        ("hb_status", 2), ("bridge.master_state", 3), ("hb_retries", 32), ("hb_disconnects", 32)],
        "Host memory": [("mem_reads", 32), ("mem_writes", 32), ("mem_retries", 32),
                        ("mem_disconnects", 32)],
        "Protocol checker": [("chk_violations", len(Rule)), ("chk_count", 32), ("chk_first_rule", 8),
                             ("chk_cycle", 32)],
    })
    return groups


#: The groups of the one-card bench.
SIGNAL_GROUPS = signal_groups(1)


def signal_path(top: str, signal: str, width: int) -> str:
    """GTKWave's name of a bench signal: ``top.hier.name[msb:0]``."""
    suffix = f"[{width - 1}:0]" if width > 1 else ""
    return f"{top}.{signal}{suffix}"


def _colour(signal: str, named: bool):
    if signal in _CONTROL:
        return GTKWColor.yellow
    if signal in _ADDRESS_DATA:
        return GTKWColor.green
    if signal.startswith("ann_"):
        return GTKWColor.violet
    return GTKWColor.orange if named else None


def _view(markers, time_unit_ps: float):
    """``(timestart, zoom, cursor)`` in dump units: a window of
    :data:`VIEW_CLOCKS` clocks from a few clocks before the first transaction."""
    from .rtl_bus import PCI_CLOCK_NS
    clock = PCI_CLOCK_NS * 1000 / time_unit_ps
    first = next((m.time for m in markers if m.label == "first transaction"), None)
    if first is None:
        return 0, 0.0, -1
    start = max(0, int(first - 4 * clock))
    zoom = -math.log2(VIEW_CLOCKS * clock / SPAN_AT_ZOOM_0)
    return start, zoom, first


def write_save_file(path, dump_file, top: str = "pacsim_tb", cards: int = 1, build_dir=None,
                    groups=None) -> Path:
    """Write a GTKWave ``.gtkw`` file at ``path`` that opens ``dump_file``
    of a bench of ``cards`` cards, with translate filters in ``filters/``
    beside it; ``build_dir`` (the bench's build) caches the design's value
    names; ``groups``: the names of the groups to show (default all).
    Markers and the first view need ``dump_file`` to exist."""
    from .wave_markers import read_markers

    path, dump_file = Path(path), Path(dump_file)
    groups = {name: signals for name, signals in signal_groups(cards).items() if groups is None or name in groups}
    widths = {signal: width for signals in groups.values() for signal, width in signals}
    values = signal_values(cards, Path(build_dir) / "wave_values.json" if build_dir else None)
    filters = write_filters(path.parent / "filters", {s: values[s] for s in widths if s in values}, widths)
    markers, unit_ps = read_markers(dump_file, top) if dump_file.exists() else ([], 1.0)
    start, zoom, cursor = _view(markers, unit_ps)
    with open(path, "w") as out:
        save = GTKWSave(out)
        save.comment(f"pacsim bench of {cards} card(s): agents {', '.join(agent_names(cards))}")
        save.dumpfile(str(dump_file.resolve()))
        save.savefile(str(path.resolve()))
        save.timestart(start)
        save.size(1600, 900)
        save.signals_width(320)
        save.sst_expanded(True)
        save.zoom_markers(zoom, cursor, **{chr(ord("a") + k): m.time for k, m in enumerate(markers)})
        for k, marker in enumerate(markers):
            out.write(f"[markername] {chr(ord('A') + k)}{marker.label}\n")
        for group, signals in groups.items():
            with save.group(group, closed=group not in OPEN_GROUPS):
                for signal, width in signals:
                    save.trace(signal_path(top, signal, width), datafmt="hex" if width > 1 else "bin",
                               color=_colour(signal, signal in filters),
                               translate_filter_file=str(filters[signal]) if signal in filters else None)
    return path


def waves_guide(dump_file, save_file, top: str = "pacsim_tb") -> str:
    """What a user needs to open a bench run's waves: the files, the
    command, and the markers the save file holds (``pacsim demo --waves``
    prints it)."""
    from .wave_markers import read_markers

    dump_file, save_file = Path(dump_file), Path(save_file)
    markers, unit_ps = read_markers(dump_file, top)
    lines = [f"waveform: {dump_file} ({dump_file.stat().st_size / 1e6:.1f} MB)",
             f"GTKWave save file: {save_file} (value names in {save_file.parent / 'filters'})",
             f"open with: gtkwave {save_file}",
             "it opens zoomed on the first bus transaction, cursor there; named markers (Markers menu) at:"]
    lines += [f"  {chr(ord('A') + k)}  {m.time * unit_ps / 1e6:10.3f} us  {m.label}" for k, m in enumerate(markers)]
    return "\n".join(lines)
