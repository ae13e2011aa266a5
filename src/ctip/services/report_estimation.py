"""The report's estimation section: how many victims in all, and how much that depends on the model.

It reads the capture histories of the latest linkage run (counts of people per combination of
agencies' lists; no identity), fits every hierarchical two-way log-linear model, and shows the
chosen estimate with the table and chart of all candidate models, so a reader sees the spread.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ctip.estimate.api import estimate
from ctip.estimate.histories import from_frame
from ctip.estimate.report import model_chart, model_table

TOP_MODELS = 10


def _svg(spec: dict[str, Any]) -> str:
    import altair as alt
    import vl_convert as vlc

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0].replace(".", "_")
    return str(vlc.vegalite_to_svg(spec, vl_version=version))


def _fmt(x: Any) -> str:
    return "" if x is None or pd.isna(x) else f"{float(x):,.0f}"


def _table(models: pd.DataFrame) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("Model (interactions)", "Estimate", "95% interval", "AIC", "BIC", "Chosen by")
    )
    rows = []
    for _, m in models.iterrows():
        interval = f"{_fmt(m['ci_low'])} to {_fmt(m['ci_high'])}" if m["estimable"] else m["reason"]
        cells = [
            html.escape(str(m["model"]) or "main effects"),
            _fmt(m["estimate"]),
            html.escape(str(interval)),
            f"{m['aic']:.1f}" if pd.notna(m["aic"]) else "",
            f"{m['bic']:.1f}" if pd.notna(m["bic"]) else "",
            html.escape(str(m["selected_by"])),
        ]
        rows.append(
            "<tr>"
            + "".join(
                f"<td{' class=num' if i in (1, 3, 4) else ''}>{c}</td>" for i, c in enumerate(cells)
            )
            + "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def estimation_section(histories: pd.DataFrame, *, linkage_note: str = "") -> dict[str, Any] | None:
    """Title, SVG chart, HTML table and note for the report, or None when nothing can be said."""
    lists = [c for c in histories.columns if c != "count"]
    if len(lists) < 2 or histories["count"].sum() == 0:
        return None
    history = from_frame(histories[[*lists, "count"]], lists=lists)
    chosen = estimate(history, method="stepwise")
    models = model_table(history)
    if not chosen.estimable:
        title = f"The number of victims on no list cannot be estimated: {chosen.reason}"
    else:
        title = (
            f"About {chosen.estimate:,.0f} victims in all (95% interval {chosen.ci_low:,.0f} "
            f"to {chosen.ci_high:,.0f}), of whom {chosen.observed:,} were known to an agency"
        )
    shown = models.sort_values("bic").head(TOP_MODELS)
    note = (
        f"Multiple systems estimation over {len(lists)} agencies' lists ({', '.join(lists)}). "
        "The headline figure uses SparseMSE's stepwise selection (threshold 0.02) with a Wald "
        "interval on the log of the hidden number; the chart shows every candidate model's "
        f"estimate and the table the {min(TOP_MODELS, len(models))} best by BIC, so the spread "
        "between models is visible. Log-linear models assume a closed population and model "
        "dependence between lists, not every kind of heterogeneity between people: read the "
        "range, not one number (docs/methods/estimation.md). " + linkage_note
    )
    return {
        "title": title,
        "svg": _svg(model_chart(models)),
        "table_html": _table(shown),
        "note": note.strip(),
        "result": chosen.to_dict(),
    }
