# Ref: spec/show-outputs.md §3 (show ipsec counter), §5 (show ipsec policy counter), §8 (show ipsec sa counter)
"""AlliedWare IPsec counter displays: every counter ``show ipsec counter``,
``show ipsec policy counter`` and ``show ipsec sa counter`` print, in figure
order, with each block's heading and column layout, and the formatters.

"Everything that happens is counted" (DESIGN.md principle 6). Whoever
counts (the data plane, :class:`~pacsim.firmware.ipsec.module.IpsecModule`)
keeps the values; the formatters read
:class:`~pacsim.firmware.state.counters.CounterSnapshot` objects. The same
name appears in several blocks with different meanings (``bufChainCopy`` in
AH inbound and outbound...), so a counter of a ``show ipsec counter`` group
or of a policy is named by its block key and its name, ``(block, name)``:
the block keys are the ``key`` of each block below (``"setup"``, ``"out"``,
``"in"``...); the Good/Failed tables name their counters ``"<row> good"``
and ``"<row> failed"``. The figures are where these names are defined:
:func:`blocks_schema` makes the schema of a group from its blocks
(:data:`IPSEC_COUNTER_SCHEMAS`, :data:`POLICY_COUNTERS`). An SA's counters
are named by name alone
(:data:`~pacsim.firmware.ipsec.counters.SA_COUNTERS`).

- :data:`IPSEC_COUNTER_GROUPS`: the categories of ``show ipsec counter``
  (AH, ALG, COMP, ESP, MAIN, SAD, SETUP, SPD), in the manual's order;
- :data:`POLICY_COUNTER_BLOCKS`: ``show ipsec policy counter``, per policy;
- :data:`SA_COUNTER_BLOCKS`: ``show ipsec sa counter``, per SA.

Names and headings are the figures' own (``bundlespecAdd``, `` SHA:``),
except ``in UdpHeartBeat``, printed ``inUdpHeartBeat`` as the parameter
table spells it (show-outputs.md §3.5). Each block has the column layout of
its figure; where single lines of a figure deviate from their block's
layout (``desEncodeGetInfoFail``) the displays do not copy them.
"""
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from ...cli.layout import CounterLayout, join_lines
from ...state.counters import CounterSchema, CounterSnapshot

__all__ = [
    "CounterBlock", "GoodFailedBlock", "GoodFailedLayout", "CounterGroup", "CounterValues", "counter_names",
    "blocks_schema", "format_blocks", "show_ipsec_counters", "show_policy_counters", "show_sa_counters",
    "IPSEC_COUNTER_GROUPS", "IPSEC_COUNTER_SCHEMAS", "POLICY_COUNTER_BLOCKS", "POLICY_COUNTERS",
    "SA_COUNTER_BLOCKS",
]

#: How a block reads a counter: ``values(block_key, name) -> int``.
CounterValues = Callable[[str, str], int]


@dataclass(frozen=True)
class CounterBlock:
    """A two-column counter list under a heading. ``rows`` hold (left,
    right) counter names, None for an empty cell. ``blank_after_heading``
    and ``blank_before`` reproduce the figures' blank lines."""
    key: str
    heading: str
    layout: CounterLayout
    rows: tuple[tuple[str | None, str | None], ...]
    blank_after_heading: bool = False
    blank_before: bool = True

    def names(self) -> Iterator[str]:
        """The counter names in display order."""
        for left, right in self.rows:
            if left is not None:
                yield left
            if right is not None:
                yield right

    def lines(self, values: CounterValues) -> list[str]:
        out = [self.heading]
        if self.blank_after_heading:
            out.append("")
        for left, right in self.rows:
            out.append(self.layout.row(None if left is None else (left, values(self.key, left)),
                                       None if right is None else (right, values(self.key, right))))
        return out


@dataclass(frozen=True)
class GoodFailedLayout:
    """Columns of a Good/Failed table: where labels start, where the Good
    and Failed values end, and where the two column headings end."""
    label: int
    good_end: int
    failed_end: int
    good_heading_end: int
    failed_heading_end: int


@dataclass(frozen=True)
class GoodFailedBlock:
    """A table of operations with a Good and (for most rows) a Failed count.
    ``rows`` hold (label, has_failed)."""
    key: str
    heading: str
    layout: GoodFailedLayout
    rows: tuple[tuple[str, bool], ...]
    blank_before: bool = True

    def names(self) -> Iterator[str]:
        for label, has_failed in self.rows:
            yield f"{label} good"
            if has_failed:
                yield f"{label} failed"

    def lines(self, values: CounterValues) -> list[str]:
        lay = self.layout
        head = " " * (lay.good_heading_end - 4) + "Good"
        head += " " * (lay.failed_heading_end - 6 - len(head)) + "Failed"
        out = [self.heading, head]
        for label, has_failed in self.rows:
            line = " " * lay.label + label
            good = str(values(self.key, f"{label} good"))
            line += " " * max(lay.good_end - len(line) - len(good), 1) + good
            if has_failed:
                failed = str(values(self.key, f"{label} failed"))
                line += " " * max(lay.failed_end - len(line) - len(failed), 1) + failed
            out.append(line)
        return out


@dataclass(frozen=True)
class CounterGroup:
    """A category of ``show ipsec counter``: its blocks in order."""
    name: str
    blocks: tuple[CounterBlock | GoodFailedBlock, ...]


def counter_names(blocks: Iterable[CounterBlock | GoodFailedBlock]) -> set[tuple[str, str]]:
    """Every (block key, name) the blocks display."""
    return {(b.key, n) for b in blocks for n in b.names()}


def blocks_schema(group: str, blocks: Iterable[CounterBlock | GoodFailedBlock]) -> CounterSchema:
    """The schema of the counters ``blocks`` display: ``(block key, name)`` in display order."""
    return CounterSchema(group, tuple((b.key, n) for b in blocks for n in b.names()))


def format_blocks(blocks: Iterable[CounterBlock | GoodFailedBlock], values: CounterValues) -> list[str]:
    """The lines of several blocks, with the figures' blank lines between them."""
    out: list[str] = []
    for i, b in enumerate(blocks):
        if i and b.blank_before:
            out.append("")
        out += b.lines(values)
    return out


AH_BLOCKS = (
    CounterBlock("setup", "AH setup/remove counters", CounterLayout(2, 30, 34, 60), (
        ("setupGetSaFailed", "setupFailed"),
        ("setupDone", None),
        ("removeGetSaFailed", "removeNothingDone"),
        ("removeDone", None),
    )),
    CounterBlock("out", "AH outbound processing counters", CounterLayout(2, 30, 34, 60), (
        ("bufChainCopy", "seqNumberCycled"),
        ("hashStart", "hashFailImm"),
        ("hashDoneGetSaFail", "hashFail"),
        ("hashDoneSaBadState", "hashGood"),
    )),
    CounterBlock("in", "AH inbound processing counters", CounterLayout(2, 30, 34, 60), (
        ("bufChainCopy", "replayedPacket"),
        ("icvInvalid", "badPayloadLength"),
        ("hashStart", "hashFailImm"),
        ("hashDoneGetSaFail", "hashFail"),
        ("hashDoneSaBadState", "hashGood"),
    )),
)

ALG_BLOCKS = (
    CounterBlock("general", "General Algorithm Counters", CounterLayout(2, 29, 32, 59), (
        ("nullKeymatProcessed", None),
    )),
    CounterBlock("des", "DES:", CounterLayout(2, 29, 33, 60), (
        ("desKeymatProcessed", None),
        ("desAttachFail", "desAttachGood"),
        ("desConfigureFail", "desConfigureGood"),
        ("desRemove", "desDetached"),
        ("desEncodeGood", "desDecodeGood"),
        ("desEncodeFail", "desDecodeFail"),
        ("desEncodeDiscard", "desDecodeDiscard"),
        ("desEncodeGetInfoFail", None),
    ), blank_before=False),
    CounterBlock("3desinner", "TRIPLE DES INNER:", CounterLayout(1, 28, 31, 58), (
        ("3DesInnerKeymatProcessed", None),
        ("3DesInnerAttachFail", "3DesInnerAttachGood"),
        ("3DesInnerConfigureFail", "3DesInnerConfigureGood"),
        ("3DesInnerRemove", "3DesInnerDetached"),
        ("3DesInnerEncodeGood", "3DesInnerDecodeGood"),
        ("3DesInnerEncodeFail", "3DesInnerDecodeFail"),
        ("3DesInnerEncodeDiscard", "3DesInnerDecodeDiscard"),
        ("3DesInnerEncGetInfoFail", None),
    ), blank_before=False),
    CounterBlock("3desouter", "TRIPLE DES OUTER:", CounterLayout(1, 28, 31, 58), (
        ("3DesOuterKeymatProcessed", None),
        ("3DesOuterAttachFail", "3DesOuterAttachGood"),
        ("3DesOuterConfigureFail", "3DesOuterConfigureGood"),
        ("3DesOuterRemove", "3DesOuterDetached"),
        ("3DesOuterEncodeGood", "3DesOuterDecodeGood"),
        ("3DesOuterEncodeFail", "3DesOuterDecodeFail"),
        ("3DesOuterEncodeDiscard", "3DesOuterDecodeDiscard"),
        ("3DesOuterEncGetInfoFail", None),
    ), blank_before=False),
    CounterBlock("3des2key", "TRIPLE DES 2KEY:", CounterLayout(1, 28, 31, 58), (
        ("3Des2KeyKeymatProcessed", None),
        ("3Des2KeyAttachFail", "3Des2KeyAttachGood"),
        ("3Des2KeyConfigureFail", "3Des2KeyConfigureGood"),
        ("3Des2KeyRemove", "3Des2KeyDetached"),
        ("3Des2KeyEncodeGood", "3Des2KeyDecodeGood"),
        ("3Des2KeyEncodeFail", "3Des2KeyDecodeFail"),
        ("3Des2KeyEncodeDiscard", "3Des2KeyDecodeDiscard"),
        ("3Des2KeyEncGetInfoFail", None),
    ), blank_before=False),
    CounterBlock("aes", "AES:", CounterLayout(1, 28, 32, 59), (
        ("aesKeymatProcessed", None),
        ("aesAttachFail", "aesAttachGood"),
        ("aesConfigureFail", "aesConfigureGood"),
        ("aesRemove", "aesDetached"),
        ("aesEncodeGood", "aesDecodeGood"),
        ("aesEncodeFail", "aesDecodeFail"),
        ("aesEncodeDiscard", "aesDecodeDiscard"),
        ("aesEncGetInfoFail", None),
    ), blank_before=False),
    CounterBlock("sha", " SHA:", CounterLayout(1, 28, 32, 59), (
        ("shaKeymatProcessed", None),
        ("shaAttachFail", "shaAttachGood"),
        ("shaConfigureFail", "shaConfigureGood"),
        ("shaRemove", "shaDetached"),
        ("shaEncodeGood", "shaDecodeGood"),
        ("shaEncodeFail", "shaDecodeFail"),
        ("shaEncodeDiscard", "shaDecodeDiscard"),
    ), blank_before=False),
    CounterBlock("md5", "MD5:", CounterLayout(1, 28, 32, 59), (
        ("md5KeymatProcessed", None),
        ("md5AttachFail", "md5AttachGood"),
        ("md5ConfigureFail", "md5ConfigureGood"),
        ("md5Remove", "md5Detached"),
        ("md5EncodeGood", "md5DecodeGood"),
        ("md5EncodeFail", "md5DecodeFail"),
        ("md5EncodeDiscard", "md5DecodeDiscard"),
    ), blank_before=False),
    CounterBlock("desmac", "DES-MAC:", CounterLayout(1, 28, 32, 59), (
        ("desmacKeymatProcessed", None),
        ("desmacAttachFail", "desmacAttachGood"),
        ("desmacConfigureFail", "desmacConfigureGood"),
        ("desmacRemove", "desmacDetached"),
        ("desmacEncodeGood", "desmacDecodeGood"),
        ("desmacEncodeFail", "desmacDecodeFail"),
        ("desmacEncodeDiscard", "desmacDecodeDiscard"),
    ), blank_before=False),
    CounterBlock("lzs", "LZS:", CounterLayout(1, 28, 32, 59), (
        ("lzsKeymatProcessed", None),
        ("lzsAttachFail", "lzsAttachGood"),
        ("lzsConfigureFail", "lzsConfigureGood"),
        ("lzsRemove", "lzsDetached"),
        ("lzsEncodeGood", "lzsDecodeGood"),
        ("lzsEncodeFail", "lzsDecodeFail"),
        ("lzsEncodeDiscard", "lzsDecodeDiscard"),
    ), blank_before=False),
    CounterBlock("ipsec", "IPSec:", CounterLayout(1, 28, 32, 59), (
        ("ipsecKeymatProcessed", None),
        ("ipsecAttachFail", "ipsecAttachGood"),
        ("ipsecConfigureFail", "ipsecConfigureGood"),
        ("ipsecRemove", "ipsecDetached"),
        ("ipsecEncodeGood", "ipsecDecodeGood"),
        ("ipsecEncodeFail", "ipsecDecodeFail"),
        ("ipsecEncodeDiscard", "ipsecDecodeDiscard"),
    ), blank_before=False),
)

COMP_BLOCKS = (
    CounterBlock("setup", "COMP setup/remove counters:", CounterLayout(2, 24, 29, 52), (
        ("setupGetSaFailed", "setupFailed"),
        ("setupDone", None),
        ("removeGetSaFailed", "removeNothingDone"),
        ("removeDone", None),
    )),
    CounterBlock("out", "COMP outbound processing counters:", CounterLayout(2, 24, 29, 52), (
        ("bufChainCopy", "compTooSmall"),
        ("nonExpansionBackoff", "dataExpansion"),
        ("compressionStart", "compressionFailImm"),
        ("compDoneGetSaFail", "compressionFail"),
        ("compDoneSaBadState", "compressionGood"),
    )),
    CounterBlock("in", "COMP inbound processing counters:", CounterLayout(2, 24, 29, 52), (
        ("bufChainCopy", None),
        ("decompressionStart", "decompressionFailImm"),
        ("decompDoneGetSaFail", "decompressionFail"),
        ("decompDoneSaBadState", "decompressionGood"),
    )),
)

ESP_BLOCKS = (
    CounterBlock("setup", "ESP setup/remove counters", CounterLayout(2, 29, 31, 58), (
        ("setupGetSaFailed", "setupEncSetupFailed"),
        ("setupHashSetupFailImm", "setupEncSetupBundleRm"),
        ("setupFailed", "setupDone"),
        ("removeGetSaFailed", "removeNothingDone"),
        ("removeHashFailImm", "removeDone"),
    ), blank_after_heading=True),
    CounterBlock("out", "ESP outbound processing counters", CounterLayout(2, 29, 31, 58), (
        ("bufChainCopy", "seqNumberCycled"),
        ("encryptionStart", "encryptionFailImm"),
        ("encDoneGetSaFail", "encryptionFail"),
        ("encDoneSaBadState", "encryptionGood"),
        ("hashStart", "hashFailImm"),
        ("hashDoneGetSaFail", "hashFail"),
        ("hashDoneSaBadState", "hashGood"),
    )),
    CounterBlock("in", "ESP inbound processing counters", CounterLayout(2, 29, 31, 58), (
        ("bufChainCopy", "icvInvalid"),
        ("paddingInvalid", "replayedPacket"),
        ("hashStart", "hashFailImm"),
        ("hashDoneGetSaFail", "hashFail"),
        ("hashDoneSaBadState", "hashGood"),
        ("decryptionStart", "decryptionFailImm"),
        ("encDoneGetSaFail", "decryptionFail"),
        ("encDoneSaBadState", "decryptionGood"),
    )),
)

MAIN_BLOCKS = (
    CounterBlock("main", "IPsec main packet processing counters:", CounterLayout(2, 27, 31, 57), (
        ("outProcessPkt", "inProcessPkt"),
        ("outNoPolicyFound", "inNoPolicyFound"),
        ("outProcessPktFinished", "inProcessPktFinished"),
        (None, "inProcessPktKeepalive"),
    )),
    CounterBlock("udp", "IPsec over UDP counters:", CounterLayout(2, 27, 31, 57), (
        ("outPkt", "inPkt"),
        ("outPktFail", "inPktBadVersion"),
        (None, "inPktNoPolicy"),
        ("outUdpHeartBeat", "inUdpHeartBeat"),
    )),
)

SETUP_BLOCKS = (
    CounterBlock("setup", "IPsec bundle setup/remove counters:", CounterLayout(2, 29, 32, 57), (
        ("setupGetSaSpecFail", "setupGetPolicyFail"),
        ("setupStarted", "setupSaSetupFailImm"),
        ("setupSaSetupStarted", "setupSaSetupFailed"),
        ("setupDone", "setupFailed"),
        ("setupBundleRemoving", "vpnLicenceExceeded"),
        ("removeStarted", "removeSaSetupStarted"),
        ("removeDone", None),
    )),
)

POLICY_COUNTER_BLOCKS = (
    CounterBlock("setup", "Setup/Remove Counters:", CounterLayout(2, 29, 32, 59), (
        ("setupStarted", "setupSaSetupFailImm"),
        ("setupSaSetupStarted", "setupSaSetupFailed"),
        ("setupDone", "setupFailed"),
        ("removeStarted", "removeSaSetupStarted"),
        ("removeDone", None),
    )),
    CounterBlock("out", "Outbound Packet Processing Counters:", CounterLayout(2, 29, 32, 59), (
        ("outDeny", "outPermit"),
        ("outNoBundle", "outNoBundleFail"),
        ("outMakeSetupStrctFail", "outSetupBundleFail"),
        ("outBundleSoftExpire", "outBundleExpire"),
        ("outProcessStart", "outProcessFailImm"),
        ("outBundleStateBad", "outProcessFail"),
        ("outProcessDone", "outBundleNotFound"),
        ("outNoBundleSqos", None),
    )),
    CounterBlock("in", "Inbound Packet Processing Counters:", CounterLayout(2, 29, 32, 59), (
        ("inDeny", "inPermit"),
        ("inCompUncompressed", "inActionIpsecFail"),
        ("inBundleStateBad", "inNotFirstSaInBundle"),
        ("inProcessStart", "inProcessFailImm"),
        ("inProcessFail", "inProcessDone"),
        ("inEndOfBundle", "inPrematureEndBundle"),
        ("inBundleSaMatchFail", "inPolicyActionFail"),
        ("inPolSelectMatchFail", "inBundleReplaced"),
        ("inBundleSoftExpire", "inBundleExpire"),
        ("inBadDecryptedPkt", "inBadSpiResponse"),
    )),
)

SA_COUNTER_BLOCKS = (
    CounterBlock("out", "Outbound packet processing counters:", CounterLayout(2, 24, 28, 50), (
        ("outProcessStart", "outProcessFailImm"),
        ("outProcessFail", "outProcessDone"),
    )),
    CounterBlock("out.esp", "ESP:", CounterLayout(2, 24, 28, 51), (
        ("espOutBufChainCopy", None),
        ("espEncryptionStart", "espEncryptionFailImm"),
        ("espEncryptionFail", "espEncryptionGood"),
        ("espOutHashStart", "espOutHashFailImm"),
        ("espOutHashFail", "espOutHashGood"),
    ), blank_before=False),
    CounterBlock("out.ah", "AH:", CounterLayout(2, 24, 28, 51), (
        ("ahOutBufChainCopy", "ahSeqNumberCycled"),
        ("ahOutHashStart", "ahOutHashFailImm"),
        ("ahOutHashFail", "ahOutHashGood"),
    ), blank_before=False),
    CounterBlock("out.comp", "IPCOMP:", CounterLayout(2, 24, 28, 51), (
        ("compOutBufChainCopy", "compTooSmall"),
        ("nonExpansionBackoff", "dataExpansion"),
        ("compressionStart", "compressionFailImm"),
        ("compressionFail", "compressionGood"),
    ), blank_before=False),
    CounterBlock("in", "Inbound packet processing counters:", CounterLayout(2, 24, 28, 51), (
        ("inProcessStart", "inProcessFailImm"),
        ("inProcessFail", "inProcessDone"),
    )),
    CounterBlock("in.esp", "ESP:", CounterLayout(2, 24, 28, 51), (
        ("espInBufChainCopy", "espReplayedPacket"),
        ("espInHashStart", "espInHashFailImm"),
        ("espInHashFail", "espInHashGood"),
        ("espDecryptionStart", "espDecryptionFailImm"),
        ("espDecryptionFail", "espDecryptionGood"),
        ("espIcvInvalid", "espPaddingInvalid"),
    ), blank_before=False),
    CounterBlock("in.ah", "AH:", CounterLayout(2, 24, 28, 51), (
        ("ahInBufChainCopy", "ahReplayedPacket"),
        ("ahBadPayloadLength", "ahIcvInvalid"),
        ("ahInHashStart", "ahInHashFailImm"),
        ("ahInHashFail", "ahInHashGood"),
    ), blank_before=False),
    CounterBlock("in.comp", "IPCOMP:", CounterLayout(2, 24, 28, 51), (
        ("compInBufChainCopy", None),
        ("decompressionStart", "decompressionFailImm"),
        ("decompressionFail", "decompressionGood"),
    ), blank_before=False),
)

SAD_BLOCKS = (
    GoodFailedBlock("sad", "SAD Counters", GoodFailedLayout(2, 25, 37, 25, 37), (
        ("Find SA", True), ("Get SA", True), ("Add SA", False), ("Delete SA", True),
    )),
)

SPD_BLOCKS = (
    GoodFailedBlock("spd", "SPD Counters", GoodFailedLayout(1, 32, 48, 33, 49), (
        ("policyMatchSelectors", True), ("policyAdd", True), ("policyGet", True), ("policyDelete", True),
        ("policyGetConfig", True), ("policySetConfig", True), ("policyFindByPeer", True),
        ("saSpecAdd", True), ("saSpecGet", True), ("saSpecDelete", True), ("bundlespecAdd", True),
        ("bundleSpecGet", True), ("bundleSpecDelete", True),
    )),
    CounterBlock("filter", "Policy Filter Counters", CounterLayout(1, 27, 30, 58), (
        ("localAddressMaskFailed", "localAddressRangeFailed"),
        ("remoteAddressMaskFailed", "remoteAddressRangeFailed"),
        ("localPortFailed", "remotePortFailed"),
        ("localNameFailed", "remoteNameFailed"),
        ("transportProtoFailed", None),
    ), blank_after_heading=True),
)

#: The categories of ``show ipsec counter`` / ``reset ipsec counter``, in the manual"s order.
IPSEC_COUNTER_GROUPS = {
    "ah": CounterGroup("ah", AH_BLOCKS),
    "alg": CounterGroup("alg", ALG_BLOCKS),
    "comp": CounterGroup("comp", COMP_BLOCKS),
    "esp": CounterGroup("esp", ESP_BLOCKS),
    "main": CounterGroup("main", MAIN_BLOCKS),
    "sad": CounterGroup("sad", SAD_BLOCKS),
    "setup": CounterGroup("setup", SETUP_BLOCKS),
    "spd": CounterGroup("spd", SPD_BLOCKS),
}


#: The schema of each ``show ipsec counter`` group.
IPSEC_COUNTER_SCHEMAS = {name: blocks_schema(name, group.blocks) for name, group in IPSEC_COUNTER_GROUPS.items()}
#: The schema of one policy's counters (``show ipsec policy counter``).
POLICY_COUNTERS = blocks_schema("show ipsec policy counter", POLICY_COUNTER_BLOCKS)


def _by_block(snapshot: CounterSnapshot) -> CounterValues:
    return lambda block, name: snapshot[(block, name)]


def show_ipsec_counters(groups: Mapping[str, CounterSnapshot]) -> str:
    """``show ipsec counter[=list]``: ``groups`` maps group names (of
    :data:`IPSEC_COUNTER_GROUPS`) to snapshots of their schemas
    (:data:`IPSEC_COUNTER_SCHEMAS`); shown in the manual's order, a blank
    line between groups."""
    out: list[str] = []
    for name, group in IPSEC_COUNTER_GROUPS.items():
        if name in groups:
            if out:
                out.append("")
            out += format_blocks(group.blocks, _by_block(groups[name]))
    return join_lines(out)


def show_policy_counters(policies: Iterable[tuple[str, CounterSnapshot]], single: bool = False) -> str:
    """``show ipsec policy[=name] counter``: (policy name, snapshot of
    :data:`POLICY_COUNTERS`) pairs. With ``single`` (a name was given) the
    display is Figure 48-18; for all policies each policy's counters follow
    a ``Policy ..... NAME`` line (the manual shows no example of that form)."""
    out: list[str] = []
    for name, values in policies:
        if out:
            out.append("")
        if not single:
            out += [f"Policy ..... {name.upper()}", ""]
        out += format_blocks(POLICY_COUNTER_BLOCKS, _by_block(values))
    return join_lines(out)


def show_sa_counters(sas: Iterable[tuple[int, CounterSnapshot]]) -> str:
    """``show ipsec sa[=id] counter``: (SA id, snapshot of
    :data:`~pacsim.firmware.ipsec.counters.SA_COUNTERS`) pairs; per SA a
    ``SA: <id>`` line and Figure 48-22."""
    out: list[str] = []
    for sa_id, values in sas:
        if out:
            out.append("")
        out += [f"SA: {sa_id}", ""] + format_blocks(SA_COUNTER_BLOCKS, lambda block, name: values[name])
    return join_lines(out)
