# Ref: cocotb 2.x runner (results handed back through a file)
"""Hand results from a cocotb run back to the command that started it.

The command sets ``PACSIM_REPORT`` to a file path; the cocotb test calls
:func:`write_report` with a JSON-able dict; the command reads it back.
"""
import json
import os
from pathlib import Path

__all__ = ["write_report", "read_report", "REPORT_ENV"]

REPORT_ENV = "PACSIM_REPORT"


def write_report(report: dict) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        Path(path).write_text(json.dumps(report, indent=1))


def read_report(path) -> dict:
    return json.loads(Path(path).read_text())
