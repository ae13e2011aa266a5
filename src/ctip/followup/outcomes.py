"""Outcomes for victims before and after a measure started (para 31): association, not proof.

Every function takes frames the service built from ctip's own de-identified data (the analytic
view's victims and perpetrators, per-case workflow facts without any identity, linkage clusters)
and compares the period before a measure's start date with the period after it, with the
uncertainty of the comparison:

- counts per year (identifications, prosecutions, convictions): the ratio of the yearly rates,
  with a score interval for two Poisson rates (statsmodels ``confint_poisson_2indep``);
- shares (assistance uptake, non-punishment decisions, compensation, re-identification): the
  difference of two proportions with Newcombe's hybrid score interval
  (statsmodels ``confint_proportions_2indep``);
- durations (days from signal to the reasonable-grounds decision): the difference of medians
  with a seeded percentile bootstrap (scipy ``bootstrap``), so a rerun gives the same interval.

A before/after difference says that the outcome changed around the measure's start, not that the
measure changed it: other things changed too (staffing, reporting, the crime itself). Every
result carries ``LABEL``. Cells under the suppression threshold are withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

LABEL = "association, not proof"
LEVEL = 0.95
RE_IDENTIFIED_AFTER_DAYS = 30  # a later record this long after the first is a new episode
RE_IDENTIFIED_WITHIN_DAYS = 730


@dataclass(frozen=True)
class Outcome:
    key: str
    title: str
    measure: str  # rate ratio | difference in share | difference in median days
    before: float | None
    after: float | None
    effect: float | None
    low: float | None
    high: float | None
    n_before: int
    n_after: int
    note: str = ""
    label: str = LABEL

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _withheld(key: str, title: str, measure: str, n_before: int, n_after: int,
              threshold: int, why: str = "") -> Outcome:
    return Outcome(key, title, measure, None, None, None, None, None, n_before, n_after,
                   why or f"fewer than {threshold} on one side: withheld")


def rate_ratio(key: str, title: str, dates: pd.Series, start: pd.Timestamp,
               first: pd.Timestamp, last: pd.Timestamp, threshold: int) -> Outcome:
    """Events per year after ``start`` / per year before it (observation window first..last)."""
    from statsmodels.stats.rates import confint_poisson_2indep

    dates = pd.to_datetime(dates.dropna())
    before = int((dates < start).sum())
    after = int((dates >= start).sum())
    years_before = max((start - first).days, 0) / 365.25
    years_after = max((last - start).days + 1, 0) / 365.25
    if min(before, after) < threshold or min(years_before, years_after) <= 0:
        return _withheld(key, title, "rate ratio (after / before)", before, after, threshold)
    rate_b, rate_a = before / years_before, after / years_after
    low, high = confint_poisson_2indep(after, years_after, before, years_before,
                                       method="score", compare="ratio", alpha=1 - LEVEL)
    return Outcome(key, title, "rate ratio (after / before)", rate_b, rate_a, rate_a / rate_b,
                   float(low), float(high), before, after, "events per year")


def share_difference(key: str, title: str, frame: pd.DataFrame, when: str, yes: str,
                     start: pd.Timestamp, threshold: int) -> Outcome:
    """Share of rows with ``yes`` true, after minus before (rows dated by ``when``)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    data = frame.dropna(subset=[when])
    after_mask = pd.to_datetime(data[when]) >= start
    yes_b, n_b = int(data.loc[~after_mask, yes].sum()), int((~after_mask).sum())
    yes_a, n_a = int(data.loc[after_mask, yes].sum()), int(after_mask.sum())
    if min(n_b, n_a) < threshold:
        return _withheld(key, title, "difference in share (after - before)", n_b, n_a, threshold)
    low, high = confint_proportions_2indep(yes_a, n_a, yes_b, n_b, method="newcomb",
                                           compare="diff", alpha=1 - LEVEL)
    return Outcome(key, title, "difference in share (after - before)", yes_b / n_b, yes_a / n_a,
                   yes_a / n_a - yes_b / n_b, float(low), float(high), n_b, n_a)


def median_difference(key: str, title: str, frame: pd.DataFrame, when: str, value: str,
                      start: pd.Timestamp, threshold: int, *, seed: int = 31) -> Outcome:
    from scipy.stats import bootstrap

    data = frame.dropna(subset=[when, value])
    after_mask = pd.to_datetime(data[when]) >= start
    b = data.loc[~after_mask, value].astype(float).to_numpy()
    a = data.loc[after_mask, value].astype(float).to_numpy()
    if min(len(a), len(b)) < threshold:
        return _withheld(key, title, "difference in median days (after - before)", len(b),
                         len(a), threshold)

    def stat(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.asarray(np.median(y, axis=axis) - np.median(x, axis=axis))

    ci = bootstrap((b, a), stat, confidence_level=LEVEL, n_resamples=2000, method="percentile",
                   vectorized=True, random_state=np.random.default_rng(seed))
    mb, ma = float(np.median(b)), float(np.median(a))
    return Outcome(key, title, "difference in median days (after - before)", mb, ma, ma - mb,
                   float(ci.confidence_interval.low), float(ci.confidence_interval.high),
                   len(b), len(a), "bootstrap, 2,000 resamples, seed 31")


def re_identified(clusters: pd.DataFrame) -> pd.DataFrame:
    """Per person (linkage cluster): first identification date, and whether a later record
    shows them identified again 30 days to 24 months after it (columns first, again)."""
    data = clusters.dropna(subset=["identification_date"]).copy()
    data["identification_date"] = pd.to_datetime(data["identification_date"])
    first = data.groupby("cluster_id")["identification_date"].transform("min")
    gap = (data["identification_date"] - first).dt.days
    data["again"] = (gap >= RE_IDENTIFIED_AFTER_DAYS) & (gap <= RE_IDENTIFIED_WITHIN_DAYS)
    out = data.groupby("cluster_id").agg(first=("identification_date", "min"),
                                         again=("again", "any"))
    return out.reset_index(drop=True)


def per_100k(count: int, population: int | None) -> float | None:
    return None if not population else count / population * 100_000
