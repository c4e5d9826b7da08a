# Ref: ../shared/DESIGN.md (toolchain: Icarus, GTKWave, tshark)
"""The programs some tests run (tshark, Icarus Verilog, fst2vcd): CI has
them all, so a missing one fails the test that needs it, naming the Debian
package to install, instead of skipping it. No tests of its own."""
import shutil

import pytest


def required_tool(program: str, package: str) -> str:
    """The path of ``program``; fails the calling test when it is not on
    PATH (``package``: the Debian package that provides it)."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is not installed (Debian package: {package}); this test needs it", pytrace=False)
    return path
