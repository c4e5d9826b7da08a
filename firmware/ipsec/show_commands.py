# Ref: spec/show-outputs.md §1-§9, §15 (the IPsec and old SA show commands)
"""The IPsec ``show`` commands, as data, and their handler.

The configuration comes from the :class:`~.module.IpsecModule`; what the
data plane knows comes from an :class:`IpsecRuntime` (channel numbers,
sequence numbers, data-plane counters, queue fill). :class:`IpsecRuntime`
itself is the stand-in before the data plane is connected: no runtime
values (``-``), zero counters. The data plane replaces it with an object
having the same methods.
"""
import collections
from collections.abc import Callable

from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Choice, CommaList, Integer, Union
from .command_values import BUNDLE_ID, POLICY_NAME, SPEC_ID
from .counter_displays import (CounterValues, show_ipsec_counters, show_policy_counters, show_sa_counters)
from .displays import (PolicyStatus, bundle_views, module_status, show_bundlespecification,
                       show_bundlespecifications, show_ipsec, show_policies, show_policy, show_policy_sabundles,
                       show_saspecification, show_saspecifications)
from .module import COUNTED_GROUPS, IpsecModule
from .oldsa_displays import OldSaChannels, show_old_sa, show_old_sas
from .sa_displays import sa_view, show_sa, show_sas

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
        """Runtime fields of an SA (keyword arguments of :class:`~.sa_displays.SaView`)."""
        return {}

    def counter_values(self, group: str) -> CounterValues:
        """Values of a data-plane counter group (ah, alg, comp, esp, main)."""
        return lambda block, name: 0

    def sa_counter_values(self, sa_id: int) -> CounterValues | None:
        """Per-SA counters, or None to use the module's."""
        return None

    def old_sa_channels(self, sa_id: int) -> OldSaChannels:
        return OldSaChannels()


def _values(counter: collections.Counter) -> CounterValues:
    return lambda block, name: counter[(block, name)]


class IpsecShow:
    """Carries out :data:`IPSEC_SHOW_COMMANDS`."""

    def __init__(self, module: IpsecModule, runtime: IpsecRuntime | None = None,
                 clock: Callable[[], float] | None = None):
        self.module = module
        self.runtime = runtime or IpsecRuntime()
        self.clock = clock or module.clock

    def show_ipsec(self):
        return show_ipsec(module_status(self.module))

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
        groups = tuple(counter) if counter else ("ah", "alg", "comp", "esp", "main", "sad", "setup", "spd")

        def values_of(group):
            if group in COUNTED_GROUPS:
                return _values(self.module.counters[group])
            return self.runtime.counter_values(group)
        return show_ipsec_counters(groups, values_of)

    def show_policy(self, policy=None):
        spd = self.module.spd
        if policy is None:
            return show_policies(spd.policies())
        p = spd.policy(policy)
        views = bundle_views(self.module.sad.bundles(p.name), self.clock())
        return show_policy(p, views, self.runtime.policy_status(p.name))

    def _policies(self, name):
        spd = self.module.spd
        return spd.policies() if name is None else [spd.policy(name)]

    def show_policy_counter(self, policy=None, counter=None):
        pc = self.module.policy_counters
        items = [(p.name, _values(pc.get(p.name.lower(), collections.Counter()))) for p in self._policies(policy)]
        return show_policy_counters(items, single=policy is not None)

    def show_policy_sabundle(self, policy=None, sabundle=None):
        now = self.clock()
        return show_policy_sabundles([(p.name, bundle_views(self.module.sad.bundles(p.name), now))
                                      for p in self._policies(policy)])

    def _view(self, rec):
        spd = self.module.spd
        policy = spd.policy(rec.policy_name) if spd.has_policy(rec.policy_name) else None
        return sa_view(rec, policy, **self.runtime.sa_runtime(rec.sa_id))

    def show_sa(self, sa=None):
        sad = self.module.sad
        if sa is None:
            return show_sas(self._view(r) for r in sad.sas())
        return show_sa(self._view(sad.sa(sa)))

    def show_sa_counter(self, sa=None, counter=None):
        sad = self.module.sad
        records = sad.sas() if sa is None else [sad.sa(sa)]
        items = []
        for r in records:
            values = self.runtime.sa_counter_values(r.sa_id) or _values(self.module.sa_counters[r.sa_id])
            items.append((r.sa_id, values))
        return show_sa_counters(items)

    def show_old_sa(self, sa=None):
        table = self.module.old_sas
        if sa is None:
            return show_old_sas(table.sas.values(), self.runtime.old_sa_channels)
        # get_config counts the SA's getConfigGood, or secAssGetConfigNotExist (show-outputs §16).
        if sa == "all":
            return "\n\n".join(show_old_sa(table.get_config(i), self.runtime.old_sa_channels(i))
                               for i in sorted(table.sas))
        return show_old_sa(table.get_config(sa), self.runtime.old_sa_channels(sa))
