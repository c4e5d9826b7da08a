# Ref: GTKWave 3.3 user's guide, "Translate Filter File"; Amaranth 0.5 FSM and enum shapes
"""Value names for the waveform, generated from the design: GTKWave translate filter files.

Nothing here is typed by hand; every table comes from a definition the
design or its contract already holds:

* the state of every Amaranth FSM (the state signal's decoder) and every
  enum-shaped signal (its enum), found by elaborating the bench;
* top-level bench signals that carry a contract or protocol enum without
  being enum-shaped (:data:`ENUM_SIGNALS`: the host bridge's command and
  status, the ring's and datapath's result status, the checker's first
  rule);
* the driver masks of the resolver and the transaction monitor's
  initiator, one-hot over the bench's agents (:func:`agent_names`).

:func:`signal_values` maps a signal path below the top (``card.core.target.target_state``)
to ``(filter name, {value: label})``; :func:`write_filters` writes one
file per filter name into a folder, in the hex format the save file shows.
"""
import json
import os
from pathlib import Path

from vcd.gtkw import make_translation_filter

from ..contract.codes import ResultStatus
from ..hdl.pci_master import MasterStatus
from ..hdl.pci_protocol import PciCommand
from .annotations import ANNOTATIONS, annotation_port
from .vip.rules import Rule

__all__ = ["ENUM_SIGNALS", "agent_names", "design_values", "signal_values", "write_filters", "filter_path"]

#: Bench signals (below the top) that hold a contract enum without an enum shape.
ENUM_SIGNALS = {
    "hb_command": PciCommand,
    "hb_status": MasterStatus,
    "chk_first_rule": Rule,
    "card.core.ring.status": ResultStatus,
    "card.core.pipe.status": ResultStatus,
}
#: Bench signals (below the top) that are one-hot masks over the agents.
AGENT_MASKS = ("res.bus__ad_drv", "res.bus__frame_n_drv", "res.bus__trdy_n_drv", "mon.initiator")


def agent_names(cards: int) -> list:
    """The bench's agents in resolver order (see :mod:`.testbench`)."""
    return ["card" if k == 0 else f"card{k}" for k in range(cards)] + ["host_bridge", "hostmem"]


def _agent_labels(cards: int) -> dict:
    """Every mask over the agents: none, one agent, or a contention of several."""
    names = agent_names(cards)
    labels = {0: "-"}
    for mask in range(1, 1 << len(names)):
        held = [name for k, name in enumerate(names) if mask >> k & 1]
        labels[mask] = held[0] if len(held) == 1 else "CONTENTION:" + "+".join(held)
    return labels


def design_values(cards: int = 1, cache: Path | None = None) -> dict:
    """``{signal path below the top: (filter name, {value: label})}`` for
    every FSM state and enum-shaped signal of the bench of ``cards`` cards
    (elaborated here, a few seconds; ``cache``, a JSON file, keeps the
    answer for one build)."""
    if cache is not None and Path(cache).exists():
        return {path: (name, {int(v): label for v, label in labels.items()})
                for path, (name, labels) in json.loads(Path(cache).read_text()).items()}
    from amaranth.hdl import Fragment
    from amaranth.hdl._ast import Format

    from .build import TOPLEVEL
    from .testbench import PciTestbench

    bench = PciTestbench(cards=cards)
    design = Fragment.get(bench, None).prepare(ports=bench.ports(), hierarchy=(TOPLEVEL,))
    found = {}
    for info in design.fragments.values():
        scope = ".".join(info.name[1:])
        for signal, name in info.signal_names.items():
            path = f"{scope}.{name}" if scope else name
            fmt = signal._format
            if isinstance(fmt, Format.Enum):
                found[path] = (fmt._name, dict(fmt._variants))
            elif signal.decoder is not None:       # an FSM's state: "NAME/value"
                found[path] = (f"fsm_{name}", _fsm_states(signal))
    if cache is not None:         # written whole, then renamed: parallel runs share the build
        partial = Path(f"{cache}.{os.getpid()}")
        partial.write_text(json.dumps(found, indent=1, sort_keys=True))
        partial.replace(cache)
    return found


def _fsm_states(signal) -> dict:
    """``{encoding: state name}`` of an Amaranth FSM's state signal."""
    states = {}
    for value in range(1 << len(signal)):
        try:
            states[value] = signal.decoder(value).rsplit("/", 1)[0]
        except KeyError:             # past the last state
            break
    return states


def signal_values(cards: int = 1, cache: Path | None = None) -> dict:
    """Every named signal of the bench: :func:`design_values` plus
    :data:`ENUM_SIGNALS` and the agent masks of :data:`AGENT_MASKS`."""
    values = design_values(cards, cache)
    for path, enum in ENUM_SIGNALS.items():
        labels = (enum.__name__, {int(member.value): member.name for member in enum})
        card_paths = [path.replace("card.", f"card{k}.", 1) for k in range(1, cards)] if path.startswith("card.") else []
        values.update((each, labels) for each in [path, *card_paths])
    for path in AGENT_MASKS:
        values[path] = (f"agents{cards}", _agent_labels(cards))
    for name in ANNOTATIONS:        # an annotation input holds 0 until the bench first sets it
        path = annotation_port(name)
        if path in values and 0 not in values[path][1]:
            values[path] = (f"{values[path][0]}_or_none", {0: "NONE", **values[path][1]})
    return values


def filter_path(folder, name: str) -> Path:
    """Where :func:`write_filters` puts filter ``name``."""
    return Path(folder) / f"{name}.txt"


def write_filters(folder, named: dict, widths: dict) -> dict:
    """Write a translate filter file per filter of ``named`` (``{path:
    (filter name, labels)}``, the signals to show) for signals of
    ``widths`` (``{path: bits}``); return ``{path: filter file}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for path, (name, labels) in named.items():
        width = widths[path]
        file = filter_path(folder, f"{name}_{width}")
        rows = sorted((value, label) for value, label in labels.items() if value < 1 << width)
        file.write_text(make_translation_filter(rows, datafmt="hex", size=width) + "\n")
        files[path] = file
    return files
