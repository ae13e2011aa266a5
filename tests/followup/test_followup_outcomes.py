"""Outcome comparisons recover known effects, withhold small cells, and are reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip.followup import outcomes as oc

START = pd.Timestamp("2024-01-01")
FIRST, LAST = pd.Timestamp("2020-01-01"), pd.Timestamp("2027-12-31")


def _events(rng: np.random.Generator, per_year_before: float, per_year_after: float) -> pd.Series:
    days_before, days_after = (START - FIRST).days, (LAST - START).days + 1
    n_b = rng.poisson(per_year_before * days_before / 365.25)
    n_a = rng.poisson(per_year_after * days_after / 365.25)
    offsets = np.concatenate([rng.integers(0, days_before, n_b),
                              days_before + rng.integers(0, days_after, n_a)])
    return pd.Series(FIRST + pd.to_timedelta(offsets, unit="D"))


def test_the_rate_ratio_interval_covers_the_truth_at_about_the_nominal_rate() -> None:
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(200):
        got = oc.rate_ratio("k", "t", _events(rng, 40, 80), START, FIRST, LAST, threshold=5)
        covered += got.low <= 2.0 <= got.high
    assert 0.9 <= covered / 200 <= 0.99
    assert got.label == "association, not proof" and got.note == "events per year"


def test_small_sides_are_withheld() -> None:
    dates = pd.Series(pd.to_datetime(["2021-05-01", "2022-05-01", "2025-01-01"]))
    got = oc.rate_ratio("k", "t", dates, START, FIRST, LAST, threshold=5)
    assert got.effect is None and got.before is None and "withheld" in got.note
    frame = pd.DataFrame({"when": pd.to_datetime(["2023-01-01"] * 3 + ["2025-01-01"] * 9),
                          "yes": [True] * 12})
    assert oc.share_difference("s", "t", frame, "when", "yes", START, 5).effect is None


def test_share_and_median_differences() -> None:
    frame = pd.DataFrame({
        "when": pd.to_datetime(["2023-03-01"] * 40 + ["2025-03-01"] * 40),
        "yes": [True] * 10 + [False] * 30 + [True] * 30 + [False] * 10,
        "days": list(np.arange(40) + 60) + list(np.arange(40) + 20),
    })
    share = oc.share_difference("s", "t", frame, "when", "yes", START, 5)
    assert share.effect == pytest.approx(0.5) and share.low < 0.5 < share.high and share.low > 0
    first = oc.median_difference("m", "t", frame, "when", "days", START, 5)
    again = oc.median_difference("m", "t", frame, "when", "days", START, 5)
    assert first.effect == pytest.approx(-40.0) and first == again  # seeded: reproducible
    assert first.low <= -40 <= first.high


def test_re_identification_within_24_months_of_the_first() -> None:
    clusters = pd.DataFrame({
        "cluster_id": ["a", "a", "b", "b", "c", "d", "d"],
        "identification_date": ["2022-01-01", "2022-06-01", "2022-01-01", "2022-01-10",
                                "2023-01-01", "2020-01-01", "2023-01-01"],
    })
    people = oc.re_identified(clusters).set_index("first")["again"].tolist()
    # a: again after 5 months; b: 9 days is the same episode; c: once; d: after 3 years
    assert sorted(people) == [False, False, False, True]
