"""Charts for the country progress report: pure functions from an assessment to Altair specs.

Drawn like ``stats.charts`` (Okabe-Ito colours, every colour named in a legend, rendered offline to
SVG by ``stats.charts.to_svg``). A commitment without evidence is drawn as "no evidence", never
as a zero bar; an outcome's interval is always drawn with its estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from ctip.stats.charts import OKABE_ITO, WIDTH, _config

RATING_COLOURS = {"achieved (2)": "#009E73", "partly achieved (1)": "#56B4E9",
                  "not achieved (0)": "#E69F00", "undermines (-2)": "#D55E00",
                  "no evidence": "#BBBBBB"}
RATING_LABEL = {2: "achieved (2)", 1: "partly achieved (1)", 0: "not achieved (0)",
                -2: "undermines (-2)", None: "no evidence"}


def pillar_chart(result: Mapping[str, Any]) -> alt.TopLevelMixin:
    """Score per pillar over its assessed commitments, with the floor (no evidence = 0) beside."""
    rows = []
    for p in result["pillars"]:
        if not p["scored"]:
            continue
        label = f"{p['name']} ({p['assessed']} of {p['scored']} assessed)"
        rows.append({"pillar": label, "measure": "score over assessed commitments",
                     "pct": p["pct"]})
        rows.append({"pillar": label, "measure": "floor (no evidence counted as 0)",
                     "pct": p["pct_floor"]})
    data = pd.DataFrame(rows)
    order = list(dict.fromkeys(data["pillar"])) if len(data) else []
    bars = alt.Chart(data.dropna(subset=["pct"])).mark_bar().encode(
        y=alt.Y("pillar:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        yOffset=alt.YOffset("measure:N"),
        x=alt.X("pct:Q", title="Per cent of the points available",
                scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("measure:N", title=None, legend=alt.Legend(labelLimit=320), scale=alt.Scale(
            domain=["score over assessed commitments", "floor (no evidence counted as 0)"],
            range=[OKABE_ITO[0], "#9DB9D3"])),
        tooltip=["pillar:N", "measure:N", alt.Tooltip("pct:Q", format=".1f")])
    return _config(bars.properties(width=WIDTH - 200, height=max(60, 34 * len(order))))


def commitment_chart(result: Mapping[str, Any], titles: Mapping[str, str]) -> alt.TopLevelMixin:
    """One mark per scored commitment, coloured by its rating (no evidence shown as such)."""
    rows = [{"commitment": f"{u['id']} {titles.get(u['id'], '')}"[:70],
             "rating": RATING_LABEL[u["rating"]], "pillar": u["pillar"],
             "position": n}
            for n, u in enumerate(x for x in result["units"] if x["scoring"] == "score")]
    data = pd.DataFrame(rows)
    domain = [k for k in RATING_COLOURS if k in set(data.get("rating", []))]
    chart = alt.Chart(data).mark_square(size=220).encode(
        y=alt.Y("commitment:N", sort=list(data["commitment"]) if len(data) else [], title=None,
                axis=alt.Axis(labelLimit=380)),
        x=alt.X("rating:N", title="Rating", sort=list(RATING_COLOURS), axis=alt.Axis(
            labelAngle=0)),
        color=alt.Color("rating:N", title="Rating", scale=alt.Scale(
            domain=domain, range=[RATING_COLOURS[d] for d in domain])),
        tooltip=["commitment:N", "rating:N", "pillar:N"])
    return _config(chart.properties(width=360, height=max(80, 18 * len(rows))))


def outcome_chart(outcomes: Sequence[Mapping[str, Any]]) -> alt.TopLevelMixin:
    """Each comparable outcome's after-vs-before effect with its 95% interval."""
    rows = [o for o in outcomes if o.get("effect") is not None]
    data = pd.DataFrame([{"outcome": f"{o['title']} [{o['measure']}]", "effect": o["effect"],
                          "low": o["low"], "high": o["high"]} for o in rows])
    if data.empty:
        data = pd.DataFrame(columns=["outcome", "effect", "low", "high"])
    y = alt.Y("outcome:N", title=None, axis=alt.Axis(labelLimit=420))
    base = alt.Chart(data)
    ci = base.mark_rule(strokeWidth=2, color=OKABE_ITO[0]).encode(
        y=y, x=alt.X("low:Q", title="Change after the measure started (95% interval)"),
        x2="high:Q")
    point = base.mark_point(filled=True, size=70, color=OKABE_ITO[5]).encode(
        y=y, x="effect:Q", tooltip=["outcome:N", alt.Tooltip("effect:Q", format=".3g"),
                                    alt.Tooltip("low:Q", format=".3g"),
                                    alt.Tooltip("high:Q", format=".3g")])
    return _config((ci + point).properties(width=WIDTH - 240,
                                           height=max(60, 30 * len(data)),
                                           title="Association, not proof"))
