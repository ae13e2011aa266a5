"""Bayesian thresholding sampled from its real posterior, against MultipleSystemsEstimation's
published examples (R, MCMCpack): equal to Monte Carlo error, not to the digit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip.estimate import estimate, from_frame
from ctip.estimate.bayesthresh import bayes_threshold
from ctip.estimate.diagnostics import effective_size, split_rhat
from ctip.estimate.histories import CaptureHistory


def _table(shared_data, name):
    return from_frame(pd.read_csv(shared_data / "mse-reference-tables" / f"{name}.csv"))


def test_kosovo_two_way(shared_data):
    # MultipleSystemsEstimation vignette "bayesian-threshold": Kosovo, maxorder 2: 13,971.48
    # [12,236.22, 16,389.40]; retained EXH:ABA EXH:OSCE ABA:OSCE EXH:HRW OSCE:HRW; threshold
    # statistics 8.46 9.16 12.54 6.93 0.197 10.61
    result = estimate(_table(shared_data, "Kosovo"), "bayesthresh")
    assert result.estimate == pytest.approx(13971.48, rel=0.03)
    assert result.ci_low == pytest.approx(12236.22, rel=0.04)
    assert result.ci_high == pytest.approx(16389.40, rel=0.05)
    assert sorted(result.model) == sorted(
        ["EXH:ABA", "EXH:OSCE", "ABA:OSCE", "EXH:HRW", "OSCE:HRW"]
    )
    stats = result.details["threshold_statistics"]
    published = {
        "EXH:ABA": 8.46,
        "EXH:OSCE": 9.16,
        "ABA:OSCE": 12.54,
        "EXH:HRW": 6.93,
        "OSCE:HRW": 10.61,
    }
    for term, value in published.items():
        assert stats[term] == pytest.approx(value, rel=0.08)
    assert stats["ABA:HRW"] < 1
    assert result.details["converged"] and result.details["rhat"] < 1.01
    assert result.details["ess"] >= 400


def test_kosovo_three_way(shared_data):
    # same vignette, maxorder 3 and threshold 2.5: 10,313.86 [9,031.82, 12,094.70]; eligible
    # EXH:ABA:OSCE (4.26, kept) and EXH:OSCE:HRW (2.45, dropped)
    hist = _table(shared_data, "Kosovo")
    result = estimate(hist, "bayesthresh", bayes_options=dict(maxorder=3, threshold=2.5))
    assert result.estimate == pytest.approx(10313.86, rel=0.03)
    assert result.ci_low == pytest.approx(9031.82, rel=0.04)
    assert result.ci_high == pytest.approx(12094.70, rel=0.05)
    assert "EXH:ABA:OSCE" in result.model and "EXH:OSCE:HRW" not in result.model
    stats = result.details["threshold_statistics"]
    assert stats["EXH:ABA:OSCE"] == pytest.approx(4.26, rel=0.1)
    assert stats["EXH:OSCE:HRW"] == pytest.approx(2.45, rel=0.1)


def test_small_table_interval_is_not_too_narrow(shared_data):
    # issue 12: R gives 562 [302, 1,393] on Artificial_3; the Laplace approximation gave
    # 539 [279, 1,171], 15-30% too narrow
    result = estimate(_table(shared_data, "Artificial_3"), "bayesthresh")
    assert result.estimate == pytest.approx(562, rel=0.04)
    assert result.ci_low == pytest.approx(302, rel=0.06)
    assert result.ci_high == pytest.approx(1393, rel=0.1)


def test_same_seed_same_draws():
    hist = CaptureHistory(("A", "B", "C"), np.array([40, 30, 6, 20, 5, 4, 2]))
    a = bayes_threshold(hist, seed=3)
    b = bayes_threshold(hist, seed=3)
    c = bayes_threshold(hist, seed=4)
    assert a.median == b.median and a.low == b.low
    assert a.median != c.median
    assert a.median == pytest.approx(c.median, rel=0.02)


def test_no_overlap_table_is_refused_not_a_traceback():
    # issue 12: a table with no overlaps raised LinAlgError; one without a main-effects MLE
    # gave N = 4.3e18 "estimable"
    hist = CaptureHistory(("A", "B", "C"), np.array([5, 7, 0, 9, 0, 0, 0]))
    result = estimate(hist, "bayesthresh")
    assert not result.estimable and "overlap" in result.reason


def test_two_lists_have_no_interaction_to_threshold():
    hist = CaptureHistory(("A", "B"), np.array([30, 20, 10]))
    result = estimate(hist, "bayesthresh")
    assert result.estimable and result.model == []
    assert result.estimate == pytest.approx(30 + 20 + 10 + 30 * 20 / 10, rel=0.1)


def test_diagnostics_on_known_chains():
    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 1000))
    assert split_rhat(iid) < 1.01 and effective_size(iid) > 3000
    stuck = iid.copy()
    stuck[0] += 3
    assert split_rhat(stuck) > 1.1 and effective_size(stuck) < 50
