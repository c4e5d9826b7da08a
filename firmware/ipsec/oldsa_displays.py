# Ref: spec/show-outputs.md §15 (show sa), §18.5
"""``show sa``: the pre-IPsec SAs of :mod:`.oldsa`.

The configuration comes from :class:`~.oldsa.OldSa`; the ENCO channel
state (channels and their attach states, Initial / Attaching / Attach Fail
/ Attached) and the expiry come from a :class:`OldSaChannels` view, which
the data plane fills in (default: no channels yet, ``Initial``).

The summary prints the figure's columns (ID, Dir, Expires, SPI, Process);
the table's Comp and Encryption/key columns are not in the figure and are
not printed, and Process (undefined in the manual) is left blank as in the
figure.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from ..cli.layout import columns, join_lines, leader
from .oldsa import OldSa
from .transforms import EncAlg

__all__ = ["OldSaChannels", "show_old_sas", "show_old_sa", "ENCRYPTION_NAMES"]

#: The detail display's encryption names (Table 48-41).
ENCRYPTION_NAMES = {EncAlg.DES: "DES-CBC", EncAlg.TDES2KEY: "3DES-112bit-OuterCBC",
                    EncAlg.TDESINNER: "3DES-168bit-InnerCBC"}


@dataclass(frozen=True)
class OldSaChannels:
    """Runtime state of an old SA: ENCO encode/decode channel numbers and
    states, and its expiry date (None prints ``None`` as the figure does)."""
    encode_channel: int | None = None
    decode_channel: int | None = None
    encode_state: str = "Initial"
    decode_state: str = "Initial"
    expires: str | None = None


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
