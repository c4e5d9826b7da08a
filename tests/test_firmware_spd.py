"""The SPD model (spec/ipsec-commands.md §2, §5.1-§5.4): SA and bundle
specifications, policies and their rules, position ordering and lookup."""
import collections
import ipaddress

import pytest

from pacsim.firmware.ipsec.config_errors import AlreadyExists, InUse, InvalidConfiguration, NotFound
from pacsim.firmware.ipsec.selectors import (AddressSelector, Direction, PacketSelector, PortSelector,
                                             ProtocolSelector)
from pacsim.firmware.ipsec.spd import Action, DfBit, KeyManagement, PeerWildcard, SaSelector, Spd
from pacsim.firmware.ipsec.transforms import CompAlg, EncAlg, HashAlg, Mode, Protocol

MAN, ISA = KeyManagement.MANUAL, KeyManagement.ISAKMP
ESP, AH, COMP = Protocol.ESP, Protocol.AH, Protocol.IPCOMP
KEYS = {1: 8, 2: 16, 5: 24, 101: 16, 102: 20, 7: 8}       # ENCO key id -> length
ip = ipaddress.ip_address
TCP, UDP = 6, 17


@pytest.fixture
def counts():
    return collections.Counter()


@pytest.fixture
def spd(counts):
    return Spd(key_length=KEYS.get, interface_exists=lambda name: name != "eth9",
               count=lambda block, name: counts.update([(block, name)]))


def manual_esp(spd, spec_id=1, **kw):
    params = dict(encalg=EncAlg.DES, hashalg=HashAlg.MD5, enckey=1, hashkey=101, inspi=300, outspi=400)
    params.update(kw)
    return spd.create_saspecification(spec_id, MAN, ESP, **params)


def manual_ah(spd, spec_id=2, **kw):
    params = dict(hashalg=HashAlg.MD5, hashkey=101, inspi=300, outspi=400)
    params.update(kw)
    return spd.create_saspecification(spec_id, MAN, AH, **params)


# -- SA specifications ----------------------------------------------------------------------------

def test_saspecification_defaults(spd):
    s = manual_esp(spd)
    assert (s.mode, s.antireplayenabled, s.replaywindowsize) == (Mode.TUNNEL, False, 32)
    s = spd.create_saspecification(3, ISA, ESP, encalg=EncAlg.TDESINNER, hashalg=HashAlg.MD5)
    assert s.inspi is None and s.enckey is None


@pytest.mark.parametrize("km, protocol, params, message", [
    (ISA, ESP, {}, "protocol ESP needs ENCalg"),
    (ISA, ESP, {"encalg": EncAlg.NULL}, "ENCalg=NULL needs a HASHAlg other than NULL"),
    (ISA, ESP, {"encalg": EncAlg.NULL, "hashalg": HashAlg.NULL}, "ENCalg=NULL needs a HASHAlg"),
    (ISA, ESP, {"encalg": EncAlg.DES, "compalg": CompAlg.LZS}, "COMPalg is for protocol COMP"),
    (ISA, AH, {}, "protocol AH needs HASHAlg"),
    (ISA, AH, {"hashalg": HashAlg.NULL}, "NULl is for ESP only"),
    (ISA, AH, {"hashalg": HashAlg.SHA, "encalg": EncAlg.DES}, "ENCalg is not valid for protocol AH"),
    (ISA, COMP, {}, "protocol COMP needs COMPalg=LZS"),
    (ISA, COMP, {"compalg": CompAlg.LZS, "encalg": EncAlg.DES}, "ENCALG is not valid for a compression SA"),
    (ISA, COMP, {"compalg": CompAlg.LZS, "antireplayenabled": True}, "ANTIREPLAYENABLED is not valid for a "
                                                                      "compression SA"),
    (MAN, ESP, {"encalg": EncAlg.DES, "enckey": 1, "inspi": 300, "outspi": 400, "replaywindowsize": 64},
     "REPLAYWINDOWSIZE is not valid for manual key management"),
    (MAN, ESP, {"encalg": EncAlg.DES, "enckey": 1, "outspi": 400}, "needs INSPI=256..4294967295"),
    (MAN, AH, {"hashalg": HashAlg.MD5, "hashkey": 101, "inspi": 300}, "needs OUTSPI"),
    (MAN, ESP, {"encalg": EncAlg.DES, "inspi": 300, "outspi": 400}, "DES needs ENCKEY"),
    (MAN, ESP, {"encalg": EncAlg.DES, "enckey": 1, "hashalg": HashAlg.SHA, "inspi": 300, "outspi": 400},
     "SHA needs HASHKEY"),
    (MAN, ESP, {"encalg": EncAlg.DES, "enckey": 99, "inspi": 300, "outspi": 400}, "ENCO key 99 does not exist"),
    (MAN, ESP, {"encalg": EncAlg.TDESINNER, "enckey": 1, "inspi": 300, "outspi": 400},
     "ENCO key 1 is 8 bytes long, 3DESINNER needs 24"),
    (MAN, AH, {"hashalg": HashAlg.DESMAC, "hashkey": 101, "inspi": 300, "outspi": 400},
     "ENCO key 101 is 16 bytes long, DESMAC needs 8"),
    (ISA, ESP, {"encalg": EncAlg.DES, "inspi": 300}, "INSPI is not valid with ISAKMP key management"),
    (ISA, AH, {"hashalg": HashAlg.MD5, "hashkey": 101}, "HASHKEY is not valid with ISAKMP"),
    (MAN, COMP, {"compalg": CompAlg.LZS, "inspi": 70000}, "IPComp CPI, which has 16 bits"),
])
def test_saspecification_rules(spd, km, protocol, params, message):
    with pytest.raises(InvalidConfiguration, match=message):
        spd.create_saspecification(9, km, protocol, **params)
    assert 9 not in spd.saspecifications


def test_manual_specifications_that_need_fewer_keys(spd):
    # §7.14: manual ESP without authentication needs no HASHKEY; ENCalg=NULL needs no ENCKEY
    spd.create_saspecification(1, MAN, ESP, encalg=EncAlg.DES, enckey=1, inspi=300, outspi=400)
    spd.create_saspecification(2, MAN, ESP, encalg=EncAlg.NULL, hashalg=HashAlg.SHA, hashkey=102, inspi=301,
                               outspi=401)
    # §7.15: manual IPComp needs no SPI; the LZS well-known CPI is used
    c = spd.create_saspecification(3, MAN, COMP, compalg=CompAlg.LZS)
    assert c.cpis == (3, 3)
    c = spd.create_saspecification(4, MAN, COMP, compalg=CompAlg.LZS, inspi=1000, outspi=1001)
    assert c.cpis == (1000, 1001)
    spd.create_saspecification(5, ISA, ESP, encalg=EncAlg.AES256, antireplayenabled=True, replaywindowsize=256,
                               mode=Mode.TRANSPORT)


def test_saspecification_id_unique_and_set_is_atomic(spd, counts):
    manual_esp(spd)
    with pytest.raises(AlreadyExists, match="SA specification 1 already exists"):
        manual_esp(spd)
    old, new = spd.set_saspecification(1, encalg=EncAlg.TDES2KEY, hashalg=HashAlg.SHA, enckey=2, hashkey=102)
    assert (old.encalg, new.encalg, new.hashkey) == (EncAlg.DES, EncAlg.TDES2KEY, 102)
    with pytest.raises(InvalidConfiguration, match="3DESINNER needs 24"):
        spd.set_saspecification(1, encalg=EncAlg.TDESINNER)
    assert spd.saspecifications[1] is new
    with pytest.raises(NotFound, match="SA specification 7 does not exist"):
        spd.set_saspecification(7, encalg=EncAlg.DES)
    with pytest.raises(InvalidConfiguration, match="unknown parameter KEYMANAGEMENT"):
        spd.set_saspecification(1, keymanagement=ISA)
    assert counts[("spd", "saSpecAdd good")] == 1 and counts[("spd", "saSpecAdd failed")] == 1


def test_destroy_saspecification(spd):
    manual_esp(spd)
    manual_ah(spd)
    spd.create_bundlespecification(1, MAN, "1 and 2")
    with pytest.raises(InUse, match="SA specification 1 is used by bundle specification 1"):
        spd.destroy_saspecification(1)
    spd.destroy_bundlespecification(1)
    spd.destroy_saspecification(1)
    with pytest.raises(NotFound):
        spd.destroy_saspecification(1)


# -- bundle specifications ------------------------------------------------------------------------

def test_bundlespecification_defaults_and_rules(spd):
    manual_esp(spd)
    manual_ah(spd)
    spd.create_saspecification(3, ISA, ESP, encalg=EncAlg.DES)
    b = spd.create_bundlespecification(1, MAN, "1 and 2", expirykbytes=500000)
    assert (b.expiryseconds, b.expirykbytes, b.string) == (28800, 500000, "1 AND 2")
    assert spd.create_bundlespecification(2, ISA, "3").expirykbytes == 4193280
    with pytest.raises(AlreadyExists):
        spd.create_bundlespecification(1, MAN, "1")
    with pytest.raises(InvalidConfiguration, match="SA specification 8 in the bundle string does not exist"):
        spd.create_bundlespecification(3, ISA, "3 and 8")
    with pytest.raises(InvalidConfiguration, match="SA specification 1 uses MANUAL key management, the bundle "
                                                   "specification ISAKMP"):
        spd.create_bundlespecification(3, ISA, "1")
    with pytest.raises(InvalidConfiguration, match='bad bundle string "1 and": .*ends with AND'):
        spd.create_bundlespecification(3, MAN, "1 and")
    with pytest.raises(InvalidConfiguration, match="cannot offer choices"):
        spd.create_bundlespecification(3, MAN, "1 or 2")
    old, new = spd.set_bundlespecification(2, expiryseconds=7200)
    assert (old.expiryseconds, new.expiryseconds) == (28800, 7200)
    with pytest.raises(InvalidConfiguration, match="unknown parameter STRING"):
        spd.set_bundlespecification(2, string="1")


def test_set_saspecification_keeps_bundles_consistent(spd):
    manual_esp(spd)
    manual_ah(spd)
    bundle = spd.create_bundlespecification(1, MAN, "1 and 2")
    # an AH spec cannot become ESP (protocol is fixed), but bundle rules are re-checked on set
    old, new = spd.set_saspecification(2, hashalg=HashAlg.DESMAC, hashkey=7)
    assert (old.hashalg, old.hashkey, new.hashalg, new.hashkey) == (HashAlg.MD5, 101, HashAlg.DESMAC, 7)
    assert spd.saspecifications[2] is new and new.protocol is AH
    assert spd.bundlespecifications[1] is bundle and set(bundle.bundle.spec_ids) == {1, 2}
    with pytest.raises(InvalidConfiguration, match="unknown parameter PROTOCOL"):
        spd.set_saspecification(2, protocol=ESP)
    with pytest.raises(InvalidConfiguration, match="protocol AH needs HASHAlg"):
        spd.set_saspecification(2, hashalg=HashAlg.NULL)
    assert spd.saspecifications[2] is new                  # a refused set leaves the specification and bundle
    assert spd.bundlespecifications[1] is bundle


# -- policies -------------------------------------------------------------------------------------

@pytest.fixture
def manual_bundle(spd):
    manual_esp(spd)
    manual_ah(spd)
    spd.create_bundlespecification(1, MAN, "1 and 2")
    spd.create_saspecification(3, ISA, ESP, encalg=EncAlg.DES, hashalg=HashAlg.SHA)
    spd.create_bundlespecification(2, ISA, "3")
    return spd


def ipsec_policy(spd, name="vpn", interface="ppp0", **kw):
    params = dict(peeraddress=ip("192.168.2.1"), keymanagement=MAN, bundlespecification=1)
    params.update(kw)
    return spd.create_policy(name, interface, Action.IPSEC, **params)


def test_policy_defaults(manual_bundle):
    p = ipsec_policy(manual_bundle)
    assert (p.ipversion, p.dfbit, p.group, p.udpport, p.udptunnel, p.pktdebuglength, p.position) == \
        (4, DfBit.CLEAR, 1, 2746, False, 72, 1)
    assert p.source_interface == "ppp0" and p.manual
    assert p.laddress == AddressSelector.any() and p.lport == PortSelector()


@pytest.mark.parametrize("params, message", [
    ({"peeraddress": None}, "action IPSEC needs PEERADDRESS"),
    ({"keymanagement": None, "bundlespecification": None}, "needs KEYMANAGEMENT, BUNDLESPECIFICATION"),
    ({"bundlespecification": 9}, "bundle specification 9 does not exist"),
    ({"keymanagement": ISA}, "bundle specification 1 uses MANUAL key management, the policy ISAKMP"),
    ({"usepfskey": True}, "USEPFSKEY is valid with ISAKMP key management only"),
    ({"keymanagement": ISA, "bundlespecification": 2, "group": 2}, "GROUP is used for PFS only"),
    ({"respondbadspi": True}, "RESPONDBADSPI=TRUE needs action IPSEC, KEYMANAGEMENT=ISAKMP and an IPv4"),
    ({"keymanagement": ISA, "bundlespecification": 2, "respondbadspi": True, "peeraddress": PeerWildcard.ANY},
     "RESPONDBADSPI=TRUE needs"),
    ({"iproutetemplate": "t1"}, "IPROUTETEMPLATE is valid only with PEERADDRESS=ANY or DYNAMIC"),
    ({"ipversion": 6, "peeraddress": ip("3ffe::1"), "udptunnel": False}, "UDPTUNNEL cannot be specified when "
                                                                          "IPVERSION is 6"),
    ({"ipversion": 6, "peeraddress": ip("3ffe::1"), "dfbit": DfBit.SET}, "DFBIT cannot be specified"),
    ({"ipversion": 6}, "PEERADDRESS=192.168.2.1 is an IPv4 address, the policy is IPv6"),
    ({"laddress": AddressSelector.parse("3ffe::1")}, "LADDRESS=3ffe::1 is an IPv6 address, the policy is IPv4"),
    ({"lmask": ip("255.255.255.0")}, "LMASK applies to a single IPv4 LADDRESS, not ANY"),
    ({"raddress": AddressSelector.parse("10.0.0.1-10.0.0.9"), "rmask": ip("255.255.255.0")},
     "RMASK applies to a single IPv4 RADDRESS, not 10.0.0.1-10.0.0.9"),
    ({"saselectorfrompkt": ("all", SaSelector.LPORT)}, "ALL cannot be combined"),
    ({"srcinterface": "eth9"}, "source interface eth9 does not exist"),
])
def test_policy_rules(manual_bundle, counts, params, message):
    with pytest.raises(InvalidConfiguration, match=message):
        ipsec_policy(manual_bundle, **params)
    assert not manual_bundle.has_policy("vpn")


def test_policy_interface_must_exist_and_name_unique(manual_bundle):
    with pytest.raises(InvalidConfiguration, match="interface eth9 does not exist"):
        manual_bundle.create_policy("p", "eth9", Action.PERMIT)
    ipsec_policy(manual_bundle, name="My_VPN")
    with pytest.raises(AlreadyExists, match="not case sensitive"):
        manual_bundle.create_policy("my_vpn", "eth0", Action.PERMIT)
    assert manual_bundle.policy("MY_VPN").name == "My_VPN"
    with pytest.raises(NotFound, match='IPsec policy "other" does not exist'):
        manual_bundle.policy("other")


def test_ipv6_policy(manual_bundle):
    p = manual_bundle.create_policy("v6", "eth0", Action.PERMIT, ipversion=6,
                                    laddress=AddressSelector.parse("3ffe:1::/32"), icmptype=(133, 134, 135, 136),
                                    transportprotocol=ProtocolSelector(1, name="ICMP"))
    sel = p.selectors()
    assert sel.transport.number == 58        # ICMP means ICMPv6 in an IPv6 policy
    pkt = PacketSelector.of("3ffe:1::5", "3ffe:2::1", 58, icmp_type=135)
    assert manual_bundle.lookup(pkt, "eth0", Direction.OUTBOUND) is p
    assert manual_bundle.lookup(PacketSelector.of("3ffe:1::5", "3ffe:2::1", 58, icmp_type=128), "eth0",
                                Direction.OUTBOUND) is None


def test_set_policy_is_atomic_and_merges(manual_bundle):
    ipsec_policy(manual_bundle)
    old, new = manual_bundle.set_policy("vpn", laddress=AddressSelector.parse("192.168.2.0"),
                                        lmask=ip("255.255.255.0"))
    assert old.lmask is None and new.lmask == ip("255.255.255.0") and new.peeraddress == ip("192.168.2.1")
    with pytest.raises(InvalidConfiguration, match="LMASK applies to a single IPv4"):
        manual_bundle.set_policy("vpn", laddress=AddressSelector.any())
    assert manual_bundle.policy("vpn") is new
    # a permit policy can become IPsec once it has what IPsec needs (§7.10: KEYmanagement accepted on set)
    manual_bundle.create_policy("p", "ppp0", Action.PERMIT)
    with pytest.raises(InvalidConfiguration, match="action IPSEC needs"):
        manual_bundle.set_policy("p", action=Action.IPSEC)
    manual_bundle.set_policy("p", action=Action.IPSEC, keymanagement=ISA, bundlespecification=2,
                             peeraddress=PeerWildcard.DYNAMIC, iproutetemplate="t1")


def test_positions_insert_shift_and_move(manual_bundle):
    spd = manual_bundle
    for name in ("a", "b", "c"):
        spd.create_policy(name, "ppp0", Action.PERMIT)
    spd.create_policy("first", "ppp0", Action.DENY, position=1)
    spd.create_policy("far", "ppp0", Action.DENY, position=100)       # beyond the end: last
    assert [(p.name, p.position) for p in spd.policies("ppp0")] == [
        ("first", 1), ("a", 2), ("b", 3), ("c", 4), ("far", 5)]
    spd.set_policy("far", position=2)
    assert [p.name for p in spd.policies("ppp0")] == ["first", "far", "a", "b", "c"]
    spd.set_policy("a", interface="eth0")                               # moves to the end of eth0's list
    assert [p.name for p in spd.policies("ppp0")] == ["first", "far", "b", "c"]
    assert [(p.name, p.position) for p in spd.policies("eth0")] == [("a", 1)]
    spd.destroy_policy("first")
    assert [(p.name, p.position) for p in spd.policies("ppp0")] == [("far", 1), ("b", 2), ("c", 3)]


def test_destroy_bundlespecification_in_use(manual_bundle):
    ipsec_policy(manual_bundle)
    with pytest.raises(InUse, match='used by policy vpn'):
        manual_bundle.destroy_bundlespecification(1)


def test_purge(manual_bundle):
    ipsec_policy(manual_bundle)
    manual_bundle.purge()
    assert not manual_bundle.policies() and not manual_bundle.saspecifications


# -- lookup ---------------------------------------------------------------------------------------

@pytest.fixture
def ordered(spd, counts):
    """Scenario-like list on ppp0: ISAKMP permit, the VPN, then deny everything else on UDP."""
    spd.create_policy("isakmp", "ppp0", Action.PERMIT, lport=PortSelector(500), rport=PortSelector(500),
                      transportprotocol=ProtocolSelector(UDP, name="UDP"))
    spd.create_policy("vpn", "ppp0", Action.DENY, laddress=AddressSelector.parse("10.1.1.0"),
                      lmask=ip("255.255.255.0"), raddress=AddressSelector.parse("10.2.1.0-10.2.1.127"))
    spd.create_policy("udp", "ppp0", Action.DENY, transportprotocol=ProtocolSelector(UDP, name="UDP"))
    return spd


def test_first_match_in_position_order(ordered, counts):
    out = Direction.OUTBOUND
    assert ordered.lookup(PacketSelector.of("202.45.12.8", "202.78.65.4", UDP, 500, 500), "ppp0", out).name == \
        "isakmp"
    assert ordered.lookup(PacketSelector.of("10.1.1.7", "10.2.1.9", TCP, 1024, 80), "ppp0", out).name == "vpn"
    assert ordered.lookup(PacketSelector.of("10.1.1.7", "10.2.1.200", UDP, 53, 53), "ppp0", out).name == "udp"
    assert ordered.lookup(PacketSelector.of("10.1.1.7", "10.2.1.200", TCP, 1, 2), "ppp0", out) is None
    assert ordered.lookup(PacketSelector.of("10.1.1.7", "10.2.1.9", TCP, 1, 2), "eth0", out) is None
    assert counts[("spd", "policyMatchSelectors good")] == 3
    assert counts[("spd", "policyMatchSelectors failed")] == 2
    assert counts[("filter", "localPortFailed")] >= 1 and counts[("filter", "remoteAddressRangeFailed")] == 2


def test_inbound_swaps_local_and_remote(ordered):
    inbound = PacketSelector.of("10.2.1.9", "10.1.1.7", TCP, 80, 1024)
    assert ordered.lookup(inbound, "ppp0", Direction.INBOUND).name == "vpn"
    assert ordered.lookup(inbound, "ppp0", Direction.OUTBOUND) is None


def test_explain_names_the_failing_selector(ordered):
    pkt = PacketSelector.of("10.9.9.9", "10.2.1.9", TCP, 1024, 80)
    assert ordered.explain(pkt, "ppp0", Direction.OUTBOUND) == [
        ("isakmp", "localPortFailed"), ("vpn", "localAddressMaskFailed"), ("udp", "transportProtoFailed")]


def test_masked_base_address_and_opaque_ports(spd):
    # a member/subnet whose base is not the network address is masked (§7.34)
    spd.create_policy("m", "eth0", Action.PERMIT, raddress=AddressSelector.parse("192.168.1.1"),
                      rmask=ip("255.255.255.240"), lport=PortSelector(opaque=True))
    out = Direction.OUTBOUND
    assert spd.lookup(PacketSelector.of("1.1.1.1", "192.168.1.0", TCP, 5, 6), "eth0", out) is not None
    assert spd.lookup(PacketSelector.of("1.1.1.1", "192.168.1.15", TCP, 5, 6), "eth0", out) is not None
    assert spd.lookup(PacketSelector.of("1.1.1.1", "192.168.1.16", TCP, 5, 6), "eth0", out) is None


def test_address_selector_forms():
    assert str(AddressSelector.parse("10.0.0.1-10.0.0.9")) == "10.0.0.1-10.0.0.9"
    assert AddressSelector.parse("3ffe::/16").contains(ip("3ffe:1::1"))
    assert not AddressSelector.parse("3ffe::/16").contains(ip("10.0.0.1"))
    for bad, message in [("10.0.0.9-10.0.0.1", "not a range"), ("10.0.0.1-3ffe::1", "mixes IPv4 and IPv6"),
                         ("10.0.0.0/24", "a prefix length is for IPv6"), ("3ffe::/129", "1..128"),
                         ("10.0.0", "not an IPv4 or IPv6 address")]:
        with pytest.raises(ValueError, match=message):
            AddressSelector.parse(bad)
