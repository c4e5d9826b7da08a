"""The interop lab's field-by-field comparison of every vendor view with
strongSwan's ``swanctl --list-sas`` (sim/interop/view_facts.py,
agreement.py): the view parsers read the seeds' own sample lines; on two
routers that negotiated with ISAKMP and carried traffic, router a's views
agree with a ``--list-sas`` listing written from router b's AlliedWare
displays (the other end, read independently by views_support), and each
kind of disagreement is named by its field."""
import re

from views_support import alliedware, carrying, inject_each_drop_class, seed

from pacsim.firmware.views.registry import VIEWS
from pacsim.sim.control.router_target import ControlSource
from pacsim.sim.interop.agreement import INNER_HEADER, mismatches, swan_facts
from pacsim.sim.interop.view_facts import SHOWN, ios_facts, racoonctl_facts, read_views, tmsh_facts, view_facts

_GROUP_NAME = {1: "MODP_768", 2: "MODP_1024"}


def test_view_parsers_read_the_seeds_examples():
    s000, s002 = seed("000"), seed("002")
    racoon = racoonctl_facts({"racoonctl: -ll show-sa isakmp": s000})       # the seed's second row, the last read
    assert (racoon["ike.local"], racoon["ike.remote"], racoon["ike.state"]) == ("10.1.1.1", "10.3.3.3", "established")
    assert re.fullmatch(r"[0-9a-f]{16}:[0-9a-f]{16}", racoon["ike.cookies"])
    tmsh = tmsh_facts({"tmsh: show net ipsec ike-sa all-properties": s000.split("Total records returned")[0]})
    assert (tmsh["ike.local"], tmsh["ike.remote"], tmsh["ike.state"]) == ("10.2.2.2", "10.1.1.1", "established")
    assert tmsh["ike.cookies"].startswith("df5601249fd324ec:")                # Initiator: TRUE, Spi(local) first
    ios = ios_facts({"ios: show crypto isakmp sa": s002, "ios: show crypto ipsec sa detail": s002})
    assert ios == {"ike.state": "established", "ipsec.local": "1.9.110.41", "ipsec.remote": "219.92.89.235",
                   "ipsec.packets_out": 125, "ipsec.packets_in": 141, "ipsec.spi_in": 3672526809,
                   "ipsec.spi_out": 803719126, "ipsec.state": "established", "ipsec.encryption": "aes",
                   "ipsec.key_size": 128, "ipsec.integrity": "md5", "ipsec.remaining": 3506}


def list_sas_of(other) -> str:
    """``swanctl --list-sas`` as strongSwan 5.9.8 prints it, of the router ``other`` (the far end), written from
    its AlliedWare displays: its local end is strongSwan's local one, its inbound SPI strongSwan's "in"."""
    aw = alliedware(other)
    ike = aw["ike"][1]
    (sa_id, sa), = aw["sas"].items()
    c = aw["counters"][sa_id]
    (bytes_, seconds), = aw["bundles"].values()
    used = int(bytes_.split("/")[2])
    hard, _, age = map(int, seconds.split("/"))
    ike_left = int(ike["Expiry Limit (seconds)"]) - int(ike["Seconds since creation"])
    cipher = {"DES": "DES_CBC", "3DES": "3DES_CBC", "AES": "AES_CBC"}[ike["Encryption Algorithm"].split()[0]]
    ike_cipher = cipher + ("-" + ike["Encryption Algorithm"].split()[2] if cipher == "AES_CBC" else "")
    group = _GROUP_NAME[{"MODP768": 1, "MODP1024": 2}[ike["group Description"]]]
    esp = {"AES128": "AES_CBC-128", "DES": "DES_CBC"}[sa["Encryption algorithm"]]
    bytes_in = used + INNER_HEADER * (c["inProcessDone"] + c["outProcessDone"])      # all of it on one side
    return (f"case: #1, ESTABLISHED, IKEv1, {ike['Initiator Cookie']}_i {ike['Responder Cookie']}_r*\n"
            f"  local  '{ike['Local address']}' @ {ike['Local address']}[4500]\n"
            f"  remote '{ike['Remote Address']}' @ {ike['Remote Address']}[4500]\n"
            f"  {ike_cipher}/HMAC_SHA1_96/PRF_HMAC_SHA1/{group}\n"
            f"  established {int(ike['Seconds since creation'])}s ago, reauth in {ike_left}s\n"
            f"  case: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:{esp}/HMAC_SHA1_96\n"
            f"    installed {age}s ago, rekeying in {hard * 9 // 10 - age}s, expires in {hard - age}s\n"
            f"    in  {int(sa['Inbound SPI']):08x},  {bytes_in:5d} bytes,  {c['inProcessDone']:4d} packets,  0s ago\n"
            f"    out {int(sa['Outbound SPI']):08x},      0 bytes,  {c['outProcessDone']:4d} packets,     0s ago\n"
            f"    local  10.2.1.0/24\n    remote 10.1.1.0/24\n")


def test_every_view_agrees_with_the_far_end_and_each_disagreement_is_named():
    network = carrying()
    a, b = network.routers["a"], network.routers["b"]
    source = ControlSource(a)
    texts = read_views(lambda view, argv: VIEWS[view](argv, source))
    assert {key for key in texts if "=" in key} == {"alliedware: show isakmp sa=1", "alliedware: show ipsec sa=0",
                                                    "alliedware: show ipsec sa=0 counter"}
    listed = list_sas_of(b)
    swan = swan_facts(listed)
    facts = view_facts(texts)
    assert all(SHOWN[view] <= set(f) for view, f in facts.items())
    assert set(swan) == set().union(*SHOWN.values()) and swan["ipsec.packets_out"] == 4
    assert mismatches(swan, facts, 2.0) == []

    def wrong_after(key, old, new, tolerance=2.0):
        assert old in texts[key], (key, old)
        return mismatches(swan, view_facts(dict(texts, **{key: texts[key].replace(old, new, 1)})), tolerance)

    spi_in = facts["tmsh"]["ipsec.spi_in"]
    assert wrong_after("tmsh: show net ipsec ipsec-sa all-properties", f"SPI(0x{spi_in:08x})",
                       f"SPI(0x{spi_in ^ 1:08x})") == ["tmsh:ipsec.spi_in"]
    cookie = facts["racoonctl"]["ike.cookies"]
    assert wrong_after("racoonctl: -ll show-sa isakmp", cookie, cookie[::-1]) == ["racoonctl:ike.cookies"]
    assert wrong_after("ios: show crypto ipsec sa detail", "#pkts decaps: 3,", "#pkts decaps: 2,") == \
        ["ios:ipsec.packets_in"]
    assert wrong_after("ios: show crypto isakmp sa detail", " sha ", " md5 ") == ["ios:ike.integrity"]
    assert wrong_after("alliedware: show ipsec policy sabundle", " 28800/", " 28000/") == \
        ["alliedware:ipsec.remaining"]
    assert wrong_after("alliedware: show ipsec policy sabundle", " 28800/", " 28000/", tolerance=800.0) == []
    row = next(line for line in texts["racoonctl: -ll show-sa isakmp"].splitlines() if cookie in line)
    gone = wrong_after("racoonctl: -ll show-sa isakmp", row, "")
    assert {"racoonctl:ike.cookies", "racoonctl:ike.local", "racoonctl:ike.remote", "racoonctl:ike.state"} <= set(gone)
    assert {name.split(":")[0] for name in gone} == {"racoonctl"}
    # strongSwan's side: its counters in the other direction, bytes with the inner headers, no SAs at all
    more = listed.replace(f"{b_packets(facts)} packets", f"{b_packets(facts) + 1} packets", 1)
    assert mismatches(swan_facts(more), facts, 2.0) == [      # one more packet: and 20 more bytes of its header
        f"{view}:{field}" for view in sorted(facts) for field in ("ipsec.packets_out", "ipsec.payload_bytes")
        if field in SHOWN[view]]
    lean = re.sub(r"(in  \w+,\s+)(\d+)", lambda m: f"{m[1]}{int(m[2]) - INNER_HEADER}", listed)
    assert mismatches(swan_facts(lean), facts, 2.0) == [f"{view}:ipsec.payload_bytes" for view in sorted(facts)
                                                        if "ipsec.payload_bytes" in SHOWN[view]]
    assert mismatches(swan_facts(""), facts, 2.0) == ["swanctl:ike.cookies"]
    assert mismatches(swan, view_facts({}), 2.0) == [f"{view}:{field}" for view in sorted(SHOWN)
                                                     for field in sorted(SHOWN[view])]


def b_packets(facts) -> int:
    """The packets strongSwan's "in" line counts: those router a sent."""
    return facts["alliedware"]["ipsec.packets_out"]


def test_each_drop_class_counts_in_the_alliedware_totals_and_in_no_views_good_packets():
    """Beside ``show crypto engine connections dropped-packet`` (test_views_ios): a packet of each class
    (bad ICV, replay, unknown SPI, bad padding) counts once in AlliedWare's ``show ip counter`` ipsecDiscards
    and its class's ``show ipsec counter`` total, and in none of the views' packets opened or bytes."""
    network = carrying()
    a = network.routers["a"]
    source = ControlSource(a)

    def read():
        texts = read_views(lambda view, argv: VIEWS[view](argv, source))
        totals = {name: int(value) for name, value in re.findall(
            r"(\w+)\s+(\d+)", source.show("show ip counter") + source.show("show ipsec counter"))}
        return view_facts(texts), totals
    facts, totals = read()
    inject_each_drop_class(network)
    after, totals_after = read()
    rise = {name: totals_after[name] - totals[name] for name in ("ipsecDiscards", "icvInvalid", "replayedPacket",
                                                               "paddingInvalid")}
    assert rise == {"ipsecDiscards": 4, "icvInvalid": 1, "replayedPacket": 1, "paddingInvalid": 1}
    for view in SHOWN:
        for field in ("ipsec.packets_in", "ipsec.packets_out", "ipsec.payload_bytes"):
            assert after[view].get(field) == facts[view].get(field), (view, field)
    dropped = source.show("show crypto engine connections dropped-packet")
    assert re.findall(r"(bad ICV|replay|unknown SPI|bad padding)\s+(\d+)$", dropped, re.M) == [
        ("bad ICV", "1"), ("replay", "1"), ("unknown SPI", "1"), ("bad padding", "1")]


#: ``swanctl --list-sas`` of an XAUTH client with a mode-config address: the virtual IP (and an XAuth
#: identity, when strongSwan shows one) follow the endpoint in brackets.
XAUTH_LIST_SAS = """case: #1, ESTABLISHED, IKEv1, 58300d2e2a126a68_i* bb795b8b16d3d140_r
  local  '192.0.2.2' @ 192.0.2.2[4500] [198.51.100.240]
  remote '192.0.2.1' @ 192.0.2.1[4500]
  AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024
  established 0s ago, reauth in 86400s
  case: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_CBC-128/HMAC_SHA1_96
    installed 0s ago, rekeying in 25920s, expires in 28800s
    in  94f67740,    288 bytes,     4 packets,     0s ago
    out f5b16622,    288 bytes,     4 packets,     0s ago
    local  198.51.100.128/25
    remote 198.51.100.0/25
"""


def test_strongswan_facts_of_an_xauth_client_with_a_virtual_ip():
    facts = swan_facts(XAUTH_LIST_SAS)
    assert facts["ike.cookies"] == "58300d2e2a126a68:bb795b8b16d3d140"
    assert (facts["ike.local"], facts["ike.remote"], facts["ike.dh_group"]) == ("192.0.2.1", "192.0.2.2", 2)
    assert (facts["ipsec.spi_in"], facts["ipsec.spi_out"]) == (0xf5b16622, 0x94f67740)    # the router's side
    assert (facts["ike.remaining"], facts["ipsec.remaining"]) == (86400, 28800)
