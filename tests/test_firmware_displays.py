"""The displays against the manual's sample outputs (spec/show-outputs.md).

The FIG_* texts are the figures copied from show-outputs.md (trailing blanks
dropped: the displays never end a line in blanks). Each display is fed
hand-made objects holding the figure's values and must reproduce it
exactly, except for the deviations listed with each test (the figures'
own irregularities, show-outputs.md §20).
"""
import ipaddress
import re

import pytest

from pacsim.firmware.console import standalone_console
from pacsim.firmware.enco.keys import KeyStore, KeyType
from pacsim.firmware.ipsec.counters import SA_COUNTERS
from pacsim.firmware.ipsec.oldsa import OldSaTable
from pacsim.firmware.ipsec.selectors import AddressSelector, PortSelector
from pacsim.firmware.ipsec.spd import Action, DfBit, KeyManagement, Spd
from pacsim.firmware.ipsec.transforms import CompAlg, EncAlg, HashAlg, Mode, Protocol
from pacsim.firmware.state.counters import CounterSnapshot
from pacsim.firmware.state.snapshots import (BundleSnapshot, ChannelSnapshot, EncoSnapshot, ModuleSnapshot,
                                             OldSaChannels, PolicySnapshot, PolicyStatus, SaSnapshot, policy_snapshot)
from pacsim.firmware.views.alliedware.counters import (IPSEC_COUNTER_GROUPS, IPSEC_COUNTER_SCHEMAS,
                                                       POLICY_COUNTER_BLOCKS, POLICY_COUNTERS, SA_COUNTER_BLOCKS,
                                                       counter_names, show_ipsec_counters, show_policy_counters,
                                                       show_sa_counters)
from pacsim.firmware.views.alliedware.enco import show_enco, show_enco_key, show_enco_keys
from pacsim.firmware.views.alliedware.ipsec import (show_bundlespecification, show_bundlespecifications, show_ipsec,
                                                    show_policies, show_policy, show_policy_sabundles,
                                                    show_saspecification, show_saspecifications)
from pacsim.firmware.views.alliedware.oldsa import show_old_sa, show_old_sas
from pacsim.firmware.views.alliedware.sa import show_sa, show_sas

ip = ipaddress.ip_address
MAN, ISA = KeyManagement.MANUAL, KeyManagement.ISAKMP


FIG_48_5_SHOW_IPSEC = """\
IPSEC Module Configuration

  Module Status .......................... ENABLED
  IPsec over UDP
     Status .............................. OPEN
     Listen Port ......................... 2746

  VPNs
    Current .............................. 0
    Peak ................................. 0"""


FIG_48_6_BUNDLE_SUMMARY = """\
Id KeyManagment ExpKBytes ExpSec  String
------------------------------------------------------------
1  MANUAL       -         -       1 AND 3
2  ISAKMP       10000     86400   1 OR 2 AND 3
3  ISAKMP       100000    28800   1 AND 3, 2 AND 4"""


FIG_48_7_BUNDLE_DETAIL = """\
Bundle Specification

Id ................... 2
Key Management ....... ISAKMP
String ............... 1 OR 2 AND 3
Expiry Kbytes ........ -
Expiry Seconds ....... 7200

Number of Proposals............... 2

  Proposal ....................... 1
      Proposal Number ............ 1
      Protocol ................... ESP
      Number Of Transfroms ....... 2
               Transform 0 ........... SA Spec Id    1
               Transform 1 ........... SA Spec Id    2

  Proposal ....................... 2
      Proposal Number ............ 1
      Protocol ................... AH
      Number Of Transfroms ....... 1
               Transform 0 ........... SA Spec Id    3"""


FIG_48_8_COUNTER_AH = """\
AH setup/remove counters
  setupGetSaFailed           0    setupFailed              0
  setupDone                  0
  removeGetSaFailed          0    removeNothingDone        0
  removeDone                 0

AH outbound processing counters
  bufChainCopy               0    seqNumberCycled          0
  hashStart                  0    hashFailImm              0
  hashDoneGetSaFail          0    hashFail                 0
  hashDoneSaBadState         0    hashGood                 0

AH inbound processing counters
  bufChainCopy               0    replayedPacket           0
  icvInvalid                 0    badPayloadLength         0
  hashStart                  0    hashFailImm              0
  hashDoneGetSaFail          0    hashFail                 0
  hashDoneSaBadState         0    hashGood                 0"""


FIG_48_9_COUNTER_ALG = """\
General Algorithm Counters
  nullKeymatProcessed      10
DES:
  desKeymatProcessed       10
  desAttachFail             0    desAttachGood            10
  desConfigureFail          0    desConfigureGood         10
  desRemove                 5    desDetached               5
  desEncodeGood            34    desDecodeGood            26
  desEncodeFail             0    desDecodeFail             0
  desEncodeDiscard          0    desDecodeDiscard          0
  desEncodeGetInfoFail     0
TRIPLE DES INNER:
 3DesInnerKeymatProcessed  0
 3DesInnerAttachFail       0   3DesInnerAttachGood       0
 3DesInnerConfigureFail    0   3DesInnerConfigureGood    0
 3DesInnerRemove           0   3DesInnerDetached         0
 3DesInnerEncodeGood       0   3DesInnerDecodeGood       0
 3DesInnerEncodeFail       0   3DesInnerDecodeFail       0
 3DesInnerEncodeDiscard    0   3DesInnerDecodeDiscard    0
 3DesInnerEncGetInfoFail   0
TRIPLE DES OUTER:
 3DesOuterKeymatProcessed  0
 3DesOuterAttachFail       0   3DesOuterAttachGood       0
 3DesOuterConfigureFail    0   3DesOuterConfigureGood    0
 3DesOuterRemove           0   3DesOuterDetached         0
 3DesOuterEncodeGood       0   3DesOuterDecodeGood       0
 3DesOuterEncodeFail       0   3DesOuterDecodeFail       0
 3DesOuterEncodeDiscard    0   3DesOuterDecodeDiscard    0
 3DesOuterEncGetInfoFail   0
TRIPLE DES 2KEY:
 3Des2KeyKeymatProcessed   0
 3Des2KeyAttachFail        0   3Des2KeyAttachGood        0
 3Des2KeyConfigureFail     0   3Des2KeyConfigureGood     0
 3Des2KeyRemove            0   3Des2KeyDetached          0
 3Des2KeyEncodeGood        0   3Des2KeyDecodeGood        0
 3Des2KeyEncodeFail        0   3Des2KeyDecodeFail        0
 3Des2KeyEncodeDiscard     0   3Des2KeyDecodeDiscard     0
 3Des2KeyEncGetInfoFail    0
AES:
 aesKeymatProcessed        0
 aesAttachFail             0    aesAttachGood             0
 aesConfigureFail          0    aesConfigureGood          0
 aesRemove                 0    aesDetached               0
 aesEncodeGood             0    aesDecodeGood             0
 aesEncodeFail             0    aesDecodeFail             0
 aesEncodeDiscard          0    aesDecodeDiscard          0
 aesEncGetInfoFail         0
 SHA:
 shaKeymatProcessed        0
 shaAttachFail             0    shaAttachGood             0
 shaConfigureFail          0    shaConfigureGood          0
 shaRemove                 0    shaDetached               0
 shaEncodeGood             0    shaDecodeGood             0
 shaEncodeFail             0    shaDecodeFail             0
 shaEncodeDiscard          0    shaDecodeDiscard          0
MD5:
 md5KeymatProcessed        0
 md5AttachFail             0    md5AttachGood             0
 md5ConfigureFail          0    md5ConfigureGood          0
 md5Remove                 0    md5Detached               0
 md5EncodeGood             0    md5DecodeGood             0
 md5EncodeFail             0    md5DecodeFail             0
 md5EncodeDiscard          0    md5DecodeDiscard          0
DES-MAC:
 desmacKeymatProcessed     0
 desmacAttachFail          0    desmacAttachGood          0
 desmacConfigureFail       0    desmacConfigureGood       0
 desmacRemove              0    desmacDetached            0
 desmacEncodeGood          0    desmacDecodeGood          0
 desmacEncodeFail          0    desmacDecodeFail          0
 desmacEncodeDiscard       0    desmacDecodeDiscard       0
LZS:
 lzsKeymatProcessed        0
 lzsAttachFail             0    lzsAttachGood             0
 lzsConfigureFail          0    lzsConfigureGood          0
 lzsRemove                 0    lzsDetached               0
 lzsEncodeGood             0    lzsDecodeGood             0
 lzsEncodeFail             0    lzsDecodeFail             0
 lzsEncodeDiscard          0    lzsDecodeDiscard          0
IPSec:
 ipsecKeymatProcessed      0
 ipsecAttachFail           0    ipsecAttachGood           0
 ipsecConfigureFail        0    ipsecConfigureGood        0
 ipsecRemove               0    ipsecDetached             0
 ipsecEncodeGood           0    ipsecDecodeGood           0
 ipsecEncodeFail           0    ipsecDecodeFail           0
 ipsecEncodeDiscard        0    ipsecDecodeDiscard        0"""


FIG_48_10_COUNTER_COMP = """\
COMP setup/remove counters:
  setupGetSaFailed     0     setupFailed           0
  setupDone            0
  removeGetSaFailed    0     removeNothingDone     0
  removeDone           0

COMP outbound processing counters:
  bufChainCopy         0     compTooSmall          0
  nonExpansionBackoff  0     dataExpansion         0
  compressionStart     0     compressionFailImm    0
  compDoneGetSaFail    0     compressionFail       0
  compDoneSaBadState   0     compressionGood       0

COMP inbound processing counters:
  bufChainCopy         0
  decompressionStart   0     decompressionFailImm  0
  decompDoneGetSaFail  0     decompressionFail     0
  decompDoneSaBadState 0     decompressionGood     0"""


FIG_48_11_COUNTER_ESP = """\
ESP setup/remove counters

  setupGetSaFailed          0  setupEncSetupFailed       0
  setupHashSetupFailImm     0  setupEncSetupBundleRm     0
  setupFailed               0  setupDone                10
  removeGetSaFailed         0  removeNothingDone         0
  removeHashFailImm         0  removeDone                5

ESP outbound processing counters
  bufChainCopy              0  seqNumberCycled           0
  encryptionStart          17  encryptionFailImm         0
  encDoneGetSaFail          0  encryptionFail            0
  encDoneSaBadState         0  encryptionGood           17
  hashStart                 0  hashFailImm               0
  hashDoneGetSaFail         0  hashFail                  0
  hashDoneSaBadState        0  hashGood                  0

ESP inbound processing counters
  bufChainCopy              0  icvInvalid                0
  paddingInvalid            0  replayedPacket            0
  hashStart                 0  hashFailImm               0
  hashDoneGetSaFail         0  hashFail                  0
  hashDoneSaBadState        0  hashGood                  0
  decryptionStart          13  decryptionFailImm         0
  encDoneGetSaFail          0  decryptionFail            0
  encDoneSaBadState         0  decryptionGood           13"""


FIG_48_12_COUNTER_MAIN = """\
IPsec main packet processing counters:
  outProcessPkt          40    inProcessPkt            33
  outNoPolicyFound        0    inNoPolicyFound          0
  outProcessPktFinished  17    inProcessPktFinished    13
                               inProcessPktKeepalive  219

IPsec over UDP counters:
  outPkt                 10    inPkt                   10
  outPktFail              0    inPktBadVersion          0
                               inPktNoPolicy            0
  outUdpHeartBeat         0    in UdpHeartBeat          0"""


FIG_48_13_COUNTER_SAD = """\
SAD Counters
                     Good      Failed
  Find SA              13           0
  Get SA               64           1
  Add SA               10
  Delete SA             5           0"""


FIG_48_14_COUNTER_SETUP = """\
IPsec bundle setup/remove counters:
  setupGetSaSpecFail        0   setupGetPolicyFail      0
  setupStarted             10   setupSaSetupFailImm     0
  setupSaSetupStarted      10   setupSaSetupFailed      0
  setupDone                10   setupFailed             0
  setupBundleRemoving       0   vpnLicenceExceeded      0
  removeStarted             5   removeSaSetupStarted    0
  removeDone                5"""


FIG_48_15_COUNTER_SPD = """\
SPD Counters
                             Good          Failed
 policyMatchSelectors         59              17
 policyAdd                     2               0
 policyGet                    21               2
 policyDelete                  0               0
 policyGetConfig               1               0
 policySetConfig               1               0
 policyFindByPeer              0               0
 saSpecAdd                     1               0
 saSpecGet                    21               1
 saSpecDelete                  0               0
 bundlespecAdd                 1               0
 bundleSpecGet                12               1
 bundleSpecDelete              0               0

Policy Filter Counters

 localAddressMaskFailed   0   localAddressRangeFailed    0
 remoteAddressMaskFailed  0   remoteAddressRangeFailed   0
 localPortFailed         17   remotePortFailed           0
 localNameFailed          0   remoteNameFailed           0
 transportProtoFailed     0"""


FIG_48_16_POLICY_SUMMARY = """\
Interface Name              Action  KeyManagement Position
----------------------------------------------------------
PPP0      MY_PPP_POLICY1    IPSEC   ISAKMP         1
PPP0      MY_PPP_POLICY2    IPSEC   ISAKMP         2
PPP0      MY_PPP_POLICY3    DENY    -              3"""


FIG_48_17_POLICY_DETAIL = """\
IPsec Policy Information

Name ........................... my_vpn
Interface ...................... PPP0
Source Interface ............... PPP0
Position ....................... 1
Action ......................... IPSEC

Key Management ................. ISAKMP
Isakmp Policy Name ............. my_isakmp_policy
Bundle Specification ........... 2
Peer IP Address Dynamic ........ FALSE
Peer IP address Any ............ FALSE
Local IP Address Dynamic ....... FALSE
Peer IP Address ................ 192.168.10.1
Local IP Address ............... 232.163.2.3
Use PFS Key .................... TRUE
Respond Bad SPI................. TRUE
Group .......................... 1
Filter:
  Local Address ................ 192.167.2.0
  Local Mask ................... 255.255.255.255
  Local Port ................... ANY
  Local Name ................... main_office
  Remote Address ............... 232.163.2.20
  Remote Mask .................. 255.255.255.255
  Remote Port .................. ANY
  Remote Name .................. ANY
  Transport Protocol ........... ANY
  SA Selector from Packet ...... 00000000

DF Bit ......................... COPY
UDP Tunnel ..................... TRUE
  Peer Port .................... 14997
  Peer IP Address .............. 202.36.163.204
  Internal IP Address .......... 192.168.1.1
  HeartBeats Enabled ........... FALSE
Debug device ................... 16
Filter debug flags ............. 00000000
Packet debug flags ............. 00000000
Trace debug flags .............. 00000000
Packet debug length ............ 72
Max Out Packet queue length .... 20
Number of Out Packets queued ... 0

Bundles
                         Expiry Limits - hard/soft/used
Bundle                   Bytes
Index  SAs       State   Seconds
0      1,2,5     VALID   1000000/900000/907835
                         36000/30000/32432
1      12,13,14  INVALID 1000000/900000/0
                         36000/30000/0"""


FIG_48_18_POLICY_COUNTER = """\
Setup/Remove Counters:
  setupStarted              1   setupSaSetupFailImm       0
  setupSaSetupStarted       1   setupSaSetupFailed        0
  setupDone                 1   setupFailed               0
  removeStarted             0   removeSaSetupStarted      0
  removeDone                0

Outbound Packet Processing Counters:
  outDeny                   0   outPermit                 0
  outNoBundle               1   outNoBundleFail           0
  outMakeSetupStrctFail     0   outSetupBundleFail        0
  outBundleSoftExpire       0   outBundleExpire           0
  outProcessStart        4373   outProcessFailImm         0
  outBundleStateBad         0   outProcessFail            0
  outProcessDone         4373   outBundleNotFound         0
  outNoBundleSqos           0

Inbound Packet Processing Counters:
  inDeny                    0   inPermit                  0
  inCompUncompressed        0   inActionIpsecFail         0
  inBundleStateBad          0   inNotFirstSaInBundle      0
  inProcessStart         4373   inProcessFailImm          0
  inProcessFail             0   inProcessDone          4373
  inEndOfBundle             0   inPrematureEndBundle      0
  inBundleSaMatchFail       0   inPolicyActionFail        0
  inPolSelectMatchFail      0   inBundleReplaced          0
  inBundleSoftExpire        0   inBundleExpire            0
  inBadDecryptedPkt         0   inBadSpiResponse          0"""


FIG_48_19_POLICY_SABUNDLE = """\
IPsec Policy SA Bundles

                          Expiry Limits - hard/soft/used
Bundle                    Bytes
Index  SAs       State    Seconds
--------------------------------------------------------
Policy ..... NY_OFFICE_GEN
0      1,2,5     VALID    1000000/900000/807835
                          36000/35500/35632
1      12,13,14  CREATING 1000000/900000/0
                          36000/35500/0

Policy ..... NZ_OFFICE_GEN
0      3,4,7     VALID    100000/90000/93783
                          18000/17500/9432
1      9,10,11   VALID    100000/90000/1274
                          18000/17500/0

Policy ..... NY_FINANCE
0      15,16     VALID    10000/9000/2384
                          3600/3000/987"""


FIG_48_20_SA_SUMMARY = """\
SA Id  Policy                Bundle  State    Protocol    OutSPI       InSPI
-----------------------------------------------------------------------------
    5  MY_VPN1_POLICY            5  Valid     ESP      554781384  2776920516
    6  MY_VPN1_POLICY            4  Valid     AH      2684492123  2115024437
    7  MY_VPN1_POLICY            3  Valid     ESP      504032446   987203183
    8  MY_VPN1_POLICY            2  Valid     ESP      736637299  1499049187
    9  MY_VPN1_POLICY            1  Valid     AH      2387532688    89042001"""


FIG_48_21_SA_DETAIL = """\
SA Id .................................. 2
 Policy ................................ roaming1
 Bundle ................................ 1
 SA Specification Used ................. 1
 State ................................. Valid
 Protocol .............................. ESP
 Role .................................. RESPONDER
 Mode .................................. UDP_ENCAP_TRANSPORT
 Outbound SPI .......................... 736637299
 Inbound SPI ........................... 1499049187
 Encryption algorithm .................. DES
 Encryption ENCO channel................ 1
 Hash algorithm ........................ SHA
 Hash ENCO channel...................... 2
 NAT Traversal NAT-OA
  Peer original source IP address ...... 192.168.1.10
  Peer original destination IP address.. -
 Filters
  Local IP address ..................... 10.10.10.2
  Local IP address mask ................ 255.255.255.255
  Remote IP address .................... 10.10.10.1
  Remote IP address mask ............... 255.255.255.255
  Local port number .................... 1701
  Remote port number ................... 1701
  NAPT remote port number .............. 2
  Transport protocol ................... UDP
  Local Name ........................... ANY
  Remote Name .......................... atr02
 DF BIT ................................ CLEAR
 Last sent sequence number ............. 27
 Anti-replay checking enabled .......... TRUE
 Anti-replay window size ............... 32
 Last received sequence number ......... 5
 Anti-replay bitmap .................... 000000ff
 Debug device .......................... 16
 Filter debug flags .................... 000000ff
 Packet debug flags .................... 00000067
 Trace debug flags ..................... 00000001
 Packet debug length ................... 72"""


FIG_48_22_SA_COUNTER = """\
SA: 8

Outbound packet processing counters:
  outProcessStart      0    outProcessFailImm    0
  outProcessFail       0    outProcessDone       0
ESP:
  espOutBufChainCopy   0
  espEncryptionStart   0    espEncryptionFailImm  0
  espEncryptionFail    0    espEncryptionGood     0
  espOutHashStart      0    espOutHashFailImm     0
  espOutHashFail       0    espOutHashGood        0
AH:
  ahOutBufChainCopy    0    ahSeqNumberCycled     0
  ahOutHashStart       0    ahOutHashFailImm      0
  ahOutHashFail        0    ahOutHashGood         0
IPCOMP:
  compOutBufChainCopy  0    compTooSmall          0
  nonExpansionBackoff  0    dataExpansion         0
  compressionStart     0    compressionFailImm    0
  compressionFail      0    compressionGood       0

Inbound packet processing counters:
  inProcessStart       0    inProcessFailImm      0
  inProcessFail        0    inProcessDone         0
ESP:
  espInBufChainCopy    0    espReplayedPacket     0
  espInHashStart       0    espInHashFailImm      0
  espInHashFail        0    espInHashGood         0
  espDecryptionStart   0    espDecryptionFailImm  0
  espDecryptionFail    0    espDecryptionGood     0
  espIcvInvalid        0    espPaddingInvalid     0
AH:
  ahInBufChainCopy     0    ahReplayedPacket      0
  ahBadPayloadLength   0    ahIcvInvalid          0
  ahInHashStart        0    ahInHashFailImm       0
  ahInHashFail         0    ahInHashGood          0
IPCOMP:
  compInBufChainCopy   0
  decompressionStart   0    decompressionFailImm  0
  decompressionFail    0    decompressionGood     0"""


FIG_48_23_SASPEC_SUMMARY = """\
SA Specifications

ID Proto  KeyMan  Mode       EncAlg      HashAlg CompAlg InSpi  EncKey HashKey
-------------------------------------------------------------------------------
 1 ESP    MANUAL  TUNNEL     3DESINNER   NULL    -         300       5       -
 2 AH     MANUAL  TUNNEL     NULL        SHA     -         301       -       6
 3 ESP    MANUAL  TUNNEL     3DES2KEY    MD5     -         302       7       8
 4 ESP    ISAKMP  TRANSP     DES         SHA     -           -       -       -
 5 COMP   ISAKMP  TUNNEL     NULL        NULL    LZS         -       -       -"""


FIG_48_24_SASPEC_DETAIL = """\
SA Specification
Id ...................... 1
Protocol ................ ESP
Key Management .......... MANUAL
Mode .................... TUNNEL
Encryption Algorithm..... 3DES2KEY
Hash Algorithm .......... NULL
Compression Algorithm ... -
In SPI .................. 300
Out SPI ................. 400
Encryption Key .......... 5
Hash Key ................ -
AntiReplay Enabled ...... -
Replay Window Size ...... -"""


FIG_48_44_OLD_SA_SUMMARY = """\
Summary SA output

ID   Dir   Expires         SPI  Process
------------------------------------------------------------
  1  Both  None           1000"""


FIG_48_45_OLD_SA_DETAIL = """\
ID .................... 1
SPI ................... 1000
User .................. IP
Expiry date ........... None
Direction ............. Both
Compression ........... OFF
Encryption ............ DES-CBC
  Key ID 1 ............ 1
Local members:
  202.36.163.21    255.255.255.255
Remote members:
  192.168.70.2     255.255.255.255

State:
Encode Channel ........ 0
Decode Channel ........ 0
Encode State .......... Attached
Decode State .......... Attached"""


# -- helpers --------------------------------------------------------------------------------------

_COUNTER = re.compile(r"(in UdpHeartBeat|[A-Za-z0-9]+) +(\d+)")


def figure_values(figure, blocks):
    """The counter values of a figure, keyed (block, name) in the blocks' order: the figure and the
    blocks must list the same counters in the same order."""
    found = [(m.group(1).replace(" ", ""), int(m.group(2)))
             for line in figure.splitlines() if line.startswith(" ") for m in _COUNTER.finditer(line)]
    names = [(b.key, n) for b in blocks for n in b.names()]
    assert [n for _, n in names] == [n for n, _ in found]
    values = {key: v for key, (_, v) in zip(names, found)}
    return lambda block, name: values[(block, name)]


# -- show ipsec -----------------------------------------------------------------------------------

def test_show_ipsec():
    assert show_ipsec(ModuleSnapshot(enabled=True, udp_open=True, listen_port=2746, current=0, peak=0)) == \
        FIG_48_5_SHOW_IPSEC
    text = show_ipsec(ModuleSnapshot(False, False, 4000, 3, 7, maximum=10))
    assert "Module Status .......................... DISABLED" in text
    assert "     Status .............................. CLOSED" in text
    assert "    Maximum .............................. 10" in text


# -- SA and bundle specifications -----------------------------------------------------------------

@pytest.fixture
def figure_specs():
    """SA specifications 1-5 of Figure 48-23 (manual specs need their keys and out SPIs)."""
    spd = Spd(key_length={5: 24, 6: 20, 7: 16, 8: 16}.get)
    spd.create_saspecification(1, MAN, Protocol.ESP, encalg=EncAlg.TDESINNER, enckey=5, inspi=300, outspi=400)
    spd.create_saspecification(2, MAN, Protocol.AH, hashalg=HashAlg.SHA, hashkey=6, inspi=301, outspi=401)
    spd.create_saspecification(3, MAN, Protocol.ESP, encalg=EncAlg.TDES2KEY, hashalg=HashAlg.MD5, enckey=7,
                               hashkey=8, inspi=302, outspi=402)
    spd.create_saspecification(4, ISA, Protocol.ESP, encalg=EncAlg.DES, hashalg=HashAlg.SHA, mode=Mode.TRANSPORT)
    spd.create_saspecification(5, ISA, Protocol.IPCOMP, compalg=CompAlg.LZS)
    return spd


def test_show_saspecification_summary(figure_specs):
    assert show_saspecifications(figure_specs.saspecifications.values()) == FIG_48_23_SASPEC_SUMMARY


def test_show_saspecification_detail():
    # Figure 48-24 is its own example: spec 1 is 3DES2KEY there (show-outputs.md §20 item 10)
    spd = Spd(key_length={5: 16}.get)
    s = spd.create_saspecification(1, MAN, Protocol.ESP, encalg=EncAlg.TDES2KEY, enckey=5, inspi=300, outspi=400)
    assert show_saspecification(s) == FIG_48_24_SASPEC_DETAIL
    isakmp = spd.create_saspecification(2, ISA, Protocol.AH, hashalg=HashAlg.SHA, antireplayenabled=True)
    text = show_saspecification(isakmp)
    assert "AntiReplay Enabled ...... TRUE" in text and "Replay Window Size ...... 32" in text
    assert "In SPI .................. -" in text


def test_show_bundlespecification_summary_and_detail():
    spd = Spd()
    spd.create_saspecification(1, ISA, Protocol.ESP, encalg=EncAlg.DES)
    spd.create_saspecification(2, ISA, Protocol.ESP, encalg=EncAlg.TDES2KEY)
    spd.create_saspecification(3, ISA, Protocol.AH, hashalg=HashAlg.SHA)
    spd.create_saspecification(4, ISA, Protocol.IPCOMP, compalg=CompAlg.LZS)
    manual = Spd(key_length={0: 8, 1: 16}.get)
    manual.create_saspecification(1, MAN, Protocol.ESP, encalg=EncAlg.DES, enckey=0, inspi=300, outspi=400)
    manual.create_saspecification(3, MAN, Protocol.AH, hashalg=HashAlg.SHA, hashkey=1, inspi=300, outspi=400)
    b1 = manual.create_bundlespecification(1, MAN, "1 and 3")
    b2 = spd.create_bundlespecification(2, ISA, "1 or 2 and 3", expirykbytes=10000, expiryseconds=86400)
    b3 = spd.create_bundlespecification(3, ISA, "1 and 3, 2 and 4", expirykbytes=100000)
    assert show_bundlespecifications([b1, b2, b3]) == FIG_48_6_BUNDLE_SUMMARY
    detail = spd.create_bundlespecification(7, ISA, "1 or 2 and 3", expiryseconds=7200)
    text = show_bundlespecification(detail, lambda i: spd.saspecifications[i].protocol)
    assert text == FIG_48_7_BUNDLE_DETAIL.replace("Id ................... 2", "Id ................... 7")
    # the comma starts a new proposal number (show-outputs.md §2b reading)
    text = show_bundlespecification(b3, lambda i: spd.saspecifications[i].protocol)
    assert re.findall(r"Proposal Number ............ (\d)", text) == ["1", "1", "2", "2"]
    assert "Protocol ................... COMP" in text


# -- policies -------------------------------------------------------------------------------------

def test_show_policy_summary():
    spd = Spd()
    spd.create_saspecification(1, ISA, Protocol.ESP, encalg=EncAlg.DES)
    spd.create_bundlespecification(1, ISA, "1")
    for n in (1, 2):
        spd.create_policy(f"my_ppp_policy{n}", "ppp0", Action.IPSEC, peeraddress=ip("10.0.0.1"), keymanagement=ISA,
                          bundlespecification=1)
    spd.create_policy("my_ppp_policy3", "ppp0", Action.DENY)
    assert show_policies(policy_snapshot(p) for p in spd.policies()) == FIG_48_16_POLICY_SUMMARY


def test_show_policy_detail():
    spd = Spd()
    spd.create_saspecification(1, ISA, Protocol.ESP, encalg=EncAlg.DES)
    spd.create_bundlespecification(2, ISA, "1")
    p = spd.create_policy(
        "my_vpn", "ppp0", Action.IPSEC, keymanagement=ISA, isakmppolicy="my_isakmp_policy", bundlespecification=2,
        peeraddress=ip("192.168.10.1"), usepfskey=True, respondbadspi=True, group=1,
        laddress=AddressSelector.parse("192.167.2.0"), lname="main_office",
        raddress=AddressSelector.parse("232.163.2.20"), dfbit=DfBit.COPY, udptunnel=True, udpport=14997)
    bundles = [BundleSnapshot(0, (1, 2, 5), "VALID", (1000000, 900000, 907835), (36000, 30000, 32432)),
               BundleSnapshot(1, (12, 13, 14), "INVALID", (1000000, 900000, 0), (36000, 30000, 0))]
    status = PolicyStatus(local_address="232.163.2.3", udp_peer_address="202.36.163.204",
                          internal_address="192.168.1.1", debug_device=16)
    assert show_policy(PolicySnapshot(p, status, tuple(bundles))) == FIG_48_17_POLICY_DETAIL


def test_show_policy_detail_of_a_permit_policy():
    spd = Spd()
    p = spd.create_policy("isakmp", "eth0", Action.PERMIT, lport=PortSelector(500),
                          raddress=AddressSelector.parse("10.0.0.1-10.0.0.9"))
    text = show_policy(policy_snapshot(p))
    assert "Key Management ................. -" in text and "Peer IP Address ................ -" in text
    assert "  Local Port ................... 500" in text
    assert "  Remote Address ............... 10.0.0.1-10.0.0.9" in text
    assert "  Remote Mask .................. -" in text
    assert "  Peer Port" not in text                      # UDP tunnel sub-fields only when tunnelling
    assert text.endswith("Index  SAs       State   Seconds")


def test_show_policy_sabundle():
    views = {
        "ny_office_gen": [BundleSnapshot(0, (1, 2, 5), "VALID", (1000000, 900000, 807835), (36000, 35500, 35632)),
                          BundleSnapshot(1, (12, 13, 14), "CREATING", (1000000, 900000, 0), (36000, 35500, 0))],
        "nz_office_gen": [BundleSnapshot(0, (3, 4, 7), "VALID", (100000, 90000, 93783), (18000, 17500, 9432)),
                          BundleSnapshot(1, (9, 10, 11), "VALID", (100000, 90000, 1274), (18000, 17500, 0))],
        "ny_finance": [BundleSnapshot(0, (15, 16), "VALID", (10000, 9000, 2384), (3600, 3000, 987))],
    }
    assert show_policy_sabundles(views.items()) == FIG_48_19_POLICY_SABUNDLE


# -- SAs ------------------------------------------------------------------------------------------

def test_show_sa_summary():
    rows = [(5, 5, "ESP", 554781384, 2776920516), (6, 4, "AH", 2684492123, 2115024437),
            (7, 3, "ESP", 504032446, 987203183), (8, 2, "ESP", 736637299, 1499049187),
            (9, 1, "AH", 2387532688, 89042001)]
    views = [SaSnapshot(sa, "my_vpn1_policy", bundle, 1, "VALID", Protocol[proto], out, in_)
             for sa, bundle, proto, out, in_ in rows]
    assert show_sas(views) == FIG_48_20_SA_SUMMARY


def test_show_sa_detail():
    v = SaSnapshot(2, "roaming1", 1, 1, "VALID", Protocol.ESP, 736637299, 1499049187, role="RESPONDER",
               mode="UDP_ENCAP_TRANSPORT", encalg="DES", enc_channel=1, hashalg="SHA", hash_channel=2,
               nat_oa_source="192.168.1.10", local_address="10.10.10.2", local_mask="255.255.255.255",
               remote_address="10.10.10.1", remote_mask="255.255.255.255", local_port="1701", remote_port="1701",
               napt_port=2, transport="UDP", remote_name="atr02", last_sent_sequence=27, antireplay=True,
               last_received_sequence=5, replay_bitmap=0xff, debug_device=16, debug_flags=(0xff, 0x67, 1))
    assert show_sa(v) == FIG_48_21_SA_DETAIL


def test_show_sa_detail_of_ipcomp_and_ah():
    comp = show_sa(SaSnapshot(3, "p", 0, 5, "CREATING", Protocol.IPCOMP, 3, 3, compalg="LZS", comp_channel=7))
    assert " CPI ................................... 3" in comp
    assert " Compression ENCO channel............... 7" in comp and "Hash algorithm" not in comp
    ah = show_sa(SaSnapshot(4, "p", 0, 2, "VALID", Protocol.AH, 400, 300, hashalg="MD5"))
    assert "Encryption algorithm" not in ah and " Hash algorithm ........................ MD5" in ah
    assert "NAT Traversal" not in ah


# -- counters -------------------------------------------------------------------------------------

@pytest.mark.parametrize("group, figure", [
    ("ah", FIG_48_8_COUNTER_AH), ("comp", FIG_48_10_COUNTER_COMP), ("esp", FIG_48_11_COUNTER_ESP),
    ("setup", FIG_48_14_COUNTER_SETUP), ("sad", FIG_48_13_COUNTER_SAD), ("spd", FIG_48_15_COUNTER_SPD),
])
def test_show_ipsec_counter_groups(group, figure):
    blocks = IPSEC_COUNTER_GROUPS[group].blocks
    if group in ("sad", "spd"):
        values = good_failed_values(figure, blocks)
    else:
        values = figure_values(figure, blocks)
    assert show_ipsec_counters(group_snapshot(group, values)) == figure


def good_failed_values(figure, blocks):
    """Values of a figure with Good/Failed tables (and, for SPD, the Policy Filter list after them)."""
    values = {}
    lines = figure.splitlines()
    for b in blocks:
        if b.key == "filter":
            rest = "\n".join(lines[lines.index(b.heading):])
            f = figure_values(rest, [b])
            values.update({(b.key, n): f(b.key, n) for n in b.names()})
            continue
        for label, has_failed in b.rows:
            line = next(line for line in lines if line[b.layout.label:].startswith(label + " "))
            numbers = line[b.layout.label + len(label):].split()
            values[(b.key, f"{label} good")] = int(numbers[0])
            if has_failed:
                values[(b.key, f"{label} failed")] = int(numbers[1])
    return lambda block, name: values[(block, name)]


def group_snapshot(group, values):
    """The snapshot of a ``show ipsec counter`` group read through ``values(block, name)``."""
    return {group: CounterSnapshot.read(IPSEC_COUNTER_SCHEMAS[group], lambda key: values(*key))}


def test_show_ipsec_counter_main():
    # the figure writes "in UdpHeartBeat"; the display uses the table's spelling (show-outputs.md §3.5)
    values = figure_values(FIG_48_12_COUNTER_MAIN, IPSEC_COUNTER_GROUPS["main"].blocks)
    text = show_ipsec_counters(group_snapshot("main", values))
    assert text == FIG_48_12_COUNTER_MAIN.replace("in UdpHeartBeat          0", "inUdpHeartBeat           0")


def test_show_ipsec_counter_alg():
    # one figure line is a column off its block ("desEncodeGetInfoFail     0"); the display aligns it
    values = figure_values(FIG_48_9_COUNTER_ALG, IPSEC_COUNTER_GROUPS["alg"].blocks)
    text = show_ipsec_counters(group_snapshot("alg", values))
    assert text == FIG_48_9_COUNTER_ALG.replace("desEncodeGetInfoFail     0", "desEncodeGetInfoFail      0")


def test_show_ipsec_counter_all_groups_in_manual_order():
    def zero(block, name):
        return 0
    text = show_ipsec_counters(group_snapshot("spd", zero) | group_snapshot("ah", zero))
    assert text.index("AH setup/remove counters") < text.index("SPD Counters")
    every = show_ipsec_counters({g: group_snapshot(g, zero)[g] for g in IPSEC_COUNTER_GROUPS})
    assert every.count("\n\n") >= 8


def test_show_policy_counter():
    figure = figure_values(FIG_48_18_POLICY_COUNTER, POLICY_COUNTER_BLOCKS)
    values = CounterSnapshot.read(POLICY_COUNTERS, lambda key: figure(*key))
    assert show_policy_counters([("my_vpn", values)], single=True) == FIG_48_18_POLICY_COUNTER
    both = show_policy_counters([("a", values), ("b", values)])
    assert both.startswith("Policy ..... A\n\nSetup/Remove Counters:") and "\n\nPolicy ..... B\n\n" in both


def test_show_sa_counter():
    figure = figure_values(FIG_48_22_SA_COUNTER, SA_COUNTER_BLOCKS)
    by_name = {name: figure(b.key, name) for b in SA_COUNTER_BLOCKS for name in b.names()}
    values = CounterSnapshot.read(SA_COUNTERS, by_name.__getitem__)
    assert show_sa_counters([(8, values)]) == FIG_48_22_SA_COUNTER


def test_counter_names_are_unique_per_block():
    for group in IPSEC_COUNTER_GROUPS.values():
        for b in group.blocks:
            names = list(b.names())
            assert len(names) == len(set(names)), b.key
    assert len(counter_names(POLICY_COUNTER_BLOCKS)) == 44 and len(counter_names(SA_COUNTER_BLOCKS)) == 56


def test_module_counts_only_displayed_counters():
    """Every counter the IPsec module increments exists in a display (no misspelt counter)."""
    console = standalone_console(clock=lambda: 0.0, random_bytes=lambda n: b"\x01" * n)
    for line in ("create enco key=1 type=des value=0x0123456789abcdef",
                 "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des enck=1",
                 "cre ips sas=2 prot=es key=ma inspi=300 outspi=401 enc=des enck=1",
                 'cre ips bund=1 key=ma str="1"', 'cre ips bund=2 key=ma str="2"', 'cre ips bund=3 key=ma str="9"',
                 "cre ips pol=a int=eth0 ac=ips peer=1.1.1.1 key=ma bund=1",
                 "cre ips pol=b int=eth0 ac=ips peer=1.1.1.2 key=ma bund=2", "ena ips", "dest ips pol=a sab=0",
                 "dest ips sas=7", "dest ips bund=7", "show ips pol=zz", "dis ips"):
        console.run(line)
    module = console.ipsec
    for group, counter in module.counters.items():
        assert set(counter) <= counter_names(IPSEC_COUNTER_GROUPS[group].blocks), group
    for counter in module.policy_counters.values():
        assert set(counter) <= counter_names(POLICY_COUNTER_BLOCKS)
    assert module.counters["setup"][("setup", "setupFailed")] == 1


# -- old SAs --------------------------------------------------------------------------------------

def test_show_old_sa():
    table = OldSaTable(key_length={1: 8}.get)
    sa = table.create(1, 1, 1000)
    table.add_member(1, True, ip("202.36.163.21"), ip("255.255.255.255"))
    table.add_member(1, False, ip("192.168.70.2"), ip("255.255.255.255"))
    assert show_old_sas(table.sas.values()) == FIG_48_44_OLD_SA_SUMMARY
    assert show_old_sa(sa, OldSaChannels(0, 0, "Attached", "Attached")) == FIG_48_45_OLD_SA_DETAIL


# -- ENCO (layout ours: the ENCO chapter is not in the sources) ----------------------------------

def test_show_enco_key_layouts():
    keys = KeyStore(lambda n: bytes(range(n)))
    keys.create(1, KeyType.GENERAL, random=True)
    keys.create(2, KeyType.GENERAL, value="alphanumeric-key", description="MS clients")
    keys.create(3, KeyType.DES, value="0x0123456789ABCDEF")
    assert show_enco_keys(keys.keys()).splitlines() == [
        "ENCO Keys", "", "Id     Type      Length  Entered  Description", "-" * 60,
        "1      GENERAL   16      RANDOM   -",
        "2      GENERAL   16      TEXT     MS clients",
        "3      DES       8       HEX      -"]
    assert show_enco_key(keys.key(1)).splitlines() == [
        "ENCO Key", "",
        "Id ................... 1", "Type ................. GENERAL", "Length (bytes) ....... 16",
        "Entered .............. RANDOM", "Value ................ 0x000102030405060708090A0B0C0D0E0F",
        "Description .......... -"]
    assert "Value ................ alphanumeric-key" in show_enco_key(keys.key(2))


def test_show_enco_channels():
    channels = (ChannelSnapshot(3, "CIPHER", "DES", "DECODE", "IPsec SA 0", 5, 640),
                ChannelSnapshot(1, "MAC", "HMAC-SHA1", "ENCODE"))
    text = show_enco(EncoSnapshot("PAC (model)", 32, channels))
    lines = text.splitlines()
    assert lines[2:5] == ["Accelerator .......... PAC (model)", "Channels maximum ..... 32",
                          "Channels in use ...... 2"]
    assert lines[-2].startswith("1     MAC          HMAC-SHA1   ENCODE  0")
    assert lines[-1].startswith("3     CIPHER       DES         DECODE  5         640         0       IPsec SA 0")


# -- through the console --------------------------------------------------------------------------

def test_console_shows_live_configuration():
    console = standalone_console(clock=lambda: 50.0, random_bytes=lambda n: b"\x07" * n)
    for line in ("create enco key=5 type=3des value=0x" + "11" * 16,
                 "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=3des2 enck=5",
                 'cre ips bund=1 key=ma str="1"', "cre ips pol=my_vpn int=ppp0 ac=ips peer=1.2.3.4 key=ma bund=1",
                 "ena ips"):
        console.execute(line)
    assert "1  MANUAL       -         -       1" in console.execute("sh ips bund")
    assert "    0  MY_VPN                    0  Valid     ESP            400         300" in \
        console.execute("sh ips sa")
    detail = console.execute("show ipsec policy=my_vpn")
    assert detail.endswith("0      0         VALID   -/-/0\n                         -/-/0")
    assert "Module Status .......................... ENABLED" in console.execute("sh ips")
    assert console.execute("sh ips sa=0 cou").startswith("SA: 0\n\nOutbound packet processing counters:")
    assert "setupDone                 1" in console.execute("show ipsec policy=my_vpn counter")
    assert console.execute("show ipsec policy sabundle").splitlines()[6] == "Policy ..... MY_VPN"
    assert console.execute("show sa") == "\n".join(FIG_48_44_OLD_SA_SUMMARY.splitlines()[:4])
