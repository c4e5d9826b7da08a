"""tmsh ``show net ipsec ike-sa [peer-ip A] [all-properties]``, ``show net
ipsec ipsec-sa`` and ``delete net ipsec ike-sa`` (firmware/views/tmsh.py):
a parser written from seed 000/001's ike-sa example reads the seed's
record and ours (two-field lines ending at the seed's column); on two
routers that negotiated with ISAKMP and carried traffic, every field
agrees with the AlliedWare displays; a stepped phase 1 shows each state."""
import re

import pytest
from views_support import alliedware, carrying, seed, source, states_seen

from pacsim.firmware.views.tmsh import WIDTH, UsageError, delete_peer, render

LABELS = ("Version", "State", "IKE Peer", r"Spi\(local\)", r"Spi\(Remote\)", "Encryption", "Authentication",
          "Hash Algorithm", "Initiator", "Life/Active Time", "NAT-T", "Child SA Count")
FIELD = re.compile(rf"({'|'.join(LABELS)}): (.+?)(?=\s+(?:{'|'.join(LABELS)}):|\s*$)")
ENDS = re.compile(r"^\s*(\S+)/(\d+) -> (\S+)/(\d+)$")
SELECTOR = re.compile(r"^\s*(/Common/\S+)\s+(\d+)/(\d+)$")
IPSEC_LINE = re.compile(r"^\s*(\S+) -> (\S+) SPI\(0x([0-9a-f]+)\) (in|out) (esp|ah|ipcomp) \(tmm: \d+\)$")


def ike_records(text):
    """Each ike-sa record: its ends and {label: value} (labels unescaped), selectors [(name, in, out)]."""
    records = []
    for line in text.splitlines():
        m = ENDS.match(line)
        if m:
            records.append({"ends": m.groups(), "fields": {}, "selectors": []})
            continue
        if records:
            s = SELECTOR.match(line)
            if s:
                records[-1]["selectors"].append(s.groups())
            for label, value in FIELD.findall(line):
                records[-1]["fields"][label] = value.strip()
    return records


def test_parser_reads_the_seed_record_and_ours_alike():
    for prefix in ("000", "001"):
        (record,) = ike_records(seed(prefix).split("Total records returned")[0])
        assert record["ends"] == ("10.2.2.2", "500", "10.1.1.1", "500")
        assert record["fields"]["State"] == "ESTABLISHED" and record["fields"]["Initiator"] == "TRUE"
        assert record["fields"]["Spi(local)"] == "0xdf5601249fd324ec"
        assert record["selectors"] == [("/Common/selector-10202", "17131", "17132"),
                                       ("/Common/second-selector", "17129", "17130")]
    seed_pairs = [line for line in seed("000").splitlines() if len(FIELD.findall(line)) == 2]
    assert seed_pairs and {len(line) for line in seed_pairs} == {WIDTH}
    network = carrying()
    ours = render("show net ipsec ike-sa all-properties".split(), source(network.routers["a"]))
    example = seed("000").split("# tmsh show net ipsec ike-sa all-properties\n")[1]
    assert ours.splitlines()[:3] == example.splitlines()[:3]
    our_pairs = [line for line in ours.splitlines() if len(FIELD.findall(line)) == 2 or SELECTOR.match(line)]
    assert len(our_pairs) == 6 and {len(line) for line in our_pairs} == {WIDTH}
    assert set(ike_records(ours)[0]["fields"]) == {re.sub(r"\\", "", label) for label in LABELS}
    assert ours.endswith("\nTotal records returned: 1")


def test_ike_sa_agrees_with_alliedware():
    network = carrying()
    for name, initiator in (("a", "TRUE"), ("b", "FALSE")):
        router = network.routers[name]
        ike = alliedware(router)["ike"][1]
        (record,) = ike_records(render("show net ipsec ike-sa all-properties".split(), source(router)))
        f = record["fields"]
        assert record["ends"] == (ike["Local address"], "500", ike["Remote Address"], "500")
        mine, theirs = ((ike["Initiator Cookie"], ike["Responder Cookie"]) if initiator == "TRUE"
                        else (ike["Responder Cookie"], ike["Initiator Cookie"]))
        assert (f["Spi(local)"], f["Spi(Remote)"]) == (f"0x{mine}", f"0x{theirs}")
        assert (f["Version"], f["State"], f["Initiator"]) == ("v1", "ESTABLISHED", initiator)
        assert ike["State"] == "ACTIVE" and f["IKE Peer"] == f"/Common/{ike['Policy name']}"
        assert ike["Encryption Algorithm"] == "DES - 56 bit" and f["Encryption"] == "des"
        assert ike["Hash Algorithm"] == "SHA" and f["Hash Algorithm"] == "sha1"
        assert ike["Authentication Type"] == "PRESHARED" and f["Authentication"] == "pre-shared-key"
        life, active = re.match(r"(\d+)/(\d+) seconds", f["Life/Active Time"]).groups()
        assert life == ike["Expiry Limit (seconds)"] and active == ike["Seconds since creation"]
        assert f["NAT-T"] == "none" and ike["NAT discovered"] == "NO"
        assert f["Child SA Count"] == "1"
        assert record["selectors"] == [("/Common/vpn", "0", "0")]
        summary = render(["show", "net", "ipsec", "ike-sa"], source(router))
        assert ike_records(summary)[0]["fields"] == {"Version": "v1", "State": "ESTABLISHED"}
        peer = render(f"show net ipsec ike-sa peer-ip {ike['Remote Address']}".split(), source(router))
        assert peer == summary
        assert render("show net ipsec ike-sa peer-ip 192.0.2.99".split(), source(router)).endswith("returned: 0")


def test_ipsec_sa_agrees_with_alliedware():
    network = carrying()
    for name in ("a", "b"):
        router = network.routers[name]
        aw = alliedware(router)
        (sa_id, detail), = aw["sas"].items()
        counters = aw["counters"][sa_id]
        (bytes_, seconds), = aw["bundles"].values()
        text = render("show net ipsec ipsec-sa all-properties".split(), source(router))
        lines = text.splitlines()
        found = [(i, IPSEC_LINE.match(line).groups()) for i, line in enumerate(lines) if IPSEC_LINE.match(line)]
        local, peer = aw["ike"][1]["Local address"], aw["ike"][1]["Remote Address"]
        assert [g for _, g in found] == [
            (peer, local, f"{int(detail['Inbound SPI']):08x}", "in", "esp"),
            (local, peer, f"{int(detail['Outbound SPI']):08x}", "out", "esp")]
        for (i, (_, _, _, direction, _)) in found:
            fields = dict(re.findall(r"([A-Z][a-z]+(?: [A-Z][a-z]+)*): (\S+)", " ".join(lines[i + 1:i + 5])))
            assert fields["Encryption"] == "aes-cbc" and fields["Authentication"] == "hmac-sha1"
            assert fields["Mode"] == "tunnel" and fields["State"] == detail["State"].lower()
            hard_s, _, used_s = seconds.split("/")
            hard_b, _, used_b = bytes_.split("/")
            assert int(fields["Remaining Time"]) == int(hard_s) - int(used_s)
            assert int(fields["Remaining Kbytes"]) == (int(hard_b) - int(used_b)) // 1024
            assert int(fields["Bytes"]) == int(used_b)
            assert int(fields["Packets"]) == counters["inProcessDone" if direction == "in" else "outProcessDone"]
        brief = render("show net ipsec ipsec-sa".split(), source(router)).splitlines()
        assert [line for line in brief if IPSEC_LINE.match(line)] == [lines[i] for i, _ in found]


@pytest.mark.parametrize("mode, initiator, responder", [
    ("main", ["MM_SA_SETUP", "MM_KEY_EXCH", "MM_KEY_AUTH", "ESTABLISHED"],
     ["MM_SA_SETUP", "MM_KEY_EXCH", "ESTABLISHED"]),
    ("aggressive", ["AG_INIT_EXCH", "ESTABLISHED"], ["AG_AUTH", "ESTABLISHED"])])
def test_stepped_phase1_shows_each_state(mode, initiator, responder):
    def read(router):
        records = ike_records(render("show net ipsec ike-sa".split(), source(router)))
        return records[0]["fields"]["State"] if records else None
    assert states_seen(mode, read) == {"a": initiator, "b": responder}


def test_delete_command_lines():
    assert delete_peer("delete net ipsec ike-sa".split()) is None
    assert delete_peer("del net ipsec ike-sa peer-ip 10.0.0.2".split()) == "10.0.0.2"
    for bad in ("delete net ipsec ipsec-sa", "delete net ipsec ike-sa all-properties", "delete net ipsec ike-sa x"):
        with pytest.raises(UsageError):
            delete_peer(bad.split())
    for bad in ("show net ipsec", "show net ipsec ike-sa peer-ip", "show net ipsec ipsec-sa peer-ip 1.2.3.4",
                "list net ipsec ike-sa"):
        with pytest.raises(UsageError):
            render(bad.split(), None)
