# Ref: Verilator 5 manual, "Connecting to C++" (a C++ main on the Verilated model); sim/host_script.cpp
"""Build and run the pure C++ Verilator harness (``sim/host_script.cpp``) on a cocotb build.

The harness links the Verilated bench of a Verilator build folder (its
``Vtop__ALL.a`` and the Verilator runtime objects) with the script player
instead of cocotb's main. The binary lives in that build folder under a
name keyed by the player source's digest, so it compiles once per build
and player version.
"""
import hashlib
import json
import os
import subprocess
from pathlib import Path

__all__ = ["PLAYER_SOURCE", "build_player", "play"]

#: The C++ script player.
PLAYER_SOURCE = Path(__file__).with_name("host_script.cpp")
#: Verilator runtime objects of a cocotb build that the player links against (every build is trace-capable:
#: its model refers to the FST writer, linked too, with zlib and lz4, though the player never opens a dump).
RUNTIME_OBJECTS = ("verilated.o", "verilated_dpi.o", "verilated_vpi.o", "verilated_threads.o", "verilated_fst_c.o",
                   "Vtop__ALL.a")
DEFINES = ("VERILATOR=1", "VM_COVERAGE=0", "VM_SC=0", "VM_TIMING=0", "VM_TRACE=0", "VM_TRACE_FST=0",
           "VM_TRACE_VCD=0", "VM_TRACE_SAIF=0")


def _verilator_include() -> Path:
    root = os.environ.get("VERILATOR_ROOT") or subprocess.run(
        ["verilator", "--getenv", "VERILATOR_ROOT"], check=True, capture_output=True, text=True).stdout.strip()
    return Path(root) / "include"


def build_player(build_dir: Path) -> Path:
    """Compile the player against Verilator build ``build_dir`` (once); return the binary."""
    digest = hashlib.sha256(PLAYER_SOURCE.read_bytes()).hexdigest()[:12]
    binary = build_dir / f"host_script-{digest}"
    if binary.exists():
        return binary
    include = _verilator_include()
    objects = [str(build_dir / name) for name in RUNTIME_OBJECTS]
    partial = binary.with_suffix(".partial")
    command = ["c++", "-Os", f"-I{build_dir}", f"-I{include}", f"-I{include / 'vltstd'}",
               *(f"-D{define}" for define in DEFINES), str(PLAYER_SOURCE), *objects, "-lpthread", "-lz", "-llz4", "-o", str(partial)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the C++ harness did not compile:\n{result.stderr[-4000:]}")
    partial.rename(binary)
    return binary


def play(build_dir: Path, script: Path) -> dict:
    """Run ``script`` (a :mod:`.host_script` recording) on the build; return the player's figures.

    Raises :class:`RuntimeError` if the player found host memory differing
    from the cocotb run's, a protocol violation, or a hung bridge.
    """
    result = subprocess.run([str(build_player(build_dir)), str(script)], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f"the C++ harness failed ({result.returncode}): {result.stdout} {result.stderr[-2000:]}")
    return json.loads(result.stdout)
