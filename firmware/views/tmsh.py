# Ref: ../shared/seeds/000_*.txt, 001_*.txt (tmsh show net ipsec ike-sa all-properties, del net ipsec ike-sa)
"""F5 tmsh's view of a router: ``show net ipsec ike-sa [peer-ip A]
[all-properties]`` and ``show net ipsec ipsec-sa [all-properties]``, as
``render(argv, source) -> str`` over a
:class:`~pacsim.firmware.views.ViewSource`; :func:`delete_peer` reads
``delete net ipsec ike-sa [peer-ip A]`` (carried out by
:func:`~pacsim.firmware.router.view_source.delete_ike_sas`).

ike-sa, as the seed prints it (``Version: v1``: our SAs are IKEv1): a
record per IKE SA, ``local/port -> peer/port``, ``Version``, ``State``
(our state: MM_*/AG_* while negotiating, ESTABLISHED, DYING, EXPIRED),
``IKE Peer`` (``/Common/`` and the ISAKMP policy), ``Spi(local)`` and
``Spi(Remote)`` (the cookies: ours and the peer's), ``Encryption``,
``Authentication``, ``Hash Algorithm``, ``Initiator``, ``Life/Active
Time`` (lifetime and seconds since established), ``NAT-T``, the traffic
selectors (the IPsec policies with bundles to this peer; Reqid: their
bundle), ``Child SA Count`` (quick modes done). Two-field lines end at
column :data:`WIDTH` as in the seed. Without all-properties only each
record's first two lines.

ipsec-sa: a line per SA and direction, ``SRC -> DST SPI(0x...) in|out
PROTO (tmm: 0)``; all-properties adds the algorithms, mode, state,
remaining lifetime, packets and bytes.
"""
from ..isakmp.rules import Role
from ..ipsec.transforms import Protocol
from . import ViewSource
from .racoonctl import SETKEY_AUTH, SETKEY_ENC
from .vendor_terms import ends, ike_cipher, ike_hash, SaPackets

__all__ = ["render", "show_ike_sa", "show_ipsec_sa", "delete_peer", "UsageError", "WIDTH"]

#: The column two-field lines end at.
WIDTH = 72
_TITLE = "IKE::SecurityAssociations"
_IPSEC_TITLE = "IPsec::SecurityAssociations"


class UsageError(ValueError):
    """A tmsh command line this view does not know."""


def _pair(left: str, right: str) -> str:
    """``  left ... right`` with right ending at :data:`WIDTH`."""
    left = f"  {left}"
    return left + right.rjust(WIDTH - len(left))


def _banner(title: str) -> list[str]:
    return ["-" * len(title), title, "-" * len(title)]


def _ike_record(s, bundles, now: float, detail: bool) -> list[str]:
    mine, theirs = (s.cky_i, s.cky_r) if s.role is Role.INITIATOR else (s.cky_r, s.cky_i)
    lines = ["(tmm: 0)", f"  {s.local}/{s.local_port} -> {s.peer}/{s.peer_port}",
             _pair("Version: v1", f"State: {s.state.value}")]
    if not detail:
        return lines
    t = s.transform
    life = "-" if t is None or t.life_seconds is None else t.life_seconds
    active = 0 if s.established is None else int(now - s.established)
    auth = "pre-shared-key" if t is None or t.auth.name == "PRE_SHARED_KEY" else t.auth.name.lower().replace("_", "-")
    nat = "detected" if s.nat.detected else "none"
    hash_ = {"sha": "sha1", "md5": "md5"}.get(ike_hash(s), "-")
    selectors = [b for b in bundles if b.peer == str(s.peer)]
    lines += [f"  IKE Peer: /Common/{s.policy}",
              _pair(f"Spi(local): 0x{mine.hex()}", f"Spi(Remote): 0x{theirs.hex()}"),
              _pair(f"Encryption: {ike_cipher(s)}", f"Authentication: {auth}"),
              _pair(f"Hash Algorithm: {hash_}", f"Initiator: {'TRUE' if s.role is Role.INITIATOR else 'FALSE'}"),
              _pair(f"Life/Active Time: {life}/{active} seconds", f"NAT-T: {nat}"),
              _pair(f"Traffic Selectors {len(selectors)}", "Reqid(in/out)")]
    lines += [_pair(f"   /Common/{b.policy}", f"{b.index}/{b.index}") for b in selectors]
    lines.append(f"  Child SA Count: {s.phase2_exchanges}")
    return lines


def show_ike_sa(source: ViewSource, peer: str | None = None, detail: bool = False) -> str:
    """``show net ipsec ike-sa [peer-ip PEER] [all-properties]``."""
    sas = [s for s in source.ike_sas() if peer is None or str(s.peer) == peer]
    bundles = source.bundles()
    lines = _banner(_TITLE)
    for s in sas:
        lines += _ike_record(s, bundles, source.now(), detail)
    return "\n".join(lines + ["", f"Total records returned: {len(sas)}"])


def _ipsec_lines(sa, inbound: bool, detail: bool) -> list[str]:
    local, peer = ends(sa)
    src, dst = (peer, local) if inbound else (local, peer)
    spi = sa.inbound_spi if inbound else sa.outbound_spi
    proto = "ipcomp" if sa.protocol is Protocol.IPCOMP else sa.protocol.name.lower()
    lines = [f"  {src} -> {dst} SPI(0x{spi:08x}) {'in' if inbound else 'out'} {proto} (tmm: 0)"]
    if not detail:
        return lines
    packets = SaPackets(sa)
    mode = "transport" if "TRANSPORT" in sa.mode else "tunnel"
    remaining = "-" if sa.remaining_seconds is None else sa.remaining_seconds
    kbytes = "-" if sa.remaining_kbytes is None else sa.remaining_kbytes
    lines += [_pair(f"Encryption: {SETKEY_ENC.get(sa.encalg or 'NULL', 'null')}",
                    f"Authentication: {SETKEY_AUTH.get(sa.hashalg or 'NULL', 'null')}"),
              _pair(f"Mode: {mode}", f"State: {sa.state.lower()}"),
              _pair(f"Remaining Time: {remaining} seconds", f"Remaining Kbytes: {kbytes}"),
              _pair(f"Packets: {packets.into if inbound else packets.out}", f"Bytes: {sa.bytes_used or 0}")]
    return lines


def show_ipsec_sa(source: ViewSource, detail: bool = False) -> str:
    """``show net ipsec ipsec-sa [all-properties]``."""
    lines = _banner(_IPSEC_TITLE)
    for sa in source.sas():
        for inbound in (True, False):
            lines += _ipsec_lines(sa, inbound, detail)
    return "\n".join(lines)


def _options(words: list[str]) -> tuple[str | None, bool]:
    """(peer-ip, all-properties) of the words after the object name."""
    peer, detail, rest = None, False, list(words)
    while rest:
        word = rest.pop(0)
        if word == "peer-ip" and rest:
            peer = rest.pop(0)
        elif word == "all-properties":
            detail = True
        else:
            raise UsageError(f"tmsh: unexpected {word!r}")
    return peer, detail


def render(argv: list[str], source: ViewSource) -> str:
    """The output of ``tmsh ARGV`` (the show commands of the module
    docstring); raises :class:`UsageError` for any other command line."""
    if argv[:3] == ["show", "net", "ipsec"] and len(argv) > 3:
        peer, detail = _options(argv[4:])
        if argv[3] == "ike-sa":
            return show_ike_sa(source, peer, detail)
        if argv[3] == "ipsec-sa" and peer is None:
            return show_ipsec_sa(source, detail)
    raise UsageError(f"tmsh: unknown command: {' '.join(argv)}")


def delete_peer(argv: list[str]) -> str | None:
    """The peer of ``delete|del net ipsec ike-sa [peer-ip A]`` (None: every
    IKE SA); raises :class:`UsageError` for any other command line."""
    if argv[:1] in (["delete"], ["del"]) and argv[1:4] == ["net", "ipsec", "ike-sa"]:
        peer, detail = _options(argv[4:])
        if not detail:
            return peer
    raise UsageError(f"tmsh: unknown command: {' '.join(argv)}")
