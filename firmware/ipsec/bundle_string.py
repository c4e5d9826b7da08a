# Ref: spec/ipsec-commands.md §2.4 (STRING), §5.3 B13-B20
"""The bundle-string grammar of ``create ipsec bundlespecification``.

A bundle string lists SA specification ids (0-255) joined by ``OR``,
``AND`` and ``,`` (B13), 1 to 100 characters long::

    string   := proposal ( "," proposal )*        -- alternatives, most wanted first
    proposal := pair ( AND pair )*                 -- the SA pairs of one bundle, in order
    pair     := spec-id ( OR spec-id )*            -- choices for one pair, preferred first

``OR`` binds tighter than ``AND``, which binds tighter than ``,`` (B20:
``1 or 2 and 3`` is ``(1 or 2) and 3``). Keywords are case-insensitive;
blanks around ``,`` are optional and the words need none around digits.

:func:`parse` returns a :class:`BundleString` or raises
:class:`BundleStringError` naming the fault and its column. The rules that
need the SA specifications (manual: one proposal, no OR, 1-3 pairs of
different protocols; ISAKMP: 1-3 pairs per proposal, alternatives of one
protocol) are checked by :meth:`BundleString.check`, given a function from
spec id to protocol.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BundleString", "Proposal", "PairChoice", "BundleStringError", "parse", "MAX_LENGTH",
           "MAX_PAIRS"]

MAX_LENGTH = 100
MAX_PAIRS = 3
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<word>[A-Za-z]+)|(?P<comma>,)|(?P<other>\S))")


class BundleStringError(ValueError):
    """A bundle string that breaks the grammar or a bundle rule."""


@dataclass(frozen=True)
class PairChoice:
    """One SA pair of a proposal: the SA specifications that may create
    it, in order of preference."""
    spec_ids: tuple[int, ...]

    def __str__(self) -> str:
        return " OR ".join(str(i) for i in self.spec_ids)


@dataclass(frozen=True)
class Proposal:
    """One bundle: its SA pairs in the order they apply to outbound packets (B15)."""
    pairs: tuple[PairChoice, ...]

    def __str__(self) -> str:
        return " AND ".join(str(p) for p in self.pairs)


@dataclass(frozen=True)
class BundleString:
    """A parsed bundle string: its proposals, most wanted first."""
    proposals: tuple[Proposal, ...]

    def __str__(self) -> str:
        """The canonical form the displays print: ``1 OR 2 AND 3, 4 AND 3``."""
        return ", ".join(str(p) for p in self.proposals)

    @property
    def spec_ids(self) -> tuple[int, ...]:
        """Every SA specification id used, in order of first use."""
        ids: list[int] = []
        for p in self.proposals:
            for pair in p.pairs:
                for i in pair.spec_ids:
                    if i not in ids:
                        ids.append(i)
        return tuple(ids)

    def check(self, manual: bool, protocol_of: Callable[[int], object]) -> None:
        """Apply the bundle rules (B14, B16, B17); ``protocol_of(id)`` gives
        each SA specification's protocol. Raises :class:`BundleStringError`."""
        if manual:
            if len(self.proposals) > 1:
                raise BundleStringError("a manual bundle string has one bundle: ',' is for ISAKMP proposals "
                                        "(write the SA specifications joined by AND)")
            if any(len(pair.spec_ids) > 1 for pair in self.proposals[0].pairs):
                raise BundleStringError("a manual bundle string cannot offer choices: OR is for ISAKMP "
                                        "(write the SA specifications joined by AND)")
        for n, proposal in enumerate(self.proposals, 1):
            where = "" if len(self.proposals) == 1 else f" in proposal {n} ({proposal})"
            if len(proposal.pairs) > MAX_PAIRS:
                raise BundleStringError(f"{len(proposal.pairs)} SA pairs{where}: a bundle has 1 to {MAX_PAIRS}")
            seen = {}
            for pair in proposal.pairs:
                protocols = {protocol_of(i) for i in pair.spec_ids}
                if len(protocols) > 1:
                    raise BundleStringError(f"the choices {pair}{where} use different protocols: "
                                            "OR joins SA specifications of the same protocol")
                protocol = protocols.pop()
                if protocol in seen:
                    name = getattr(protocol, "display", protocol)
                    raise BundleStringError(f"SA specifications {seen[protocol]} and {pair}{where} both use "
                                            f"{name}: each SA pair of a bundle uses a different protocol")
                seen[protocol] = str(pair)


def parse(text: str) -> BundleString:
    """Parse a bundle string (see the module docstring)."""
    if not text.strip():
        raise BundleStringError("the bundle string is empty: expected SA specification ids joined by AND, OR or ','")
    if len(text) > MAX_LENGTH:
        raise BundleStringError(f"the bundle string is {len(text)} characters long: at most {MAX_LENGTH}")
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:           # only blanks remain
            break
        col = m.start(m.lastgroup) + 1
        if m["num"] is not None:
            tokens.append(("num", m["num"], col))
        elif m["word"] is not None:
            word = m["word"].lower()
            if word not in ("and", "or"):
                raise BundleStringError(f'"{m["word"]}" at column {col} is not AND or OR')
            tokens.append((word, m["word"], col))
        elif m["comma"] is not None:
            tokens.append((",", ",", col))
        else:
            raise BundleStringError(f'"{m["other"]}" at column {col} is not allowed: expected SA specification '
                                    "ids 0-255 joined by AND, OR or ','")
        pos = m.end()
    if not tokens:
        raise BundleStringError("the bundle string is empty: expected SA specification ids joined by AND, OR or ','")
    proposals: list[Proposal] = []
    pairs: list[PairChoice] = []
    ids: list[int] = []
    expect_id = True
    for kind, raw, col in tokens:
        if expect_id:
            if kind != "num":
                what = "','" if kind == "," else raw.upper()
                raise BundleStringError(f"{what} at column {col} needs an SA specification id before it")
            n = int(raw)
            if n > 255:
                raise BundleStringError(f"SA specification id {raw} at column {col} is out of range 0-255")
            ids.append(n)
            expect_id = False
            continue
        if kind == "num":
            raise BundleStringError(f"{raw} at column {col} follows another id: join ids with AND, OR or ','")
        if kind == "or":
            pass
        elif kind == "and":
            pairs.append(PairChoice(tuple(ids)))
            ids = []
        else:
            pairs.append(PairChoice(tuple(ids)))
            ids = []
            proposals.append(Proposal(tuple(pairs)))
            pairs = []
        expect_id = True
    if expect_id:
        kind, raw, col = tokens[-1]
        what = "','" if kind == "," else raw.upper()
        raise BundleStringError(f"the bundle string ends with {what}: an SA specification id must follow it")
    pairs.append(PairChoice(tuple(ids)))
    proposals.append(Proposal(tuple(pairs)))
    for p in proposals:
        for pair in p.pairs:
            dup = {i for i in pair.spec_ids if pair.spec_ids.count(i) > 1}
            if dup:
                raise BundleStringError(f"SA specification {min(dup)} is offered twice in {pair}")
    return BundleString(tuple(proposals))
