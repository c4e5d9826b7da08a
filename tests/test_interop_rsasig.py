"""RSA-signature interop with strongSwan (``pacsim interop strongswan``'s
rsasig cases), as root in the lab's namespaces: main mode with strongSwan
and then pacsim initiating, aggressive mode with strongSwan initiating,
certificates from a CA made for each case. Both
phases established, the SPIs, views, pings through the tunnel and tshark's
decryption as for the pre-shared-key cases; strongSwan itself checked the
router's certificate (issued by the run's CA, SHA-1 signed, checked by
charon) and its SIG (``RSA_EMSA_PKCS1_NULL``: PKCS#1 without DigestInfo),
and the router checked strongSwan's on its card.

Needs root and the packages of scripts/setup.sh: marked ``interop``; CI runs as root."""
import io
import json
import os
from contextlib import redirect_stdout

import pytest

from pacsim.cli import main
from pacsim.sim.interop.cases import CASES
from pacsim.sim.interop.lab_certificates import PEER_NAME, ROUTER_NAME

pytestmark = [pytest.mark.slow, pytest.mark.interop]

RSASIG = [c for c in CASES if c.auth == "rsasig"]


def test_strongswan_rsasig_both_ways_and_aggressive(tmp_path):
    assert os.geteuid() == 0, "run the interop tests as root (network namespaces, charon)"
    assert {c.initiator for c in RSASIG if c.mode == "main"} == {"pacsim", "strongswan"}
    assert {c.mode for c in RSASIG} == {"main", "aggressive"}
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["interop", "strongswan", "--json", "--workdir", str(tmp_path), "--case",
                     *(c.name for c in RSASIG)]) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["case"] for r in records] == [c.name for c in RSASIG]
    for record in records:
        assert record["auth"] == "rsasig" and record["phase1"] == record["phase2"] == "established", record
        assert record["spis_match"] and record["views_match"] and record["ping_ok"], record
        assert record["tshark_decrypted"] and not record["runtime_failures"], record
        assert record["card_packets"]["encrypted"] > 0 and record["card_packets"]["decrypted"] > 0, record
        log = (tmp_path / record["case"] / "charon" / "charon.log").read_text()
        assert f"authentication of 'O=pacsim, CN={ROUTER_NAME}' with RSA_EMSA_PKCS1_NULL successful" in log
        assert f"authentication of 'O=pacsim, CN={PEER_NAME}' (myself) successful" in log
