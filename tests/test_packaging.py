"""pyproject.toml lists every package of the source tree (a wheel or a
non-editable install carries only the listed ones), and nothing else."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_directory_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for package, folder in config["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            if "__pycache__" not in relative.parts:
                found.add(".".join((package, *relative.parts)))
    assert found == listed, f"missing from pyproject.toml: {sorted(found - listed)}; listed but absent: " \
                            f"{sorted(listed - found)}"
