# Ref: ../shared/spec/show-outputs.md section 11 (show isakmp counters, Figures 48-26 .. 48-37)
# Ref: ../shared/spec/isakmp-commands.md (reset isakmp counters categories)
"""The ISAKMP counters a dropped message increments, named as the manual prints them.

:data:`COUNTER_GROUPS` is the schema: for each ``show isakmp counters``
category that message handling feeds (``aggressive``, ``general``,
``heartbeat``, ``info``, ``main``, ``network``, ``transaction``, and the
``quick`` blocks, keyed ``quick.<initiator|responder>[.<block>]`` because
the Quick Mode figure repeats names under its Initiator and Responder
headings) the counter names in figure order; the database categories
(``ipsec``, ``sad``, ``spd``, ``xdb``) too, where a Good/Failed (or
success/fail) table's counters are ``(row, column)`` pairs.
:data:`COUNTER_SCHEMAS` is the same as one
:class:`~pacsim.firmware.state.counters.CounterSchema` per group, and
:data:`CATEGORIES` the twelve categories of ``show``/``reset isakmp
counters`` in the syntax's order.

:func:`rejection_counters` maps a :class:`~.errors.MalformedMessage` to
the ``(group, name)`` pairs it increments: one ``general`` counter for
what the codec saw (clear or decrypted body), plus the exchange's own
counter when the message's :class:`~.rules.MessageRule` is known.

:class:`IsakmpCounters` keeps the values, a
:class:`~pacsim.firmware.state.counters.CounterSet` per group; a name
outside the schema raises :class:`UnknownCounter`, so a misspelt counter
is a bug found at once.
"""

from ..state.counters import CounterSchema, CounterSet, UnknownCounter
from .constants import ExchangeType, PayloadType
from .errors import Rejection
from .rules import Role

__all__ = ["CATEGORIES", "category_groups", "COUNTER_GROUPS", "COUNTER_SCHEMAS", "GENERAL_COUNTERS",
           "rejection_counters", "IsakmpCounters", "UnknownCounter"]

_FIND_SA = ("by Id", "by peer address", "by cookies", "by policy name", "by peer Notify", "by peer Delete")
_XDB = ("createXchg", "deleteXchgById", "getXchgById", "getXchgByiCookie", "getXchgByrCookie", "getXchgByCookies",
        "getXchgByMsgId", "getXchgByMsgIdAndCookies", "getXchgByPolicy", "getXchgByPeer", "getXchgBySaIdSelectPol")

#: show isakmp counters: group -> counter names, in the manual's figure order.
COUNTER_GROUPS = {
    "aggressive": (
        "initSendSAKE", "initSendSAKECallbackNoXchg", "initRecvSAKEAUTH", "initRecvSAKEAUTHCbkNoXchg",
        "initSendAUTH", "initSendAUTHCallbackNoXchg", "initSendNatD", "initRecvNatD", "respRecvSAKE",
        "respRecvSAKECallbackNoXchg", "respSendSAKEAUTH", "respSendSAKEAUTHCbkNoXchg", "respRecvAUTH",
        "respRecvAUTHCallbackNoXchg", "respSendNatD", "respRecvNatD", "invalidSAKEMessage",
        "invalidSAKEAUTHMessage", "invalidAUTHMessage", "unexpectedMessage", "msgLengthIncorrect",
        "reservedFieldNotZero", "nonceBadLen", "keBadLen", "hashBadLen", "badIDirPayLoad", "badSALifeime",
        "generate3DESKeyFailed", "generateDHPubFailed", "generateDHSecretFailed", "generateKeysFailed",
        "generateKeysGood", "generateLocalDHGood", "generateSharedSecretGood", "generateSKEYIDaFailed",
        "generateSKEYIDdFailed", "generateSKEYIDeFailed", "generateSKEYIDFailed", "decryptIDiiFailed",
        "decryptIDiiGood", "decryptIDirFailed", "decryptIDirGood", "decryptNiFailed", "decryptNiGood",
        "decryptNrFaileD", "decryptNrGood", "encryptIDiiFailed", "encryptIDiiGood", "encryptIDirFailed",
        "encryptIDirGood", "encryptNiFailed", "encryptNiGood", "encryptNrFailed", "encryptNrGood",
        "signFailed", "signGood", "verifySigFailed", "invalidPolicy", "noPolicy", "noTransformChosen",
        "saNotFirst", "moreThanOneProposal", "doiNotIpsec", "situationNotSupported", "proposalIdNotISAKMP",
        "proposalNumNotOne", "tooManyTransforms", "transformInvalid", "peerIdAndIpDifferent", "certNotSent",
        "certSent", "authFailed", "authGood", "cantFindLocalRSAKey", "cantFindPeerRSAKey", "cantLoadSharedKey"),
    "general": (
        "acquire", "acquireNoPolicy", "acquireNoSa", "acquireEquivFound", "acqPh2EquivInProgress",
        "acqPh1XcgStartFailed", "acqPh2XcgStartFailed", "acquireQueued", "acqPeerAddrNameIncons",
        "acquirePrenegNoPolicy", "badSpiRequests", "badSpiFromKnownPeer", "badSpiInAggrMode",
        "badSpiSendNotifyUnset", "msgInitPh1p5StartFail", "doneGood", "donePhase1Failed", "doneSendConNoSa",
        "msgTx", "msgTxd", "txEncryptNoExchange", "msgTxEncryptNoEncoPrc", "msgTxStartEncrypt",
        "txEncryptFail", "txEncryptGood", "msgTxEncryptExpKBytes", "txRetryTxd", "txRetryXchgTimedOut",
        "retryIkeAttemptsPh1", "retryIkeAttemptsPh2", "msgRxd", "msgRxInconsistLengths", "msgRxBadLength",
        "msgRxBadReserved", "msgRxBadVersion", "msgRxBadNextPayload", "msgRxUnexpectedMsg", "msgRxNoExchange",
        "msgRxNoExchangePhase1", "msgRxP1NoXcgNot1stMsg", "msgRxPh1UnkwnXchgType", "msgRxPh1XchgStartFail",
        "msgRxPh1MsgIdNotZero", "msgRxP15XchgStartFail", "msgRxPhase2NoSa", "msgRxNoExchangePhase2",
        "msgRxPh2XchgStartFail", "msgRxPh2UnkwonXchgType", "msgRxEncrypted", "msgRxEncryptdUnexpect",
        "msgRxBadPad", "msgRxBadPadLength", "msgRxPayBadNextPay", "msgRxPayBadReserved",
        "msgRxDecryptNoEncoPrc", "msgRxStartDecrypt", "msgRxPlain", "msgRxPlainUnexpected",
        "msgRxBadPortIpChange", "msgRxFailOldPort", "msgRxPayBadLength", "rxDecryptNoExchange",
        "rxDecryptedBadLength", "rxDecryptGood", "rxDecryptFail", "rxDecryptedBadPad",
        "rxDecryptBadPadLength", "rxDecrptPayBadNextPay", "rxDecryptPayBadRsvd", "rxDecryptPayBadLength",
        "infoNoMatchingPolicy", "infoPh1NotifyDisabled", "infoPh1NoDelAllowed", "infoPh1ExchgStartFail",
        "infoPh2SANotFound", "infoPh2SANotActive", "infoPh2NotifyDisabled", "infoPh2DeleteDisabled",
        "infoPh2XchgStartFail", "deleteDelayStarted", "deleteDelayNotUsed", "deleteDelayPktsRxd",
        "deleteDelayRetrySent", "deleteDelayConSent", "deleteDelayConNoSA", "deleteDelayTxExceeded",
        "deleteDelayPktDiff"),
    "ipsec": (
        "acquire", "acquireFailedDisabled", "commit", "commitFailedDisabled", "deleteSaBadLength",
        "checkMatchAttrBadType", "checkMatchAttrSeenTwice", "chkMtchAttrsBadLen", "chkMtchAttrsLifValMsng",
        "chkMtchAttrLifValBadLen", "chkMtchAttrsBadVal", "chkMtchAttrsLifTypeMsng", "chkMtchAttrssUnsupp",
        "chkMtchAttrsVarUnexp"),
    "sad": ("createGood", "deleteGood", "deleteFailed", "expireNoSa", "softExpireNoSa",
            *((row, column) for row in _FIND_SA for column in ("success", "fail"))),
    "spd": (
        "getPolicyGood", "getPolicyFailed", "deletePolicyGood", "deletePolicyFailed", "addPolicyGood",
        "addPolicyFailed", "getPolicyByPeerGood", "getPolicyByPeerFailed", "usePolIkeRetryGood",
        "usePolIkeRetryFailed"),
    "xdb": tuple((row, column) for row in _XDB for column in ("Good", "Failed")),
    "heartbeat": (
        "startXchgInitiator", "startXchgResponder", "initXchgComplete", "respXchgComplete", "txMsg", "rxMsg",
        "startXchgInitNotCfgd", "startXchgRespNotCfgd", "rxUnexpectedPayload", "rxInvalidSeqno",
        "rxHashUnexpectedLen", "rxNotifyPayInvalid", "rxBadHash", "rxExtraPayloads"),
    "info": (
        "startXchgInitiator", "startXchgResponder", "startInfoXchgProtected", "startInfoXchgUnprotected",
        "rxMsgWithHashNoCryptInfo", "rxMsgHashFail", "rxMsgHashSuccess", "rxMsgUnexpectHashPayload",
        "rxMsgProcessNotifyPayload", "rxMsgProcessDeletePayload", "rxMsgProcessNotifyPayloadErr",
        "rxMsgProcessDeletePayloadErr", "rxMsgUnexpectedPayload", "rxMsgDelPayloadUnprotect",
        "rxMsgNonZeroReservedField", "rxMsgProcessingComplete", "txMsgNotifyDenyIkmpPolicy",
        "txMsgDeleteDenyIkmpPolicy", "txMsgSentCallBack", "txMsgCreateXchgFailed", "txMsgStartPhase1XchgFail",
        "txMsgStartPhase2XchgFail", "txNotifyMsg", "txDeleteMsg", "txMsgDeleteSANotFound",
        "txMsgDeleteDOINotValid", "processNotify", "processDelete", "processNotifyResNotZero",
        "processNotifyDoiInvalid", "processNotifyInvalidProtId", "processDeleteReservedNotZero",
        "processDeleteDoiInvalid", "processDeleteInvalidProtId", "createNotifyDoiInvalid",
        "createNotifyMsgTypeReserved", "createNotifyMsgTypePrivate", "xchgCompleteSucessfull"),
    "main": (
        "initSendSA", "initRecvSA", "initSendKE", "initSendKECallbackNoXchg", "initSendNatD", "initRecvNatD",
        "initRecvKE", "initRecvKECallbackNoXchg", "initSendAUTH", "initSendAUTHCallbackNoXchg",
        "initRecvAUTH", "initRecvAUTHCallbackNoXchg", "respRecvSA", "respRecvSACallbackNoXchg", "respSendSA",
        "respSendKE", "respSendNatD", "respRecvNatD", "respSendKECallbackNoXchg", "respRecvKE",
        "respRecvKECallbackNoXchg", "respRecvAUTH", "respRecvAUTHCallbackNoXchg", "respSendAUTH",
        "respSendAUTHCallbackNoXchg", "invalidSAMessage", "invalidKEMessage", "invalidAUTHMessage",
        "unexpectedMessage", "msgLengthIncorrect", "reservedFieldNotZero", "nonceBadLen", "keBadLen",
        "hashBadLen", "badIDirPayLoad", "badSALifeime", "generate3DESKeyFailed", "generateDHPubFailed",
        "generateDHSecretFailed", "generateKeysFailed", "generateKeysGood", "generateLocalDHGood",
        "generateSharedSecretGood", "generateSKEYIDaFailed", "generateSKEYIDdFailed", "generateSKEYIDeFailed",
        "generateSKEYIDFailed", "decryptIDiiFailed", "decryptIDiiGood", "decryptIDirFailed",
        "decryptIDirGood", "decryptNiFailed", "decryptNiGood", "decryptNrFailed", "decryptNrGood",
        "encryptIDiiFailed", "encryptIDiiGood", "encryptIDirFailed", "encryptIDirGood", "encryptNiFailed",
        "encryptNiGood", "encryptNrFailed", "encryptNrGood", "signFailed", "signGood", "verifySigFailed",
        "invalidPolicy", "noPolicy", "noTransformChosen", "saNotFirst", "moreThanOneProposal", "doiNotIpsec",
        "situationNotSupported", "proposalIdNotISAKMP", "proposalNumNotOne", "tooManyTransforms",
        "transformInvalid", "peerIdAndIpDifferent", "certNotSent", "certSent", "authFailed", "authGood",
        "cantFindLocalRSAKey", "cantFindPeerRSAKey", "cantLoadSharedKey", "certNotSupported"),
    "network": (
        "opened", "openFail", "openAlreadyOpened", "closed", "closeFail", "closeNotOpened", "rx",
        "rxFailNoNonEspMarker", "tx", "txFail", "txNotOpened"),
    "transaction": (
        "msgLengthIncorrect", "reservedFieldNotZero", "tooManyAttributes", "unexpectedAttributes",
        "hashNotFirst", "hashTooBig", "hashInvalid", "unexpectedMessage", "unexpectedCfgMessage",
        "unexpectedHashPayload", "authGood", "authFailed", "xAuthNoSA", "xAuthNotEncrypted",
        "proccessXAuthCallbackNoSa", "unsupportedAttribute", "ackRecv", "ackSent", "repRecv", "repSent",
        "reqRecv", "reqSent", "setRecv", "setSent"),
    "quick.initiator": (
        "startExchange", "exchangeGood", "hashSaNonceSent", "hashSent", "hashSaNonceReceived",
        "hashSaNonceRcvdGood", "connectedReceived", "connectedReceivedGood", "natOaSent", "natOaReceived",
        "hashSaNonceExpKByte", "connectedExpKByte"),
    "quick.responder": (
        "startExchange", "exchangeGood", "hashSaNonceSent", "hashSaNonceReceived", "hashSaNonceRcvdGood",
        "hashReceived", "hashReceivedGood", "hashSaNonceExpKByte", "hashExpKByte", "natOaSent",
        "natOaReceived"),
    "quick.initiator.errors": (
        "initHash2Fail", "initDHGenFail", "initStartCBFailed", "initStartCBNoXchg", "initProc1CBFailed",
        "initProc1CBNoXchg", "initHash4Fail", "unexpectedMessage"),
    "quick.initiator.hashSaNonce": (
        "invalidPayloadType", "hashPayMissing", "hashUnexpectedLen", "saNoMatch", "saBadLen", "saBadDoi",
        "saBadSituation", "saLenTooShort", "saPayMissing", "saPropInconsistLen", "propNoMatch", "propBadLen",
        "propTranInconsistLen", "propBadNextPayload", "propBadRsv", "propMultipleTrans", "propTooManyProps",
        "tranBadLen", "tranBadNextPayload", "tranBadRsv", "attrBad", "nonceBadLen", "noncePayMissing",
        "nonceSeenTwice", "idsSeenTwice", "idciBad", "idcrBad", "idcrPayMissing", "keSeenTwice", "badNatOa"),
    "quick.initiator.connected": (
        "hashPayMissing", "invalidPayloadType", "hashBadLen"),
    "quick.responder.errors": (
        "respAcquireNoPolicy", "respRemotePropNoMatch", "respHash1Fail", "respHash3Fail", "respProc2CBFailed",
        "respProc2CBNoXchg", "respProc3CBFailed", "respProc3CBNoXchg", "unexpectedMessage"),
    "quick.responder.hashSaNonce": (
        "invalidPayloadType", "hashPayMissing", "hashUnexpectedLen", "noncePayMissing", "nonceSeenTwice",
        "nonceBadLen", "saPayMissing", "saPayBad", "saLenTooLong", "saLenTooShort", "saBadDoi",
        "saBadSituation", "saPropInconsistLen", "propLenTooLong", "propLenTooShort", "propBadLen",
        "propBadRsv", "propBadNextPayload", "propBadNumber", "propBadProtid", "propBadSpiSize",
        "propNoTransforms", "propTranInconsistLen", "tranBadLen", "tranBadNextPayload", "tranBadNumber",
        "tranBadRsv2", "tranTransId", "attrBad", "idsSeenTwice", "idciBadType", "idcrBadType",
        "idcrPayMissing", "keSeenTwice", "badNatOa"),
    "quick.responder.hash": (
        "hashPayMissing", "invalidPayloadType", "hashBadLen"),
}

#: One counter schema per group of :data:`COUNTER_GROUPS`.
COUNTER_SCHEMAS = {group: CounterSchema(f"ISAKMP {group}", names) for group, names in COUNTER_GROUPS.items()}
#: The categories of ``show``/``reset isakmp counters`` (quick: every ``quick.*`` group).
CATEGORIES = ("aggressive", "general", "heartbeat", "info", "ipsec", "main", "network", "quick", "sad", "spd",
              "transaction", "xdb")


def category_groups(category):
    """The groups of :data:`COUNTER_GROUPS` a category shows and clears (``quick``: every ``quick.*`` block)."""
    return [group for group in COUNTER_GROUPS if group.split(".")[0] == category]

#: general counter per rejection: (clear message, decrypted body). Header
#: faults come before any decryption and count the same either way.
GENERAL_COUNTERS = {
    Rejection.SHORT_DATAGRAM: ("msgRxBadLength", "msgRxBadLength"),
    Rejection.LENGTH_MISMATCH: ("msgRxInconsistLengths", "msgRxInconsistLengths"),
    Rejection.INVALID_MAJOR_VERSION: ("msgRxBadVersion", "msgRxBadVersion"),
    Rejection.INVALID_MINOR_VERSION: ("msgRxBadVersion", "msgRxBadVersion"),
    Rejection.INVALID_FLAGS: ("msgRxBadReserved", "msgRxBadReserved"),
    Rejection.INVALID_COOKIE: ("msgRxUnexpectedMsg", "msgRxUnexpectedMsg"),
    Rejection.INVALID_PAYLOAD_TYPE: ("msgRxPayBadNextPay", "rxDecrptPayBadNextPay"),
    Rejection.RESERVED_NOT_ZERO: ("msgRxPayBadReserved", "rxDecryptPayBadRsvd"),
    Rejection.PAYLOAD_LENGTH: ("msgRxPayBadLength", "rxDecryptPayBadLength"),
    Rejection.PAYLOAD_MALFORMED: ("msgRxPayBadLength", "rxDecryptPayBadLength"),
    Rejection.BAD_PADDING_LENGTH: ("msgRxBadPadLength", "rxDecryptBadPadLength"),
    Rejection.ENCRYPTED_UNEXPECTED: ("msgRxEncryptdUnexpect", "msgRxEncryptdUnexpect"),
    Rejection.PLAIN_UNEXPECTED: ("msgRxPlainUnexpected", "msgRxPlainUnexpected"),
    Rejection.INVALID_MESSAGE_ID: ("msgRxUnexpectedMsg", "msgRxUnexpectedMsg"),   # phase 2 with ID zero
}
#: The header's own next-payload octet (offset 16) has its own counter.
_HEADER_NEXT_PAYLOAD_OFFSET = 16

#: main/aggressive: payload-rule faults count as an invalid message of that step.
_PHASE1_INVALID_MESSAGE = {
    ("main", 1): "invalidSAMessage", ("main", 2): "invalidSAMessage",
    ("main", 3): "invalidKEMessage", ("main", 4): "invalidKEMessage",
    ("main", 5): "invalidAUTHMessage", ("main", 6): "invalidAUTHMessage",
    ("aggressive", 1): "invalidSAKEMessage", ("aggressive", 2): "invalidSAKEAUTHMessage",
    ("aggressive", 3): "invalidAUTHMessage",
}
_PHASE1 = {
    Rejection.SA_NOT_FIRST: "saNotFirst", Rejection.DOI_NOT_SUPPORTED: "doiNotIpsec",
    Rejection.SITUATION_NOT_SUPPORTED: "situationNotSupported", Rejection.INVALID_PROTOCOL_ID: "proposalIdNotISAKMP",
    Rejection.NONCE_LENGTH: "nonceBadLen", Rejection.RESERVED_NOT_ZERO: "reservedFieldNotZero",
    Rejection.PAYLOAD_LENGTH: "msgLengthIncorrect", Rejection.PAYLOAD_MALFORMED: "msgLengthIncorrect",
    Rejection.MORE_THAN_ONE_PROPOSAL: "moreThanOneProposal", Rejection.MORE_THAN_ONE_TRANSFORM: "tooManyTransforms",
    Rejection.INVALID_COOKIE: "unexpectedMessage", Rejection.INVALID_MESSAGE_ID: "unexpectedMessage",
    Rejection.ENCRYPTED_UNEXPECTED: "unexpectedMessage", Rejection.PLAIN_UNEXPECTED: "unexpectedMessage",
}
_PAYLOAD_RULE_FAULTS = (Rejection.UNEXPECTED_PAYLOAD, Rejection.MISSING_PAYLOAD, Rejection.REPEATED_PAYLOAD,
                        Rejection.HASH_NOT_FIRST, Rejection.INVALID_PAYLOAD_TYPE)

#: quick mode: (rejection, payload or None) -> counter, looked up in the receiving block.
_QUICK = {
    (Rejection.UNEXPECTED_PAYLOAD, None): "invalidPayloadType",
    (Rejection.INVALID_PAYLOAD_TYPE, None): "invalidPayloadType",
    (Rejection.HASH_NOT_FIRST, None): "hashPayMissing",
    (Rejection.MISSING_PAYLOAD, PayloadType.HASH): "hashPayMissing",
    (Rejection.MISSING_PAYLOAD, PayloadType.SA): "saPayMissing",
    (Rejection.MISSING_PAYLOAD, PayloadType.NONCE): "noncePayMissing",
    (Rejection.MISSING_PAYLOAD, PayloadType.N): "invalidPayloadType",
    (Rejection.REPEATED_PAYLOAD, PayloadType.NONCE): "nonceSeenTwice",
    (Rejection.REPEATED_PAYLOAD, PayloadType.ID): "idsSeenTwice",
    (Rejection.REPEATED_PAYLOAD, PayloadType.KE): "keSeenTwice",
    (Rejection.REPEATED_PAYLOAD, PayloadType.NAT_OA): "badNatOa",
    (Rejection.REPEATED_PAYLOAD, PayloadType.NAT_OA_DRAFT): "badNatOa",
    (Rejection.REPEATED_PAYLOAD, None): "invalidPayloadType",
    (Rejection.NONCE_LENGTH, None): "nonceBadLen",
    (Rejection.DOI_NOT_SUPPORTED, None): "saBadDoi",
    (Rejection.SITUATION_NOT_SUPPORTED, None): "saBadSituation",
    (Rejection.INVALID_PROTOCOL_ID, None): "propBadProtid",
    (Rejection.MORE_THAN_ONE_PROPOSAL, None): "propTooManyProps",
    (Rejection.MORE_THAN_ONE_TRANSFORM, None): "propMultipleTrans",
    (Rejection.PAYLOAD_LENGTH, None): "hashBadLen",
    (Rejection.PAYLOAD_MALFORMED, None): "hashBadLen",
}
#: quick mode message number -> the receiver's block of its receive errors.
_QUICK_BLOCK = {1: "hashSaNonce", 2: "hashSaNonce", 3: "hash", 4: "connected"}

_INFO = dict.fromkeys(_PAYLOAD_RULE_FAULTS, "rxMsgUnexpectedPayload") | {
    Rejection.RESERVED_NOT_ZERO: "rxMsgNonZeroReservedField"}
_TRANSACTION = dict.fromkeys(_PAYLOAD_RULE_FAULTS, "unexpectedCfgMessage") | {
    Rejection.HASH_NOT_FIRST: "hashNotFirst", Rejection.RESERVED_NOT_ZERO: "reservedFieldNotZero",
    Rejection.PAYLOAD_LENGTH: "msgLengthIncorrect", Rejection.PAYLOAD_MALFORMED: "msgLengthIncorrect",
    Rejection.PLAIN_UNEXPECTED: "xAuthNotEncrypted", Rejection.INVALID_MESSAGE_ID: "unexpectedMessage"}


def _general(problem, decrypted, message_id):
    if problem.reason is Rejection.INVALID_EXCHANGE_TYPE:
        return "msgRxPh2UnkwonXchgType" if message_id else "msgRxPh1UnkwnXchgType"
    if problem.reason is Rejection.INVALID_PAYLOAD_TYPE and problem.offset == _HEADER_NEXT_PAYLOAD_OFFSET:
        return "msgRxBadNextPayload"
    if problem.reason is Rejection.INVALID_MESSAGE_ID and message_id:
        return "msgRxPh1MsgIdNotZero"
    names = GENERAL_COUNTERS.get(problem.reason)
    return names and names[decrypted]


def _exchange(problem, rule):
    """(group, name) of the exchange's own counter for ``problem``, or None."""
    reason = problem.reason
    if rule.exchange in (ExchangeType.MAIN, ExchangeType.AGGRESSIVE):
        group = "main" if rule.exchange == ExchangeType.MAIN else "aggressive"
        name = (_PHASE1_INVALID_MESSAGE[(group, rule.number)] if reason in _PAYLOAD_RULE_FAULTS
                else _PHASE1.get(reason))
        return name and (group, name)
    if rule.exchange == ExchangeType.QUICK:
        receiver, block = "responder" if rule.sender is Role.INITIATOR else "initiator", _QUICK_BLOCK[rule.number]
        name = _QUICK.get((reason, problem.payload), _QUICK.get((reason, None)))
        for group in (f"quick.{receiver}.{block}", f"quick.{receiver}.errors"):
            if name in COUNTER_GROUPS[group]:
                return group, name
        return f"quick.{receiver}.errors", "unexpectedMessage"
    table, group = ((_INFO, "info") if rule.exchange == ExchangeType.INFORMATIONAL else (_TRANSACTION, "transaction"))
    name = table.get(reason)
    return name and (group, name)


def rejection_counters(problem, rule=None, decrypted=False, message_id=0):
    """The ``(group, counter name)`` pairs a dropped message increments.

    ``problem``: the :class:`~.errors.MalformedMessage`; ``rule``: the
    message's :class:`~.rules.MessageRule` when the exchange step is known;
    ``decrypted``: the fault was found in a decrypted body; ``message_id``:
    the header's message ID (phase 1 when zero).
    """
    found = []
    general = _general(problem, int(decrypted), message_id)
    if general:
        found.append(("general", general))
    exchange = rule and _exchange(problem, rule)
    if exchange:
        found.append(exchange)
    return tuple(found)


class IsakmpCounters:
    """The values of the ``show isakmp counters`` of one daemon: a
    :class:`~pacsim.firmware.state.counters.CounterSet` per group of
    :data:`COUNTER_SCHEMAS`.

    :meth:`increment` takes a group and a name of :data:`COUNTER_GROUPS`;
    :meth:`get`, :meth:`group`, :meth:`snapshot` and :meth:`reset` read
    and clear them. An unknown group or name raises :class:`UnknownCounter`.
    """

    def __init__(self):
        self._sets = {group: CounterSet(schema) for group, schema in COUNTER_SCHEMAS.items()}

    def _set(self, group):
        if group not in self._sets:
            raise UnknownCounter("ISAKMP counters", group)
        return self._sets[group]

    def increment(self, group, name, by=1):
        """Add ``by`` to counter ``name`` of ``group``."""
        self._set(group).count(name, by)

    def get(self, group, name):
        """The value of one counter."""
        return self._set(group)[name]

    def group(self, group):
        """``{name: value}`` of ``group`` in the manual's order."""
        return dict(self._set(group).items())

    def snapshot(self, group):
        """The frozen :class:`~pacsim.firmware.state.counters.CounterSnapshot` of ``group``."""
        return self._set(group).snapshot()

    def nonzero(self):
        """``{(group, name): value}`` of every counter that is not zero."""
        return {(group, name): value for group, counters in self._sets.items()
                for name, value in counters.items() if value}

    def reset(self, categories=None):
        """Clear every counter, or those of ``categories`` (of :data:`CATEGORIES`;
        ``quick`` clears every quick block)."""
        for category in CATEGORIES if categories is None else categories:
            for group in category_groups(category):
                self._sets[group].reset()
