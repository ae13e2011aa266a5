"""Estimates per stratum (sex, age group, region...) plus the total, each row with ``estimable``.

UNODC briefs and national reports disaggregate; a stratum with too little data must come back as
a row that says so (as HRDAG's verdata ``estimate_mse`` does), never as an exception that loses
the whole table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ctip.errors import EstimationError
from ctip.estimate.api import EstimateResult, estimate
from ctip.estimate.histories import from_frame


def estimate_strata(
    frame: pd.DataFrame,
    *,
    lists: Sequence[str],
    strata: Sequence[str],
    count: str = "count",
    total: bool = True,
    **options: Any,
) -> list[EstimateResult]:
    """One estimate per stratum (e.g. sex, age group), plus the total, each with ``estimable``.

    A stratum whose data cannot support an estimate gets a row with the reason; nothing raises.
    """
    results = []
    groups = frame.groupby(list(strata), dropna=False, sort=True)
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = {col: (None if pd.isna(v) else v) for col, v in zip(strata, key, strict=True)}
        try:
            hist = from_frame(part[[*lists, count]], lists=lists, count=count)
            res = estimate(hist, **options)
        except EstimationError as error:
            res = EstimateResult(
                list(lists),
                int(part[count].sum()),
                None,
                None,
                None,
                None,
                "none",
                options.get("method", "stepwise"),
                [],
                False,
                error.message,
            )
        res.stratum = label
        results.append(res)
    if total:
        res = estimate(from_frame(frame[[*lists, count]], lists=lists, count=count), **options)
        res.stratum = {col: "total" for col in strata}
        results.append(res)
    return results


def results_frame(results: Sequence[EstimateResult]) -> pd.DataFrame:
    rows = []
    for r in results:
        d = r.to_dict()
        row = {
            **(d.pop("stratum", None) or {}),
            **{
                k: d[k]
                for k in (
                    "observed",
                    "estimate",
                    "hidden",
                    "ci_low",
                    "ci_high",
                    "method",
                    "estimable",
                    "reason",
                )
            },
        }
        row["model"] = " ".join(d["model"])
        row["warnings"] = "; ".join(d["warnings"])
        rows.append(row)
    return pd.DataFrame(rows)
