# Ref: RFC 2409 section 5.5 (quick mode), appendix B (phase-2 IVs); RFC 2407 sections 4.4-4.6 (IPsec DOI)
# Ref: RFC 3947 section 5.1 (UDP-encapsulated modes); ../shared/spec/isakmp-commands.md R12-R24, R38
"""Quick mode, both sides, over an established IKE SA.

::

    Initiator                                   Responder
    QM1  HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]  -->
                              <--  QM2  HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)]
    QM3  HDR*, HASH(3)                                -->
                              <--  QM4  HDR*, HASH(4), N(CONNECTED)   (commit bit only: :mod:`.commit`)

HASH(1) = prf(SKEYID_a, M-ID | everything after HASH), HASH(2) =
prf(SKEYID_a, M-ID | Ni_b | everything after HASH), HASH(3) =
prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). KE is there when the IPsec
policy has ``usepfskey`` (the group is the policy's GROup); the IDs when
the traffic is not host to host (see :mod:`.phase2_proposal`).

The IPsec side is the ``host`` (a :class:`~.keying.IsakmpKeying`): the
initiator is made with a :class:`Phase2Request` (the policy's offer); the
responder asks ``host.responder_offer(sa, idci, idcr)`` for the policy
that covers the peer's IDs (None: ``respAcquireNoPolicy``, INVALID-ID-
INFORMATION). Both take inbound SPIs from ``await host.spis(protocols)``
(released with ``host.release(spis)`` when the exchange fails) and hand
the result, a :class:`Phase2Outcome` (SA pairs with KEYMAT for each
direction), to ``await host.installed(outcome)``: the initiator on QM2,
before it sends QM3, the responder on a verified QM3; with the commit
bit (``setcommitbit``, :mod:`.commit`) the initiator waits for QM4
(CONNECTED) before it installs.

Received messages are checked (rules, decryption, HASH) before anything
changes; a HASH that does not verify is dropped and counted
(MessageRejected) and the exchange waits on, as in phase 1.
"""

import hmac
from dataclasses import dataclass, replace

from ..ipsec.sad import KeyMaterial, LifetimeLimits, Role as SadRole, SaPairSpec
from ..ipsec.transforms import Protocol
from .constants import HEADER_LENGTH, ExchangeType, LifeType, NotifyType, Phase2Attribute
from .commit import check_connected, commit_flags, commit_requested, connected_message
from .crypto import InvalidPublicValue, group_of
from .errors import MalformedMessage, Rejection
from .exchange import Exchange, ExchangeFailed, MessageRejected
from .keymat import keymat, quick_hash1, quick_hash2, quick_hash3
from .message import EncryptedMessage
from .nat_oa import nat_oa_payloads, peer_original, wants_nat_oa
from .payloads import (Hash, Identification, KeyExchange, Nonce, Notification, SecurityAssociation, decode_attributes,
                       encode_chain)
from .phase1 import NONCE_BYTES, body
from .phase2_proposal import (PROTOCOL_IDS, accept_answer, answer, auth_key_bytes, choose, cipher_key, id_bounds,
                              keymat_bytes, lifetime_notify, offer, spi_bytes)
from .rules import RULES, Role

__all__ = ["Phase2Request", "Phase2Outcome", "QuickModeInitiator", "QuickModeResponder", "quick_mode_factory"]


@dataclass(frozen=True)
class Phase2Request:
    """What to negotiate for an IPsec policy: ``policy`` (its
    :class:`~..ipsec.spd.IpsecPolicy`), ``alternatives`` (tuple of
    alternatives, each a tuple of pairs, each a tuple of SA specifications
    in OR order), ``life_seconds``/``life_kbytes`` (the bundle
    specification's expiry), ``group`` (PFS group or None), ``ids``
    ((IDci, IDcr) payloads or (None, None)), ``udp`` (UDP-encapsulated
    modes: a NAT is on the path; None for a responder: as the peer offers)."""
    policy: object
    alternatives: tuple
    life_seconds: int | None
    life_kbytes: int | None
    group: int | None
    ids: tuple = (None, None)
    udp: bool | None = False


@dataclass(frozen=True)
class Phase2Outcome:
    """A negotiated SA bundle: ``policy_name``, ``role`` (the SAD's
    INITIATOR or RESPONDER), ``pairs`` (:class:`~..ipsec.sad.SaPairSpec`
    in bundle order, keys both ways), ``limits``
    (:class:`~..ipsec.sad.LifetimeLimits`), ``peer`` (address), ``udp``
    (ESP in UDP), ``nonces`` (Ni_b, Nr_b), ``ike_sa`` (the IKE SA's
    number), ``message_id`` and ``nat_oa`` (the peer's original addresses
    from its NAT-OA payloads, UDP-encapsulated transport mode; else None)."""
    policy_name: str
    role: SadRole
    pairs: tuple
    limits: LifetimeLimits
    peer: object
    udp: bool
    nonces: tuple
    ike_sa: int
    message_id: int
    nat_oa: object = None


class _QuickMode(Exchange):
    """What both sides share (arguments: ``daemon``, ``sa``, ``host``, ``message_id``, ``now``)."""
    EXCHANGE = ExchangeType.QUICK
    ROLE = None
    GROUP = None

    def __init__(self, daemon, sa, host, message_id, now):
        super().__init__(daemon, sa, self.ROLE, message_id, now)
        self.host = host
        self.request = None
        self.spis = {}
        self.ni = self.nr = self.private = None
        self.choice = None
        self.gxy = b""
        self.nat_oa = None
        self.expected = 1
        self.msg_id = message_id.to_bytes(4, "big")
        self.commit = False           # the commit bit is in force (:mod:`.commit`)
        self.pending = None           # initiator with the commit bit: the outcome installed on QM4

    def state_name(self):
        if self.done:
            return "DELETEDELAY"
        return {1: "IDLE", 2: "QM1SENT", 3: "QM2SENT", 4: "QM3SENT"}.get(self.expected, "IDLE")

    def count(self, name):
        """Increment counter ``name`` of this side's quick-mode group."""
        self.daemon.count(self.GROUP, name)

    async def opened(self, encrypted, number):
        """Message ``number`` decrypted and checked, the IV chain not moved yet."""
        if not isinstance(encrypted, EncryptedMessage):
            raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, f"QM{number} must be encrypted")
        return await self.decrypted(encrypted, RULES[(ExchangeType.QUICK, number)])

    def abandoned(self):
        """Give back the SPIs no bundle took up and tell the host (initiator: no bundle came)."""
        if self.done:
            return
        if self.spis:
            self.host.release(self.spis)
            self.spis = {}
        if self.role is Role.INITIATOR:
            self.host.failed(self.request)

    async def _keying(self, group):
        """Our nonce and, with PFS, DH key pair; returns the payloads to send after the SA."""
        crypto = self.sa.crypto
        nonce = await crypto.nonce(NONCE_BYTES)
        payloads = [Nonce(nonce)]
        if group is not None:          # group 0 (the manual's MODP512) is PFS too
            self.private, public = await crypto.dh_keypair(group)
            payloads.append(KeyExchange(crypto.public_bytes(group, public)))
        return nonce, payloads

    async def _shared(self, group, message):
        """g(qm)^xy from the peer's KE with PFS (b"" without); MalformedMessage for a missing or bad KE."""
        ke = message.first(KeyExchange)
        if group is None:
            if ke is not None:
                raise MalformedMessage(Rejection.UNEXPECTED_PAYLOAD, HEADER_LENGTH, "KE without PFS", KeyExchange.TYPE)
            return b""
        if ke is None or len(ke.data) != (group_of(group).bits + 7) // 8:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH, "PFS needs a KE of the group", KeyExchange.TYPE)
        try:
            return await self.sa.crypto.dh_shared(group, self.private, ke.data)
        except InvalidPublicValue as error:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH, str(error), KeyExchange.TYPE) from None

    async def outcome(self, role):
        """The negotiated :class:`Phase2Outcome` (KEYMAT for both directions of each pair)."""
        sa, choice, request = self.sa, self.choice, self.request
        pairs = []
        for chosen in choice.pairs:
            spec = chosen.spec
            protocol = spec.protocol
            inbound = self.spis[protocol]
            outbound = int.from_bytes(chosen.peer_spi, "big")
            length = keymat_bytes(spec)
            keys = []
            for spi in (spi_bytes(protocol, inbound), chosen.peer_spi):       # IPComp (no KEYMAT): 2-octet CPIs
                material = b""
                if length:
                    material = await keymat(sa.crypto, sa.keys, protocol=PROTOCOL_IDS[protocol], spi=spi,
                                            ni=self.ni, nr=self.nr, length=length, gxy_qm=self.gxy)
                split = length - auth_key_bytes(spec)
                keys.append(KeyMaterial(cipher_key(spec, material[:split]), material[split:]))
            pairs.append(SaPairSpec(spec.id, protocol, spec.mode, outbound, inbound, spec.encalg, spec.hashalg,
                                    spec.compalg, keys[1], keys[0], antireplay=protocol is not Protocol.IPCOMP,
                                    replay_window=spec.replaywindowsize))
        limits = LifetimeLimits(choice.life_kbytes, choice.life_seconds)
        udp = choice.pairs[0].transform.udp
        return Phase2Outcome(request.policy.name, role, tuple(pairs), limits, sa.peer, udp, (self.ni, self.nr),
                             sa.sa_id, self.message_id, self.nat_oa)

    async def _verify(self, expected, message, counter):
        received = message.payloads[0].data
        if not hmac.compare_digest(received, expected):
            raise MessageRejected("quick-mode HASH does not verify", NotifyType.INVALID_HASH_INFORMATION, counter)


class QuickModeInitiator(_QuickMode):
    """The initiator (arguments: ``daemon``, ``sa``, ``host``, ``request``
    (:class:`Phase2Request`), ``message_id`` (random, not zero), ``now``)."""
    ROLE = Role.INITIATOR
    GROUP = "quick.initiator"

    def __init__(self, daemon, sa, host, request, message_id, now):
        super().__init__(daemon, sa, host, message_id, now)
        self.request = request

    async def start(self, now):
        request = self.request
        self.spis = await self.host.spis({p[0].protocol for a in request.alternatives for p in a})
        proposal = offer(request.alternatives, self.spis, request.udp, request.group, request.life_seconds,
                         request.life_kbytes)
        self.ni, keying = await self._keying(request.group)
        ids = [i for i in request.ids if i is not None]
        modes = (spec.mode for alternative in request.alternatives for pair in alternative for spec in pair)
        nat_oa = nat_oa_payloads(self.sa, True) if wants_nat_oa(request.udp, modes) else ()
        after = (proposal, *keying, *ids, *nat_oa)
        digest = await quick_hash1(self.sa.crypto, self.sa.keys, self.msg_id, encode_chain(after))
        self.count("startExchange")
        self.count("hashSaNonceSent")
        self.expected = 2
        self.commit = self.commit_sent = self.sa.policy.setcommitbit
        message = await self.sa.seal(self.EXCHANGE, self.message_id, (Hash(digest), *after), commit_flags(self.commit))
        self.transmitted(message, now)
        return message

    async def process(self, message, datagram, now):
        if self.expected == 4:
            return await self._connected(message, now)
        if self.expected != 2:
            raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, "quick mode expects no more messages")
        opened = await self.opened(message, 2)
        self.count("hashSaNonceReceived")
        expected = await quick_hash2(self.sa.crypto, self.sa.keys, self.msg_id, self.ni,
                                     encode_chain(opened.payloads[1:]))
        await self._verify(expected, opened, (self.GROUP + ".errors", "initHash2Fail"))
        request = self.request
        choice = accept_answer(opened.first(SecurityAssociation), request.alternatives, request.udp, request.group,
                               request.life_seconds, request.life_kbytes)
        if choice is None:
            raise ExchangeFailed("QM2 chose what was not offered", NotifyType.NO_PROPOSAL_CHOSEN,
                                 (self.GROUP + ".hashSaNonce", "saNoMatch"))
        ids = tuple(opened.find(Identification))
        if tuple(body(i) for i in ids) != tuple(body(i) for i in request.ids if i is not None):
            raise ExchangeFailed("QM2 IDs differ from ours", NotifyType.INVALID_ID_INFORMATION,
                                 (self.GROUP + ".hashSaNonce", "idciBad"))
        self.gxy = await self._shared(request.group, opened)
        self.nat_oa = peer_original(opened, peer_is_initiator=False)
        self.nr = opened.first(Nonce).data
        self.choice = _with_responder_lifetime(choice, opened)
        self.sa.accept(message)
        self.count("hashSaNonceRcvdGood")
        self.commit = self.commit_received = commit_requested(message)
        self.commit_sent = self.commit_sent or self.commit
        self.pending = await self.outcome(SadRole.INITIATOR)
        if not self.commit:
            await self.host.installed(self.pending)
        digest = await quick_hash3(self.sa.crypto, self.sa.keys, self.msg_id, self.ni, self.nr)
        reply = await self.sa.seal(self.EXCHANGE, self.message_id, (Hash(digest),), commit_flags(self.commit))
        self.count("hashSent")
        if self.commit:                      # the bundle waits for the responder's CONNECTED (QM4)
            self.expected = 4
            self.transmitted(reply, now)
            return [reply]
        self.count("exchangeGood")
        self.transmitted(reply, now, expect_reply=False)
        self.finish(now)
        return [reply]

    async def _connected(self, message, now):
        """QM4 (commit bit): verify the CONNECTED notify, then install the bundle."""
        opened = await self.opened(message, 4)
        self.count("connectedReceived")
        await check_connected(self, opened)
        self.sa.accept(message)
        self.count("connectedReceivedGood")
        await self.host.installed(self.pending)
        self.count("exchangeGood")
        self.finish(now)
        return []


def _with_responder_lifetime(choice, message):
    """``choice`` with the shorter lifetimes of the responder's RESPONDER-LIFETIME notifies."""
    seconds, kbytes = choice.life_seconds, choice.life_kbytes
    for notification in message.find(Notification):
        if notification.notify_type != NotifyType.RESPONDER_LIFETIME:
            continue
        life_type = None
        for attribute in decode_attributes(notification.data, 0):
            if attribute.type == Phase2Attribute.SA_LIFE_TYPE:
                life_type = attribute.number
            elif attribute.type == Phase2Attribute.SA_LIFE_DURATION and life_type == LifeType.SECONDS:
                seconds = min(seconds or attribute.number, attribute.number)
            elif attribute.type == Phase2Attribute.SA_LIFE_DURATION and life_type == LifeType.KILOBYTES:
                kbytes = min(kbytes or attribute.number, attribute.number)
    return replace(choice, life_seconds=seconds, life_kbytes=kbytes)


class QuickModeResponder(_QuickMode):
    """The responder (made by :func:`quick_mode_factory` for a received QM1)."""
    ROLE = Role.RESPONDER
    GROUP = "quick.responder"

    async def process(self, message, datagram, now):
        if self.expected == 1:
            return await self._qm1(message, now)
        if self.expected == 3:
            return await self._qm3(message, now)
        raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, "quick mode expects no more messages")

    async def _qm1(self, message, now):
        opened = await self.opened(message, 1)
        sa = self.sa
        self.count("hashSaNonceReceived")
        expected = await quick_hash1(sa.crypto, sa.keys, self.msg_id, encode_chain(opened.payloads[1:]))
        await self._verify(expected, opened, (self.GROUP + ".errors", "respHash1Fail"))
        ids = tuple(opened.find(Identification))
        if len(ids) == 1 or any(id_bounds(i) is None for i in ids):
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH, "QM1 needs both IDs or none of address type",
                                   Identification.TYPE)
        request = self.host.responder_offer(sa, *(ids or (None, None)))
        if request is None:
            raise ExchangeFailed("no IPsec policy covers the peer's traffic", NotifyType.INVALID_ID_INFORMATION,
                                 (self.GROUP + ".errors", "respAcquireNoPolicy"))
        choice = choose(opened.first(SecurityAssociation), request.alternatives, request.udp, request.group,
                        request.life_seconds, request.life_kbytes)
        if choice is None:
            raise ExchangeFailed("no proposal of QM1 matches the policy", NotifyType.NO_PROPOSAL_CHOSEN,
                                 (self.GROUP + ".errors", "respRemotePropNoMatch"))
        self.request, self.choice = request, choice
        self.ni = opened.first(Nonce).data
        self.nr, keying = await self._keying(request.group)
        self.gxy = await self._shared(request.group, opened)
        self.nat_oa = peer_original(opened, peer_is_initiator=True)
        sa.accept(message)
        self.spis = await self.host.spis({p.spec.protocol for p in choice.pairs})
        notifies = [lifetime_notify(choice, choice.pairs[0])] if choice.notify else []
        chosen = choice.pairs[0]
        nat_oa = nat_oa_payloads(sa, False) if wants_nat_oa(chosen.transform.udp, (chosen.spec.mode,)) else ()
        after = (answer(opened.first(SecurityAssociation), choice, self.spis), *keying, *ids, *nat_oa, *notifies)
        digest = await quick_hash2(sa.crypto, sa.keys, self.msg_id, self.ni, encode_chain(after))
        self.commit_received = commit_requested(message)
        self.commit = self.commit_sent = sa.policy.setcommitbit or self.commit_received
        reply = await sa.seal(self.EXCHANGE, self.message_id, (Hash(digest), *after), commit_flags(self.commit))
        self.count("startExchange")
        self.count("hashSaNonceRcvdGood")
        self.count("hashSaNonceSent")
        self.expected = 3
        self.transmitted(reply, now)
        return [reply]

    async def _qm3(self, message, now):
        opened = await self.opened(message, 3)
        self.count("hashReceived")
        expected = await quick_hash3(self.sa.crypto, self.sa.keys, self.msg_id, self.ni, self.nr)
        await self._verify(expected, opened, (self.GROUP + ".errors", "respHash3Fail"))
        self.sa.accept(message)
        self.count("hashReceivedGood")
        await self.host.installed(await self.outcome(SadRole.RESPONDER))
        self.count("exchangeGood")
        if not self.commit:
            self.finish(now)
            return []
        connected = await connected_message(self)         # QM4: the initiator may use the bundle now
        self.transmitted(connected, now, expect_reply=False)
        self.connected_sent = True
        self.finish(now)
        return [connected]


def quick_mode_factory(host):
    """The daemon's factory of responders for received QM1s (``register_exchange``)."""
    def factory(daemon, sa, header, now):
        return QuickModeResponder(daemon, sa, host, header.message_id, now)
    return factory
