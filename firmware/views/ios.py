# Ref: ../shared/seeds/002_*.txt, 003_*.txt (Cisco IOS show crypto isakmp sa, ipsec sa, engine connections, map)
"""Cisco IOS's view of a router: ``show crypto isakmp sa [detail]``,
``show crypto ipsec sa [peer A] [detail]``, ``show crypto engine
connections active|dropped-packet`` and ``show crypto map [tag NAME]``,
one function each over a :class:`~pacsim.firmware.views.ViewSource`.

Our objects in IOS terms:

- an IKE SA is an ISAKMP SA: ``dst`` the responder, ``src`` the initiator,
  the state :func:`~.vendor_terms.ios_state`, ``conn-id`` our SA id,
  ``status`` ACTIVE (``ACTIVE (deleted)`` once expired or deleted);
  detail: Encr/Hash/Auth/DH, the remaining lifetime (``hh:mm:ss``, whole
  seconds rounded up) and
  capabilities (D: the peer does DPD, N: NAT-T);
- an IPsec policy with action IPSEC is a crypto map entry (the map tag is
  the policy name, the sequence number its position, ``ipsec-isakmp`` or
  ``ipsec-manual`` by key management, the transform set its bundle
  specification); the policy's interface is the interface of ``show crypto
  ipsec sa``;
- an SA bundle is a ``show crypto ipsec sa`` block (idents from the
  policy's selectors); its packet counters are those of the data path
  (:class:`~.vendor_terms.SaPackets`), the largest over the bundle's SAs
  (every packet passes each SA of a bundle); each SA gives an inbound and
  an outbound entry with its SPI, transform, ``conn id`` (:func:`conn_id`),
  ``flow_id`` (the card channel of its cipher, else its MAC, else its
  compression), remaining lifetime (k/sec) and replay detection;
- engine connections: an IKE SA row (no interface), and a row per SA and
  direction, Encrypt/Decrypt being the packets protected/opened;
- dropped packets: those refused for want of an SA bundle ("connection not
  established"), the data path's drops by class (bad ICV, replay, unknown
  SPI, bad padding) per interface, the same classes per connection from
  the SA counters, and the card's failed and discarded jobs per algorithm.
"""
import math

from ..ipsec.transforms import Protocol
from ..isakmp.ike_sa import IkeSaState
from ..isakmp.rules import Role
from ..state.snapshots import selector_address
from . import ViewSource
from .vendor_terms import ends, ike_cipher, ike_hash, ios_state, SaPackets

__all__ = ["show_crypto_isakmp_sa", "show_crypto_ipsec_sa", "show_crypto_engine_active",
           "show_crypto_engine_dropped", "show_crypto_map", "conn_id", "DROP_CLASSES", "NOT_ESTABLISHED"]

#: Drop reasons of the data path (:class:`~pacsim.firmware.ipsec.outcome.DropReason` values) -> IOS wording.
DROP_CLASSES = {"authentication failed": "bad ICV", "replayed": "replay", "unknown SPI": "unknown SPI",
                "bad padding": "bad padding"}
#: Outbound drops for want of a bundle: IOS's "connection not established".
NOT_ESTABLISHED = ("outNoBundleFail", "outBundleStateBad")
_ESP_TRANSFORM = {"DES": "esp-des", "3DES2KEY": "esp-3des", "3DESINNER": "esp-3des", "3DESOUTER": "esp-3des",
                  "AES128": "esp-aes", "AES192": "esp-aes 192", "AES256": "esp-aes 256", "NULL": "esp-null"}
#: Ciphers (ours upper-cased: IPsec's EncAlg values, IKE's policy names) as the crypto engine names them.
_ENGINE_CIPHER = {"DES": "DES_56_C", "3DES2KEY": "3DES_56_C", "3DESINNER": "3DES_56_C", "3DESOUTER": "3DES_56_C",
                  "AES128": "AES_128", "AES192": "AES_192", "AES256": "AES_256"}
_IV = {"DES": 8, "3DES2KEY": 8, "3DESINNER": 8, "3DESOUTER": 8, "AES128": 16, "AES192": 16, "AES256": 16}
_IKE_CIPHER = {"des": "des", "3desinner": "3des", "aes128": "aes", "aes192": "aes 192", "aes256": "aes 256"}


def conn_id(sa_id: int, inbound: bool) -> int:
    """The IOS connection id of an SA's inbound or outbound half (2000 up, as IOS numbers them)."""
    return 2000 + 2 * sa_id + (0 if inbound else 1)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _ike_ends(s) -> tuple[str, str]:
    """(dst, src) of an IKE SA: the responder and the initiator."""
    return (str(s.peer), str(s.local)) if s.role is Role.INITIATOR else (str(s.local), str(s.peer))


def _status(s) -> str:
    return "ACTIVE (deleted)" if s.state in (IkeSaState.EXPIRED, IkeSaState.DELETED) else "ACTIVE"


def show_crypto_isakmp_sa(source: ViewSource, detail: bool = False) -> str:
    """``show crypto isakmp sa [detail]``."""
    now = source.now()
    lines = []
    if detail:
        lines += ["Codes: C - IKE configuration mode, D - Dead Peer Detection",
                  "       K - Keepalives, N - NAT-traversal",
                  "       T - cTCP encapsulation, X - IKE Extended Authentication",
                  "       psk - Preshared key, rsig - RSA signature",
                  "       renc - RSA encryption"]
    for version in (4, 6):
        sas = [s for s in source.ike_sas() if s.peer.version == version]
        lines.append(f"IPv{version} Crypto ISAKMP SA")
        if not detail:
            lines.append(f"{'dst':<15} {'src':<15} {'state':<14} {'conn-id':>7} status")
            for s in sas:
                dst, src = _ike_ends(s)
                lines.append(f"{dst:<15} {src:<15} {ios_state(s):<14} {s.sa_id:>7} {_status(s)}")
            lines.append("")
            continue
        lines += ["", "C-id  Local           Remote          I-VRF  Status Encr Hash   Auth DH Lifetime Cap.", ""]
        for s in sas:
            t = s.transform
            left = "-" if s.expires is None else _clock(max(math.ceil(s.expires - now), 0))
            caps = ("D" if s.peer_dpd else "") + ("N" if s.nat.detected else "")
            auth = "psk" if t is None else {"RSA_SIGNATURES": "rsig", "RSA_ENCRYPTION": "renc"}.get(t.auth.name, "psk")
            encr = _IKE_CIPHER.get(ike_cipher(s), "-")
            lines += [f"{s.sa_id:<5} {str(s.local):<15} {str(s.peer):<15} {'':<6} {_status(s):<6} {encr:<4} "
                      f"{ike_hash(s):<6} {auth:<4} {'-' if t is None else t.group:<2} {left:<8} {caps}",
                      f"       Engine-id:Conn-id =  SW:{s.sa_id}", ""]
    return "\n".join(lines)


def _ident(address: str | None, mask: str | None, prot: str | None, port: str | None) -> str:
    """``(addr/mask/prot/port)`` of a selector (ANY: 0)."""
    if address in (None, "ANY"):
        address, mask = "0.0.0.0", "0.0.0.0"
    if "/" in address:
        address, bits = address.split("/")
        mask = f"/{bits}"
    mask = "255.255.255.255" if mask in (None, "-") else mask
    prot = "0" if prot in (None, "ANY") else prot
    port = "0" if port in (None, "ANY") else port
    return f"({address}/{mask.lstrip('/')}/{prot}/{port})"


def _transform(sa) -> str:
    if sa.protocol is Protocol.IPCOMP:
        return f"comp-{(sa.compalg or 'lzs').lower()}"
    mac = f"{(sa.hashalg or 'null').lower()}-hmac"
    if sa.protocol is Protocol.AH:
        return f"ah-{mac}"
    return f"{_ESP_TRANSFORM[sa.encalg or 'NULL']}" + ("" if sa.hashalg in (None, "NULL") else f" esp-{mac}")


def _flow(sa) -> str:
    for channel in (sa.enc_channel, sa.hash_channel, sa.comp_channel):
        if channel is not None:
            return str(channel).split("/")[0]
    return "-"


def _sa_entry(sa, inbound: bool, tag: str) -> list[str]:
    spi = sa.inbound_spi if inbound else sa.outbound_spi
    mode = "Transport" if "TRANSPORT" in sa.mode else "Tunnel"
    settings = f"{mode} UDP-Encaps, " if sa.mode.startswith("UDP_ENCAP") else f"{mode}, "
    kbytes = "-" if sa.remaining_kbytes is None else sa.remaining_kbytes
    seconds = "-" if sa.remaining_seconds is None else sa.remaining_seconds
    lines = [f"      spi: 0x{spi:X}({spi})", f"        transform: {_transform(sa)} ,",
             f"        in use settings ={{{settings}}}",
             f"        conn id: {conn_id(sa.sa_id, inbound)}, flow_id: {_flow(sa)}, crypto map: {tag}",
             f"        sa timing: remaining key lifetime (k/sec): ({kbytes}/{seconds})"]
    if sa.protocol is Protocol.ESP:
        lines.append(f"        IV size: {_IV.get(sa.encalg or '', 0)} bytes")
    lines += [f"        replay detection support: {'Y' if sa.antireplay else 'N'}",
              f"        Status: {'ACTIVE' if sa.state == 'VALID' else sa.state}", ""]
    return lines


_FIELDS = ("out", "into", "encrypted", "decrypted", "digested", "verified", "compressed", "decompressed",
           "not_compressed", "compress_failed", "decompress_failed", "send_errors", "recv_errors", "bad_icv",
           "replayed", "bad_padding")


def _bundle_counts(sas) -> dict[str, int]:
    """The bundle's packet counters: each the largest over its SAs (see the module docstring)."""
    counts = [SaPackets(sa) for sa in sas]
    return {f: max(getattr(c, f) for c in counts) for f in _FIELDS}


def _block(sas, policy, detail: bool) -> list[str]:
    first = sas[0]
    local, peer = ends(first)
    c = _bundle_counts(sas)
    outbound = next((sa for sa in sas if sa.protocol is Protocol.ESP), first).outbound_spi
    lines = ["   protected vrf: (none)",
             f"   local  ident (addr/mask/prot/port): "
             f"{_ident(first.local_address, first.local_mask, first.transport, first.local_port)}",
             f"   remote ident (addr/mask/prot/port): "
             f"{_ident(first.remote_address, first.remote_mask, first.transport, first.remote_port)}",
             f"   current_peer {peer} port {500 if first.napt_port is None else first.napt_port}",
             "     PERMIT, flags={origin_is_acl,}",
             f"    #pkts encaps: {c['out']}, #pkts encrypt: {c['encrypted']}, #pkts digest: {c['digested']}",
             f"    #pkts decaps: {c['into']}, #pkts decrypt: {c['decrypted']}, #pkts verify: {c['verified']}",
             f"    #pkts compressed: {c['compressed']}, #pkts decompressed: {c['decompressed']}",
             f"    #pkts not compressed: {c['not_compressed']}, #pkts compr. failed: {c['compress_failed']}, "
             f"#pkts decompress failed: {c['decompress_failed']}",
             f"    #send errors {c['send_errors']}, #recv errors {c['recv_errors']}"]
    if detail:
        lines += [f"    #pkts verify failed: {c['bad_icv']}, #pkts invalid len (rcv) {c['bad_padding']}",
                  f"    ##pkts replay failed (rcv): {c['replayed']}"]
    interface = policy.config.interface if policy else "-"
    lines += ["", f"     local crypto endpt.: {local}, remote crypto endpt.: {peer}",
              f"     path mtu 1500, ip mtu 1500, ip mtu idb {interface}",
              f"     current outbound spi: 0x{outbound:X}({outbound})",
              f"     PFS (Y/N): {'Y' if policy and policy.config.usepfskey else 'N'}, DH group: none", ""]
    for direction in ("inbound", "outbound"):
        for protocol, word in ((Protocol.ESP, "esp"), (Protocol.AH, "ah"), (Protocol.IPCOMP, "pcp")):
            lines.append(f"     {direction} {word} sas:")
            for sa in sas:
                if sa.protocol is protocol:
                    lines += _sa_entry(sa, direction == "inbound", first.policy)
    return lines


def show_crypto_ipsec_sa(source: ViewSource, peer: str | None = None, detail: bool = False) -> str:
    """``show crypto ipsec sa [peer PEER] [detail]``: a block per SA bundle, grouped by interface."""
    policies = {p.name: p for p in source.policies()}
    bundles: dict[tuple[str, int], list] = {}
    for sa in source.sas():
        if peer is None or sa.peer == peer:
            bundles.setdefault((sa.policy, sa.bundle), []).append(sa)
    lines = []
    for (name, _), sas in bundles.items():
        policy = policies.get(name)
        local, _ = ends(sas[0])
        lines += [f"interface: {policy.config.interface if policy else '-'}",
                  f"    Crypto map tag: {name}, local addr {local}", ""]
        lines += _block(sas, policy, detail)
    return "\n".join(lines)


def _engine_alg(cipher: str | None, mac: str | None) -> str:
    parts = [f"HMAC_{mac.upper()}"] if mac not in (None, "NULL", "-") else []
    if cipher not in (None, "NULL", "-"):
        parts.append(_ENGINE_CIPHER[cipher.upper()])
    return "+".join(parts) or "NONE"


def show_crypto_engine_active(source: ViewSource) -> str:
    """``show crypto engine connections active``."""
    policies = {p.name: p for p in source.policies()}
    lines = [f"{'ID':>5} {'Interface':<15} {'IP-Address':<15} {'State':<5} {'Algorithm':<22} "
             f"{'Encrypt':>8} {'Decrypt':>8}"]
    for s in source.ike_sas():
        alg = _engine_alg(ike_cipher(s), ike_hash(s))
        lines.append(f"{s.sa_id:>5} {'':<15} {'':<15} {'set':<5} {alg:<22} {0:>8} {0:>8}")
    for sa in source.sas():
        policy = policies.get(sa.policy)
        interface = policy.config.interface if policy else "-"
        local, _ = ends(sa)
        alg = "LZS" if sa.protocol is Protocol.IPCOMP else _engine_alg(sa.encalg, sa.hashalg)
        packets = SaPackets(sa)
        for inbound in (True, False):
            enc, dec = (0, packets.into) if inbound else (packets.out, 0)
            lines.append(f"{conn_id(sa.sa_id, inbound):>5} {interface:<15} {local:<15} {'set':<5} {alg:<22} "
                         f"{enc:>8} {dec:>8}")
    return "\n".join(lines)


def show_crypto_engine_dropped(source: ViewSource) -> str:
    """``show crypto engine connections dropped-packet`` (see the module docstring)."""
    addresses = {}
    policies = {p.name: p for p in source.policies()}
    for sa in source.sas():
        if sa.policy in policies and sa.tunnel_local:
            addresses.setdefault(policies[sa.policy].config.interface, sa.tunnel_local)
    drops = source.drops()
    lines = ["Packets dropped because of connection not established:",
             f"{'Interface':<21} {'IP-Address':<15} Drop Count"]
    for interface in dict.fromkeys(d.interface for d in drops if d.reason in NOT_ESTABLISHED):
        count = sum(d.count for d in drops if d.interface == interface and d.reason in NOT_ESTABLISHED)
        lines.append(f"{interface:<21} {addresses.get(interface, '-'):<15} {count}")
    lines += ["", "Packets dropped by the crypto engine:",
              f"{'Interface':<21} {'IP-Address':<15} {'Reason':<14} Drop Count"]
    for d in drops:
        if d.reason in DROP_CLASSES:
            lines.append(f"{d.interface:<21} {addresses.get(d.interface, '-'):<15} {DROP_CLASSES[d.reason]:<14} "
                         f"{d.count}")
    lines += ["", "Packets dropped per connection:", f"{'ID':>5} {'bad ICV':>8} {'replay':>8} {'bad padding':>12}"]
    for sa in source.sas():
        p = SaPackets(sa)
        lines.append(f"{conn_id(sa.sa_id, True):>5} {p.bad_icv:>8} {p.replayed:>8} {p.bad_padding:>12}")
    lines += ["", "Crypto engine jobs failed and discarded:",
              f"{'Algorithm':<12} {'Enc-fail':>9} {'Enc-discard':>12} {'Dec-fail':>9} {'Dec-discard':>12}"]
    for unit in source.enco().units:
        lines.append(f"{unit.unit:<12} {unit.encode[1]:>9} {unit.encode[2]:>12} {unit.decode[1]:>9} "
                     f"{unit.decode[2]:>12}")
    return "\n".join(lines)


def _acl(config) -> str:
    """The access list line of a policy's selectors."""
    def host(sel, mask):
        address, m = selector_address(sel, mask)
        if address == "ANY":
            return "any"
        return f"host {address}" if m in ("-", "255.255.255.255") else f"{address} {m}"
    return f"access-list {config.name} permit ip {host(config.laddress, config.lmask)} " \
           f"{host(config.raddress, config.rmask)}"


def show_crypto_map(source: ViewSource, tag: str | None = None) -> str:
    """``show crypto map [tag NAME]``: each IPsec policy with action IPSEC."""
    sas = source.sas()
    lines = []
    for p in source.policies():
        c = p.config
        if c.action.name != "IPSEC" or (tag is not None and c.name.lower() != tag.lower()):
            continue
        kind = "ipsec-isakmp" if c.keymanagement is not None and c.keymanagement.name == "ISAKMP" else "ipsec-manual"
        current = next((sa.peer for sa in sas if sa.policy == c.name and sa.peer), None)
        lifetime = next(((b.bytes[0], b.seconds[0]) for b in p.bundles), (None, None))
        kbytes = "-" if lifetime[0] is None else lifetime[0] // 1024
        lines += [f'Crypto Map "{c.name}" {c.position} {kind}',
                  f"        Peer = {c.peeraddress if c.peeraddress is not None else '-'}",
                  f"        Extended IP access list {c.name}", f"            {_acl(c)}",
                  f"        Current peer: {current or '0.0.0.0'}",
                  f"        Security association lifetime: {kbytes} kilobytes/"
                  f"{'-' if lifetime[1] is None else lifetime[1]} seconds",
                  f"        PFS (Y/N): {'Y' if c.usepfskey else 'N'}",
                  f"        Transform sets={{ {c.bundlespecification}, }}",
                  f"        Interfaces using crypto map {c.name}:", f"                {c.interface}", ""]
    return "\n".join(lines)
