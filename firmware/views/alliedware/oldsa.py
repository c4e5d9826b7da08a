# Ref: spec/show-outputs.md §15 (show sa), §16 (show sa counter), §17 (show sa user), §18.5
"""AlliedWare ``show sa``, ``show sa[=id] counter`` and ``show sa user``: the
pre-IPsec SAs of :mod:`pacsim.firmware.ipsec.oldsa`.

The configuration comes from :class:`~pacsim.firmware.ipsec.oldsa.OldSa`;
the ENCO channel state (channels and their attach states, Initial /
Attaching / Attach Fail / Attached) and the expiry come from an
:class:`~pacsim.firmware.state.snapshots.OldSaChannels` snapshot, which the
data plane fills in (default: no channels yet, ``Initial``).

The summary prints the figure's columns (ID, Dir, Expires, SPI, Process);
the table's Comp and Encryption/key columns are not in the figure and are
not printed, and Process (undefined in the manual) is left blank as in the
figure.

The counter displays print the counters of :mod:`pacsim.firmware.ipsec.oldsa`
(:class:`~pacsim.firmware.ipsec.oldsa.OldSaModuleCounter`, :class:`~pacsim.firmware.ipsec.oldsa.OldSaCounter`,
:class:`~pacsim.firmware.ipsec.oldsa.OldSaUserCounter`) in their order, two to a row, in each
figure's columns (a :class:`CounterFigure`). The figures are reproduced
character for character, their irregular rows included (show-outputs.md
§16a, §16b: rows 22-23 of Figure 48-46 and the last row of Figure 48-47 are
shifted by one or two columns), except that lines never end in blanks
(:mod:`~pacsim.firmware.cli.layout`). ``show sa=id counter`` prints no
heading, as Figure 48-47 prints none; ``show sa user`` heads the user's
counters with ``<module> User:`` and its user slot in five columns (``IP
User:    1``; the manual does not say what the number is).
"""
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ...cli.layout import CounterLayout, columns, join_lines, leader
from ...ipsec.oldsa import OldSa, OldSaCounter, OldSaModuleCounter, OldSaUser, OldSaUserCounter
from ...ipsec.transforms import EncAlg
from ...state.snapshots import OldSaChannels

__all__ = ["show_old_sas", "show_old_sa", "ENCRYPTION_NAMES", "CounterFigure",
           "MODULE_COUNTERS_FIGURE", "SA_COUNTERS_FIGURE", "USER_COUNTERS_FIGURE", "show_old_sa_module_counters",
           "show_old_sa_counters", "show_old_sa_users"]

#: The detail display's encryption names (Table 48-41).
ENCRYPTION_NAMES = {EncAlg.DES: "DES-CBC", EncAlg.TDES2KEY: "3DES-112bit-OuterCBC",
                    EncAlg.TDESINNER: "3DES-168bit-InnerCBC"}


def show_old_sas(sas: Iterable[OldSa], channels=lambda sa_id: OldSaChannels()) -> str:
    """``show sa`` (summary); ``channels(sa_id)`` gives each SA's runtime view."""
    lines = ["Summary SA output", "", "ID   Dir   Expires         SPI  Process", "-" * 60]
    for sa in sorted(sas, key=lambda s: s.id):
        ch = channels(sa.id)
        lines.append(columns([f"{sa.id}  ", sa.direction.value, ch.expires or "None", sa.spi],
                             [5, 6, 11, 8], right=(0, 3)))
    return join_lines(lines)


def show_old_sa(sa: OldSa, channels: OldSaChannels = OldSaChannels()) -> str:
    """``show sa=id`` (detail; ``show sa=all`` repeats it per SA)."""
    col = 24
    lines = [leader("ID", sa.id, col), leader("SPI", sa.spi, col), leader("User", "IP", col),
             leader("Expiry date", channels.expires or "None", col), leader("Direction", sa.direction.value, col),
             leader("Compression", "OFF", col), leader("Encryption", ENCRYPTION_NAMES[sa.encalg], col),
             leader("Key ID 1", sa.enckey, col, 2), "Local members:"]
    lines += [f"  {str(m.address):<17}{m.mask}" for m in sa.local_members()]
    lines.append("Remote members:")
    lines += [f"  {str(m.address):<17}{m.mask}" for m in sa.remote_members()]
    lines += ["", "State:", leader("Encode Channel", "-" if channels.encode_channel is None
                                   else channels.encode_channel, col),
              leader("Decode Channel", "-" if channels.decode_channel is None else channels.decode_channel, col),
              leader("Encode State", channels.encode_state, col), leader("Decode State", channels.decode_state, col)]
    return join_lines(lines)


@dataclass(frozen=True)
class CounterFigure:
    """How a figure lays out a counter enum: two counters to a row in the
    enum's order, in ``layout``'s columns; a counter in ``alone`` has its
    row to itself; a row whose first counter is in ``shifted`` is printed
    in that row's own columns (the figure's irregular rows)."""
    counters: type[enum.Enum]
    layout: CounterLayout
    alone: frozenset = frozenset()
    shifted: Mapping[enum.Enum, CounterLayout] = field(default_factory=dict)

    def rows(self) -> list[tuple[enum.Enum, enum.Enum | None]]:
        rows, pending = [], list(self.counters)
        while pending:
            left = pending.pop(0)
            right = None if left in self.alone or not pending or pending[0] in self.alone else pending.pop(0)
            rows.append((left, right))
        return rows

    def lines(self, values: Mapping[enum.Enum, int]) -> list[str]:
        out = []
        for left, right in self.rows():
            layout = self.shifted.get(left, self.layout)
            out.append(layout.row((left.name, values[left]), None if right is None else (right.name, values[right])))
        return out


_M, _S, _U = OldSaModuleCounter, OldSaCounter, OldSaUserCounter
#: Figure 48-46: names at 1 and 32, values ending at 29 and 60.
MODULE_COUNTERS_FIGURE = CounterFigure(_M, CounterLayout(1, 29, 32, 60), alone=frozenset({_M.secAssDestroyGood}),
                                       shifted={_M.processUserDecodeCAFailed: CounterLayout(1, 29, 33, 61),
                                                _M.processUserDecodeNoSpi: CounterLayout(1, 30, 34, 62)})
#: Figure 48-47: names at 0 and 32, values ending at 29 and 60.
SA_COUNTERS_FIGURE = CounterFigure(_S, CounterLayout(0, 29, 32, 60),
                                   shifted={_S.encoHandDecoded: CounterLayout(0, 30, 33, 61)})
#: Figure 48-48: names at 1 and 32, values ending at 29 and 60; decodeNoBuffer has its row to itself.
USER_COUNTERS_FIGURE = CounterFigure(_U, CounterLayout(1, 29, 32, 60), alone=frozenset({_U.decodeNoBuffer}))


def show_old_sa_module_counters(counters: Mapping[OldSaModuleCounter, int]) -> str:
    """``show sa counter`` (Figure 48-46)."""
    return join_lines(["SA Counters"] + MODULE_COUNTERS_FIGURE.lines(counters))


def show_old_sa_counters(counters: Mapping[OldSaCounter, int]) -> str:
    """``show sa=id counter`` (Figure 48-47)."""
    return join_lines(SA_COUNTERS_FIGURE.lines(counters))


def show_old_sa_users(users: Iterable[OldSaUser]) -> str:
    """``show sa user`` (Figure 48-48), a blank line between users."""
    out: list[str] = []
    for user in users:
        if out:
            out.append("")
        out += [f"{user.module} User:{user.index:5}"] + USER_COUNTERS_FIGURE.lines(user.counters)
    return join_lines(out)
