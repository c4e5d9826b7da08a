# Ref: RFC 2408 sections 5 and 5.1 (message processing), RFC 2409 section 5 (exchanges)
# Ref: ../shared/spec/isakmp-commands.md R6, R13-R14, R32, R39, R46-R47, R51-R57, R89-R92
"""The ISAKMP daemon: a sans-I/O IKEv1 peer on the card.

``IsakmpDaemon(config, keys, device, local_addresses, clock)``:

* ``config``: an :class:`~.policy_config.IsakmpConfig` (policies by name);
* ``keys``: the ENCO :class:`~pacsim.firmware.enco.keys.KeyStore` (PSKs);
* ``device``: the :class:`~pacsim.host.device.PacDevice` that does every
  random number, Diffie-Hellman, hash, prf and cipher operation;
* ``local_addresses``: the router's addresses (text or ipaddress);
* ``clock``: a callable returning the current time in seconds (virtual
  time in tests).

The runtime calls :meth:`IsakmpDaemon.receive` with each
:class:`~.transport.Datagram` for an ISAKMP port, :meth:`on_timer` when
:meth:`next_timer` is reached and :meth:`initiate` to start phase 1; each
returns the datagrams to send. Nothing raises out of :meth:`receive`:
a malformed or unexpected message is dropped, counted (:attr:`counters`,
the manual's names) and changes no state; an internal fault is recorded
in :attr:`faults` and counted.

Layers above read :attr:`events` (the event classes are in :mod:`.ike_sa`) or
:meth:`subscribe`, and :meth:`ike_sas`/:meth:`exchanges` give frozen
snapshots. Phase-2 exchanges plug in with :meth:`register_exchange`
(``factory(daemon, sa, header, now) -> Exchange`` for a received first
message of that exchange type) and :meth:`start_exchange` (initiator).

Both routers starting phase 1 to each other at once is resolved by
:attr:`collisions` (:mod:`.collision`: the higher CKY-I is kept).

Debugging: with a :attr:`debug_sink` (:class:`~.debug.IsakmpDebug`) the
daemon publishes :mod:`.debug` records as things happen, for the enabled
classes only. Keys: on establishment the phase-1 encryption key goes to
the key log in force (:meth:`key_log`, :mod:`.key_log`) and nowhere else.
"""

from collections import deque

from ...host.errors import PacError
from .aggressive_mode import AggressiveModeInitiator, AggressiveModeResponder
from .collision import UNANNOUNCED, PhaseOneCollisions
from .constants import Doi, ExchangeType
from .counters import IsakmpCounters, rejection_counters
from .crypto import IkeCrypto
from .debug import PacketDebug, StateDebug, TraceDebug, ValueDebug
from .errors import MalformedMessage, Rejection
from .dynamic_peer import responder_policy
from .exchange import ExchangeFailed, MessageRejected, Repeat
from .heartbeat import Heartbeats
from .ike_sa import (KBYTE, ZERO_COOKIE, IkeSa, IkeSaDatabase, IkeSaDeleted, IkeSaState, Phase1Established,
                     Phase1Failed, Phase1Mode)
from .informational import (InformationalExchange, clear_notify, delete_message, dpd_message, notify_message,
                            unprotected_notify)
from .key_log import configured_key_log
from .main_mode import MainModeInitiator, MainModeResponder
from .message import decode_message
from .payloads import Delete
from .policy_config import PEER_ANY
from .prenegotiation import source_address
from .rules import Role, rule_for
from .transport import (NAT_KEEPALIVE_INTERVAL, NAT_T_PORT, DatagramKind, address, classify, float_ports, frame,
                        is_address, keepalive)

__all__ = ["IsakmpDaemon", "REKEY_FRACTION"]

#: The initiator of an IKE SA negotiates its replacement at this fraction
#: of the lifetime (seconds or kbytes); the old SA is deleted once the new
#: one is up.
REKEY_FRACTION = 0.9
_INITIATORS = {Phase1Mode.MAIN: MainModeInitiator, Phase1Mode.AGGRESSIVE: AggressiveModeInitiator}
_RESPONDERS = {Phase1Mode.MAIN: MainModeResponder, Phase1Mode.AGGRESSIVE: AggressiveModeResponder}
_COOKIE_BYTES = 8
#: IkeSaDeleted reasons of a removal the peer knows of already or does itself: no Delete is sent.
_UNANNOUNCED = ("peer delete", "initial contact", UNANNOUNCED)


class IsakmpDaemon:
    """An IKEv1 peer (see the module docstring for the arguments)."""

    def __init__(self, config, keys, device, local_addresses, clock):
        self.config, self.keys, self.device, self.clock = config, keys, device, clock
        self.local_addresses = tuple(address(a) for a in local_addresses)
        self.counters = IsakmpCounters()
        self.sas = IkeSaDatabase()
        self.events = deque()
        self.faults = []
        self._listeners = []
        self._exchanges = {}
        self._registry = {ExchangeType.INFORMATIONAL: InformationalExchange}
        self._outbox = []
        self._next_exchange_id = 1
        self._keepalive_at = {}
        self.debug_sink = None
        #: Phase 1.5 (XAUTH, :class:`~.xauth.XauthService`) when the router runs one: ``pending(sa)``, ``follow()``.
        self.phase1_5 = None
        self.heartbeats = Heartbeats(self)
        #: ``interface_address(name)``: the IPv4 address of a router interface, or None (set by the router).
        self.interface_address = None
        self.collisions = PhaseOneCollisions(self)

    # -- hooks for the layers above ---------------------------------------------------------------

    def register_exchange(self, exchange_type, factory):
        """Handle received exchanges of ``exchange_type`` over an established
        SA with ``factory(daemon, sa, header, now)`` returning an
        :class:`~.exchange.Exchange` (its :meth:`process` gets the message)."""
        self._registry[exchange_type] = factory

    def authenticating(self, sa):
        """Whether ``sa`` waits for phase 1.5 (XAUTH, R18): no quick mode over it yet."""
        return self.phase1_5 is not None and self.phase1_5.pending(sa)

    async def _follow(self):
        """The datagrams so far and those of what phase 1.5 starts after them."""
        out = self._flush()
        return out + (await self.phase1_5.follow() if self.phase1_5 is not None else [])

    def subscribe(self, callback):
        """Call ``callback(event)`` for every event (besides queueing it)."""
        self._listeners.append(callback)

    def emit(self, event):
        """Queue ``event`` and tell the subscribers."""
        self.events.append(event)
        for callback in self._listeners:
            callback(event)

    def key_log(self):
        """The :class:`~.key_log.KeyLog` in force (the configuration's, else
        ``$PACSIM_KEYLOG``), or None; the phase-2 layer logs its ESP SAs with
        its :meth:`~.key_log.KeyLog.esp_sa`."""
        return configured_key_log(self.config)

    def debug(self, record_type, *fields):
        """Publish a debug record (:mod:`.debug`) to :attr:`debug_sink`; built only when a class of it is enabled."""
        if self.debug_sink is not None and self.debug_sink.wants(record_type):
            self.debug_sink(record_type(*fields))

    def _debug_states(self, exchange, before):
        """Publish the exchange's and its SA's state changes since ``before`` (a :meth:`_states` value)."""
        after = self._states(exchange)
        for what, number, old, new in (("exchange", exchange.exchange_id, before[0], after[0]),
                                       ("SA", exchange.sa.sa_id, before[1], after[1])):
            if old != new:
                self.debug(StateDebug, what, number, old, new)

    @staticmethod
    def _states(exchange):
        return exchange.state_name(), exchange.sa.state.value

    def count(self, group, name):
        """Increment a counter of the manual's schema (a misspelt name raises)."""
        self.counters.increment(group, name)

    def send(self, sa, message):
        """Queue ``message`` (ISAKMP octets) to ``sa``'s peer on its current ports."""
        self._outbox.append(self._frame(sa, message))

    def new_exchange_id(self):
        """The next exchange number (``show isakmp exchange`` Id)."""
        self._next_exchange_id += 1
        return self._next_exchange_id - 1

    async def start_exchange(self, exchange):
        """Start an initiator ``exchange`` (phase 2 or informational) and
        return the datagrams to send."""
        now = self.clock()
        before = (None, exchange.sa.state.value)
        try:
            message = await exchange.start(now)
        except (ExchangeFailed, PacError) as failure:
            await self.fail(exchange, _card_failure(failure))
            return self._flush()
        self._exchanges[exchange.key] = exchange
        _count_phase2(exchange)
        self._debug_states(exchange, before)
        self.send(exchange.sa, message)
        return self._flush()

    # -- policies and keys ---------------------------------------------------------------------------

    def policy_for_peer(self, peer):
        """The policy whose PEER is ``peer``, else one with PEER=ANY of the same IP version, or None."""
        peer = address(peer)
        policies = list(self.config.policies.values())
        exact = [p for p in policies if p.peer != PEER_ANY and address(p.peer) == peer]
        wildcard = [p for p in policies if p.peer == PEER_ANY and p.ipversion == peer.version]
        found = (exact or wildcard or [None])[0]
        self.count("spd", "getPolicyByPeerGood" if found else "getPolicyByPeerFailed")
        return found

    def psk(self, policy):
        """The pre-shared key of ``policy`` (ENCO key bytes), or None when the key does not exist."""
        return None if policy.key is None else self.keys.bytes(policy.key)

    def local_address_for(self, peer, policy=None):
        """Our address towards ``peer`` (``policy``'s SRCINTERFACE first): see :func:`.prenegotiation.source_address`."""
        return source_address(self, policy, peer)

    # -- initiating --------------------------------------------------------------------------------------

    async def initiate(self, target, replaces=None):
        """Start phase 1 by policy name or peer address ``target``; returns
        the datagrams to send (none when an SA or a negotiation with that
        peer exists already, or the policy cannot be negotiated: counted)."""
        now = self.clock()
        policy = self.config.policies.get(target) if isinstance(target, str) else None
        if policy is None and is_address(target):
            policy = self.policy_for_peer(target)
        if policy is None or policy.peer == PEER_ANY:
            self.count("general", "acquireNoPolicy")
            return []
        peer = address(policy.peer)
        if replaces is None and self.sas.with_peer(peer, usable_only=False):
            self.count("general", "acquireEquivFound")
            return []
        local = self.local_address_for(peer, policy)
        if local is None:
            return []
        mode = Phase1Mode.AGGRESSIVE if policy.mode == "aggressive" else Phase1Mode.MAIN
        sa = IkeSa(self.sas.new_id(), await self._cookie(), ZERO_COOKIE, Role.INITIATOR, mode, policy,
                   local, self.config.udpport, peer, self.config.udpport,
                   IkeCrypto(self.device), now)
        sa.replaces = replaces
        exchange = _INITIATORS[mode](self, sa, now)
        self._add_sa(sa)
        return await self.start_exchange(exchange)

    async def _cookie(self):
        cookie = ZERO_COOKIE
        while cookie == ZERO_COOKIE or self.sas.get(cookie) is not None:
            cookie = await self.device.random(_COOKIE_BYTES)
        return cookie

    # -- receiving ---------------------------------------------------------------------------------------

    async def receive(self, datagram):
        """Handle one received datagram; returns the datagrams to send. Never raises."""
        try:
            return await self._receive(datagram, self.clock())
        except Exception as fault:          # the last line of defence: counted and kept, never raised
            self.faults.append(repr(fault))
            self.count("general", "msgRxUnexpectedMsg")
            self._outbox.clear()
            return []

    async def _receive(self, datagram, now):
        self.count("network", "rx")
        self.debug(PacketDebug, False, datagram)
        kind, data = classify(datagram)
        if kind is DatagramKind.NO_MARKER:
            self.count("network", "rxFailNoNonEspMarker")
            return []
        if kind is DatagramKind.KEEPALIVE:
            return []
        if datagram.dst not in self.local_addresses:
            self.count("general", "msgRxBadPortIpChange")
            return []
        self.count("general", "msgRxd")
        try:
            message = decode_message(data)
        except MalformedMessage as problem:
            self._count_rejection(problem, None, int.from_bytes(data[20:24], "big") if len(data) >= 24 else 0)
            return []
        header = message.header
        self.count("general", "msgRxEncrypted" if header.encrypted else "msgRxPlain")
        if header.exchange == ExchangeType.INFORMATIONAL and not header.encrypted:
            return await self._run(unprotected_notify(self, message, datagram, now))
        exchange = self._exchanges.get((header.initiator_cookie, header.message_id))
        self.count("xdb", ("getXchgByMsgIdAndCookies", "Failed" if exchange is None else "Good"))
        if exchange is None:
            return await self._new_exchange(message, data, datagram, now)
        if exchange.sa.nat.floated and datagram.dport != NAT_T_PORT and not header.message_id:
            self.count("general", "msgRxFailOldPort")           # R89: phase 1 on the old port after the float
            return []
        repeat = exchange.repeat(data)
        if repeat == Repeat.LAST:
            self.count("general", "deleteDelayPktsRxd" if exchange.done else "txRetryTxd")
            if exchange.cached_reply is not None:
                if exchange.done:
                    self.count("general", "deleteDelayConSent" if exchange.connected_sent else "deleteDelayRetrySent")
                self.send(exchange.sa, exchange.cached_reply)
            return self._flush()
        if repeat == Repeat.EARLIER or exchange.done:
            self.count("general", "deleteDelayPktDiff" if exchange.done else "msgRxUnexpectedMsg")
            return []
        sa = exchange.sa
        if sa.cky_r != ZERO_COOKIE and header.responder_cookie != sa.cky_r:
            self._count_rejection(MalformedMessage(Rejection.INVALID_COOKIE, 8, "responder cookie of another SA"),
                                  None, header.message_id)
            return []
        return await self._process(exchange, message, data, datagram, now)

    async def _new_exchange(self, message, data, datagram, now):
        header = message.header
        if not header.message_id:
            if header.exchange in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE) and \
                    header.responder_cookie == ZERO_COOKIE:
                return await self._respond(message, data, datagram, now)
            self.count("general", "msgRxP1NoXcgNot1stMsg" if header.exchange in (ExchangeType.MAIN,
                       ExchangeType.AGGRESSIVE) else "msgRxNoExchangePhase1")
            return []
        sa = self.sas.get(header.initiator_cookie, header.responder_cookie)
        self.count("sad", ("by cookies", "fail" if sa is None else "success"))
        if sa is None or not sa.state.usable or header.responder_cookie != sa.cky_r:
            self.count("general", "msgRxPhase2NoSa")
            return []
        factory = self._registry.get(header.exchange)
        if header.exchange == ExchangeType.QUICK and self.authenticating(sa):
            self.count("general", "msgRxPhase2NoSa")          # R18: phase 2 waits for XAUTH
            return []
        if factory is None:
            self.count("general", "msgRxPh2UnkwonXchgType")
            return []
        return await self._process(factory(self, sa, header, now), message, data, datagram, now, new=True)

    async def _respond(self, message, data, datagram, now):
        mode = Phase1Mode.MAIN if message.header.exchange == ExchangeType.MAIN else Phase1Mode.AGGRESSIVE
        group = "main" if mode is Phase1Mode.MAIN else "aggressive"
        if self.sas.get(message.header.initiator_cookie) is not None:
            self.count(group, "unexpectedMessage")      # a replayed or forged first message: CKY-I is taken
            return []
        policy = responder_policy(self, message, address(datagram.src), mode is Phase1Mode.AGGRESSIVE)
        if policy is None:
            self.count(group, "noPolicy")
            return []
        if policy.mode != ("main" if mode is Phase1Mode.MAIN else "aggressive"):
            self.count(group, "invalidPolicy")
            return []
        sa = IkeSa(self.sas.new_id(), message.header.initiator_cookie, await self._cookie(), Role.RESPONDER, mode,
                   policy, datagram.dst, datagram.dport, datagram.src, datagram.sport, IkeCrypto(self.device), now)
        return await self._process(_RESPONDERS[mode](self, sa, now), message, data, datagram, now, new=True)

    async def _process(self, exchange, message, data, datagram, now, new=False):
        """Run ``exchange.process``; a new exchange (and a new responder SA) is kept only when it succeeds."""
        sa = exchange.sa
        fresh_sa = new and not exchange.message_id
        before = (None if new else exchange.state_name(), sa.state.value)
        try:
            replies = await exchange.process(message, datagram, now)
        except MalformedMessage as problem:
            rule = rule_for(message.header, getattr(exchange, "expected", 1))
            self._count_rejection(problem, rule, message.header.message_id, getattr(problem, "decrypted", False))
            if fresh_sa:
                await sa.close()
            self._outbox.clear()
            return []
        except MessageRejected as rejection:
            return await self._reject(exchange, rejection, fresh_sa)
        except (ExchangeFailed, PacError) as failure:
            if fresh_sa:
                self._add_sa(sa)          # so that fail() removes and closes it like any other
            self._outbox.clear()
            await self.fail(exchange, _card_failure(failure))
            return self._flush()
        if fresh_sa:
            self._add_sa(sa)
        if new and sa.state not in (IkeSaState.DELETED, IkeSaState.EXPIRED):
            self._exchanges[exchange.key] = exchange
            _count_phase2(exchange)
        exchange.received(data, replies)
        self._debug_states(exchange, before)
        float_ports(sa, datagram)
        for reply in replies:
            self.send(sa, reply)
        await self._lifetime(sa, now)
        await self.collisions.reap(now)
        return await self._follow()

    async def _reject(self, exchange, rejection, fresh_sa):
        sa = exchange.sa
        self._outbox.clear()
        self.debug(TraceDebug, f"exchange {exchange.exchange_id}: message rejected: {rejection.detail}")
        if rejection.counter:
            self.count(*rejection.counter)
        if fresh_sa:
            await sa.close()
        elif rejection.notify is not None and not exchange.message_id and not exchange.notified:
            exchange.notified = True
            self._notify_failure(sa, rejection.notify)
        return self._flush()

    def _notify_failure(self, sa, notify):
        """Queue an unprotected error notify about ``sa``'s negotiation when its policy sends notifies."""
        if sa.policy.sendnotify:
            self.send(sa, clear_notify(sa, notify))
            self.count("info", "txNotifyMsg")
        else:
            self.count("info", "txMsgNotifyDenyIkmpPolicy")

    async def _run(self, awaitable):
        await awaitable
        return self._flush()

    def _count_rejection(self, problem, rule, message_id, decrypted=False):
        self.debug(TraceDebug, f"message dropped: {problem.reason.name} at octet {problem.offset}: {problem.detail}")
        for group, name in rejection_counters(problem, rule, decrypted, message_id):
            self.count(group, name)

    # -- outcomes -----------------------------------------------------------------------------------------

    async def established(self, sa, now):
        """Called by a phase-1 exchange when ``sa`` is authenticated."""
        sa.state = IkeSaState.ESTABLISHED
        sa.established = now
        self.schedule_lifetime(sa)
        self.heartbeats.start(sa, now)
        if sa.nat.nat_local:
            self._keepalive_at[sa.cky_i] = now + NAT_KEEPALIVE_INTERVAL
        self.count("general", "doneGood")
        self.debug(TraceDebug, f"IKE SA {sa.sa_id} established with {sa.peer} ({sa.mode.name.lower()} mode)")
        for name in ("skeyid", "skeyid_d", "skeyid_a", "skeyid_e", "enc_key", "initial_iv"):
            self.debug(ValueDebug, sa.sa_id, name.upper().replace("ENC_KEY", "Ka"), len(getattr(sa.keys, name)))
        key_log = self.key_log()
        if key_log is not None:
            try:
                key_log.phase1(sa.cky_i, sa.keys.enc_key)
            except OSError as error:          # the key log never costs the negotiation
                self.faults.append(f"key log {key_log.directory}: {error.strerror}")
                self.debug(TraceDebug, f"key log {key_log.directory} not written: {error.strerror}")
        old = sa.replaces
        self.emit(Phase1Established(sa.snapshot(), old))
        if old is not None:
            previous = next((s for s in self.sas if s.sa_id == old), None)
            if previous is not None:
                previous.state = IkeSaState.DYING
                await self.remove_sa(previous, "rekeyed")
        await self.collisions.established(sa, now)

    def schedule_lifetime(self, sa):
        """Set ``sa``'s expiry (and, as initiator, its rekey) from its transform's life in seconds."""
        life = sa.transform.life_seconds
        sa.expires = sa.established + life if life else None
        sa.rekey_at = (sa.established + REKEY_FRACTION * life if life and sa.role is Role.INITIATOR
                       and sa.state is IkeSaState.ESTABLISHED else None)

    def exchange_for(self, cky_i, message_id):
        """The exchange of those cookies and message ID, or None."""
        return self._exchanges.get((bytes(cky_i), message_id))

    async def delete_sa(self, sa, reason="local"):
        """Delete ``sa`` now (``delete isakmp sa``); returns the datagrams to send."""
        await self.remove_sa(sa, reason)
        return self._flush()

    async def remove_sa(self, sa, reason, state=IkeSaState.DELETED):
        """Remove ``sa`` and its exchanges, queueing a Delete to the peer
        when the policy sends deletes and the SA is usable (not when the
        peer deleted it or sent INITIAL-CONTACT); ``reason`` goes into the
        :class:`~.events.IkeSaDeleted` event."""
        if sa.state.usable and sa.policy.senddeletes and reason not in _UNANNOUNCED:
            self.send(sa, await delete_message(self, sa))
            self.count("info", "txDeleteMsg")
        elif sa.state.usable and reason not in _UNANNOUNCED:
            self.count("info", "txMsgDeleteDenyIkmpPolicy")
        sa.state = state
        self._drop_sa(sa)
        self._keepalive_at.pop(sa.cky_i, None)
        for key in [k for k, e in self._exchanges.items() if e.sa is sa]:
            self._exchanges.pop(key).abandoned()
        await sa.close()
        self.debug(TraceDebug, f"IKE SA {sa.sa_id} with {sa.peer} removed: {reason}")
        self.emit(IkeSaDeleted(sa.snapshot(), reason))

    async def fail(self, exchange, failure):
        """Fail ``exchange`` (a phase-1 failure removes its SA, R6), queueing
        the notify the failure warrants (the caller's entry point returns it)."""
        sa = exchange.sa
        self.debug(TraceDebug, f"exchange {exchange.exchange_id} failed: {failure.detail}")
        if failure.counter:
            self.count(*failure.counter)
        if failure.notify is not None:
            self._notify_failure(sa, failure.notify)
        self._exchanges.pop(exchange.key, None)
        exchange.abandoned()
        if exchange.message_id == 0:
            self.count("general", "donePhase1Failed")
            sa.state = IkeSaState.DELETED
            self._drop_sa(sa)
            self._keepalive_at.pop(sa.cky_i, None)
            await sa.close()
            self.emit(Phase1Failed(sa.policy.name, sa.peer, failure.detail, failure.notify))
        else:
            sa.ivs.forget(exchange.message_id.to_bytes(4, "big"))

    async def new_message_id(self, sa):
        """A random non-zero message ID (int, from the card) that no exchange of ``sa`` uses."""
        while True:
            message_id = int.from_bytes(await self.device.random(4), "big")
            if message_id and (sa.cky_i, message_id) not in self._exchanges:
                return message_id

    async def _protected(self, sa, message):
        """Queue a protected message of ``sa`` and apply its kbytes limit; returns the datagrams."""
        self.send(sa, message)
        await self._lifetime(sa, self.clock())
        return self._flush()

    async def send_notify(self, sa, notification):
        """Send ``notification`` (a :class:`~.payloads.Notification`) in a
        protected informational exchange over ``sa`` when its policy sends
        notifies (counted either way); returns the datagrams."""
        if sa.policy.sendnotify:
            self.count("info", "txNotifyMsg")
            return await self._protected(sa, await notify_message(self, sa, notification))
        self.count("info", "txMsgNotifyDenyIkmpPolicy")
        return self._flush()

    async def send_delete(self, sa, protocol, spis):
        """Send a protected Delete of the phase-2 SAs ``spis`` (tuple of
        bytes) of ``protocol`` (ProtocolId) over ``sa`` when its policy sends
        deletes (counted either way); returns the datagrams."""
        if sa.policy.senddeletes:
            self.count("info", "txDeleteMsg")
            return await self._protected(sa, await notify_message(self, sa, Delete(Doi.IPSEC, protocol, tuple(spis))))
        self.count("info", "txMsgDeleteDenyIkmpPolicy")
        return self._flush()

    async def send_dpd(self, sa):
        """Send an R-U-THERE over ``sa`` (RFC 3706); returns the datagrams."""
        return await self._protected(sa, await dpd_message(self, sa))

    # -- timers ---------------------------------------------------------------------------------------------

    def next_timer(self):
        """The earliest time (seconds) :meth:`on_timer` has work, or None."""
        times = [e.deadline() for e in self._exchanges.values()]
        times += [t for sa in self.sas for t in (sa.rekey_at, sa.expires)]
        times += list(self._keepalive_at.values()) + [self.heartbeats.next_timer(), self.collisions.next_timer()]
        times = [t for t in times if t is not None]
        return min(times) if times else None

    async def on_timer(self, now):
        """Run every timer due at ``now``: retransmissions, exchange timeouts
        and deletions, NAT-keepalives, heartbeats, rekeys and expiries. Returns the datagrams."""
        for exchange in list(self._exchanges.values()):
            what = exchange.due(now)
            if what == "retransmit":
                self.count("general", "txRetryTxd")
                self.send(exchange.sa, exchange.sent)
            elif what == "timeout":
                self.count("general", "txRetryXchgTimedOut")
                await self.fail(exchange, ExchangeFailed(f"no reply after {exchange.schedule.limit} retransmissions"))
            elif what == "delete":
                del self._exchanges[exchange.key]
                if exchange.message_id:
                    exchange.sa.ivs.forget(exchange.message_id.to_bytes(4, "big"))
        for cky_i, at in list(self._keepalive_at.items()):
            sa = self.sas.get(cky_i)
            if sa is not None and now >= at:
                self._outbox.append(keepalive(sa))
                self._keepalive_at[cky_i] = at + NAT_KEEPALIVE_INTERVAL
        await self.heartbeats.on_timer(now)
        for sa in list(self.sas):
            await self._lifetime(sa, now)
        await self.collisions.reap(now)
        return await self._follow()

    async def _lifetime(self, sa, now):
        """Expire ``sa`` at its lifetime (seconds, or kbytes protected) or,
        as its initiator, start its replacement at :data:`REKEY_FRACTION` of either."""
        if not sa.state.usable:
            return
        limit = sa.transform.life_kbytes * KBYTE if sa.transform.life_kbytes else None
        used = sa.protected_bytes
        if sa.expires is not None and now >= sa.expires or limit and used >= limit:
            await self.remove_sa(sa, "expired", IkeSaState.EXPIRED)
        elif sa.rekey_at is not None and (now >= sa.rekey_at or limit and used >= REKEY_FRACTION * limit):
            sa.rekey_at = None
            started = await self.initiate(sa.policy.name, replaces=sa.sa_id)
            self._outbox.extend(started)

    def _add_sa(self, sa):
        self.sas.add(sa)
        self.collisions.added(sa)
        self.count("sad", "createGood")

    def _drop_sa(self, sa):
        self.count("sad", "deleteGood" if self.sas.get(sa.cky_i) is sa else "deleteFailed")
        self.sas.remove(sa)
        self.collisions.forget(sa)

    def _frame(self, sa, message):
        self.count("general", "msgTx")
        self.count("network", "tx")
        return frame(sa.local, sa.peer, sa.local_port, sa.peer_port, message)

    def _flush(self):
        out, self._outbox = self._outbox, []
        for datagram in out:
            self.debug(PacketDebug, True, datagram)
        return out

    # -- views ------------------------------------------------------------------------------------------------

    def ike_sas(self):
        """Frozen snapshots of every IKE SA (negotiating ones included), by SA number."""
        return tuple(sorted((sa.snapshot() for sa in self.sas), key=lambda s: s.sa_id))

    def exchanges_of(self, sa):
        """The exchanges (objects, running or in their deletedelay) over ``sa``."""
        return [e for e in self._exchanges.values() if e.sa is sa]

    def exchanges(self):
        """Frozen snapshots of every exchange in progress or in its deletedelay."""
        now = self.clock()
        return tuple(sorted((e.snapshot(now) for e in self._exchanges.values()), key=lambda s: s.exchange_id))


def _card_failure(failure):
    """An :class:`ExchangeFailed` as is; the card's refusal (no free
    channel, R43; a failed job) as the failure of the exchange that needed it."""
    if isinstance(failure, ExchangeFailed):
        return failure
    return ExchangeFailed(f"the card could not do the exchange's cryptography: {failure}",
                          counter=("general", "msgRxDecryptNoEncoPrc"))


def _count_phase2(exchange):
    """Count a phase-2 exchange (not an informational or transaction one) on its SA, for ``phase2xchglimit``."""
    if exchange.message_id and exchange.EXCHANGE not in (ExchangeType.INFORMATIONAL, ExchangeType.TRANSACTION):
        exchange.sa.phase2_exchanges += 1
