# Ref: GTKWave 3.3 user's guide, named markers; ../sim/vip/rules.py (rule names)
"""Markers for the save file, read from a bench dump (FST or VCD, with pywellen).

In time order: the first bus transaction (the transaction monitor's first
address phase), every phase the bench announced (``ann_phase``, see
:mod:`.annotations`), every protocol-checker rule seen broken (a bit newly
set in ``chk_violations``, named after its :class:`~.vip.rules.Rule`) and
every failed check the bench marked (``ann_phase`` = FAULT). Times are in
the dump's units; :func:`read_markers` also returns that unit in ps. Past
:data:`MAX_MARKERS`, failures and violations are kept before phases.
"""
from dataclasses import dataclass

from .annotations import BenchPhase, annotation_port
from .vip.rules import Rule
from .vip.transactions import BusPhase

__all__ = ["Marker", "MAX_MARKERS", "read_markers", "signal_changes"]

#: Named markers a GTKWave save file holds (A-Z).
MAX_MARKERS = 26

_PS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3, "us": 1e6, "ms": 1e9, "s": 1e12}


@dataclass(frozen=True)
class Marker:
    """A named instant of the dump: ``time`` in dump units, ``label``."""
    time: int
    label: str


def _open(dump):
    import pywellen
    wave = pywellen.Waveform(str(dump))
    return wave, {var.full_name: var for var in wave.all_vars()}


def signal_changes(dump, paths) -> dict:
    """``{path: [(time, value), ...]}`` of the dump's signals ``paths``
    (full names such as ``pacsim_tb.ann_job``); a missing one raises KeyError."""
    _, variables = _open(dump)
    return {path: [(time, value) for time, value in variables[path].signal] for path in paths}


def read_markers(dump, top: str = "pacsim_tb") -> tuple:
    """``([Marker, ...] in time order, dump time unit in ps)``."""
    wave, variables = _open(dump)
    unit_ps = wave.timescale.factor * _PS[str(wave.timescale.unit).rsplit(".", 1)[-1].lower()]

    def changes(name):
        var = variables.get(f"{top}.{name}")
        return [] if var is None else [(t, v) for t, v in var.signal if isinstance(v, int)]

    markers = [Marker(t, "first transaction") for t, v in changes("mon.phase") if v == BusPhase.ADDRESS.value][:1]
    for time, value in changes(annotation_port("phase")):
        if value == BenchPhase.FAULT:
            markers.append(Marker(time, "FAILED CHECK"))
        elif value and value in BenchPhase._value2member_map_:
            markers.append(Marker(time, f"phase {BenchPhase(value).name}"))
    seen = 0
    for time, value in changes("chk_violations"):
        for rule in Rule:
            if value >> rule & 1 and not seen >> rule & 1:
                markers.append(Marker(time, f"violation {rule.name}"))
        seen |= value
    # GTKWave names 26 markers: failures and violations first, then the first transaction, then phases
    kept = sorted(markers, key=lambda m: (not m.label.startswith(("FAILED", "violation")),
                                          m.label != "first transaction", m.time))[:MAX_MARKERS]
    return sorted(kept, key=lambda m: m.time), unit_ps
