# Ref: spec/show-outputs.md §7 (show ipsec sa), §18.2
"""AlliedWare ``show ipsec sa``: the SAs of the SAD, from
:class:`~pacsim.firmware.state.snapshots.SaSnapshot` objects (built by
:func:`~pacsim.firmware.state.snapshots.sa_snapshot`); runtime fields the
data plane has not filled in print ``-``.

Choices where the manual is unclear (show-outputs.md §7, §20): the state
is printed capitalised (``Valid``), as both figures do; the summary calls
IPComp ``IPComp`` and the detail ``COMP``, as the two tables do; the
UDP-encapsulated modes print ``UDP_ENCAP_TUNNEL`` / ``UDP_ENCAP_TRANSPORT``
as the figure does; the NAT-T block appears only for UDP-encapsulated
SAs; the replay bitmap has one hex digit per four packets of the window.
"""
from collections.abc import Iterable

from ...cli.layout import columns, flag, join_lines, leader
from ...ipsec.transforms import Protocol
from ...state.snapshots import SaSnapshot
from . import DASH, dash_or

__all__ = ["show_sas", "show_sa"]


def show_sas(views: Iterable[SaSnapshot]) -> str:
    """``show ipsec sa`` (summary)."""
    lines = ["SA Id  Policy                Bundle  State    Protocol    OutSPI       InSPI", "-" * 77]
    for v in sorted(views, key=lambda v: v.sa_id):
        proto = "IPComp" if v.protocol is Protocol.IPCOMP else v.protocol.display
        lines.append(columns([f"{v.sa_id}  ", v.policy.upper(), f"{v.bundle}  ", v.state.capitalize(), proto,
                              v.outbound_spi, v.inbound_spi],
                             [7, 22, 7, 10, 8, 10, 12], right=(0, 2, 5, 6)))
    return join_lines(lines)


def show_sa(v: SaSnapshot) -> str:
    """``show ipsec sa=id`` (detail)."""
    col = 41
    lines = [leader("SA Id", v.sa_id, col)]
    rows = [("Policy", v.policy), ("Bundle", v.bundle), ("SA Specification Used", v.spec_id),
            ("State", v.state.capitalize()), ("Protocol", v.protocol.display)]
    lines += [leader(label, value, col, 1) for label, value in rows]
    if v.protocol is Protocol.IPCOMP:
        lines.append(leader("CPI", v.inbound_spi, col, 1))
    lines += [leader("Role", v.role, col, 1), leader("Mode", v.mode, col, 1),
              leader("Outbound SPI", v.outbound_spi, col, 1), leader("Inbound SPI", v.inbound_spi, col, 1)]
    if v.protocol is Protocol.ESP:
        lines += [leader("Encryption algorithm", dash_or(v.encalg or "NULL"), col, 1),
                  leader("Encryption ENCO channel", dash_or(v.enc_channel), col, 1, tight=True)]
    if v.protocol in (Protocol.ESP, Protocol.AH):
        lines += [leader("Hash algorithm", dash_or(v.hashalg or "NULL"), col, 1),
                  leader("Hash ENCO channel", dash_or(v.hash_channel), col, 1, tight=True)]
    if v.protocol is Protocol.IPCOMP:
        lines += [leader("Compression algorithm", dash_or(v.compalg), col, 1),
                  leader("Compression ENCO channel", dash_or(v.comp_channel), col, 1, tight=True)]
    if v.mode.startswith("UDP_ENCAP"):
        lines += [" NAT Traversal NAT-OA",
                  leader("Peer original source IP address", dash_or(v.nat_oa_source), col, 2),
                  leader("Peer original destination IP address", dash_or(v.nat_oa_destination), col, 2, tight=True)]
    lines += [" Filters"]
    rows = [("Local IP address", v.local_address), ("Local IP address mask", v.local_mask),
            ("Remote IP address", v.remote_address), ("Remote IP address mask", v.remote_mask),
            ("Local port number", v.local_port), ("Remote port number", v.remote_port),
            ("NAPT remote port number", v.napt_port), ("Transport protocol", v.transport),
            ("Local Name", v.local_name), ("Remote Name", v.remote_name)]
    lines += [leader(label, dash_or(value), col, 2) for label, value in rows]
    bitmap = DASH if v.replay_bitmap is None else f"{v.replay_bitmap:0{max(v.replay_window // 4, 1)}x}"
    fdbg, pdbg, tdbg = v.debug_flags
    rows = [("DF BIT", v.dfbit), ("Last sent sequence number", dash_or(v.last_sent_sequence)),
            ("Anti-replay checking enabled", flag(v.antireplay)), ("Anti-replay window size", v.replay_window),
            ("Last received sequence number", dash_or(v.last_received_sequence)), ("Anti-replay bitmap", bitmap),
            ("Debug device", dash_or(v.debug_device)), ("Filter debug flags", f"{fdbg:08x}"),
            ("Packet debug flags", f"{pdbg:08x}"), ("Trace debug flags", f"{tdbg:08x}"),
            ("Packet debug length", v.packet_debug_length)]
    lines += [leader(label, value, col, 1) for label, value in rows]
    return join_lines(lines)
