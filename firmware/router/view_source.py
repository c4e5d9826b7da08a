# Ref: ../shared/seeds/000_*-003_* (racoonctl, tmsh, IOS views); ../shared/spec/show-outputs.md §7 (the SA snapshot)
"""The :class:`~pacsim.firmware.views.ViewSource` of a running
:class:`~.router.Router`, and the actions the other vendors' tools take
on it (racoonctl ``delete-sa isakmp`` and ``flush-sa``, tmsh ``delete net
ipsec ike-sa``, IOS ``clear crypto sa``).

:class:`RouterViewSource` builds the snapshots the AlliedWare displays
build (through :class:`~pacsim.firmware.ipsec.show_commands.IpsecShow`
with the router's data-plane runtime), adding each SA's local tunnel end.
The actions are coroutines: they run on the router as a console command
does (bundles taken down by the SA kernel, ISAKMP deletes sent).
"""
from dataclasses import replace

from ..ipsec.show_commands import IpsecShow
from ..state.snapshots import EncoSnapshot, drop_counts
from ..views.ios_commands import clear_sas

__all__ = ["RouterViewSource", "delete_ike_sas", "flush_sas"]


class RouterViewSource:
    """The snapshots of ``router`` (a :class:`~.router.Router`) now; see
    :class:`~pacsim.firmware.views.ViewSource` for the methods."""

    def __init__(self, router):
        self.router = router
        self._show = IpsecShow(router.ipsec, router.runtime, router.clock)

    def now(self) -> float:
        return self.router.clock()

    def ike_sas(self):
        daemon = self.router.isakmp_daemon
        return () if daemon is None else daemon.ike_sas()

    def exchanges(self):
        daemon = self.router.isakmp_daemon
        return () if daemon is None else daemon.exchanges()

    def policies(self):
        now = self.now()
        return tuple(self._show.policy(p, now) for p in self.router.ipsec.spd.policies())

    def bundles(self):
        return tuple(b for p in self.policies() for b in p.bundles)

    def sas(self):
        router, now = self.router, self.now()
        spd = router.ipsec.spd
        out = []
        for rec in router.ipsec.sad.sas():
            snap = self._show.sa(rec, now)
            local = router._local_end(spd.policy(rec.policy_name)) if spd.has_policy(rec.policy_name) else None
            out.append(snap if local is None else replace(snap, tunnel_local=str(local)))
        return tuple(sorted(out, key=lambda s: s.sa_id))

    def enco(self) -> EncoSnapshot:
        return self.router.enco.status()

    def drops(self):
        return drop_counts(self.router.drop_log)


async def delete_ike_sas(router, peer: str | None = None) -> int:
    """Delete the router's IKE SAs (those with ``peer``, or all), sending
    the ISAKMP deletes; how many were deleted."""
    daemon = router.isakmp_daemon
    if daemon is None:
        return 0
    doomed = [sa for sa in list(daemon.sas) if peer is None or str(sa.peer) == peer]
    for sa in doomed:
        router._isakmp_outbox += await router._send_datagrams(await daemon.delete_sa(sa, "local"))
    return len(doomed)


async def flush_sas(router) -> int:
    """racoonctl ``flush-sa``: every SA bundle removed as IOS ``clear crypto
    sa`` does (:func:`~pacsim.firmware.views.ios_commands.clear_sas`); how
    many policies had bundles."""
    count = sum(1 for p in router.ipsec.spd.policies() if router.ipsec.sad.bundles(p.name))
    clear_sas(router.ipsec)
    await router.kernel.settle()
    return count
