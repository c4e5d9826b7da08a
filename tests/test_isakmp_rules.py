"""Per-exchange payload rules and the counters a rejection increments.

Every message strongSwan sent in the demo capture satisfies its rule; each
kind of violation, built by changing one real message, is rejected with
the expected reason, notify and counters; the counter schema equals the
manual's figures (parsed here from spec/show-outputs.md)."""
import dataclasses
import re
from pathlib import Path

import pytest

from isakmp_capture import capture_messages, decrypted_messages
from pacsim.firmware.isakmp.constants import Doi, ExchangeType, HeaderFlag, NotifyType, PayloadType, ProtocolId
from pacsim.firmware.isakmp.counters import COUNTER_GROUPS, GENERAL_COUNTERS, rejection_counters
from pacsim.firmware.isakmp.errors import MalformedMessage, Rejection
from pacsim.firmware.isakmp.message import EncryptedMessage, Message, decode_message
from pacsim.firmware.isakmp.payloads import (
    Delete, Hash, Identification, KeyExchange, Nonce, SecurityAssociation, Signature, VendorId)
from pacsim.firmware.isakmp.rules import RULES, Encryption, check_header, check_payloads, rule_for, validate

SHOW_OUTPUTS = Path("/work/shared/spec/show-outputs.md")


def numbered_capture():
    """(frame, rule, decoded Message) of every capture message; a
    retransmission (same bytes as an earlier message) keeps its number."""
    plaintexts = {frame: (message, plaintext, block) for frame, message, plaintext, block in decrypted_messages()}
    steps, sent, out = {}, {}, []
    for frame, raw, _ in capture_messages():
        message = decode_message(raw)
        header = message.header
        key = (header.initiator_cookie, header.message_id, header.exchange)
        if raw not in sent:
            steps[key] = steps.get(key, 0) + 1
            sent[raw] = 1 if header.exchange in (ExchangeType.INFORMATIONAL, ExchangeType.TRANSACTION) else steps[key]
        rule = rule_for(header, sent[raw])
        if isinstance(message, EncryptedMessage):
            _, plaintext, block = plaintexts[frame]
            message = message.open(plaintext, block)
        out.append((frame, rule, message))
    return out


def test_every_capture_message_satisfies_its_rule():
    seen = set()
    for frame, rule, message in numbered_capture():
        assert rule is not None, frame
        assert validate(rule, message) is message
        seen.add(rule.name)
    assert seen == {"MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "AM1", "AM2", "AM3", "QM1", "QM2", "QM3", "INFO",
                    "INFO-CLEAR"}


def test_rules_cover_every_exchange_message():
    names = {rule.name for rule in RULES.values()}
    assert names == {"MM1", "MM2", "MM3", "MM4", "MM5", "MM6", "AM1", "AM2", "AM3", "QM1", "QM2", "QM3", "QM4",
                     "INFO", "INFO-CLEAR", "CFG"}
    for rule in RULES.values():
        assert rule.encryption is (Encryption.CLEAR if rule.name in ("MM1", "MM2", "MM3", "MM4", "AM1", "AM2",
                                                                      "INFO-CLEAR")
                                   else Encryption.EITHER if rule.name == "AM3" else Encryption.ENCRYPTED)


def sample(name):
    """The first capture message whose rule is ``name``."""
    return next((rule, message) for _, rule, message in numbered_capture() if rule and rule.name == name)


def with_payloads(message, payloads):
    return Message(message.header, tuple(payloads), message.padding)


def with_header(message, **changes):
    return Message(dataclasses.replace(message.header, **changes), message.payloads, message.padding)


def doubled_transforms(message):
    """``message`` with its SA's first proposal offering each transform twice."""
    def double(sa):
        proposal = sa.proposals[0]
        return dataclasses.replace(sa, proposals=(dataclasses.replace(proposal, transforms=proposal.transforms * 2),))
    return with_payloads(message, [double(p) if isinstance(p, SecurityAssociation) else p for p in message.payloads])


NONCE = Nonce(b"n" * 16)
CASES = {
    "KE in MM1": ("MM1", lambda m: with_payloads(m, m.payloads + (KeyExchange(b"k" * 128),)),
                  Rejection.UNEXPECTED_PAYLOAD, NotifyType.INVALID_PAYLOAD_TYPE,
                  {("main", "invalidSAMessage")}),
    "MM1 starts with VID": ("MM1", lambda m: with_payloads(m, (VendorId(b"v"),) + m.payloads),
                            Rejection.SA_NOT_FIRST, NotifyType.PAYLOAD_MALFORMED, {("main", "saNotFirst")}),
    "MM1 with responder cookie": ("MM1", lambda m: with_header(m, responder_cookie=b"\1" * 8),
                                  Rejection.INVALID_COOKIE, NotifyType.INVALID_COOKIE,
                                  {("general", "msgRxUnexpectedMsg"), ("main", "unexpectedMessage")}),
    "MM2 with message ID": ("MM2", lambda m: with_header(m, message_id=5), Rejection.INVALID_MESSAGE_ID,
                            NotifyType.INVALID_MESSAGE_ID, {("general", "msgRxPh1MsgIdNotZero"),
                                                             ("main", "unexpectedMessage")}),
    "MM2 two proposals": ("MM2", lambda m: with_payloads(m, [
        dataclasses.replace(p, proposals=p.proposals * 2) if isinstance(p, SecurityAssociation) else p
        for p in m.payloads]), Rejection.MORE_THAN_ONE_PROPOSAL, NotifyType.BAD_PROPOSAL_SYNTAX,
        {("main", "moreThanOneProposal")}),
    "AM2 two transforms": ("AM2", doubled_transforms,
        Rejection.MORE_THAN_ONE_TRANSFORM, NotifyType.BAD_PROPOSAL_SYNTAX, {("aggressive", "tooManyTransforms")}),
    "QM2 two transforms": ("QM2", doubled_transforms,
        Rejection.MORE_THAN_ONE_TRANSFORM, NotifyType.BAD_PROPOSAL_SYNTAX,
        {("quick.initiator.hashSaNonce", "propMultipleTrans")}),
    "MM3 without nonce": ("MM3", lambda m: with_payloads(m, [p for p in m.payloads if not isinstance(p, Nonce)]),
                          Rejection.MISSING_PAYLOAD, NotifyType.PAYLOAD_MALFORMED, {("main", "invalidKEMessage")}),
    "MM3 short nonce": ("MM3", lambda m: with_payloads(m, [Nonce(b"1234567") if isinstance(p, Nonce) else p
                                                           for p in m.payloads]),
                        Rejection.NONCE_LENGTH, NotifyType.PAYLOAD_MALFORMED, {("main", "nonceBadLen")}),
    "MM4 encrypted": ("MM4", lambda m: with_header(m, flags=HeaderFlag.ENCRYPTION), Rejection.ENCRYPTED_UNEXPECTED,
                      NotifyType.INVALID_FLAGS, {("general", "msgRxEncryptdUnexpect"), ("main", "unexpectedMessage")}),
    "MM5 in the clear": ("MM5", lambda m: with_header(m, flags=HeaderFlag.NONE), Rejection.PLAIN_UNEXPECTED,
                         NotifyType.INVALID_FLAGS,
                         {("general", "msgRxPlainUnexpected"), ("main", "unexpectedMessage")}),
    "MM5 with HASH and SIG": ("MM5", lambda m: with_payloads(m, m.payloads + (Signature(b"s"),)),
                              Rejection.MISSING_PAYLOAD, NotifyType.PAYLOAD_MALFORMED,
                              {("main", "invalidAUTHMessage")}),
    "MM6 two IDs": ("MM6", lambda m: with_payloads(m, m.payloads + (m.first(Identification),)),
                    Rejection.REPEATED_PAYLOAD, NotifyType.PAYLOAD_MALFORMED, {("main", "invalidAUTHMessage")}),
    "AM1 DOI 2": ("AM1", lambda m: with_payloads(m, [dataclasses.replace(p, doi=2) if isinstance(p, SecurityAssociation)
                                                     else p for p in m.payloads]),
                  Rejection.DOI_NOT_SUPPORTED, NotifyType.DOI_NOT_SUPPORTED, {("aggressive", "doiNotIpsec")}),
    "AM2 without HASH": ("AM2", lambda m: with_payloads(m, [p for p in m.payloads if not isinstance(p, Hash)]),
                         Rejection.MISSING_PAYLOAD, NotifyType.PAYLOAD_MALFORMED,
                         {("aggressive", "invalidSAKEAUTHMessage")}),
    "QM1 HASH second": ("QM1", lambda m: with_payloads(m, m.payloads[1:2] + m.payloads[:1] + m.payloads[2:]),
                        Rejection.HASH_NOT_FIRST, NotifyType.INVALID_HASH_INFORMATION,
                        {("quick.responder.hashSaNonce", "hashPayMissing")}),
    "QM1 two nonces": ("QM1", lambda m: with_payloads(m, m.payloads + (NONCE,)), Rejection.REPEATED_PAYLOAD,
                       NotifyType.PAYLOAD_MALFORMED, {("quick.responder.hashSaNonce", "nonceSeenTwice")}),
    "QM2 without SA": ("QM2", lambda m: with_payloads(m, [p for p in m.payloads
                                                          if not isinstance(p, SecurityAssociation)]),
                       Rejection.MISSING_PAYLOAD, NotifyType.PAYLOAD_MALFORMED,
                       {("quick.initiator.hashSaNonce", "saPayMissing")}),
    "QM2 phase-1 proposal": ("QM2", lambda m: with_payloads(m, [
        dataclasses.replace(p, proposals=(dataclasses.replace(p.proposals[0], protocol=ProtocolId.ISAKMP),))
        if isinstance(p, SecurityAssociation) else p for p in m.payloads]),
        Rejection.INVALID_PROTOCOL_ID, NotifyType.INVALID_PROTOCOL_ID,
        {("quick.initiator.errors", "unexpectedMessage")}),
    "QM3 with nonce": ("QM3", lambda m: with_payloads(m, m.payloads + (NONCE,)), Rejection.UNEXPECTED_PAYLOAD,
                       NotifyType.INVALID_PAYLOAD_TYPE, {("quick.responder.hash", "invalidPayloadType")}),
    "QM3 message ID zero": ("QM3", lambda m: with_header(m, message_id=0), Rejection.INVALID_MESSAGE_ID,
                            NotifyType.INVALID_MESSAGE_ID, {("general", "msgRxUnexpectedMsg"),
                                                             ("quick.responder.errors", "unexpectedMessage")}),
    "INFO without HASH": ("INFO", lambda m: with_payloads(m, m.payloads[1:]), Rejection.HASH_NOT_FIRST,
                          NotifyType.INVALID_HASH_INFORMATION, {("info", "rxMsgUnexpectedPayload")}),
    "INFO with only a HASH": ("INFO", lambda m: with_payloads(m, m.payloads[:1]), Rejection.MISSING_PAYLOAD,
                              NotifyType.PAYLOAD_MALFORMED, {("info", "rxMsgUnexpectedPayload")}),
    "INFO with SA": ("INFO", lambda m: with_payloads(m, m.payloads + (sample("MM1")[1].payloads[0],)),
                     Rejection.UNEXPECTED_PAYLOAD, NotifyType.INVALID_PAYLOAD_TYPE,
                     {("info", "rxMsgUnexpectedPayload")}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_violation_is_rejected_with_its_notify_and_counters(case):
    name, change, reason, notify, counters = CASES[case]
    rule, message = sample(name)
    assert validate(rule, message) is message
    changed = change(message)
    problem = check_header(rule, changed.header) or check_payloads(rule, changed)
    assert (problem.reason, problem.notify) == (reason, notify)
    with pytest.raises(MalformedMessage):
        validate(rule, changed)
    counted = set(rejection_counters(problem, rule, decrypted=message.header.encrypted,
                                     message_id=changed.header.message_id))
    assert counted == counters
    for group, counter in counted:
        assert counter in COUNTER_GROUPS[group]


def test_unexpected_payload_offset_points_at_it():
    rule, message = sample("QM3")
    problem = check_payloads(rule, with_payloads(message, message.payloads + (Delete(Doi.IPSEC, 3, (b"abcd",)),)))
    assert problem.offset == 28 + 4 + len(message.payloads[0].data)
    assert problem.payload == PayloadType.D


def test_codec_rejections_count_in_general_clear_or_decrypted():
    assert rejection_counters(MalformedMessage(Rejection.RESERVED_NOT_ZERO, 40)) == (
        ("general", "msgRxPayBadReserved"),)
    assert rejection_counters(MalformedMessage(Rejection.RESERVED_NOT_ZERO, 40), decrypted=True) == (
        ("general", "rxDecryptPayBadRsvd"),)
    assert rejection_counters(MalformedMessage(Rejection.INVALID_PAYLOAD_TYPE, 16)) == (
        ("general", "msgRxBadNextPayload"),)
    assert rejection_counters(MalformedMessage(Rejection.INVALID_EXCHANGE_TYPE, 18), message_id=7) == (
        ("general", "msgRxPh2UnkwonXchgType"),)
    for reason in Rejection:
        if reason in GENERAL_COUNTERS:
            for name in GENERAL_COUNTERS[reason]:
                assert name in COUNTER_GROUPS["general"]


def possible_rejections(rule):
    """The reasons a message of ``rule`` can be rejected for."""
    allowed = {r.payload for r in rule.payloads}
    impossible = {Rejection.SA_NOT_FIRST} if rule.first is not SecurityAssociation else set()
    impossible |= {Rejection.HASH_NOT_FIRST} if rule.first is not Hash else set()
    impossible |= {Rejection.NONCE_LENGTH} if Nonce not in allowed else set()
    if SecurityAssociation not in allowed:
        impossible |= {Rejection.DOI_NOT_SUPPORTED, Rejection.SITUATION_NOT_SUPPORTED, Rejection.INVALID_PROTOCOL_ID}
    if not rule.chosen_proposal:
        impossible |= {Rejection.MORE_THAN_ONE_PROPOSAL, Rejection.MORE_THAN_ONE_TRANSFORM}
    return [reason for reason in Rejection if reason not in impossible]


def test_every_rejection_counts_somewhere_for_every_rule():
    for rule in RULES.values():
        for reason in possible_rejections(rule):
            for payload in (None, PayloadType.HASH, PayloadType.NONCE):
                counted = rejection_counters(MalformedMessage(reason, 28, payload=payload), rule, decrypted=True)
                assert counted, (rule.name, reason)


def manual_counter_names(heading):
    """Counter names of the figure under ``heading`` in show-outputs.md."""
    text = SHOW_OUTPUTS.read_text()
    figure = text[text.index(heading):].split("```text\n", 1)[1].split("```", 1)[0]
    return re.findall(r"([A-Za-z][A-Za-z0-9]+)\s+\d+", figure)


@pytest.mark.parametrize("group, heading", [
    ("aggressive", "### 11.1 "), ("general", "### 11.2 "), ("heartbeat", "### 11.3 "), ("info", "### 11.4 "),
    ("main", "### 11.6 "), ("network", "### 11.7 "), ("transaction", "### 11.11 ")])
def test_counter_schema_equals_the_manuals_figure(group, heading):
    assert COUNTER_GROUPS[group] == tuple(manual_counter_names(heading))


def test_quick_counter_blocks_equal_the_manuals_figure():
    quick = [name for key, names in COUNTER_GROUPS.items() if key.startswith("quick.") for name in names]
    assert sorted(quick) == sorted(manual_counter_names("### 11.8 "))
    assert "unexpectedMessage" in COUNTER_GROUPS["quick.initiator.errors"]
    assert "unexpectedMessage" in COUNTER_GROUPS["quick.responder.errors"]
    assert "propBadProtid" in COUNTER_GROUPS["quick.responder.hashSaNonce"]


def test_every_rule_judges_every_capture_message_without_crashing():
    for frame, own_rule, message in numbered_capture():
        accepted = set()
        for rule in RULES.values():
            problem = check_header(rule, message.header) or check_payloads(rule, message)
            assert problem is None or isinstance(problem, MalformedMessage), (frame, rule.name)
            if problem is None:
                accepted.add(rule.name)
        # only the own rule, or its twin of the same shape (MM3/MM4, QM1/QM2, ...)
        assert own_rule.name in accepted and len(accepted) <= 2, (frame, accepted)
        assert {RULES_BY_NAME[name].exchange for name in accepted} == {own_rule.exchange}


RULES_BY_NAME = {rule.name: rule for rule in RULES.values()}
