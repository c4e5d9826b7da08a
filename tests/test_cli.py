"""The ``pacsim`` command line: verilog, regmap, demo (with waves), bench and lzs."""
import json
import re
import subprocess
import sys

import pytest

from required_tools import required_tool
from pacsim.contract.regmap import BAR0, CONFIG
from pacsim.hdl.pci_port import PciSignature
from pacsim.sim.synth import synthesise
from pacsim.sim.waves import SIGNAL_GROUPS, signal_path


def pacsim(*args, timeout=600):
    result = subprocess.run([sys.executable, "-m", "pacsim.cli", *args], capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"pacsim {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_verilog_has_the_pci_ports_and_compiles(tmp_path):
    out = tmp_path / "card.v"
    pacsim("verilog", "-o", str(out))
    text = out.read_text()
    header = re.search(r"module pac_card\((.*?)\);", text, re.S).group(1)
    ports = {p.strip() for p in header.split(",")}
    assert ports == set(PciSignature().members) | {"clk", "rst_n"}
    subprocess.run([required_tool("iverilog", "iverilog"), "-g2005", "-o", str(tmp_path / "card.vvp"), str(out)],
                   check=True)


def test_regmap_lists_every_register_and_field():
    text = pacsim("regmap")
    for regmap in (CONFIG, BAR0):
        for reg in regmap:
            assert f"**{reg.name}**" in text
            for field in reg.fields:
                assert f"`{field.name}`" in text


@pytest.mark.slow
def test_demo_with_waves(tmp_path):
    text = pacsim("demo", "--waves", str(tmp_path))
    assert "protocol checker: clean" in text
    assert text.count(" yes ") == 3 and " NO " not in text
    assert "BAD_DESCRIPTOR" in text
    assert "matches cryptography/hmac; opened intact; corrupted ICV: MAC_MISMATCH" in " ".join(text.split())
    joined = " ".join(text.split())
    assert "chosen transform: AES128 SHA1 MODP group 0 PRE_SHARED_KEY" in joined
    assert joined.count("encrypted on the card (AES-CBC)") == 2 + 3 and joined.count("KE NONCE") == 2
    assert joined.count(": QUICK, ") == 3
    assert re.search(r"DH on the public-key unit: [1-9]\d* clocks \(4 modular exponentiations\)", joined)
    assert "of both sides match the RFC 2409 reference" in joined
    assert re.search(r"quick mode: ESP AES128 SHA TUNNEL, SPIs 0x[0-9a-f]{8} out, 0x[0-9a-f]{8} in; KEYMAT of both "
                     r"sides, both directions match the RFC 2409 5.5 reference", joined)
    dump, save = tmp_path / "pacsim_tb.fst", tmp_path / "pacsim.gtkw"
    assert dump.stat().st_size > 0 and save.exists()
    header = subprocess.run([required_tool("fst2vcd", "gtkwave"), str(dump)], capture_output=True, text=True).stdout
    header = header[:header.index("$enddefinitions")]
    names, scope = set(), []
    for line in header.splitlines():
        words = line.split()
        if words[:1] == ["$scope"]:
            scope.append(words[2])
        elif words[:1] == ["$upscope"]:
            scope.pop()
        elif words[:1] == ["$var"]:
            width = int(words[2])
            names.add(".".join(scope + [words[4]]) + (words[5] if width > 1 else ""))
    saved = set(save.read_text().splitlines())
    for signals in SIGNAL_GROUPS.values():
        for signal, width in signals:
            path = signal_path("pacsim_tb", signal, width)
            assert path in saved
            assert path in names, f"{path} is not in the dump"


@pytest.mark.slow
def test_bench_dma_json():
    rows = [json.loads(line) for line in pacsim("bench", "dma", "--json", "--bytes", "8192").splitlines()]
    assert [row["bus"] for row in rows] == ["rtl", "model"]
    keys = {"bench", "bus", "simulator", "bytes", "pci_clocks", "bytes_per_clock", "bus_utilization",
            "wall_s", "sim_clocks_per_second"}
    for row in rows:
        assert keys <= set(row)
        assert row["bench"] == "dma" and row["bytes"] == 8192
        assert row["bytes_per_clock"] == pytest.approx(8192 / row["pci_clocks"], rel=1e-3)
        assert 0 < row["bus_utilization"] <= 1


def test_readme_register_map_is_generated_from_the_map():
    from pathlib import Path

    from pacsim.cli import REGMAP_BEGIN, REGMAP_END, render_regmap
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme.split(REGMAP_BEGIN, 1)[1].split(REGMAP_END, 1)[0]
    assert block.strip() == render_regmap().strip(), "run: pacsim regmap --update README.md"


@pytest.mark.slow
def test_bench_crypto_json():
    lines = pacsim("bench", "crypto", "--json", "--alg", "des-cbc+hmac-md5-96", "--sizes", "64").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["bus"] for row in rows] == ["rtl", "model"]
    keys = {"bench", "bus", "alg", "packet_bytes", "engine_clocks_per_block", "bytes_per_pci_clock",
            "mbit_s_at_33mhz", "core_clock_mhz", "sim_clocks_per_second"}
    for row in rows:
        assert keys <= set(row) and row["bench"] == "crypto" and row["packet_bytes"] == 64
        assert row["mbit_s_at_33mhz"] == pytest.approx(row["bytes_per_pci_clock"] * 8 * row["core_clock_mhz"],
                                                       rel=1e-2)


def test_synth_reports_area():
    rows = [json.loads(line) for line in pacsim("synth", "--json", "pci_target", "des").splitlines()]
    assert [row["synth"] for row in rows] == ["pci_target", "des"]
    for row in rows:
        assert row["cells"] > row["flip_flops"] > 0


@pytest.mark.slow
def test_synth_fpga_ecp5_places_and_routes_des():
    """DES on the ECP5: the issue's keys; its 16 S-box rounds need LUTs and
    flip-flops but no block RAM or multiplier; its clock is known."""
    (row,) = [json.loads(line) for line in pacsim("synth", "--fpga", "ecp5", "--json", "des").splitlines()]
    assert row["synth"] == "des" and row["fpga"] == "LFE5UM-85F-CABGA381" and row["fits"] is True
    generic = synthesise("des")
    # every generic flip-flop maps to one ECP5 register; LUT4s: at least one per 4 generic cells
    assert row["registers"] == generic["flip_flops"]
    assert generic["cells"] / 4 < row["luts"] < 84_000 - 1
    assert row["bram"] == 0 and row["dsp"] == 0
    assert 5 < row["fmax_mhz"] < 500 and row["meets_33mhz"] == (row["fmax_mhz"] >= 33)
    assert row["synth_s"] > 0 and row["pnr_s"] > 0
    assert re.fullmatch(r"\S+ -> \S+ \([1-9][0-9]* logic levels\)", row["critical_path"])


@pytest.mark.slow
def test_bench_pk_json():
    """One short modexp on both buses: the issue's keys; the model's clocks
    are the engine's formula, so RTL and model agree exactly."""
    rows = [json.loads(line) for line in pacsim("bench", "pk", "--json", "--pk", "768:160").splitlines()]
    assert [row["bus"] for row in rows] == ["rtl", "model"]
    for row in rows:
        assert {"bench", "bus", "bits", "exponent_bits", "clocks", "ms_at_core_clock"} <= set(row)
        assert (row["bench"], row["bits"], row["exponent_bits"]) == ("pk", 768, 160)
        assert row["ms_at_core_clock"] == pytest.approx(row["clocks"] / 33_000, rel=1e-2)
    assert rows[0]["clocks"] == rows[1]["clocks"]


@pytest.mark.slow
def test_bench_lzs_json():
    rows = [json.loads(line) for line in pacsim("bench", "lzs", "--json", "--corpus", "text", "random").splitlines()]
    assert [(row["bus"], row["corpus"]) for row in rows] == [("rtl", "text"), ("rtl", "random"),
                                                             ("model", "text"), ("model", "random")]
    for row in rows:
        assert {"bench", "bus", "corpus", "bytes_in", "bytes_out", "ratio", "bytes_per_pci_clock"} <= set(row)
        assert row["ratio"] == pytest.approx(row["bytes_out"] / row["bytes_in"], abs=1e-3)
    assert rows[0]["bytes_out"] == rows[2]["bytes_out"] < rows[0]["bytes_in"]     # the model is bit-exact
    assert rows[1]["ratio"] == 1.0                                               # random: sent uncompressed


@pytest.mark.parametrize("bus", ["model", pytest.param("rtl", marks=pytest.mark.slow)])
def test_lzs_file_round_trip(tmp_path, bus):
    """A file through the card's compressor, then its decompressor, on one
    bus; the stream also decodes with the software reference."""
    from pacsim.reference import lzs
    data = (b"The quick brown fox jumps over the lazy dog. " * 40)[:1777]
    source, packed, unpacked = tmp_path / "in.txt", tmp_path / "in.lzs", tmp_path / "out.txt"
    source.write_bytes(data)
    subprocess.run([sys.executable, "-m", "pacsim.cli", "lzs", "compress", str(source), str(packed), "--bus", bus],
                   check=True, capture_output=True, timeout=600)
    assert len(packed.read_bytes()) < len(data) and lzs.decompress(packed.read_bytes(), len(data)) == data
    subprocess.run([sys.executable, "-m", "pacsim.cli", "lzs", "decompress", str(packed), str(unpacked),
                    "--bus", bus, "--limit", "4096"], check=True, capture_output=True, timeout=600)
    assert unpacked.read_bytes() == data
