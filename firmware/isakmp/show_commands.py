# Ref: spec/show-outputs.md §10-§14 (the ISAKMP show commands)
"""The ISAKMP ``show`` commands, as data, and their handler.

:class:`IsakmpShow` builds the snapshots (module status from the
:class:`~.policy_config.IsakmpConfig`, IKE SAs, exchanges and counters
from the running :class:`~.daemon.IsakmpDaemon`) and formats them with
the AlliedWare view (:mod:`pacsim.firmware.views.alliedware.isakmp`,
:mod:`~pacsim.firmware.views.alliedware.isakmp_counters`).

:class:`IsakmpRuntime` is what the console asks the running ISAKMP for:
:meth:`IsakmpRuntime.daemon` returns the daemon, or None while ISAKMP
does not run (disabled, or a console without a router): then the
displays show the configuration, no SAs, no exchanges and zero counters.
The router passes an object whose ``daemon()`` returns its daemon.
"""
from collections.abc import Callable

from ..cli.grammar import Command, P
from ..cli.privilege import Privilege
from ..cli.values import Integer
from ..state.isakmp_snapshots import isakmp_module_snapshot
from ..views.alliedware.isakmp import (show_isakmp, show_isakmp_exchange, show_isakmp_exchanges, show_isakmp_policies,
                                       show_isakmp_policy, show_isakmp_sa, show_isakmp_sas)
from ..views.alliedware.isakmp_counters import show_isakmp_counters
from .commands import COUNTER_CATEGORIES, ISA, POLICY_NAME
from .counters import CATEGORIES, IsakmpCounters, category_groups
from .policy_config import IsakmpConfig, IsakmpConfigError

__all__ = ["ISAKMP_SHOW_COMMANDS", "IsakmpShow", "IsakmpRuntime", "NoSuchEntry"]

SH = P("SHow")
USER = Privilege.USER             # the displays: any logged-in user
_ID = Integer(0, 65535)

ISAKMP_SHOW_COMMANDS = (
    Command((SH, ISA), (), "show_isakmp", "ISAKMP module status", "show-outputs §10", USER),
    Command((SH, ISA, P("COUnters", COUNTER_CATEGORIES, optional_value=True)), (), "show_counters",
            "ISAKMP counters", "show-outputs §11", USER),
    Command((SH, ISA, P("EXchange", _ID, optional_value=True)), (), "show_exchange", "ISAKMP exchanges",
            "show-outputs §12", USER),
    Command((SH, ISA, P("POLicy", POLICY_NAME, optional_value=True)), (), "show_policy", "ISAKMP policies",
            "show-outputs §13", USER),
    Command((SH, ISA, P("SA", _ID, optional_value=True)), (), "show_sa", "ISAKMP SAs", "show-outputs §14", USER),
)


class NoSuchEntry(IsakmpConfigError):
    """``show isakmp sa=id`` or ``exchange=id`` of an SA or exchange that does not exist."""


class IsakmpRuntime:
    """The running ISAKMP as the console sees it; this base class answers
    "not running" (override :meth:`daemon`)."""

    def daemon(self):
        """The :class:`~.daemon.IsakmpDaemon`, or None when ISAKMP does not run."""
        return None

    def retries(self):
        """The running key manager's :class:`~.retry.IkeRetries`, or None."""
        return None

    def debug_to(self, terminal):
        """``enable isakmp debug`` ran on the console whose ``terminal``
        (``line -> None``, or None) should print the debug lines from now
        on; without a daemon there is nothing to print."""


class IsakmpShow:
    """Carries out :data:`ISAKMP_SHOW_COMMANDS` on ``config`` and the
    ``runtime``'s daemon; ``clock()`` gives the time in seconds."""

    def __init__(self, config: IsakmpConfig, runtime: IsakmpRuntime | None = None,
                 clock: Callable[[], float] | None = None):
        self.config = config
        self.runtime = runtime or IsakmpRuntime()
        self.clock = clock
        self._idle_counters = IsakmpCounters()

    def counters(self) -> IsakmpCounters:
        """The running daemon's counters, else zero counters."""
        daemon = self.runtime.daemon()
        return self._idle_counters if daemon is None else daemon.counters

    def _now(self, daemon):
        return daemon.clock() if self.clock is None else self.clock()

    def show_isakmp(self):
        return show_isakmp(isakmp_module_snapshot(self.config))

    def show_counters(self, counters=None):
        live = self.counters()
        categories = [c for c in CATEGORIES if c in counters] if counters else CATEGORIES
        return show_isakmp_counters({c: {group: live.snapshot(group) for group in category_groups(c)}
                                     for c in categories})

    def show_policy(self, policy=None):
        if policy is None:
            return show_isakmp_policies(self.config.policies.values())
        retries = self.runtime.retries()
        if retries is None:
            return show_isakmp_policy(self.config.policy(policy))
        return show_isakmp_policy(self.config.policy(policy), retries.current(policy), retries.waiting(policy))

    def show_sa(self, sa=None):
        daemon = self.runtime.daemon()
        sas = () if daemon is None else daemon.ike_sas()
        if sa is None:
            return show_isakmp_sas(sas, self._now(daemon) if daemon else 0.0)
        found = next((s for s in sas if s.sa_id == sa), None)
        if found is None:
            raise NoSuchEntry(f"ISAKMP SA {sa} does not exist")
        xauth = None if daemon.phase1_5 is None else daemon.phase1_5.sa_status(found.cky_i)
        return show_isakmp_sa(found, self.config.policies.get(found.policy), self._now(daemon), xauth)

    def show_exchange(self, exchange=None):
        daemon = self.runtime.daemon()
        exchanges = () if daemon is None else daemon.exchanges()
        if exchange is None:
            return show_isakmp_exchanges(exchanges)
        found = next((e for e in exchanges if e.exchange_id == exchange), None)
        if found is None:
            raise NoSuchEntry(f"ISAKMP exchange {exchange} does not exist")
        sa = next((s for s in daemon.ike_sas() if s.sa_id == found.sa_id), None)
        return show_isakmp_exchange(found, self.config.policies.get(found.policy), sa and sa.transform)
