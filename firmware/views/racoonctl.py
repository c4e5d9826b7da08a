# Ref: ../shared/seeds/000_*.txt, 001_*.txt (racoonctl -ll show-sa isakmp, the ST codes); setkey(8) -D SA listing
"""racoonctl's view of a router: ``show-sa isakmp|esp|ah|ipsec`` with
``-l``/``-ll``, as ``render(argv, source) -> str`` over a
:class:`~pacsim.firmware.views.ViewSource`.

``show-sa isakmp``: without ``-l`` racoonctl's short table (Destination,
Cookies, Created); ``-l`` its semi-long one (Destination, Cookies, ST, S,
V, E, Created, Phase2); ``-ll`` the seed's table (racoonctl -ll as the F5
build prints it): Source and Destination as ``address.port``, the
cookies ``CKY-I:CKY-R`` in hex, ST (racoon's
PHASE1ST number, :func:`~.vendor_terms.racoon_state`), S (I/R), V (10:
ISAKMP 1.0), E (M main, A aggressive), Created (UTC) and Phase2 (quick
modes done on the SA).

``show-sa esp|ah|ipsec`` (ipsec: every protocol, IPComp as ``ipcomp``):
the SAs as ``setkey -D`` lists them, one entry per direction (outbound:
local -> peer with the outbound SPI; inbound: peer -> local with the
inbound SPI), keys left out (racoonctl shows what racoon holds, not the
keys): ``E:``/``A:``/``C:`` algorithm lines, ``seq`` (the last sequence
number sent or received), ``replay`` (window, 0 without anti-replay),
``state`` (mature, larval, dying), created/current/diff and the bundle's
hard and soft lifetimes in seconds and bytes, ``current`` bytes (the
bundle's, both directions, which its byte lifetime counts), ``allocated``
(packets of that direction), ``sadb_seq`` counting down to 0.

The actions (``delete-sa isakmp SRC DST``, ``flush-sa [esp|ah|ipsec]``) act
on a router: :func:`~pacsim.firmware.router.view_source.delete_ike_sas`,
:func:`~pacsim.firmware.router.view_source.flush_sas`.
"""
import time

from ..ipsec.transforms import Protocol
from . import ViewSource
from .vendor_terms import date, ends, racoon_state, SaPackets

__all__ = ["render", "show_isakmp", "show_ipsec", "UsageError", "SETKEY_ENC", "SETKEY_AUTH"]

#: Our ESP encryption algorithms as setkey names them.
SETKEY_ENC = {"DES": "des-cbc", "3DES2KEY": "3des-cbc", "3DESINNER": "3des-cbc", "3DESOUTER": "3des-cbc",
              "AES128": "aes-cbc", "AES192": "aes-cbc", "AES256": "aes-cbc", "NULL": "null"}
#: Our hash algorithms as setkey names them.
SETKEY_AUTH = {"MD5": "hmac-md5", "SHA": "hmac-sha1", "DESMAC": "des-mac", "NULL": "null"}
_PROTOCOLS = {"esp": {Protocol.ESP}, "ah": {Protocol.AH}, "ipsec": set(Protocol)}
_STATE = {"VALID": "mature", "CREATING": "larval", "REMOVING": "dying", "INVALID": "dead"}


class UsageError(ValueError):
    """A racoonctl command line this view does not know."""


def _port(address, port) -> str:
    return f"{address}.{port}"


def show_isakmp(source: ViewSource, long: int = 0) -> str:
    """``show-sa isakmp``; ``long`` 0 (short), 1 (``-l``) or 2 (``-ll``)."""
    head = f"{'Destination':<22} {'Cookies':<33} "
    if long == 0:
        lines = [head + "Created"]
    elif long == 1:
        lines = [head + f"ST S  V E {'Created':<19} Phase2"]
    else:
        lines = [f"{'Source':<16} {'Destination':<19} {'Cookies':<33} ST S  V E {'Created':<19} Phase2"]
    for s in source.ike_sas():
        cookies, peer = f"{s.cky_i.hex()}:{s.cky_r.hex()}", _port(s.peer, s.peer_port)
        status = f"{racoon_state(s):>2} {s.role.value[0].upper()} 10 {s.mode.value} {date(s.created):<19} " \
                 f"{s.phase2_exchanges:>6}"
        if long == 0:
            lines.append(f"{peer:<22} {cookies} {date(s.created)}")
        elif long == 1:
            lines.append(f"{peer:<22} {cookies} {status}")
        else:
            lines.append(f"{_port(s.local, s.local_port):<16} {peer:<19} {cookies} {status}")
    return "\n".join(lines)


def _setkey_date(seconds: float | None) -> str:
    return "" if seconds is None else time.strftime("%b %e %H:%M:%S %Y", time.gmtime(seconds))


def _limit(value) -> int:
    return 0 if value is None else value


def _entry(sa, bundle, inbound: bool, now: float, seq: int) -> list[str]:
    local, peer = ends(sa)
    src, dst = (peer, local) if inbound else (local, peer)
    spi = sa.inbound_spi if inbound else sa.outbound_spi
    proto = "ipcomp" if sa.protocol is Protocol.IPCOMP else sa.protocol.name.lower()
    mode = "transport" if "TRANSPORT" in sa.mode else "tunnel"
    lines = [f"{src} {dst}", f"\t{proto} mode={mode} spi={spi}(0x{spi:08x}) reqid={sa.bundle}(0x{sa.bundle:08x})"]
    if sa.protocol is Protocol.ESP:
        lines.append(f"\tE: {SETKEY_ENC[sa.encalg or 'NULL']}")
    if sa.protocol in (Protocol.ESP, Protocol.AH):
        lines.append(f"\tA: {SETKEY_AUTH[sa.hashalg or 'NULL']}")
    if sa.protocol is Protocol.IPCOMP:
        lines.append(f"\tC: {(sa.compalg or 'none').lower()}")
    number = sa.last_received_sequence if inbound else sa.last_sent_sequence
    replay = sa.replay_window if sa.antireplay else 0
    lines.append(f"\tseq=0x{number or 0:08x} replay={replay} flags=0x00000000 state={_STATE.get(sa.state, 'dead')} ")
    created = sa.created if sa.created is not None else now
    hard_b, soft_b, used_b = bundle.bytes if bundle else (None, None, sa.bytes_used or 0)
    hard_s, soft_s, _ = bundle.seconds if bundle else (None, None, 0)
    packets = SaPackets(sa)
    lines += [f"\tcreated: {_setkey_date(created)}\tcurrent: {_setkey_date(now)}",
              f"\tdiff: {int(now - created)}(s)\thard: {_limit(hard_s)}(s)\tsoft: {_limit(soft_s)}(s)",
              "\tlast: \thard: 0(s)\tsoft: 0(s)",
              f"\tcurrent: {used_b}(bytes)\thard: {_limit(hard_b)}(bytes)\tsoft: {_limit(soft_b)}(bytes)",
              f"\tallocated: {packets.into if inbound else packets.out}\thard: 0\tsoft: 0",
              f"\tsadb_seq={seq} pid=0 refcnt=0"]
    return lines


def show_ipsec(source: ViewSource, which: str) -> str:
    """``show-sa esp|ah|ipsec``: the setkey listing (see the module docstring)."""
    protocols = _PROTOCOLS[which]
    bundles = {(b.policy, b.index): b for b in source.bundles()}
    now = source.now()
    pairs = [(sa, inbound) for sa in source.sas() if sa.protocol in protocols for inbound in (False, True)]
    lines = []
    for n, (sa, inbound) in enumerate(pairs):
        lines += _entry(sa, bundles.get((sa.policy, sa.bundle)), inbound, now, len(pairs) - 1 - n)
    return "\n".join(lines) if lines else "No SAD entries."


def render(argv: list[str], source: ViewSource) -> str:
    """The output of ``racoonctl ARGV`` (``[-l|-ll] show-sa isakmp|esp|ah|ipsec``);
    raises :class:`UsageError` for any other command line."""
    args = list(argv)
    long = 0
    while args and args[0] in ("-l", "-ll"):
        long = min(long + len(args.pop(0)) - 1, 2)
    if len(args) == 2 and args[0] == "show-sa":
        if args[1] == "isakmp":
            return show_isakmp(source, long)
        if args[1] in _PROTOCOLS:
            return show_ipsec(source, args[1])
    raise UsageError(f"racoonctl: unknown command: {' '.join(argv)}; "
                     "expected [-l|-ll] show-sa isakmp|esp|ah|ipsec")
