# Ref: spec/show-outputs.md §11 (show isakmp counters, Figures 48-26 to 48-37)
"""AlliedWare ``show isakmp counters[=category,...]``: the twelve
categories laid out as the manual's figures print them.

Each figure is described by :data:`FIGURES`: its title and a list of
parts, each a literal line (a heading, or ``""`` for a blank line),
:class:`Rows` (two-column ``name value   name value`` lines) or
:class:`Table` (a label with one value per column: the Good/Failed and
success/fail tables). The parts take the counters of their block in the
schema's order, so the names live in the schema
(:data:`pacsim.firmware.isakmp.counters.COUNTER_SCHEMAS`) only; a figure
that does not use every counter of its blocks, or wants more, raises.

Arguments of :func:`show_isakmp_counters`: ``groups``, a mapping of
category (``"main"``, ...) to ``{block: CounterSnapshot}`` where block is
the schema's group key (``"main"``, or ``"quick.initiator"``... for the
quick figure). Categories print in the order given, one blank line
between figures (the manual does not say; **inferred**).
"""
from collections.abc import Mapping
from dataclasses import dataclass

from ...cli.layout import CounterLayout, join_lines
from ...state.counters import CounterSnapshot

__all__ = ["Rows", "Table", "FIGURES", "show_isakmp_counters"]


@dataclass(frozen=True)
class Rows:
    """Two-column counter lines of ``block``: ``shape`` gives the names per
    line (``"2"`` or ``"1"``), ``/`` a blank line; ``layout`` the columns."""
    block: str
    shape: str
    layout: CounterLayout


@dataclass(frozen=True)
class Table:
    """Lines of ``block`` whose counters are ``(label, column)`` pairs: the
    label at ``indent``, each column's value right-aligned to its end in
    ``value_ends``; ``rows`` labels are taken in schema order."""
    block: str
    rows: int
    indent: int
    value_ends: tuple[int, ...]


def _rows(block, shape, left_name, left_end, right_name, right_end):
    return Rows(block, shape, CounterLayout(left_name, left_end, right_name, right_end))


_QUICK = (4, 36, 41, 72)
_AGG = ("aggressive", 1, 28, 31, 60)
_GEN = ("general", 2, 26, 30, 54)

#: category -> (title, parts), in the manual's figure order.
FIGURES = {
    "aggressive": ("Aggressive Mode Counters:", (
        "", _rows(_AGG[0], "2222/2222/222221/222221/2222222221/2222222221", *_AGG[1:]))),
    "general": ("ISAKMP General Counters", (
        "", _rows(_GEN[0], "12222/1/22/1/21/22121/22/1222222122222222122221/22221/2222", *_GEN[1:]))),
    "heartbeat": ("Heartbeat Mode Counters:", ("", _rows("heartbeat", "2222222", 2, 26, 30, 54))),
    "info": ("Informational Message Counters:", ("", _rows("info", "2" * 19, 2, 35, 37, 73))),
    "ipsec": ("IPSEC DOI Counters:", ("", _rows("ipsec", "22122221", 1, 28, 31, 59))),
    "main": ("Main Mode Counters:", (
        "", _rows("main", "222222/", 0, 29, 32, 60), _rows("main", "2222221/", 0, 29, 31, 60),
        _rows("main", "222221/222221/2222222221/2222222222", 0, 29, 32, 60))),
    "network": ("ISAKMP Network Counters", ("", _rows("network", "2121221", 2, 26, 31, 54))),
    "quick": ("Quick Mode Counters:", (
        "", "  General Counters: Initiator:", "", _rows("quick.initiator", "222222/", *_QUICK),
        "                    Responder:", "", _rows("quick.responder", "212222/", *_QUICK),
        "  Error Counters: Initiator: General errors:", "", _rows("quick.initiator.errors", "2222/", *_QUICK),
        "                             Receive Hash SA Nonce message errors:", "",
        _rows("quick.initiator.hashSaNonce", "21222122212222221/", *_QUICK),
        "                             Receive Connected message errors:", "",
        _rows("quick.initiator.connected", "21/", *_QUICK),
        "                  Responder: General errors:", "", _rows("quick.responder.errors", "22221", *_QUICK),
        "                              Receive Hash SA Nonce message errors:", "",
        _rows("quick.responder.hashSaNonce", "2222221222222221221/", *_QUICK),
        "                             Receive Hash message errors:", "",
        _rows("quick.responder.hash", "21", *_QUICK))),
    "sad": ("SAD Counters", (
        _rows("sad", "122", 2, 24, 30, 52), "  Find SA Counters:    success               fail",
        Table("sad", 6, 4, (29, 48)))),
    "spd": ("ISAKMP Policy Counters", ("", _rows("spd", "22222", 2, 24, 28, 52))),
    "transaction": ("Transaction Exchange Counters:", ("", _rows("transaction", "22222/222/2222", 2, 29, 32, 59))),
    "xdb": ("ISAKMP Xdb Counters", (
        "                                  Good       Failed", Table("xdb", 11, 2, (38, 51)))),
}


class _Cursor:
    """The counters of each block, taken in schema order."""

    def __init__(self, blocks: Mapping[str, CounterSnapshot]):
        self._items = {block: list(snapshot.items()) for block, snapshot in blocks.items()}
        self._next = dict.fromkeys(blocks, 0)

    def take(self, block: str, n: int) -> list:
        start = self._next[block]
        taken = self._items[block][start:start + n]
        if len(taken) != n:
            raise ValueError(f"the figure wants more counters of {block} than its schema has")
        self._next[block] = start + n
        return taken

    def check_used(self) -> None:
        for block, items in self._items.items():
            if self._next[block] != len(items):
                raise ValueError(f"the figure shows {self._next[block]} of the {len(items)} counters of {block}")


def _table_lines(part: Table, cursor: _Cursor) -> list[str]:
    lines = []
    for _ in range(part.rows):
        cells = cursor.take(part.block, len(part.value_ends))
        line = " " * part.indent + cells[0][0][0]
        for (_, value), end in zip(cells, part.value_ends):
            line += " " * max(end - len(line) - len(str(value)), 1) + str(value)
        lines.append(line)
    return lines


def _figure(category: str, blocks: Mapping[str, CounterSnapshot]) -> list[str]:
    title, parts = FIGURES[category]
    cursor = _Cursor(blocks)
    lines = [title]
    for part in parts:
        if isinstance(part, str):
            lines.append(part)
        elif isinstance(part, Table):
            lines += _table_lines(part, cursor)
        else:
            for shape in part.shape:
                if shape == "/":
                    lines.append("")
                else:
                    cells = cursor.take(part.block, int(shape))
                    lines.append(part.layout.row(*cells))
    cursor.check_used()
    return lines


def show_isakmp_counters(groups: Mapping[str, Mapping[str, CounterSnapshot]]) -> str:
    """``show isakmp counters[=...]`` (see the module docstring)."""
    lines = []
    for category, blocks in groups.items():
        if lines:
            lines.append("")
        lines += _figure(category, blocks)
    return join_lines(lines)
