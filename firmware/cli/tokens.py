# Ref: spec/ipsec-commands.md §0.1, §0.3 (names in double quotes), §7.1 item 8
"""Splitting a command line into words.

A line is a sequence of words separated by blanks. A word is ``KEYWORD`` or
``KEYWORD=value``; a value (or a part of it) may be in double quotes to hold
blanks (``pol="my vpn"``). Besides the plain ``"``, the typographic quotes
``“`` and ``”`` are taken as quote marks, because the manual's own example
``str=”1 and 2"`` (L2677) mixes them. A word ``KEYWORD=`` followed by a blank
and a word without ``=`` takes that word as its value, as in the manual's
``pol= "my_vpn"`` (L4001).

A ``?`` at the end of a word outside quotes asks for help: a lone ``?``
lists what can come next, ``sas?`` what starts with ``sas``, ``key=?`` the
values of KEYmanagement.
"""
from dataclasses import dataclass

from .errors import MalformedLine

__all__ = ["Token", "tokenize", "QUOTES"]

#: Characters accepted as double quotes (opening or closing).
QUOTES = frozenset('"\u201c\u201d')


@dataclass(frozen=True)
class Token:
    """One word of a line.

    ``keyword`` is the text before ``=`` (the whole word if there is none);
    ``value`` the text after it with quotes removed, or None when the word
    has no ``=``; ``quoted`` whether any of the value was quoted; ``column``
    the 0-based position of the word in the line; ``help`` whether the word
    ended with ``?`` (the ``?`` is not part of keyword or value).
    """
    keyword: str
    value: str | None = None
    quoted: bool = False
    column: int = 0
    help: bool = False


def _split(line: str) -> list[tuple[str, int, list[bool]]]:
    """Blank-separated words as (text without quotes, column, per-character
    quoted flags)."""
    words: list[tuple[str, int, list[bool]]] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        text: list[str] = []
        flags: list[bool] = []
        in_quote = False
        while i < n and (in_quote or not line[i].isspace()):
            ch = line[i]
            if ch in QUOTES:
                in_quote = not in_quote
            else:
                text.append(ch)
                flags.append(in_quote)
            i += 1
        if in_quote:
            raise MalformedLine(f"Unterminated quote in the word starting at column {start + 1}: {line[start:]}")
        words.append(("".join(text), start, flags))
    return words


def _has_quote(line: str, column: int) -> bool:
    """Whether the word starting at ``column`` contains a quote mark."""
    j = column
    while j < len(line) and not line[j].isspace():
        if line[j] in QUOTES:
            return True
        j += 1
    return False


def tokenize(line: str) -> list[Token]:
    """The words of ``line`` (see the module docstring). Raises
    :class:`~.errors.MalformedLine` for an unterminated quote or a word that
    starts with ``=``."""
    raw = _split(line)
    tokens: list[Token] = []
    k = 0
    while k < len(raw):
        text, column, flags = raw[k]
        # '=' outside quotes separates keyword and value
        eq = next((j for j, ch in enumerate(text) if ch == "=" and not flags[j]), None)
        help_ = False
        if text.endswith("?") and flags and not flags[-1]:
            help_ = True
            text, flags = text[:-1], flags[:-1]
        elif text == "?":
            help_ = True
            text, flags = "", []
        if eq is None:
            if any(flags):
                raise MalformedLine(f'A quoted value needs a keyword: "{text}" at column {column + 1}')
            tokens.append(Token(text, None, False, column, help_))
            k += 1
            continue
        if eq == 0:
            raise MalformedLine(f'A value needs a keyword: "={text[1:]}" at column {column + 1}')
        keyword, value = text[:eq], text[eq + 1:]
        quoted = any(flags[eq + 1:])
        if value == "" and not quoted and not help_ and k + 1 < len(raw):
            nxt_text, nxt_col, nxt_flags = raw[k + 1]
            nxt_has_eq = any(ch == "=" and not f for ch, f in zip(nxt_text, nxt_flags))
            if not nxt_has_eq:
                # "pol= my_vpn": the next word is the value
                value, quoted = nxt_text, any(nxt_flags) or _has_quote(line, nxt_col)
                if value.endswith("?") and nxt_flags and not nxt_flags[-1]:
                    value, help_ = value[:-1], True
                k += 1
        quoted = quoted or _has_quote(line, column)
        tokens.append(Token(keyword, value, quoted, column, help_))
        k += 1
    return tokens
