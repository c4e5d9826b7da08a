# Ref: docs/regress.md "Report"; HTML 5 and SVG 1.1 (inline, no external resources)
"""The HTML report of one run, from the results file: pass rate by axis,
simulated PCI clocks per second by simulator, coverage by cross with its
holes, the slowest cells, the failures with their rerun commands and the
pass rate of earlier runs of the campaign. Plots are inline SVG bar charts;
the page loads nothing from elsewhere.
"""
import html
import json
from collections import Counter, defaultdict

from .coverage import BINS, CROSSES, IMPOSSIBLE

__all__ = ["render_report", "bar_chart"]

#: Axes the pass rate is broken down by (columns of ``cells``).
AXES = ("simulator", "configuration", "memory", "family", "kind")
#: Holes listed per cross (the rest are counted).
HOLES_SHOWN = 40
_STYLE = """body{font-family:sans-serif;margin:2em;color:#222} table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:left} th{background:#eee} .fail{color:#b00}
.holes{font-family:monospace;font-size:90%} svg{display:block;margin:0.5em 0}"""


def bar_chart(title: str, bars, unit: str = "", maximum: float | None = None) -> str:
    """An SVG horizontal bar chart of ``bars`` (``[(label, value)]``), values labelled with ``unit``."""
    bars = list(bars)
    top = maximum if maximum is not None else max([value for _, value in bars] + [1e-9])
    height, label_w, bar_w = 22, 260, 360
    rows = []
    for i, (label, value) in enumerate(bars):
        y = 24 + i * height
        width = 0 if not top else bar_w * value / top
        rows.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{html.escape(str(label))}'
                    f'</text><rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{height - 6}" fill="#4a7ebb"/>'
                    f'<text x="{label_w + width + 4:.1f}" y="{y + 15}" font-size="12">{value:.3g}{unit}</text>')
    total_h = 30 + height * len(bars)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" height="{total_h}" '
            f'role="img" aria-label="{html.escape(title)}"><text x="4" y="16" font-size="14" font-weight="bold">'
            f'{html.escape(title)}</text>{"".join(rows)}</svg>')


def _table(headers, rows, row_class=None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = []
    for row in rows:
        css = f' class="{row_class(row)}"' if row_class and row_class(row) else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
                    + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _pass_rates(db, run_id) -> str:
    parts = []
    for axis in AXES:
        rows = db.execute(f"SELECT {axis}, count(*), count(*) FILTER (WHERE verdict = 'pass') FROM cells "
                          f"WHERE run_id = ? GROUP BY {axis} ORDER BY {axis}", [run_id]).fetchall()
        parts.append(bar_chart(f"Pass rate by {axis}", [(value, 100 * passed / n) for value, n, passed in rows],
                               "%", maximum=100))
        parts.append(_table((axis, "cells", "passed", "pass rate"),
                            [(value, n, passed, f"{100 * passed / n:.1f}%") for value, n, passed in rows]))
    return "".join(parts)


def _clock_rates(db, run_id) -> str:
    rows = db.execute("SELECT simulator, sum(clocks), sum(wall_s) FROM cells WHERE run_id = ? AND clocks IS NOT NULL "
                      "GROUP BY simulator ORDER BY simulator", [run_id]).fetchall()
    rates = [(simulator, clocks / wall if wall else 0.0) for simulator, clocks, wall in rows]
    return (bar_chart("Simulated PCI clocks per second of wall time", rates, " clk/s")
            + _table(("simulator", "PCI clocks", "wall s", "clocks/s"),
                     [(s, c, f"{w:.2f}", f"{c / w if w else 0:.0f}") for s, c, w in rows]))


def _coverage(hits: Counter) -> str:
    per_cross = defaultdict(lambda: [0, 0, []])
    for name in BINS:
        cross = name.split(":", 1)[0]
        if name in IMPOSSIBLE:
            continue
        per_cross[cross][1] += 1
        if hits.get(name):
            per_cross[cross][0] += 1
        else:
            per_cross[cross][2].append(name.split(":", 1)[1])
    chart = bar_chart("Coverage by cross (possible bins hit)",
                      [(cross, 100 * hit / total) for cross, (hit, total, _) in per_cross.items()], "%", maximum=100)
    rows = []
    for cross, (hit, total, holes) in per_cross.items():
        shown = ", ".join(holes[:HOLES_SHOWN]) + (f" ... and {len(holes) - HOLES_SHOWN} more"
                                                  if len(holes) > HOLES_SHOWN else "")
        impossible = sum(1 for b in IMPOSSIBLE if b.startswith(f"{cross}:"))
        rows.append(f"<tr><td>{cross}</td><td>{' x '.join(CROSSES[cross])}</td><td>{hit}/{total}</td>"
                    f"<td>{impossible}</td><td class='holes'>{html.escape(shown) or '(none)'}</td></tr>")
    return (chart + "<table><tr><th>cross</th><th>axes</th><th>hit</th><th>declared impossible</th>"
            f"<th>holes</th></tr>{''.join(rows)}</table>")


def render_report(db, run_id: str, rerun_prefix: str = "") -> str:
    """The report of run ``run_id`` of the DuckDB connection ``db``, as an HTML page."""
    campaign, started, cells, passed, failed, wall_s, coverage, versions = db.execute(
        "SELECT campaign, started, cells, passed, failed, wall_s, coverage, versions FROM campaigns "
        "WHERE run_id = ?", [run_id]).fetchone()
    hits = Counter(dict(db.execute("SELECT bin, hits FROM coverage WHERE run_id = ?", [run_id]).fetchall()))
    slowest = db.execute("SELECT cell_id, verdict, clocks, round(wall_s, 3) FROM cells WHERE run_id = ? "
                         "ORDER BY wall_s DESC LIMIT 10", [run_id]).fetchall()
    failures = db.execute("SELECT cell_id, failing_check, message FROM cells WHERE run_id = ? AND verdict <> 'pass' "
                          "ORDER BY cell_id", [run_id]).fetchall()
    history = db.execute("SELECT run_id, cells, passed, round(coverage * 100, 1) FROM campaigns WHERE campaign = ? "
                         "AND cells IS NOT NULL ORDER BY started DESC LIMIT 20", [campaign]).fetchall()
    failure_rows = [(cell, check, (message or "")[:300], f"{rerun_prefix}pacsim regress --rerun {cell} --waves DIR")
                    for cell, check, message in failures]
    summary = _table(("campaign", "run", "started", "cells", "passed", "failed", "wall s", "coverage", "versions"),
                     [(campaign, run_id, started, cells, passed, failed, f"{wall_s:.1f}", f"{100 * coverage:.1f}%",
                       ", ".join(f"{k} {v}" for k, v in json.loads(versions or "{}").items()))])
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>pacsim regress {html.escape(campaign)}"
            f"</title><style>{_STYLE}</style></head><body><h1>Campaign {html.escape(campaign)}</h1>{summary}"
            f"<h2>Failures</h2>"
            + (_table(("cell", "failing check", "message", "reproduce"), failure_rows, lambda row: "fail")
               if failure_rows else "<p>none</p>")
            + f"<h2>Pass rate by axis</h2>{_pass_rates(db, run_id)}"
            f"<h2>Simulation speed</h2>{_clock_rates(db, run_id)}"
            f"<h2>Functional coverage</h2>{_coverage(hits)}"
            f"<h2>Slowest cells</h2>{_table(('cell', 'verdict', 'PCI clocks', 'wall s'), slowest)}"
            f"<h2>Earlier runs of {html.escape(campaign)}</h2>"
            f"{_table(('run', 'cells', 'passed', 'coverage %'), history)}</body></html>\n")
