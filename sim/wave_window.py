# Ref: ../docs/waves.md (only around the failure); IEEE 1364-2005 section 18 (VCD)
"""Waves only around a failure: the last N clocks kept in memory, dumped when a check fails.

No trace build is needed: while the block runs, a cocotb task samples the
save file's signals (:func:`~.waves.signal_groups`) at every rising CLK
edge into a ring of ``clocks`` entries. If the block raises (a failed
assertion, a protocol violation), the ring is written as
``pacsim_tb.vcd`` (pyvcd) with the failure as ``ann_phase`` = FAULT at its
last clock, followed by the usual save file (value names, markers: the
violated rules and ``FAILED CHECK``); the exception goes on. Use in a
cocotb test::

    async with failure_window(bus, folder, clocks=256):
        ...checks...
        await bus.finish()

Sampling every clock from Python costs simulation speed (about a
millisecond per clock); keep it to the part of a test under suspicion.
"""
import os
from collections import deque
from contextlib import asynccontextmanager
from pathlib import Path

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from .annotations import BenchPhase, annotation_port
from .rtl_bus import PCI_CLOCK_NS
from .waves import signal_groups, write_save_file

__all__ = ["failure_window", "WINDOW_DUMP"]

#: The dump a failure window writes, beside the save file ``pacsim.gtkw``.
WINDOW_DUMP = "pacsim_tb.vcd"


def _handle(dut, path: str):
    handle = dut
    for part in path.split("."):
        handle = getattr(handle, part)
    return handle


def _read(handle):
    try:
        return int(handle.value)
    except ValueError:        # X or Z on a 4-state simulator: keep the bits as text
        return str(handle.value).lower()


@asynccontextmanager
async def failure_window(bus, folder=None, clocks: int = 256, groups=None, top: str = "pacsim_tb"):
    """Keep the last ``clocks`` clocks of ``bus``'s bench (an
    :class:`~.rtl_bus.RtlBus`) while the block runs; on an exception write
    them into ``folder`` (default ``$PACSIM_TEST_DIR``) and re-raise.
    ``groups``: names of :func:`~.waves.signal_groups` to keep (default
    all; fewer sample faster); the phase annotation is always kept."""
    dut = bus.dut
    every = signal_groups(bus.cards)
    groups = list(every) if groups is None else list(groups)
    if set(groups) - set(every):
        raise ValueError(f"unknown signal groups {sorted(set(groups) - set(every))}; expected some of {list(every)}")
    if "Job" not in groups:             # the failure's marker is the phase annotation
        groups.append("Job")
    signals = [(path, width) for name in groups for path, width in every[name] if path != "clk"]
    handles = [_handle(dut, path) for path, _ in signals]
    ring = deque(maxlen=clocks)

    async def sample():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            ring.append((get_sim_time("ps"), [_read(h) for h in handles]))

    task = cocotb.start_soon(sample())
    try:
        yield ring
    except BaseException:
        task.cancel()
        _write(Path(folder or os.environ["PACSIM_TEST_DIR"]), list(ring), signals, top, bus.cards, groups)
        raise
    task.cancel()


def _write(folder: Path, samples: list, signals: list, top: str, cards: int, groups: list) -> Path:
    from vcd import VCDWriter

    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / WINDOW_DUMP
    fault = [k for k, (path, _) in enumerate(signals) if path == annotation_port("phase")][0]
    with open(dump, "w") as out, VCDWriter(out, timescale="1 ps", date="pacsim failure window") as vcd:
        clk = vcd.register_var(top, "clk", "wire", size=1, init=0)
        variables = []
        for (path, width), first in zip(signals, samples[0][1] if samples else [0] * len(signals)):
            scope, _, name = f"{top}.{path}".rpartition(".")
            variables.append(vcd.register_var(scope, name, "wire", size=width, init=first))
        half = PCI_CLOCK_NS * 1000 // 2
        for index, (time, values) in enumerate(samples):
            if index == len(samples) - 1:
                values = list(values)
                values[fault] = int(BenchPhase.FAULT)
            vcd.change(clk, time, 1)
            for variable, value in zip(variables, values):
                vcd.change(variable, time, value)
            vcd.change(clk, time + half, 0)
    write_save_file(folder / "pacsim.gtkw", dump, top=top, cards=cards, groups=groups)
    return dump
