"""GTKWave save files for the bench's waveforms, with named signal groups.

The groups follow the bench's structure: the resolved PCI bus, who drives
it, arbitration, the card's target, registers, ring engine, bus master and
datapath, the host bridge, host memory and the protocol checker.
Verilator and Icarus both put the bench at ``pacsim_tb`` in the dump; a
test checks every path here against a real dump.
"""
from pathlib import Path

__all__ = ["SIGNAL_GROUPS", "signal_path", "write_save_file"]

#: group name -> [(signal path below the top module, width)]; width 1 shows
#: binary, wider shows hex.
SIGNAL_GROUPS = {
    "PCI bus": [("clk", 1), ("rst", 1), ("bus_frame_n", 1), ("bus_irdy_n", 1),
                ("bus_trdy_n", 1), ("bus_devsel_n", 1), ("bus_stop_n", 1), ("bus_ad", 32),
                ("bus_cbe_n", 4), ("bus_par", 1), ("bus_perr_n", 1), ("bus_serr_n", 1),
                ("bus_inta_n", 1), ("card_idsel", 1)],
    "Drivers": [("res.bus__ad_drv", 3), ("res.bus__frame_n_drv", 3), ("res.bus__trdy_n_drv", 3)],
    "Arbitration": [("card_req_n", 1), ("card_gnt_n", 1), ("hb_req_n", 1), ("hb_gnt_n", 1)],
    "Card target": [("card.core.target.target_state", 2), ("card.core.target.addr_q", 32),
                    ("card.core.target.is_cfg", 1), ("card.core.target.is_read", 1),
                    ("card.core.target.retry", 1)],
    "Card CSR": [("card.core.bar.addr", 14), ("card.core.bar.we", 1), ("card.core.bar.wdata", 32),
                 ("card.core.bar.int_status_result", 1), ("card.core.bar.int_status_ring_error", 1)],
    "Card rings": [("card.core.ring.ring_state", 5), ("card.core.ring.cmd_index", 12),
                   ("card.core.ring.res_index", 12), ("card.core.ring.status", 8),
                   ("card.core.ring.src_left", 23), ("card.core.ring.out_left", 22),
                   ("card.core.ring.jobs", 32)],
    "Card DMA": [("card.core.master.master_state", 3), ("card.core.master.idx", 8),
                 ("card.core.master.status", 2)],
    "Card datapath": [("card.core.pipe.pipe_state", 4), ("card.core.pipe.done", 1),
                      ("card.core.pipe.status", 8)],
    "Host bridge": [("hb_start", 1), ("hb_busy", 1), ("hb_command", 4), ("hb_address", 32),
                    ("hb_status", 2), ("hb_retries", 32), ("hb_disconnects", 32)],
    "Host memory": [("mem_reads", 32), ("mem_writes", 32), ("mem_retries", 32),
                    ("mem_disconnects", 32)],
    "Protocol checker": [("chk_violations", 23), ("chk_count", 32), ("chk_first_rule", 8),
                         ("chk_cycle", 32)],
}


def signal_path(top: str, signal: str, width: int) -> str:
    """GTKWave's name of a bench signal: ``top.hier.name[msb:0]``."""
    suffix = f"[{width - 1}:0]" if width > 1 else ""
    return f"{top}.{signal}{suffix}"


def write_save_file(path, dump_file, top: str = "pacsim_tb") -> Path:
    """Write a GTKWave ``.gtkw`` file at ``path`` that opens ``dump_file``."""
    path = Path(path)
    lines = [f'[dumpfile] "{Path(dump_file).resolve()}"', f'[savefile] "{path.resolve()}"',
             "[timestart] 0", "[size] 1600 900", "[sst_expanded] 1", "[signals_width] 320"]
    for group, signals in SIGNAL_GROUPS.items():
        lines += ["@800200", f"-{group}"]
        for signal, width in signals:
            lines += ["@22" if width > 1 else "@28", signal_path(top, signal, width)]
        lines += ["@1000200", f"-{group}"]
    path.write_text("\n".join(lines) + "\n")
    return path
