"""The interop lab itself, as root in namespaces: charon starts and stops in
the peer namespace and swanctl answers; ike-scan gets charon's answers
(both modes; a refused transform gets NO-PROPOSAL-CHOSEN) and psk-crack
verifies charon's aggressive-mode HASH_R with the lab's key only; teardown
leaves no namespace, process or file; and ``pacsim interop strongswan|ike-scan
--json`` run the lab and report every case: against strongSwan both
phases established, the SPIs strongSwan lists the mirror of ``show ipsec
sa``, every vendor view agreeing with ``swanctl --list-sas`` field by field
(``views_mismatch`` empty), pings both ways through the tunnel, packets through the card, and
tshark decrypting the capture with the router's key log only (a subset of
the cases: main and aggressive, either initiator, with and without PFS, one
with the router on the RTL card, co-simulated; ``pacsim interop strongswan``
runs them all); against ike-scan both modes answered, NO-PROPOSAL-CHOSEN
for a transform the router refuses, and psk-crack verifying the router's
aggressive-mode HASH_R with the lab's key.

Needs root and the packages of scripts/setup.sh: marked ``interop``; CI runs as root."""
import io
import ipaddress
import json
import os
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from pacsim.cli import main
from pacsim.sim.interop.cases import CASES, PROBES, PSK, XAUTH_USER, IkeScanProbe
from pacsim.sim.interop.wire_tools import probe, psk_cracked
from pacsim.sim.interop.namespaces import ADDRESSES, LabError, LabNamespaces
from pacsim.sim.interop.nat import NAT_PORTS
from pacsim.sim.interop.router_config import mode_config_pool
from pacsim.sim.interop.strongswan import Charon

pytestmark = [pytest.mark.slow, pytest.mark.interop]


@pytest.fixture(autouse=True)
def _as_root():
    """These tests need root (network namespaces, charon); CI runs as root. Fail, never skip, elsewhere."""
    assert os.geteuid() == 0, "run the interop tests as root (network namespaces, charon)"

STRONGSWAN_KEYS = {"peer", "case", "mode", "initiator", "encalg", "hashalg", "group", "pfs", "phase1", "phase2",
                   "spis_match", "views_match", "views_mismatch", "ping_ok", "card_packets", "tshark_decrypted", "ms",
                   "auth", "xauth", "natt", "nat", "udp_encap", "router_nat_detected", "peer_behind_nat"}
IKE_SCAN_KEYS = {"peer", "case", "mode", "answered", "notify", "psk_cracked", "ms"}


def lab_processes() -> list[str]:
    """charon, dumpcap and ike-scan processes this test process started (directly or not): the labs of other
    tests running beside it (pytest-xdist) are theirs to check."""
    table = [line.split(None, 2) for line in subprocess.run(["ps", "-eo", "pid=,ppid=,comm="], capture_output=True,
                                                            text=True).stdout.splitlines()]
    ours, grew = {os.getpid()}, True
    while grew:
        found = {int(pid) for pid, ppid, _ in table if int(ppid) in ours}
        grew, ours = not found <= ours, ours | found
    return sorted(name for pid, _, name in table if int(pid) in ours and name in ("charon", "dumpcap", "ike-scan"))


def our_namespaces() -> list[str]:
    """The lab namespaces this test process made (``pacsim-<pid>-a|b|n``)."""
    return [name for name in LabNamespaces.existing() if name.startswith(f"pacsim-{os.getpid()}-")]


def test_charon_answers_ike_scan_and_leaves_nothing_behind(tmp_path):
    before = lab_processes()
    with LabNamespaces(tag=f"s{os.getpid()}") as lab:
        with Charon(lab.peer, tmp_path / "charon") as charon:
            charon.load(CASES[0])
            assert "case: IKEv1" in charon.swanctl("--list-conns").stdout
            pid = charon.pid
            answers = {scan.name: probe(lab, lab.pacsim, ADDRESSES.peer_wan, scan, tmp_path)
                       for scan in (IkeScanProbe("main", "main", ("3desinner", "sha", 2)),
                                    IkeScanProbe("refused", "main", ("aes256", "md5", 5), acceptable=False))}
            charon.load(next(c for c in CASES if c.mode == "aggressive" and c.encalg == "3desinner"))
            scan = IkeScanProbe("aggressive", "aggressive", ("3desinner", "sha", 2))
            answers["aggressive"] = probe(lab, lab.pacsim, ADDRESSES.peer_wan, scan, tmp_path)
        assert not Path(f"/proc/{pid}").exists()
    assert answers["main"]["answered"] and "Enc=3DES Hash=SHA1 Group=2:modp1024" in answers["main"]["handshake"]
    assert not answers["refused"]["answered"] and answers["refused"]["notify"] == "NO-PROPOSAL-CHOSEN"
    aggressive = answers["aggressive"]
    assert aggressive["answered"] and aggressive["pskcrack"] is not None
    assert psk_cracked(aggressive["pskcrack"], PSK) and not psk_cracked(aggressive["pskcrack"], "another-key")
    assert not {lab.pacsim, lab.peer} & LabNamespaces.existing()
    assert lab_processes() == before


def test_namespaces_refuse_an_existing_name():
    with LabNamespaces(tag=f"d{os.getpid()}") as lab:
        with pytest.raises(LabError, match="already exists"):
            LabNamespaces(tag=f"d{os.getpid()}").up()
        assert {lab.pacsim, lab.peer} <= LabNamespaces.existing()      # the failed second lab removed nothing
    assert not {lab.pacsim, lab.peer} & LabNamespaces.existing()


def run_cli(*argv) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["interop", *argv, "--json"]) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


#: The cases the test runs (by name): main and aggressive, either initiator, with and without PFS, DES-MD5-g1
#: and AES, one on the RTL card.
TEST_CASES = ("ma-st-3des-sha1-g2", "ag-pa-aes128-sha1-g2-pfs", "ma-pa-des-md5-g1", "ma-st-aes128-sha1-g2-rtl")


def test_pacsim_interop_strongswan_reports_every_case(tmp_path):
    chosen = [c for c in CASES if c.name in TEST_CASES]              # in the order the command runs them
    assert len(chosen) == len(TEST_CASES)
    assert {c.mode for c in chosen} == {"main", "aggressive"} and {c.initiator for c in chosen} == {"pacsim",
                                                                                                   "strongswan"}
    assert {c.pfs for c in chosen} == {True, False} and {c.bus for c in chosen} == {"model", "rtl"}
    before = lab_processes()
    records = run_cli("strongswan", "--case", *(c.name for c in chosen), "--workdir", str(tmp_path))
    assert [r["case"] for r in records] == [c.name for c in chosen]
    for record, case in zip(records, chosen):
        assert STRONGSWAN_KEYS <= set(record) and record["peer"] == "strongswan" and record["auth"] == "psk"
        assert (record["mode"], record["initiator"], record["pfs"], record["bus"]) == (case.mode, case.initiator,
                                                                                       case.pfs, case.bus)
        assert record["phase1"] == record["phase2"] == "established", record
        # no NAT: not natt, though libipsec's ESP in UDP (encap = yes fakes a NAT)
        assert (record["auth"], record["xauth"], record["nat"], record["natt"]) == ("psk", "none", False, False), record
        assert record["udp_encap"], record
        assert record["spis_match"] and record["views_match"] and record["ping_ok"] and record["tshark_decrypted"], \
            record
        assert record["views_mismatch"] == [], record
        assert (tmp_path / case.name / "list-sas.txt").exists() and (tmp_path / case.name / "views.txt").exists()
        assert record["card_packets"]["encrypted"] > 0 and record["card_packets"]["decrypted"] > 0, record
        assert not record["runtime_failures"], record
        # strongSwan's ISAKMP (AM2 and QM2 at least) and ESP in UDP reached the router
        assert record["attachment"]["isakmp_in"] >= 2 and record["attachment"]["natt_esp_in"] >= 2, record
        assert (tmp_path / case.name / "keylog" / "esp_sa").exists()
    assert (tmp_path / chosen[0].name / "wan.pcapng").stat().st_size > 0
    assert lab_processes() == before and not our_namespaces()


def test_pacsim_interop_strongswan_through_a_nat(tmp_path):
    """The cases behind the lab's real NAT (issue 14): strongSwan as an XAUTH
    client (PSK + XAUTH, main mode) of the router's XAUTH server, checking
    its user database and a FreeRADIUS the lab starts on loopback, and one
    plain PSK case: both phases up, both ends' NAT-D detecting the NAT (for
    strongSwan not faked), ESP in UDP/4500, the capture on the router's side
    showing only the NAT's address with translated source ports, a
    mode-config address of the router's pool installed by strongSwan
    (virtual IP), traffic both ways, and the NAT's namespace gone after."""
    chosen = [c for c in CASES if c.nat]
    assert [c.xauth for c in chosen] == ["generic", "radius", "none"]
    first, last = (ipaddress.IPv4Address(a) for a in mode_config_pool())
    before = lab_processes()
    records = run_cli("strongswan", "--case", *(c.name for c in chosen), "--workdir", str(tmp_path))
    assert [r["case"] for r in records] == [c.name for c in chosen]
    low, high = map(int, NAT_PORTS.split("-"))
    for record, case in zip(records, chosen):
        assert STRONGSWAN_KEYS <= set(record), record
        assert (record["auth"], record["xauth"], record["nat"], record["natt"]) == ("psk", case.xauth, True, True), \
            record
        assert record["udp_encap"] and record["router_nat_detected"] and record["peer_behind_nat"], record
        assert record["phase1"] == record["phase2"] == "established", record
        if case.xauth != "none":
            assert first <= ipaddress.IPv4Address(record["virtual_ip"]) <= last, record
        assert record["spis_match"] and record["views_match"] and record["ping_ok"] and record["tshark_decrypted"], \
            record
        assert record["card_packets"]["encrypted"] > 0 and record["card_packets"]["decrypted"] > 0, record
        assert not record["runtime_failures"], record
        assert record["views_mismatch"] == [] and record["attachment"]["natt_esp_in"] >= 2, record
        assert "local host is behind NAT" in (tmp_path / case.name / "charon" / "charon.log").read_text()
        wanted = f"udp && !icmp && ip.dst == {ADDRESSES.pacsim_wan}"
        seen = subprocess.run(["tshark", "-r", str(tmp_path / case.name / "wan.pcapng"), "-Y", wanted, "-T", "fields",
                               "-e", "ip.src", "-e", "udp.srcport", "-e", "udp.dstport"],
                              capture_output=True, text=True, check=True)
        rows = [line.split("\t") for line in seen.stdout.splitlines()]
        assert {row[0] for row in rows} == {ADDRESSES.peer_wan}, rows              # never the private address
        assert all(low <= int(row[1]) <= high for row in rows), rows               # translated source ports
        assert {row[2] for row in rows} == {"500", "4500"}, rows                    # IKE floated to 4500
    assert lab_processes() == before and not our_namespaces()
    radius_log = (tmp_path / chosen[1].name / "freeradius" / "radiusd.log").read_text()
    assert "Sent Access-Accept" in radius_log and f'User-Name = "{XAUTH_USER}"' in radius_log


def test_pacsim_interop_ike_scan_reports_every_probe():
    records = run_cli("ike-scan")
    assert [r["case"] for r in records] == [p.name for p in PROBES]
    for record, scan in zip(records, PROBES):
        assert IKE_SCAN_KEYS <= set(record) and record["peer"] == "ike-scan"
        assert record["attachment"]["isakmp_in"] >= 1
        if scan.acceptable:
            assert record["answered"] and record["notify"] is None, record
        else:
            assert not record["answered"] and record["notify"] == "NO-PROPOSAL-CHOSEN", record
        assert record["psk_cracked"] is (True if scan.mode == "aggressive" else None), record
    assert {r["mode"] for r in records if r["answered"]} == {"main", "aggressive"}


def test_pacsim_interop_needs_known_cases():
    with pytest.raises(SystemExit, match="no case nonesuch"):
        main(["interop", "ike-scan", "--case", "nonesuch"])


def test_sigterm_tears_the_lab_down():
    """SIGTERM in the middle of a case: namespaces, charon, dumpcap and the working directory all go."""
    import signal
    import sys
    import time
    lab = subprocess.Popen([sys.executable, "-m", "pacsim.cli", "interop", "strongswan", "--json", "--case",
                            CASES[0].name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    before = set(Path("/tmp").glob("pacsim-interop-*"))
    end = time.monotonic() + 60
    while not _negotiating(set(Path("/tmp").glob("pacsim-interop-*")) - before):   # the router runs, charon asks it
        assert time.monotonic() < end and lab.poll() is None, lab.stderr.read() if lab.poll() is not None else ""
        time.sleep(0.1)
    assert _children(lab.pid) >= {"charon", "dumpcap"} and f"pacsim-{lab.pid}-a" in LabNamespaces.existing()
    workdirs = set(Path("/tmp").glob("pacsim-interop-*"))
    lab.send_signal(signal.SIGTERM)
    try:
        assert lab.wait(60) == 128 + signal.SIGTERM
    finally:
        if lab.poll() is None:
            lab.kill()
    assert not [n for n in LabNamespaces.existing() if n.startswith(f"pacsim-{lab.pid}-")]
    assert not _children(lab.pid) and not workdirs & set(Path("/tmp").glob("pacsim-interop-*"))


def _negotiating(workdirs: set) -> bool:
    """Whether the lab in one of ``workdirs`` has charon sending its first ISAKMP message to the router."""
    logs = [log for workdir in workdirs for log in workdir.glob("*/charon/charon.log")]
    return any("sending packet: from 192.0.2.2[500] to 192.0.2.1[500]" in log.read_text() for log in logs)


def _children(pid: int) -> set[str]:
    """Command names of the processes whose parent is ``pid``."""
    out = subprocess.run(["ps", "-o", "comm=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return set(out.split())
