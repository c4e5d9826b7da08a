# Ref: spec/show-outputs.md §7 (show ipsec sa), §18.2
"""``show ipsec sa``: the SAs of the SAD, from :class:`SaView` objects.

An :class:`SaView` is everything the display prints about one SA pair.
The configuration half (ids, policy, SPIs, algorithms, selectors) comes
from the SAD and the SPD (:func:`sa_view`); the runtime half (ENCO channel
numbers, sequence numbers, replay bitmap, NAT-T original addresses) is
passed in by the data plane, and prints ``-`` until it is.

Choices where the manual is unclear (show-outputs.md §7, §20): the state
is printed capitalised (``Valid``), as both figures do; the summary calls
IPComp ``IPComp`` and the detail ``COMP``, as the two tables do; the
UDP-encapsulated modes print ``UDP_ENCAP_TUNNEL`` / ``UDP_ENCAP_TRANSPORT``
as the figure does; the NAT-T block appears only for UDP-encapsulated
SAs; the replay bitmap has one hex digit per four packets of the window.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..cli.layout import columns, flag, join_lines, leader
from .sad import SaRecord
from .spd import IpsecPolicy
from .transforms import Protocol

__all__ = ["SaView", "sa_view", "show_sas", "show_sa"]

DASH = "-"


def _v(value) -> str:
    return DASH if value is None else str(value)


@dataclass(frozen=True)
class SaView:
    """One SA pair as ``show ipsec sa`` prints it (None prints ``-``)."""
    sa_id: int
    policy: str
    bundle: int
    spec_id: int
    state: str                       #: UNDEF, VALID, CREATING or REMOVING
    protocol: Protocol
    outbound_spi: int
    inbound_spi: int
    role: str = "-"
    mode: str = "TUNNEL"             #: TUNNEL, TRANSPORT, UDP_ENCAP_TUNNEL, UDP_ENCAP_TRANSPORT
    encalg: str | None = None
    enc_channel: int | None = None
    hashalg: str | None = None
    hash_channel: int | None = None
    compalg: str | None = None
    comp_channel: int | None = None
    nat_oa_source: str | None = None
    nat_oa_destination: str | None = None
    local_address: str | None = None
    local_mask: str | None = None
    remote_address: str | None = None
    remote_mask: str | None = None
    local_port: str | None = None
    remote_port: str | None = None
    napt_port: int | None = None
    transport: str | None = None
    local_name: str = "ANY"
    remote_name: str = "ANY"
    dfbit: str = "CLEAR"
    last_sent_sequence: int | None = None
    antireplay: bool = False
    replay_window: int = 32
    last_received_sequence: int | None = None
    replay_bitmap: int | None = None
    debug_device: int | None = None
    debug_flags: tuple[int, int, int] = field(default=(0, 0, 0))
    packet_debug_length: int = 72


def _selector_address(sel, mask):
    if sel.kind.value == "any":
        return "ANY", DASH
    if sel.kind.value == "range":
        return f"{sel.address}-{sel.last}", DASH
    if sel.prefix is not None:
        return f"{sel.address}/{sel.prefix}", DASH
    return str(sel.address), str(mask) if mask is not None else "255.255.255.255"


def sa_view(record: SaRecord, policy: IpsecPolicy | None, **runtime) -> SaView:
    """The view of a SAD record; ``policy`` gives the filters; keyword
    arguments fill the runtime fields of :class:`SaView`."""
    pair = record.pair
    fields = dict(
        sa_id=record.sa_id, policy=record.policy_name, bundle=record.bundle_id, spec_id=pair.spec_id,
        state=record.state.value, protocol=pair.protocol, outbound_spi=pair.outbound_spi,
        inbound_spi=pair.inbound_spi, role=record.role.value, mode=pair.mode.value,
        encalg=pair.encalg.value if pair.encalg else None, hashalg=pair.hashalg.value if pair.hashalg else None,
        compalg=pair.compalg.value if pair.compalg else None, antireplay=pair.antireplay,
        replay_window=pair.replay_window)
    if policy is not None:
        la, lm = _selector_address(policy.laddress, policy.lmask)
        ra, rm = _selector_address(policy.raddress, policy.rmask)
        fields.update(local_address=la, local_mask=lm, remote_address=ra, remote_mask=rm,
                      local_port=str(policy.lport), remote_port=str(policy.rport),
                      transport=str(policy.transportprotocol), local_name=policy.lname or "ANY",
                      remote_name=policy.rname or "ANY", dfbit=policy.dfbit.value,
                      packet_debug_length=policy.pktdebuglength)
    fields.update(runtime)
    return SaView(**fields)


def show_sas(views: Iterable[SaView]) -> str:
    """``show ipsec sa`` (summary)."""
    lines = ["SA Id  Policy                Bundle  State    Protocol    OutSPI       InSPI", "-" * 77]
    for v in sorted(views, key=lambda v: v.sa_id):
        proto = "IPComp" if v.protocol is Protocol.IPCOMP else v.protocol.display
        lines.append(columns([f"{v.sa_id}  ", v.policy.upper(), f"{v.bundle}  ", v.state.capitalize(), proto,
                              v.outbound_spi, v.inbound_spi],
                             [7, 22, 7, 10, 8, 10, 12], right=(0, 2, 5, 6)))
    return join_lines(lines)


def show_sa(v: SaView) -> str:
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
        lines += [leader("Encryption algorithm", _v(v.encalg or "NULL"), col, 1),
                  leader("Encryption ENCO channel", _v(v.enc_channel), col, 1, tight=True)]
    if v.protocol in (Protocol.ESP, Protocol.AH):
        lines += [leader("Hash algorithm", _v(v.hashalg or "NULL"), col, 1),
                  leader("Hash ENCO channel", _v(v.hash_channel), col, 1, tight=True)]
    if v.protocol is Protocol.IPCOMP:
        lines += [leader("Compression algorithm", _v(v.compalg), col, 1),
                  leader("Compression ENCO channel", _v(v.comp_channel), col, 1, tight=True)]
    if v.mode.startswith("UDP_ENCAP"):
        lines += [" NAT Traversal NAT-OA",
                  leader("Peer original source IP address", _v(v.nat_oa_source), col, 2),
                  leader("Peer original destination IP address", _v(v.nat_oa_destination), col, 2, tight=True)]
    lines += [" Filters"]
    rows = [("Local IP address", v.local_address), ("Local IP address mask", v.local_mask),
            ("Remote IP address", v.remote_address), ("Remote IP address mask", v.remote_mask),
            ("Local port number", v.local_port), ("Remote port number", v.remote_port),
            ("NAPT remote port number", v.napt_port), ("Transport protocol", v.transport),
            ("Local Name", v.local_name), ("Remote Name", v.remote_name)]
    lines += [leader(label, _v(value), col, 2) for label, value in rows]
    bitmap = DASH if v.replay_bitmap is None else f"{v.replay_bitmap:0{max(v.replay_window // 4, 1)}x}"
    fdbg, pdbg, tdbg = v.debug_flags
    rows = [("DF BIT", v.dfbit), ("Last sent sequence number", _v(v.last_sent_sequence)),
            ("Anti-replay checking enabled", flag(v.antireplay)), ("Anti-replay window size", v.replay_window),
            ("Last received sequence number", _v(v.last_received_sequence)), ("Anti-replay bitmap", bitmap),
            ("Debug device", _v(v.debug_device)), ("Filter debug flags", f"{fdbg:08x}"),
            ("Packet debug flags", f"{pdbg:08x}"), ("Trace debug flags", f"{tdbg:08x}"),
            ("Packet debug length", v.packet_debug_length)]
    lines += [leader(label, value, col, 1) for label, value in rows]
    return join_lines(lines)
