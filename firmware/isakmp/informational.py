# Ref: RFC 2408 sections 3.14, 3.15, 4.8 and 5.14-5.15 (informational exchange, notify, delete)
# Ref: RFC 2409 section 5.7 (HASH(1) of informational exchanges), RFC 2407 sections 4.5.4, 4.6.3
# Ref: RFC 3706 sections 5-6 (DPD R-U-THERE/R-U-THERE-ACK); ../shared/spec/isakmp-commands.md R44, R52
"""Informational exchanges: protected notifies and deletes over an IKE SA,
DPD, and the few unprotected notifies acted on during phase 1.

Sending (each a new exchange of one message with a random message ID,
HDR*, HASH(1), N/D; never retransmitted, R52):

* :func:`delete_message` -- Delete of the IKE SA (protocol ISAKMP, SPI
  CKY-I | CKY-R), sent when the policy has ``senddeletes`` (R44);
* :func:`dpd_message` -- R-U-THERE with the next sequence number;
* :func:`notify_message` -- any Notification payload;
* :func:`clear_notify` -- an unprotected error notify before phase 1
  completes (NO-PROPOSAL-CHOSEN, AUTHENTICATION-FAILED), sent when the
  policy has ``sendnotify``.

Receiving: :class:`InformationalExchange` (registered in the daemon for
exchange type 5) checks the rules, decrypts, verifies HASH(1) and acts:
a Delete of an IKE SA of that peer removes it; R-U-THERE is answered with
R-U-THERE-ACK when the peer sent the DPD VID; R-U-THERE-ACK,
RESPONDER-LIFETIME and INITIAL-CONTACT are acted on; other notifies and
phase-2 deletes become events for the layers above.

:func:`unprotected_notify` takes a clear informational message: an
error notify (type below 8192) naming the cookies of a phase-1 exchange
in progress with that peer, which is waiting for a reply, fails that
exchange (what strongSwan does with NO-PROPOSAL-CHOSEN and friends);
everything else in the clear is counted and ignored (RFC 2408 section 5:
unprotected information is not trusted).
"""

import hmac

from .constants import HEADER_LENGTH, Doi, ExchangeType, NotifyType, ProtocolId
from .crypto import IkeCryptoError
from .errors import MalformedMessage, Rejection
from .exchange import Exchange, ExchangeFailed, MessageRejected
from .ike_sa import DpdAcknowledged, NotifyReceived, PeerDeleted
from .keymat import informational_hash
from .message import Header, encode_message
from .payloads import Delete, Hash, Notification, encode_chain
from .proposal import honour_lifetime
from .rules import RULES, Role, check_header, check_payloads

__all__ = ["InformationalExchange", "delete_message", "dpd_message", "notify_message", "clear_notify",
           "unprotected_notify", "act_on_phase1_notify", "ERROR_NOTIFY_LIMIT"]

#: Notify types below this are errors (RFC 2408 section 3.14.1: 1..8191).
ERROR_NOTIFY_LIMIT = 8192
_PROTECTED = RULES[(ExchangeType.INFORMATIONAL, 1, True)]
_CLEAR = RULES[(ExchangeType.INFORMATIONAL, 1, False)]
_SEQUENCE_BYTES = 4


async def notify_message(daemon, sa, payload):
    """A protected informational message (octets) carrying ``payload`` (a Notification or Delete)."""
    message_id = await daemon.new_message_id(sa)
    digest = await informational_hash(sa.crypto, sa.keys, message_id.to_bytes(4, "big"), encode_chain((payload,)))
    message = await sa.seal(ExchangeType.INFORMATIONAL, message_id, (Hash(digest), payload))
    sa.ivs.forget(message_id.to_bytes(4, "big"))
    daemon.count("info", "startXchgInitiator")
    daemon.count("info", "startInfoXchgProtected")
    return message


async def delete_message(daemon, sa):
    """The protected Delete of IKE SA ``sa``."""
    return await notify_message(daemon, sa, Delete(Doi.IPSEC, ProtocolId.ISAKMP, (sa.cookies,)))


async def dpd_message(daemon, sa):
    """A protected R-U-THERE over ``sa`` with its next sequence number."""
    sa.dpd_sequence += 1
    daemon.count("info", "txNotifyMsg")
    return await notify_message(daemon, sa, Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.R_U_THERE,
                                                         sa.cookies, sa.dpd_sequence.to_bytes(_SEQUENCE_BYTES, "big")))


def clear_notify(sa, notify_type):
    """An unprotected informational message (octets) with ``notify_type`` about ``sa``'s negotiation."""
    header = Header(sa.cky_i, sa.cky_r, ExchangeType.INFORMATIONAL)
    return encode_message(header, (Notification(Doi.IPSEC, ProtocolId.ISAKMP, notify_type, sa.cookies),))


async def act_on_phase1_notify(daemon, sa, notification):
    """Act on a notify that came protected (in MM5/MM6, AM3 or an
    informational exchange): RESPONDER-LIFETIME shortens ``sa``'s
    lifetime, INITIAL-CONTACT deletes the peer's other SAs. Returns True
    when the notify was one of those."""
    if notification.notify_type == NotifyType.RESPONDER_LIFETIME and notification.protocol == ProtocolId.ISAKMP:
        sa.transform = honour_lifetime(sa.transform, notification)
        if sa.established is not None and sa.transform.life_seconds:
            daemon.schedule_lifetime(sa)
        return True
    if notification.notify_type == NotifyType.INITIAL_CONTACT:
        for other in daemon.sas.with_peer(sa.peer):
            if other is not sa:
                await daemon.remove_sa(other, "initial contact")
        return True
    return False


class InformationalExchange(Exchange):
    """A received protected informational exchange (one message)."""
    EXCHANGE = ExchangeType.INFORMATIONAL
    RETRANSMITS = False

    def __init__(self, daemon, sa, header, now):
        super().__init__(daemon, sa, Role.RESPONDER, header.message_id, now)
        self.others = 0               # payloads beside HASH(1) and the one being acted on

    async def process(self, encrypted, datagram, now):
        daemon, sa = self.daemon, self.sa
        problem = check_header(_PROTECTED, encrypted.header)
        if problem:
            raise problem
        message_id = encrypted.header.message_id.to_bytes(4, "big")
        try:
            message = await sa.unseal(encrypted)
            problem = check_payloads(_PROTECTED, message)
            if problem:
                raise problem
            expected = await informational_hash(sa.crypto, sa.keys, message_id, encode_chain(message.payloads[1:]))
            if not hmac.compare_digest(expected, message.payloads[0].data):
                raise MessageRejected("informational HASH(1) does not verify", counter=("info", "rxMsgHashFail"))
        except IkeCryptoError as error:
            sa.ivs.forget(message_id)
            raise MalformedMessage(Rejection.BAD_PADDING_LENGTH, HEADER_LENGTH, str(error)) from None
        except MalformedMessage as problem:
            sa.ivs.forget(message_id)
            problem.decrypted = True
            raise
        except MessageRejected:
            sa.ivs.forget(message_id)
            raise
        daemon.count("info", "startXchgResponder")
        daemon.count("info", "rxMsgHashSuccess")
        sa.accept(encrypted)
        sa.ivs.forget(message_id)              # one message per exchange: its IV is never needed again
        self.others = len(message.payloads) - 2
        for payload in message.payloads[1:]:
            await self._act(payload)
        daemon.count("info", "rxMsgProcessingComplete")
        self.finish(now)
        return []

    async def _act(self, payload):
        kind = "Delete" if isinstance(payload, Delete) else "Notify"
        self.daemon.count("info", f"process{kind}")
        if payload.doi != Doi.IPSEC:
            self.daemon.count("info", f"process{kind}DoiInvalid")
        elif isinstance(payload, Delete):
            await self._delete(payload)
        else:
            await self._notify(payload)

    async def _notify(self, notification):
        daemon, sa = self.daemon, self.sa
        if await act_on_phase1_notify(daemon, sa, notification):
            return
        if notification.notify_type == NotifyType.PACSIM_HEARTBEAT:
            daemon.heartbeats.received(sa, notification, self.others)
            return
        if notification.notify_type == NotifyType.R_U_THERE and notification.spi == sa.cookies:
            if sa.peer_dpd:
                ack = Notification(Doi.IPSEC, ProtocolId.ISAKMP, NotifyType.R_U_THERE_ACK, sa.cookies,
                                   notification.data)
                daemon.send(sa, await notify_message(daemon, sa, ack))
                daemon.count("info", "txNotifyMsg")
            return
        if notification.notify_type == NotifyType.R_U_THERE_ACK and notification.spi == sa.cookies:
            daemon.emit(DpdAcknowledged(sa.snapshot(), int.from_bytes(notification.data[:_SEQUENCE_BYTES], "big")))
            return
        daemon.emit(NotifyReceived(sa.snapshot(), notification.notify_type, notification.protocol, notification.spi,
                                   notification.data))

    async def _delete(self, delete):
        daemon, sa = self.daemon, self.sa
        if delete.protocol != ProtocolId.ISAKMP:
            daemon.emit(PeerDeleted(sa.snapshot(), delete.protocol, delete.spis))
            return
        for spi in delete.spis:
            target = daemon.sas.get(spi[:8], spi[8:16])
            if target is not None and target.peer == sa.peer and target.cookies == spi:
                await daemon.remove_sa(target, "peer delete")
            else:
                daemon.count("info", "txMsgDeleteSANotFound")


async def unprotected_notify(daemon, message, datagram, now):
    """Handle a clear informational message (see the module docstring)."""
    problem = check_header(_CLEAR, message.header) or check_payloads(_CLEAR, message)
    if problem:
        daemon.count("info", "rxMsgUnexpectedPayload")
        return
    daemon.count("info", "startInfoXchgUnprotected")
    header = message.header
    exchange = daemon.exchange_for(header.initiator_cookie, 0)
    for payload in message.payloads:
        if isinstance(payload, Delete):
            daemon.count("info", "rxMsgDelPayloadUnprotect")
            continue
        if (exchange is None or not exchange.awaiting or exchange.sa.peer != datagram.src
                or payload.notify_type >= ERROR_NOTIFY_LIMIT
                or exchange.sa.cky_r not in (bytes(8), header.responder_cookie)):
            daemon.count("info", "rxMsgProcessNotifyPayloadErr")
            continue
        daemon.count("info", "rxMsgProcessNotifyPayload")
        name = NotifyType(payload.notify_type).name if payload.notify_type in NotifyType._value2member_map_ \
            else str(payload.notify_type)
        await daemon.fail(exchange, ExchangeFailed(f"the peer refused phase 1: {name}"))
        return
