"""``pacsim regress`` without Ray: seeds, campaign files and cell ids,
coverage bins, cells run in this process, the test-only fault and a defect
the seeds found. (The campaign on Ray: ``test_regress_ray.py``.)
"""
import asyncio
import random
from collections import Counter

import pytest

import driver_suite_rings
from pacsim.contract.codes import CipherAlg, Direction, MacAlg, Opcode, ResultStatus
from pacsim.host.channels import Channel
from pacsim.host.jobs import Job, JobResult
from pacsim.contract.codes import Service
from pacsim.sim.model_bus import ModelBus
from pacsim.sim.regress.campaign import campaign_names, cell_from_id, load_campaign
from pacsim.sim.regress.cells import run_cell
from pacsim.sim.regress.coverage import (BINS, IMPOSSIBLE, bins_of, coverage_fraction, holes, job_sample,
                                         length_class)
from pacsim.sim.seed import SEED_ENV, seeded_random
from pacsim.sim.test_fault import FAULT_ENV, cipher_fault_length


def test_seeded_random_is_the_fixed_seed_unless_a_campaign_sets_one(monkeypatch):
    monkeypatch.delenv(SEED_ENV, raising=False)
    assert seeded_random(24).randbytes(16) == random.Random(24).randbytes(16)
    monkeypatch.setenv(SEED_ENV, "")
    assert seeded_random("x").random() == random.Random("x").random()
    monkeypatch.setenv(SEED_ENV, "7")
    seven = seeded_random(24).randbytes(16)
    assert seven != random.Random(24).randbytes(16) and seven == random.Random("24/7").randbytes(16)
    monkeypatch.setenv(SEED_ENV, "8")
    assert seeded_random(24).randbytes(16) != seven
    monkeypatch.setenv(SEED_ENV, "seven")
    with pytest.raises(ValueError, match="PACSIM_SEED='seven': expected a decimal integer"):
        seeded_random(24)


def test_campaign_cells_have_unique_ids_that_name_them():
    assert {"smoke", "selftest"} <= set(campaign_names())
    smoke = load_campaign("smoke")
    cells = smoke.cells(200)
    ids = [cell.id for cell in cells]
    assert len(ids) == len(set(ids))
    families = Counter(cell.family for cell in cells)
    assert families["cipher-differential"] == 400 and families["isakmp-fuzz"] == 40 and families["copy-rtl"] == 6
    for cell in cells[::97]:
        assert cell_from_id(cell.id) == cell
    rtl = smoke.cell("smoke/copy-rtl/verilator/default/slow_random/5")
    assert rtl.build_params == {"burst_words": 128} and rtl.configuration == "default(burst_words=128)"
    small = smoke.cell("smoke/driver-rings/model/small/zero_wait/0")
    assert small.build_params == {"burst_words": 16, "channels": 4}
    for bad, message in (("smoke/nope/model/default/zero_wait/1", "no family 'nope'"),
                         ("smoke/copy-rtl/icarus/default/zero_wait/1", "no simulator 'icarus'"),
                         ("smoke/copy-rtl/verilator/default/zero_wait/x", "not a non-negative integer"),
                         ("smoke/copy-rtl/verilator", "expected smoke/FAMILY/SIMULATOR/BUILD/MEMORY/SEED")):
        with pytest.raises(ValueError, match=message):
            smoke.cell(bad)
    with pytest.raises(ValueError, match="no campaign 'nightly-x'; campaigns: "):
        load_campaign("nightly-x")


@pytest.mark.parametrize("text, message", [
    ('[[cells]]\nname = "a"\nkind = "check"\nsimulators = ["spice"]\n', "simulator 'spice'"),
    ('[[cells]]\nname = "a"\nkind = "bake"\nsimulators = ["model"]\n', "kind 'bake'"),
    ('[[cells]]\nname = "a"\nkind = "fuzz"\nsimulators = ["verilator"]\n', "fuzz cells run on the model only"),
    ('[[cells]]\nname = "a"\nkind = "check"\nsimulators = ["model"]\nmemories = ["slow_random"]\n',
     "the model bus has only zero_wait"),
    ('[[cells]]\nname = "a"\nkind = "check"\nsimulators = ["model"]\nbuilds = ["huge"]\n', "build 'huge'"),
    ('description = "x"\n', "no \\[\\[cells\\]\\]"),
])
def test_campaign_file_errors(tmp_path, text, message):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_campaign(str(path))


def test_length_classes_and_job_bins():
    assert [length_class(n, 8) for n in (0, 3, 7, 8, 9, 64, 576, 1400, 65536, 100)] == \
        ["0", "1-15", "block-1", "block", "block+1", "64", "576", "1400", "max", None]
    assert [length_class(n) for n in (15, 16, 17, 14)] == ["block-1", "block", "block+1", "1-15"]
    cipher = Channel(3, Service.CIPHER, CipherAlg.AES128, Direction.DECODE, block_bytes=16)
    job = Job(Opcode.DECODE, [(0x1000, 12), (0x2000, 8)], (0x3000, 32), skip=8, cipher=cipher)
    sample = job_sample(JobResult(1, ResultStatus.MAC_MISMATCH, 0, None, job), "slow_random")
    assert sample == {"opcode": "DECODE", "status": "MAC_MISMATCH", "memory": "slow_random", "segments": "2-4",
                      "cipher_alg": "AES128", "length": "1-15"}
    assert set(bins_of(sample)) == {"cipher:DECODE/AES128/1-15", "status:DECODE/MAC_MISMATCH",
                                    "memory:slow_random/DECODE"}
    mac = Channel(1, Service.MAC, MacAlg.SHA1, Direction.ENCODE, icv_bytes=20)
    hashed = job_sample(JobResult(2, ResultStatus.OK, 20, None, Job(Opcode.HASH, (0, 576), (0, 20), mac=mac)),
                        "zero_wait")
    assert bins_of(hashed) == ["hash:HASH/SHA1/576", "status:HASH/OK", "memory:zero_wait/HASH"]
    assert "status:ENCODE/MAC_MISMATCH" in IMPOSSIBLE and "status:DECODE/MAC_MISMATCH" not in IMPOSSIBLE
    possible = [b for b in BINS if b not in IMPOSSIBLE]
    assert coverage_fraction(Counter()) == 0 and coverage_fraction(Counter(possible)) == 1
    hits = Counter({"status:DECODE/MAC_MISMATCH": 2, "status:ENCODE/MAC_MISMATCH": 1})
    assert coverage_fraction(hits) == 1 / len(possible)
    assert "status:DECODE/MAC_MISMATCH" not in holes(hits) and "status:ENCODE/MAC_MISMATCH" not in holes(hits)
    assert len(holes(hits)) == len(possible) - 1


def test_scatter_gather_check_takes_every_seed(monkeypatch):
    """A defect the campaign's seeds found: for seed 1 the check drew fewer
    source dwords than the 8 destination pieces it cuts them into."""
    monkeypatch.setenv(SEED_ENV, "1")
    asyncio.run(driver_suite_rings.check_copy_scatter_gather(ModelBus()))


def test_model_cells_pass_and_the_test_fault_fails_the_cipher_cell(monkeypatch):
    """One cell of each model kind passes and samples bins; with the test-only
    fault (576-byte cipher regions corrupted) the cipher cell fails on the
    576-byte ENCODE, and the same cell without it passes again."""
    cells = {name: cell_from_id(f"smoke/{name}/model/{build}/zero_wait/3") for name, build in
             (("cipher-differential", "small"), ("hash-copy-differential", "default"),
              ("driver-rings", "small"), ("two-router-traffic", "default"))}
    for name, cell in cells.items():
        result = run_cell(cell)
        assert result["verdict"] == "pass", (name, result["failing_check"], result["message"])
        assert result["bins"] and result["seed"] == 3 and result["cell_id"] == cell.id
        assert result["versions"]["pacsim"]
        if cell.kind == "check":
            assert result["clocks"] > 0
    faulty = run_cell(cells["cipher-differential"], {FAULT_ENV: "cipher_payload=576"})
    assert faulty["verdict"] == "fail" and faulty["failing_check"] == "check_cipher_differential"
    assert "576 bytes: ENCODE differs from the reference" in faulty["message"]
    assert run_cell(cells["cipher-differential"])["verdict"] == "pass"
    monkeypatch.setenv(FAULT_ENV, "cipher_payload=lots")
    with pytest.raises(ValueError, match="PACSIM_TEST_FAULT='cipher_payload=lots': expected cipher_payload=N"):
        cipher_fault_length()
