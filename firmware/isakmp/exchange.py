# Ref: ../shared/spec/isakmp-commands.md R46 (deletedelay), R51-R57 (retransmission), R6, R9
# Ref: RFC 2408 section 5 (message processing), RFC 2409 section 5 (exchanges)
"""The base of every ISAKMP exchange: what it sent, when it retransmits,
which received messages are repeats, and how long it lingers when done.

Retransmission (R51-R57), with T = the policy's ``msgtimeout``: a message
that expects a reply is resent when no reply came, after gaps of T, 2T,
4T, 6T, 8T, ... (``msgbackoff=incremental``: the worked example of R57,
4, 8, 16, 24, ... seconds for T = 4) or T each (``msgbackoff=none``), at
most ``msgretrylimit`` times. **After the last retransmission the exchange
waits one more gap of the same pattern** (for the defaults 2*8*4 = 64 s,
so it fails 292 s after the first send; with ``msgretrylimit=0`` it waits
T) and then times out and fails (``txRetryXchgTimedOut``). The manual
does not state this wait (R57 "not stated"); one more gap treats the last
retransmission like every other one. Informational messages expect no
reply and are never retransmitted (R52).

Repeats (RFC 2408 section 5, strongSwan's task manager): a datagram equal
to the last message received gets the reply that was sent for it again,
byte for byte, and changes nothing; one equal to an earlier message of
the exchange is ignored. When an exchange is done it is kept for the
policy's ``deletedelay`` seconds (R46) to answer retransmissions of the
peer's last message, and then forgotten.

Subclasses implement :meth:`Exchange.start` (initiator) and
:meth:`Exchange.process` (a received message); the daemon does the
framing, the counting and the timers.
"""

from dataclasses import dataclass

from .constants import HEADER_LENGTH
from .crypto import IkeCryptoError
from .errors import IsakmpError, MalformedMessage, Rejection
from .rules import Role, check_header, check_payloads

__all__ = ["RetransmitSchedule", "Exchange", "ExchangeProblem", "ExchangeFailed", "MessageRejected", "Repeat",
           "ExchangeSnapshot"]


@dataclass(frozen=True)
class RetransmitSchedule:
    """``timeout`` T (seconds), ``incremental`` back-off, ``limit``
    retransmissions (the policy's msgtimeout, msgbackoff, msgretrylimit)."""
    timeout: float
    incremental: bool
    limit: int

    @classmethod
    def of(cls, policy):
        """The schedule of an :class:`~.policy_config.IsakmpPolicy`."""
        return cls(policy.msgtimeout, policy.msgbackoff == "incremental", policy.msgretrylimit)

    def gap(self, number):
        """Seconds before retransmission ``number`` (1-based) after the
        previous transmission; ``limit + 1`` gives the final wait."""
        if not self.incremental or number == 1:
            return self.timeout
        return 2 * (number - 1) * self.timeout

    def times(self):
        """Seconds after the first send of each retransmission, then of the timeout."""
        at, found = 0, []
        for number in range(1, self.limit + 2):
            at += self.gap(number)
            found.append(at)
        return found


class ExchangeProblem(IsakmpError):
    """Base of what an exchange reports: ``detail`` (a sentence), ``notify``
    (the :class:`~.constants.NotifyType` to tell the peer when the policy
    sends notifies, or None) and ``counter`` (the ``(group, name)`` counted)."""

    def __init__(self, detail, notify=None, counter=None):
        self.notify, self.counter, self.detail = notify, counter, detail
        super().__init__(detail)


class ExchangeFailed(ExchangeProblem):
    """The exchange cannot go on: it is removed (in phase 1 with its SA, R6)."""


class MessageRejected(ExchangeProblem):
    """A well-formed message the exchange does not accept (a HASH that does
    not verify, a body that does not decrypt under our keys): dropped and
    counted, nothing changes and the exchange waits on (racoon's way: a
    forged message cannot end a negotiation); the notify goes out once per
    exchange. A wrong pre-shared key is found this way, and the exchange
    ends when the peer gives up or by timeout."""


class Repeat:
    """What a received datagram is to an exchange (see :meth:`Exchange.repeat`)."""
    NEW = "new"
    LAST = "last"          #: the last message received again: resend the reply
    EARLIER = "earlier"    #: an earlier message: ignore


@dataclass(frozen=True)
class ExchangeSnapshot:
    """A read-only view of an exchange for ``show isakmp exchange``
    (times left in seconds, None when no timer runs; ``commit_sent`` and
    ``commit_received``: the commit bit in its messages, :mod:`.commit`)."""
    exchange_id: int
    exchange: object
    state: str
    phase: int
    initiator: bool
    policy: str
    sa_id: int
    peer: object
    local: object
    encrypted: bool
    expecting: bool
    cky_i: bytes
    cky_r: bytes
    message_id: int
    retry_limit: int
    retries_left: int
    incremental: bool
    delete_delay: int
    delete_left: float | None
    initial_timeout: float
    retry_left: float | None
    commit_sent: bool = False
    commit_received: bool = False


class Exchange:
    """One exchange over an IKE SA.

    Arguments: ``daemon`` (the :class:`~.daemon.IsakmpDaemon`: counters,
    configuration, card), ``sa`` (the :class:`~.ike_sa.IkeSa`), ``role``
    (:class:`~.rules.Role` of this side), ``message_id`` (int, 0 in
    phase 1), ``now`` (seconds). Class attribute ``EXCHANGE`` is the
    :class:`~.constants.ExchangeType`, ``RETRANSMITS`` False for exchanges
    whose messages expect no reply.

    State kept here: ``sent`` (the last message sent, ISAKMP octets),
    ``awaiting`` (a reply to it is expected), ``retransmissions``,
    ``retransmit_at``, ``last_received``/``earlier`` (octets of received
    messages), ``cached_reply`` (what answered ``last_received``),
    ``done``, ``delete_at``. :meth:`process` records what it sends with
    :meth:`transmitted` (or :meth:`finish` when nothing more is expected).
    """
    EXCHANGE = None
    RETRANSMITS = True

    def __init__(self, daemon, sa, role, message_id, now):
        self.daemon, self.sa, self.role, self.message_id = daemon, sa, role, message_id
        self.exchange_id = daemon.new_exchange_id()
        self.created = now
        self.schedule = RetransmitSchedule.of(sa.policy)
        self.sent = None
        self.awaiting = False
        self.retransmissions = 0
        self.retransmit_at = None
        self.last_received = None
        self.cached_reply = None
        self.notified = False
        self.earlier = set()
        self.done = False
        self.delete_at = None
        self.connected_sent = False       # the last message sent is a CONNECTED notify (commit bit, QM4)
        self.commit_sent = self.commit_received = False       # the commit bit in our / the peer's messages

    @property
    def key(self):
        """How the daemon finds the exchange: (CKY-I, message ID)."""
        return self.sa.cky_i, self.message_id

    # -- the protocol, in subclasses -----------------------------------------------------------

    async def start(self, now):
        """Initiator: the first message (ISAKMP octets)."""
        raise NotImplementedError

    async def process(self, message, datagram, now):
        """Handle a received message (a decoded
        :class:`~.message.Message` or an :class:`~.message.EncryptedMessage`)
        that came in ``datagram`` (:class:`~.transport.Datagram`: addresses
        and ports, for NAT-D) and return the reply octets or None. Raises
        :class:`~.errors.MalformedMessage` to drop it unchanged (nothing
        may be changed before every check passed) or :class:`ExchangeFailed`."""
        raise NotImplementedError

    async def decrypted(self, encrypted, rule, undecodable=None):
        """``encrypted`` (an :class:`~.message.EncryptedMessage`) opened under
        the SA and checked by ``rule`` (header first, payloads after); the IV
        chain does not move. A body the cipher refuses, or one that breaks
        the payload rules, is a :class:`~.errors.MalformedMessage`; so is one
        that does not decode, unless ``undecodable(problem)`` gives what to
        raise instead."""
        problem = check_header(rule, encrypted.header)
        if problem:
            raise problem
        try:
            message = await self.sa.unseal(encrypted)
        except IkeCryptoError as error:
            raise MalformedMessage(Rejection.BAD_PADDING_LENGTH, HEADER_LENGTH, str(error)) from None
        except MalformedMessage as problem:
            if undecodable is None:
                raise
            raise undecodable(problem) from None
        if undecodable is not None:
            self.daemon.count("general", "rxDecryptGood")
        problem = check_payloads(rule, message)
        if problem:
            problem.decrypted = True
            raise problem
        return message

    def abandoned(self):
        """The exchange ends unfinished (failed, timed out, its SA removed):
        a subclass gives back what it holds (quick mode: its SPIs)."""

    def state_name(self):
        """The manual's state name of the exchange (``show isakmp exchange``)."""
        return "DELETEDELAY" if self.done else "IDLE"

    # -- bookkeeping the daemon calls ------------------------------------------------------------

    def repeat(self, data):
        """Whether ``data`` repeats a message this exchange received: a :class:`Repeat` value."""
        if data == self.last_received:
            return Repeat.LAST
        return Repeat.EARLIER if data in self.earlier else Repeat.NEW

    def received(self, data, replies):
        """Record an accepted message ``data`` and the ``replies`` sent for it
        (the first is resent when ``data`` comes again)."""
        if self.last_received is not None:
            self.earlier.add(self.last_received)
        self.last_received = bytes(data)
        self.cached_reply = replies[0] if replies else None

    def transmitted(self, message, now, expect_reply=True):
        """Record a sent ``message`` (ISAKMP octets) and arm its retransmission."""
        self.sent = bytes(message)
        self.awaiting = expect_reply and self.RETRANSMITS
        self.retransmissions = 0
        self.retransmit_at = now + self.schedule.gap(1) if self.awaiting else None

    def finish(self, now):
        """The exchange is complete: keep it ``deletedelay`` seconds (R46)."""
        self.done = True
        self.awaiting = False
        self.retransmit_at = None
        self.delete_at = now + self.sa.policy.deletedelay

    def deadline(self):
        """When :meth:`due` has something to do, or None."""
        times = [t for t in (self.retransmit_at, self.delete_at) if t is not None]
        return min(times) if times else None

    def due(self, now):
        """What the timer at ``now`` means: ``"retransmit"`` (resend
        :attr:`sent`), ``"timeout"`` (the exchange failed), ``"delete"``
        (the deletedelay is over) or None."""
        if self.delete_at is not None and now >= self.delete_at:
            return "delete"
        if self.retransmit_at is None or now < self.retransmit_at:
            return None
        if self.retransmissions >= self.schedule.limit:
            return "timeout"
        self.retransmissions += 1
        self.retransmit_at += self.schedule.gap(self.retransmissions + 1)
        return "retransmit"

    def snapshot(self, now):
        """A frozen :class:`ExchangeSnapshot` at ``now``."""
        sa = self.sa
        left = (lambda at: None if at is None else max(0.0, at - now))
        return ExchangeSnapshot(
            self.exchange_id, self.EXCHANGE, self.state_name(), 2 if self.message_id else 1,
            self.role is Role.INITIATOR, sa.policy.name, sa.sa_id, sa.peer, sa.local, sa.keys is not None,
            self.awaiting, sa.cky_i, sa.cky_r, self.message_id, self.schedule.limit,
            self.schedule.limit - self.retransmissions, self.schedule.incremental, sa.policy.deletedelay,
            left(self.delete_at), self.schedule.timeout, left(self.retransmit_at), self.commit_sent,
            self.commit_received)
