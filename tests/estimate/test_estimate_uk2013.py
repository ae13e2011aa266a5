"""The UK 2013 six-list table reproduces R SparseMSE's published reference values (SOURCE.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from ctip.estimate import estimate, from_frame

# Reference values from R SparseMSE, ../shared/data/mse-uk-2013/SOURCE.md
REFERENCE = {
    "stepwise_0.02": (11418.0, 9977.3, 13145.7, "PF:NCA LA:NG NG:GP LA:PF PF:GP GO:GP NG:GO"),
    "main": (12214.0, 10988.8, 13621.3, ""),
    "stepwise_0.001": (13181.2, 11601.1, 15043.2, "PF:NCA LA:NG NG:GP LA:PF PF:GP"),
}


@pytest.fixture
def uk(shared_data):
    return from_frame(pd.read_csv(shared_data / "mse-uk-2013" / "uk_2013_six_lists.csv"))


def _check(result, ref):
    point, low, high, terms = ref
    assert result.estimable
    assert result.observed == 2744
    assert abs(result.estimate - point) / point < 0.005
    assert abs(result.ci_low - low) / low < 0.02
    assert abs(result.ci_high - high) / high < 0.02
    assert " ".join(result.model) == terms


def test_stepwise_matches_sparsemse(uk):
    result = estimate(uk, "stepwise", threshold=0.02)
    _check(result, REFERENCE["stepwise_0.02"])
    assert result.hidden == pytest.approx(result.estimate - 2744)
    assert "Wald" in result.interval


def test_stepwise_threshold_005_same_model(uk):
    _check(estimate(uk, "stepwise", threshold=0.05), REFERENCE["stepwise_0.02"])


def test_stepwise_threshold_0001(uk):
    _check(estimate(uk, "stepwise", threshold=0.001), REFERENCE["stepwise_0.001"])


def test_main_effects(uk):
    _check(estimate(uk, "main"), REFERENCE["main"])


def test_bootstrap_is_seeded_and_brackets_the_estimate(uk):
    a = estimate(uk, "stepwise", bootstrap=120, seed=7)
    b = estimate(uk, "stepwise", bootstrap=120, seed=7)
    c = estimate(uk, "stepwise", bootstrap=120, seed=8)
    # same seed, same answer (to rounding: Newton's starting points depend on what ran before)
    assert (a.ci_low, a.ci_high) == pytest.approx((b.ci_low, b.ci_high), rel=1e-9)
    assert (a.ci_low, a.ci_high) != pytest.approx((c.ci_low, c.ci_high), rel=1e-3)
    assert a.ci_low < a.estimate < a.ci_high
    assert a.details["bootstrap_replicates"] == 120
    # selection repeated in each replicate widens the interval beyond the conditional Wald one
    wald = estimate(uk, "stepwise")
    assert a.ci_high - a.ci_low > 0.8 * (wald.ci_high - wald.ci_low)


def test_profile_interval_close_to_wald(uk):
    prof = estimate(uk, "stepwise", interval="profile")
    assert prof.ci_low < prof.estimate < prof.ci_high
    assert prof.ci_low == pytest.approx(9977.3, rel=0.05)
    assert prof.ci_high == pytest.approx(13145.7, rel=0.05)
    # Rcapture's point: the profile maximiser differs slightly from the Poisson MLE
    assert prof.details["profile_maximiser"] == pytest.approx(prof.estimate, rel=0.01)


def test_bootstrap_same_answer_with_worker_processes(uk):
    one = estimate(uk, "stepwise", bootstrap=80, seed=5, workers=1)
    two = estimate(uk, "stepwise", bootstrap=80, seed=5, workers=2)
    assert (one.ci_low, one.ci_high) == pytest.approx((two.ci_low, two.ci_high), rel=1e-9)
