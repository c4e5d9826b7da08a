"""The ISAKMP fuzz campaign (pacsim.sim.fuzz_isakmp, ``pacsim fuzz isakmp``)
and its Atheris harness: a few thousand mutated messages into every
target state escape nothing, every drop is counted and the established
SA survives; the same seed gives the same counts; structure-aware
mutations get through decryption and authentication; a bug planted in
the daemon is found, saved and replayed; the coverage-guided harness
runs a bounded campaign with no finding.
"""
import asyncio
import json
import random
import subprocess
import sys

import pytest
from isakmp_capture import capture_messages

from pacsim.cli import main
from pacsim.firmware.isakmp.constants import HeaderFlag
from pacsim.firmware.isakmp.daemon import IsakmpDaemon
from pacsim.firmware.isakmp.errors import EncodingError, Rejection
from pacsim.firmware.isakmp.payloads import encode_chain
from pacsim.sim.fuzz_isakmp import TARGETS, LiveTarget, replay, run_campaign, sa_survives
from pacsim.sim.fuzz_mutators import mutate_bytes, mutate_payloads

SEED = 20261207
JSON_KEYS = {"messages", "escaped", "dropped", "counted", "uncounted", "accepted", "sa_survived", "restores",
             "messages_per_second", "targets", "findings"}
_FLAGS = 19                 # the header's flags octet (RFC 2408 section 3.1)
_KNOWN_FLAGS = int(HeaderFlag.ENCRYPTION | HeaderFlag.COMMIT | HeaderFlag.AUTHENTICATION_ONLY)


def _plant_bug(monkeypatch):
    """Make the daemon raise while counting a header with unknown flag bits
    (a rare input no real message is); returns the original method."""
    original = IsakmpDaemon._count_rejection

    def planted(self, problem, *rest):
        if problem.reason is Rejection.INVALID_FLAGS:
            raise RuntimeError("planted bug")
        return original(self, problem, *rest)

    monkeypatch.setattr(IsakmpDaemon, "_count_rejection", planted)
    return original


def _targets(*names):
    return [t for t in TARGETS if t.name in names]


def test_campaign_over_every_target(tmp_path):
    """4000 messages, about 100 per target (with the strongSwan capture spliced in): nothing
    escapes, every drop moved a specific counter, the established SA
    still answers DPD, and every target was fuzzed (the RSA ones reaching
    their certificate, signature and decryption checks)."""
    result = run_campaign(4000, SEED, tmp_path, corpus=[data for _, data, _ in capture_messages()])
    assert result.messages == 4000
    assert result.escaped == 0 and result.findings == [] and list(tmp_path.iterdir()) == []
    assert result.dropped > 0 and result.dropped == result.counted
    assert result.dropped + result.accepted == result.messages
    assert result.sa_survived
    assert set(result.targets) == {t.name for t in TARGETS}
    # the RSA targets (CR/CERT/SIG of rsasig, encrypted IDs and nonces of rsaencr, both modes) reach their checks:
    # malformed and untrusted certificates, signatures that do not verify, bodies that do not decrypt, intact ones
    assert {(t.params.get("authtype"), t.params["mode"]) for t in TARGETS if "authtype" in t.params} == {
        (a, m) for a in ("rsasig", "rsaencr") for m in ("main", "aggressive")}
    for mode in ("main", "aggressive"):
        for counter in ("cantFindPeerRSAKey", "verifySigFailed", "signGood", "certSent", "decryptNiFailed",
                        "decryptNiGood", "decryptIDirFailed", "decryptIDirGood"):
            assert result.reached[(mode, counter)] > 0, (mode, counter)


def test_mutators_change_the_message_and_follow_the_seed():
    """Every mutation differs from the real message; the same seed gives the
    same mutations; most structure-aware ones still encode as a chain."""
    async def real_chains():
        entry = await LiveTarget.build(_targets("main/responder/after-5")[0], SEED)
        return [t for _, t in entry.pairs]
    template = asyncio.run(real_chains())[0]
    data, chain = template.datagram.data, template.payloads

    def series(seed):
        rng = random.Random(seed)
        return [(mutate_bytes(rng, data, [data[::-1]]), mutate_payloads(rng, chain, [chain])) for _ in range(500)]
    first = series(1)
    assert first == series(1) and first != series(2)
    assert all(octets != data and payloads != chain for octets, payloads in first)
    encodable = 0
    for _, payloads in first:
        try:
            encode_chain(payloads)
            encodable += 1
        except EncodingError:
            pass
    assert encodable >= 450


def test_same_seed_same_counts(tmp_path):
    names = ("main/responder/awaiting-3", "aggressive/initiator/after-2", "established")
    runs = [run_campaign(300, seed, tmp_path, _targets(*names)) for seed in (5, 5)]
    counts = [{k: v for k, v in r.as_dict().items() if k != "messages_per_second"} for r in runs]
    assert counts[0] == counts[1]
    assert runs[0].reached == runs[1].reached


def test_restoring_by_fork_equals_building_again(tmp_path):
    """A target restored from a forked snapshot is the state a fresh build
    makes: both ways give the same counts, message for message."""
    names = ("main/responder/awaiting-5", "aggressive/responder/awaiting-1", "established-authentic")
    runs = [run_campaign(300, SEED, tmp_path, _targets(*names), fork=fork) for fork in (True, False)]
    assert runs[0].restores > 0
    forked, built = (r.as_dict() | {"messages_per_second": None} for r in runs)
    assert forked == built
    assert runs[0].reached == runs[1].reached


def test_survival_check_fails_when_the_sa_is_gone():
    async def body():
        entry = await LiveTarget.build(_targets("established")[0], SEED)
        alive = await sa_survives(entry.peers)
        responder = entry.peers.responder
        await responder.remove_sa(next(iter(responder.sas)), "local")
        return alive, await sa_survives(entry.peers)
    assert asyncio.run(body()) == (True, False)


def test_structure_aware_mutations_reach_the_deep_checks(tmp_path):
    """Re-encrypted, re-hashed mutations pass decryption and authentication:
    the informational HASH(1) (heartbeats among them) and MM5's HASH_I verify for some of them."""
    result = run_campaign(400, SEED, tmp_path, _targets("established-authentic", "main/responder/awaiting-5"))
    assert result.reached[("info", "rxMsgHashSuccess")] > 0
    assert result.reached[("heartbeat", "rxMsg")] > 0
    assert result.reached[("main", "authGood")] > 0
    assert result.reached[("general", "rxDecryptGood")] > 0
    assert result.escaped == 0 and result.dropped == result.counted


def test_xauth_and_mode_config_attributes_are_fuzzed(tmp_path):
    """The XAUTH and mode-config targets (each transaction step awaited, and
    the whole exchange with HASH recomputed): nothing escapes, every drop is
    counted, and re-hashed mutations reach the attribute logic (REQUEST,
    REPLY, SET and ACK taken after their HASH verified, some refused as
    answering nothing)."""
    names = [t.name for t in TARGETS if t.name.startswith("xauth")]
    result = run_campaign(600, SEED, tmp_path, _targets(*names))
    assert result.escaped == 0 and result.findings == [] and result.dropped == result.counted
    assert set(result.targets) == set(names) and len(names) == 7
    for name in ("reqRecv", "repRecv", "setRecv", "hashInvalid", "unexpectedCfgMessage"):
        assert result.reached[("transaction", name)] > 0, name


def test_json_output(tmp_path, capsys):
    status = main(["fuzz", "isakmp", "--messages", "40", "--seed", "3", "--json", "--findings", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(printed) == JSON_KEYS
    assert printed["messages"] == 40 and printed["escaped"] == 0 and printed["sa_survived"] is True


def test_planted_bug_is_found_saved_and_replayed(tmp_path, monkeypatch, capsys):
    """A daemon method that raises on a rare input (a header with unknown
    flag bits, which no real message has): the campaign reports it as
    escaped, saves a reproducer, and the reproducer replays the fault with
    one command (and stops doing so once the bug is gone)."""
    original = _plant_bug(monkeypatch)
    result = run_campaign(600, SEED, tmp_path, _targets("main/initiator/awaiting-4", "established"))
    assert result.escaped > 0
    assert len(result.findings) == result.escaped
    saved = json.loads(result.findings[0].read_text())
    assert saved["seed"] == SEED and saved["target"] in {"main/initiator/awaiting-4", "established"}
    assert bytes.fromhex(saved["datagram"]["data"])[_FLAGS] & ~_KNOWN_FLAGS
    assert "planted bug" in saved["error"]
    outcome, detail, _ = replay(result.findings[0])
    assert outcome == "escaped" and "planted bug" in detail
    assert main(["fuzz", "isakmp", "--replay", str(result.findings[0])]) == 1
    capsys.readouterr()
    monkeypatch.setattr(IsakmpDaemon, "_count_rejection", original)
    assert replay(result.findings[0])[0] == "counted"
    assert main(["fuzz", "isakmp", "--replay", str(result.findings[0])]) == 0


def test_atheris_harness_encrypts_its_input_and_reports_an_escape(monkeypatch):
    """The harness turns the real MM5 (its decrypted seed) back into a
    message the responder accepts (the target is then built again), and an
    input that makes the daemon fault raises Escaped."""
    from pacsim.sim.fuzz_atheris import COOKIE_OCTETS, Escaped, Harness
    harness = Harness("main/responder/awaiting-5", SEED)
    seed = harness.seeds()[0]
    before = harness.live
    harness.test_one_input(seed)
    assert harness.live is not before
    planted = bytearray(seed)
    planted[1 + _FLAGS - COOKIE_OCTETS] |= 0x80
    harness.test_one_input(bytes(planted))              # dropped and counted: no escape
    _plant_bug(monkeypatch)
    with pytest.raises(Escaped, match="planted bug"):
        harness.test_one_input(bytes(planted))


@pytest.mark.slow
def test_atheris_bounded_campaign_finds_nothing(tmp_path):
    """libFuzzer through Atheris, 3000 executions with a fixed seed, into
    the responder awaiting MM5: it ends normally (a finding would be a
    crash: non-zero status and a crash file)."""
    # libFuzzer's RSS limit reads the peak RSS, which Linux carries across fork and exec: under a
    # pytest worker that grew large it trips at once. The per-allocation limit stays.
    run = subprocess.run([sys.executable, "-m", "pacsim.sim.fuzz_atheris", "-runs=3000", "-seed=1",
                          "-rss_limit_mb=0", "-malloc_limit_mb=2048",
                          f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Done 3000 runs" in run.stderr
    assert not list(tmp_path.glob("crash-*"))

