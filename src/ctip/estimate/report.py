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

from ctip.estimate.api import METHODS, estimate
from ctip.estimate.existence import fit_checked
from ctip.estimate.histories import CaptureHistory
from ctip.estimate.intervals import wald
from ctip.estimate.loglinear import Pair
from ctip.estimate.selection import EXHAUSTIVE_MAX_LISTS, all_models, by_criterion, stepwise


def _candidate_models(history: CaptureHistory) -> list[tuple[Pair, ...]]:
    """Every two-way model for <= 5 lists; else the models met by the selection procedures."""
    if history.t <= EXHAUSTIVE_MAX_LISTS:
        return [m for m, _, _ in all_models(history.counts, history.t)]
    seen: dict[tuple[Pair, ...], None] = {(): None}
    for threshold in (0.001, 0.02, 0.05):
        terms = stepwise(history.counts, history.t, threshold).terms
        for k in range(1, len(terms) + 1):
            seen[tuple(sorted(terms[:k]))] = None
    for criterion in ("aic", "bic"):
        terms = by_criterion(history.counts, history.t, criterion).terms
        for k in range(1, len(terms) + 1):
            seen[tuple(sorted(terms[:k]))] = None
    return list(seen)


def model_table(
    history: CaptureHistory, *, level: float = 0.95, threshold: float = 0.02
) -> pd.DataFrame:
    """One row per candidate model: estimate, Wald interval, AIC, BIC, terms, which method picks it.

    Models whose MLE does not exist or is not identifiable stay in the table with
    ``estimable=False`` and the reason, so the reader sees they were considered.
    """
    models = _candidate_models(history)
    picks: dict[tuple[Pair, ...], list[str]] = {}
    picks.setdefault((), []).append("main")
    sw = stepwise(history.counts, history.t, threshold)
    if sw.fit is not None:
        picks.setdefault(tuple(sorted(sw.terms)), []).append("stepwise")
    rows = []
    for model in models:
        f, chk = fit_checked(history.counts, history.t, model)
        row: dict[str, Any] = {
            "model": " ".join(history.pair_name(p) for p in model) or "main effects",
            "terms": [history.pair_name(p) for p in model],
            "interactions": len(model),
            "estimable": f is not None,
            "reason": chk.reason,
        }
        if f is not None:
            low, high = wald(f, level)
            row.update(
                estimate=f.estimate,
                hidden=f.dark,
                ci_low=low,
                ci_high=high,
                aic=f.aic,
                bic=f.bic,
                empty_overlaps=[history.pair_name(p) for p in f.design.empty],
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    for col in ("estimate", "hidden", "ci_low", "ci_high", "aic", "bic"):
        if col not in table:
            table[col] = np.nan
    table["delta_aic"] = table["aic"] - table["aic"].min()
    table["delta_bic"] = table["bic"] - table["bic"].min()
    for criterion in ("aic", "bic"):
        if table[criterion].notna().any():
            best = table.loc[table[criterion].idxmin(), "terms"]
            picks.setdefault(tuple(sorted(_pairs(history, best))), []).append(criterion)
    table["selected_by"] = [
        ", ".join(picks.get(tuple(sorted(_pairs(history, terms))), [])) for terms in table["terms"]
    ]
    return table.sort_values(["bic", "interactions"], na_position="last").reset_index(drop=True)


def _pairs(history: CaptureHistory, terms: list[str]) -> list[Pair]:
    idx = {name: k for k, name in enumerate(history.lists)}
    return [tuple(sorted((idx[a], idx[b]))) for a, b in (term.split(":") for term in terms)]  # type: ignore[misc]


def method_table(
    history: CaptureHistory, *, methods: tuple[str, ...] = METHODS, **options: Any
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
