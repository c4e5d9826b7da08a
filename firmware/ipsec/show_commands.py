# Ref: spec/show-outputs.md §1-§9, §15 (the IPsec and old SA show commands)
"""The IPsec ``show`` commands, as data, and their handler.

The handler builds snapshots (:mod:`pacsim.firmware.state.snapshots`,
:class:`~pacsim.firmware.state.counters.CounterSnapshot`) and hands them to
the AlliedWare view (:mod:`pacsim.firmware.views.alliedware`); another view
of the same state takes the same snapshots.

The configuration comes from the :class:`~.module.IpsecModule`; what the
data plane knows comes from an :class:`IpsecRuntime` (channel numbers,
sequence numbers, data-plane counters, queue fill). :class:`IpsecRuntime`
itself is the stand-in before the data plane is connected: no runtime
values (``-``), zero counters. The data plane replaces it with an object
having the same methods.
"""
from collections.abc import Callable

from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Choice, CommaList, Integer, Union
from ..state.counters import CounterSnapshot
from ..state.snapshots import (BundleSnapshot, OldSaChannels, PolicySnapshot, PolicyStatus, SaSnapshot,
                               bundle_snapshots, module_snapshot, natt_fields, policy_snapshot, sa_snapshot)
from ..views.alliedware.counters import (IPSEC_COUNTER_SCHEMAS, POLICY_COUNTERS, CounterValues, show_ipsec_counters,
                                         show_policy_counters, show_sa_counters)
from ..views.alliedware.ipsec import (show_bundlespecification, show_bundlespecifications, show_ipsec, show_policies,
                                      show_policy, show_policy_sabundles, show_saspecification,
                                      show_saspecifications)
from ..views.alliedware.oldsa import show_old_sa, show_old_sas
from ..views.alliedware.sa import show_sa, show_sas
from .command_values import BUNDLE_ID, POLICY_NAME, SPEC_ID
from .counters import SA_COUNTERS
from .module import COUNTED_GROUPS, IpsecModule
from .sad import SaRecord
from .spd import IpsecPolicy

__all__ = ["IPSEC_SHOW_COMMANDS", "IpsecShow", "IpsecRuntime"]

SH, IPS = P("SHow"), P("IPSec")
USER = Privilege.USER             # the displays: any logged-in user
_GROUPS = CommaList(Choice({"AH": "ah", "ALG": "alg", "COMp": "comp", "ESp": "esp", "MAIn": "main", "SAD": "sad",
                            "SETUP": "setup", "SPD": "spd"}))
_POLICY = P("POLIcy", POLICY_NAME, optional_value=True)
_SA = P("SA", Integer(0, 65535), optional_value=True)

IPSEC_SHOW_COMMANDS = (
    Command((SH, IPS), (), "show_ipsec", "IPsec module status", "show-outputs §1", USER),
    Command((SH, IPS, P("BUNDlespecification", BUNDLE_ID, optional_value=True)), (), "show_bundlespecification",
            "Bundle specifications", "show-outputs §2", USER),
    Command((SH, IPS, P("COUnter", _GROUPS, optional_value=True)), (), "show_counter", "IPsec counters",
            "show-outputs §3", USER),
    Command((SH, IPS, _POLICY), (), "show_policy", "IPsec policies", "show-outputs §4", USER),
    Command((SH, IPS, _POLICY, P("COUnter")), (), "show_policy_counter", "IPsec policy counters",
            "show-outputs §5", USER),
    Command((SH, IPS, _POLICY, P("SABundle")), (), "show_policy_sabundle", "SA bundles of IPsec policies",
            "show-outputs §6", USER),
    Command((SH, IPS, _SA), (), "show_sa", "IPsec SAs", "show-outputs §7", USER),
    Command((SH, IPS, _SA, P("COUnter")), (), "show_sa_counter", "IPsec SA counters", "show-outputs §8", USER),
    Command((SH, IPS, P("SASpecification", SPEC_ID, optional_value=True)), (), "show_saspecification",
            "SA specifications", "show-outputs §9", USER),
    Command((SH, P("SA", Union(Choice({"ALL": "all"}), SPEC_ID), optional_value=True)), (), "show_old_sa",
            "Pre-IPsec SAs", "show-outputs §15", USER),
)


class IpsecRuntime:
    """What the displays need from the data plane; this base class answers
    "nothing known yet". Override any method."""

    def policy_status(self, policy_name: str) -> PolicyStatus:
        """Runtime fields of ``show ipsec policy=name``."""
        return PolicyStatus()

    def sa_runtime(self, sa_id: int) -> dict:
        """Runtime fields of an SA (keyword arguments of
        :class:`~pacsim.firmware.state.snapshots.SaSnapshot`)."""
        return {}

    def counter_values(self, group: str) -> CounterValues:
        """Values of a data-plane counter group (ah, alg, comp, esp, main)."""
        return lambda block, name: 0

    def sa_counter_values(self, sa_id: int) -> CounterValues | None:
        """Per-SA counters, or None to use the module's."""
        return None

    def old_sa_channels(self, sa_id: int) -> OldSaChannels:
        return OldSaChannels()


class IpsecShow:
    """Carries out :data:`IPSEC_SHOW_COMMANDS`: builds the snapshots and
    formats them with the AlliedWare view."""

    def __init__(self, module: IpsecModule, runtime: IpsecRuntime | None = None,
                 clock: Callable[[], float] | None = None):
        self.module = module
        self.runtime = runtime or IpsecRuntime()
        self.clock = clock or module.clock

    # -- snapshots ----------------------------------------------------------------------------------

    def group_counters(self, group: str) -> CounterSnapshot:
        """The counters of a ``show ipsec counter`` group (schema
        :data:`~pacsim.firmware.views.alliedware.counters.IPSEC_COUNTER_SCHEMAS`)."""
        schema = IPSEC_COUNTER_SCHEMAS[group]
        if group in COUNTED_GROUPS:
            return CounterSnapshot.of(schema, self.module.counters[group])
        values = self.runtime.counter_values(group)
        return CounterSnapshot.read(schema, lambda key: values(*key))

    def policy_counters(self, name: str) -> CounterSnapshot:
        """The counters of policy ``name`` (schema
        :data:`~pacsim.firmware.views.alliedware.counters.POLICY_COUNTERS`)."""
        return CounterSnapshot.of(POLICY_COUNTERS, self.module.policy_counters.get(name.lower(), {}))

    def sa_counters(self, sa_id: int) -> CounterSnapshot:
        """The counters of SA ``sa_id`` (schema :data:`~.counters.SA_COUNTERS`):
        the data plane's, else the module's."""
        values = self.runtime.sa_counter_values(sa_id)
        if values is None:
            return CounterSnapshot.of(SA_COUNTERS, self.module.sa_counters.get(sa_id, {}))
        return CounterSnapshot.read(SA_COUNTERS, lambda name: values("", name))

    def policy(self, p: IpsecPolicy, now: float, status: bool = True) -> PolicySnapshot:
        """Policy ``p`` with its bundles at time ``now`` and, with
        ``status``, the data plane's runtime fields (else "not known")."""
        return policy_snapshot(p, self.module.sad.bundles(p.name), now,
                               self.runtime.policy_status(p.name) if status else PolicyStatus())

    def bundles(self, policy_name: str, now: float) -> tuple[BundleSnapshot, ...]:
        """The SA bundles of a policy at time ``now``."""
        return bundle_snapshots(self.module.sad.bundles(policy_name), now)

    def sa(self, rec: SaRecord, now: float) -> SaSnapshot:
        """SA ``rec`` with its policy's selectors, its bundle's lifetime at
        time ``now``, its counters and the data plane's runtime fields."""
        spd = self.module.spd
        policy = spd.policy(rec.policy_name) if spd.has_policy(rec.policy_name) else None
        bundle = next((b for b in self.bundles(rec.policy_name, now) if b.index == rec.bundle_id), None)
        sad_bundle = next((b for b in self.module.sad.bundles(rec.policy_name) if b.bundle_id == rec.bundle_id), None)
        return sa_snapshot(rec, policy, bundle, counters=self.sa_counters(rec.sa_id),
                           **natt_fields(sad_bundle, rec), **self.runtime.sa_runtime(rec.sa_id))

    # -- commands -----------------------------------------------------------------------------------

    def show_ipsec(self):
        return show_ipsec(module_snapshot(self.module))

    def show_saspecification(self, saspecification=None):
        spd = self.module.spd
        if saspecification is None:
            return show_saspecifications(spd.saspecifications.values())
        return show_saspecification(spd.saspecification(saspecification))

    def show_bundlespecification(self, bundlespecification=None):
        spd = self.module.spd
        if bundlespecification is None:
            return show_bundlespecifications(spd.bundlespecifications.values())
        b = spd.bundlespecification(bundlespecification)
        return show_bundlespecification(
            b, lambda i: spd.saspecifications[i].protocol if i in spd.saspecifications else None)

    def show_counter(self, counter=None):
        groups = tuple(counter) if counter else tuple(IPSEC_COUNTER_SCHEMAS)
        return show_ipsec_counters({group: self.group_counters(group) for group in groups})

    def show_policy(self, policy=None):
        now = self.clock()
        if policy is None:
            return show_policies(self.policy(p, now, status=False) for p in self.module.spd.policies())
        return show_policy(self.policy(self.module.spd.policy(policy), now))

    def _policies(self, name):
        spd = self.module.spd
        return spd.policies() if name is None else [spd.policy(name)]

    def show_policy_counter(self, policy=None, counter=None):
        return show_policy_counters([(p.name, self.policy_counters(p.name)) for p in self._policies(policy)],
                                    single=policy is not None)

    def show_policy_sabundle(self, policy=None, sabundle=None):
        now = self.clock()
        return show_policy_sabundles([(p.name, self.bundles(p.name, now)) for p in self._policies(policy)])

    def show_sa(self, sa=None):
        sad, now = self.module.sad, self.clock()
        if sa is None:
            return show_sas(self.sa(r, now) for r in sad.sas())
        return show_sa(self.sa(sad.sa(sa), now))

    def show_sa_counter(self, sa=None, counter=None):
        sad = self.module.sad
        records = sad.sas() if sa is None else [sad.sa(sa)]
        return show_sa_counters([(r.sa_id, self.sa_counters(r.sa_id)) for r in records])

    def show_old_sa(self, sa=None):
        table = self.module.old_sas
        if sa is None:
            return show_old_sas(table.sas.values(), self.runtime.old_sa_channels)
        # get_config counts the SA's getConfigGood, or secAssGetConfigNotExist (show-outputs §16).
        if sa == "all":
            return "\n\n".join(show_old_sa(table.get_config(i), self.runtime.old_sa_channels(i))
                               for i in sorted(table.sas))
        return show_old_sa(table.get_config(sa), self.runtime.old_sa_channels(sa))
