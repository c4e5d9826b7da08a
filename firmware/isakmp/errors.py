# Ref: RFC 2408 section 5 (ISAKMP payload processing) and section 3.14.1
# Ref: RFC 2409 section 5 (the exchanges' required payloads)
"""Why an ISAKMP message is dropped: one reason enum, one exception family.

Every check of the codec (:mod:`.message`, :mod:`.payloads`) and of the
per-exchange rules (:mod:`.rules`) names a :class:`Rejection`. Each reason
carries the RFC 2408 notify message type it warrants
(:data:`REJECTION_NOTIFY`); whether that notify is actually sent (never
unprotected in response to an unauthenticated message, RFC 2408 section 5)
is the exchange's decision. The counters each reason increments are in
:mod:`.counters`.

Exceptions:

* :class:`IsakmpError` -- base of this layer's errors.
* :class:`MalformedMessage` -- bytes that do not decode (codec) or a
  message that breaks its exchange's payload rules; ``reason`` is a
  :class:`Rejection`, ``offset`` the byte offset in the datagram (or in the
  decrypted body) where the fault was found, ``detail`` a sentence.
* :class:`EncodingError` -- a message the caller built cannot be encoded
  (a field out of range); a programming error on our side.
"""

from enum import Enum

from .constants import NotifyType

__all__ = ["Rejection", "REJECTION_NOTIFY", "IsakmpError", "MalformedMessage", "EncodingError"]


class Rejection(Enum):
    """A typed reason for dropping a received ISAKMP message."""
    # header and datagram
    SHORT_DATAGRAM = "shorter than the 28-octet ISAKMP header"
    LENGTH_MISMATCH = "header length differs from the datagram length"
    INVALID_MAJOR_VERSION = "major version is not 1"
    INVALID_MINOR_VERSION = "minor version is not 0"
    INVALID_EXCHANGE_TYPE = "unknown exchange type"
    INVALID_FLAGS = "reserved flag bits set"
    INVALID_COOKIE = "cookie zero where it must be set, or set where it must be zero"
    INVALID_MESSAGE_ID = "message ID zero where it must be set, or set where it must be zero"
    # payload chain
    INVALID_PAYLOAD_TYPE = "unknown or misplaced payload type"
    RESERVED_NOT_ZERO = "reserved field not zero"
    PAYLOAD_LENGTH = "payload length shorter than its header or beyond the message"
    PAYLOAD_MALFORMED = "payload fields inconsistent with its length"
    BAD_PADDING_LENGTH = "decrypted body not a whole number of cipher blocks, or padding too long"
    # per-exchange rules
    ENCRYPTED_UNEXPECTED = "encrypted where the exchange sends it in the clear"
    PLAIN_UNEXPECTED = "in the clear where the exchange requires encryption"
    UNEXPECTED_PAYLOAD = "payload not allowed in this message"
    MISSING_PAYLOAD = "required payload absent"
    REPEATED_PAYLOAD = "payload present more often than allowed"
    HASH_NOT_FIRST = "HASH payload not the first payload"
    SA_NOT_FIRST = "SA payload not the first payload"
    DOI_NOT_SUPPORTED = "domain of interpretation is not IPsec"
    SITUATION_NOT_SUPPORTED = "situation is not SIT_IDENTITY_ONLY"
    INVALID_PROTOCOL_ID = "proposal protocol not allowed in this exchange"
    NONCE_LENGTH = "nonce shorter than 8 or longer than 256 octets"
    MORE_THAN_ONE_PROPOSAL = "responder's SA holds more than the one chosen proposal"
    MORE_THAN_ONE_TRANSFORM = "responder's proposal holds more than the one chosen transform"


#: The notify message type each rejection warrants (RFC 2408 section 3.14.1).
REJECTION_NOTIFY = {
    Rejection.SHORT_DATAGRAM: NotifyType.UNEQUAL_PAYLOAD_LENGTHS,
    Rejection.LENGTH_MISMATCH: NotifyType.UNEQUAL_PAYLOAD_LENGTHS,
    Rejection.INVALID_MAJOR_VERSION: NotifyType.INVALID_MAJOR_VERSION,
    Rejection.INVALID_MINOR_VERSION: NotifyType.INVALID_MINOR_VERSION,
    Rejection.INVALID_EXCHANGE_TYPE: NotifyType.INVALID_EXCHANGE_TYPE,
    Rejection.INVALID_FLAGS: NotifyType.INVALID_FLAGS,
    Rejection.INVALID_COOKIE: NotifyType.INVALID_COOKIE,
    Rejection.INVALID_MESSAGE_ID: NotifyType.INVALID_MESSAGE_ID,
    Rejection.INVALID_PAYLOAD_TYPE: NotifyType.INVALID_PAYLOAD_TYPE,
    Rejection.RESERVED_NOT_ZERO: NotifyType.PAYLOAD_MALFORMED,
    Rejection.PAYLOAD_LENGTH: NotifyType.PAYLOAD_MALFORMED,
    Rejection.PAYLOAD_MALFORMED: NotifyType.PAYLOAD_MALFORMED,
    Rejection.BAD_PADDING_LENGTH: NotifyType.PAYLOAD_MALFORMED,
    Rejection.ENCRYPTED_UNEXPECTED: NotifyType.INVALID_FLAGS,
    Rejection.PLAIN_UNEXPECTED: NotifyType.INVALID_FLAGS,
    Rejection.UNEXPECTED_PAYLOAD: NotifyType.INVALID_PAYLOAD_TYPE,
    Rejection.MISSING_PAYLOAD: NotifyType.PAYLOAD_MALFORMED,
    Rejection.REPEATED_PAYLOAD: NotifyType.PAYLOAD_MALFORMED,
    Rejection.HASH_NOT_FIRST: NotifyType.INVALID_HASH_INFORMATION,
    Rejection.SA_NOT_FIRST: NotifyType.PAYLOAD_MALFORMED,
    Rejection.DOI_NOT_SUPPORTED: NotifyType.DOI_NOT_SUPPORTED,
    Rejection.SITUATION_NOT_SUPPORTED: NotifyType.SITUATION_NOT_SUPPORTED,
    Rejection.INVALID_PROTOCOL_ID: NotifyType.INVALID_PROTOCOL_ID,
    Rejection.NONCE_LENGTH: NotifyType.PAYLOAD_MALFORMED,
    Rejection.MORE_THAN_ONE_PROPOSAL: NotifyType.BAD_PROPOSAL_SYNTAX,
    Rejection.MORE_THAN_ONE_TRANSFORM: NotifyType.BAD_PROPOSAL_SYNTAX,
}


class IsakmpError(Exception):
    """Base class of the ISAKMP layer's errors."""


class MalformedMessage(IsakmpError):
    """A received message is dropped.

    Arguments: ``reason`` (:class:`Rejection`), ``offset`` (octets from the
    start of the datagram, or of the decrypted body for ``decrypted``
    messages), ``detail`` (what was found and what was expected),
    ``payload`` (the :class:`PayloadType` at fault, when one is).
    """

    def __init__(self, reason, offset, detail="", payload=None):
        self.reason = reason
        self.offset = offset
        self.detail = detail
        self.payload = payload
        super().__init__(f"{reason.name} at octet {offset}: {detail or reason.value}")

    @property
    def notify(self):
        """The :class:`NotifyType` this rejection warrants."""
        return REJECTION_NOTIFY[self.reason]


class EncodingError(IsakmpError):
    """A payload or header field cannot be encoded (value out of range)."""
