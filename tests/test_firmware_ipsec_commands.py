"""Every command of spec/ipsec-commands.md (and the ISAKMP ones the scenarios
use) runs through the console with the manual's own examples; bad input is
refused with a message naming the fault."""
import pytest

from pacsim.firmware.cli import (SUCCESS, AmbiguousAbbreviation, BadValue, CliError, CommandFailed,
                                 DuplicateParameter, MissingParameter, OutOfRange, UnknownCommand,
                                 UnknownParameter)
from pacsim.firmware.console import standalone_console
from pacsim.firmware.ipsec.spd import Action, KeyManagement
from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg, Mode, Protocol


def make_console():
    counter = {"n": 0}

    def random_bytes(n):
        counter["n"] += 1
        return (counter["n"] * 0x0101010101).to_bytes(8, "big")[-1:] * n
    return standalone_console(clock=lambda: 0.0, random_bytes=random_bytes)


def run(console, *lines):
    """Run lines that must succeed; returns the last output."""
    out = None
    for line in lines:
        out = console.execute(line)
    return out


@pytest.fixture
def c():
    """A console with the ENCO keys the manual's examples name."""
    console = make_console()
    run(console,
        "create enco key=1 type=des value=0x0123456789abcdef",
        "create enco key=2 type=3des value=0x00112233445566778899aabbccddeeff",   # 3DES2KEY: 16 bytes
        "create enco key=4 type=des value=fedcba9876543210",
        "create enco key=5 type=des value=0x1111111111111111",
        "create enco key=10 type=general value=0x" + "ab" * 16,
        "create enco key=101 type=general value=0x" + "cd" * 20)
    return console


# -- §2.1-§2.3 SA specifications ------------------------------------------------------------------

def test_create_saspecification_examples(c):
    assert run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des hashalg=md5 enck=1 hashkey=101") == \
        SUCCESS
    run(c, "cre ips sas=2 prot=ah key=ma inspi=300 outspi=400 hasha=md5 hashk=10")
    # L3340 prints "cree", which is not a prefix of CREate: refused; with "cre" it is the ISAKMP example
    with pytest.raises(UnknownCommand, match='Unknown command "cree"'):
        c.execute("cree ips sas=3 prot=es key=is enc=3desi hasha=md5")
    run(c, "cre ips sas=3 prot=es key=is enc=3desi hasha=md5", "cre ips sas=5 prot=ah key=is hasha=md5")
    specs = c.ipsec.spd.saspecifications
    assert (specs[1].keymanagement, specs[1].protocol, specs[1].encalg, specs[1].inspi) == \
        (KeyManagement.MANUAL, Protocol.ESP, EncAlg.DES, 300)
    assert (specs[3].keymanagement, specs[3].encalg, specs[3].hashalg) == \
        (KeyManagement.ISAKMP, EncAlg.TDESINNER, HashAlg.MD5)
    assert specs[5].protocol is Protocol.AH and specs[5].mode is Mode.TUNNEL


def test_saspecification_full_keywords_and_values(c):
    run(c, "create ipsec saspecification=7 keymanagement=isakmp protocol=esp antireplayenabled=true "
           "encalg=aes256 hashalg=sha mode=transport replaywindowsize=128",
        "CREATE IPSEC SASPECIFICATION=8 KEYMANAGEMENT=ISAKMP PROTOCOL=COMP COMPALG=LZS",
        "cre ips sas=9 key=ma prot=es enc=nul hasha=desm hashk=4 inspi=4294967295 outspi=256")
    s = c.ipsec.spd.saspecifications
    assert (s[7].antireplayenabled, s[7].replaywindowsize, s[7].mode) == (True, 128, Mode.TRANSPORT)
    assert s[8].protocol is Protocol.IPCOMP and s[9].encalg is EncAlg.NULL and s[9].hashalg is HashAlg.DESMAC


def test_set_and_destroy_saspecification_examples(c):
    run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des hashalg=md5 enck=1 hashkey=101",
        "cre ips sas=2 prot=es key=is enc=des hasha=md5",
        "set ips sas=1 enc=3des2 hasha=sha enck=2",                   # L5563: manual, algorithms and keys
        "set ips sas=2 enc=3desi hasha=sha",                          # ISAKMP
        "set ips sas=2 anti=t mo=tr")                                 # set's own minimums ANTIreplay, MOde
    s = c.ipsec.spd.saspecifications
    assert (s[1].encalg, s[1].hashalg, s[1].enckey) == (EncAlg.TDES2KEY, HashAlg.SHA, 2)
    assert (s[2].encalg, s[2].antireplayenabled, s[2].mode) == (EncAlg.TDESINNER, True, Mode.TRANSPORT)
    with pytest.raises(UnknownParameter, match='"key" is not a parameter of SET IPSEC SASPECIFICATION'):
        c.execute("set ips sas=1 key=is")
    run(c, "dest ips sas=1")                                          # L4040
    with pytest.raises(CommandFailed, match="SA specification 1 does not exist"):
        c.execute("dest ips sas=1")


@pytest.mark.parametrize("line, error, message", [
    ("cre ips sas=1 prot=es enc=des", MissingParameter, "needs KEYmanagement={ISakmp|MAnual}"),
    ("cre ips sas=256 key=is prot=es enc=des", OutOfRange, "Bad value for SASpecification: 256 is out of range: "
                                                           "expected 0..255"),
    ("cre ips sas=1 key=is prot=esx enc=des", BadValue, 'Bad value for PROTocol: "esx" is not one of '
                                                        "{AH|COmp|ESp}"),
    ("cre ips sas=1 key=is prot=es enc=3des", AmbiguousAbbreviation, '"3des" is ambiguous'),
    ("cre ips sas=1 key=ma prot=es enc=des enck=1 inspi=255 outspi=400", OutOfRange,
     "INSPI: 255 is out of range: expected 256..4294967295"),
    ("cre ips sas=1 key=is prot=es enc=des repla=48", BadValue, "{32|64|128|256}"),
    ("cre ips sas=1 key=is prot=es enc=des hash=md5", AmbiguousAbbreviation,
     '"hash" is ambiguous for CREATE IPSEC SASPECIFICATION: it could be HASHAlg, HASHKey'),
    ("cre ips sas=1 key=is prot=es enc=des antirep=yes", BadValue, "{True|False}"),
    ("cre ips sas=1 key=is prot=es", CommandFailed, "protocol ESP needs ENCalg"),
    ("cre ips sas=1 key=ma prot=ah hasha=md5 inspi=300 outspi=400", CommandFailed, "MD5 needs HASHKEY"),
    ("cre ips sas=1 key=ma prot=es enc=des enck=77 inspi=300 outspi=400", CommandFailed,
     "ENCO key 77 does not exist"),
    ("cre ips sas=1 key=ma prot=es enc=des enck=1 inspi=300 outspi=400 antir=t", CommandFailed,
     "ANTIREPLAYENABLED is not valid for manual key management"),
    ("cre ips sas=1 key=is prot=es enc=des enc=aes128", DuplicateParameter, "given more than once"),
])
def test_saspecification_errors(c, line, error, message):
    with pytest.raises(error) as e:
        c.execute(line)
    assert message in str(e.value)


# -- §2.4-§2.6 bundle specifications --------------------------------------------------------------

def test_bundlespecification_examples(c):
    run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des hashalg=md5 enck=1 hashkey=101",
        "cre ips sas=2 prot=ah key=ma inspi=300 outspi=400 hasha=md5 hashk=10",
        'cre ips bund=1 key=ma str=\u201d1 and 2" expiryk=500000')     # L2677, curly quote and all
    b = c.ipsec.spd.bundlespecifications[1]
    assert [[p.spec_ids for p in prop.pairs] for prop in b.bundle.proposals] == [[(1,), (2,)]]
    assert b.expirykbytes == 500000
    run(c, "cre ips sas=11 key=is prot=es enc=3desi hasha=md5", "cre ips sas=12 key=is prot=es enc=des hasha=md5",
        "cre ips sas=13 key=is prot=ah hasha=sha", "cre ips sas=14 key=is prot=es enc=aes128",
        'cre ips bund=2 key=is str="11 or 12 and 13, 14 and 13" expirys=7200',
        "set ips bund=2 expirys=7200",                                # L4946
        'create ipsec bundlespecification=3 keymanagement=isakmp string="12"')
    b = c.ipsec.spd.bundlespecifications[2]
    assert [[p.spec_ids for p in prop.pairs] for prop in b.bundle.proposals] == [[(11, 12), (13,)], [(14,), (13,)]]
    assert b.expiryseconds == 7200
    with pytest.raises(UnknownParameter):
        c.execute('set ips bund=2 str="12"')
    run(c, "dest ips bund=1")                                         # L3959


@pytest.mark.parametrize("line, error, message", [
    ('cre ips bund=1 key=ma', MissingParameter, "needs STRING=bundle string (1-100 characters)"),
    ('cre ips bund=1 key=ma str=""', BadValue, "bundle string must be 1 to 100 characters long, not 0"),
    ('cre ips bund=1 key=ma str="1 and"', CommandFailed, "ends with AND"),
    ('cre ips bund=1 key=is str="9"', CommandFailed, "SA specification 9 in the bundle string does not exist"),
    ('cre ips bund=1 key=is str="1" expirys=299', OutOfRange, "expected 300..31449600"),
    ('cre ips bund=1 key=is str="1" expiryk=4193281', OutOfRange, "expected 1..4193280"),
])
def test_bundlespecification_errors(c, line, error, message):
    run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des hashalg=md5 enck=1 hashkey=101")
    with pytest.raises(error) as e:
        c.execute(line)
    assert message in str(e.value)


# -- §2.7-§2.9 policies ---------------------------------------------------------------------------

@pytest.fixture
def manual(c):
    run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des hashalg=md5 enck=1 hashkey=101",
        "cre ips sas=2 prot=ah key=ma inspi=300 outspi=400 hasha=md5 hashk=10",
        'cre ips bund=1 key=ma str="1 and 2"')
    return c


def test_policy_examples_manual(manual):
    c = manual
    run(c, 'cre ips pol="test" int=eth0 ac=ips peer=10.109.1.1 srci=eth1 key=ma bund=1 rad=10.109.1.1',
        'cre ips pol="my_vpn" int=ppp0 ac=ips peer=192.168.2.1 key=ma bund=1',
        'set ips pol="my_vpn" lad=192.168.2.0 lma=255.255.255.0 rad=192.167.2.0 rma=255.255.255.0',
        # L5395: set with int= and key= (§7.10), and L5401: move to position 3 (the end of a 1-policy list)
        'set ips pol="test" int=eth0 ac=ips peer=10.109.1.1 srci=eth1 key=ma bund=1 rad=10.109.1.1',
        'set ips pol="my_vpn" pos=3')
    p = c.ipsec.spd.policy("my_vpn")
    assert (p.interface, p.action, p.keymanagement, p.bundlespecification) == \
        ("ppp0", Action.IPSEC, KeyManagement.MANUAL, 1)
    assert str(p.local_selector.bounds) and str(p.laddress) == "192.168.2.0" and str(p.rmask) == "255.255.255.0"
    assert c.ipsec.spd.policy("test").source_interface == "eth1"


def test_policy_example_isakmp(c):
    run(c, "cre ips sas=1 key=is prot=es enc=des hasha=sha", 'cre ips bund=1 key=is str="1"',
        'cre ips pol="my_vpn" int=ppp0 ac=ips key=isakmp bund=1 peer=192.168.2.1',
        'set ips pol="my_vpn" lad=192.168.2.0 lma=255.255.255.0 rad=192.167.2.0 rma=255.255.255.0',
        "create ipsec policy=isakmp interface=ppp0 action=permit lport=500 rport=500",     # L1049-1056
        "set ipsec policy=my_vpn udptunnel=true",                                          # L954
        "set ipsec policy=my_vpn udpport=4500 udph=t usepfsk=t gro=2 resp=t isa=my_isakmp_policy",
        "cre ips pol=v6 int=eth0 ac=pe ipv=6 lad=3ffe::/16 rad=3ffe:1::1-3ffe:1::9 ic=ndall tra=icmp",
        "cre ips pol=dyn int=ppp1-1 ac=ip key=is bund=1 peer=dy lna=main_office rna=any iprou=route1 "
        "sase=lad,rp dfb=co lp=op rp=1701 tra=17 pos=1",
        "set ips pol=dyn peer=dynamic ic=nd sase=none")          # set spells DYNAMIC and NDall
    p = c.ipsec.spd.policy("my_vpn")
    assert (p.udptunnel, p.udpport, p.udpheartbeat, p.usepfskey, p.group, p.respondbadspi) == \
        (True, 4500, True, True, 2, True)
    assert c.ipsec.spd.policy("dyn").lname == "main_office" and c.ipsec.spd.policy("dyn").rname is None
    assert c.ipsec.spd.policy("v6").icmptype == (133, 134, 135, 136)


@pytest.mark.parametrize("line, error, message", [
    ("create ipsec policy=name action=permit lport=2746", MissingParameter, "needs INTerface="),   # L986
    ("set ipsec policy=my_vpn udpheartbeats=true", UnknownParameter, '"udpheartbeats" is not a parameter'),  # L966
    ("set ipsec policy=my_vpn edpport=4500", UnknownParameter, '"edpport" is not a parameter'),      # L976
    ("cre ips pol=x int=serial0 ac=pe", BadValue, '"serial0" is not an interface name'),
    ("cre ips pol=y int=eth0 ac=ips", CommandFailed, "action IPSEC needs PEERADDRESS, KEYMANAGEMENT, "
                                                     "BUNDLESPECIFICATION"),
    ("cre ips pol=x int=eth0 ac=pe pos=101", OutOfRange, "Bad value for POSition: 101 is out of range"),
    ("cre ips pol=x int=eth0 ac=pe lp=65536", OutOfRange, "Bad value for LPort: 65536 is out of range"),
    ("cre ips pol=x int=eth0 ac=pe lad=10.0.0.300", BadValue, "Bad value for LADdress"),
    ("cre ips pol=x int=eth0 ac=pe lma=255.0.255.0", BadValue, "must be contiguous"),
    ("cre ips pol=abcdefghijklmnopqrstuvwx int=eth0 ac=pe", OutOfRange, "1 to 23 characters long"),
    ("cre ips pol=x int=eth0 ac=pe udp=t", AmbiguousAbbreviation, "UDPHeartbeat, UDPPort, UDPTunnel"),
    ("cre ips pol=y int=eth0 ac=pe sase=all,lp", CommandFailed, "ALL cannot be combined"),
    ("cre ips pol=y int=eth0 ac=pe ipv=6 udpt=f", CommandFailed, "UDPTUNNEL cannot be specified when IPVERSION "
                                                                 "is 6"),
    ("set ips pol=x ac=ip", BadValue, '"ip" is too short for IPSec'),       # set writes IPSec (min ips)
    ("set ips pol=nobody ac=pe", CommandFailed, 'IPsec policy "nobody" does not exist'),
])
def test_policy_errors(manual, line, error, message):
    run(manual, "cre ips pol=x int=eth0 ac=pe")
    with pytest.raises(error) as e:
        manual.execute(line)
    assert message in str(e.value)


def test_destroy_policy_examples(manual):
    c = manual
    run(c, 'cre ips pol="my_vpn" int=ppp0 ac=ips peer=192.168.2.1 key=ma bund=1', "ena ips",
        'dest ips pol= "my_vpn" sab=0')                                # L4001: destroys SA bundle 0
    assert c.ipsec.spd.has_policy("my_vpn") and c.ipsec.sad.bundles("my_vpn") == []
    with pytest.raises(CommandFailed, match="SA bundle 0 does not exist"):
        c.execute('dest ips pol="my_vpn" sab=0')
    run(c, 'dest ips pol="my_vpn"')                                    # L3996
    assert not c.ipsec.spd.has_policy("my_vpn")


# -- §3 control, counters, debug ------------------------------------------------------------------

def test_control_examples(manual):
    c = manual
    run(c, 'cre ips pol="my_vpn" int=ppp0 ac=ips peer=192.168.2.1 key=ma bund=1', "cre ips pol=tester int=eth0 ac=de")
    assert run(c, "ena ips") == SUCCESS and c.ipsec.enabled and len(c.ipsec.sad.sas()) == 2
    run(c, "set ips udpp=4000")                                        # L5590
    assert c.ipsec.udp_listen_port == 4000
    run(c, "reset ips pol=tester", 'reset ips pol="my_vpn" cou', "reset ips sa=1 cou", "reset ips cou=sad,spd",
        "reset ips cou")
    with pytest.raises(CommandFailed, match="SA 9 does not exist"):
        c.execute("reset ips sa=9 cou")
    run(c, 'ena ips pol="my_vpn" deb=fi', "ena ips pol deb=pa,tr di=in dis=data whe=ips",
        'dis ips pol="my_vpn" deb=fi', "dis ips pol=all deb=all")
    with pytest.raises(CommandFailed, match="WHERE not valid when filter debugging is specified"):
        c.execute('ena ips pol="my_vpn" deb=fi whe=ips')
    with pytest.raises(CommandFailed, match="DIRECTION not valid"):
        c.execute('dis ips pol="my_vpn" deb=fi di=in')
    with pytest.raises(MissingParameter, match="needs DEBug="):
        c.execute('dis ips pol="my_vpn"')
    run(c, "dis ips")
    assert not c.ipsec.enabled and c.ipsec.sad.sas() == []
    run(c, "pur ips")
    assert not c.ipsec.spd.policies() and not c.ipsec.spd.saspecifications


# -- §4 old SAs ------------------------------------------------------------------------------------

def test_old_sa_examples(c):
    run(c, "cre sa=1 spi=1000 enck=4 di=both",                         # L3881
        "set sa=1 enckey=5",                                           # L6107
        "add sa=1 mem=local ip=192.168.1.1 mask=255.255.255.240",      # L2582
        "ena sa=1 deb=a", "dis sa=1 deb=a",                            # L4721, L4359
        "ena ips old int=eth0", "dis ips old int=eth0",                # L4434, L4136
        "set sa=1 debugp=f di=in enc=3des2 enck=2")
    sa = c.ipsec.old_sas.sas[1]
    assert (sa.spi, sa.enckey, sa.direction.value, sa.encalg) == (1000, 2, "In", EncAlg.TDES2KEY)
    run(c, "del sa=1 mem=loc ip=192.168.1.1 mask=255.255.255.240")     # L3938
    with pytest.raises(CommandFailed, match="has no local member"):
        c.execute("del sa=1 mem=loc ip=192.168.1.1 mask=255.255.255.240")
    with pytest.raises(CommandFailed, match="IPsec must be enabled"):
        c.execute("act ips convert sa=2")                              # L2563
    run(c, "ena ips")
    with pytest.raises(CommandFailed, match="SA 2 does not exist"):
        c.execute("act ips convert sa=2")
    run(c, "dest sa=1")                                                # L4078
    with pytest.raises(CommandFailed, match="SA 1 does not exist"):
        c.execute("dest sa=1")
    with pytest.raises(CommandFailed, match="there are no old SAs to convert"):
        c.execute("act ips convert")     # L2568; converting: test_firmware_oldsa_conversion
    with pytest.raises(CommandFailed, match="ENCO key 10 is 16 bytes long, DES needs 8"):
        c.execute("cre sa=2 spi=1000 enck=10")
    with pytest.raises(BadValue, match="virt9"):
        c.execute("ena ips old int=virt9")


# -- ISAKMP: accepted, checked and stored ---------------------------------------------------------

def test_isakmp_commands_are_stored(c):
    run(c, 'cre isa pol="my_isakmp_policy" pe=192.168.2.1 autht=pre key=5',       # L3841
        'cre isa pol="v6" ipv=6 pe=3ffe::4 autht=pre key=5',                        # L3847
        'set isa pol="my_isakmp_policy" sendn=tr sendd=tr',                         # L6076
        "set isakmp policy=my_isakmp_policy xauth=server xauthtype=generic NATT=on heartbeat=receive",
        "set isakmp policy=my_isakmp_policy xauth=client xauthname=remote xauthpass=friend localid=head_office",
        "ena isa", "ena isa deb", "ena isa deb=tra", "dis isa deb", "reset isa cou=main,quick", "reset isa cou",
        "reset isa pol=my_isakmp_policy", "dis isa", 'dest isa pol="v6"')
    p = c.isakmp.policies["my_isakmp_policy"]
    assert (p.sendnotify, p.senddeletes, p.nattraversal, p.xauth, p.xauthname, p.heartbeatmode) == \
        (True, True, True, "client", "remote", "receive")
    # dis isa deb disables the default classes, trace among them (isakmp-commands.md §2.7)
    assert "v6" not in c.isakmp.policies and c.isakmp.debug == set()
    with pytest.raises(CommandFailed, match="AUTHTYPE=PRESHARED needs KEY"):
        c.execute("cre isa pol=nokey pe=1.2.3.4")
    with pytest.raises(CommandFailed, match="HEARTBEATMODE cannot be specified when IPVERSION is 6"):
        c.execute("cre isa pol=x ipv=6 pe=3ffe::1 key=1 hear=b")
    with pytest.raises(CommandFailed, match="DHEXPONENTLENGTH=900 is too long for group 1"):
        c.execute("cre isa pol=x pe=1.2.3.4 key=1 dhe=900")
    with pytest.raises(CommandFailed, match="names are case sensitive"):
        c.execute("set isa pol=MY_ISAKMP_POLICY sendn=off")


# -- ENCO keys ------------------------------------------------------------------------------------

def test_enco_key_commands(c):
    run(c, "create enco key=20 type=general random", "create enco key=21 type=general value=alphanumeric-key")
    assert len(c.keys.key(20).value) == 16 and c.keys.key(21).value == b"alphanumeric-key"
    shown = run(c, "show enco key=20")
    value = next(line.split()[-1] for line in shown.splitlines() if line.startswith("Value"))
    other = make_console()
    run(other, f"create enco key=1 type=general value={value}")        # §6.0 step 3: same key on the remote
    assert other.keys.key(1).value == c.keys.key(20).value
    with pytest.raises(CommandFailed, match="give either RANDOM or VALUE"):
        c.execute("create enco key=22 type=general")
    with pytest.raises(CommandFailed, match="ENCO key 20 already exists"):
        c.execute("create enco key=20 type=des random")
    with pytest.raises(CommandFailed, match="a DES key is 8 bytes long, not 3"):
        c.execute("create enco key=23 type=des value=0x010203")
    run(c, "cre ips sas=1 prot=es key=ma inspi=300 outspi=400 enc=des enck=1")
    with pytest.raises(CommandFailed, match="ENCO key 1 is used by IPsec SA specification 1"):
        c.execute("destroy enco key=1")
    run(c, "destroy enco key=21")
    with pytest.raises(CommandFailed, match="ENCO key 21 does not exist"):
        c.execute("show enco key=21")


def test_every_error_is_a_cli_error(c):
    for line in ("bogus", "cre", "cre ips", "cre ips sas", "cre ips sas=x", 'cre ips pol="x', "show ipsec policy=x",
                 "dest enco key=99"):
        with pytest.raises(CliError):
            c.execute(line)
        assert c.run(line).startswith("Error: ")


def test_help(c):
    out = c.run("cre ips ?")
    assert "BUNDlespecification=0..255" in out and "POLicy=policy name (1-23 characters)" in out
    assert "SASpecification=0..255" in out
    out = c.run("cre ips sas=1 ?")
    assert "KEYmanagement={ISakmp|MAnual}" in out and "[INSPI=256..4294967295]" in out
    assert c.run("cre ips sas=1 key=is prot=?").splitlines()[1:] == ["  AH", "  COmp", "  ESp"]
    assert "ENCo" in c.run("?") or "ENCo" in c.run("cre ?")



def sample_value(value_type):
    """Some text the value type accepts."""
    candidates = [k.spelling for k in value_type.choices()] + ["1", "0", "256", "x", "10.0.0.1", "255.255.255.0",
                                                                "eth0", "any"]
    for text in candidates:
        try:
            value_type.parse(text)
            return text
        except Exception:
            continue
    raise AssertionError(f"no sample for {value_type.describe()}")


def test_command_tables_are_consistent():
    """At every position of the command tree one keyword has one spelling and minimum, and every
    command parses from the shortest forms of its words and required parameters."""
    table = make_console().cli.table
    seen = {}
    for command in table.commands:
        for depth, word in enumerate(command.words):
            key = (tuple(w.keyword.name for w in command.words[:depth]), word.keyword.name)
            assert seen.setdefault(key, word.keyword) == word.keyword, command.title
    for command in table.commands:
        parts = [w.keyword.shortest + ("" if w.type is None or w.optional_value else "=" + sample_value(w.type))
                 for w in command.words]
        parts += [p.keyword.shortest + ("" if p.type is None else "=" + sample_value(p.type))
                  for p in command.params if p.required]
        parsed = table.parse(" ".join(parts))
        assert parsed.command is command, (" ".join(parts), parsed.command.title, command.title)
