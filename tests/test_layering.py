"""The package layers: which pacsim package may import which, and that the
driver, the firmware, the contract and the references load no Amaranth.

Rules (``FORBIDDEN``): ``hdl`` never imports ``host``, ``firmware`` or
``sim``; ``host`` never imports ``sim``, ``firmware`` or ``hdl``;
``firmware`` never imports ``sim`` or ``hdl``; ``contract`` and
``reference`` import nothing of pacsim but each other (``reference`` may
import ``contract``, not the reverse). Imports are read from the source
(ast), so an import inside a function counts too.
"""
import ast
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SETUP = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
#: Top-level layer (``hdl``, ``host``, ...) -> its source folder.
LAYERS = {package.split(".")[1]: ROOT / folder
          for package, folder in _SETUP["package-dir"].items() if package.count(".") == 1}
ALL_LAYERS = frozenset(LAYERS) | {"cli"}
#: Layer -> the pacsim layers it must not import.
FORBIDDEN = {
    "hdl": {"host", "firmware", "sim"},
    "host": {"sim", "firmware", "hdl"},
    "firmware": {"sim", "hdl"},
    "contract": ALL_LAYERS - {"contract"},
    "reference": ALL_LAYERS - {"contract", "reference"},
}
#: Packages whose every module must import without loading Amaranth.
AMARANTH_FREE = ("pacsim.host", "pacsim.firmware", "pacsim.contract", "pacsim.reference")


def imported_layers(source: str, layer: str, module_parts: tuple) -> set:
    """The pacsim layers the Python ``source`` of a module imports.

    ``layer`` is the module's own layer and ``module_parts`` its package path
    inside the layer (for resolving relative imports: ``("engines",)`` for a
    module of ``pacsim.hdl.engines``). Absolute ``pacsim.<layer>`` imports and
    relative imports that climb out of the layer both count.
    """
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.ImportFrom):
            package = ["pacsim", layer, *module_parts]
            if node.level - 1 > len(package) - 1:
                raise ValueError(f"relative import beyond the pacsim package: level {node.level}")
            base = package[:len(package) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            names = [".".join(target)] if node.module else [".".join([*base, a.name]) for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "pacsim" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] == "pacsim":
                found |= {a.name for a in node.names if isinstance(node, ast.ImportFrom)} & ALL_LAYERS
    return found


def violations(source: str, layer: str, module_parts: tuple = ()) -> set:
    """The forbidden layers ``source`` (a module of ``layer``) imports."""
    return (imported_layers(source, layer, module_parts) - {layer}) & FORBIDDEN.get(layer, set())


def _sources():
    for layer, folder in LAYERS.items():
        if layer not in FORBIDDEN:
            continue
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).parent.parts
            if "__pycache__" not in parts:
                yield layer, parts, path


SOURCES = list(_sources())


@pytest.mark.parametrize("layer,parts,path", SOURCES, ids=[str(p.relative_to(ROOT)) for _, _, p in SOURCES])
def test_no_import_goes_the_wrong_way(layer, parts, path):
    wrong = violations(path.read_text(), layer, parts)
    assert not wrong, f"{path.relative_to(ROOT)} ({layer}) imports {sorted(wrong)}; expected none of " \
                      f"{sorted(FORBIDDEN[layer])}: move what it needs into pacsim.contract or pacsim.reference"


def test_every_layer_is_checked_and_has_sources():
    assert set(FORBIDDEN) <= set(LAYERS)
    for layer in FORBIDDEN:
        assert any(path for name, _, path in SOURCES if name == layer), layer


@pytest.mark.parametrize("layer,source,parts,expected", [
    ("hdl", "from ...host.drbg import CtrDrbg\n", ("engines",), {"host"}),
    ("hdl", "from ..sim import card_model\n", (), {"sim"}),
    ("hdl", "def f():\n    from pacsim.firmware.cli import grammar\n", (), {"firmware"}),
    ("hdl", "from ..contract.codes import Opcode\nfrom .engines import aes\n", (), set()),
    ("host", "import pacsim.hdl.card\n", (), {"hdl"}),
    ("host", "from .. import sim\n", (), {"sim"}),
    ("host", "from ..reference.lzs import compress\nfrom .errors import PacError\n", (), set()),
    ("firmware", "from ...sim.network import Network\n", ("router",), {"sim"}),
    ("firmware", "from ...hdl.layouts import CMD\n", ("ipsec",), {"hdl"}),
    ("firmware", "from ...host.device import PacDevice\n", ("enco",), set()),
    ("contract", "from ..reference.drbg import CtrDrbg\n", (), {"reference"}),
    ("contract", "from ..host.errors import PacError\n", (), {"host"}),
    ("reference", "from ..contract.rng import RESEED_INTERVAL\n", (), set()),
    ("reference", "from ..host.errors import InvalidArgument\n", (), {"host"}),
    ("reference", "from pacsim import hdl\n", (), {"hdl"}),
])
def test_checker_catches_violations(layer, source, parts, expected):
    assert violations(source, layer, parts) == expected


def _modules(package: str) -> list:
    folder = LAYERS[package.split(".")[1]]
    return [package] + [info.name for info in pkgutil.walk_packages([str(folder)], package + ".")]


AMARANTH_FREE_MODULES = [name for package in AMARANTH_FREE for name in _modules(package)]

_PROBE = """
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
    if "amaranth" in sys.modules:
        raise SystemExit(f"importing {name} loaded amaranth")
print("ok", len(sys.argv) - 1)
"""


def _probe(modules) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, cwd=ROOT)


def test_walk_finds_the_driver_and_firmware_modules():
    for name in ("pacsim.host.device", "pacsim.firmware.ipsec.sad", "pacsim.contract.regmap",
                 "pacsim.reference.drbg"):
        assert name in AMARANTH_FREE_MODULES


@pytest.mark.parametrize("package", AMARANTH_FREE)
def test_importing_every_module_leaves_amaranth_out(package):
    """Each module in a fresh interpreter of its own: one that loads Amaranth
    cannot hide behind another that was imported first."""
    for name in _modules(package):
        result = _probe([name])
        assert result.returncode == 0 and result.stdout.startswith("ok"), \
            f"{name}: {result.stderr.strip() or result.stdout.strip()}; expected no amaranth in sys.modules"


def test_probe_would_see_amaranth():
    result = _probe(["pacsim.hdl.card"])
    assert result.returncode != 0 and "loaded amaranth" in result.stderr
