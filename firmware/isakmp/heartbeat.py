# Ref: ../shared/spec/isakmp-commands.md R52, R67-R74 (heartbeats), section 8 items 13-14, section 9 (counters)
# Ref: RFC 2408 sections 3.14 and 4.8 (notify in an informational exchange); docs/isakmp-peers.md (wire format)
"""ISAKMP heartbeats: a keep-alive the dial-up router sends every 20 s
and the central router listens for (``heartbeatmode`` of the policy).

The manual does not give the heartbeat's wire format. Ours is a
protected informational exchange (HDR*, HASH(1), N) over the IKE SA, like
any informational message, whose Notification is of the private-use
status type :data:`~.constants.NotifyType.PACSIM_HEARTBEAT` (40500),
protocol ISAKMP, SPI = CKY-I | CKY-R and data = a 4-octet big-endian
sequence number (1, 2, ...; the manual's counters name a sequence number
and a hash). Nothing answers it and it is never retransmitted (R52, R70).

:class:`Heartbeats(daemon)` keeps one :class:`HeartbeatState` per
established IKE SA (``sa.heartbeat``, set by :meth:`Heartbeats.start`):

- ``send`` and ``both``: a heartbeat every :data:`HEARTBEAT_INTERVAL`
  seconds after establishment (a late timer sends one, never a burst);
- ``receive`` and ``both``: a heartbeat with a higher sequence number than
  the last one over that SA restarts the watch of its peer; when
  :data:`HEARTBEATS_MISSED` intervals (plus :data:`HEARTBEAT_GRACE` for
  the network) pass without one over any SA with the peer, every IKE SA
  with that peer is deleted (reason
  :data:`HEARTBEAT_LOST`) and, with them, the IPsec bundles negotiated
  with the peer (:mod:`.keying` acts on the reason): the manual's "SAs
  belonging to the sending peer" (R68) deleted "to avoid SA out of step
  fault conditions" (R73) means both, since IPsec SAs left behind would
  be out of step with a peer that lost its own.

A heartbeat received over an SA whose policy does not receive them is
counted (``startXchgRespNotCfgd``) and ignored; one with a bad SPI or data
length (``rxNotifyPayInvalid``), an old sequence number
(``rxInvalidSeqno``) or beside other payloads (``rxExtraPayloads``) is
counted and does not restart the watch. NAT-T keepalives are separate
(R74). ``ipversion=6`` policies cannot have heartbeats (refused by
:mod:`.policy_config`, R71).
"""
from dataclasses import dataclass

from .constants import Doi, NotifyType, ProtocolId
from .debug import TraceDebug
from .informational import notify_message
from .payloads import Notification

__all__ = ["Heartbeats", "HeartbeatState", "HEARTBEAT_INTERVAL", "HEARTBEATS_MISSED", "HEARTBEAT_GRACE",
           "HEARTBEAT_LOST", "SEQUENCE_BYTES", "sends", "receives"]

#: Seconds between two heartbeats (R67).
HEARTBEAT_INTERVAL = 20
#: Heartbeats missed in a row after which the peer's SAs are deleted (R67-R68).
HEARTBEATS_MISSED = 3
#: Seconds a heartbeat may be late (network delay) before it counts as missed.
HEARTBEAT_GRACE = 1
#: The :class:`~.ike_sa.IkeSaDeleted` reason of SAs deleted for missed heartbeats.
HEARTBEAT_LOST = "heartbeats missed"
#: Octets of the sequence number in the notification data.
SEQUENCE_BYTES = 4
_SEQUENCE_LIMIT = 1 << (8 * SEQUENCE_BYTES)


def sends(policy):
    """Whether ``policy`` (an IsakmpPolicy) sends heartbeats."""
    return policy.heartbeatmode in ("send", "both")


def receives(policy):
    """Whether ``policy`` listens for heartbeats."""
    return policy.heartbeatmode in ("receive", "both")


@dataclass
class HeartbeatState:
    """One IKE SA's heartbeats: ``next_send`` (seconds, None when it does
    not send), ``sent`` (last sequence number sent), ``heard`` (seconds of
    the last heartbeat accepted, or of establishment; None when it does
    not receive), ``received`` (last sequence number accepted)."""
    next_send: float | None
    heard: float | None
    sent: int = 0
    received: int = 0

    def deadline(self):
        """When the peer's heartbeats count as lost (seconds), or None."""
        return None if self.heard is None else self.heard + HEARTBEATS_MISSED * HEARTBEAT_INTERVAL + HEARTBEAT_GRACE


class Heartbeats:
    """The daemon's heartbeats (see the module docstring); ``daemon``: the
    :class:`~.daemon.IsakmpDaemon` (its SAs, counters, clock and outbox)."""

    def __init__(self, daemon):
        self.daemon = daemon

    def start(self, sa, now):
        """``sa`` was established at ``now``: start its heartbeats as its policy says."""
        policy = sa.policy
        sa.heartbeat = HeartbeatState(now + HEARTBEAT_INTERVAL if sends(policy) else None,
                                      now if receives(policy) else None)

    def _watched(self):
        return [sa for sa in self.daemon.sas if sa.state.usable and sa.heartbeat is not None]

    def _deadlines(self):
        """``{peer: seconds}``: when each watched peer's heartbeats count as
        lost. A heartbeat over any SA with the peer counts (a peer that
        rekeyed sends over its new SA only), so the latest deadline of its SAs."""
        deadlines = {}
        for sa in self._watched():
            deadline = sa.heartbeat.deadline()
            if deadline is not None:
                deadlines[sa.peer] = max(deadline, deadlines.get(sa.peer, deadline))
        return deadlines

    def next_timer(self):
        """The earliest heartbeat to send or deadline to check (seconds), or None."""
        times = [sa.heartbeat.next_send for sa in self._watched() if sa.heartbeat.next_send is not None]
        times += self._deadlines().values()
        return min(times) if times else None

    async def on_timer(self, now):
        """Send the heartbeats due at ``now`` and delete the SAs of peers
        whose heartbeats stopped; the messages go to the daemon's outbox."""
        for sa in self._watched():
            state = sa.heartbeat
            if state.next_send is not None and now >= state.next_send:
                await self._send(sa, state)
                while state.next_send <= now:
                    state.next_send += HEARTBEAT_INTERVAL
        for peer in [peer for peer, deadline in self._deadlines().items() if now >= deadline]:
            self.daemon.debug(TraceDebug, f"{HEARTBEATS_MISSED} heartbeats missed from {peer}: its SAs are deleted")
            for sa in self.daemon.sas.with_peer(peer, usable_only=False):
                await self.daemon.remove_sa(sa, HEARTBEAT_LOST)

    async def _send(self, sa, state):
        daemon = self.daemon
        daemon.count("heartbeat", "startXchgInitiator")
        state.sent = state.sent % (_SEQUENCE_LIMIT - 1) + 1
        payload = Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.PACSIM_HEARTBEAT, sa.cookies,
                               state.sent.to_bytes(SEQUENCE_BYTES, "big"))
        daemon.send(sa, await notify_message(daemon, sa, payload))
        daemon.count("heartbeat", "txMsg")
        daemon.count("heartbeat", "initXchgComplete")

    def received(self, sa, notification, others):
        """A heartbeat ``notification`` arrived protected over ``sa`` with
        ``others`` other payloads in its message: check and record it."""
        daemon = self.daemon
        daemon.count("heartbeat", "rxMsg")
        state = sa.heartbeat
        if state is None or state.heard is None:
            daemon.count("heartbeat", "startXchgRespNotCfgd")
            return
        daemon.count("heartbeat", "startXchgResponder")
        if others:
            daemon.count("heartbeat", "rxExtraPayloads")
            return
        if notification.spi != sa.cookies or len(notification.data) != SEQUENCE_BYTES:
            daemon.count("heartbeat", "rxNotifyPayInvalid")
            return
        sequence = int.from_bytes(notification.data, "big")
        if sequence <= state.received and not (state.received == _SEQUENCE_LIMIT - 1 and sequence == 1):
            daemon.count("heartbeat", "rxInvalidSeqno")
            return
        state.received, state.heard = sequence, daemon.clock()
        daemon.count("heartbeat", "respXchgComplete")
