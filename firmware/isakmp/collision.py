# Ref: RFC 2409 section 5 (phase 1); ../shared/spec/isakmp-commands.md R44 (senddeletes); strongSwan
#      task_manager_v1/isakmp_delete (simultaneous main modes: both complete, one is deleted)
"""Phase-1 collisions: both routers start phase 1 to each other at once.

Both negotiations complete (neither side can refuse the other's first
message without risking no SA at all), then exactly one IKE SA is kept:
**the one whose initiator cookie (CKY-I, compared as an unsigned 64-bit
big-endian number) is higher**. Both sides see the same two cookie pairs,
so both choose the same SA without a message about it.

Two negotiations *collide* when they overlap: when one SA was created
(our ``initiate`` or the peer's first message) the other, with the same
peer, was not yet established. An SA made while another was already
up (a rekey, a restarted peer) is no collision; rekeys and
INITIAL-CONTACT keep their own rules.

The losing SA becomes DYING at once (``usable``: exchanges already running
over it finish, but no new quick mode starts over it; phase-2 SAs are
not bound to an IKE SA here, so new ones are negotiated over the winner)
and is then deleted:

- by the side that *initiated* it, as soon as no quick mode runs over it:
  removed with a Delete notification to the peer when the policy has
  ``senddeletes`` (R44; counted ``txDeleteMsg``);
- by the side that *responded* to it, when that Delete arrives (``peer
  delete``) or, at the latest, :data:`COLLISION_DELETE_WAIT` seconds after
  the collision was decided (the peer may not send deletes): removed
  quietly, reason :data:`UNANNOUNCED`.

:class:`PhaseOneCollisions(daemon)` is the daemon's part that does this:
the daemon calls :meth:`~PhaseOneCollisions.added` when an SA enters its
database, :meth:`~PhaseOneCollisions.established` when one is
authenticated, :meth:`~PhaseOneCollisions.reap` after each message and
timer, :meth:`~PhaseOneCollisions.forget` when one leaves, and adds
:meth:`~PhaseOneCollisions.next_timer` to its own.
"""
from .debug import TraceDebug
from .ike_sa import IkeSaState
from .rules import Role

__all__ = ["PhaseOneCollisions", "COLLISION_DELETE_WAIT", "UNANNOUNCED"]

#: Seconds the responder of a losing SA waits for its initiator's Delete before removing it quietly.
COLLISION_DELETE_WAIT = 30
#: The :class:`~.ike_sa.IkeSaDeleted` reason of a losing SA removed without a Delete (its peer deletes it).
UNANNOUNCED = "collision, deleted by its initiator"
#: The reason of a losing SA removed by its initiator (a Delete is sent with ``senddeletes``).
ANNOUNCED = "collision"


class PhaseOneCollisions:
    """Collision bookkeeping of one daemon (see the module docstring);
    ``daemon``: the :class:`~.daemon.IsakmpDaemon`."""

    def __init__(self, daemon):
        self.daemon = daemon
        self._overlaps = {}       # CKY-I -> CKY-Is of the SAs with the same peer not established at its creation
        self._losers = {}         # CKY-I of a losing SA -> when its responder removes it (None: its initiator)

    def added(self, sa):
        """``sa`` entered the database: note the negotiations with its peer it overlaps."""
        self._overlaps[sa.cky_i] = {other.cky_i for other in self.daemon.sas.with_peer(sa.peer, usable_only=False)
                                    if other is not sa and other.established is None}

    def _collide(self, sa, other):
        return other.cky_i in self._overlaps.get(sa.cky_i, ()) or sa.cky_i in self._overlaps.get(other.cky_i, ())

    async def established(self, sa, now):
        """``sa`` is authenticated: when an overlapping SA with the same peer
        is established too, the lower CKY-I loses (DYING, deleted by :meth:`reap`)."""
        rivals = [other for other in self.daemon.sas.with_peer(sa.peer)
                  if other is not sa and other.state is IkeSaState.ESTABLISHED and self._collide(sa, other)]
        if not rivals:
            return
        survivor = max([sa, *rivals], key=lambda s: s.cky_i)
        for loser in (s for s in (sa, *rivals) if s is not survivor):
            loser.state = IkeSaState.DYING
            loser.rekey_at = None
            self._losers[loser.cky_i] = None if loser.role is Role.INITIATOR else now + COLLISION_DELETE_WAIT
            self.daemon.debug(TraceDebug, f"IKE SA {loser.sa_id} with {loser.peer} collided with IKE SA "
                                          f"{survivor.sa_id}: the higher CKY-I {survivor.cky_i.hex()} is kept")
        await self.reap(now)

    def _busy(self, sa):
        """Whether a quick mode (or another phase-2 exchange) over ``sa`` is still running."""
        return any(e.message_id and not e.done for e in self.daemon.exchanges_of(sa))

    async def reap(self, now):
        """Delete the losing SAs whose time has come (see the module docstring)."""
        for cky_i, deadline in list(self._losers.items()):
            sa = self.daemon.sas.get(cky_i)
            if sa is None or not sa.state.usable:
                self._losers.pop(cky_i, None)
            elif deadline is None and not self._busy(sa):
                await self.daemon.remove_sa(sa, ANNOUNCED)
            elif deadline is not None and now >= deadline:
                await self.daemon.remove_sa(sa, UNANNOUNCED)

    def forget(self, sa):
        """``sa`` left the database."""
        self._overlaps.pop(sa.cky_i, None)
        self._losers.pop(sa.cky_i, None)

    def next_timer(self):
        """When a losing SA's responder removes it at the latest, or None."""
        times = [t for t in self._losers.values() if t is not None]
        return min(times) if times else None
