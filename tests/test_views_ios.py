"""Cisco IOS ``show crypto ...`` and ``clear crypto sa`` on the router
console (firmware/views/ios.py, ios_commands.py): parsers written from
seeds 002/003's sample lines read the seeds' examples and our output
alike; on two routers that negotiated with ISAKMP and carried traffic,
every display agrees with the AlliedWare ones (which, on a router, show
the running daemon's SA); a stepped phase 1 shows MM_*/AG_* then QM_IDLE;
bad packets of each class appear in ``dropped-packet`` and in the matching
counters of ``show crypto ipsec sa detail`` and of the AlliedWare
displays."""
import re

import pytest
from views_support import alliedware, carrying, console, inject_each_drop_class, seed, source, states_seen

from pacsim.firmware.views.ios import show_crypto_isakmp_sa
from router_support import run, two_routers
from pacsim.sim.manual_vpn import ManualVpn

ISAKMP_ROW = re.compile(r"^\s*(?P<dst>[0-9a-f.:]+)\s+(?P<src>[0-9a-f.:]+)\s+(?P<state>(?:MM|AG|QM)_[A-Z_]+)\s+"
                        r"(?P<conn>\d+)\s+(?P<status>\S.*?)\s*$")
COUNTS = {"encaps": re.compile(r"#pkts encaps: (\d+), #pkts encrypt: (\d+), #pkts digest:? (\d+)"),
          "decaps": re.compile(r"#pkts decaps: (\d+), #pkts decrypt: (\d+), #pkts verify:? (\d+)"),
          "errors": re.compile(r"#send errors (\d+), #recv errors (\d+)"),
          "failed": re.compile(r"#pkts verify failed: (\d+), #pkts invalid len \(rcv\) (\d+)"),
          "replay": re.compile(r"##pkts replay failed \(rcv\): (\d+)")}
PEER = re.compile(r"current_peer:? (\S+)")
ENDPT = re.compile(r"local crypto endpt\.: (\S+), remote crypto endpt\.: (\S+)")
OUT_SPI = re.compile(r"current outbound spi: (?:0x)?([0-9A-F]+)")
SAS_HEADING = re.compile(r"^\s*(inbound|outbound) (esp|ah|pcp) sas:")
SPI = re.compile(r"^\s*spi: 0x([0-9A-F]+)\((\d+)\)")
TRANSFORM = re.compile(r"transform: (.+?) ,")
CONN = re.compile(r"conn id: (\d+)")
TIMING = re.compile(r"remaining key lifetime \(k/sec\): \((\d+|-)/(\d+|-)\)")
ENGINE_ROW = re.compile(r"^\s*(?P<id>\d+)\s+(?:(?P<interface>\S+)\s+(?P<ip>[\d.]+)\s+)?(?P<state>set)\s+"
                        r"(?P<alg>\S+)\s+(?P<encrypt>\d+)\s+(?P<decrypt>\d+)$")
NOT_ESTABLISHED = re.compile(r"^(\S+)\s+([\d.]+)\s+(\d+)$")
DROP_CLASS = re.compile(r"^(\S+)\s+([\d.]+)\s+(bad ICV|replay|unknown SPI|bad padding)\s+(\d+)$")
PER_CONNECTION = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")
MAP = re.compile(r'^Crypto Map "(?P<tag>[^"]+)" (?P<seq>\d+) (?P<kind>ipsec-\w+)$')
MAP_FIELDS = {"peer": re.compile(r"^\s*Peer = (\S+)"), "current": re.compile(r"^\s*Current peer: (\S+)"),
              "lifetime": re.compile(r"lifetime: (\S+) kilobytes/(\S+) seconds"),
              "transforms": re.compile(r"Transform sets=\{ ?(.+?), \}")}


def isakmp_rows(text):
    return [m.groupdict() for m in map(ISAKMP_ROW.match, text.splitlines()) if m]


def ipsec_blocks(text):
    """Each block of ``show crypto ipsec sa``: its peer, ends, counters and SA entries."""
    blocks = []
    for part in re.split(r"\n(?=[ \t]*local\s+ident)", text)[1:]:
        block = {"peer": PEER.search(part).group(1), "ends": ENDPT.search(part).groups(),
                 "out_spi": OUT_SPI.search(part).group(1), "entries": []}
        for name, regex in COUNTS.items():
            m = regex.search(part)
            block[name] = tuple(map(int, m.groups())) if m else None
        heading = None
        for line in part.splitlines():
            if SAS_HEADING.match(line):
                heading = SAS_HEADING.match(line).groups()
            elif SPI.match(line):
                block["entries"].append({"where": heading, "spi": int(SPI.match(line).group(2)),
                                         "hex": SPI.match(line).group(1)})
            elif block["entries"]:
                for key, regex in (("transform", TRANSFORM), ("conn", CONN), ("timing", TIMING)):
                    m = regex.search(line)
                    if m:
                        block["entries"][-1][key] = m.groups()
        blocks.append(block)
    return blocks


def engine_rows(text):
    return [m.groupdict() for m in map(ENGINE_ROW.match, text.splitlines()) if m]


def crypto_maps(text):
    maps = []
    for line in text.splitlines():
        m = MAP.match(line)
        if m:
            maps.append(dict(m.groupdict()))
        elif maps:
            for key, regex in MAP_FIELDS.items():
                found = regex.search(line)
                if found:
                    maps[-1][key] = found.groups() if key == "lifetime" else found.group(1)
    return maps


def test_parsers_read_the_seeds_examples():
    s002, s003 = seed("002"), seed("003")
    assert [(r["dst"], r["src"], r["state"], r["conn"], r["status"]) for r in isakmp_rows(s002 + s003)] == [
        ("1.9.110.41", "219.92.89.235", "QM_IDLE", "1026", "ACTIVE"), ("172.22.1.4", "172.22.1.3", "QM_IDLE", "1", "0")]
    (b002,) = ipsec_blocks(s002)
    assert b002["peer"] == "219.92.89.235" and b002["encaps"] == (125, 125, 125) and b002["decaps"] == (141,) * 3
    assert [(e["where"], e["spi"], e["transform"], e["timing"]) for e in b002["entries"]] == [
        (("inbound", "esp"), 3672526809, ("esp-aes esp-md5-hmac",), ("4396346", "3506")),
        (("outbound", "esp"), 803719126, ("esp-aes esp-md5-hmac",), ("4396341", "3506"))]
    b003 = ipsec_blocks(s003)
    assert [b["encaps"] for b in b003] == [(0, 0, 0), (466, 466, 466)] and b003[1]["errors"] == (1, 0)
    assert [e["conn"] for e in b003[1]["entries"]] == [("2000",), ("2001",)] and b003[1]["out_spi"] == "EB99FB6C"
    assert [(r["id"], r["interface"], r["encrypt"], r["decrypt"]) for r in engine_rows(s003)] == [
        ("1", None, "0", "0"), ("2088", "FastEthernet0/1", "0", "5"), ("2089", "FastEthernet0/1", "202", "0")]
    dropped = s003.split("Packets dropped because of connection not established:")[1].split("Router1#")[0]
    assert [NOT_ESTABLISHED.match(line).groups() for line in dropped.splitlines() if NOT_ESTABLISHED.match(line)] \
        == [("FastEthernet0/1", "172.22.1.3", "5")]
    tagged = s003.split("Router1#show crypto map tag TUNNELMAP")[1]
    tunnelmap = [m for m in crypto_maps(tagged) if m["tag"] == "TUNNELMAP"]
    assert tunnelmap == [{"tag": "TUNNELMAP", "seq": "10", "kind": "ipsec-isakmp", "peer": "172.22.1.4",
                          "current": "172.22.1.4", "lifetime": ("4608000", "3600"), "transforms": "TUNNEL-TRANSFORM"}]


def test_views_agree_with_alliedware_on_both_routers():
    network = carrying()
    for name in ("a", "b"):
        router = network.routers[name]
        aw = alliedware(router)
        ike = aw["ike"][1]
        local, peer = ike["Local address"], ike["Remote Address"]
        (row,) = isakmp_rows(console(router, "show crypto isakmp sa"))
        assert (row["dst"], row["src"]) == ((peer, local) if name == "a" else (local, peer))
        assert (row["state"], row["conn"], row["status"]) == ("QM_IDLE", "1", "ACTIVE") and ike["State"] == "ACTIVE"
        detail = console(router, "show crypto isakmp sa detail")
        fields = next(line.split() for line in detail.splitlines() if line.startswith("1 "))
        assert fields[:7] == ["1", local, peer, "ACTIVE", "des", "sha", "psk"]
        left = int(ike["Expiry Limit (seconds)"]) - int(ike["Seconds since creation"])
        assert fields[8] == f"{left // 3600:02d}:{left // 60 % 60:02d}:{left % 60:02d}"

        (sa_id, sa), = aw["sas"].items()
        c = aw["counters"][sa_id]
        (bytes_, seconds), = aw["bundles"].values()
        hard_b, _, used_b = map(int, bytes_.split("/"))
        hard_s, _, used_s = map(int, seconds.split("/"))
        (block,) = ipsec_blocks(console(router, "show crypto ipsec sa"))
        assert block["peer"] == peer and block["ends"] == (local, peer)
        assert block["encaps"] == (c["outProcessDone"], c["espEncryptionGood"], c["espOutHashGood"])
        assert block["decaps"] == (c["inProcessDone"], c["espDecryptionGood"], c["espInHashGood"])
        assert block["encaps"][0] == 4 + (name == "a") - 1 and block["decaps"][0] == 3 + (name == "b")
        assert block["errors"] == (c["outProcessFail"] + c["outProcessFailImm"],
                                   c["inProcessFail"] + c["inProcessFailImm"])
        assert int(block["out_spi"], 16) == int(sa["Outbound SPI"])
        assert [(e["where"], e["spi"]) for e in block["entries"]] == [
            (("inbound", "esp"), int(sa["Inbound SPI"])), (("outbound", "esp"), int(sa["Outbound SPI"]))]
        for entry in block["entries"]:
            assert int(entry["hex"], 16) == entry["spi"]
            assert entry["transform"] == ("esp-aes esp-sha-hmac",)
            assert sa["Encryption algorithm"] == "AES128" and sa["Hash algorithm"] == "SHA"
            assert entry["timing"] == (str((hard_b - used_b) // 1024), str(hard_s - used_s))
        assert ipsec_blocks(console(router, f"show crypto ipsec sa peer {peer}")) == [block]
        assert ipsec_blocks(console(router, "show crypto ipsec sa peer 192.0.2.99")) == []
        (detailed,) = ipsec_blocks(console(router, f"show crypto ipsec sa peer {peer} detail"))
        assert detailed["failed"] == (0, 0) and detailed["replay"] == (0,)

        rows = engine_rows(console(router, "show crypto engine connections active"))
        assert [(r["id"], r["interface"], r["alg"]) for r in rows] == [
            ("1", None, "HMAC_SHA+DES_56_C"), (entry_conn(block, "inbound"), "ppp0", "HMAC_SHA+AES_128"),
            (entry_conn(block, "outbound"), "ppp0", "HMAC_SHA+AES_128")]
        assert rows[1]["ip"] == rows[2]["ip"] == local
        assert (int(rows[1]["decrypt"]), int(rows[2]["encrypt"])) == (c["inProcessDone"], c["outProcessDone"])

        (vpn_map,) = crypto_maps(console(router, "show crypto map"))
        assert vpn_map == {"tag": "vpn", "seq": vpn_map["seq"], "kind": "ipsec-isakmp", "peer": peer, "current": peer,
                           "lifetime": (str(hard_b // 1024), str(hard_s)), "transforms": "1"}
        assert crypto_maps(console(router, "show crypto map tag vpn")) == [vpn_map]
        assert crypto_maps(console(router, "show crypto map tag nosuch")) == []


def entry_conn(block, direction):
    return next(e["conn"][0] for e in block["entries"] if e["where"][0] == direction)


@pytest.mark.parametrize("mode, initiator, responder", [
    ("main", ["MM_SA_SETUP", "MM_KEY_EXCH", "MM_KEY_AUTH", "QM_IDLE"], ["MM_SA_SETUP", "MM_KEY_EXCH", "QM_IDLE"]),
    ("aggressive", ["AG_INIT_EXCH", "QM_IDLE"], ["AG_AUTH", "QM_IDLE"])])
def test_stepped_phase1_shows_each_state(mode, initiator, responder):
    def read(router):
        rows = isakmp_rows(show_crypto_isakmp_sa(source(router)))
        return rows[0]["state"] if rows else None
    assert states_seen(mode, read) == {"a": initiator, "b": responder}


def test_each_drop_class_shows_in_dropped_packet_and_the_sa_counters():
    network = carrying()
    a = network.routers["a"]
    before = console(a, "show crypto engine connections dropped-packet")
    assert not [line for line in before.splitlines() if DROP_CLASS.match(line)]
    inject_each_drop_class(network)
    text = console(a, "show crypto engine connections dropped-packet")
    local = alliedware(a)["ike"][1]["Local address"]
    classes = [DROP_CLASS.match(line).groups() for line in text.splitlines() if DROP_CLASS.match(line)]
    assert classes == [("ppp0", local, "bad ICV", "1"), ("ppp0", local, "replay", "1"),
                       ("ppp0", local, "unknown SPI", "1"), ("ppp0", local, "bad padding", "1")]
    assert [r.reason for r in a.drop_log][-4:] == ["authentication failed", "replayed", "unknown SPI", "bad padding"]
    aw = alliedware(a)
    (sa_id, c), = aw["counters"].items()
    assert (c["espIcvInvalid"], c["espReplayedPacket"], c["espPaddingInvalid"]) == (1, 1, 1)
    per_conn = text.split("Packets dropped per connection:")[1].split("\n\n")[0]
    (row,) = [PER_CONNECTION.match(line).groups() for line in per_conn.splitlines() if PER_CONNECTION.match(line)]
    (block,) = ipsec_blocks(console(a, "show crypto ipsec sa detail"))
    assert row == (entry_conn(block, "inbound"), "1", "1", "1")
    assert block["failed"] == (1, 1) and block["replay"] == (1,)
    assert block["errors"][1] == c["inProcessFail"] + c["inProcessFailImm"] == 3
    sha_fail = int(re.search(r"shaDecodeFail\s+(\d+)", console(a, "show ipsec counter=alg")).group(1))
    card = re.search(r"^SHA\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", text, re.M)
    assert sha_fail >= 1 and int(card.group(3)) == sha_fail


def test_clear_crypto_sa_removes_the_ipsec_sas_and_keeps_the_ike_sa():
    network = carrying()
    a = network.routers["a"]
    assert console(a, "clear crypto sa") == ""
    assert ipsec_blocks(console(a, "show crypto ipsec sa")) == []
    assert console(a, "show ipsec sa").splitlines()[2:] == []
    assert [r["state"] for r in isakmp_rows(console(a, "show crypto isakmp sa"))] == ["QM_IDLE"]
    assert run(a.run("show crypto")).startswith("Error")
    assert run(a.run("show crypto ipsec sa peer nonsense")).startswith("Error")


def test_manual_sas_show_as_ipsec_manual_maps_without_isakmp_sas():
    async def body():
        network = await two_routers(ManualVpn(bundle="esp+ah"))
        network.send_udp("pc2", "pc1", 40)
        await network.run()
        return network
    a = run(body()).routers["a"]
    aw = alliedware(a)
    assert aw["ike"] == {} and isakmp_rows(console(a, "show crypto isakmp sa")) == []
    (block,) = ipsec_blocks(console(a, "show crypto ipsec sa"))
    spis = {(e["where"], e["spi"]) for e in block["entries"]}
    expected = {((direction, proto), int(sa[f"{direction.capitalize()} SPI"]))
                for sa in aw["sas"].values() for direction in ("inbound", "outbound")
                for proto in [sa["Protocol"].lower()]}
    assert spis == expected and {p for (_, p), _ in spis} == {"esp", "ah"}
    assert block["decaps"][0] == 1 and block["encaps"][0] == 0
    assert all(e["timing"] == ("-", "-") for e in block["entries"])       # manual SAs do not expire
    (manual,) = crypto_maps(console(a, "show crypto map"))
    assert manual["kind"] == "ipsec-manual" and manual["lifetime"] == ("-", "-")
