# Ref: spec/ipsec-commands.md §5.5 (B37-B44), §5.6 (B46-B47), §5.7 (B54); spec/show-outputs.md §4b, §6, §7, §18.1-18.2
"""The Security Association Database's bookkeeping: SA bundles, their SA
pairs, ids, states and lifetimes.

This module keeps *what exists*; the data plane (ESP/AH/IPComp) keeps how
packets are processed. The interface, for both sides:

Key management (manual keying here, ISAKMP later) calls the kernel-style
methods (strongSwan's ``kernel_interface``):

- :meth:`Sad.get_spi` ``(protocol) -> spi``: an unused inbound SPI
  (IPComp: CPI) to offer a peer;
- :meth:`Sad.add_sa_bundle` ``(policy_name, pairs, limits, selectors, role)
  -> SaBundle``: store a bundle of 1-3 SA pairs (:class:`SaPairSpec`, in
  bundle-string order) with its lifetime limits; it gets the next bundle
  id of its policy and SA ids from one SAD-wide sequence, and is placed
  *before* the policy's other bundles (B40). At most
  :data:`MAX_BUNDLES_PER_POLICY` bundles per policy (B39):
  :class:`~.config_errors.LimitReached` beyond;
- :meth:`Sad.del_sa_bundle` ``(policy_name, bundle_id)``: remove one.

The data plane calls:

- :meth:`Sad.bundles` ``(policy_name)``: a policy's bundles, newest first
  (the order to try them in, B38, B40); :meth:`Sad.find_bundle` the first
  VALID one whose packet-derived selectors match (B41);
- :meth:`Sad.find_inbound` ``(protocol, spi)``: the SA pair an inbound
  packet names;
- :meth:`Sad.charge` ``(bundle, nbytes)``: count bytes a bundle processed;
  returns the bundle's :class:`Expiry` and tells the key manager when it
  reaches SOFT (renegotiate, B54) or HARD (the bundle is removed);
- :meth:`Sad.poll`: the same for time, from the injected ``clock`` (call
  it from a timer; it returns what changed);
- ``SaRecord.runtime``: a slot for the data plane's own SA object (keys,
  channels, sequence numbers, counters), set with :meth:`Sad.attach`;
  the SAD never looks inside it.

``expire_listener(bundle, expiry)`` is called on each SOFT or HARD
transition (strongSwan's ``kernel_listener.expire``); :class:`~.keying`
routes it to the bundle's key manager.

Lifetimes: hard limits come from the bundle specification (kilobytes x
1024 bytes, seconds); soft limits are ``soft_fraction`` (default 0.9) of
them; the manual's figures show hard/soft pairs but not the rule. Manual
bundles have no limits (ipsec-commands.md §7.16). A bundle id is 0-65535
per policy, an SA id 0-65535 SAD-wide (``reset ipsec sa counter``), both
taken in increasing order and skipping ids in use.
"""
import enum
import functools
import ipaddress
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .config_errors import InvalidConfiguration, LimitReached, NotFound, counted
from .selectors import PacketSelector
from .transforms import SPI_RANGE, CompAlg, EncAlg, HashAlg, Mode, Protocol

__all__ = [
    "BundleState", "SaState", "Role", "Expiry", "KeyMaterial", "SaPairSpec", "LifetimeLimits", "SaRecord",
    "SaBundle", "Sad", "MAX_BUNDLES_PER_POLICY",
]

MAX_BUNDLES_PER_POLICY = 100
MAX_ID = 0xFFFF
#: CPIs the SAD hands out (RFC 3173 section 3.3: 256-61439 are for negotiated CPIs).
_CPI_RANGE = (256, 61439)


class BundleState(enum.Enum):
    """SA bundle state as ``show ipsec policy`` prints it (§18.1)."""
    VALID = "VALID"
    INVALID = "INVALID"
    CREATING = "CREATING"
    REMOVING = "REMOVING"


class SaState(enum.Enum):
    """SA state as ``show ipsec sa`` prints it (§18.2)."""
    UNDEF = "UNDEF"
    VALID = "VALID"
    CREATING = "CREATING"
    REMOVING = "REMOVING"


class Role(enum.Enum):
    """Who created an SA: ISAKMP initiator or responder, or manual keying."""
    INITIATOR = "INITIATOR"
    RESPONDER = "RESPONDER"
    MANUAL = "MANUAL"


class Expiry(enum.IntEnum):
    """How far a bundle is through its lifetime."""
    NONE = 0
    SOFT = 1      #: renegotiate (B54)
    HARD = 2      #: remove


@dataclass(frozen=True)
class KeyMaterial:
    """Keys of one direction of an SA pair: ``encryption`` and ``hash``
    (empty when the algorithm has none)."""
    encryption: bytes = b""
    hash: bytes = b""

    def __repr__(self) -> str:          # keys never printed
        return f"KeyMaterial(encryption=<{len(self.encryption)} bytes>, hash=<{len(self.hash)} bytes>)"


@dataclass(frozen=True)
class SaPairSpec:
    """What key management hands the SAD for one SA pair: the SA
    specification it came from, protocol, mode, SPIs (IPComp: CPIs),
    algorithms, keys per direction and anti-replay settings."""
    spec_id: int
    protocol: Protocol
    mode: Mode
    outbound_spi: int
    inbound_spi: int
    encalg: EncAlg | None = None
    hashalg: HashAlg | None = None
    compalg: CompAlg | None = None
    outbound_keys: KeyMaterial = KeyMaterial()
    inbound_keys: KeyMaterial = KeyMaterial()
    antireplay: bool = False
    replay_window: int = 32


@dataclass(frozen=True)
class LifetimeLimits:
    """Hard limits (None: no limit) and the soft fraction."""
    hard_kbytes: int | None = None
    hard_seconds: int | None = None
    soft_fraction: float = 0.9

    @property
    def hard_bytes(self) -> int | None:
        return None if self.hard_kbytes is None else self.hard_kbytes * 1024

    @property
    def soft_bytes(self) -> int | None:
        return None if self.hard_bytes is None else int(self.hard_bytes * self.soft_fraction)

    @property
    def soft_seconds(self) -> int | None:
        return None if self.hard_seconds is None else int(self.hard_seconds * self.soft_fraction)


@dataclass
class SaRecord:
    """The SAD entry of one SA pair (the router shows a pair as one SA with
    an OutSPI and an InSPI)."""
    sa_id: int
    policy_name: str
    bundle_id: int
    pair: SaPairSpec
    role: Role
    state: SaState = SaState.VALID
    runtime: object | None = None

    @property
    def protocol(self) -> Protocol:
        return self.pair.protocol


@dataclass
class SaBundle:
    """An SA bundle of a policy: its SA pairs in bundle-string order
    (outbound application order, B15), state, lifetime and use, and the
    packet values it was made for when the policy takes selectors from
    packets (B41): ``selectors`` maps :class:`PacketSelector` field names
    (``src``, ``dst_port``...) to values; None: the policy's own selectors."""
    policy_name: str
    bundle_id: int
    sas: list[SaRecord]
    state: BundleState
    limits: LifetimeLimits
    created_at: float
    selectors: dict[str, object] | None = None
    bytes_used: int = 0
    expiry: Expiry = Expiry.NONE
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    #: (local, remote) UDP ports of RFC 3948 ESP-in-UDP when negotiated across a NAT, else None.
    natt_ports: tuple[int, int] | None = None
    #: The peer's original addresses (NAT-OA, :class:`~.nat_original.OriginalAddresses`) in
    #: UDP-encapsulated transport mode, else None.
    nat_oa: object = None

    @property
    def sa_ids(self) -> tuple[int, ...]:
        return tuple(sa.sa_id for sa in self.sas)

    def seconds_used(self, now: float) -> int:
        return int(now - self.created_at)


@dataclass
class _PolicyBundles:
    bundles: list[SaBundle] = field(default_factory=list)   # newest first
    next_id: int = 0


class _NoListener:
    """A SAD listener that does nothing (a SAD without a data plane)."""

    def added(self, bundle: "SaBundle") -> None:
        """Nothing to set up."""

    def removed(self, bundle: "SaBundle") -> None:
        """Nothing to take down."""


class Sad:
    """The SAD (see the module docstring). ``clock()`` gives seconds;
    ``random_bytes(n)`` supplies SPIs (the card's RNG can be plugged in);
    ``count(group, block, name)`` is called for the SAD and SETUP counters."""

    def __init__(self, clock: Callable[[], float], random_bytes: Callable[[int], bytes] = os.urandom,
                 soft_fraction: float = 0.9,
                 count: Callable[[str, str, str], None] = lambda group, block, name: None):
        self.clock = clock
        self.random_bytes = random_bytes
        self.soft_fraction = soft_fraction
        self.count = count
        self.expire_listener: Callable[[SaBundle, Expiry], None] = lambda bundle, expiry: None
        #: Told of every bundle stored and removed (``added(bundle)``, ``removed(bundle)``): the SA kernel.
        self.listener = _NoListener()
        self._policies: dict[str, _PolicyBundles] = {}
        self._sas: dict[int, SaRecord] = {}
        self._inbound: dict[tuple[Protocol, int], SaRecord] = {}
        self._next_sa_id = 0
        self.peak_bundles = 0

    # -- key-management side --------------------------------------------------------------------

    def get_spi(self, protocol: Protocol) -> int:
        """An inbound SPI (:data:`~.transforms.SPI_RANGE`; IPComp: a CPI
        256..61439, RFC 3173) no SA of ``protocol`` uses."""
        low, high = _CPI_RANGE if protocol is Protocol.IPCOMP else SPI_RANGE
        for _ in range(1000):
            n = low + int.from_bytes(self.random_bytes(4), "big") % (high - low + 1)
            if (protocol, n) not in self._inbound:
                return n
        raise LimitReached(f"no free {protocol.display} SPI found")

    def add_sa_bundle(self, policy_name: str, pairs: list[SaPairSpec], limits: LifetimeLimits | None = None,
                      selectors: dict[str, object] | None = None, role: Role = Role.MANUAL,
                      state: BundleState = BundleState.VALID, peer=None) -> SaBundle:
        """Store a new bundle for ``policy_name`` (see the module docstring)."""
        key = policy_name.lower()
        entry = self._policies.setdefault(key, _PolicyBundles())
        if len(entry.bundles) >= MAX_BUNDLES_PER_POLICY:
            raise LimitReached(f'IPsec policy "{policy_name}" has {MAX_BUNDLES_PER_POLICY} SA bundles, the most a '
                               "policy may have")
        if not 1 <= len(pairs) <= 3:
            raise InvalidConfiguration(f"an SA bundle has 1 to 3 SA pairs, not {len(pairs)}")
        for pair in pairs:
            other = self._inbound.get((pair.protocol, pair.inbound_spi))
            if other is not None:
                raise InvalidConfiguration(
                    f"inbound {pair.protocol.display} SPI {pair.inbound_spi} (SA specification {pair.spec_id}) is "
                    f'already used by SA {other.sa_id} of policy "{other.policy_name}"')
        bundle_id = self._free_id(entry.next_id, {b.bundle_id for b in entry.bundles})
        entry.next_id = (bundle_id + 1) % (MAX_ID + 1)
        records = []
        for pair in pairs:
            sa_id = self._free_id(self._next_sa_id, set(self._sas))
            self._next_sa_id = (sa_id + 1) % (MAX_ID + 1)
            rec = SaRecord(sa_id, policy_name, bundle_id, pair, role)
            self._sas[sa_id] = rec
            self._inbound[(pair.protocol, pair.inbound_spi)] = rec
            records.append(rec)
            self.count("sad", "sad", "Add SA good")
        bundle = SaBundle(policy_name, bundle_id, records, state,
                          limits or LifetimeLimits(soft_fraction=self.soft_fraction), self.clock(), selectors,
                          peer=peer)
        entry.bundles.insert(0, bundle)
        self.peak_bundles = max(self.peak_bundles, self.active_bundles)
        self.listener.added(bundle)
        return bundle

    def del_sa_bundle(self, policy_name: str, bundle_id: int) -> SaBundle:
        """Remove bundle ``bundle_id`` of ``policy_name`` and its SAs."""
        entry = self._policies.get(policy_name.lower())
        bundle = next((b for b in entry.bundles if b.bundle_id == bundle_id), None) if entry else None
        if bundle is None:
            self.count("sad", "sad", "Delete SA failed")
            raise NotFound(f'SA bundle {bundle_id} does not exist in IPsec policy "{policy_name}"')
        entry.bundles.remove(bundle)
        for rec in bundle.sas:
            rec.state = SaState.REMOVING
            del self._sas[rec.sa_id]
            del self._inbound[(rec.pair.protocol, rec.pair.inbound_spi)]
            self.count("sad", "sad", "Delete SA good")
        bundle.state = BundleState.REMOVING
        self.listener.removed(bundle)
        return bundle

    def del_policy_bundles(self, policy_name: str) -> list[SaBundle]:
        """Remove every bundle of ``policy_name``; returns them."""
        entry = self._policies.get(policy_name.lower())
        if entry is None:
            return []
        removed = [self.del_sa_bundle(policy_name, b.bundle_id) for b in list(entry.bundles)]
        return removed

    def forget_policy(self, policy_name: str) -> None:
        """Remove a policy's bundles and its bundle-id sequence."""
        self.del_policy_bundles(policy_name)
        self._policies.pop(policy_name.lower(), None)

    def clear(self) -> list[SaBundle]:
        """Remove every bundle."""
        removed = []
        for key in list(self._policies):
            entry = self._policies[key]
            for b in list(entry.bundles):
                removed.append(self.del_sa_bundle(b.policy_name, b.bundle_id))
        return removed

    # -- data-plane side ------------------------------------------------------------------------

    def bundles(self, policy_name: str) -> list[SaBundle]:
        """The bundles of ``policy_name``, newest first."""
        entry = self._policies.get(policy_name.lower())
        return list(entry.bundles) if entry else []

    def all_bundles(self) -> Iterator[SaBundle]:
        for entry in self._policies.values():
            yield from entry.bundles

    def find_bundle(self, policy_name: str, packet: PacketSelector | None = None) -> SaBundle | None:
        """The first VALID bundle of the policy whose packet-derived
        selectors (if any) equal the packet's (B38, B41)."""
        for b in self.bundles(policy_name):
            if b.state is not BundleState.VALID:
                continue
            if b.selectors is None or packet is None or \
                    all(getattr(packet, k) == v for k, v in b.selectors.items()):
                return b
        return None

    def find_inbound(self, protocol: Protocol, spi: int) -> SaRecord | None:
        """The SA pair whose inbound SPI (IPComp: CPI) is ``spi``."""
        rec = self._inbound.get((Protocol(protocol), spi))
        self.count("sad", "sad", "Find SA good" if rec is not None else "Find SA failed")
        return rec

    def sa(self, sa_id: int) -> SaRecord:
        """The SA ``sa_id``; NotFound if there is none."""
        with counted(functools.partial(self.count, "sad", "sad"), "Get SA"):
            rec = self._sas.get(sa_id)
            if rec is None:
                raise NotFound(f"SA {sa_id} does not exist")
            return rec

    def sas(self) -> list[SaRecord]:
        """Every SA, by id."""
        return [self._sas[i] for i in sorted(self._sas)]

    def attach(self, sa_id: int, runtime: object) -> None:
        """Attach the data plane's SA object to SA ``sa_id``."""
        self.sa(sa_id).runtime = runtime

    def bundle_of(self, rec: SaRecord) -> SaBundle:
        return next(b for b in self.bundles(rec.policy_name) if b.bundle_id == rec.bundle_id)

    @property
    def active_bundles(self) -> int:
        """Bundles in the VALID state (the ``show ipsec`` VPN count)."""
        return sum(1 for b in self.all_bundles() if b.state is BundleState.VALID)

    # -- lifetimes ------------------------------------------------------------------------------

    def charge(self, bundle: SaBundle, nbytes: int) -> Expiry:
        """Add ``nbytes`` processed to ``bundle`` and return its expiry state."""
        bundle.bytes_used += nbytes
        return self._update(bundle)

    def poll(self) -> list[tuple[SaBundle, Expiry]]:
        """Check every bundle against its limits at the clock's time; returns
        the bundles whose expiry state changed."""
        changed = []
        for b in list(self.all_bundles()):
            before = b.expiry
            after = self._update(b)
            if after is not before:
                changed.append((b, after))
        return changed

    def _update(self, b: SaBundle) -> Expiry:
        lim = b.limits
        secs = b.seconds_used(self.clock())
        state = Expiry.NONE
        if (lim.hard_bytes is not None and b.bytes_used >= lim.hard_bytes) or \
                (lim.hard_seconds is not None and secs >= lim.hard_seconds):
            state = Expiry.HARD
        elif (lim.soft_bytes is not None and b.bytes_used >= lim.soft_bytes) or \
                (lim.soft_seconds is not None and secs >= lim.soft_seconds):
            state = Expiry.SOFT
        if state > b.expiry:
            b.expiry = state
            if state is Expiry.HARD:
                b.state = BundleState.INVALID
            self.expire_listener(b, state)
        return b.expiry

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _free_id(start: int, used: set[int]) -> int:
        for k in range(MAX_ID + 1):
            n = (start + k) % (MAX_ID + 1)
            if n not in used:
                return n
        raise LimitReached("all 65536 ids are in use")
