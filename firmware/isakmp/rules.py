# Ref: RFC 2409 sections 5.1-5.5 (main, aggressive, quick mode), 5.7 (informational), 5 (nonce length)
# Ref: RFC 2408 sections 3.1 (message ID, cookies), 4.8 (informational); RFC 3947 sections 3-5 (NAT-D, NAT-OA)
# Ref: draft-ietf-ipsec-isakmp-mode-cfg-05 section 3.1 (transaction exchange)
"""Which payloads each IKEv1 message must, may and must not carry.

One :class:`MessageRule` per exchange message (MM1..MM6, AM1..AM3,
QM1..QM4, protected and clear informational, transaction) lists its
:class:`PayloadRule` s (payload class, least and most occurrences; a class
not listed must not appear), whether the message is encrypted, which
payload must come first and whether exactly one of HASH/SIG authenticates
it. Exchanges look a rule up with :func:`rule_for` and check a received
message in two steps:

* :func:`check_header` before decryption (encryption, message ID,
  cookies), so nothing is decrypted for a message that is dropped anyway;
* :func:`check_payloads` after decoding the chain.

Both return a :class:`~.errors.MalformedMessage` (reason, offset, notify,
payload at fault) or None; :func:`validate` raises instead. Which counters
a rejection increments is in :mod:`.counters`.
"""

from dataclasses import dataclass
from enum import Enum

from .constants import HEADER_LENGTH, Doi, ExchangeType, ProtocolId, Situation
from .errors import MalformedMessage, Rejection
from .payloads import (
    Certificate, CertificateRequest, ConfigAttributes, Delete, Hash, Identification, KeyExchange, NatDiscovery,
    NatOriginalAddress, Nonce, Notification, SecurityAssociation, Signature, VendorId, encode_chain, wire_type)

__all__ = ["Encryption", "Role", "PayloadRule", "MessageRule", "RULES", "NONCE_LENGTHS", "rule_for",
           "check_header", "check_payloads", "validate"]

#: RFC 2409 section 5: nonce data length, octets (inclusive range).
NONCE_LENGTHS = range(8, 257)
UNBOUNDED = None


class Encryption(Enum):
    """Whether a message's body is encrypted (E flag)."""
    CLEAR = "clear"
    ENCRYPTED = "encrypted"
    EITHER = "either"


class Role(Enum):
    """The side that sends a message."""
    INITIATOR = "initiator"
    RESPONDER = "responder"
    EITHER = "either"


@dataclass(frozen=True)
class PayloadRule:
    """``payload`` class may appear ``minimum``..``maximum`` times (None: no limit)."""
    payload: type
    minimum: int = 0
    maximum: int | None = 1


@dataclass(frozen=True)
class MessageRule:
    """The payload rules of one exchange message.

    ``name`` (MM1 ...), ``exchange``, ``number`` (1-based within the
    exchange), ``sender`` (:class:`Role`), ``encryption``, ``payloads``
    (:class:`PayloadRule` tuple), ``first`` (payload class that must lead,
    or None), ``authenticated_by`` (classes of which exactly one must be
    present, or empty), ``responder_cookie_zero`` (first message of phase 1),
    ``chosen_proposal`` (a responder's SA: the one proposal it accepted,
    with one transform per protocol; RFC 2408 section 4.2), ``carries``
    (classes of which at least one must be present: an informational
    exchange carries a Notification or a Delete, RFC 2408 section 4.8).
    """
    name: str
    exchange: ExchangeType
    number: int
    sender: Role
    encryption: Encryption
    payloads: tuple
    first: type | None = None
    authenticated_by: tuple = ()
    responder_cookie_zero: bool = False
    chosen_proposal: bool = False
    carries: tuple = ()

    @property
    def phase1(self):
        """True for main and aggressive mode messages (message ID zero)."""
        return self.exchange in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE)


def _any(*classes):
    return tuple(PayloadRule(cls, 0, UNBOUNDED) for cls in classes)


_VID = _any(VendorId)
_AUTH = (PayloadRule(Hash), PayloadRule(Signature), *_any(Certificate))
_I, _R = Role.INITIATOR, Role.RESPONDER
_CLEAR, _ENC = Encryption.CLEAR, Encryption.ENCRYPTED

#: Every message rule, keyed by (exchange, number, encrypted?) for informational, else (exchange, number).
RULES = {}
for _rule in (
    MessageRule("MM1", ExchangeType.MAIN, 1, _I, _CLEAR, (PayloadRule(SecurityAssociation, 1), *_VID),
                first=SecurityAssociation, responder_cookie_zero=True),
    MessageRule("MM2", ExchangeType.MAIN, 2, _R, _CLEAR, (PayloadRule(SecurityAssociation, 1), *_VID),
                first=SecurityAssociation, chosen_proposal=True),
    MessageRule("MM3", ExchangeType.MAIN, 3, _I, _CLEAR,
                (PayloadRule(KeyExchange, 1), PayloadRule(Nonce, 1), *_any(NatDiscovery, CertificateRequest), *_VID)),
    MessageRule("MM4", ExchangeType.MAIN, 4, _R, _CLEAR,
                (PayloadRule(KeyExchange, 1), PayloadRule(Nonce, 1), *_any(NatDiscovery, CertificateRequest), *_VID)),
    MessageRule("MM5", ExchangeType.MAIN, 5, _I, _ENC,
                (PayloadRule(Identification, 1), *_AUTH, *_any(CertificateRequest, Notification), *_VID),
                authenticated_by=(Hash, Signature)),
    MessageRule("MM6", ExchangeType.MAIN, 6, _R, _ENC,
                (PayloadRule(Identification, 1), *_AUTH, *_any(Notification), *_VID),
                authenticated_by=(Hash, Signature)),
    MessageRule("AM1", ExchangeType.AGGRESSIVE, 1, _I, _CLEAR,
                (PayloadRule(SecurityAssociation, 1), PayloadRule(KeyExchange, 1), PayloadRule(Nonce, 1),
                 PayloadRule(Identification, 1), *_any(CertificateRequest), *_VID),
                first=SecurityAssociation, responder_cookie_zero=True),
    MessageRule("AM2", ExchangeType.AGGRESSIVE, 2, _R, _CLEAR,
                (PayloadRule(SecurityAssociation, 1), PayloadRule(KeyExchange, 1), PayloadRule(Nonce, 1),
                 PayloadRule(Identification, 1), *_AUTH, *_any(CertificateRequest, NatDiscovery), *_VID),
                first=SecurityAssociation, authenticated_by=(Hash, Signature), chosen_proposal=True),
    MessageRule("AM3", ExchangeType.AGGRESSIVE, 3, _I, Encryption.EITHER,
                (*_AUTH, *_any(NatDiscovery, Notification), *_VID), authenticated_by=(Hash, Signature)),
    MessageRule("QM1", ExchangeType.QUICK, 1, _I, _ENC,
                (PayloadRule(Hash, 1), PayloadRule(SecurityAssociation, 1), PayloadRule(Nonce, 1),
                 PayloadRule(KeyExchange), PayloadRule(Identification, 0, 2), PayloadRule(NatOriginalAddress, 0, 2),
                 *_any(Notification)), first=Hash),
    MessageRule("QM2", ExchangeType.QUICK, 2, _R, _ENC,
                (PayloadRule(Hash, 1), PayloadRule(SecurityAssociation, 1), PayloadRule(Nonce, 1),
                 PayloadRule(KeyExchange), PayloadRule(Identification, 0, 2), PayloadRule(NatOriginalAddress, 0, 2),
                 *_any(Notification)), first=Hash,
                chosen_proposal=True),
    MessageRule("QM3", ExchangeType.QUICK, 3, _I, _ENC, (PayloadRule(Hash, 1),), first=Hash),
    MessageRule("QM4", ExchangeType.QUICK, 4, _R, _ENC, (PayloadRule(Hash, 1), PayloadRule(Notification, 1)),
                first=Hash),
    MessageRule("INFO", ExchangeType.INFORMATIONAL, 1, Role.EITHER, _ENC,
                (PayloadRule(Hash, 1), *_any(Notification, Delete)), first=Hash, carries=(Notification, Delete)),
    MessageRule("INFO-CLEAR", ExchangeType.INFORMATIONAL, 1, Role.EITHER, _CLEAR, _any(Notification, Delete),
                carries=(Notification, Delete)),
    MessageRule("CFG", ExchangeType.TRANSACTION, 1, Role.EITHER, _ENC,
                (PayloadRule(Hash, 1), PayloadRule(ConfigAttributes, 1)), first=Hash),
):
    RULES[(_rule.exchange, _rule.number) + ((_rule.encryption is _ENC,) if
                                            _rule.exchange == ExchangeType.INFORMATIONAL else ())] = _rule
del _rule


def rule_for(header, number=1):
    """The rule for message ``number`` of ``header``'s exchange (the
    informational rule follows the E flag), or None when that exchange has
    no such message (an unexpected message)."""
    key = (header.exchange, number)
    if header.exchange == ExchangeType.INFORMATIONAL:
        key += (header.encrypted,)
    return RULES.get(key)


def check_header(rule, header):
    """Header checks of ``rule`` (before any decryption): exchange type, E flag, message
    ID and cookies. Returns a :class:`MalformedMessage` or None."""
    if header.exchange != rule.exchange:
        return MalformedMessage(Rejection.INVALID_EXCHANGE_TYPE, 18, f"{rule.name} belongs to {rule.exchange.name}")
    if rule.encryption is Encryption.ENCRYPTED and not header.encrypted:
        return MalformedMessage(Rejection.PLAIN_UNEXPECTED, 19, f"{rule.name} must be encrypted")
    if rule.encryption is Encryption.CLEAR and header.encrypted:
        return MalformedMessage(Rejection.ENCRYPTED_UNEXPECTED, 19, f"{rule.name} must be in the clear")
    if rule.phase1 and header.message_id:
        return MalformedMessage(Rejection.INVALID_MESSAGE_ID, 20, f"{rule.name} message ID must be zero")
    if not rule.phase1 and header.encrypted and not header.message_id:
        return MalformedMessage(Rejection.INVALID_MESSAGE_ID, 20, f"{rule.name} message ID must not be zero")
    if rule.phase1 and rule.responder_cookie_zero == any(header.responder_cookie):
        expected = "zero" if rule.responder_cookie_zero else "set"
        return MalformedMessage(Rejection.INVALID_COOKIE, 8, f"{rule.name} responder cookie must be {expected}")
    return None


def _offsets(payloads):
    offsets, at = [], HEADER_LENGTH
    for payload in payloads:
        offsets.append(at)
        at += len(encode_chain((payload,)))
    return offsets


def _check_sa(rule, sa, offset):
    payload = wire_type(sa)
    if sa.doi != Doi.IPSEC:
        return MalformedMessage(Rejection.DOI_NOT_SUPPORTED, offset + 4, f"DOI {sa.doi}", payload)
    if sa.situation != Situation.IDENTITY_ONLY:
        return MalformedMessage(Rejection.SITUATION_NOT_SUPPORTED, offset + 8, f"situation {sa.situation}", payload)
    allowed = ((ProtocolId.ISAKMP,) if rule.phase1 else
               (ProtocolId.IPSEC_AH, ProtocolId.IPSEC_ESP, ProtocolId.IPCOMP))
    for proposal in sa.proposals:
        if proposal.protocol not in allowed:
            return MalformedMessage(Rejection.INVALID_PROTOCOL_ID, offset,
                                    f"{rule.name} proposal protocol {proposal.protocol}", payload)
    if rule.chosen_proposal:
        if len({proposal.number for proposal in sa.proposals}) != 1 or (rule.phase1 and len(sa.proposals) != 1):
            return MalformedMessage(Rejection.MORE_THAN_ONE_PROPOSAL, offset,
                                    f"{rule.name} answers with {len(sa.proposals)} proposals", payload)
        if any(len(proposal.transforms) != 1 for proposal in sa.proposals):
            return MalformedMessage(Rejection.MORE_THAN_ONE_TRANSFORM, offset,
                                    f"{rule.name} answers with several transforms", payload)
    return None


def check_payloads(rule, message):
    """Payload checks of ``rule`` on a decoded (and, if need be, decrypted)
    ``message``: which payloads, how many, which first, HASH-or-SIG, SA
    DOI/situation/protocols, nonce length. Returns a
    :class:`MalformedMessage` (offset of the payload at fault; of the first
    payload for a missing one) or None."""
    payloads, offsets = message.payloads, _offsets(message.payloads)
    allowed = {r.payload for r in rule.payloads}
    for payload, offset in zip(payloads, offsets):
        if type(payload) not in allowed:
            return MalformedMessage(Rejection.UNEXPECTED_PAYLOAD, offset,
                                    f"{type(payload).__name__} in {rule.name}", wire_type(payload))
    if rule.first and (not payloads or type(payloads[0]) is not rule.first):
        reason = Rejection.HASH_NOT_FIRST if rule.first is Hash else Rejection.SA_NOT_FIRST
        return MalformedMessage(reason, HEADER_LENGTH, f"{rule.name} must start with {rule.first.__name__}",
                                rule.first.TYPE)
    for payload_rule in rule.payloads:
        found = [(p, o) for p, o in zip(payloads, offsets) if type(p) is payload_rule.payload]
        if len(found) < payload_rule.minimum:
            return MalformedMessage(Rejection.MISSING_PAYLOAD, HEADER_LENGTH,
                                    f"{rule.name} lacks {payload_rule.payload.__name__}", payload_rule.payload.TYPE)
        if payload_rule.maximum is not None and len(found) > payload_rule.maximum:
            payload, offset = found[payload_rule.maximum]
            return MalformedMessage(Rejection.REPEATED_PAYLOAD, offset,
                                    f"{rule.name} carries {len(found)} {type(payload).__name__}", wire_type(payload))
    if rule.authenticated_by and sum(type(p) in rule.authenticated_by for p in payloads) != 1:
        return MalformedMessage(Rejection.MISSING_PAYLOAD, HEADER_LENGTH,
                                f"{rule.name} needs exactly one of HASH or SIG", rule.authenticated_by[0].TYPE)
    if rule.carries and not any(type(p) in rule.carries for p in payloads):
        return MalformedMessage(Rejection.MISSING_PAYLOAD, HEADER_LENGTH,
                                f"{rule.name} carries no {' or '.join(c.__name__ for c in rule.carries)}",
                                rule.carries[0].TYPE)
    for payload, offset in zip(payloads, offsets):
        if isinstance(payload, SecurityAssociation):
            problem = _check_sa(rule, payload, offset)
            if problem:
                return problem
        if isinstance(payload, Nonce) and len(payload.data) not in NONCE_LENGTHS:
            return MalformedMessage(Rejection.NONCE_LENGTH, offset, f"nonce of {len(payload.data)} octets",
                                    wire_type(payload))
    return None


def validate(rule, message):
    """Raise the first :class:`MalformedMessage` of ``rule`` on ``message``
    (header then payloads); return ``message`` when it conforms."""
    problem = check_header(rule, message.header) or check_payloads(rule, message)
    if problem:
        raise problem
    return message
