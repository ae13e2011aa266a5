"""Poisson log-linear models on the observable cells, the all-zero cell left out.

log mu_w = a_0 + sum_{j in w} a_j + sum_{(i,j) in model, i,j in w} a_ij, fitted to the 2^t - 1
observable cells (zeros included); exp(a_0) is the fitted dark figure, so N = n_obs + exp(a_0).

Empty overlaps (extended MLE, as SparseMSE): a pair (i, j) in the model with nobody on both lists
has an MLE of minus infinity. Its term is dropped and every cell holding both i and j is removed
(fitted mean 0); it still counts as a parameter in AIC/BIC.

Why a hand-written Newton fit and not ``statsmodels.GLM``: the design is tiny (at most a few
hundred cells by a few dozen columns) and the bootstrap repeats model selection 1,000 times, i.e.
~10^4 fits. statsmodels costs ~2 ms of set-up per fit; this loop costs ~0.1 ms, which is what
makes a 1,000-replicate bootstrap with selection run in about a second. The tests cross-check it
against statsmodels to 1e-8.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.linalg import lapack
from scipy.special import gammaln

from ctip.estimate.histories import CaptureHistory, all_pairs, pattern_grid
from ctip.estimate.terms import HIGHER_ORDER_MAX_LISTS, Term, all_terms

Pair = Term  # a pair (i, j), or any interaction term of the hierarchical models
MAX_ITER = 100
_posv = lapack.dposv
STEP_TOL = 1e-7  # Newton is quadratic: after a step this small the error is ~1e-14


@lru_cache(maxsize=32)
def _grid(t: int) -> tuple[np.ndarray, np.ndarray, dict[Pair, int]]:
    """Main-effect columns (with intercept) and all pair-product columns for t lists."""
    p = pattern_grid(t).astype(np.float64)
    pairs = all_pairs(t)
    prod = (
        np.column_stack([p[:, i] * p[:, j] for i, j in pairs]) if pairs else np.zeros((len(p), 0))
    )
    main = np.column_stack([np.ones(len(p)), p])
    return main, prod, {pair: k for k, pair in enumerate(pairs)}


def overlaps(counts: np.ndarray, t: int) -> np.ndarray:
    """N*_ij for every pair, in ``all_pairs`` order."""
    _, prod, _ = _grid(t)
    return counts @ prod


@lru_cache(maxsize=32)
def _terms_grid(t: int) -> tuple[np.ndarray, dict[Term, int]]:
    """Columns of every interaction term (up to t-1 lists for t <= 6, pairs beyond): pairs first,
    at the same positions as in ``_grid``."""
    terms = all_terms(t, max(2, t - 1) if t <= HIGHER_ORDER_MAX_LISTS else 2)
    p = pattern_grid(t).astype(np.float64)
    cols = (
        np.column_stack([p[:, list(term)].prod(axis=1) for term in terms])
        if terms
        else np.zeros((len(p), 0))
    )
    return cols, {term: k for k, term in enumerate(terms)}


def term_overlaps(counts: np.ndarray, t: int) -> np.ndarray:
    """N*_theta (people on every list of the term) for every term of ``_terms_grid``."""
    cols, _ = _terms_grid(t)
    return np.asarray(counts) @ cols


def term_columns(t: int, terms: tuple[Term, ...]) -> np.ndarray:
    cols, index = _terms_grid(t)
    return cols[:, [index[term] for term in terms]]


def needs_terms(terms: tuple[Term, ...]) -> bool:
    return any(len(term) > 2 for term in terms)


@dataclass
class Design:
    """The GLM design of one model on one table's support of empty pairs."""

    t: int
    pairs: tuple[Term, ...]  # every term in the model (pairs first), sorted
    empty: tuple[Term, ...]  # terms of the model nobody is on (cells removed, MLE -inf)
    keep: np.ndarray  # bool per cell
    X: np.ndarray  # kept cells x (1 + t + nonempty pairs)

    @property
    def n_params(self) -> int:
        """Parameters counted for AIC/BIC: fitted ones plus one per empty-overlap term."""
        return self.X.shape[1] + len(self.empty)

    @property
    def fitted_pairs(self) -> tuple[Term, ...]:
        return tuple(p for p in self.pairs if p not in self.empty)


_DESIGNS: dict[tuple, Design] = {}


def design(t: int, pairs: tuple[Term, ...], nstar: np.ndarray) -> Design:
    """Build the design for the model's terms given the overlaps ``nstar``; cached.

    ``nstar`` is ``overlaps`` (pairs only) for two-way models or ``term_overlaps`` (which begins
    with the same pairs) when the model has terms of three lists or more."""
    main = _grid(t)[0]
    prod, index = _terms_grid(t)
    pairs = tuple(sorted(pairs, key=lambda x: (len(x), x)))
    if needs_terms(pairs) and len(nstar) <= max(index[p] for p in pairs):
        raise ValueError("models with terms of 3 lists or more need term_overlaps()")
    key = (t, pairs, tuple(pair for pair in pairs if nstar[index[pair]] == 0))
    cached = _DESIGNS.get(key)
    if cached is not None:
        return cached
    keep = np.ones(len(main), dtype=bool)
    empty, cols = [], []
    for pair in pairs:
        k = index[pair]
        if nstar[k] == 0:
            empty.append(pair)
            keep &= prod[:, k] == 0
        else:
            cols.append(k)
    X = np.ascontiguousarray(np.hstack([main[keep], prod[keep][:, cols]]))
    if len(_DESIGNS) > 50_000:
        _DESIGNS.clear()
    _DESIGNS[key] = d = Design(t, pairs, tuple(empty), keep, X)
    return d


@dataclass
class Fit:
    """A fitted log-linear model; ``converged`` False: Newton did not settle (see existence)."""

    design: Design
    observed: int
    beta: np.ndarray
    information: np.ndarray  # Fisher information X'WX at the fit
    mu: np.ndarray  # fitted means on all cells (0 on removed cells)
    loglik: float
    deviance: float
    converged: bool
    iterations: int
    extra: dict = field(default_factory=dict)

    @property
    def cov(self) -> np.ndarray:
        """Unscaled covariance of the coefficients (inverse Fisher information)."""
        if "cov" not in self.extra:
            try:
                self.extra["cov"] = np.linalg.inv(self.information)
            except np.linalg.LinAlgError:
                self.extra["cov"] = np.full_like(self.information, np.inf)
        cov: np.ndarray = self.extra["cov"]
        return cov

    @property
    def dark(self) -> float:
        return float(np.exp(self.beta[0]))

    @property
    def estimate(self) -> float:
        return self.observed + self.dark

    @property
    def se_log_dark(self) -> float:
        return float(np.sqrt(max(self.cov[0, 0], 0.0)))

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.design.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + np.log(max(self.observed, 2)) * self.design.n_params

    def coefficient(self, pair: Term) -> float:
        """The fitted interaction (log odds-ratio scale); -inf for an empty-overlap term."""
        if pair in self.design.empty:
            return float("-inf")
        k = 1 + self.design.t + self.design.fitted_pairs.index(pair)
        return float(self.beta[k])


def newton(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray | None = None, max_iter: int = MAX_ITER
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Maximise the Poisson log-likelihood by Newton's method with step halving.

    Returns (beta, mu, converged, iterations). Convergence is judged on the step size: when the MLE
    does not exist the likelihood keeps rising along a direction and Newton takes steps of about 1
    forever, so "converged" here is a proof that a finite maximiser (the MLE) was found.
    """
    if beta is None:
        mu = y + 0.1  # R glm's mustart for poisson
        z = np.log(mu) + (y - mu) / mu
        H = X.T @ (mu[:, None] * X)
        try:
            beta = np.linalg.solve(H, X.T @ (mu * z))
        except np.linalg.LinAlgError:
            beta = np.linalg.lstsq(H, X.T @ (mu * z), rcond=None)[0]
    eta = np.minimum(X @ beta, 700.0)
    mu = np.exp(eta)
    ll = float(y @ eta - mu.sum())
    Xt = X.T
    for it in range(1, max_iter + 1):
        H = Xt @ (mu[:, None] * X)
        # Cholesky solve straight from LAPACK: numpy.linalg.solve's checks cost more than the
        # solve itself on a 20 x 20 system; info != 0 means H is not positive definite
        _, step, info = _posv(H, Xt @ (y - mu), lower=False, overwrite_a=True, overwrite_b=True)
        if info != 0 or not np.isfinite(step).all():
            return beta, mu, False, it
        scale = 1.0
        for _ in range(40):
            trial = beta + scale * step
            eta_t = np.minimum(X @ trial, 700.0)
            mu_t = np.exp(eta_t)
            ll_t = float(y @ eta_t - mu_t.sum())
            if ll_t >= ll - 1e-12 * abs(ll):
                break
            scale *= 0.5
        beta, mu, ll = trial, mu_t, ll_t
        # judged on the full Newton step: a step shrunk by the line search proves nothing
        if np.abs(step).max() < STEP_TOL * (1.0 + np.abs(beta).max()):
            return beta, mu, True, it
    return beta, mu, False, max_iter


def fit(
    history: CaptureHistory | np.ndarray,
    pairs: tuple[Term, ...] = (),
    *,
    t: int | None = None,
    start: np.ndarray | None = None,
    nstar: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
) -> Fit:
    """Fit the model with main effects plus ``pairs`` (indices into the lists).

    ``history`` may be a CaptureHistory or a bare count vector with ``t`` (used by the bootstrap).
    ``start`` is a warm start for the fitted coefficients.
    """
    counts = history.counts if isinstance(history, CaptureHistory) else np.asarray(history)
    t = history.t if isinstance(history, CaptureHistory) else int(t)  # type: ignore[arg-type]
    if nstar is None:
        nstar = term_overlaps(counts, t) if needs_terms(tuple(pairs)) else overlaps(counts, t)
    d = design(t, tuple(pairs), nstar)
    y = counts[d.keep].astype(np.float64)
    if start is not None and len(start) != d.X.shape[1]:
        start = None
    beta, mu_kept, converged, iterations = newton(d.X, y, start, max_iter)
    H = d.X.T @ (mu_kept[:, None] * d.X)
    mu = np.zeros(len(counts))
    mu[d.keep] = mu_kept
    with np.errstate(divide="ignore", invalid="ignore"):
        logmu = np.log(mu_kept)
        ll = float(np.sum(y * logmu - mu_kept - gammaln(y + 1.0)))
        dev_terms = np.where(y > 0, y * np.log(y / mu_kept), 0.0) - (y - mu_kept)
    return Fit(
        d, int(counts.sum()), beta, H, mu, ll, float(2.0 * dev_terms.sum()), converged, iterations
    )


def newton_stack(
    Xs: np.ndarray, Ys: np.ndarray, max_iter: int = 40
) -> tuple[np.ndarray, np.ndarray]:
    """Newton fits of g different models at once: Xs (g x cells x p), Ys (g x cells).

    Used to fit all 1,024 two-way models of a 5-list table in a handful of batched steps instead
    of 1,024 Python loops. Returns (beta (g x p), converged (g,)); the callers re-check each
    converged fit with the scalar code (one step), so this only supplies starting points.
    """
    Xt = Xs.transpose(0, 2, 1)
    w = Ys + 0.1  # R glm's mustart
    z = np.log(w) + (Ys - w) / w
    try:
        beta = np.linalg.solve(Xt @ (w[:, :, None] * Xs), (Xt @ (w * z)[:, :, None]))[:, :, 0]
    except np.linalg.LinAlgError:
        return np.zeros(Xs.shape[::2]), np.zeros(len(Xs), dtype=bool)
    converged = np.zeros(len(Xs), dtype=bool)
    for _ in range(max_iter):
        eta = np.minimum((Xs @ beta[:, :, None])[:, :, 0], 700.0)
        mu = np.exp(eta)
        H = Xt @ (mu[:, :, None] * Xs)
        grad = (Xt @ (Ys - mu)[:, :, None])[:, :, 0]
        try:
            step = np.linalg.solve(H, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            break
        step[~np.isfinite(step).all(axis=1)] = 0.0
        step = np.clip(step, -5.0, 5.0)  # no step halving here: damp wild first steps instead
        beta = beta + step
        converged = np.abs(step).max(axis=1) < STEP_TOL * (1.0 + np.abs(beta).max(axis=1))
        if converged.all():
            break
    return beta, converged


def expected_overlaps(fit_: Fit) -> np.ndarray:
    """lambda*_ij: the fitted number of people on both i and j, for every pair (all_pairs order)."""
    _, prod, _ = _grid(fit_.design.t)
    return fit_.mu @ prod
