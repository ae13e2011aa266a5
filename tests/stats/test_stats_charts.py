"""Charts draw only what was published: a hidden cell is never drawn to scale."""

from __future__ import annotations

import pandas as pd

from ctip.stats import charts


def _published(rows):
    frame = pd.DataFrame(rows, columns=["origin", "destination", "count", "display"])
    frame["count"] = frame["count"].astype("Int64")
    return frame


def test_hidden_flows_all_get_the_same_width():
    frame = _published(
        [
            ("ROU", "MLT", 40, "40"),
            ("NGA", "MLT", None, "x"),
            ("PHL", "MLT", None, "x"),
            ("unknown", "MLT", 12, "12"),
        ]
    )
    bands = charts.sankey_layout(frame, hidden_width=2.5)["bands"]
    widths = (bands["y2"] - bands["y"]).groupby(bands["origin"]).first()
    assert widths["NGA"] == widths["PHL"] == 2.5
    assert widths["ROU"] == 40 and widths["unknown"] == 12
    nodes = charts.sankey_layout(frame, hidden_width=2.5)["nodes"]
    left = nodes[nodes["side"] == "origin"].sort_values("y")
    assert list(left["name"])[-1] == "unknown"  # unknown origins last
    assert (left["y"].diff().dropna() > 0).all()  # no overlapping nodes


def test_bars_leave_hidden_cells_out_and_label_them():
    frame = pd.DataFrame(
        {
            "unodc_form": ["sexual_exploitation", "begging", "unknown"],
            "count": pd.array([20, None, 7], dtype="Int64"),
            "display": ["20", "x", "7"],
        }
    )
    spec = charts.bar_chart(frame, "unodc_form", None, charts.FORM_LABELS).to_dict()
    datasets = spec["datasets"].values()
    drawn = [d for d in datasets if all("value" in r for r in d)]
    bars = [r for d in drawn for r in d if r.get("value") is not None]
    assert {r["unodc_form"] for r in bars} <= {"sexual_exploitation", "unknown"}
    assert any(r.get("display") == "x" for d in datasets for r in d)


def test_svg_renders_offline():
    frame = pd.DataFrame(
        {
            "year": ["2021", "2022", "2021", "2022"],
            "victim_group": ["women", "women", "men", "men"],
            "count": pd.array([10, 12, None, 9], dtype="Int64"),
            "display": ["10", "12", "x", "9"],
        }
    )
    svg = charts.to_svg(charts.trend_chart(frame, "A title"))
    assert svg.startswith("<svg") and "A title" in svg and "role-mark" in svg
