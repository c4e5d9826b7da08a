# Ref: spec/show-outputs.md §10, §12-§14, §18.3-§18.4, §18.6 (Figures 48-25, 48-38 to 48-43)
"""AlliedWare ``show isakmp``, ``show isakmp policy[=name]``, ``show isakmp
sa[=id]`` and ``show isakmp exchange[=id]``, from snapshots:
:class:`~pacsim.firmware.state.isakmp_snapshots.IsakmpModuleSnapshot`,
the :class:`~pacsim.firmware.isakmp.policy_config.IsakmpPolicy`
configuration, :class:`~pacsim.firmware.isakmp.ike_sa.IkeSaSnapshot` and
:class:`~pacsim.firmware.isakmp.exchange.ExchangeSnapshot` (times in
seconds of the router's clock, bytes in bytes). No key material is in any
snapshot, so none can be printed.

Choices where the manual is unclear (show-outputs.md §12-§14, §18):

* the policy summary prints the mode ``ID_PROT``/``AGGR`` and the detail
  ``IDPROT``/``AGGR``, as the two figures do; the exchange summary prints
  a main mode exchange as ``IDPROTECT`` and the detail as ``MAIN``;
* the exchange summary's State column is 8 characters: longer names are
  cut to 8 (``WAIT_HSN`` in the figure is not such a cut; no table of
  abbreviations is given);
* an IKE SA's state (§18.4) is ``ACTIVE`` when established (or replaced
  but not yet deleted), ``EXPIRED`` when expired, and otherwise the
  negotiation's own state (``MM_KEY_EXCH``...): the manual lists no state
  for an SA still negotiating;
* the soft limits are the initiator's rekey point (0.9 of the lifetime);
  a responder, which does not rekey, prints its hard limit twice, as the
  summary figure does;
* 3DES2KEY, missing from the manual's list of long names, prints
  ``3DES - 112 bit -2 key``.
"""
from collections.abc import Iterable

from ...cli.layout import columns, flag, join_lines, leader
from ...isakmp.constants import ExchangeType
from ...isakmp.crypto import group_of
from ...isakmp.daemon import REKEY_FRACTION
from ...isakmp.exchange import ExchangeSnapshot
from ...isakmp.ike_sa import KBYTE, IkeSaSnapshot, IkeSaState
from ...isakmp.policy_config import PEER_ANY, IsakmpPolicy
from ...isakmp.proposal import CIPHERS
from ...isakmp.rules import Role
from . import DASH, dash_or

__all__ = ["show_isakmp", "show_isakmp_policies", "show_isakmp_policy", "show_isakmp_sas", "show_isakmp_sa",
           "show_isakmp_exchanges", "show_isakmp_exchange", "sa_state"]

#: A policy's own debug flags: none in this model (the module's are in ``show isakmp``).
_NO_DEBUG = "00000000"
#: What the SA detail prints for "no phase-2 exchange limit" (Figure 48-43).
UNLIMITED = 0xFFFFFFFF
_ENC_LONG = {"des": "DES - 56 bit", "3des2key": "3DES - 112 bit -2 key", "3desouter": "3DES - 112 bit -outer CBC",
             "3desinner": "3DES - 168 bit -inner CBC", "aes128": "AES - 128 bit", "aes192": "AES - 192 bit",
             "aes256": "AES - 256 bit"}
#: The card's CipherAlg -> the policy's ENCALG name of an IKE cipher.
_CIPHER_NAME = {cipher: name for name, (_, _, cipher) in CIPHERS.items()}
_AUTH = {1: "PRESHARED", 3: "RSASIG", 4: "RSAENCR"}
_TYPE = {ExchangeType.MAIN: "MAIN", ExchangeType.AGGRESSIVE: "AGGRESSIVE", ExchangeType.INFORMATIONAL: "INFO",
         ExchangeType.QUICK: "QUICK", ExchangeType.TRANSACTION: "TRANSACTION"}


def _hex(cookie: bytes) -> str:
    return bytes(cookie).hex()


def _peer(peer) -> str:
    return "ANY" if peer == PEER_ANY else dash_or(peer)


def _backoff(incremental: bool) -> str:
    return "Incremental" if incremental else "None"


# -- show isakmp -----------------------------------------------------------------------------------

def show_isakmp(m) -> str:
    """``show isakmp`` (Figure 48-25) of an ``IsakmpModuleSnapshot``."""
    rows = [("Module Status", "ENABLED" if m.enabled else "DISABLED"), ("UDP Port", m.udpport),
            ("Debug Flag", f"{m.debug_flags:08x}"), ("Global Debug Device", m.debug_device),
            ("Local RSA Key", dash_or(m.localrsakey)),
            ("VPN Client Policy Server Enabled", flag(m.policyserverenabled)),
            ("VPN Client Policy File Name", dash_or(m.policyfilename))]
    return join_lines(["ISAKMP Module Configuration", ""] + [leader(label, value, 43, 2) for label, value in rows])


# -- show isakmp policy ---------------------------------------------------------------------------

def show_isakmp_policies(policies: Iterable[IsakmpPolicy]) -> str:
    """``show isakmp policy`` (summary, Figure 48-40)."""
    lines = ["Name                 PeerAddress", "                     Mode    AuthType   EncAlg  HashAlg", "-" * 60]
    for p in policies:
        lines.append(columns([p.name, _peer(p.peer)], [21, 16]))
        lines.append(columns(["", "ID_PROT" if p.mode == "main" else "AGGR", p.authtype.upper(), p.encalg.upper(),
                              p.hashalg.upper()], [21, 8, 11, 8, 8]))
    return join_lines(lines)


def show_isakmp_policy(p: IsakmpPolicy, retries: int = 0, retry_pending: bool = False) -> str:
    """``show isakmp policy=name`` (detail, Figure 48-41); ``retries``: the
    re-attempts made (``retryikeattempts``), ``retry_pending``: one waits
    (it starts with phase 1)."""
    rows = [("Name", p.name), ("Peer Address", _peer(p.peer)),
            ("Phase1 Mode", "IDPROT" if p.mode == "main" else "AGGR"),
            ("Authentication Type", p.authtype.upper()), ("Extended Authentication", p.xauth.upper()),
            ("Extended Authentication Type", "-" if p.xauth == "none" else
             {"generic": "GENERIC", "radius": "RADIUS_CHAP"}[p.xauthtype]),
            ("Extended Authentication User Name", dash_or(p.xauthname)),
            ("Extended Authentication Password", DASH if p.xauthpasswd is None else "********"),
            ("Key Id", dash_or(p.key)), ("Local RSA key", dash_or(p.localrsakey)), ("Peer Certificate Id", DASH),
            ("Phase 2 Exchanges Limit", "NONE" if p.phase2xchglimit is None else p.phase2xchglimit),
            ("PreNegotiate", flag(p.prenegotiate)), ("DOI", "IPSEC"), ("Send Notify Messages", flag(p.sendnotify)),
            ("Send Delete Messages", flag(p.senddeletes)), ("Always Send ID Messages", flag(p.sendidalways)),
            ("Commit Bit", flag(p.setcommitbit)), ("Message Retry Limit", p.msgretrylimit),
            ("Message Time Out", p.msgtimeout), ("Message Back-off", _backoff(p.msgbackoff == "incremental")),
            ("Exchange Delete Delay", p.deletedelay), ("Source Interface", dash_or(p.srcinterface)),
            ("VPN Client Policy File Name", dash_or(p.policyfilename)), ("Local ID", dash_or(p.localid)),
            ("Remote ID", dash_or(p.remoteid)), ("DebugFlag", _NO_DEBUG),
            ("Retry IKE Attempts", p.retryikeattempts), ("Current IKE Retries", retries),
            ("Required IKE Retry Phase", "Phase 1" if retry_pending else "No Phases")]
    lines = ["ISAKMP Policy"] + [leader(label, value, 42, 2) for label, value in rows]
    rows = [("Encryption Algorithm", _ENC_LONG[p.encalg]), ("Hash Algorithm", p.hashalg.upper()),
            ("Group Description", p.group), ("DH Private Exponent Bits", p.dhexponentlength),
            ("Heartbeat Mode", p.heartbeatmode.upper()), ("Group Type", "MODP"),
            ("Expiry Seconds", p.expiryseconds), ("Expiry Kilobytes", dash_or(p.expirykbytes)),
            ("NAT Traversal", flag(p.nattraversal))]
    lines += ["", "SA Specification"] + [leader(label, value, 42, 2) for label, value in rows]
    return join_lines(lines)


# -- show isakmp sa ----------------------------------------------------------------------------------

def sa_state(state: IkeSaState) -> str:
    """The §18.4 state of an IKE SA (see the module docstring)."""
    if state.usable:
        return "ACTIVE"
    return state.value


def _limits(s: IkeSaSnapshot, now: float) -> tuple:
    """(hard bytes, soft bytes, bytes seen, hard s, soft s, seconds since creation)."""
    t = s.transform
    share = REKEY_FRACTION if s.role is Role.INITIATOR else 1
    kbytes = t.life_kbytes if t else None
    seconds = t.life_seconds if t else None
    hard_b = None if kbytes is None else kbytes * KBYTE
    return (hard_b, None if hard_b is None else int(hard_b * share), s.kbytes * KBYTE,
            seconds, None if seconds is None else int(seconds * share), int(now - s.created))


def _alg(s: IkeSaSnapshot) -> tuple[str, str]:
    t = s.transform
    if t is None:
        return DASH, DASH
    return _CIPHER_NAME[t.cipher].upper(), _alg_hash(t)


def show_isakmp_sas(sas: Iterable[IkeSaSnapshot], now: float) -> str:
    """``show isakmp sa`` (summary, Figure 48-42) at time ``now``."""
    lines = ["SA Id PeerAddress     EncA.  HashA. Bytes                Seconds", "-" * 77]
    for s in sas:
        hard_b, soft_b, seen, hard_s, soft_s, age = (dash_or(v) for v in _limits(s, now))
        enc, hash_ = _alg(s)
        lines.append(f"{s.sa_id:>5} " + columns([str(s.peer), enc, hash_, f"{hard_b}/{soft_b}/{seen}",
                                                 f"{hard_s}/{soft_s}/{age}"], [16, 7, 7, 21, 20]))
    return join_lines(lines)


def show_isakmp_sa(s: IkeSaSnapshot, policy: IsakmpPolicy | None, now: float, xauth=None) -> str:
    """``show isakmp sa=id`` (detail, Figure 48-43) at time ``now``; ``policy``
    the SA's policy (None when destroyed since: its settings print ``-``);
    ``xauth`` the SA's :class:`~pacsim.firmware.isakmp.xauth.XauthSaStatus`
    (None: no XAUTH service). An SA of a policy with XAUTH prints "Do Xauth
    TRUE", "Xauth Finished" once it has an outcome and Status ``OK`` once
    it passed (the manual shows only ``FAIL``: ``OK`` is the XAUTH-STATUS
    name); otherwise the figure's FALSE, TRUE and FAIL."""
    do_xauth = policy is not None and policy.xauth != "none" and xauth is not None
    finished, passed = (xauth.finished, xauth.passed) if do_xauth else (True, False)
    hard_b, soft_b, seen, hard_s, soft_s, age = (dash_or(v) for v in _limits(s, now))

    def setting(name, show=flag):
        return DASH if policy is None else show(getattr(policy, name))
    lines = [leader("SA Id", s.sa_id, 41, 1)]
    rows = [("Initiator Cookie", _hex(s.cky_i)), ("Responder Cookie", _hex(s.cky_r)), ("DOI", "IPSEC"),
            ("Policy name", s.policy), ("State", sa_state(s.state)), ("Local address", s.local),
            ("Remote Address", s.peer),
            ("Time of establishment", DASH if s.established is None else int(s.established)),
            ("Commit bit set", setting("setcommitbit")), ("Send notifies", setting("sendnotify")),
            ("Send deletes", setting("senddeletes")), ("Message Retry Limit", setting("msgretrylimit", str)),
            ("Initial Message Retry Timeout (s)", setting("msgtimeout", str)),
            ("Message Back-off", setting("msgbackoff", lambda v: _backoff(v == "incremental"))),
            ("Exchange Delete Delay (s)", setting("deletedelay", str)), ("Do Xauth", flag(do_xauth))]
    lines += [leader(label, value, 40, 2) for label, value in rows]
    lines.append(leader("Xauth Finished", flag(finished), 40, 4))
    rows = [("Expiry Limit (bytes)", hard_b), ("Soft Expiry Limit (bytes)", soft_b), ("Bytes seen", seen),
            ("Expiry Limit (seconds)", hard_s), ("Soft Expiry Limit (seconds)", soft_s),
            ("Seconds since creation", age), ("Number of Phase 2 exchanges allowed",
                                              _phase2_limit(policy)),
            ("Number of acquires queued", 0)]
    lines += [leader(label, value, 40, 2) for label, value in rows]
    lines += ["", "Sa Definition Information:"] + _sa_definition(s.transform, policy, 40)
    nat = s.nat
    discovered = {(False, False): "NO", (True, False): "LOCAL", (False, True): "REMOTE", (True, True): "BOTH"}
    heartbeat = DASH if policy is None else policy.heartbeatmode
    rows = [("XAuth Information:", None), ("Id", 0), ("Next Message", "UNKNOWN"), ("Status", "OK" if passed else "FAIL"),
            ("Type", "Generic"), ("Max Failed Attempts", 0), ("Failed Attempts", 0),
            ("NAT-Traversal Information:", None),
            ("NAT-T enabled", "YES" if setting("nattraversal") == "TRUE" else "NO"),
            ("Peer NAT-T capable", "YES" if nat.supported else "NO"),
            ("NAT discovered", discovered[(nat.nat_local, nat.nat_peer)]), ("Heartbeat information:", None),
            ("Send Heartbeats", "YES" if heartbeat in ("send", "both") else "NO"), ("Next sequence number tx", s.heartbeat_sent + 1),
            ("Receive Heartbeats", "YES" if heartbeat in ("receive", "both") else "NO"),
            ("Last sequence number rx", s.heartbeat_received)]
    lines += [label if value is None else leader(label, value, 40, 2) for label, value in rows]
    return join_lines(lines)


def _phase2_limit(policy: IsakmpPolicy | None):
    """PHASE2XCHGLIMIT as the SA detail prints it: NONE is the figure's 4294967295 (no limit)."""
    if policy is None:
        return DASH
    return UNLIMITED if policy.phase2xchglimit is None else policy.phase2xchglimit


def _sa_definition(t, policy: IsakmpPolicy | None, column: int) -> list[str]:
    """The "Sa Definition Information" lines of a negotiated transform ``t`` (None: INVALID)."""
    invalid = "INVALID"
    rows = [("Authentication Type", invalid if t is None else _AUTH.get(int(t.auth), t.auth.name)),
            ("Encryption Algorithm", invalid if t is None else _ENC_LONG[_CIPHER_NAME[t.cipher]]),
            ("Hash Algorithm", invalid if t is None else _alg_hash(t)),
            ("group Type", invalid if t is None else "MODP"),
            ("group Description", invalid if t is None else f"MODP{group_of(t.group).bits}"),
            ("DH Private Exponent Bits", DASH if policy is None else policy.dhexponentlength),
            ("expiry seconds", 0 if t is None or t.life_seconds is None else t.life_seconds),
            ("expiry kilobytes", 0 if t is None or t.life_kbytes is None else t.life_kbytes)]
    return [leader(label, value, column, 2) for label, value in rows]


def _alg_hash(t) -> str:
    return "SHA" if t.hash.name.startswith("SHA") else t.hash.name


# -- show isakmp exchange ----------------------------------------------------------------------------

def _phase(e: ExchangeSnapshot) -> str:
    return "1.5" if e.exchange == ExchangeType.TRANSACTION else str(e.phase)


def show_isakmp_exchanges(exchanges: Iterable[ExchangeSnapshot]) -> str:
    """``show isakmp exchange`` (summary, Figure 48-38)."""
    lines = ["ISAKMP Exchanges", "", "   Id  Phase  State    PeerAddress               Type", "   " + "-" * 57]
    for e in exchanges:
        kind = "IDPROTECT" if e.exchange == ExchangeType.MAIN else _TYPE.get(e.exchange, str(e.exchange))
        lines.append(f"{e.exchange_id:>5}{_phase(e):>7}  " + columns([e.state[:8], str(e.peer), kind], [9, 26, 0]))
    return join_lines(lines)


def show_isakmp_exchange(e: ExchangeSnapshot, policy: IsakmpPolicy | None, transform=None) -> str:
    """``show isakmp exchange=id`` (detail, Figure 48-39): ``policy`` the
    exchange's policy (None when destroyed since), ``transform`` the IKE
    SA's negotiated one (None before it is chosen)."""
    def setting(name):
        return DASH if policy is None else flag(getattr(policy, name))
    rows = [("Id", e.exchange_id), ("Type", _TYPE.get(e.exchange, str(e.exchange))), ("State", e.state),
            ("Phase", _phase(e)), ("Initiator", flag(e.initiator)), ("DOI", "IPSEC"), ("Policy name", e.policy),
            ("SA", e.sa_id), ("Peer IP Address", e.peer), ("Local IP Address", e.local),
            ("Encrypted", flag(e.encrypted)), ("Expecting message", flag(e.expecting)), ("Has SA", "TRUE"),
            ("Initiator Cookie", _hex(e.cky_i)), ("Responder Cookie", _hex(e.cky_r)),
            ("Message Id", f"{e.message_id:08x}"), ("Set Commit bit", flag(e.commit_sent)),
            ("Commit bit received", flag(e.commit_received)), ("Send notifies", setting("sendnotify")),
            ("Send deletes", setting("senddeletes")), ("Message Retry Limit", e.retry_limit),
            ("Packet Retry Counter", e.retries_left), ("Message Back-off", _backoff(e.incremental)),
            ("Delete Delay Time (s)", e.delete_delay),
            ("Delete Delay Timer (time left (s))", dash_or(None if e.delete_left is None else int(e.delete_left))),
            ("Initial Message Retry Timeout (s)", int(e.initial_timeout)),
            ("Packet Retry Timer (time left(s))", dash_or(None if e.retry_left is None else int(e.retry_left)))]
    lines = ["ISAKMP Exchange", ""] + [leader(label, value, 42, 2) for label, value in rows]
    if e.exchange in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE):
        lines += ["", ("Main" if e.exchange == ExchangeType.MAIN else "Aggressive") + " Mode Status:", ""]
        rows = [("ENCO Pass", 0), ("Shared Key Id", DASH if policy is None else dash_or(policy.key)),
                ("Peer RSA Key Id", DASH),
                ("Local RSA Key Id", DASH if policy is None else dash_or(policy.localrsakey)),
                ("Peer Certificate Id", DASH), ("Local Certificate Id", DASH)]
        lines += [leader(label, value, 42, 2) for label, value in rows]
        lines += ["  Local Policy"] + _local_policy(policy) + ["  Remote Policy"]
        lines += ["", "Sa Definition Information:"] + _sa_definition(transform, policy, 40)
    return join_lines(lines)


def _local_policy(policy: IsakmpPolicy | None) -> list[str]:
    """The one transform our policy proposes (number 1, KEY_IKE), as the exchange detail lists it."""
    if policy is None:
        return []
    rows = [("Transform Number", 1), ("Transform Id", 1), ("Encryption Algorithm", _ENC_LONG[policy.encalg]),
            ("Authentication Algorithm", policy.hashalg.upper()), ("Authentication Method", policy.authtype.upper()),
            ("Group Description", group_of(policy.group).bits), ("Group Type", "MODP"),
            ("Expiry Seconds", policy.expiryseconds), ("Expiry KBytes", dash_or(policy.expirykbytes))]
    return ["      Transform 0:"] + [leader(label, value, 39, 7) for label, value in rows]
