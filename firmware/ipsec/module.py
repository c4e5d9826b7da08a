# Ref: spec/ipsec-commands.md §3 (control, counters, debug), §5.6 (B46-B47), §5.10 (B74-B75), §5.13
"""The IPsec module: the SPD, the SAD, the key managers and the module state
(enabled or not, the UDP listen port), and the rules that tie them together.

It is the object the command handlers act on, and the data plane's entry
to the configuration:

- configuration: ``create_/set_/destroy_saspecification``,
  ``..._bundlespecification``, ``..._policy`` (keyword arguments named as
  the manual's parameters, values as :mod:`.spd` takes them);
- control: :meth:`IpsecModule.enable`, :meth:`~IpsecModule.disable`,
  :meth:`~IpsecModule.purge`, :meth:`~IpsecModule.set_udpport`,
  :meth:`~IpsecModule.reset_policy`, counter resets, policy debug;
- manual keying (B46, B47): bundles are created when IPsec is enabled,
  when a manual policy is created while enabled, and after a ``set`` of a
  policy (or of an SA specification it uses) that affects processing,
  which first removes the old ones; they are removed by ``disable``,
  ``destroy ipsec policy``, ``purge`` and ``reset ipsec policy`` (which
  then makes them again, §7.22 reading);
- data plane: :meth:`IpsecModule.acquire` (a packet needs a bundle) and the
  SAD's expiry events, routed to the policy's key manager;
  :meth:`~IpsecModule.register_key_manager` plugs in ISAKMP.

Counters: ``counters[group][(block, name)]`` for the groups of ``show
ipsec counter`` this module counts (SPD, SAD, SETUP); per policy
``policy_counters[name]``; per SA ``sa_counters[sa_id]``. The data plane
counts the others (AH, ALG, COMP, ESP, MAIN).

``purge ipsec`` (§7.21 reading): every policy, bundle specification and SA
specification is destroyed, IPsec is disabled and the UDP listen port is
back to 2746; old SAs (a separate module) stay.
"""
import collections
import os
import time
from collections.abc import Callable

from ..enco.keys import KeyStore
from .config_errors import InvalidConfiguration, IpsecConfigError, NotFound
from .keying import KeyManager, ManualKeying
from .oldsa import OldSaTable
from .sad import Expiry, SaBundle, Sad
from .selectors import Direction, PacketSelector
from .spd import NOT_AFFECTING_BUNDLES, DEFAULT_UDP_PORT, IpsecPolicy, KeyManagement, Spd

__all__ = ["IpsecModule", "COUNTED_GROUPS", "DEBUG_KINDS"]

#: Groups of ``show ipsec counter`` counted here; the data plane counts the rest.
COUNTED_GROUPS = ("sad", "setup", "spd")
#: ``enable/disable ipsec policy debug`` kinds.
DEBUG_KINDS = ("filter", "packet", "trace")


class IpsecModule:
    """See the module docstring. ``keys``: the ENCO key store; ``clock()``:
    seconds; ``interface_exists(name)``: whether an IP interface exists;
    ``random_bytes(n)``: SPIs (the card's RNG later)."""

    def __init__(self, keys: KeyStore | None = None, clock: Callable[[], float] = time.monotonic,
                 interface_exists: Callable[[str], bool] = lambda name: True,
                 random_bytes: Callable[[int], bytes] = os.urandom):
        self.keys = keys if keys is not None else KeyStore(random_bytes)
        self.clock = clock
        self.counters: dict[str, collections.Counter] = {g: collections.Counter() for g in COUNTED_GROUPS}
        self.policy_counters: dict[str, collections.Counter] = {}
        self.sa_counters: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.spd = Spd(self.keys.length, interface_exists, lambda block, name: self._count("spd", block, name))
        self.sad = Sad(clock, random_bytes, count=self._count)
        self.sad.expire_listener = self._expired
        self.manual = ManualKeying(self.spd, self.sad, self.keys.bytes)
        self.key_managers: dict[KeyManagement, KeyManager] = {KeyManagement.MANUAL: self.manual}
        self.old_sas = OldSaTable(self.keys.length, interface_exists)
        self.enabled = False
        self.udp_listen_port = DEFAULT_UDP_PORT
        #: Called with each SA bundle the module removes (the data plane closes its channels).
        self.on_bundle_removed: Callable[[SaBundle], None] = lambda bundle: None
        #: Called by ``reset ipsec counter[=groups]`` (None: all) and ``reset ipsec sa=id counter``,
        #: for the counters the data plane keeps.
        self.on_counters_reset: Callable[[tuple[str, ...] | None], None] = lambda groups: None
        self.on_sa_counters_reset: Callable[[int], None] = lambda sa_id: None
        self.keys.add_user(self._key_user)

    # -- counting ---------------------------------------------------------------------------------

    def _count(self, group: str, block: str, name: str) -> None:
        self.counters[group][(block, name)] += 1

    def _pcount(self, policy: str, block: str, name: str) -> None:
        self.policy_counters.setdefault(policy.lower(), collections.Counter())[(block, name)] += 1

    def count_policy(self, policy: str, block: str, name: str) -> None:
        """Count a ``show ipsec policy counter`` event of the data plane
        (``block`` "out" or "in", e.g. ``outProcessDone``)."""
        self._pcount(policy, block, name)

    def bundle_setup_failed(self, policy: str) -> None:
        """The data plane could not set up a bundle the SAD holds (its card
        channels): counted as a failed SA and bundle setup, module-wide and
        for the policy."""
        for name in ("setupSaSetupFailed", "setupFailed"):
            self._count("setup", "setup", name)
            self._pcount(policy, "setup", name)

    # -- state ------------------------------------------------------------------------------------

    @property
    def udp_listen_open(self) -> bool:
        """Whether the UDP tunnelling listen port is open: some policy has
        UDP tunnelling enabled (B74) and IPsec is enabled."""
        return self.enabled and any(p.udptunnel for p in self.spd.policies())

    @property
    def vpns_current(self) -> int:
        """Active VPN tunnels: SA bundles in the VALID state."""
        return self.sad.active_bundles

    @property
    def vpns_peak(self) -> int:
        return self.sad.peak_bundles

    # -- control (§3.1-§3.4) ----------------------------------------------------------------------

    def enable(self) -> list[str]:
        """``enable ipsec``: makes the bundles of manual policies (B46b).
        Returns warnings for bundles that could not be made."""
        self.enabled = True
        warnings = []
        for p in self.spd.policies():
            if p.manual and not self.sad.bundles(p.name):
                w = self._establish(p)
                if w:
                    warnings.append(w)
        return warnings

    def disable(self) -> None:
        """``disable ipsec``: every SA bundle is deleted; policies stay (B47b)."""
        for p in self.spd.policies():
            self._remove_bundles(p)
        self.enabled = False

    def purge(self) -> None:
        """``purge ipsec`` (see the module docstring)."""
        self.disable()
        for p in self.spd.policies():
            self.sad.forget_policy(p.name)
        self.spd.purge()
        self.policy_counters.clear()
        self.udp_listen_port = DEFAULT_UDP_PORT

    def set_udpport(self, udpport: int) -> None:
        """``set ipsec udpport`` (§3.4)."""
        self.udp_listen_port = udpport

    # -- SA and bundle specifications ------------------------------------------------------------

    def create_saspecification(self, **params):
        return self.spd.create_saspecification(**params)

    def set_saspecification(self, saspecification: int, **params) -> list[str]:
        """``set ipsec saspecification``; manual policies using it get new bundles."""
        self.spd.set_saspecification(saspecification, **params)
        return self._rebuild(lambda p: saspecification in
                             self.spd.bundlespecifications[p.bundlespecification].bundle.spec_ids)

    def destroy_saspecification(self, saspecification: int):
        return self.spd.destroy_saspecification(saspecification)

    def create_bundlespecification(self, **params):
        return self.spd.create_bundlespecification(**params)

    def set_bundlespecification(self, bundlespecification: int, **params):
        """``set ipsec bundlespecification``: new limits apply to new bundles."""
        return self.spd.set_bundlespecification(bundlespecification, **params)

    def destroy_bundlespecification(self, bundlespecification: int):
        return self.spd.destroy_bundlespecification(bundlespecification)

    # -- policies -------------------------------------------------------------------------------

    def create_policy(self, policy: str, interface: str, action, **params) -> list[str]:
        """``create ipsec policy``; a manual policy gets its bundle at once
        when IPsec is enabled (B46a). Returns warnings."""
        p = self.spd.create_policy(policy, interface, action, **params)
        self.policy_counters[p.name.lower()] = collections.Counter()
        if self.enabled and p.manual:
            w = self._establish(p)
            return [w] if w else []
        return []

    def set_policy(self, policy: str, **params) -> list[str]:
        """``set ipsec policy``; manual bundles are rebuilt when a parameter
        that affects processing changed (B46c, B47c)."""
        old, new = self.spd.set_policy(policy, **params)
        affects = bool(set(params) - NOT_AFFECTING_BUNDLES)
        if not self.enabled or not affects:
            return []
        if old.manual or new.keymanagement is not old.keymanagement:
            self._remove_bundles(old)
        if new.manual:
            w = self._establish(new)
            return [w] if w else []
        return []

    def destroy_policy(self, policy: str, sabundle: int | None = None) -> None:
        """``destroy ipsec policy [sabundle=]`` (§2.9)."""
        p = self.spd.policy(policy)
        if sabundle is not None:
            if not any(b.bundle_id == sabundle for b in self.sad.bundles(p.name)):
                raise NotFound(f'SA bundle {sabundle} does not exist in IPsec policy "{p.name}"')
            self._remove_bundle(p.name, sabundle)
            return
        self._remove_bundles(p)
        self.spd.destroy_policy(p.name)
        self.sad.forget_policy(p.name)
        self.policy_counters.pop(p.name.lower(), None)

    def reset_policy(self, policy: str) -> list[str]:
        """``reset ipsec policy``: its bundles are cleared and its counters
        reset; a manual policy's bundle is made again when IPsec is enabled."""
        p = self.spd.policy(policy)
        self._remove_bundles(p)
        self.policy_counters[p.name.lower()] = collections.Counter()
        if self.enabled and p.manual:
            w = self._establish(p)
            return [w] if w else []
        return []

    # -- counters and debug (§3.5-§3.10) ------------------------------------------------------------

    def reset_policy_counters(self, policy: str) -> None:
        p = self.spd.policy(policy)
        self.policy_counters[p.name.lower()] = collections.Counter()

    def reset_sa_counters(self, sa: int) -> None:
        self.sad.sa(sa)
        self.sa_counters[sa] = collections.Counter()
        self.on_sa_counters_reset(sa)

    def reset_counters(self, groups: tuple[str, ...] | None = None) -> None:
        """``reset ipsec counter[=...]``: the module's groups among ``groups`` (all when None)."""
        for g in COUNTED_GROUPS:
            if groups is None or g in groups:
                self.counters[g] = collections.Counter()
        self.on_counters_reset(groups)

    def set_policy_debug(self, policy: str | None, kinds: tuple[str, ...], enable: bool,
                         options: dict[str, tuple[str, ...]] | None = None) -> None:
        """``enable/disable ipsec policy debug``: ``policy`` None for all
        policies; ``kinds`` among :data:`DEBUG_KINDS` (``all`` = every kind);
        ``options`` the DIRECTION/DISPLAY/RESULT/SELECTOR/WHERE values, kept
        with each kind as ``"name=value"`` strings."""
        targets = self.spd.policies() if policy is None else [self.spd.policy(policy)]
        kinds = DEBUG_KINDS if "all" in kinds else kinds
        extra = frozenset(f"{k}={v}" for k, vs in (options or {}).items() for v in vs)
        for p in targets:
            for kind in kinds:
                current = p.debug.get(kind, frozenset())
                if enable:
                    p.debug[kind] = current | {"on"} | extra
                elif extra:
                    p.debug[kind] = current - extra
                else:
                    p.debug.pop(kind, None)

    # -- data plane entry ---------------------------------------------------------------------------

    def register_key_manager(self, method: KeyManagement, manager: KeyManager) -> None:
        """Plug in the key manager of ``method`` (ISAKMP)."""
        self.key_managers[method] = manager

    def acquire(self, policy: IpsecPolicy, packet: PacketSelector | None = None,
                direction: Direction = Direction.OUTBOUND) -> None:
        """A packet matched ``policy`` but no bundle fits it (B51): ask its key manager."""
        self._pcount(policy.name, "out" if direction is Direction.OUTBOUND else "in",
                     "outNoBundle" if direction is Direction.OUTBOUND else "inBundleStateBad")
        manager = self.key_managers.get(policy.keymanagement)
        if manager is not None:
            manager.acquire(policy, packet)

    def _expired(self, bundle: SaBundle, expiry: Expiry) -> None:
        if not self.spd.has_policy(bundle.policy_name):
            return
        policy = self.spd.policy(bundle.policy_name)
        if expiry is Expiry.HARD:
            self._remove_bundle(policy.name, bundle.bundle_id)
        manager = self.key_managers.get(policy.keymanagement)
        if manager is not None:
            manager.expire(bundle, expiry)

    # -- bundles ----------------------------------------------------------------------------------

    def _establish(self, p: IpsecPolicy) -> str | None:
        """Make a manual policy's bundle; a warning text if that failed (counted)."""
        self._count("setup", "setup", "setupStarted")
        self._pcount(p.name, "setup", "setupStarted")
        try:
            pairs = self.manual.pairs(p)
        except NotFound:
            self._count("setup", "setup", "setupGetSaSpecFail")
            self._count("setup", "setup", "setupFailed")
            self._pcount(p.name, "setup", "setupFailed")
            return f'Warning: no SA bundle for IPsec policy "{p.name}": its specifications do not exist'
        except InvalidConfiguration as e:
            self._count("setup", "setup", "setupFailed")
            self._pcount(p.name, "setup", "setupFailed")
            return f'Warning: no SA bundle for IPsec policy "{p.name}": {e}'
        for _ in pairs:
            self._count("setup", "setup", "setupSaSetupStarted")
            self._pcount(p.name, "setup", "setupSaSetupStarted")
        try:
            self.sad.add_sa_bundle(p.name, pairs)
        except IpsecConfigError as e:
            self._count("setup", "setup", "setupSaSetupFailed")
            self._count("setup", "setup", "setupFailed")
            self._pcount(p.name, "setup", "setupSaSetupFailed")
            self._pcount(p.name, "setup", "setupFailed")
            return f'Warning: no SA bundle for IPsec policy "{p.name}": {e}'
        self._count("setup", "setup", "setupDone")
        self._pcount(p.name, "setup", "setupDone")
        return None

    def _remove_bundle(self, policy_name: str, bundle_id: int) -> None:
        self._count("setup", "setup", "removeStarted")
        self._pcount(policy_name, "setup", "removeStarted")
        bundle = self.sad.del_sa_bundle(policy_name, bundle_id)
        for sa in bundle.sas:
            self._count("setup", "setup", "removeSaSetupStarted")
            self._pcount(policy_name, "setup", "removeSaSetupStarted")
            self.sa_counters.pop(sa.sa_id, None)
        self.on_bundle_removed(bundle)
        self._count("setup", "setup", "removeDone")
        self._pcount(policy_name, "setup", "removeDone")

    def _remove_bundles(self, p: IpsecPolicy) -> None:
        for b in self.sad.bundles(p.name):
            self._remove_bundle(p.name, b.bundle_id)

    def _rebuild(self, uses: Callable[[IpsecPolicy], bool]) -> list[str]:
        warnings = []
        if not self.enabled:
            return warnings
        for p in self.spd.policies():
            if p.manual and uses(p):
                self._remove_bundles(p)
                w = self._establish(p)
                if w:
                    warnings.append(w)
        return warnings

    def _key_user(self, key_id: int) -> str | None:
        specs = [str(s.id) for s in self.spd.saspecifications.values()
                 if key_id in (s.enckey, s.hashkey)]
        uses = []
        if specs:
            uses.append(f"IPsec SA specification {', '.join(specs)}")
        old = self.old_sas.uses_key(key_id)
        if old:
            uses.append(old)
        return "; ".join(uses) if uses else None
