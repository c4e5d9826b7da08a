"""racoonctl ``show-sa isakmp|esp|ah|ipsec`` (firmware/views/racoonctl.py):
the ISAKMP table is read by a parser written from seeds 000/001's sample
lines (the seed's rows and ours alike, header columns where the seed has
them); on two routers that negotiated with ISAKMP and carried traffic,
every field agrees with the AlliedWare displays; a phase 1 stepped message
by message shows racoon's intermediate ST numbers (a dying and an expired
SA their own, and IOS's deleted status); delete-sa and flush-sa act on the
router."""
import re
from dataclasses import replace

import pytest
from views_support import alliedware, carrying, console, seed, source, states_seen

from pacsim.firmware.isakmp.ike_sa import IkeSaState
from pacsim.firmware.router.view_source import delete_ike_sas, flush_sas
from pacsim.firmware.views.ios import show_crypto_isakmp_sa
from pacsim.firmware.views.racoonctl import UsageError, render
from pacsim.firmware.views.vendor_terms import ios_state, racoon_state
from router_support import run

#: A row of ``racoonctl -ll show-sa isakmp`` as seeds 000 and 001 print it.
ISAKMP_ROW = re.compile(r"^(?P<src>\S+)\.(?P<sport>\d+)\s+(?P<dst>\S+)\.(?P<dport>\d+)\s+"
                        r"(?P<cky_i>[0-9a-f]{16}):(?P<cky_r>[0-9a-f]{16})\s+(?P<st>\d+) (?P<s>[IR])\s+(?P<v>\d+) "
                        r"(?P<e>[MAB]) (?P<created>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(?P<phase2>\d+)$")
HEADER = re.compile(r"^Source\s+Destination\s+Cookies\s+ST S\s+V E Created\s+Phase2$")
#: One ``setkey -D`` entry (keys left out).
SETKEY = re.compile(r"^(?P<src>\S+) (?P<dst>\S+)\n\t(?P<proto>esp|ah|ipcomp) mode=(?P<mode>\w+) "
                    r"spi=(?P<spi>\d+)\(0x(?P<hex>[0-9a-f]{8})\) reqid=(?P<reqid>\d+)\(0x[0-9a-f]{8}\)\n"
                    r"(?:\tE: (?P<enc>\S+)\n)?(?:\tA: (?P<auth>\S+)\n)?(?:\tC: \S+\n)?"
                    r"\tseq=0x(?P<seq>[0-9a-f]{8}) replay=(?P<replay>\d+) flags=0x0+ state=(?P<state>\w+) \n"
                    r"\tcreated: .*\tcurrent: .*\n\tdiff: (?P<diff>\d+)\(s\)\thard: (?P<hard_s>\d+)\(s\)\t"
                    r"soft: (?P<soft_s>\d+)\(s\)\n\tlast: .*\n\tcurrent: (?P<bytes>\d+)\(bytes\)\t"
                    r"hard: (?P<hard_b>\d+)\(bytes\)\tsoft: \d+\(bytes\)\n\tallocated: (?P<packets>\d+)\t.*\n"
                    r"\tsadb_seq=(?P<sadb_seq>\d+) pid=0 refcnt=0$", re.M)


def isakmp_rows(text):
    return [m.groupdict() for m in map(ISAKMP_ROW.match, text.splitlines()) if m]


def setkey_entries(text):
    return [m.groupdict() for m in SETKEY.finditer(text)]


def test_parser_reads_the_seeds_rows_and_header_columns():
    for prefix in ("000", "001"):
        rows = isakmp_rows(seed(prefix))
        assert [(r["src"], r["dst"], r["st"], r["s"], r["v"], r["e"], r["phase2"]) for r in rows] == [
            ("127.0.0.1", "10.2.2.2", "9", "R", "10", "M", "1"), ("10.1.1.1", "10.3.3.3", "9", "I", "10", "M", "1")]
    header = next(line for line in seed("000").splitlines() if HEADER.match(line))
    network = carrying()
    ours = render(["-ll", "show-sa", "isakmp"], source(network.routers["a"])).splitlines()
    assert ours[0] == header
    sample = next(line for line in seed("000").splitlines() if ISAKMP_ROW.match(line))
    starts = [m.start() for m in re.finditer(r"\S+", sample)]
    assert [m.start() for m in re.finditer(r"\S+", ours[1])] == starts      # same columns as the seed's row
    assert len(isakmp_rows("\n".join(ours))) == 1


def test_isakmp_sa_agrees_with_alliedware_on_both_routers():
    network = carrying()
    for name, role in (("a", "I"), ("b", "R")):
        router = network.routers[name]
        aw = alliedware(router)
        rows = isakmp_rows(render(["-ll", "show-sa", "isakmp"], source(router)))
        assert len(rows) == len(aw["ike"]) == 1
        row, ike = rows[0], aw["ike"][1]
        assert (row["cky_i"], row["cky_r"]) == (ike["Initiator Cookie"], ike["Responder Cookie"])
        assert (row["src"], row["dst"]) == (ike["Local address"], ike["Remote Address"])
        assert (row["sport"], row["dport"]) == ("500", "500")
        assert ike["State"] == "ACTIVE" and row["st"] == "9"
        assert (row["s"], row["v"], row["e"], row["phase2"]) == (role, "10", "M", "1")
        short = render(["show-sa", "isakmp"], source(router)).splitlines()
        assert short[0] == "Destination            Cookies                           Created"
        assert short[1].split()[:2] == [f"{ike['Remote Address']}.500", f"{row['cky_i']}:{row['cky_r']}"]
        semi = render(["-l", "show-sa", "isakmp"], source(router)).splitlines()
        assert semi[0] == "Destination            Cookies                           ST S  V E Created             Phase2"
        assert semi[1].split() == [f"{ike['Remote Address']}.500", f"{row['cky_i']}:{row['cky_r']}", "9", role,
                                   "10", "M", *row["created"].split(), "1"]
        assert render(["-l", "-l", "show-sa", "isakmp"], source(router)) == render(
            ["-ll", "show-sa", "isakmp"], source(router))
    a_row = isakmp_rows(render(["-ll", "show-sa", "isakmp"], source(network.routers["a"])))[0]
    b_row = isakmp_rows(render(["-ll", "show-sa", "isakmp"], source(network.routers["b"])))[0]
    assert (a_row["cky_i"], a_row["cky_r"]) == (b_row["cky_i"], b_row["cky_r"])


def test_esp_listing_agrees_with_alliedware_and_the_peer():
    network = carrying()
    listings = {}
    for name in ("a", "b"):
        router = network.routers[name]
        aw = alliedware(router)
        entries = setkey_entries(render(["show-sa", "esp"], source(router)))
        assert render(["show-sa", "ipsec"], source(router)) == render(["show-sa", "esp"], source(router))
        assert render(["show-sa", "ah"], source(router)) == "No SAD entries."
        (sa_id, detail), = aw["sas"].items()
        counters = aw["counters"][sa_id]
        (hard_b, hard_s), = aw["bundles"].values()
        out, into = entries
        assert int(out["spi"]) == int(detail["Outbound SPI"]) and int(into["spi"]) == int(detail["Inbound SPI"])
        assert int(out["hex"], 16) == int(out["spi"])
        local, peer = aw["ike"][1]["Local address"], aw["ike"][1]["Remote Address"]
        assert (out["src"], out["dst"], into["src"], into["dst"]) == (local, peer, peer, local)
        for e in entries:
            assert (e["proto"], e["mode"], e["enc"], e["auth"], e["state"]) == (
                "esp", "tunnel", "aes-cbc", "hmac-sha1", "mature")
            assert detail["Encryption algorithm"] == "AES128" and detail["Hash algorithm"] == "SHA"
            assert e["replay"] == detail["Anti-replay window size"]
            assert e["reqid"] == detail["Bundle"]
            assert (e["hard_b"], e["bytes"]) == tuple(hard_b.split("/")[i] for i in (0, 2))
            assert e["hard_s"] == hard_s.split("/")[0]
        assert int(out["packets"]) == counters["outProcessDone"] == 4 + (name == "a") - 1
        assert int(into["packets"]) == counters["inProcessDone"]
        assert int(out["seq"], 16) == int(detail["Last sent sequence number"])
        assert int(into["seq"], 16) == int(detail["Last received sequence number"])
        assert [e["sadb_seq"] for e in entries] == ["1", "0"]
        listings[name] = entries
    assert listings["a"][0]["spi"] == listings["b"][1]["spi"] and listings["a"][1]["spi"] == listings["b"][0]["spi"]


@pytest.mark.parametrize("mode, initiator, responder", [
    ("main", [3, 5, 7, 9], [3, 5, 9]), ("aggressive", [3, 9], [3, 9])])
def test_stepped_phase1_shows_racoons_intermediate_states(mode, initiator, responder):
    def read(router):
        rows = isakmp_rows(render(["-ll", "show-sa", "isakmp"], source(router)))
        assert all(r["e"] == mode[0].upper() for r in rows)
        return int(rows[0]["st"]) if rows else None
    assert states_seen(mode, read) == {"a": initiator, "b": responder}


def test_delete_and_flush_act_on_the_router():
    network = carrying()
    a = network.routers["a"]
    assert run(flush_sas(a)) == 1
    assert render(["show-sa", "esp"], source(a)) == "No SAD entries."
    assert console(a, "show ipsec sa").splitlines()[2:] == []
    assert run(delete_ike_sas(a, "192.0.2.99")) == 0
    assert run(delete_ike_sas(a)) == 1
    assert isakmp_rows(render(["-ll", "show-sa", "isakmp"], source(a))) == []
    assert console(a, "show isakmp sa").splitlines()[2:] == []


@pytest.mark.parametrize("argv", [[], ["show-sa"], ["show-sa", "internal"], ["-x", "show-sa", "isakmp"],
                                  ["flush-sa"], ["show-sa", "isakmp", "extra"]])
def test_unknown_command_lines_are_refused(argv):
    with pytest.raises(UsageError, match="racoonctl: unknown command"):
        render(argv, None)


def test_dying_and_expired_sas_show_racoons_numbers_and_ios_deleted():
    network = carrying()
    (established,) = source(network.routers["a"]).ike_sas()
    expected = {IkeSaState.ESTABLISHED: (9, "QM_IDLE", "ACTIVE"), IkeSaState.DYING: (10, "QM_IDLE", "ACTIVE"),
                IkeSaState.EXPIRED: (11, "MM_NO_STATE", "ACTIVE (deleted)"),
                IkeSaState.DELETED: (11, "MM_NO_STATE", "ACTIVE (deleted)")}
    for state, (st, ios, status) in expected.items():
        snapshot = replace(established, state=state)
        assert (racoon_state(snapshot), ios_state(snapshot)) == (st, ios)
        view = type("View", (), {"ike_sas": lambda self: (snapshot,), "now": lambda self: 0.0})()
        (row,) = isakmp_rows(render(["-ll", "show-sa", "isakmp"], view))
        assert int(row["st"]) == st
        assert show_crypto_isakmp_sa(view).splitlines()[2].split()[2:] == [ios, "1", *status.split()]
