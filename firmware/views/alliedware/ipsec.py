# Ref: spec/show-outputs.md §1 (show ipsec), §2 (bundlespecification), §4 (policy), §6 (policy sabundle), §9 (saspecification)
"""AlliedWare IPsec configuration displays, laid out as the manual's figures.

Each function takes snapshots (:mod:`pacsim.firmware.state.snapshots`) or
SPD specification records and returns the display text; none changes
anything:

- ``show ipsec`` (Figure 48-5): a :class:`~pacsim.firmware.state.snapshots.ModuleSnapshot`;
- ``show ipsec saspecification`` / ``bundlespecification``: the SPD's
  specification records (plain values);
- ``show ipsec policy[=name]`` (Figures 48-16, 48-17):
  :class:`~pacsim.firmware.state.snapshots.PolicySnapshot` objects;
- ``show ipsec policy sabundle`` (Figure 48-19): per policy its
  :class:`~pacsim.firmware.state.snapshots.BundleSnapshot` objects.

Choices where the figures show no example: a policy that is not IPsec
shows ``-`` for key management, bundle specification and peer; the UDP
tunnel sub-fields are shown only when UDP tunnelling is on; unknown runtime
values print ``-``; names are printed upper case in the policy summary (as
Figure 48-16 does) and as entered elsewhere. Debug flags and the SA
selector flag are 8 hex digits; their bit assignments are ours
(:data:`FILTER_DEBUG_BITS`, :data:`PACKET_DEBUG_BITS`,
:meth:`~pacsim.firmware.ipsec.spd.SaSelector.bit`), the manual gives none.
"""
from collections.abc import Callable, Iterable

from ...cli.layout import columns, flag, join_lines, leader
from ...ipsec.spd import Action, BundleSpecification, IpsecPolicy, KeyManagement, PeerWildcard, SaSpecification
from ...ipsec.transforms import Protocol
from ...state.snapshots import BundleSnapshot, ModuleSnapshot, PolicySnapshot
from . import DASH, dash_or

__all__ = [
    "show_ipsec", "show_saspecifications", "show_saspecification", "show_bundlespecifications",
    "show_bundlespecification", "show_policies", "show_policy", "show_policy_sabundles", "FILTER_DEBUG_BITS",
    "PACKET_DEBUG_BITS",
]


# ---------------------------------------------------------------------------------------------------
# show ipsec (Figure 48-5)

def show_ipsec(status: ModuleSnapshot) -> str:
    """``show ipsec``."""
    lines = [
        "IPSEC Module Configuration",
        "",
        leader("Module Status", "ENABLED" if status.enabled else "DISABLED", 43, 2),
        "  IPsec over UDP",
        leader("Status", "OPEN" if status.udp_open else "CLOSED", 43, 5),
        leader("Listen Port", status.listen_port, 43, 5),
        "",
        "  VPNs",
    ]
    if status.maximum is not None:
        lines.append(leader("Maximum", status.maximum, 43, 4))
    lines += [leader("Current", status.current, 43, 4), leader("Peak", status.peak, 43, 4)]
    return join_lines(lines)


# ---------------------------------------------------------------------------------------------------
# show ipsec saspecification (Figures 48-23, 48-24)

def _alg(value) -> str:
    return "NULL" if value is None else value.value


def show_saspecifications(specs: Iterable[SaSpecification]) -> str:
    """``show ipsec saspecification`` (summary)."""
    lines = ["SA Specifications", "",
             "ID Proto  KeyMan  Mode       EncAlg      HashAlg CompAlg InSpi  EncKey HashKey",
             "-" * 79]
    for s in sorted(specs, key=lambda s: s.id):
        manual = s.keymanagement is KeyManagement.MANUAL
        comp = s.protocol is Protocol.IPCOMP
        inspi = (s.cpis[0] if comp else s.inspi) if manual else None
        lines.append(columns(
            [f"{s.id} ", s.protocol.display, s.keymanagement.value, s.mode.short, _alg(s.encalg), _alg(s.hashalg),
             dash_or(s.compalg.value if s.compalg else None), dash_or(inspi), dash_or(s.enckey if s.encrypts else None),
             dash_or(s.hashkey if s.authenticates else None)],
            [3, 7, 8, 11, 12, 8, 4, 9, 8, 8], right=(0, 7, 8, 9)))
    return join_lines(lines)


def show_saspecification(s: SaSpecification) -> str:
    """``show ipsec saspecification=id`` (detail)."""
    manual = s.keymanagement is KeyManagement.MANUAL
    comp = s.protocol is Protocol.IPCOMP
    inspi, outspi = (s.cpis if comp else (s.inspi, s.outspi)) if manual else (None, None)
    replay = not manual and not comp
    rows = [
        ("Id", s.id), ("Protocol", s.protocol.display), ("Key Management", s.keymanagement.value),
        ("Mode", s.mode.value), ("Encryption Algorithm", _alg(s.encalg)), ("Hash Algorithm", _alg(s.hashalg)),
        ("Compression Algorithm", dash_or(s.compalg.value if s.compalg else None)), ("In SPI", dash_or(inspi)),
        ("Out SPI", dash_or(outspi)), ("Encryption Key", dash_or(s.enckey if manual and s.encrypts else None)),
        ("Hash Key", dash_or(s.hashkey if manual and s.authenticates else None)),
        ("AntiReplay Enabled", flag(s.antireplayenabled) if replay else DASH),
        ("Replay Window Size", s.replaywindowsize if replay else DASH),
    ]
    lines = ["SA Specification"]
    lines += [leader(label, value, 26, tight=label == "Encryption Algorithm") for label, value in rows]
    return join_lines(lines)


# ---------------------------------------------------------------------------------------------------
# show ipsec bundlespecification (Figures 48-6, 48-7)

def _expiry(b: BundleSpecification) -> tuple[str, str]:
    """(kbytes, seconds) as displayed: ``-`` for manual keying (no expiry, §7.16)."""
    if b.keymanagement is KeyManagement.MANUAL:
        return DASH, DASH
    kbytes = str(b.expirykbytes) if "expirykbytes" in b.explicit else DASH
    return kbytes, str(b.expiryseconds)


def show_bundlespecifications(bundles: Iterable[BundleSpecification]) -> str:
    """``show ipsec bundlespecification`` (summary)."""
    lines = ["Id KeyManagment ExpKBytes ExpSec  String", "-" * 60]
    for b in sorted(bundles, key=lambda b: b.id):
        kbytes, seconds = _expiry(b)
        lines.append(columns([b.id, b.keymanagement.value, kbytes, seconds, b.string], [3, 13, 10, 8, 0]))
    return join_lines(lines)


def show_bundlespecification(b: BundleSpecification, protocol_of: Callable[[int], Protocol | None]) -> str:
    """``show ipsec bundlespecification=id`` (detail). ``protocol_of(spec_id)``
    gives an SA specification's protocol (None if it no longer exists).

    Each SA pair of each proposal is one "Proposal" block; pairs of the same
    comma-separated proposal share a Proposal Number (the AND of Figure
    48-7), and the OR alternatives are its transforms."""
    kbytes, seconds = _expiry(b)
    lines = ["Bundle Specification", "",
             leader("Id", b.id, 23), leader("Key Management", b.keymanagement.value, 23),
             leader("String", b.string, 23), leader("Expiry Kbytes", kbytes, 23),
             leader("Expiry Seconds", seconds, 23), ""]
    blocks = [(n, pair) for n, proposal in enumerate(b.bundle.proposals, 1) for pair in proposal.pairs]
    lines.append(leader("Number of Proposals", len(blocks), 35, tight=True))
    for index, (number, pair) in enumerate(blocks, 1):
        protocol = protocol_of(pair.spec_ids[0])
        lines += ["", leader("Proposal", index, 35, 2), leader("Proposal Number", number, 35, 6),
                  leader("Protocol", protocol.display if protocol is not None else DASH, 35, 6),
                  leader("Number Of Transfroms", len(pair.spec_ids), 35, 6)]
        lines += [leader(f"Transform {t}", f"SA Spec Id{spec_id:>5}", 39, 15)
                  for t, spec_id in enumerate(pair.spec_ids)]
    return join_lines(lines)


# ---------------------------------------------------------------------------------------------------
# show ipsec policy (Figures 48-16, 48-17, 48-19)

def _triple(t: tuple) -> str:
    return "/".join(dash_or(x) for x in t)


def _bundle_rows(views: Iterable[BundleSnapshot], state_width: int) -> list[str]:
    lines = []
    col = 17 + state_width
    for v in views:
        lines.append(columns([v.index, ",".join(map(str, v.sa_ids)), v.state, _triple(v.bytes)],
                             [7, 10, state_width, 0]))
        lines.append(" " * col + _triple(v.seconds))
    return lines


#: Bits of ``Filter debug flags`` (ours): selectors, and results reported.
FILTER_DEBUG_BITS = {"selector=laddress": 0x01, "selector=lname": 0x02, "selector=lport": 0x04,
                     "selector=raddress": 0x08, "selector=rname": 0x10, "selector=rport": 0x20,
                     "selector=transportprotocol": 0x40, "result=pass": 0x100, "result=fail": 0x200}
#: Bits of ``Packet debug flags`` (ours): directions, packet parts, processing stages.
PACKET_DEBUG_BITS = {"direction=in": 0x01, "direction=out": 0x02, "display=bufferheader": 0x04,
                     "display=ipheader": 0x08, "display=data": 0x10, "where=ipsec": 0x20, "where=protocol": 0x40}


def debug_flags(policy: IpsecPolicy) -> tuple[int, int, int]:
    """(filter, packet, trace) debug flags of a policy."""
    def bits(kind, table):
        opts = policy.debug.get(kind, frozenset())
        return sum(v for k, v in table.items() if k in opts) | (0x80000000 if "on" in opts else 0)
    return bits("filter", FILTER_DEBUG_BITS), bits("packet", PACKET_DEBUG_BITS), \
        (1 if "on" in policy.debug.get("trace", frozenset()) else 0)


def _peer(p: IpsecPolicy) -> str:
    return DASH if p.peeraddress is None or isinstance(p.peeraddress, PeerWildcard) else str(p.peeraddress)


def show_policies(policies: Iterable[PolicySnapshot]) -> str:
    """``show ipsec policy`` (summary), in the order given (the SPD's:
    interface then position)."""
    lines = ["Interface Name              Action  KeyManagement Position", "-" * 58]
    for p in (snapshot.config for snapshot in policies):
        km = p.keymanagement.value if p.keymanagement is not None and p.action is Action.IPSEC else DASH
        lines.append(columns([p.interface.upper(), p.name.upper(), p.action.value, km, p.position],
                             [10, 18, 8, 15, 0]))
    return join_lines(lines)


def show_policy(snapshot: PolicySnapshot) -> str:
    """``show ipsec policy=name`` (detail)."""
    p, status = snapshot.config, snapshot.status
    ipsec = p.action is Action.IPSEC
    local, remote = p.laddress, p.raddress
    v4 = p.ipversion == 4

    def mask(sel, m):
        if not v4 or sel.kind.value in ("any", "range"):
            return DASH
        return str(m) if m is not None else "255.255.255.255"

    sa_flags = sum(s.bit for s in p.saselectorfrompkt)
    fdbg, pdbg, tdbg = debug_flags(p)
    lines = [
        "IPsec Policy Information", "",
        leader("Name", p.name, 33), leader("Interface", p.interface.upper(), 33),
        leader("Source Interface", p.source_interface.upper(), 33), leader("Position", p.position, 33),
        leader("Action", p.action.value, 33), "",
        leader("Key Management", p.keymanagement.value if ipsec and p.keymanagement else DASH, 33),
        leader("Isakmp Policy Name", dash_or(p.isakmppolicy), 33),
        leader("Bundle Specification", dash_or(p.bundlespecification if ipsec else None), 33),
        leader("Peer IP Address Dynamic", flag(p.peeraddress is PeerWildcard.DYNAMIC), 33),
        leader("Peer IP address Any", flag(p.peeraddress is PeerWildcard.ANY), 33),
        leader("Local IP Address Dynamic", flag(status.local_dynamic), 33),
        leader("Peer IP Address", _peer(p), 33),
    ]
    if p.iproutetemplate is not None:
        lines.append(leader("IP Route Template", p.iproutetemplate, 33))
    lines += [
        leader("Local IP Address", dash_or(status.local_address), 33),
        leader("Use PFS Key", flag(p.usepfskey), 33),
        leader("Respond Bad SPI", flag(p.respondbadspi), 33, tight=True),
        leader("Group", p.group, 33),
        "Filter:",
        leader("Local Address", str(local), 33, 2), leader("Local Mask", mask(local, p.lmask), 33, 2),
        leader("Local Port", str(p.lport), 33, 2), leader("Local Name", p.lname or "ANY", 33, 2),
        leader("Remote Address", str(remote), 33, 2), leader("Remote Mask", mask(remote, p.rmask), 33, 2),
        leader("Remote Port", str(p.rport), 33, 2), leader("Remote Name", p.rname or "ANY", 33, 2),
        leader("Transport Protocol", str(p.transportprotocol), 33, 2),
    ]
    if p.icmptype:
        lines.append(leader("ICMP Type", ",".join(map(str, p.icmptype)), 33, 2))
    lines += [leader("SA Selector from Packet", f"{sa_flags:08x}", 33, 2), ""]
    lines.append(leader("DF Bit", p.dfbit.value if v4 else DASH, 33))
    lines.append(leader("UDP Tunnel", flag(p.udptunnel), 33))
    if p.udptunnel:
        lines += [leader("Peer Port", p.udpport, 33, 2),
                  leader("Peer IP Address", status.udp_peer_address or _peer(p), 33, 2),
                  leader("Internal IP Address", dash_or(status.internal_address), 33, 2),
                  leader("HeartBeats Enabled", flag(p.udpheartbeat), 33, 2)]
    lines += [
        leader("Debug device", dash_or(status.debug_device), 33),
        leader("Filter debug flags", f"{fdbg:08x}", 33), leader("Packet debug flags", f"{pdbg:08x}", 33),
        leader("Trace debug flags", f"{tdbg:08x}", 33), leader("Packet debug length", p.pktdebuglength, 33),
        leader("Max Out Packet queue length", status.max_queue, 33),
        leader("Number of Out Packets queued", status.queued, 33, tight=False),
        "", "Bundles",
        " " * 25 + "Expiry Limits - hard/soft/used",
        "Bundle" + " " * 19 + "Bytes",
        "Index  SAs       State   Seconds",
    ]
    lines += _bundle_rows(snapshot.bundles, 8)
    return join_lines(lines)


def show_policy_sabundles(policies: Iterable[tuple[str, Iterable[BundleSnapshot]]]) -> str:
    """``show ipsec policy[=name] sabundle``: (policy name, bundles) pairs."""
    lines = ["IPsec Policy SA Bundles", "",
             " " * 26 + "Expiry Limits - hard/soft/used",
             "Bundle" + " " * 20 + "Bytes",
             "Index  SAs       State    Seconds",
             "-" * 56]
    first = True
    for name, views in policies:
        if not first:
            lines.append("")
        first = False
        lines.append(f"Policy ..... {name.upper()}")
        lines += _bundle_rows(views, 9)
    return join_lines(lines)
