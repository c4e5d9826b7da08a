"""The two acceptance scenarios of spec/ipsec-commands.md §6 run through the
console: the §6.0 security preamble (a security officer, security mode,
login) and the user lines for real, then the ENCO, IPsec and ISAKMP lines
as that security officer without errors (ISAKMP commands are accepted,
checked and stored; no exchange runs), the lines of router modules this
model does not have (VLANs, IP, firewall, config files, system name,
RADIUS) refused as unknown commands, and the resulting SPD as the text
describes."""
import pytest

from pacsim.firmware.cli import CommandFailed, DuplicateParameter, Privilege, UnknownCommand
from pacsim.firmware.console import standalone_console
from pacsim.firmware.ipsec.selectors import Direction, PacketSelector
from pacsim.firmware.ipsec.spd import Action, KeyManagement, PeerWildcard
from pacsim.firmware.ipsec.transforms import EncAlg, HashAlg, Mode, Protocol

UDP, TCP = 17, 6
NOT_MODELLED = ("create config", "set config", "set system", "create vlan", "add vlan", "add ip", "create fire",
                "add fire", "add radius")


def console(seed=1):
    state = {"n": seed}

    def random_bytes(n):
        out = bytes((state["n"] * 37 + i * 11) % 256 for i in range(n))
        state["n"] += 1
        return out
    return standalone_console(clock=lambda: 0.0, random_bytes=random_bytes)


def play(c, script, refused=()):
    """Run a script; modelled lines must succeed, except those starting with
    one of ``refused``, which must fail; the others must be unknown commands."""
    for line in script.strip().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line.lower().startswith(NOT_MODELLED):
            with pytest.raises(UnknownCommand):
                c.execute(line)
        elif refused and line.lower().startswith(tuple(refused)):
            with pytest.raises(CommandFailed):
                c.execute(line)
        else:
            c.execute(line)


# L1667-1668: "login secoff", then the router prompts "Password:"; a script gives it as a parameter.
PREAMBLE = """
add user=secoff password=your-password priv=securityofficer
enable system security
login secoff password=your-password
"""

# -- Scenario A: VPN-only with ISAKMP (L1676-1915) ------------------------------------------------

HEAD_OFFICE_A = """
create isakmp policy=office_isakmp_policy peer=202.78.65.4 authtype=preshared key=1 encalg=des hashalg=sha
set isakmp policy=office_isakmp_policy senddeletes=on setcommitbit=on
create ipsec saspecification=1 keymanagement=isakmp protocol=esp encalg=des hashalg=null
create ipsec saspecification=2 keymanagement=isakmp protocol=esp encalg=3des2key hashalg=null
create ipsec saspecification=3 keymanagement=isakmp protocol=ah hashalg=sha
create ipsec bundlespecification=1 keymanagement=isakmp string="2 and 3,1 and 3"
create ipsec policy=office_vpn_isakmp int=ppp0 action=permit lport=500 rport=500
create ipsec policy=office_vpn_ipsec int=ppp0 action=ipsec keymanagement=isakmp bundlespecification=1 peer=202.78.65.4
set ipsec policy=office_vpn_ipsec laddress=10.1.1.0 lmask=255.255.255.0 raddress=10.2.1.0 rmask=255.255.255.0
enable ipsec
enable isakmp
create config=ipsec.cfg
set config=ipsec.cfg
"""

# L1853 prints "keym=des"; read as encalg=des (ipsec-commands.md §6.1, §7 item 37)
REMOTE_A = """
create isakmp policy=office_isakmp_policy peer=202.45.12.8 authtype=preshared key=1 encalg=des hashalg=sha
set isakmp policy=office_isakmp_policy senddeletes=on setcommitbit=on
create ipsec sas=1 keymanagement=isakmp protocol=esp encalg=des hashalg=null
create ipsec sas=2 keymanagement=isakmp protocol=ah hashalg=sha
create ipsec bundlespecification=1 keymanagement=isakmp string="1 and 2"
create ipsec policy=office_vpn_isakmp int=ppp0 action=permit lport=500 rport=500
create ipsec policy=office_vpn_ipsec int=ppp0 action=ipsec keymanagement=isakmp bundlespecification=1 peer=202.45.12.8
set ipsec policy=office_vpn_ipsec laddress=10.2.1.0 lmask=255.255.255.0 raddress=10.1.1.0 rmask=255.255.255.0
enable ipsec
enable isakmp
create config=ipsec.cfg
set config=ipsec.cfg
"""


def shared_key_pair():
    """§6.0: on both routers a security officer, security mode and its login;
    a random general key at the head office, shown, and typed into the remote router."""
    head, remote = console(1), console(2)
    play(head, PREAMBLE)
    play(remote, PREAMBLE)
    for c in (head, remote):
        assert c.users.security_mode and c.session.user.name == "secoff"
        assert c.session.privilege is Privilege.SECURITYOFFICER
    head.execute("create enco key=1 type=general random")
    shown = head.execute("show enco key=1")
    value = next(line.split()[-1] for line in shown.splitlines() if line.startswith("Value"))
    remote.execute(f"create enco key=1 type=general value={value}")
    assert head.keys.bytes(1) == remote.keys.bytes(1)
    return head, remote


def test_scenario_a_runs():
    head, remote = shared_key_pair()
    play(head, HEAD_OFFICE_A)
    play(remote, REMOTE_A)
    for c in (head, remote):
        assert c.ipsec.enabled and c.isakmp.enabled
        assert [p.name for p in c.ipsec.spd.policies("ppp0")] == ["office_vpn_isakmp", "office_vpn_ipsec"]  # A4
        assert c.ipsec.sad.sas() == []                 # ISAKMP bundles are negotiated on demand (A5)
        p = c.ipsec.spd.policy("office_vpn_ipsec")
        assert p.isakmppolicy is None                  # A8: found by peer address
    hs = head.ipsec.spd.saspecifications
    assert [(hs[i].protocol, hs[i].encalg, hs[i].hashalg) for i in (1, 2, 3)] == [
        (Protocol.ESP, EncAlg.DES, HashAlg.NULL), (Protocol.ESP, EncAlg.TDES2KEY, HashAlg.NULL),
        (Protocol.AH, None, HashAlg.SHA)]
    # A1: head office proposes (3DES2KEY ESP + SHA AH), then (DES ESP + SHA AH); the remote (DES ESP + SHA AH)
    proposals = head.ipsec.spd.bundlespecifications[1].bundle.proposals
    assert [[pair.spec_ids for pair in p.pairs] for p in proposals] == [[(2,), (3,)], [(1,), (3,)]]
    assert str(remote.ipsec.spd.bundlespecifications[1].bundle) == "1 AND 2"
    assert head.isakmp.policies["office_isakmp_policy"].senddeletes is True


def test_scenario_a_policy_lookup():
    head, remote = shared_key_pair()
    play(head, HEAD_OFFICE_A)
    play(remote, REMOTE_A)
    spd = head.ipsec.spd
    out = Direction.OUTBOUND
    isakmp = PacketSelector.of("202.45.12.8", "202.78.65.4", UDP, 500, 500)
    assert spd.lookup(isakmp, "ppp0", out).action is Action.PERMIT                       # A4
    vpn = PacketSelector.of("10.1.1.5", "10.2.1.9", TCP, 1025, 80)
    assert spd.lookup(vpn, "ppp0", out).name == "office_vpn_ipsec"                         # A5
    assert spd.lookup(PacketSelector.of("10.1.1.5", "8.8.8.8", TCP, 1025, 80), "ppp0", out) is None   # A6
    # A7: the remote's selectors are the mirror image
    back = PacketSelector.of("10.2.1.9", "10.1.1.5", TCP, 80, 1025)
    assert remote.ipsec.spd.lookup(back, "ppp0", out).name == "office_vpn_ipsec"
    assert spd.lookup(back, "ppp0", Direction.INBOUND).name == "office_vpn_ipsec"


def test_scenario_a_displays():
    head, _ = shared_key_pair()
    play(head, HEAD_OFFICE_A)
    text = head.execute("show ipsec policy=office_vpn_ipsec")           # A9
    assert "Key Management ................. ISAKMP" in text and "Peer IP Address ................ 202.78.65.4" \
        in text
    assert "  Local Address ................ 10.1.1.0" in text and "  Remote Mask .................. 255.255.255.0" \
        in text
    assert head.execute("show ipsec bundlespecification").splitlines()[2] == "1  ISAKMP       -         28800   " \
                                                                              "2 AND 3, 1 AND 3"
    assert head.execute("show ipsec policy").splitlines()[2:] == [
        "PPP0      OFFICE_VPN_ISAKMP PERMIT  -              1",
        "PPP0      OFFICE_VPN_IPSEC  IPSEC   ISAKMP         2"]


def test_scenario_a_remote_keym_as_printed():
    """L1853 as printed repeats KEYmanagement: refused, naming the fault."""
    c = console()
    with pytest.raises(DuplicateParameter, match="KEYmanagement is given more than once"):
        c.execute("create ipsec sas=1 keymanagement=isakmp protocol=esp keym=des hashalg=null")


# -- Scenario B: VPN with NAT-T and XAUTH (L1916-2375), placeholders bound (§6.3) ------------------

BINDINGS = {
    "interconnect-LAN-address": None,              # per router, below
    "NAT-gateway-address": None,
    "remote-internet-address": "203.0.113.20",
    "head-office-internet-address": "198.51.100.10",
    "head-office-LAN-ip-subnet-address": "192.168.10.0",
    "head-office-LAN-ip-subnet-mask": "255.255.255.0",
    "remote-LAN-ip-subnet-address": "192.168.20.0",
    "remote-LAN-ip-subnet-mask": "255.255.255.0",
}

HEAD_OFFICE_B = """
set system name="Head Office"
add user=secoff pass=secoff priv=sec login=yes telnet=yes
delete user=manager
set user securedelay=600
add user=remote password=friend
create vlan=public vid=2
add vlan=2 port=1
add ip int=vlan2 ip=10.0.0.2 frag=yes
add ip int=vlan1 ip=192.168.10.1
add ip rou=0.0.0.0 mask=0.0.0.0 int=vlan2 next=10.0.0.1
create fire policy=main
add fire policy=main int=vlan1 type=private
create ipsec sas=1 key=isakmp protocol=esp encalg=des hasha=sha
create ipsec bundlespecification=1 key=isakmp string="1"
create ipsec policy=isakmp int=vlan2 action=permit
set ipsec policy=isakmp lp=500
create ipsec policy=natt_udp int=vlan2 action=permit
set ipsec policy=natt_udp lp=4500
create ipsec policy=remote_site int=vlan2 action=ipsec key=isakmp bundlespecification=1 peer=remote-internet-address isa=to_remote
set ipsec policy=remote_site lad=head-office-LAN-ip-subnet-address lmask=head-office-LAN-ip-subnet-mask rad=remote-LAN-ip-subnet-address rmask=remote-LAN-ip-subnet-mask
create ipsec policy=internet int=vlan2 action=permit
enable ipsec
create isakmp policy=to_remote peer=remote-internet-address key=1
set isakmp policy=to_remote localid=head_office heartbeat=receive
set isakmp policy=to_remote sendd=true setc=true
set isakmp policy=to_remote NATT=on
set isakmp policy=to_remote xauth=server xauthtype=generic
enable isakmp
create config=ipsec.cfg
set config=ipsec.cfg
"""

REMOTE_B = """
set system name="Remote Site"
add user=secoff pass=secoff priv=sec login=yes telnet=yes
delete user=manager
set user securedelay=600
create vlan=public vid=2
add ip int=vlan2 ip=10.9.0.2 frag=yes
create fire poli=main
create ipsec sas=1 key=isakmp protocol=esp encalg=des hasha=sha
create ipsec bundlespecification=1 key=isakmp string="1"
create ipsec policy=isakmp int=vlan2 action=permit
set ipsec policy=isakmp lp=500 rp=500
create ipsec policy=natt_udp int=vlan2 action=permit
set ipsec policy=natt_udp lp=4500 rp=4500
create ipsec policy=head_office int=vlan2 action=ipsec key=isakmp bundlespecification=1 peer=head-office-internet-address isa=to_office
set ipsec policy=head_office lad=remote-LAN-ip-subnet-address lmask=remote-LAN-ip-subnet-mask rad=head-office-LAN-ip-subnet-address rmask=head-office-LAN-ip-subnet-mask
create ipsec policy=internet int=vlan2 action=permit
enable ipsec
create isakmp policy=to_office peer=head-office-internet-address key=1
set isakmp policy=to_office localid=remote_site heartbeat=send
set isakmp policy=to_office sendd=true setc=true
set isakmp policy=to_office NATT=on
set isakmp policy=to_office xauth=client xauthname=remote xauthpass=friend
enable isakmp
create config=ipsec.cfg
"""


def bind(script):
    for name, value in sorted(BINDINGS.items(), key=lambda kv: -len(kv[0])):
        if value is not None:
            script = script.replace(name, value)
    return script


# After the §6.0 preamble secoff exists: scenario B's own "add user=secoff" is refused, as on the router.
B_AFTER_PREAMBLE = ("add user=secoff",)


def test_scenario_b_runs():
    head, remote = shared_key_pair()
    play(head, bind(HEAD_OFFICE_B), refused=B_AFTER_PREAMBLE)
    play(remote, bind(REMOTE_B), refused=B_AFTER_PREAMBLE)
    for c in (head, remote):                                   # B step 2: secoff stays, manager is gone
        assert c.users.get("manager") is None and c.users.secure_delay == 600
        assert c.users.user("secoff").privilege is Privilege.SECURITYOFFICER
        assert c.session.counters["refusedSecurityOfficer"] == 0
    # B-6: the head office's UAF holds the XAUTH user; the remote, an XAUTH client, has none
    assert head.users.authenticate("remote", "friend") is head.users.user("remote")
    assert head.users.authenticate("remote", "Friend") is None and remote.users.get("remote") is None
    # B-2: ISAKMP and NAT-T permits come first, in creation order
    assert [p.name for p in head.ipsec.spd.policies("vlan2")] == ["isakmp", "natt_udp", "remote_site", "internet"]
    assert [p.name for p in remote.ipsec.spd.policies("vlan2")] == ["isakmp", "natt_udp", "head_office", "internet"]
    s = head.ipsec.spd.saspecifications[1]
    assert (s.protocol, s.encalg, s.hashalg, s.mode) == (Protocol.ESP, EncAlg.DES, HashAlg.SHA, Mode.TUNNEL)  # B-4
    p = head.ipsec.spd.policy("remote_site")
    assert p.isakmppolicy == "to_remote" and p.keymanagement is KeyManagement.ISAKMP          # B-11
    ho = head.isakmp.policies["to_remote"]
    assert (ho.localid, ho.heartbeatmode, ho.nattraversal, ho.xauth, ho.xauthtype) == \
        ("head_office", "receive", True, "server", "generic")                                  # B-6, B-7, B-8
    rs = remote.isakmp.policies["to_office"]
    assert (rs.xauth, rs.xauthname, rs.xauthpasswd, rs.heartbeatmode) == ("client", "remote", "friend", "send")


def test_scenario_b_lookup():
    head, _ = shared_key_pair()
    play(head, bind(HEAD_OFFICE_B), refused=B_AFTER_PREAMBLE)
    spd, out = head.ipsec.spd, Direction.OUTBOUND
    assert spd.lookup(PacketSelector.of("10.0.0.2", "203.0.113.20", UDP, 4500, 4500), "vlan2", out).name == \
        "natt_udp"
    assert spd.lookup(PacketSelector.of("192.168.10.5", "192.168.20.7", TCP, 1000, 22), "vlan2", out).name == \
        "remote_site"
    # B-9: with the internet permit, other traffic passes unprotected
    assert spd.lookup(PacketSelector.of("192.168.10.5", "8.8.8.8", TCP, 1000, 443), "vlan2", out).name == \
        "internet"


def test_scenario_b_dynamic_peer_alternative():
    """B-10: peer=dynamic on the IPsec policy with peer=any on the ISAKMP policy."""
    head, _ = shared_key_pair()
    script = bind(HEAD_OFFICE_B).replace(
        "peer=203.0.113.20 isa=to_remote", "peer=dynamic isa=to_remote").replace(
        "create isakmp policy=to_remote peer=203.0.113.20 key=1", "create isakmp policy=to_remote peer=any key=1")
    play(head, script, refused=B_AFTER_PREAMBLE)
    assert head.ipsec.spd.policy("remote_site").peeraddress is PeerWildcard.DYNAMIC
    assert head.isakmp.policies["to_remote"].peer == "ANY"


def test_scenario_b_without_the_preamble():
    """Scenario B's own step 2 alone: the manager adds secoff (PASS=secoff,
    PRIV=SEC, LOGIN and TELNET yes) and deletes itself; out of security mode
    the (deleted) manager's session goes on configuring IPsec and ISAKMP."""
    head = console(1)
    head.execute("create enco key=1 type=general random")
    play(head, bind(HEAD_OFFICE_B))
    secoff = head.users.user("secoff")
    assert (secoff.privilege, secoff.login, secoff.telnet) == (Privilege.SECURITYOFFICER, True, True)
    assert head.users.get("manager") is None and not head.users.security_mode
    assert head.session.user.name == "manager"
    assert [p.name for p in head.ipsec.spd.policies("vlan2")] == ["isakmp", "natt_udp", "remote_site", "internet"]
