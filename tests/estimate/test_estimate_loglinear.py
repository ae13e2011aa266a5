"""The hand-written Newton fit agrees with statsmodels' GLM; batched selection equals scalar."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from ctip.estimate.batch import criterion_many, stepwise_many
from ctip.estimate.existence import fit_checked
from ctip.estimate.histories import CaptureHistory, all_pairs
from ctip.estimate.loglinear import fit
from ctip.estimate.selection import by_criterion, stepwise
from ctip.estimate.simulate import scenario, simulate


def _table(seed: int, t: int = 4, N: int = 4000) -> CaptureHistory:
    return simulate(N, scenario("dependent", t), np.random.default_rng(seed))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_newton_matches_statsmodels(seed):
    hist = _table(seed)
    rng = np.random.default_rng(seed)
    pairs = all_pairs(hist.t)
    model = tuple(pairs[k] for k in sorted(rng.choice(len(pairs), size=3, replace=False)))
    ours = fit(hist, model)
    assert ours.converged
    glm = sm.GLM(
        hist.counts[ours.design.keep].astype(float), ours.design.X, family=sm.families.Poisson()
    ).fit(tol=1e-12)
    np.testing.assert_allclose(ours.beta, glm.params, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), glm.bse, rtol=1e-6)
    assert ours.deviance == pytest.approx(glm.deviance, rel=1e-7, abs=1e-8)
    assert ours.aic == pytest.approx(glm.aic, rel=1e-9)


def test_empty_overlap_cells_removed_and_counted_in_aic():
    # A and C never overlap: the A:C term removes every cell holding both, still costs 2 in AIC
    hist = CaptureHistory(("A", "B", "C"), np.array([30, 20, 8, 15, 0, 5, 0]))
    with_ac = fit(hist, ((0, 2),))
    assert with_ac.design.empty == ((0, 2),)
    assert not with_ac.design.keep[4] and not with_ac.design.keep[6]  # patterns 101 and 111
    assert with_ac.mu[4] == 0.0
    assert with_ac.design.n_params == 1 + 3 + 1
    assert with_ac.coefficient((0, 2)) == float("-inf")


def test_batched_stepwise_equals_scalar(shared_data):
    import pandas as pd

    from ctip.estimate import from_frame

    hist = from_frame(pd.read_csv(shared_data / "mse-uk-2013" / "uk_2013_six_lists.csv"))
    rng = np.random.default_rng(11)
    rows = rng.multinomial(hist.observed, hist.counts / hist.observed, size=40)
    batched = stepwise_many(rows, hist.t, 0.02)
    for row, value in zip(rows, batched, strict=True):
        sel = stepwise(row, hist.t, 0.02)
        assert value == pytest.approx(sel.fit.estimate, rel=1e-9)


def test_batched_criterion_equals_scalar():
    hist = _table(5, t=3, N=600)
    rng = np.random.default_rng(2)
    rows = rng.multinomial(hist.observed, hist.counts / hist.observed, size=25)
    models = list(by_criterion(hist.counts, 3, "bic").models.models)
    batched = criterion_many(rows, 3, "bic", models)
    for row, value in zip(rows, batched, strict=True):
        sel = by_criterion(row, 3, "bic", models=models)
        expected = sel.fit.estimate if sel.fit is not None else np.nan
        np.testing.assert_allclose(value, expected, rtol=1e-8)


def test_fit_checked_refuses_nonexistent_mle():
    # the artificial table of Chan, Silverman & Vincent: A:B has no finite MLE
    hist = CaptureHistory(("A", "B", "C"), np.array([40, 30, 6, 20, 0, 0, 0]))
    result, chk = fit_checked(hist.counts, 3, ((0, 1),))
    assert result is None and chk.code == 1
    raw = fit(hist, ((0, 1),))
    assert not raw.converged  # Newton keeps walking towards infinity
