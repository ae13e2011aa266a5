"""The report's estimation section: how many victims in all, and how much that depends on the model.

It reads the capture histories of the latest linkage run (counts of people per combination of
agencies' lists; no identity), estimates with every defensible method (``estimate.sensitivity``)
and fits every hierarchical two-way log-linear model. The headline is the range across the
methods, with the office's choice named inside it, never one number alone; the table of methods
and the chart and table of all candidate models show where the spread comes from.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from ctip.estimate.histories import from_frame
from ctip.estimate.report import model_chart, model_table
from ctip.estimate.sensitivity import DEFENSIBLE, LABELS, Sensitivity, sensitivity

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


def _methods_table(sens: Sensitivity) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("Method", "Estimate (people)", "95% interval",
                                             "Model"))
    rows = []
    for method, r in sens.results.items():
        label = LABELS.get(method, method) + (" (office's choice)" if r is sens.chosen else "")
        if r.estimable:
            cells = [label, _fmt(r.estimate), f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}",
                     " ".join(r.model) or ("latent classes" if method == "lcmcr" else
                                           "main effects")]
        else:
            cells = [label, "not estimable", html.escape(r.reason), ""]
        rows.append("<tr>" + "".join(
            f"<td{' class=num' if i == 1 else ''}>{html.escape(str(c))}</td>"
            for i, c in enumerate(cells)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def headline(sens: Sensitivity) -> str:
    """The section's title: the range across the methods, with the office's choice in it."""
    chosen = sens.chosen
    span = sens.estimate_range
    if span is None or not chosen.estimable:
        reason = chosen.reason or "no method could estimate these lists"
        return f"The number of victims on no list cannot be estimated: {reason}"
    low, high = span
    spread = (f"between {low:,.0f} and {high:,.0f} people in all, depending on the model"
              if round(low) != round(high) else f"about {low:,.0f} people in all under every model")
    return (f"Estimated {spread} (the office's model, {LABELS.get(chosen.method, chosen.method)}: "
            f"{chosen.estimate:,.0f}, 95% interval {chosen.ci_low:,.0f} to "
            f"{chosen.ci_high:,.0f}); {chosen.observed:,} people were known to an agency")


def estimation_section(histories: pd.DataFrame, *, linkage_note: str = "",
                       method: str = "stepwise", methods: tuple[str, ...] = DEFENSIBLE,
                       given: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Title, SVG chart, HTML tables and note for the report, or None when nothing can be said.

    ``given``: method -> result already computed on these histories (the demo's), reused."""
    lists = [c for c in histories.columns if c != "count"]
    if len(lists) < 2 or histories["count"].sum() == 0:
        return None
    history = from_frame(histories[[*lists, "count"]], lists=lists)
    sens = sensitivity(history, chosen_method=method, methods=methods, given=given)
    models = model_table(history)
    shown = models.sort_values("bic").head(TOP_MODELS)
    note = (
        f"Unit: people (linked across agencies), not records. Multiple systems estimation over "
        f"{len(lists)} agencies' lists ({', '.join(lists)}). {sens.caveat()} The first table "
        "gives each method's estimate; the chart shows every candidate log-linear model's "
        f"estimate and the second table the {min(TOP_MODELS, len(models))} best by BIC. "
        "Log-linear models assume a closed population and model dependence between lists, "
        "not every kind of heterogeneity between people (LCMCR models that): "
        "docs/methods/estimation.md. The estimate counts every person of the linkage run, "
        "whatever their identification status, so the number known to an agency may exceed "
        "the detected victims of the headline. " + linkage_note
    )
    span = sens.estimate_range
    return {
        "title": headline(sens),
        "svg": _svg(model_chart(models)),
        "table_html": _methods_table(sens) + _table(shown),
        "note": note.strip(),
        "result": sens.chosen.to_dict(),
        "sensitivity": sens,
        "range": span,
    }
