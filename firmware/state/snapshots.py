# Ref: spec/show-outputs.md §1, §4, §6, §7, §19; ../shared/seeds/000_*-003_* (IOS, racoonctl, tmsh)
"""Typed, frozen snapshots of the IPsec module, its policies, SA bundles
and SAs, and the card's ENCO channels, and the pure functions that build
them from the live objects (read-only: building one changes nothing).

One snapshot serves every view of the same state (AlliedWare ``show
ipsec``, and the IOS ``show crypto``, racoonctl ``show-sa`` and tmsh
``show net ipsec`` views to come): addresses, SPIs, algorithms, modes,
states, packet and byte counters, creation time, remaining lifetime
(seconds and kilobytes) and the card's channel numbers. None stands for
"not known" (the data plane has not said), which each view prints its own
way.

- :class:`ModuleSnapshot` (:func:`module_snapshot`): the IPsec module;
- :class:`PolicyStatus`: the runtime fields of a policy (data plane);
- :class:`BundleSnapshot` (:func:`bundle_snapshots`): one SA bundle;
- :class:`PolicySnapshot` (:func:`policy_snapshot`): a policy's
  configuration, runtime fields and bundles;
- :class:`SaSnapshot` (:func:`sa_snapshot`): one SA pair;
- :class:`ChannelSnapshot`, :class:`AlgUnitSnapshot`,
  :class:`EncoSnapshot`: the card as the ENCO service sees it (built by
  :meth:`~pacsim.firmware.enco.service.EncoService.status`);
- :class:`OldSaChannels`: the card's side of a pre-IPsec SA;
- :class:`DropCount` (:func:`drop_counts`): dropped packets by interface,
  direction and reason;
- counters: :class:`~.counters.CounterSnapshot`.

Units: times in seconds of the router's clock, byte counts in bytes,
``remaining_kbytes`` in kilobytes (1024 bytes), sizes of windows in packets.
"""
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..ipsec.sad import SaBundle, SaRecord
from ..ipsec.spd import IpsecPolicy
from ..ipsec.transforms import Protocol
from .counters import CounterSnapshot

__all__ = ["ModuleSnapshot", "module_snapshot", "PolicyStatus", "BundleSnapshot", "bundle_snapshots",
           "PolicySnapshot", "policy_snapshot", "SaSnapshot", "sa_snapshot", "natt_fields", "ChannelSnapshot", "AlgUnitSnapshot",
           "EncoSnapshot", "OldSaChannels", "DropCount", "drop_counts", "selector_address"]


@dataclass(frozen=True)
class ModuleSnapshot:
    """The IPsec module: enabled, UDP listen port open and its number, VPN
    tunnels now and at most (``maximum`` only when licence-limited)."""
    enabled: bool
    udp_open: bool
    listen_port: int
    current: int
    peak: int
    maximum: int | None = None


def module_snapshot(module) -> ModuleSnapshot:
    """The :class:`ModuleSnapshot` of an :class:`~pacsim.firmware.ipsec.module.IpsecModule`."""
    return ModuleSnapshot(module.enabled, module.udp_listen_open, module.udp_listen_port, module.vpns_current,
                          module.vpns_peak)


@dataclass(frozen=True)
class PolicyStatus:
    """Runtime fields of a policy (None: not known): whether the local
    address is dynamic, the tunnel's local address, where UDP-tunnelled
    traffic goes (default: the policy's peer) and the internal address, the
    debug output device and the outbound packet queue's limit and fill
    (packets)."""
    local_dynamic: bool = False
    local_address: str | None = None
    udp_peer_address: str | None = None
    internal_address: str | None = None
    debug_device: int | None = None
    max_queue: int = 20
    queued: int = 0


@dataclass(frozen=True)
class BundleSnapshot:
    """One SA bundle: ``index`` (bundle id), ``sa_ids``, ``state`` (VALID,
    INVALID, CREATING or REMOVING), the (hard, soft, used) triples for bytes
    and seconds (None: no limit), its policy, when it was created and its
    peer's address."""
    index: int
    sa_ids: tuple[int, ...]
    state: str
    bytes: tuple[int | None, int | None, int]
    seconds: tuple[int | None, int | None, int]
    policy: str = ""
    created: float | None = None
    peer: str | None = None

    @property
    def remaining_seconds(self) -> int | None:
        """Seconds left to the hard lifetime (None: no limit)."""
        hard, _, used = self.seconds
        return None if hard is None else max(hard - used, 0)

    @property
    def remaining_kbytes(self) -> int | None:
        """Kilobytes left to the hard lifetime (None: no limit)."""
        hard, _, used = self.bytes
        return None if hard is None else max(hard - used, 0) // 1024


def _bundle_snapshot(b: SaBundle, now: float) -> BundleSnapshot:
    lim = b.limits
    return BundleSnapshot(b.bundle_id, b.sa_ids, b.state.value, (lim.hard_bytes, lim.soft_bytes, b.bytes_used),
                          (lim.hard_seconds, lim.soft_seconds, b.seconds_used(now)), b.policy_name, b.created_at,
                          None if b.peer is None else str(b.peer))


def bundle_snapshots(bundles: Iterable[SaBundle], now: float) -> tuple[BundleSnapshot, ...]:
    """Snapshots of SAD bundles at time ``now``, in bundle id order."""
    return tuple(_bundle_snapshot(b, now) for b in sorted(bundles, key=lambda b: b.bundle_id))


@dataclass(frozen=True)
class PolicySnapshot:
    """A policy: its configuration (a copy of the SPD's record), runtime
    fields and SA bundles."""
    config: IpsecPolicy
    status: PolicyStatus = PolicyStatus()
    bundles: tuple[BundleSnapshot, ...] = ()

    @property
    def name(self) -> str:
        return self.config.name


def policy_snapshot(policy: IpsecPolicy, bundles: Iterable[SaBundle] = (), now: float = 0.0,
                    status: PolicyStatus = PolicyStatus()) -> PolicySnapshot:
    """The snapshot of an SPD policy, its SAD ``bundles`` at time ``now``
    and its runtime ``status``."""
    return PolicySnapshot(replace(policy, debug=dict(policy.debug)), status, bundle_snapshots(bundles, now))


@dataclass(frozen=True)
class SaSnapshot:
    """One SA pair (None: not known). Configuration: ids, policy, SPIs
    (IPComp: CPIs), algorithms, mode, the policy's selectors; runtime: ENCO
    channel numbers (``outbound/inbound``), sequence numbers, replay window
    and bitmap, NAT-T original addresses; lifetime: the bundle's creation
    time, remaining seconds and kilobytes and bytes used (the bundle's, both
    directions); ``peer`` the remote tunnel end
    (the policy's peer, or the address a dynamic peer's bundle was made
    with); ``tunnel_local`` the local tunnel end (the address of the
    policy's interface); ``counters``: the SA's own counters."""
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
    enc_channel: str | int | None = None
    hashalg: str | None = None
    hash_channel: str | int | None = None
    compalg: str | None = None
    comp_channel: str | int | None = None
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
    peer: str | None = None
    tunnel_local: str | None = None
    created: float | None = None
    remaining_seconds: int | None = None
    remaining_kbytes: int | None = None
    bytes_used: int | None = None
    counters: CounterSnapshot | None = None

    @property
    def packets_out(self) -> int | None:
        """Packets the SA has protected (``outProcessDone``; None: no counters)."""
        return None if self.counters is None else self.counters["outProcessDone"]

    @property
    def packets_in(self) -> int | None:
        """Packets the SA has opened (``inProcessDone``; None: no counters)."""
        return None if self.counters is None else self.counters["inProcessDone"]


def selector_address(sel, mask) -> tuple[str, str]:
    """(address, mask) of an address selector as the SA shows it."""
    if sel.kind.value == "any":
        return "ANY", "-"
    if sel.kind.value == "range":
        return f"{sel.address}-{sel.last}", "-"
    if sel.prefix is not None:
        return f"{sel.address}/{sel.prefix}", "-"
    return str(sel.address), str(mask) if mask is not None else "255.255.255.255"


def natt_fields(bundle: SaBundle | None, record: SaRecord) -> dict:
    """The NAT-T fields of SA ``record``'s snapshot from its SAD ``bundle``:
    for an ESP SA of a bundle negotiated across a NAT, the mode
    ``UDP_ENCAP_TUNNEL``/``UDP_ENCAP_TRANSPORT`` (spec/show-outputs.md's
    example spelling), the peer's port (``napt_port``) and, in transport
    mode, the peer's NAT-OA addresses; nothing otherwise."""
    if bundle is None or bundle.natt_ports is None or record.pair.protocol is not Protocol.ESP:
        return {}
    fields = dict(mode=f"UDP_ENCAP_{record.pair.mode.value}", napt_port=bundle.natt_ports[1])
    if bundle.nat_oa is not None:
        fields.update(nat_oa_source=str(bundle.nat_oa.source), nat_oa_destination=str(bundle.nat_oa.destination))
    return fields


def sa_snapshot(record: SaRecord, policy: IpsecPolicy | None = None, bundle: BundleSnapshot | None = None,
                **runtime) -> SaSnapshot:
    """The snapshot of a SAD record: ``policy`` gives the selectors,
    ``bundle`` the lifetime; keyword arguments fill the runtime fields of
    :class:`SaSnapshot` (from the data plane)."""
    pair = record.pair
    fields = dict(
        sa_id=record.sa_id, policy=record.policy_name, bundle=record.bundle_id, spec_id=pair.spec_id,
        state=record.state.value, protocol=pair.protocol, outbound_spi=pair.outbound_spi,
        inbound_spi=pair.inbound_spi, role=record.role.value, mode=pair.mode.value,
        encalg=pair.encalg.value if pair.encalg else None, hashalg=pair.hashalg.value if pair.hashalg else None,
        compalg=pair.compalg.value if pair.compalg else None, antireplay=pair.antireplay,
        replay_window=pair.replay_window)
    if policy is not None:
        la, lm = selector_address(policy.laddress, policy.lmask)
        ra, rm = selector_address(policy.raddress, policy.rmask)
        fields.update(local_address=la, local_mask=lm, remote_address=ra, remote_mask=rm,
                      local_port=str(policy.lport), remote_port=str(policy.rport),
                      transport=str(policy.transportprotocol), local_name=policy.lname or "ANY",
                      remote_name=policy.rname or "ANY", dfbit=policy.dfbit.value,
                      packet_debug_length=policy.pktdebuglength)
        if isinstance(policy.peeraddress, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            fields.update(peer=str(policy.peeraddress))
    if bundle is not None:
        fields.update(created=bundle.created, remaining_seconds=bundle.remaining_seconds,
                      remaining_kbytes=bundle.remaining_kbytes, bytes_used=bundle.bytes[2])
        if bundle.peer is not None:             # a dynamic peer: the address the bundle was made with
            fields.update(peer=bundle.peer)
    fields.update(runtime)
    return SaSnapshot(**fields)


@dataclass(frozen=True)
class ChannelSnapshot:
    """One open ENCO channel on the card: its number, service, algorithm,
    direction, owner, and its jobs, bytes and errors so far."""
    number: int
    service: str            #: CIPHER, MAC or COMPRESSION
    algorithm: str          #: DES, 3DES..., HMAC-SHA1..., LZS
    direction: str          #: ENCODE or DECODE
    owner: str = "-"        #: who opened it (``IPsec SA 5``, ``SA 1``)
    jobs: int = 0
    bytes: int = 0
    errors: int = 0


@dataclass(frozen=True)
class AlgUnitSnapshot:
    """One algorithm unit of the card: channels attached now, and the
    card's (good, fail, discard) job counts for encode and decode."""
    unit: str
    attached: int
    encode: tuple[int, int, int]
    decode: tuple[int, int, int]


@dataclass(frozen=True)
class EncoSnapshot:
    """The card as the ENCO service sees it: its name, channel count and
    open channels; ``open_failures`` channel opens refused because every
    channel was in use (``last_failure`` the last such error); ``units``
    the per-algorithm counters read from the card."""
    card: str
    channels_max: int
    channels: tuple[ChannelSnapshot, ...] = ()
    open_failures: int = 0
    last_failure: str = ""
    units: tuple[AlgUnitSnapshot, ...] = ()


@dataclass(frozen=True)
class OldSaChannels:
    """Runtime state of an old SA: ENCO encode/decode channel numbers and
    states, and its expiry date (None prints ``None`` as the figure does)."""
    encode_channel: int | None = None
    decode_channel: int | None = None
    encode_state: str = "Initial"
    decode_state: str = "Initial"
    expires: str | None = None


@dataclass(frozen=True)
class DropCount:
    """Packets dropped on ``interface`` in ``direction`` (in, out,
    forward) for ``reason`` (a counter name or a
    :class:`~pacsim.firmware.ipsec.outcome.DropReason` value): ``count``."""
    interface: str
    direction: str
    reason: str
    count: int


def drop_counts(dropped: Iterable) -> tuple[DropCount, ...]:
    """The :class:`DropCount` of a router's dropped packets (each with
    ``interface``, ``direction`` and ``reason``), in order of first drop."""
    counts: dict[tuple[str, str, str], int] = {}
    for d in dropped:
        key = (d.interface, d.direction, d.reason)
        counts[key] = counts.get(key, 0) + 1
    return tuple(DropCount(*key, n) for key, n in counts.items())
