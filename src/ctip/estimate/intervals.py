"""Intervals for the population size: Wald on the log dark figure, profile likelihood, bootstrap.

- Wald (SparseMSE ``estimatepopulation.0``): n_obs + exp(a_0 +/- z se(a_0)), conditional on the
  chosen model.
- Profile likelihood (Rcapture ``closedpCI.t``): the multinomial likelihood of N with the model's
  other parameters maximised out, via a Poisson fit of the table completed with N - n_obs people in
  the all-zero cell; the interval is where twice the drop in log-likelihood stays under the chi^2_1
  quantile. Its maximiser differs slightly from the Poisson MLE, as in Rcapture.
- Bootstrap (SparseMSE ``estimatepopulation``): multinomial resamples of the observed counts
  (unobserved patterns stay 0), the whole model selection repeated in every replicate, BCa with the
  acceleration from a count-weighted delete-one jackknife over observed patterns, quantiles as R's
  ``type = 8``. Resamples are drawn up front from one seeded generator, so the result is the same
  whatever the number of worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from scipy.special import gammaln
from scipy.stats import chi2, norm
from threadpoolctl import threadpool_limits

from ctip.estimate.batch import criterion_many, stepwise_many
from ctip.estimate.histories import pattern_grid
from ctip.estimate.loglinear import Fit, _grid, newton, term_columns


def wald(fit: Fit, level: float = 0.95) -> tuple[float, float]:
    z = norm.ppf(0.5 + level / 2)
    b0, se = fit.beta[0], fit.se_log_dark
    with np.errstate(over="ignore"):
        return float(fit.observed + np.exp(b0 - z * se)), float(fit.observed + np.exp(b0 + z * se))


# ---------------------------------------------------------------- profile likelihood


def _full_design(fit: Fit) -> np.ndarray:
    """The model's design on all 2^t cells: the zero cell first (intercept only)."""
    d = fit.design
    main = _grid(d.t)[0]
    x_obs = np.hstack([main[d.keep], term_columns(d.t, d.fitted_pairs)[d.keep]])
    zero = np.zeros((1, x_obs.shape[1]))
    zero[0, 0] = 1.0
    return np.vstack([zero, x_obs])


def profile_loglik(fit: Fit, counts: np.ndarray) -> Callable[[float], float]:
    X = _full_design(fit)
    y_obs = counts[fit.design.keep].astype(np.float64)
    n = float(counts.sum())
    state: dict[str, np.ndarray | None] = {"beta": None}

    def loglik(total: float) -> float:
        y = np.concatenate([[max(total - n, 0.0)], y_obs])
        beta, mu, _, _ = newton(X, y, state["beta"])
        state["beta"] = beta
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(y > 0, y * np.log(mu / total), 0.0)
        return float(gammaln(total + 1) - gammaln(total - n + 1) + terms.sum())

    return loglik


def profile(
    fit: Fit, counts: np.ndarray, level: float = 0.95, max_ratio: float = 1000.0
) -> tuple[float, float, float]:
    """(profile maximiser, low, high); high is inf when the likelihood never drops enough."""
    ll = profile_loglik(fit, counts)
    n = float(counts.sum())
    cut = chi2.ppf(level, 1) / 2
    guess = fit.estimate
    span = max(guess - n, 1.0)
    res = minimize_scalar(
        lambda v: -ll(v),
        bounds=(n, guess + 20 * span),
        method="bounded",
        options={"xatol": 1e-6 * guess},
    )
    n_hat, ll_max = float(res.x), -float(res.fun)

    def drop(v: float) -> float:
        return ll_max - ll(v) - cut

    low = n if drop(n) <= 0 else brentq(drop, n, n_hat, xtol=1e-6 * n_hat)
    high, step = float("inf"), max(n_hat - n, 1.0)
    edge = n_hat + step
    while edge < n * max_ratio:
        if drop(edge) > 0:
            high = brentq(drop, max(n_hat, edge - step), edge, xtol=1e-6 * n_hat)
            break
        step *= 2
        edge = n_hat + step
    return n_hat, float(low), float(high)


# ---------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class Selector:
    """The estimator a bootstrap repeats: rows of counts -> estimates (NaN: not estimable).

    ``kind`` is "stepwise" (SparseMSE), "criterion" (smallest AIC/BIC over ``models``) or "scalar"
    (any selection function of (counts, t) -> Selection, one replicate at a time). A resample in
    which a list has nobody is estimated as the real data would be: that list is dropped (and
    the model's terms holding it), so the bootstrap repeats the procedure, not a failed fit.
    """

    kind: str
    t: int
    threshold: float = 0.02
    criterion: str = "aic"
    models: tuple = ()
    scalar: Callable | None = None

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(len(rows), np.nan)
        totals = rows @ pattern_grid(self.t)
        whole = (totals > 0).all(axis=1)
        if whole.any():
            out[whole] = self._batched(rows[whole])
        for r in np.flatnonzero(~whole):
            out[r] = self._reduced(rows[r], np.flatnonzero(totals[r] > 0))
        return out

    def _batched(self, rows: np.ndarray) -> np.ndarray:
        if self.kind == "stepwise":
            return stepwise_many(rows, self.t, self.threshold)
        if self.kind == "criterion":
            return criterion_many(rows, self.t, self.criterion, list(self.models))
        assert self.scalar is not None
        fits = [self.scalar(row, self.t).fit for row in rows]
        return np.array([f.estimate if f is not None else np.nan for f in fits])

    def _reduced(self, row: np.ndarray, keep: np.ndarray) -> float:
        if len(keep) < 2:
            return float("nan")
        patterns = pattern_grid(self.t)[:, keep]
        codes = (patterns.astype(np.int64) << np.arange(len(keep))).sum(axis=1)
        small = np.zeros(2 ** len(keep) - 1, dtype=np.int64)
        on = codes > 0
        np.add.at(small, codes[on] - 1, row[on])
        if (small[patterns_with_two(len(keep))]).sum() == 0:
            return float("nan")  # no overlap left: the estimator itself refuses
        where = {int(old): new for new, old in enumerate(keep)}
        models = tuple(
            dict.fromkeys(
                tuple(tuple(where[v] for v in term) for term in m if all(v in where for v in term))
                for m in self.models
            )
        )
        sub = Selector(self.kind, len(keep), self.threshold, self.criterion, models, self.scalar)
        return float(sub._batched(small[None, :])[0])


def patterns_with_two(t: int) -> np.ndarray:
    return np.flatnonzero(pattern_grid(t).sum(axis=1) >= 2)


def select_stepwise(t: int, threshold: float) -> Selector:
    """Rows of counts -> stepwise estimates (batched; identical to ``selection.stepwise``)."""
    return Selector("stepwise", t, threshold=threshold)


def select_criterion(t: int, criterion: str, models: list) -> Selector:
    """Rows of counts -> smallest-AIC/BIC estimate over ``models``."""
    return Selector("criterion", t, criterion=criterion, models=tuple(tuple(m) for m in models))


def select_fixed(t: int, pairs: tuple) -> Selector:
    """Rows of counts -> estimate under one fixed model (no selection)."""
    return Selector("criterion", t, criterion="aic", models=(tuple(pairs),))


def select_scalar(t: int, selection: Callable) -> Selector:
    """Rows of counts -> ``selection(counts, t).fit.estimate``, one replicate at a time."""
    return Selector("scalar", t, scalar=selection)


@dataclass
class Bootstrap:
    replicates: np.ndarray
    acceleration: float
    bias_z0: float
    low: float
    high: float
    failed: int


def run_many(
    selector: Selector,
    rows: np.ndarray,
    *,
    workers: int = 1,
    chunk: int = 125,
    on_progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Apply ``selector`` to chunks of count vectors (in worker processes if ``workers`` > 1).

    Selection is batched within a chunk, so one process is usually enough; chunks exist for the
    progress bar and for spreading very large jobs (many lists) over cores.
    """
    chunks = np.array_split(rows, max(1, -(-len(rows) // chunk)))
    out = []
    if workers <= 1:
        with threadpool_limits(limits=1, user_api="blas"):  # tiny matrices: threads only hurt
            for part in chunks:
                out.append(selector(part))
                if on_progress:
                    on_progress(len(part))
    else:
        ctx = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            for part, result in zip(chunks, pool.map(selector, chunks), strict=True):
                out.append(result)
                if on_progress:
                    on_progress(len(part))
    return np.concatenate(out) if out else np.array([])


def bootstrap(
    counts: np.ndarray,
    selector: Selector,
    point: float,
    *,
    replicates: int = 1000,
    seed: int = 1234,
    level: float = 0.95,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> Bootstrap:
    """BCa bootstrap with the selection (``selector``: counts -> N) repeated in every replicate."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    rng = np.random.default_rng(seed)
    samples = rng.multinomial(n, counts / n, size=replicates)
    observed = np.flatnonzero(counts)
    jack_rows = np.repeat(counts[None, :], len(observed), axis=0)
    jack_rows[np.arange(len(observed)), observed] -= 1
    values = run_many(
        selector, np.vstack([samples, jack_rows]), workers=workers, on_progress=on_progress
    )
    boot, jack = values[:replicates], values[replicates:]
    failed = int(np.isnan(boot).sum())
    good = boot[~np.isnan(boot)]
    weights = counts[observed].astype(float)
    ok = ~np.isnan(jack)
    theta_bar = np.sum(weights[ok] * jack[ok]) / weights[ok].sum() if ok.any() else point
    r = theta_bar - jack[ok]
    denom = 6.0 * np.sum(weights[ok] * r**2) ** 1.5
    a = float(np.sum(weights[ok] * r**3) / denom) if denom > 0 else 0.0
    if len(good) == 0:
        return Bootstrap(boot, a, float("nan"), float("nan"), float("nan"), failed)
    frac = np.clip(np.mean(good < point), 0.5 / len(good), 1 - 0.5 / len(good))
    z0 = float(norm.ppf(frac))
    alphas = np.array([0.5 - level / 2, 0.5 + level / 2])
    za = norm.ppf(alphas)
    adjusted = norm.cdf(z0 + (z0 + za) / (1 - a * (z0 + za)))
    low, high = np.quantile(good, adjusted, method="median_unbiased")  # R quantile type 8
    return Bootstrap(boot, a, z0, float(low), float(high), failed)
