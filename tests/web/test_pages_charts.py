"""Dashboard charts: inline, accessible SVG drawn from the figures given."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

from ctip.web.pages.charts import bar_chart, line_chart


def test_bar_chart_is_accessible_svg_with_the_categories() -> None:
    svg = str(
        bar_chart(
            [("Screening", 3), ("Referred", 7)], label="Cases by status <all>", value_title="Cases"
        )
    )
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert root.get("role") == "img"
    assert (
        root.get("aria-label") == "Cases by status <all>"
    )  # escaped in the markup, intact when parsed
    assert "Screening" in svg and "Referred" in svg
    assert "http" not in svg.replace("http://www.w3.org", "")  # nothing fetched from elsewhere


def test_line_chart_and_empty_inputs() -> None:
    svg = str(
        line_chart(
            [(date(2026, 1, 31), 2), (date(2026, 2, 28), 5)],
            label="Caseload",
            value_title="Open cases",
            time_title="Month",
        )
    )
    assert ElementTree.fromstring(svg).get("aria-label") == "Caseload"
    assert str(bar_chart([], label="x", value_title="y")) == ""
    assert str(line_chart([], label="x", value_title="y", time_title="z")) == ""
