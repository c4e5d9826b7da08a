# Ref: GTKWave 3.3 user's guide, save file format (groups, traces)
"""GTKWave save files for the bench's waveforms, with named signal groups.

The groups follow the bench's structure: the resolved PCI bus, who drives
it, arbitration, each card's target, registers, ring engine, bus master and
datapath, the host bridge, host memory and the protocol checker.
Verilator and Icarus both put the bench at ``pacsim_tb`` in the dump; a
test checks every path here against a real dump.
"""
from pathlib import Path

from .vip.rules import Rule

__all__ = ["SIGNAL_GROUPS", "signal_groups", "signal_path", "write_save_file"]

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
                        ("hb_status", 2), ("hb_retries", 32), ("hb_disconnects", 32)],
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


def write_save_file(path, dump_file, top: str = "pacsim_tb", cards: int = 1) -> Path:
    """Write a GTKWave ``.gtkw`` file at ``path`` that opens ``dump_file``
    of a bench of ``cards`` cards."""
    path = Path(path)
    lines = [f'[dumpfile] "{Path(dump_file).resolve()}"', f'[savefile] "{path.resolve()}"',
             "[timestart] 0", "[size] 1600 900", "[sst_expanded] 1", "[signals_width] 320"]
    for group, signals in signal_groups(cards).items():
        lines += ["@800200", f"-{group}"]
        for signal, width in signals:
            lines += ["@22" if width > 1 else "@28", signal_path(top, signal, width)]
        lines += ["@1000200", f"-{group}"]
    path.write_text("\n".join(lines) + "\n")
    return path
