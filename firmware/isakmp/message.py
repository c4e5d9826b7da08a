# Ref: RFC 2408 sections 3.1 (header), 5.1 (general message processing)
# Ref: RFC 2409 section 5.3 (encrypted bodies, padding), RFC 3947 section 4 (non-ESP marker)
"""An ISAKMP message: the fixed header and its payload chain.

Decoding (:func:`decode_message`) checks the header and returns either a
:class:`Message` (header + decoded payloads) or, when the E flag is set, an
:class:`EncryptedMessage` (header + ciphertext): the exchange decrypts the
body through the card with the phase-1 key and IV, then calls
:meth:`EncryptedMessage.open` with the plaintext to decode the chain. On
the send side :func:`encode_message` builds a clear message and
:func:`padded_body` + :func:`encode_encrypted` an encrypted one.

Datagrams on UDP 4500 carry a 4-octet zero non-ESP marker before the
header (:func:`strip_non_esp_marker`, :func:`add_non_esp_marker`).

Every fault raises :class:`~.errors.MalformedMessage`; the offsets count
from the first octet of the ISAKMP header.
"""

from dataclasses import dataclass, replace

from .constants import HEADER_LENGTH, ISAKMP_VERSION, ExchangeType, HeaderFlag, PayloadType
from .errors import EncodingError, MalformedMessage, Rejection
from .payloads import decode_chain, encode_chain, wire_type

__all__ = ["NON_ESP_MARKER", "MAX_PADDING", "Header", "Message", "EncryptedMessage", "decode_message",
           "encode_message", "encode_encrypted", "padded_body", "strip_non_esp_marker", "add_non_esp_marker"]

#: RFC 3947 section 4: four zero octets before an IKE message on port 4500.
NON_ESP_MARKER = bytes(4)
#: Longest padding accepted after a decrypted chain, octets (the pad-length octet's range).
MAX_PADDING = 255
_KNOWN_FLAGS = int(HeaderFlag.ENCRYPTION | HeaderFlag.COMMIT | HeaderFlag.AUTHENTICATION_ONLY)


@dataclass(frozen=True)
class Header:
    """The 28-octet ISAKMP header.

    ``initiator_cookie``/``responder_cookie``: 8 octets each;
    ``exchange``: :class:`ExchangeType`; ``flags``: :class:`HeaderFlag`;
    ``message_id``: 32-bit, zero in phase 1; ``next_payload`` and ``length``
    (octets, whole message) are filled in by the encoder; ``version`` is
    the version octet (major in the high nibble).
    """
    initiator_cookie: bytes
    responder_cookie: bytes
    exchange: ExchangeType
    flags: HeaderFlag = HeaderFlag.NONE
    message_id: int = 0
    next_payload: int = PayloadType.NONE
    length: int = 0
    version: int = ISAKMP_VERSION

    @property
    def encrypted(self):
        """True when the E flag says the body is encrypted."""
        return bool(self.flags & HeaderFlag.ENCRYPTION)

    def encode(self):
        """The header's 28 octets, as the fields say (no recomputation)."""
        if len(self.initiator_cookie) != 8 or len(self.responder_cookie) != 8:
            raise EncodingError("cookies must be 8 octets")
        if not 0 <= self.message_id <= 0xFFFFFFFF or not 0 <= self.length <= 0xFFFFFFFF:
            raise EncodingError("message ID and length are 32-bit")
        return (self.initiator_cookie + self.responder_cookie
                + bytes((self.next_payload, self.version, self.exchange, self.flags))
                + self.message_id.to_bytes(4, "big") + self.length.to_bytes(4, "big"))


@dataclass(frozen=True)
class Message:
    """A decoded message: ``header`` and its ``payloads`` (tuple); for a
    message that was encrypted, ``padding`` holds the octets after the chain."""
    header: Header
    payloads: tuple
    padding: bytes = b""

    def find(self, payload_class):
        """The payloads of ``payload_class``, in order (a tuple)."""
        return tuple(p for p in self.payloads if isinstance(p, payload_class))

    def first(self, payload_class):
        """The first payload of ``payload_class``, or None."""
        found = self.find(payload_class)
        return found[0] if found else None


@dataclass(frozen=True)
class EncryptedMessage:
    """A received message with the E flag: ``header`` and ``ciphertext`` (the body)."""
    header: Header
    ciphertext: bytes

    def encode(self):
        """The datagram again: header (as received) and ciphertext."""
        return self.header.encode() + self.ciphertext

    def open(self, plaintext, block_size):
        """Decode the decrypted body.

        ``plaintext``: the decrypted body (as long as the ciphertext);
        ``block_size``: the cipher's block size in octets. Padding after the
        chain is ignored (RFC 2409 section 5.3) but kept in the result.
        Raises :class:`MalformedMessage` (offsets from the header start).
        """
        if not plaintext or len(plaintext) % block_size:
            raise MalformedMessage(Rejection.BAD_PADDING_LENGTH, HEADER_LENGTH,
                                   f"body of {len(plaintext)} octets is not whole {block_size}-octet blocks")
        payloads, end = decode_chain(self.header.next_payload, plaintext, HEADER_LENGTH)
        if len(plaintext) - end > MAX_PADDING:
            raise MalformedMessage(Rejection.BAD_PADDING_LENGTH, HEADER_LENGTH + end,
                                   f"{len(plaintext) - end} octets of padding, at most {MAX_PADDING} expected")
        return Message(self.header, payloads, bytes(plaintext[end:]))


def _decode_header(datagram):
    if len(datagram) < HEADER_LENGTH:
        raise MalformedMessage(Rejection.SHORT_DATAGRAM, 0, f"{len(datagram)} octets")
    version = datagram[17]
    if version >> 4 != ISAKMP_VERSION >> 4:
        raise MalformedMessage(Rejection.INVALID_MAJOR_VERSION, 17, f"version octet {version:#04x}")
    if version & 0x0F:
        raise MalformedMessage(Rejection.INVALID_MINOR_VERSION, 17, f"version octet {version:#04x}")
    try:
        exchange = ExchangeType(datagram[18])
    except ValueError:
        raise MalformedMessage(Rejection.INVALID_EXCHANGE_TYPE, 18, f"exchange type {datagram[18]}") from None
    if datagram[19] & ~_KNOWN_FLAGS:
        raise MalformedMessage(Rejection.INVALID_FLAGS, 19, f"flags {datagram[19]:#04x}")
    length = int.from_bytes(datagram[24:28], "big")
    if length != len(datagram):
        raise MalformedMessage(Rejection.LENGTH_MISMATCH, 24,
                               f"header says {length} octets, datagram has {len(datagram)}")
    if not any(datagram[0:8]):
        raise MalformedMessage(Rejection.INVALID_COOKIE, 0, "initiator cookie is zero")
    return Header(bytes(datagram[0:8]), bytes(datagram[8:16]), exchange, HeaderFlag(datagram[19]),
                  int.from_bytes(datagram[20:24], "big"), datagram[16], length, version)


def decode_message(datagram):
    """Decode one ISAKMP message (without non-ESP marker).

    Returns a :class:`Message`, or an :class:`EncryptedMessage` when the E
    flag is set. Raises :class:`MalformedMessage` for anything else.
    """
    header = _decode_header(datagram)
    if header.encrypted:
        if len(datagram) == HEADER_LENGTH:
            raise MalformedMessage(Rejection.PAYLOAD_LENGTH, HEADER_LENGTH, "encrypted message without a body")
        return EncryptedMessage(header, bytes(datagram[HEADER_LENGTH:]))
    payloads, end = decode_chain(header.next_payload, datagram[HEADER_LENGTH:], HEADER_LENGTH)
    if HEADER_LENGTH + end != len(datagram):
        raise MalformedMessage(Rejection.PAYLOAD_LENGTH, HEADER_LENGTH + end,
                               f"{len(datagram) - HEADER_LENGTH - end} octet(s) after the last payload")
    return Message(header, payloads)


def _chain_header(header, payloads, body_length):
    first = wire_type(payloads[0]) if payloads else PayloadType.NONE
    return replace(header, next_payload=first, length=HEADER_LENGTH + body_length)


def encode_message(header, payloads):
    """Encode a clear message: ``header`` (its next payload, length and E
    flag are set here) and the ``payloads`` sequence."""
    body = encode_chain(tuple(payloads))
    header = replace(_chain_header(header, payloads, len(body)), flags=header.flags & ~HeaderFlag.ENCRYPTION)
    return header.encode() + body


def padded_body(payloads, block_size):
    """The plaintext body for encryption: the chain, then zero octets up to
    a whole number of ``block_size`` blocks. RFC 2409 section 5.3 lets the
    receiver ignore padding; zeros are what strongSwan sends (see the demo
    capture), so both sides of the lab agree on them."""
    chain = encode_chain(tuple(payloads))
    return chain + bytes(-len(chain) % block_size)


def encode_encrypted(header, payloads, ciphertext):
    """Encode an encrypted message: ``header`` (E flag, next payload and
    length set here from ``payloads``, the plaintext chain) and the
    ``ciphertext`` of :func:`padded_body`."""
    header = replace(_chain_header(header, payloads, len(ciphertext)), flags=header.flags | HeaderFlag.ENCRYPTION)
    return header.encode() + ciphertext


def strip_non_esp_marker(datagram):
    """The ISAKMP message of a UDP 4500 datagram, or None when the datagram
    is ESP (it does not start with the 4-octet zero non-ESP marker)."""
    if len(datagram) < len(NON_ESP_MARKER) or datagram[:4] != NON_ESP_MARKER:
        return None
    return datagram[4:]


def add_non_esp_marker(message):
    """The UDP 4500 datagram carrying ISAKMP ``message``."""
    return NON_ESP_MARKER + message
