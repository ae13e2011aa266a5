"""Model fitting and selection for many count vectors at once (bootstrap, jackknife, simulation).

Why this exists: the bootstrap repeats model selection on 1,000 resamples. Fitting them one by one
costs ~0.1 ms of Python per Newton step; fitting all resamples that currently share a model in one
batched Newton step (the Fisher information of every resample is one matrix product against the
per-cell outer products of the design) costs about the same as one scalar step. Selection is run in
lock-step: every round, each resample proposes its best candidate pair, resamples proposing the
same model are fitted together. Anything unusual - a batched fit that does not converge (possible
non-existence of the MLE), a rank-deficient design - is handed to the scalar code path in
``selection`` for that resample, so the answers are exactly those of ``stepwise``/``by_criterion``.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.special import gammaln, pdtr, pdtrc

from ctip.estimate.existence import _STARTS, BETA_BOUND, MU_FLOOR, rank_deficient
from ctip.estimate.histories import all_pairs
from ctip.estimate.loglinear import STEP_TOL, Pair, _grid, _terms_grid, design, needs_terms
from ctip.estimate.selection import by_criterion, stepwise

MAX_ITER = 60


def newton_many(
    X: np.ndarray, Y: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched Newton for Poisson log-linear fits sharing design X (cells x p); Y is (b x cells).

    Returns (beta (b x p), mu (b x cells), converged (b,)). Step size is the convergence test, as
    in ``loglinear.newton``, so converged means a finite MLE was found.
    """
    b, p = Y.shape[0], X.shape[1]
    outer = (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], p * p)
    beta = np.repeat(start[None, :], b, axis=0).astype(np.float64)
    eta = np.minimum(beta @ X.T, 700.0)
    mu = np.exp(eta)
    ll = np.einsum("bc,bc->b", Y, eta) - mu.sum(axis=1)
    active = np.ones(b, dtype=bool)
    converged = np.zeros(b, dtype=bool)
    for _ in range(MAX_ITER):
        idx = np.flatnonzero(active)
        if len(idx) == 0:
            break
        H = (mu[idx] @ outer).reshape(len(idx), p, p)
        g = (Y[idx] - mu[idx]) @ X
        try:
            step = np.linalg.solve(H, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            active[idx] = False  # leave to the scalar path
            break
        bad = ~np.isfinite(step).all(axis=1)
        step[bad] = 0.0
        scale = np.ones(len(idx))
        for _ in range(40):
            trial = beta[idx] + scale[:, None] * step
            eta_t = np.minimum(trial @ X.T, 700.0)
            mu_t = np.exp(eta_t)
            ll_t = np.einsum("bc,bc->b", Y[idx], eta_t) - mu_t.sum(axis=1)
            worse = ll_t < ll[idx] - 1e-12 * np.abs(ll[idx])
            if not worse.any():
                break
            scale[worse] *= 0.5
        beta[idx], mu[idx], ll[idx] = trial, mu_t, ll_t
        size = np.abs(step).max(axis=1)  # the full Newton step: a halved step proves nothing
        done = size < STEP_TOL * (1.0 + np.abs(trial).max(axis=1))
        converged[idx[done & ~bad]] = True
        active[idx[done | bad]] = False
    return beta, mu, converged


_INDEX: dict[int, dict[Pair, int]] = {}
# converged coefficients per design (model + its empty overlaps): the start for the next group
_GROUP_STARTS: dict[tuple, np.ndarray] = {}


def _key(t: int, model: tuple[Pair, ...], nstar_row: np.ndarray) -> tuple:
    index = _INDEX.get(t)
    if index is None:
        index = _INDEX[t] = _terms_grid(t)[1]
    model = tuple(sorted(model, key=lambda x: (len(x), x)))
    return model, tuple(p for p in model if nstar_row[index[p]] == 0)


def _cold_start(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """One IRLS step from R glm's mustart (y + 0.1), on the mean of the group's tables."""
    y = Y.mean(axis=0)
    w = y + 0.1
    z = np.log(w) + (y - w) / w
    return np.linalg.lstsq(X.T @ (w[:, None] * X), X.T @ (w * z), rcond=None)[0]


def fit_many(
    counts: np.ndarray, t: int, models: list[tuple[Pair, ...]], nstar: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit row r of ``counts`` with model ``models[r]``.

    Returns (dark figure, mu (rows x cells), loglik, ok) with ok False where the batched fit could
    not be trusted (the caller then uses the scalar path).
    """
    rows = counts.shape[0]
    dark = np.full(rows, np.nan)
    mu_all = np.zeros(counts.shape, dtype=np.float64)
    loglik = np.full(rows, np.nan)
    ok = np.zeros(rows, dtype=bool)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for r in range(rows):
        groups[_key(t, models[r], nstar[r])].append(r)
    for (model, empty), members in groups.items():
        idx = np.array(members)
        d = design(t, model, nstar[idx[0]])
        if rank_deficient(d):
            continue
        Y = counts[idx][:, d.keep].astype(np.float64)
        start = _GROUP_STARTS.get((t, model, empty))
        if start is None:
            key = (t, d.pairs, tuple(bool(v == 0) for v in nstar[idx[0]]))
            start = _STARTS.get(key)
        if start is None or len(start) != d.X.shape[1]:
            start = _cold_start(d.X, Y)
        beta, mu, conv = newton_many(d.X, Y, start)
        conv &= (np.abs(beta).max(axis=1) < BETA_BOUND) & (mu.min(axis=1) > MU_FLOOR)
        if conv.any():
            if len(_GROUP_STARTS) > 50_000:
                _GROUP_STARTS.clear()
            _GROUP_STARTS[(t, model, empty)] = beta[np.flatnonzero(conv)[0]]
        good = idx[conv]
        dark[good] = np.exp(beta[conv, 0])
        full = np.zeros((len(idx), counts.shape[1]))
        full[:, d.keep] = mu
        mu_all[good] = full[conv]
        with np.errstate(divide="ignore", invalid="ignore"):
            logmu = np.log(mu[conv])
            loglik[good] = (
                np.where(Y[conv] > 0, Y[conv] * logmu, 0.0) - mu[conv] - gammaln(Y[conv] + 1)
            ).sum(axis=1)
        ok[good] = True
    return dark, mu_all, loglik, ok


def stepwise_many(counts: np.ndarray, t: int, threshold: float = 0.02) -> np.ndarray:
    """``stepwise(...).fit.estimate`` for every row of ``counts`` (NaN where not estimable)."""
    counts = np.asarray(counts, dtype=np.int64)
    rows = counts.shape[0]
    if threshold <= 0 or threshold >= 1:
        return np.array([_scalar(c, t, threshold) for c in counts])
    _, prod, _ = _grid(t)
    pairs = all_pairs(t)
    nstar = counts @ prod
    n_obs = counts.sum(axis=1)
    out = np.full(rows, np.nan)
    models: list[tuple[Pair, ...]] = [()] * rows
    dark, mu, _, ok = fit_many(counts, t, models, nstar)
    for r in np.flatnonzero(~ok):
        out[r] = _scalar(counts[r], t, threshold)
    active = ok.copy()
    included = np.zeros((rows, len(pairs)), dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        lam = mu[idx] @ prod
        pv = np.minimum(
            pdtr(nstar[idx], lam), np.where(nstar[idx] > 0, pdtrc(nstar[idx] - 1, lam), 1.0)
        )
        pv[included[idx]] = np.inf
        best = np.argmin(pv, axis=1)  # argmin returns the lowest index among ties, as SparseMSE
        stop = pv[np.arange(len(idx)), best] >= threshold
        out[idx[stop]] = n_obs[idx[stop]] + dark[idx[stop]]
        active[idx[stop]] = False
        go = idx[~stop]
        if len(go) == 0:
            break
        best_go = best[~stop]
        proposed = [(*models[r], pairs[b]) for r, b in zip(go, best_go, strict=True)]
        new_dark, new_mu, _, new_ok = fit_many(counts[go], t, proposed, nstar[go])
        for k, r in enumerate(go):
            if new_ok[k]:
                models[r] = proposed[k]
                included[r, best_go[k]] = True
                dark[r], mu[r] = new_dark[k], new_mu[k]
            else:  # the best candidate needs the full check: finish this resample the scalar way
                out[r] = _scalar(counts[r], t, threshold)
                active[r] = False
    return out


def criterion_many(
    counts: np.ndarray, t: int, criterion: str, models: list[tuple[Pair, ...]]
) -> np.ndarray:
    """Smallest-AIC/BIC estimate over ``models`` for every row of ``counts``."""
    counts = np.asarray(counts, dtype=np.int64)
    rows = counts.shape[0]
    prod = _terms_grid(t)[0] if any(needs_terms(tuple(m)) for m in models) else _grid(t)[1]
    nstar = counts @ prod
    n_obs = counts.sum(axis=1)
    best_ic = np.full(rows, np.inf)
    out = np.full(rows, np.nan)
    penalty = np.log(np.maximum(n_obs, 2)) if criterion == "bic" else np.full(rows, 2.0)
    needs_scalar = np.zeros(rows, dtype=bool)
    for model in models:
        dark, _, ll, ok = fit_many(counts, t, [model] * rows, nstar)
        n_params = 1 + t + len(model)  # empty-overlap terms still count (as SparseMSE's AIC)
        ic = -2 * ll + penalty * n_params
        # a failed batched fit may still be a valid model: the scalar path decides
        for r in np.flatnonzero(~ok):
            needs_scalar[r] |= rank_ok(t, model, nstar[r])
        better = ok & (ic < best_ic)
        best_ic[better] = ic[better]
        out[better] = n_obs[better] + dark[better]
    for r in np.flatnonzero(needs_scalar):
        sel = by_criterion(counts[r], t, criterion, models=models)
        out[r] = sel.fit.estimate if sel.fit is not None else np.nan
    return out


def rank_ok(t: int, model: tuple[Pair, ...], nstar_row: np.ndarray) -> bool:
    return not rank_deficient(design(t, model, nstar_row))


def _scalar(row: np.ndarray, t: int, threshold: float) -> float:
    sel = stepwise(row, t, threshold)
    return sel.fit.estimate if sel.fit is not None else np.nan
