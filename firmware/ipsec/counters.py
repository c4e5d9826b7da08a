# Ref: spec/show-outputs.md §3 (show ipsec counter), §8 (show ipsec sa counter)
"""The data plane's counters, named as the router's displays name them.

:class:`SaCounters` are one SA's ``show ipsec sa counter`` (Figure 48-22),
in display order, block by block. :class:`IpsecCounters` are the
module-wide ``show ipsec counter`` blocks the data plane feeds (ESP, AH,
COMP setup/outbound/inbound, MAIn's "IPsec over UDP" block and the SAD
"Find SA" row); every count an SA makes is also added to the matching
module-wide counter (:data:`SA_TO_MODULE`). Both are
:class:`~pacsim.firmware.state.counters.CounterSet` objects of the schemas
:data:`SA_COUNTERS` and :data:`MODULE_COUNTERS`: a misspelt name raises
:class:`~pacsim.firmware.state.counters.UnknownCounter`. A view only
formats their snapshots; it computes nothing.

Why a packet was dropped (:class:`~.outcome.DropReason`) is counted next to
these, per SA and per datapath: the display counters are the router's and
do not name every reason.

(This file belongs to the data plane; see the package ``__init__``.)
"""

from ..state.counters import CounterSchema, CounterSet

__all__ = ["SA_COUNTER_BLOCKS", "SA_COUNTER_NAMES", "SA_COUNTERS", "MODULE_COUNTER_BLOCKS", "MODULE_COUNTERS",
           "SA_TO_MODULE", "SaCounters", "IpsecCounters"]

#: ``show ipsec sa counter``: (direction heading, protocol heading or None, names).
SA_COUNTER_BLOCKS = (
    ("Outbound packet processing counters", None,
     ("outProcessStart", "outProcessFailImm", "outProcessFail", "outProcessDone")),
    ("Outbound packet processing counters", "ESP",
     ("espOutBufChainCopy", "espEncryptionStart", "espEncryptionFailImm", "espEncryptionFail",
      "espEncryptionGood", "espOutHashStart", "espOutHashFailImm", "espOutHashFail", "espOutHashGood")),
    ("Outbound packet processing counters", "AH",
     ("ahOutBufChainCopy", "ahSeqNumberCycled", "ahOutHashStart", "ahOutHashFailImm", "ahOutHashFail",
      "ahOutHashGood")),
    ("Outbound packet processing counters", "IPCOMP",
     ("compOutBufChainCopy", "compTooSmall", "nonExpansionBackoff", "dataExpansion", "compressionStart",
      "compressionFailImm", "compressionFail", "compressionGood")),
    ("Inbound packet processing counters", None,
     ("inProcessStart", "inProcessFailImm", "inProcessFail", "inProcessDone")),
    ("Inbound packet processing counters", "ESP",
     ("espInBufChainCopy", "espReplayedPacket", "espInHashStart", "espInHashFailImm", "espInHashFail",
      "espInHashGood", "espDecryptionStart", "espDecryptionFailImm", "espDecryptionFail",
      "espDecryptionGood", "espIcvInvalid", "espPaddingInvalid")),
    ("Inbound packet processing counters", "AH",
     ("ahInBufChainCopy", "ahReplayedPacket", "ahBadPayloadLength", "ahIcvInvalid", "ahInHashStart",
      "ahInHashFailImm", "ahInHashFail", "ahInHashGood")),
    ("Inbound packet processing counters", "IPCOMP",
     ("compInBufChainCopy", "decompressionStart", "decompressionFailImm", "decompressionFail",
      "decompressionGood")),
)
SA_COUNTER_NAMES = tuple(name for _, _, names in SA_COUNTER_BLOCKS for name in names)
#: The schema of one SA's counters.
SA_COUNTERS = CounterSchema("show ipsec sa counter", SA_COUNTER_NAMES)

#: ``show ipsec counter`` blocks the data plane keeps: key -> (heading, names).
MODULE_COUNTER_BLOCKS = {
    "esp_setup": ("ESP setup/remove counters",
                  ("setupGetSaFailed", "setupEncSetupFailed", "setupHashSetupFailImm", "setupEncSetupBundleRm",
                   "setupFailed", "setupDone", "removeGetSaFailed", "removeNothingDone", "removeHashFailImm",
                   "removeDone")),
    "esp_out": ("ESP outbound processing counters",
                ("bufChainCopy", "seqNumberCycled", "encryptionStart", "encryptionFailImm", "encDoneGetSaFail",
                 "encryptionFail", "encDoneSaBadState", "encryptionGood", "hashStart", "hashFailImm",
                 "hashDoneGetSaFail", "hashFail", "hashDoneSaBadState", "hashGood")),
    "esp_in": ("ESP inbound processing counters",
               ("bufChainCopy", "icvInvalid", "paddingInvalid", "replayedPacket", "hashStart", "hashFailImm",
                "hashDoneGetSaFail", "hashFail", "hashDoneSaBadState", "hashGood", "decryptionStart",
                "decryptionFailImm", "encDoneGetSaFail", "decryptionFail", "encDoneSaBadState",
                "decryptionGood")),
    "ah_setup": ("AH setup/remove counters",
                 ("setupGetSaFailed", "setupFailed", "setupDone", "removeGetSaFailed", "removeNothingDone",
                  "removeDone")),
    "ah_out": ("AH outbound processing counters",
               ("bufChainCopy", "seqNumberCycled", "hashStart", "hashFailImm", "hashDoneGetSaFail", "hashFail",
                "hashDoneSaBadState", "hashGood")),
    "ah_in": ("AH inbound processing counters",
              ("bufChainCopy", "replayedPacket", "icvInvalid", "badPayloadLength", "hashStart", "hashFailImm",
               "hashDoneGetSaFail", "hashFail", "hashDoneSaBadState", "hashGood")),
    "comp_setup": ("COMP setup/remove counters:",
                   ("setupGetSaFailed", "setupFailed", "setupDone", "removeGetSaFailed", "removeNothingDone",
                    "removeDone")),
    "comp_out": ("COMP outbound processing counters:",
                 ("bufChainCopy", "compTooSmall", "nonExpansionBackoff", "dataExpansion", "compressionStart",
                  "compressionFailImm", "compDoneGetSaFail", "compressionFail", "compDoneSaBadState",
                  "compressionGood")),
    "comp_in": ("COMP inbound processing counters:",
                ("bufChainCopy", "decompressionStart", "decompressionFailImm", "decompDoneGetSaFail",
                 "decompressionFail", "decompDoneSaBadState", "decompressionGood")),
    "udp": ("IPsec over UDP counters:",
            ("outPkt", "inPkt", "outPktFail", "inPktBadVersion", "inPktNoPolicy", "outUdpHeartBeat",
             "inUdpHeartBeat")),
    "sad_find": ("SAD Counters: Find SA", ("good", "failed")),
}
#: The schema of each module-wide block, by key.
MODULE_COUNTERS = {key: CounterSchema(key, names) for key, (_, names) in MODULE_COUNTER_BLOCKS.items()}

_PREFIXES = (("espOutHash", "esp_out", "hash"), ("espInHash", "esp_in", "hash"),
             ("ahOutHash", "ah_out", "hash"), ("ahInHash", "ah_in", "hash"),
             ("espEncryption", "esp_out", "encryption"), ("espDecryption", "esp_in", "decryption"),
             ("espOutBufChainCopy", "esp_out", "bufChainCopy"), ("espInBufChainCopy", "esp_in", "bufChainCopy"),
             ("ahOutBufChainCopy", "ah_out", "bufChainCopy"), ("ahInBufChainCopy", "ah_in", "bufChainCopy"),
             ("compOutBufChainCopy", "comp_out", "bufChainCopy"), ("compInBufChainCopy", "comp_in", "bufChainCopy"),
             ("espReplayedPacket", "esp_in", "replayedPacket"), ("espIcvInvalid", "esp_in", "icvInvalid"),
             ("espPaddingInvalid", "esp_in", "paddingInvalid"), ("ahSeqNumberCycled", "ah_out", "seqNumberCycled"),
             ("ahReplayedPacket", "ah_in", "replayedPacket"), ("ahBadPayloadLength", "ah_in", "badPayloadLength"),
             ("ahIcvInvalid", "ah_in", "icvInvalid"))


def _module_name(sa_name: str):
    """The module-wide (block, name) an SA counter adds to, or None (the direction totals)."""
    for prefix, block, base in _PREFIXES:
        if sa_name.startswith(prefix):
            return block, base + sa_name[len(prefix):]
    for block in ("comp_out", "comp_in"):
        if sa_name in MODULE_COUNTER_BLOCKS[block][1]:
            return block, sa_name
    return None


#: SA counter -> (module block, module counter); the direction totals have none.
SA_TO_MODULE = {name: _module_name(name) for name in SA_COUNTER_NAMES if _module_name(name)}


class SaCounters(CounterSet):
    """One SA's display counters (schema :data:`SA_COUNTERS`), adding each
    count to ``module`` (an :class:`IpsecCounters`) too when given."""

    def __init__(self, module: "IpsecCounters | None" = None):
        super().__init__(SA_COUNTERS)
        self.module = module

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` and to its module-wide counter."""
        super().count(name, n)
        if self.module is not None and name in SA_TO_MODULE:
            self.module.count(*SA_TO_MODULE[name], n)


class IpsecCounters:
    """The module-wide data-plane counters: ``blocks[key][name]``, keys and
    schemas as in :data:`MODULE_COUNTERS`."""

    def __init__(self):
        self.blocks = {key: CounterSet(schema) for key, schema in MODULE_COUNTERS.items()}

    def __getitem__(self, key: str) -> CounterSet:
        return self.blocks[key]

    def count(self, block: str, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` of block ``block``."""
        self.blocks[block].count(name, n)

    def reset(self, *blocks: str) -> None:
        """Zero the named blocks (all when none): ``reset ipsec counter[=...]``."""
        for key in blocks or self.blocks:
            self.blocks[key].reset()
