# Ref: docs/regress.md "Results"; DuckDB SQL (CREATE TABLE, INSERT OR IGNORE)
"""The results file: one DuckDB database kept across campaigns.

Tables: ``campaigns`` (one row per run: ``run_id``, ``campaign``,
``started``, ``seeds``, ``workers``, ``address``, totals, ``wall_s``,
``coverage``, ``versions``), ``cells`` (one row per cell of a run, the key
``(run_id, cell_id)``: a cell is never stored twice; its configuration,
simulator, memory, seed, verdict, failing check, message, clocks, wall
time, versions, worker and coverage bins as JSON) and ``coverage``
(``run_id``, ``bin``, ``hits``: the run's bins merged over its cells).
"""
import json
import uuid
from collections import Counter
from datetime import datetime, timezone

__all__ = ["Results", "CELL_COLUMNS"]

#: Columns of ``cells`` after ``run_id``, in order; the keys of a cell result.
CELL_COLUMNS = ("cell_id", "campaign", "family", "kind", "simulator", "configuration", "memory", "seed", "verdict",
                "failing_check", "message", "clocks", "wall_s", "versions", "bins", "worker")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    run_id VARCHAR PRIMARY KEY, campaign VARCHAR, started TIMESTAMP, seeds INTEGER, workers INTEGER,
    address VARCHAR, cells INTEGER, passed INTEGER, failed INTEGER, wall_s DOUBLE, coverage DOUBLE,
    versions VARCHAR);
CREATE TABLE IF NOT EXISTS cells (
    run_id VARCHAR, cell_id VARCHAR, campaign VARCHAR, family VARCHAR, kind VARCHAR, simulator VARCHAR,
    configuration VARCHAR, memory VARCHAR, seed INTEGER, verdict VARCHAR, failing_check VARCHAR, message VARCHAR,
    clocks BIGINT, wall_s DOUBLE, versions VARCHAR, bins VARCHAR, worker VARCHAR, PRIMARY KEY (run_id, cell_id));
CREATE TABLE IF NOT EXISTS coverage (run_id VARCHAR, bin VARCHAR, hits BIGINT, PRIMARY KEY (run_id, bin));
"""


class Results:
    """The database at ``path`` (created if new), for one run of ``campaign``."""

    def __init__(self, path, campaign: str, *, seeds: int, workers: int, address: str | None):
        import duckdb
        self.db = duckdb.connect(str(path))
        self.db.execute(_SCHEMA)
        self.run_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.campaign = campaign
        self.db.execute("INSERT INTO campaigns (run_id, campaign, started, seeds, workers, address) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [self.run_id, campaign, datetime.now(timezone.utc).replace(tzinfo=None), seeds, workers,
                         address])

    def add(self, result: dict) -> bool:
        """Store one cell result; False if the run already has that cell (nothing is stored twice)."""
        known = self.db.execute("SELECT count(*) FROM cells WHERE run_id = ? AND cell_id = ?",
                                [self.run_id, result["cell_id"]]).fetchone()[0]
        if known:
            return False
        row = [result.get(column) for column in CELL_COLUMNS]
        for i, column in enumerate(CELL_COLUMNS):
            if column in ("versions", "bins"):
                row[i] = json.dumps(row[i], sort_keys=True)
        self.db.execute(f"INSERT INTO cells VALUES (?, {', '.join('?' for _ in CELL_COLUMNS)})", [self.run_id, *row])
        return True

    def hits(self) -> Counter:
        """The run's coverage hits, merged over its cells."""
        merged = Counter()
        for (bins,) in self.db.execute("SELECT bins FROM cells WHERE run_id = ?", [self.run_id]).fetchall():
            merged.update(json.loads(bins))
        return merged

    def finish(self, wall_s: float, coverage: float, versions: dict) -> dict:
        """Store the merged coverage and the run's totals; return the totals."""
        hits = self.hits()
        self.db.executemany("INSERT INTO coverage VALUES (?, ?, ?)",
                            [[self.run_id, name, count] for name, count in sorted(hits.items())])
        cells, passed = self.db.execute("SELECT count(*), count(*) FILTER (WHERE verdict = 'pass') FROM cells "
                                        "WHERE run_id = ?", [self.run_id]).fetchone()
        self.db.execute("UPDATE campaigns SET cells = ?, passed = ?, failed = ?, wall_s = ?, coverage = ?, "
                        "versions = ? WHERE run_id = ?",
                        [cells, passed, cells - passed, wall_s, coverage, json.dumps(versions, sort_keys=True),
                         self.run_id])
        return {"cells": cells, "passed": passed, "failed": cells - passed}

    def failures(self) -> list:
        """``(cell_id, failing_check, message)`` of the run's failed cells."""
        return self.db.execute("SELECT cell_id, failing_check, message FROM cells WHERE run_id = ? AND "
                               "verdict <> 'pass' ORDER BY cell_id", [self.run_id]).fetchall()

    def close(self) -> None:
        self.db.close()
