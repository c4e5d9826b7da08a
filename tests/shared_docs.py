# Ref: ../shared/DESIGN.md, "References in shared/"
"""The project's reference documents beside the repository (``../shared``:
``spec/``, ``seeds/``, ``interop/``), for the tests that check against them.

:func:`shared_file` fails the test (never skips it) when the document is
missing, so a checkout without ``shared/`` cannot pass by skipping. The
directory is the ``shared`` folder next to the repository root or next to
one of its parents (a git worktree such as ``/work/wt/NAME`` finds
``/work/shared``). No tests of its own.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The nearest ``shared`` directory beside the repository root or one of
    its ancestors; fails the calling test if there is none."""
    for parent in ROOT.parents:
        candidate = parent / "shared"
        if (candidate / "spec").is_dir():
            return candidate
    pytest.fail(f"no shared/ reference directory (with spec/) beside {ROOT} or any parent of it; "
                "the tests that check against the manual need ../shared", pytrace=False)


def shared_file(relative: str) -> Path:
    """``shared/<relative>`` (e.g. ``"spec/show-outputs.md"``); fails the
    calling test when it does not exist."""
    path = shared_dir() / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: the test checks against it", pytrace=False)
    return path
