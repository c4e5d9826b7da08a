"""``show isakmp counters`` (spec/show-outputs.md §11): every one of the
twelve figures (48-26 to 48-37) reproduced from counter snapshots holding
the figure's own values, read from the manual's text in reading order;
the schema refuses a misspelt name; a figure that would drop or invent a
counter raises."""
import re

import pytest
from shared_docs import shared_file

from pacsim.firmware.isakmp.counters import CATEGORIES, COUNTER_SCHEMAS, IsakmpCounters
from pacsim.firmware.state.counters import CounterSnapshot, UnknownCounter
from pacsim.firmware.views.alliedware.isakmp_counters import FIGURES, Rows, show_isakmp_counters


def manual_figure(heading):
    """The verbatim figure under ``heading`` in show-outputs.md, lines right-stripped."""
    text = shared_file("spec/show-outputs.md").read_text()
    figure = text[text.index(heading):].split("```text\n", 1)[1].split("```", 1)[0]
    return [line.rstrip() for line in figure.rstrip("\n").splitlines()]


def figure_snapshots(category, lines):
    """The figure's values (every stand-alone number, reading order) as snapshots of the category's blocks."""
    values = [int(v) for v in re.findall(r"(?<=\s)(\d+)(?=\s|$)", "\n".join(lines))]
    blocks = {}
    for block, schema in COUNTER_SCHEMAS.items():
        if block.split(".")[0] == category:
            blocks[block] = CounterSnapshot(schema, tuple(values[:len(schema.names)]))
            values = values[len(schema.names):]
    assert not values, f"the figure of {category} has more counters than the schema"
    return blocks


@pytest.mark.parametrize("number, category", list(enumerate(CATEGORIES, 1)))
def test_each_figure_is_reproduced(number, category):
    figure = manual_figure(f"### 11.{number} ")
    assert show_isakmp_counters({category: figure_snapshots(category, figure)}).splitlines() == figure


def test_several_categories_print_in_the_order_asked_with_a_blank_line_between():
    spd, xdb = manual_figure("### 11.10 "), manual_figure("### 11.12 ")
    out = show_isakmp_counters({"xdb": figure_snapshots("xdb", xdb), "spd": figure_snapshots("spd", spd)})
    assert out.splitlines() == xdb + [""] + spd


def test_live_counters_appear_where_the_figure_puts_them():
    counters = IsakmpCounters()
    counters.increment("main", "respSendKE", 3)
    counters.increment("xdb", ("getXchgByPeer", "Failed"))
    main = show_isakmp_counters({"main": {"main": counters.snapshot("main")}}).splitlines()
    assert main[10] == "respSendSA                  0  respSendKE                  3"
    xdb = show_isakmp_counters({"xdb": {"xdb": counters.snapshot("xdb")}}).splitlines()
    assert xdb[11] == "  getXchgByPeer                      0            1"


def test_a_misspelt_counter_raises():
    counters = IsakmpCounters()
    with pytest.raises(UnknownCounter, match="respSendKe"):
        counters.increment("main", "respSendKe")
    with pytest.raises(UnknownCounter):
        counters.get("mian", "respSendKE")


def test_reset_clears_the_categories_asked_only():
    counters = IsakmpCounters()
    for group in COUNTER_SCHEMAS:
        counters.increment(group, COUNTER_SCHEMAS[group].names[0])
    counters.reset(("quick", "main"))
    assert {group for group, _ in counters.nonzero()} == {g for g in COUNTER_SCHEMAS
                                                          if g.split(".")[0] not in ("quick", "main")}
    counters.reset()
    assert counters.nonzero() == {}


def test_a_figure_that_drops_or_invents_a_counter_raises(monkeypatch):
    snapshots = figure_snapshots("spd", manual_figure("### 11.10 "))
    layout = FIGURES["spd"][1][1].layout
    monkeypatch.setitem(FIGURES, "spd", ("ISAKMP Policy Counters", (Rows("spd", "2222", layout),)))
    with pytest.raises(ValueError, match="8 of the 10"):
        show_isakmp_counters({"spd": snapshots})
    monkeypatch.setitem(FIGURES, "spd", ("ISAKMP Policy Counters", (Rows("spd", "222222", layout),)))
    with pytest.raises(ValueError, match="more counters"):
        show_isakmp_counters({"spd": snapshots})
