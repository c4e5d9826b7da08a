# Ref: spec/show-outputs.md "Conventions used in this document"
"""Building blocks of the ``show`` displays' layouts.

The manual's displays use three layouts, all reproduced here:

- *leader lines*: ``Label ........ value`` with the value at a fixed
  column (:func:`leader`); some labels in the figures have no blank before
  the dots (``Respond Bad SPI.........``), which ``tight=True`` gives;
- *tables*: fixed-width columns under a heading and a dashed rule
  (:func:`columns`);
- *two-column counter lists*: ``name value   name value`` with names starting
  at fixed columns and values right-aligned to fixed columns
  (:class:`CounterLayout`).

Lines never end in blanks (some figures have trailing blanks from the text
extraction; the displays do not copy them).
"""
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["leader", "columns", "CounterLayout", "join_lines", "flag"]


def leader(label: str, value: object, column: int, indent: int = 0, tight: bool = False) -> str:
    """``label`` at ``indent``, a dotted leader, and ``value`` starting at
    ``column`` (0-based). At least one dot is written."""
    head = " " * indent + label + ("" if tight else " ")
    dots = max(column - 1 - len(head), 1)
    return (head + "." * dots + " " + str(value)).rstrip()


def columns(values: Sequence[object], widths: Sequence[int], right: Iterable[int] = ()) -> str:
    """One table row: each value left-aligned in its width (right-aligned
    for the indices in ``right``); the last value is not padded. A value
    that fills or overflows its column still gets one blank after it (a
    right-aligned one, before it)."""
    right = set(right)
    out = ""
    last = len(values) - 1
    for i, (v, w) in enumerate(zip(values, widths)):
        s = str(v)
        if i in right:
            s = s.rjust(w)
            if out and not out.endswith(" ") and not s.startswith(" "):
                s = " " + s
        elif i != last:
            s = s.ljust(w) if len(s) < w else s + " "
        out += s
    return out.rstrip()


def flag(value: bool) -> str:
    """A boolean as the displays print it: ``TRUE`` or ``FALSE``."""
    return "TRUE" if value else "FALSE"


@dataclass(frozen=True)
class CounterLayout:
    """Column positions of a two-column counter list (0-based): where the
    left and right names start, and where the left and right values end
    (the column just after a value's last character, as the "observed
    layout" lines of spec/show-outputs.md count)."""
    left_name: int = 2
    left_value_end: int = 29
    right_name: int = 32
    right_value_end: int = 59

    def row(self, left: tuple[str, int] | None, right: tuple[str, int] | None = None) -> str:
        """One line: ``left`` and ``right`` are (name, value) or None."""
        line = ""
        if left is not None:
            name, value = left
            line = self._cell(line, self.left_name, name, value, self.left_value_end)
        if right is not None:
            name, value = right
            line = self._cell(line, self.right_name, name, value, self.right_value_end)
        return line.rstrip()

    @staticmethod
    def _cell(line: str, name_col: int, name: str, value: int, value_end: int) -> str:
        text = str(value)
        line = line.ljust(name_col) + name
        gap = value_end - len(line) - len(text)
        return line + " " * max(gap, 1) + text

    def rows(self, pairs: Iterable[tuple[tuple[str, int] | None, tuple[str, int] | None]]) -> list[str]:
        """Several rows."""
        return [self.row(left, right) for left, right in pairs]


def join_lines(lines: Iterable[str]) -> str:
    """The display text: lines joined with newlines, no trailing blanks."""
    return "\n".join(line.rstrip() for line in lines)
