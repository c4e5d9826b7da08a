# Ref: draft-ietf-ipsec-isakmp-mode-cfg-05 sections 3.2-3.3 (transaction exchange, attribute payload)
# Ref: draft-beaulieu-ike-xauth-02 section 6 (XAUTH attributes); ../shared/spec/isakmp-commands.md R78
"""The transaction exchange (ISAKMP exchange type 6): one request and its
answer over an established IKE SA, both protected::

    HDR*, HASH, ATTR(REQUEST|SET)  -->
                              <--  HDR*, HASH, ATTR(REPLY|ACK)

with HASH = prf(SKEYID_a, M-ID | ATTR) both ways (strongSwan's and
racoon's reading of mode-cfg-05 section 3.2). Both messages share the
message ID; the answer's identifier repeats the request's (a received
answer's is not checked: strongSwan answers with 0; the message ID and
HASH tie it to the request).

* :class:`CfgInitiator` (``daemon``, ``sa``, ``message_id``, ``request``
  (a :class:`~.payloads.ConfigAttributes`), ``on_answer`` (async callable
  taking the answer's ConfigAttributes), ``now``, ``on_silence`` (called
  with the SA when the exchange ends unanswered while the SA is still up:
  the retransmissions ran out)) sends the request and hands the answer to
  ``on_answer``;
* :class:`CfgResponder` is made for a received request by the factory of
  :func:`responder_factory` (``answer(sa, request)``: async, returns the
  ConfigAttributes to send back, or raises
  :class:`~.exchange.ExchangeFailed`).

What real peers send is accepted: integer attributes (XAUTH-TYPE,
XAUTH-STATUS) in TV form or TLV with any length (:func:`integer`),
strings with a trailing NUL (:func:`text`). Counters: the manual's
``transaction`` group (reqSent/reqRecv, repSent/repRecv, setSent/setRecv,
ackSent/ackRecv, hashInvalid, unexpectedCfgMessage).
"""

import hmac

from .constants import HEADER_LENGTH, ConfigType, ExchangeType
from .errors import MalformedMessage, Rejection
from .exchange import Exchange, MessageRejected
from .keymat import informational_hash
from .message import EncryptedMessage
from .payloads import Attribute, ConfigAttributes, Hash, encode_chain
from .rules import RULES, Role

__all__ = ["CfgInitiator", "CfgResponder", "responder_factory", "integer", "text", "attribute_of", "values",
           "ANSWER_OF", "SENT_COUNTER", "RECEIVED_COUNTER"]

_RULE = RULES[(ExchangeType.TRANSACTION, 1)]
#: The answer type of each request type.
ANSWER_OF = {ConfigType.ISAKMP_CFG_REQUEST: ConfigType.ISAKMP_CFG_REPLY,
             ConfigType.ISAKMP_CFG_SET: ConfigType.ISAKMP_CFG_ACK}
#: ``transaction`` counters of a sent / received message, by type.
SENT_COUNTER = {ConfigType.ISAKMP_CFG_REQUEST: "reqSent", ConfigType.ISAKMP_CFG_REPLY: "repSent",
                ConfigType.ISAKMP_CFG_SET: "setSent", ConfigType.ISAKMP_CFG_ACK: "ackSent"}
RECEIVED_COUNTER = {ConfigType.ISAKMP_CFG_REQUEST: "reqRecv", ConfigType.ISAKMP_CFG_REPLY: "repRecv",
                    ConfigType.ISAKMP_CFG_SET: "setRecv", ConfigType.ISAKMP_CFG_ACK: "ackRecv"}


def integer(attribute):
    """The unsigned value of an integer attribute, TV or TLV of any length (0 when empty)."""
    return attribute.number


def text(attribute):
    """A string attribute as text: a trailing NUL (some clients send one) dropped, bytes that are not
    UTF-8 replaced."""
    return attribute.value.rstrip(b"\0").decode("utf-8", "replace")


def attribute_of(kind, value):
    """An attribute of class ``kind``: ``value`` an int (TV when it fits 16 bits), bytes or str (TLV)."""
    if isinstance(value, int):
        return Attribute.of(kind, value)
    return Attribute(kind, value.encode() if isinstance(value, str) else bytes(value), False)


def values(payload):
    """``{attribute class: [Attribute, ...]}`` of a ConfigAttributes payload, in order."""
    found = {}
    for attribute in payload.attributes:
        found.setdefault(attribute.type, []).append(attribute)
    return found


class _Transaction(Exchange):
    """What both sides share: sealing with HASH and opening a checked message."""
    EXCHANGE = ExchangeType.TRANSACTION

    def count(self, name):
        """Increment ``transaction`` counter ``name``."""
        self.daemon.count("transaction", name)

    async def seal(self, payload):
        """The protected message (octets) carrying ``payload``."""
        sa = self.sa
        mid = self.message_id.to_bytes(4, "big")
        digest = await informational_hash(sa.crypto, sa.keys, mid, encode_chain((payload,)))
        self.count(SENT_COUNTER[ConfigType(payload.cfg_type)])
        return await sa.seal(self.EXCHANGE, self.message_id, (Hash(digest), payload))

    async def open(self, message, expected_types):
        """The ConfigAttributes of a received message whose HASH verifies and whose type is one of
        ``expected_types``; only then does the IV chain move past it."""
        if not isinstance(message, EncryptedMessage):
            raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, "a transaction exchange must be encrypted")
        opened = await self.decrypted(message, _RULE)
        sa = self.sa
        expected = await informational_hash(sa.crypto, sa.keys, self.message_id.to_bytes(4, "big"),
                                            encode_chain(opened.payloads[1:]))
        if not hmac.compare_digest(expected, opened.payloads[0].data):
            raise MessageRejected("transaction HASH does not verify", counter=("transaction", "hashInvalid"))
        payload = opened.first(ConfigAttributes)
        if payload.cfg_type not in RECEIVED_COUNTER:
            raise MalformedMessage(Rejection.PAYLOAD_MALFORMED, HEADER_LENGTH,
                                   f"attribute payload type {payload.cfg_type} unknown", ConfigAttributes.TYPE)
        self.count(RECEIVED_COUNTER[ConfigType(payload.cfg_type)])
        if payload.cfg_type not in expected_types:
            self.count("unexpectedCfgMessage")
            raise MessageRejected(f"attribute payload type {payload.cfg_type} is not one of {expected_types}")
        sa.accept(message)
        return payload


class CfgInitiator(_Transaction):
    """Sends a REQUEST or SET and takes its REPLY or ACK (see the module docstring)."""

    def __init__(self, daemon, sa, message_id, request, on_answer, now, on_silence=None):
        super().__init__(daemon, sa, Role.INITIATOR, message_id, now)
        self.request, self.on_answer, self.on_silence = request, on_answer, on_silence

    def abandoned(self):
        if not self.done and self.sa.state.usable and self.on_silence is not None:
            self.on_silence(self.sa)

    async def start(self, now):
        message = await self.seal(self.request)
        self.transmitted(message, now)
        return message

    async def process(self, message, datagram, now):
        if self.done:
            raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, "the transaction is complete")
        answer = await self.open(message, (ANSWER_OF[ConfigType(self.request.cfg_type)],))
        self.finish(now)
        await self.on_answer(answer)
        return []


class CfgResponder(_Transaction):
    """Answers a received REQUEST or SET (made by :func:`responder_factory`)."""
    RETRANSMITS = False

    def __init__(self, daemon, sa, header, answer, now):
        super().__init__(daemon, sa, Role.RESPONDER, header.message_id, now)
        self.answer = answer

    async def process(self, message, datagram, now):
        if self.done:
            raise MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, "the transaction is complete")
        request = await self.open(message, tuple(ANSWER_OF))
        reply = await self.seal(await self.answer(self.sa, request))
        self.transmitted(reply, now, expect_reply=False)
        self.finish(now)
        return [reply]


def responder_factory(answer):
    """The daemon's factory of :class:`CfgResponder` (``register_exchange``) answering with ``answer``."""
    def factory(daemon, sa, header, now):
        return CfgResponder(daemon, sa, header, answer, now)
    return factory
