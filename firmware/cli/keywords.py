# Ref: spec/isakmp-commands.md §0.1, spec/ipsec-commands.md §0.1 (abbreviation rules)
"""Keywords and the abbreviation rule.

"The shortest valid command is denoted by capital letters in the Syntax
section" (L2529). A :class:`Keyword` is written as the manual writes it,
``SASpecification``: its leading run of capitals and digits (``SAS``) is the
shortest accepted form. Matching (:func:`resolve`) is case-insensitive and
takes, in this order:

1. an exact match of the whole word (``sa`` is SA even though it also
   starts SASpecification);
2. the only keyword of which the text is a prefix at least as long as that
   keyword's minimum;

otherwise it fails with :class:`NoMatch` (nothing fits), or raises
:class:`~.errors.AmbiguousAbbreviation` when several keywords fit, or when
the text is a prefix of several keywords but shorter than their minimums
(``udp`` for UDPHeartbeat / UDPPort / UDPTunnel).
"""
from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import AmbiguousAbbreviation

__all__ = ["Keyword", "NoMatch", "resolve", "minimum_length"]


def minimum_length(spelling: str) -> int:
    """Length of the leading run of capitals and digits of ``spelling``
    (``CREate`` → 3, ``3DES2key`` → 5, ``RESET`` → 5)."""
    n = 0
    for ch in spelling:
        if ch.islower():
            break
        n += 1
    return max(n, 1)


@dataclass(frozen=True)
class Keyword:
    """A command word, parameter keyword or value keyword.

    ``spelling`` is the manual's form (capitals = minimum). ``minimum``
    overrides the minimum length where the manual's examples use a shorter
    form than its capitals (each such case is listed where it is declared).
    """
    spelling: str
    minimum: int = 0
    name: str = field(init=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "name", self.spelling.lower())
        if not self.minimum:
            object.__setattr__(self, "minimum", minimum_length(self.spelling))
        if not 1 <= self.minimum <= len(self.spelling):
            raise ValueError(f"bad minimum {self.minimum} for keyword {self.spelling}")

    @property
    def shortest(self) -> str:
        """The shortest accepted form, lower case (``sas``)."""
        return self.name[:self.minimum]

    def accepts(self, text: str) -> bool:
        """Whether ``text`` (any case) is this keyword or an allowed abbreviation of it."""
        t = text.lower()
        return self.name.startswith(t) and len(t) >= self.minimum

    def __str__(self) -> str:
        return self.spelling


class NoMatch(Exception):
    """No keyword fits the text. ``near`` holds the keywords of which the
    text is a too-short prefix (at most one: several raise Ambiguous)."""

    def __init__(self, text: str, near: tuple[Keyword, ...] = ()):
        super().__init__(text)
        self.text = text
        self.near = near

    def hint(self) -> str:
        """A short explanation for a message: the too-short case, or ''."""
        if self.near:
            k = self.near[0]
            return f' ("{self.text}" is too short for {k.spelling}: write at least "{k.shortest}")'
        return ""


def _names(keywords: Iterable[Keyword]) -> str:
    return ", ".join(k.spelling for k in keywords)


def resolve(text: str, keywords: Iterable[Keyword], context: str = "") -> Keyword:
    """The keyword among ``keywords`` that ``text`` names (see the module
    docstring for the rule). ``context`` ends the ambiguity message, e.g.
    ``'for parameter ACtion'``."""
    keywords = tuple(keywords)
    t = text.lower()
    for k in keywords:
        if k.name == t:
            return k
    fits = tuple(k for k in keywords if k.accepts(t))
    if len(fits) == 1:
        return fits[0]
    where = f" {context}" if context else ""
    if len(fits) > 1:
        raise AmbiguousAbbreviation(f'"{text}" is ambiguous{where}: it could be {_names(fits)}')
    near = tuple(k for k in keywords if k.name.startswith(t)) if t else ()
    if len(near) > 1:
        raise AmbiguousAbbreviation(
            f'"{text}" is ambiguous{where}: it could be {_names(near)} '
            f'(write at least {", ".join(repr(k.shortest) for k in near)})')
    raise NoMatch(text, near)
