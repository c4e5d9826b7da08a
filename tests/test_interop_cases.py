"""The interop lab's data and parsers (no root needed): the case list covers
the must-show, the generated strongSwan configuration is what charon
parses, and swanctl, ike-scan and ``show ipsec sa`` output is read right
(samples in the tools' own formats, as strongSwan 5.9.8 and ike-scan 1.9.5
print them)."""
import asyncio
import ipaddress

import pytest

from pacsim.firmware.isakmp.key_log import KeyLog, tshark_options
from pacsim.sim.interop.cases import CASES, PROBES, RADIUS_SECRET, XAUTH_PASSWORD, XAUTH_USER, Case
from pacsim.sim.interop.lab_certificates import ROUTER_KEY_ID, LabCredentials
from pacsim.sim.interop.lab import spis_match, spis_of_show
from pacsim.sim.interop.namespaces import ADDRESSES, LabError, LabNamespaces
from pacsim.sim.interop.router_config import (ManualTunnel, configured_router, isakmp_lines, manual_router,
                                               mode_config_pool)
from pacsim.sim.interop.strongswan import (initiate_outcome, parse_list_sas, strongswan_conf, swanctl_conf,
                                           virtual_ip)
from pacsim.sim.interop.wire_tools import parse_ike_scan
from pacsim.sim.wall_runtime import AttachedNetwork

LIST_SAS = """case: #1, ESTABLISHED, IKEv1, 4e4f1877b70d10d1_i* 8c6b4a3f2e1d0c9b_r
  local  '192.0.2.2' @ 192.0.2.2[4500]
  remote '192.0.2.1' @ 192.0.2.1[4500]
  AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024
  established 1s ago, reauth in 14202s
  case: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128/HMAC_SHA1_96
    installed 1s ago, rekeying in 3320s, expires in 3961s
    in  c9a8b7c6,    168 bytes,     2 packets,     0s ago
    out 0badf00d,    168 bytes,     2 packets,     0s ago
    local  198.51.100.128/25
    remote 198.51.100.0/25
"""
SHOW_IPSEC_SA = """SA Id  Policy                Bundle  State    Protocol    OutSPI       InSPI
-----------------------------------------------------------------------------
    0  VPN                       0  Valid     ESP     3383277510    195948557
"""


def test_cases_cover_the_must_show():
    assert len(CASES) >= 10 and len({c.name for c in CASES}) == len(CASES)
    assert {c.mode for c in CASES} == {"main", "aggressive"}
    assert {c.initiator for c in CASES} == {"pacsim", "strongswan"}
    for mode in ("main", "aggressive"):
        assert {c.initiator for c in CASES if c.mode == mode} == {"pacsim", "strongswan"}
    assert {(c.encalg, c.hashalg, c.group) for c in CASES} == {("3desinner", "sha", 2), ("aes128", "sha", 2),
                                                              ("aes256", "sha", 2), ("des", "md5", 1)}
    assert {c.pfs for c in CASES} == {True, False} and [c.bus for c in CASES].count("rtl") == 1
    rtl = next(c for c in CASES if c.bus == "rtl")
    assert rtl.retransmit_timeout > max(c.retransmit_timeout for c in CASES if c.bus == "model")
    assert {p.mode for p in PROBES} == {"main", "aggressive"} and any(not p.acceptable for p in PROBES)
    assert {c.initiator for c in CASES if c.auth == "rsasig" and c.mode == "main"} == {"pacsim", "strongswan"}
    assert {c.auth for c in CASES} == {"psk", "rsasig"}


def test_proposals_and_ike_scan_transforms():
    case = Case("main", "strongswan", "des", "md5", 1, pfs=True)
    assert (case.ike_proposal, case.esp_proposal) == ("des-md5-modp768", "des-md5-modp768")
    assert Case("main", "pacsim", "aes256", "sha", 2).esp_proposal == "aes256-sha1"
    assert {p.name: p.trans for p in PROBES}["main-aes128-sha1-g2"] == "(1=7,14=128,2=2,3=1,4=2)"


def test_swanctl_conf_has_one_setting_per_line(tmp_path):
    for case in CASES:
        text = swanctl_conf(case)
        assert ";" not in text and f"proposals = {case.ike_proposal}\n" in text
        assert f"esp_proposals = {case.esp_proposal}\n" in text
        # a faked NAT (libipsec's ESP in UDP) without the lab's NAT; behind it strongSwan's private address
        assert ("encap = yes\n" in text) != case.nat
        if case.auth == "psk":                  # behind the NAT the router permits any (translated) source port
            assert ("rport=500" in " ".join(isakmp_lines(case))) != case.nat
        assert f"local_addrs = {ADDRESSES.natted_peer if case.nat else ADDRESSES.peer_wan}\n" in text
        assert f"id = {ADDRESSES.peer_wan}\n" in text or case.auth == "rsasig"
        assert ("aggressive = yes" in text) == (case.mode == "aggressive")
        assert text.count("auth = pubkey") == (2 if case.auth == "rsasig" else 0), text
        assert ("certs = peer.pem" in text) == (case.auth == "rsasig")
    conf = strongswan_conf(tmp_path, tmp_path / "run", retransmit_timeout=30.0)
    assert ";" not in conf and "kernel-libipsec kernel-netlink" in conf and "retransmit_timeout = 30.0" in conf
    assert f"socket = unix://{tmp_path}/run/charon.vici" in conf and f"path = {tmp_path}/charon.log" in conf


def test_xauth_cases_configure_both_ends():
    """An XAUTH case: strongSwan a second round ``auth = xauth`` with the
    user's secret and a virtual IP request; the router an XAUTH server on
    the policy (its user, or the RADIUS server) and a pool inside the peer's
    network; invalid combinations are refused."""
    xauth = {c.xauth: c for c in CASES if c.xauth != "none"}
    assert set(xauth) == {"generic", "radius"} and all(c.name.endswith(f"-xauth-{c.xauth}-nat") for c in xauth.values())
    assert all(c.nat for c in xauth.values()) and any(c.nat and c.xauth == "none" for c in CASES)
    for case in xauth.values():
        text = swanctl_conf(case)
        assert "auth = xauth\n" in text and f"xauth_id = {XAUTH_USER}\n" in text and "vips = 0.0.0.0\n" in text
        assert f'id = {XAUTH_USER}\n    secret = "{XAUTH_PASSWORD}"' in text
    assert "xauth" not in swanctl_conf(CASES[0]) and "vips" not in swanctl_conf(CASES[0])
    generic = isakmp_lines(xauth["generic"])
    radius = isakmp_lines(xauth["radius"], radius_port=18120)
    assert f"add user={XAUTH_USER} password={XAUTH_PASSWORD}" in generic and not any("radius" in l for l in generic)
    assert f"add radius server=127.0.0.1 secret={RADIUS_SECRET} port=18120" in radius
    assert "set isakmp policy=peer xauth=server xauthtype=radius" in radius
    first, last = (ipaddress.IPv4Address(a) for a in mode_config_pool())
    assert f"set isakmp modeconfig pool={first}-{last}" in generic
    assert first in ipaddress.IPv4Network(ADDRESSES.peer_net) and last in ipaddress.IPv4Network(ADDRESSES.peer_net)
    assert ipaddress.IPv4Address(ADDRESSES.peer_host) not in (first, last)
    for bad in (dict(xauth="chap"), dict(xauth="generic", initiator="pacsim"), dict(xauth="radius", bus="rtl")):
        with pytest.raises(ValueError):
            Case(**{**dict(mode="main", initiator="strongswan", encalg="des", hashalg="md5", group=1), **bad})
    assert virtual_ip("12[IKE] <case|1> installing new virtual IP 198.51.100.240\n") == "198.51.100.240"
    assert virtual_ip("nothing") is None


def test_list_sas_and_show_ipsec_sa_agree():
    ike, children = parse_list_sas(LIST_SAS)
    assert ike == ["ESTABLISHED"]
    assert [(c.name, c.state, c.spi_in, c.spi_out) for c in children] == [("case", "INSTALLED", 0xc9a8b7c6,
                                                                          0x0badf00d)]
    # ours, decimal in the table: our outbound SPI is strongSwan's inbound one and the other way round
    assert spis_of_show(SHOW_IPSEC_SA) == [(0xc9a8b7c6, 0x0badf00d)]
    assert spis_match(children, spis_of_show(SHOW_IPSEC_SA))
    assert not spis_match(children, [(0x0badf00d, 0xc9a8b7c6)]) and not spis_match([], [])


def test_initiate_outcomes():
    gave_up = ("[IKE] initiating Main Mode IKE_SA case[1] to 192.0.2.1\n[IKE] sending retransmit 1 of request\n"
               "[IKE] giving up after 2 retransmits\n[IKE] establishing IKE_SA failed, peer not responding\n")
    assert initiate_outcome(gave_up) == ("no response", "not attempted (phase 1 failed)")
    refused = "[IKE] received NO_PROPOSAL_CHOSEN error notify\ninitiate failed: establishing CHILD_SA 'case' failed\n"
    assert initiate_outcome(refused)[0] == "notify NO_PROPOSAL_CHOSEN"
    good = "[IKE] IKE_SA case[1] established between 192.0.2.2[192.0.2.2]...192.0.2.1[192.0.2.1]\n" \
           "[IKE] CHILD_SA case{1} established with SPIs c9a8b7c6_i 0badf00d_o\n"
    assert initiate_outcome(good) == ("established", "established")
    assert initiate_outcome(good.splitlines()[0] + "\n[CFG] no acceptable proposal: unable to install\n") == \
        ("established", "[CFG] no acceptable proposal: unable to install")


def test_ike_scan_output():
    handshake = ("192.0.2.1\tMain Mode Handshake returned\n\tHDR=(CKY-R=2aba4a113b2cdbd0)\n"
                 "\tSA=(Enc=3DES Hash=SHA1 Group=2:modp1024 Auth=PSK LifeType=Seconds LifeDuration=28800)\n")
    assert parse_ike_scan(handshake) == dict(answered=True, notify=None, handshake=(
        "Enc=3DES Hash=SHA1 Group=2:modp1024 Auth=PSK LifeType=Seconds LifeDuration=28800"))
    refused = "192.0.2.1\tNotify message 14 (NO-PROPOSAL-CHOSEN)\n\tHDR=(CKY-R=0000000000000000)\n"
    assert parse_ike_scan(refused) == dict(answered=False, notify="NO-PROPOSAL-CHOSEN", handshake=None)
    assert parse_ike_scan("Ending ike-scan 1.9.5: 1 hosts scanned. 0 returned handshake; 0 returned notify\n") == \
        dict(answered=False, notify=None, handshake=None)


def test_key_log_uat_formats(tmp_path):
    """The lab's tshark check reads the router's key log (one key log: pacsim.firmware.isakmp.key_log)."""
    keys = KeyLog(tmp_path)
    keys.phase1(bytes.fromhex("4e4f1877b70d10d1"), bytes.fromhex("15fe7da798afe6b8e36bfeea47b0bea5"))
    keys.esp_sa("192.0.2.1", "192.0.2.2", 0x672987ba, "AES128", bytes(16), "SHA", bytes(20))
    options = tshark_options(tmp_path)
    assert "esp.enable_authentication_check:TRUE" in options
    assert "uat:ikev1_decryption_table:4e4f1877b70d10d1,15fe7da798afe6b8e36bfeea47b0bea5" in options
    assert ('uat:esp_sa:"IPv4","192.0.2.1","192.0.2.2","0x672987ba","AES-CBC [RFC3602]","0x' + "00" * 16 +
            '","HMAC-SHA-1-96 [RFC2404]","0x' + "00" * 20 + '"') in options


def test_router_configurations_are_accepted(tmp_path):
    credentials = LabCredentials(tmp_path)

    async def body():
        for case in CASES:
            router = await configured_router(AttachedNetwork(), isakmp_lines(case, credentials=credentials))
            if case.auth == "rsasig":       # the lab's RSA key and both certificates loaded, the CA trusted
                shown = await router.run("show pki certificate")
                assert "own" in shown and "labca" in shown and "CN=pacsim router,O=pacsim" in shown, shown
                assert "RSA" in await router.run(f"show enco key={ROUTER_KEY_ID}")
        for encalg, hashalg in (("aes128", "sha"), ("3desinner", "md5"), ("des", "md5"), ("aes256", "sha")):
            router = await manual_router(AttachedNetwork(), ManualTunnel(encalg=encalg, hashalg=hashalg))
            assert spis_of_show(await router.run("show ipsec sa")) == [(0x4001, 0x3001)]
    asyncio.run(body())


def test_the_lab_needs_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(LabError, match=r"^pacsim interop needs root .*; run it as root$"):
        LabNamespaces(tag="nonroot").up()
    assert "pacsim-nonroot-a" not in LabNamespaces.existing()
