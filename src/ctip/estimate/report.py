"""Content for the report's estimation section: the sensitivity table and a chart across models.

The dominant problem in trafficking MSE is that the answer depends on the model (UK 5 lists:
stepwise 11,313, BIC 22,991). So the report shows every candidate model's estimate, interval,
AIC, BIC and terms, and a chart of the estimates across models, instead of one figure alone.
Pure functions: frames and a Vega-Lite spec (dict) out; rendering is the report's job.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ctip.estimate.api import METHODS, estimate
from ctip.estimate.existence import Check
from ctip.estimate.histories import CaptureHistory
from ctip.estimate.search import fit_models
from ctip.estimate.selection import EXHAUSTIVE_MAX_LISTS, by_criterion, stepwise
from ctip.estimate.terms import (
    Model,
    check_maxorder,
    hierarchical_models,
    model_name,
    name,
    sort_model,
)


def _candidate_models(history: CaptureHistory, maxorder: int) -> list[Model]:
    """Every hierarchical model for <= 6 lists; else the models met by the selection procedures."""
    if history.t <= EXHAUSTIVE_MAX_LISTS:
        return list(hierarchical_models(history.t, maxorder))
    seen: dict[Model, None] = {(): None}
    for threshold in (0.001, 0.02, 0.05):
        terms = stepwise(history.counts, history.t, threshold).terms
        for k in range(1, len(terms) + 1):
            seen[sort_model(terms[:k])] = None
    for criterion in ("aic", "bic"):
        terms = by_criterion(history.counts, history.t, criterion).terms
        for k in range(1, len(terms) + 1):
            seen[sort_model(terms[:k])] = None
    return list(seen)


def model_table(
    history: CaptureHistory, *, level: float = 0.95, threshold: float = 0.02, maxorder: int = 2
) -> pd.DataFrame:
    """One row per candidate model: estimate, Wald interval, AIC, BIC, terms, which method picks it.

    Models whose MLE does not exist or is not identifiable stay in the table with
    ``estimable=False`` and the reason, so the reader sees they were considered. All 32,768
    two-way models of a 6-list table are fitted in one batched pass (``search``).
    """
    t = history.t
    maxorder = check_maxorder(t, min(maxorder, t - 1))
    ms = fit_models(history.counts, t, _candidate_models(history, maxorder))
    z = norm.ppf(0.5 + level / 2)
    n = history.observed
    ok = ms.code == 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        low = np.where(ok, n + np.exp(np.log(ms.dark) - z * ms.se_log_dark), np.nan)
        high = np.where(ok, n + np.exp(np.log(ms.dark) + z * ms.se_log_dark), np.nan)
    lists = history.lists
    table = pd.DataFrame(
        {
            "model": [model_name(lists, m) for m in ms.models],
            "terms": [[name(lists, term) for term in m] for m in ms.models],
            "interactions": [len(m) for m in ms.models],
            "estimable": ok,
            "reason": [Check(int(c)).reason for c in ms.code],
            "estimate": np.where(ok, ms.estimate, np.nan),
            "hidden": np.where(ok, ms.dark, np.nan),
            "ci_low": low,
            "ci_high": high,
            "aic": np.where(ok, ms.aic, np.nan),
            "bic": np.where(ok, ms.bic, np.nan),
            "empty_overlaps": [[name(lists, term) for term in e] for e in ms.empty],
        }
    )
    table["delta_aic"] = table["aic"] - table["aic"].min()
    table["delta_bic"] = table["bic"] - table["bic"].min()
    picks: dict[int, list[str]] = {}
    index = {m: k for k, m in enumerate(ms.models)}
    picks.setdefault(index[()], []).append("main")
    sw = stepwise(history.counts, t, threshold)
    if sw.fit is not None and sort_model(sw.terms) in index:
        picks.setdefault(index[sort_model(sw.terms)], []).append("stepwise")
    for criterion in ("aic", "bic"):
        ranked = ms.ranked(criterion)
        if len(ranked):
            picks.setdefault(int(ranked[0]), []).append(criterion)
    table["selected_by"] = [", ".join(picks.get(k, [])) for k in range(len(ms.models))]
    return table.sort_values(["bic", "interactions"], na_position="last").reset_index(drop=True)


COMPARED = tuple(method for method in METHODS if method != "fixed")


def method_table(
    history: CaptureHistory,
    *,
    methods: tuple[str, ...] = COMPARED,
    **options: Any,
) -> pd.DataFrame:
    """The same table estimated by every method, side by side (sensitivity across methods)."""
    rows = []
    for method in methods:
        r = estimate(history, method, **options)
        rows.append(
            {
                "method": method,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "interval": r.interval,
                "model": " ".join(r.model),
                "estimable": r.estimable,
                "reason": r.reason,
                "warnings": "; ".join(r.warnings),
            }
        )
    return pd.DataFrame(rows)


def model_chart(table: pd.DataFrame, *, top: int = 40, title: str | None = None) -> dict[str, Any]:
    """Vega-Lite spec: estimate and interval of the ``top`` models by BIC, chosen ones coloured."""
    import altair as alt

    data = table[table["estimable"]].nsmallest(top, "bic").copy()
    data["rank"] = np.arange(1, len(data) + 1)
    data["chosen by"] = data["selected_by"].replace("", "-")
    data = data[["rank", "model", "estimate", "ci_low", "ci_high", "aic", "bic", "chosen by"]]
    base = alt.Chart(data).encode(
        y=alt.Y(
            "model:N", sort=alt.SortField("rank"), title="model (interactions), best BIC first"
        ),
    )
    bars = base.mark_rule().encode(
        x=alt.X("ci_low:Q", title="estimated number of victims (N)"), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q",
        color=alt.Color("chosen by:N", title="chosen by"),
        tooltip=[
            "model",
            alt.Tooltip("estimate:Q", format=",.0f"),
            alt.Tooltip("ci_low:Q", format=",.0f"),
            alt.Tooltip("ci_high:Q", format=",.0f"),
            alt.Tooltip("aic:Q", format=".1f"),
            alt.Tooltip("bic:Q", format=".1f"),
        ],
    )
    chart = (bars + points).properties(
        title=title or "Estimates across candidate models (95% Wald intervals)",
        width=480,
        height=alt.Step(14),
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec
