# Ref: draft-ietf-ipsec-isakmp-xauth-06 sections 2-6 (XAUTH over the transaction exchange)
# Ref: ../shared/spec/isakmp-commands.md R18, R60, R78-R83; draft-ietf-ipsec-isakmp-mode-cfg-05 section 3.4
"""XAUTH (phase 1.5) as server and client, and mode config, on the daemon.

:class:`XauthService` (``daemon``, ``users``, ``radius``, ``pool``,
``radius_exchange``) is the daemon's ``phase1_5``:

* **Server** (``xauth=server``, R79: "the router initiates the XAUTH
  exchange"). Once phase 1 is up, a REQUEST (XAUTH-TYPE generic, empty
  XAUTH-USER-NAME and XAUTH-USER-PASSWORD) goes to the client; the REPLY's
  name and password are checked against the User Authentication Facility
  (``xauthtype=generic``: :meth:`~..users.database.UserDatabase.authenticate`)
  or the RADIUS servers (``xauthtype=radius``: :mod:`..users.radius`, MD5
  on the card); a SET with XAUTH-STATUS OK (1) or FAIL (0) follows and
  the client's ACK ends it. A client that never answers (the exchange's
  retransmissions run out) fails XAUTH the same way. A failure deletes the IKE SA and is a phase-1
  failure (:class:`~.ike_sa.Phase1Failed`): counted ``authFailed``, never
  retried (R60), the held packets dropped. A client's REQUEST for mode
  config (after XAUTH) gets a REPLY with an address of the pool
  (:mod:`.mode_config`), its DNS servers and subnets.
* **Client** (``xauth=client``): answers the server's REQUEST with
  ``xauthname``/``xauthpasswd`` (no credentials: an empty answer, which
  fails), ACKs its SET; on OK it asks for mode config (REQUEST) and
  records the REPLY (:attr:`received`, ``show isakmp modeconfig``); on
  FAIL it records the failure and deletes the SA, not retried.
* Quick mode waits for XAUTH (R18): :meth:`pending` is true for an SA of a
  policy with XAUTH until it passed; the key manager starts no quick mode
  over it and the daemon refuses the peer's QM1 over it.

Robust to what real clients send: integer attributes in TV or TLV form of
any length, a trailing NUL on the name and password, unknown attributes
(ignored, counted ``unsupportedAttribute``). XAUTH-TYPE other than
generic (0) is refused (FAIL). Events: :class:`XauthDone` (``sa``
snapshot, ``user``, ``accepted``, ``detail``) in :attr:`results` and the
daemon's events; the outcome also goes to the ISAKMP debug trace;
:meth:`XauthService.sa_status` gives it per SA for ``show isakmp sa=N``.
"""

from collections import deque
from dataclasses import dataclass

from .constants import ConfigAttribute as A, ConfigType, ExchangeType
from .crypto import IkeCrypto, IkeHash
from .debug import TraceDebug
from .exchange import ExchangeFailed
from .ike_sa import IkeSaDeleted, Phase1Established, Phase1Failed
from .mode_config import SUPPORTED, received_config, reply_attributes, request_attributes
from .payloads import ConfigAttributes
from .transaction import CfgInitiator, attribute_of, integer, responder_factory, text, values
from ..users.radius import authenticate as radius_authenticate, udp_exchange

__all__ = ["XauthService", "XauthDone", "XauthSaStatus", "XAUTH_GENERIC", "STATUS_OK", "STATUS_FAIL"]

XAUTH_GENERIC = 0
STATUS_FAIL, STATUS_OK = 0, 1
_XAUTH_ATTRIBUTES = frozenset(range(A.XAUTH_TYPE, A.XAUTH_ANSWER + 1))


@dataclass(frozen=True)
class XauthDone:
    """XAUTH ended over ``sa`` (snapshot): ``user`` (name), ``accepted``, ``detail`` (a sentence)."""
    sa: object
    user: str
    accepted: bool
    detail: str


@dataclass(frozen=True)
class XauthSaStatus:
    """XAUTH over one IKE SA as ``show isakmp sa=N`` shows it: ``finished``
    (an outcome was reached), ``passed`` (the outcome was OK)."""
    finished: bool
    passed: bool


class XauthService:
    """See the module docstring. ``users``: the UserDatabase; ``radius``: the
    RadiusServers; ``pool``: the ModeConfigPool; ``radius_exchange``: the
    RADIUS transport (``udp_exchange`` by default)."""

    def __init__(self, daemon, users, radius, pool, radius_exchange=udp_exchange):
        self.daemon, self.users, self.radius, self.pool = daemon, users, radius, pool
        self.radius_exchange = radius_exchange
        self.passed = set()           # CKY-I of SAs whose XAUTH passed
        self.received = {}            # policy name -> ModeConfigReceived (client)
        self.results = deque(maxlen=64)
        self._start = deque()         # SAs to start XAUTH (server) or mode config (client) over
        self._remove = deque()        # SAs to delete after a failure
        daemon.register_exchange(ExchangeType.TRANSACTION, responder_factory(self.answer))
        daemon.subscribe(self._event)
        daemon.phase1_5 = self

    # -- what the daemon and the key manager ask ----------------------------------------------------

    def sa_status(self, cky_i: bytes) -> XauthSaStatus:
        """XAUTH over the IKE SA with initiator cookie ``cky_i`` (8 octets)."""
        passed = cky_i in self.passed
        return XauthSaStatus(passed or any(done.sa.cky_i == cky_i for done in self.results), passed)

    def pending(self, sa):
        """Whether ``sa`` waits for XAUTH (its policy has XAUTH and it has not passed)."""
        return sa.policy.xauth != "none" and sa.cky_i not in self.passed

    async def follow(self):
        """Start what phase 1 (or a finished XAUTH) calls for and delete failed SAs; returns the datagrams."""
        out = []
        while self._remove:
            sa = self._remove.popleft()
            if sa.state.usable:
                out += await self.daemon.delete_sa(sa, "xauth failed")
        while self._start:
            sa, request, on_answer = self._start.popleft()
            if not sa.state.usable:
                continue
            message_id = await self.daemon.new_message_id(sa)
            payload = ConfigAttributes(request[0], (await self.daemon.device.random(2))[0], request[1])
            exchange = CfgInitiator(self.daemon, sa, message_id, payload, on_answer, self.daemon.clock(),
                                    self._silent)
            out += await self.daemon.start_exchange(exchange)
        return out

    def _event(self, event):
        if isinstance(event, Phase1Established):
            sa = self.daemon.sas.get(event.sa.cky_i)
            if sa is not None and sa.policy.xauth == "server":
                self._queue(sa, ConfigType.ISAKMP_CFG_REQUEST,
                            (attribute_of(A.XAUTH_TYPE, XAUTH_GENERIC), attribute_of(A.XAUTH_USER_NAME, b""),
                             attribute_of(A.XAUTH_USER_PASSWORD, b"")), self._credentials)
        elif isinstance(event, IkeSaDeleted):
            self.passed.discard(event.sa.cky_i)
            self.pool.release(event.sa.cky_i)

    def _queue(self, sa, cfg_type, attributes, handler):
        async def on_answer(answer):
            await handler(sa, answer)
        self._start.append((sa, (cfg_type, attributes), on_answer))

    # -- server -------------------------------------------------------------------------------------

    async def _credentials(self, sa, reply):
        """The client's REPLY to our REQUEST: check, then SET the status."""
        found = values(reply)
        self._count_unsupported(found)
        name = text(found[A.XAUTH_USER_NAME][0]) if A.XAUTH_USER_NAME in found else ""
        password = text(found[A.XAUTH_USER_PASSWORD][0]) if A.XAUTH_USER_PASSWORD in found else ""
        kind = integer(found[A.XAUTH_TYPE][0]) if A.XAUTH_TYPE in found else XAUTH_GENERIC
        if kind != XAUTH_GENERIC:
            accepted, detail = False, f"XAUTH-TYPE {kind} is not supported (generic only)"
        elif not name:
            accepted, detail = False, "the client sent no user name"
        else:
            accepted, detail = await self._check(sa, name, password)
        self.daemon.count("transaction", "authGood" if accepted else "authFailed")
        self._record(sa, name, accepted, detail)
        status = STATUS_OK if accepted else STATUS_FAIL
        self._queue(sa, ConfigType.ISAKMP_CFG_SET, (attribute_of(A.XAUTH_STATUS, status),),
                    self._acknowledged(accepted))

    async def _check(self, sa, name, password):
        if sa.policy.xauthtype == "generic":
            user = self.users.authenticate(name, password)
            return user is not None, f"user {name} {'authenticated' if user else 'refused'} by the UAF"
        crypto = IkeCrypto(self.daemon.device)
        try:
            outcome = await radius_authenticate(self.radius, name, password,
                                                lambda data: crypto.hash(IkeHash.MD5, data),
                                                self.daemon.device.random, self.radius_exchange, sa.local)
        finally:
            await crypto.close()
        return outcome.accepted, f"user {name}: {outcome.detail}"

    def _acknowledged(self, accepted):
        async def ack(sa, answer):
            if accepted:
                self.passed.add(sa.cky_i)
            else:
                self._fail(sa, "XAUTH refused the client's credentials")
        return ack

    async def answer(self, sa, request):
        """Answer a received REQUEST or SET over ``sa`` (the :class:`~.transaction.CfgResponder`'s hook)."""
        found = values(request)
        if request.cfg_type == ConfigType.ISAKMP_CFG_SET and A.XAUTH_STATUS in found:
            return await self._status(sa, request, integer(found[A.XAUTH_STATUS][0]))
        if request.cfg_type == ConfigType.ISAKMP_CFG_REQUEST and found.keys() & _XAUTH_ATTRIBUTES:
            return self._offer_credentials(sa, request, found)
        if request.cfg_type == ConfigType.ISAKMP_CFG_REQUEST and sa.policy.xauth == "server":
            if self.pending(sa):
                raise ExchangeFailed("mode config asked for before XAUTH passed",
                                     counter=("transaction", "unexpectedMessage"))
            self._count_unsupported(found, SUPPORTED + (A.SUPPORTED_ATTRIBUTES,))
            address = self.pool.lease(sa.cky_i, sa.peer)
            return ConfigAttributes(ConfigType.ISAKMP_CFG_REPLY, request.identifier,
                                    reply_attributes(self.pool, tuple(found), address))
        raise ExchangeFailed("a transaction this router's policy does not take part in",
                             counter=("transaction", "unexpectedCfgMessage"))

    # -- client -------------------------------------------------------------------------------------

    def _offer_credentials(self, sa, request, found):
        policy = sa.policy
        if policy.xauth != "client" or sa.cky_i in self.passed:
            raise ExchangeFailed("an XAUTH request to a router that is no XAUTH client",
                                 counter=("transaction", "unexpectedAttributes"))
        self._count_unsupported(found)
        attributes = []
        if A.XAUTH_TYPE in found:
            attributes.append(attribute_of(A.XAUTH_TYPE, integer(found[A.XAUTH_TYPE][0])))
        attributes += [attribute_of(A.XAUTH_USER_NAME, policy.xauthname or ""),
                       attribute_of(A.XAUTH_USER_PASSWORD, policy.xauthpasswd or "")]
        return ConfigAttributes(ConfigType.ISAKMP_CFG_REPLY, request.identifier, tuple(attributes))

    async def _status(self, sa, request, status):
        if sa.policy.xauth != "client":
            raise ExchangeFailed("an XAUTH status to a router that is no XAUTH client",
                                 counter=("transaction", "unexpectedAttributes"))
        accepted = status == STATUS_OK
        self._record(sa, sa.policy.xauthname or "", accepted,
                     "the server accepted our credentials" if accepted else "the server refused our credentials")
        if accepted:
            self.passed.add(sa.cky_i)
            self._queue(sa, ConfigType.ISAKMP_CFG_REQUEST, request_attributes(), self._configured)
        else:
            self.daemon.count("transaction", "authFailed")
            self._fail(sa, "the XAUTH server refused our credentials")
        return ConfigAttributes(ConfigType.ISAKMP_CFG_ACK, request.identifier,
                                (attribute_of(A.XAUTH_STATUS, status),))

    async def _configured(self, sa, reply):
        config, skipped = received_config(sa.peer, sa.policy.name, reply.attributes)
        for _ in range(skipped):
            self.daemon.count("transaction", "unsupportedAttribute")
        self.received[sa.policy.name] = config

    # -- shared -------------------------------------------------------------------------------------

    def _silent(self, sa):
        """A request of ours went unanswered (retransmissions exhausted): XAUTH failed (R60: no retry)."""
        if self.pending(sa):
            self._record(sa, "", False, "the peer did not answer the XAUTH exchange")
            self._fail(sa, "the peer did not answer the XAUTH exchange")

    def _count_unsupported(self, found, known=_XAUTH_ATTRIBUTES):
        for kind, attributes in found.items():
            if kind not in known:
                for _ in attributes:
                    self.daemon.count("transaction", "unsupportedAttribute")

    def _record(self, sa, user, accepted, detail):
        done = XauthDone(sa.snapshot(), user, accepted, detail)
        self.daemon.debug(TraceDebug, f"XAUTH over IKE SA {sa.sa_id} with {sa.peer}: "
                                      f"{'passed' if accepted else 'failed'}: {detail}")
        self.results.append(done)
        self.daemon.emit(done)

    def _fail(self, sa, detail):
        """XAUTH failed over ``sa``: a phase-1 failure, the SA deleted at the next :meth:`follow` (R60: no retry)."""
        self._remove.append(sa)
        self.daemon.emit(Phase1Failed(sa.policy.name, sa.peer, detail))
