"""GTKWave save files for the bench's waveforms, with named signal groups.

The groups follow the bench's structure: the resolved PCI bus, who drives
it, the card's configuration and registers, its target and master state,
the copy engine, the host bridge, host memory and the protocol checker.
Signal paths differ by simulator (Verilator puts the design under ``TOP``),
so the file is written for the simulator that made the dump.
"""
from pathlib import Path

__all__ = ["SIGNAL_GROUPS", "write_save_file"]

#: group name -> [(signal path below the top module, width)]; width 1 shows
#: binary, wider shows hex.
SIGNAL_GROUPS = {
    "PCI bus": [("clk", 1), ("rst", 1), ("bus_frame_n", 1), ("bus_irdy_n", 1),
                ("bus_trdy_n", 1), ("bus_devsel_n", 1), ("bus_stop_n", 1), ("bus_ad", 32),
                ("bus_cbe_n", 4), ("bus_par", 1), ("bus_perr_n", 1), ("bus_serr_n", 1),
                ("inta_n", 1), ("card_idsel", 1)],
    "Arbitration": [("card_req_n", 1), ("card_gnt_n", 1), ("hb_req_n", 1), ("hb_gnt_n", 1)],
    "Card target": [("card.target.fsm_state", 2), ("card.target.addr_q", 32),
                    ("card.target.is_cfg", 1), ("card.target.is_read", 1), ("card.target.retry", 1)],
    "Card CSR": [("card.bar.addr", 10), ("card.bar.we", 1), ("card.bar.wdata", 32),
                 ("card.bar.int_status_copy_done", 1), ("card.bar.int_status_dma_error", 1),
                 ("card.bar.copy_src_address", 32), ("card.bar.copy_dst_address", 32),
                 ("card.bar.copy_len_length", 24)],
    "Card DMA": [("card.copy.fsm_state", 3), ("card.copy.busy", 1), ("card.copy.count", 32),
                 ("card.copy.error", 4), ("card.master.fsm_state", 3), ("card.master.idx", 8),
                 ("card.master.status", 2)],
    "Host bridge": [("hb_start", 1), ("hb_busy", 1), ("hb_command", 4), ("hb_address", 32),
                    ("hb_status", 2)],
    "Protocol checker": [("chk_violations", 32), ("chk_count", 32), ("chk_first_rule", 8)],
}


def _path(simulator: str, top: str, signal: str, width: int) -> str:
    prefix = f"TOP.{top}" if simulator == "verilator" else top
    suffix = f"[{width - 1}:0]" if width > 1 else ""
    return f"{prefix}.{signal}{suffix}"


def write_save_file(path, dump_file, simulator: str, top: str = "pacsim_tb") -> Path:
    """Write a GTKWave ``.gtkw`` file at ``path`` that opens ``dump_file``."""
    path = Path(path)
    lines = [f'[dumpfile] "{Path(dump_file).resolve()}"', f'[savefile] "{path.resolve()}"',
             "[timestart] 0", "[size] 1600 900", "[sst_expanded] 1", "[signals_width] 320"]
    for group, signals in SIGNAL_GROUPS.items():
        lines += ["@800200", f"-{group}"]
        for signal, width in signals:
            lines += ["@22" if width > 1 else "@28", _path(simulator, top, signal, width)]
        lines += ["@1000200", f"-{group}"]
    path.write_text("\n".join(lines) + "\n")
    return path
