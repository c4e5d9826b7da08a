# Ref: spec/ipsec-commands.md §6.0 (show enco key=1); spec/show-outputs.md §19 (ENCO-facing fields)
"""AlliedWare ENCO displays: ``show enco key[=id]`` and ``show enco``.

The manual's ENCO chapter is not among our sources, so neither layout is
the manual's: both follow the chapter's conventions (a title, a dashed
table for the summary, dotted leaders for the detail) and are ours.

``show enco key=id`` prints the key value, as the manual uses it to copy a
key to the other router (§6.0 step 2: "To display the key value, use the
command: show enco key=1"). ``show enco`` formats an
:class:`~pacsim.firmware.state.snapshots.EncoSnapshot` (the card, its
algorithm units and open channels, as the ENCO service reads them).
"""
from collections.abc import Iterable

from ...cli.layout import columns, join_lines, leader
from ...enco.keys import EncoKey
from ...state.snapshots import EncoSnapshot

__all__ = ["show_enco_keys", "show_enco_key", "show_enco"]


def show_enco_keys(keys: Iterable[EncoKey]) -> str:
    """``show enco key`` (summary)."""
    lines = ["ENCO Keys", "", "Id     Type      Length  Entered  Description", "-" * 60]
    for k in keys:
        lines.append(columns([k.id, k.type.value, k.length, _entered(k), k.description or "-"], [7, 10, 8, 9, 0]))
    return join_lines(lines)


def _entered(k: EncoKey) -> str:
    """How the key was made: RANDOM (an RSA key: generated), FILE (an RSA key loaded), TEXT or HEX."""
    return "RANDOM" if k.random else ("FILE" if k.rsa else "TEXT" if k.text else "HEX")


def show_enco_key(k: EncoKey) -> str:
    """``show enco key=id`` (detail, with the value)."""
    return join_lines([
        "ENCO Key", "",
        leader("Id", k.id, 23), leader("Type", k.type.value, 23), leader("Length (bytes)", k.length, 23),
        leader("Entered", _entered(k), 23),
        leader("Value", k.display_value(), 23), leader("Description", k.description or "-", 23),
    ])


def _triple(t: tuple[int, int, int]) -> str:
    return "/".join(map(str, t))


def show_enco(status: EncoSnapshot) -> str:
    """``show enco`` (card, channels in use and free, channel-open
    failures, the per-algorithm counters when known, the open channels)."""
    lines = ["ENCO Module", "",
             leader("Accelerator", status.card, 23), leader("Channels maximum", status.channels_max, 23),
             leader("Channels in use", len(status.channels), 23),
             leader("Channels free", max(status.channels_max - len(status.channels), 0), 23),
             leader("Open failures", status.open_failures, 23)]
    if status.open_failures and status.last_failure:
        lines.append(leader("Last failure", status.last_failure, 23))
    if status.units:
        lines += ["", "Algorithm   Attached  Encode good/fail/discard  Decode good/fail/discard", "-" * 72]
        for u in status.units:
            lines.append(columns([u.unit, u.attached, _triple(u.encode), _triple(u.decode)], [12, 10, 26, 0]))
    lines += ["", "Chan  Service      Algorithm   Dir     Jobs      Bytes       Errors  Owner", "-" * 78]
    for c in sorted(status.channels, key=lambda c: c.number):
        lines.append(columns([c.number, c.service, c.algorithm, c.direction, c.jobs, c.bytes, c.errors, c.owner],
                             [6, 13, 12, 8, 10, 12, 8, 0]))
    return join_lines(lines)
