"""Fit every candidate model of one table at once: the exhaustive AIC/BIC search and model table.

Rcapture's ``closedpMS.t`` and MultipleSystemsEstimation's ``assemble_bic`` fit each of the 32,768
two-way models of a 6-list table one ``glm`` at a time (Rcapture: ~200 s). Here all models are
fitted together, in batched Newton steps over one design holding every term: a model's absent
terms are masked out of the Fisher information (identity rows) and the cells of its empty-overlap
terms (extended MLE, fitted mean 0) are masked out of the likelihood, so one matrix product gives
the information of thousands of models. The batch starts from the main-effects fit (warm start:
Newton then needs a handful of steps); models settle one by one and leave the batch.

What is proved and how, as in ``existence.fit_checked``: a fit that converged to finite,
bounded coefficients proves that its MLE exists; a rank-deficient information matrix (checked for
every model before Newton) means not identifiable; everything else goes to the Fienberg-Rinaldo
linear program, except models that add an overlapping term to a model already known to fail,
which fail too (SparseMSE's ``checkallmodels`` argument), with no LP to solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln
from threadpoolctl import threadpool_limits

from ctip.estimate.existence import BETA_BOUND, MU_FLOOR, Check, fit_checked, lp_exists
from ctip.estimate.loglinear import (
    STEP_TOL,
    Fit,
    _grid,
    design,
    fit,
    term_columns,
    term_overlaps,
)
from ctip.estimate.terms import Model, Term

BATCH = 4096  # models per block: bounds memory (information matrices) on 6 lists
MAX_STEPS = 30


@dataclass
class ModelSet:
    """Every candidate model of one table, fitted (or refused) in one pass; arrays by model."""

    t: int
    counts: np.ndarray
    models: list[Model]
    code: np.ndarray  # Check code per model: 0 fine, 1 no MLE, 2 not identifiable, 3 both
    dark: np.ndarray  # fitted number on no list (NaN if not estimable)
    se_log_dark: np.ndarray
    loglik: np.ndarray
    n_params: np.ndarray  # parameters counted in AIC/BIC (empty-overlap terms included)
    empty: list[tuple[Term, ...]]  # terms nobody is on, per model (fixed at -inf)

    @property
    def observed(self) -> int:
        return int(self.counts.sum())

    @property
    def estimate(self) -> np.ndarray:
        return self.observed + self.dark

    @property
    def aic(self) -> np.ndarray:
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> np.ndarray:
        return -2.0 * self.loglik + np.log(max(self.observed, 2)) * self.n_params

    def criterion(self, name: str) -> np.ndarray:
        return self.bic if name == "bic" else self.aic

    def ranked(self, name: str) -> np.ndarray:
        """Indices of the estimable models, best criterion first (ties: fewer terms, then order)."""
        value = self.criterion(name)
        ok = np.flatnonzero(np.isfinite(value))
        size = np.array([len(self.models[k]) for k in ok])
        return ok[np.lexsort((ok, size, value[ok]))]

    def fit(self, k: int) -> tuple[Fit | None, Check]:
        """The scalar fit of model k (exactly the numbers ``fit_checked`` gives)."""
        return fit_checked(self.counts, self.t, self.models[k])


def _full_columns(t: int, terms: list[Term]) -> np.ndarray:
    main = _grid(t)[0]
    return np.hstack([main, term_columns(t, tuple(terms))]) if terms else main


def _main_start(X: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """Main-effects Poisson fit (scalar Newton) as the common warm start of the batch."""
    from ctip.estimate.loglinear import newton

    beta, _, _, _ = newton(X[:, :p], y)
    out = np.zeros(X.shape[1])
    out[:p] = beta
    return out


def _newton_block(
    X: np.ndarray,
    outer: np.ndarray,
    y: np.ndarray,
    active: np.ndarray,
    keep: np.ndarray,
    start: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Batched Newton with step halving from per-model starts (b x p).

    Returns (beta, mu, information, converged)."""
    b, p = active.shape
    A = active.astype(np.float64)
    mask2 = (A[:, :, None] * A[:, None, :]).reshape(b, p * p)
    ident = np.zeros((b, p, p))
    ident[:, np.arange(p), np.arange(p)] = 1.0 - A
    Y = keep * y[None, :]
    beta = start * A
    eta = np.minimum(beta @ X.T, 700.0)
    mu = np.exp(eta) * keep
    ll = np.einsum("bc,bc->b", Y, eta) - mu.sum(axis=1)
    converged = np.zeros(b, dtype=bool)
    out_beta, out_mu = beta.copy(), mu.copy()
    rows = np.arange(b)  # models still moving; the state arrays below hold only them
    for _ in range(MAX_STEPS):
        if len(rows) == 0:
            break
        H = ((mu @ outer) * mask2).reshape(len(rows), p, p) + ident
        g = ((Y - mu) @ X) * A
        step = _solve_batch(H, g)
        bad = ~np.isfinite(step).all(axis=1)
        step[bad] = 0.0
        scale = np.ones(len(rows))
        for _ in range(30):
            trial = beta + scale[:, None] * step
            eta_t = np.minimum(trial @ X.T, 700.0)
            mu_t = np.exp(eta_t) * keep
            ll_t = np.einsum("bc,bc->b", Y, eta_t) - mu_t.sum(axis=1)
            worse = ll_t < ll - 1e-12 * np.abs(ll)
            if not worse.any():
                break
            scale[worse] *= 0.5
        beta, mu, ll = trial, mu_t, ll_t
        done = np.abs(step).max(axis=1) < STEP_TOL * (1.0 + np.abs(trial).max(axis=1))
        converged[rows[done & ~bad]] = True
        finished = done | bad
        out_beta[rows[finished]] = beta[finished]
        out_mu[rows[finished]] = mu[finished]
        if finished.any():
            stay = ~finished
            rows, beta, mu, ll = rows[stay], beta[stay], mu[stay], ll[stay]
            A, mask2, ident, Y, keep = A[stay], mask2[stay], ident[stay], Y[stay], keep[stay]
    out_beta[rows], out_mu[rows] = beta, mu
    A = active.astype(np.float64)
    mask2 = (A[:, :, None] * A[:, None, :]).reshape(b, p * p)
    ident = np.zeros((b, p, p))
    ident[:, np.arange(p), np.arange(p)] = 1.0 - A
    H = ((out_mu @ outer) * mask2).reshape(b, p, p) + ident
    return out_beta, out_mu, H, converged


def _solve_batch(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Solve H[k] x = g[k] for every k; NaN rows where H[k] is singular (left to the checks)."""
    try:
        return np.asarray(np.linalg.solve(H, g[:, :, None])[:, :, 0])
    except np.linalg.LinAlgError:  # a singular matrix slipped past the rank check
        return np.stack([_safe_solve(h, v) for h, v in zip(H, g, strict=True)])


def _safe_solve(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(np.linalg.solve(h, v))
    except np.linalg.LinAlgError:
        return np.full_like(v, np.nan)


def fit_models(counts: np.ndarray, t: int, models: list[Model]) -> ModelSet:
    """Check and fit every model in ``models`` (hierarchical, any order) on one table."""
    # the matrices are tiny (63 x 22 for 6 lists): BLAS threads only fight over the cores
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_models(counts, t, models)


def _fit_models(counts: np.ndarray, t: int, models: list[Model]) -> ModelSet:
    counts = np.asarray(counts, dtype=np.int64)
    nstar = term_overlaps(counts, t)
    terms = sorted({term for m in models for term in m}, key=lambda x: (len(x), x))
    col = {term: k for k, term in enumerate(terms)}
    X = _full_columns(t, terms)
    p = X.shape[1]
    base = 1 + t
    y = counts.astype(np.float64)
    nterm = term_columns(t, tuple(terms)) if terms else np.zeros((len(y), 0))
    is_empty = np.array([nstar_of(nstar, t, term) == 0 for term in terms], dtype=bool)
    g = len(models)
    member = np.zeros((g, len(terms)), dtype=bool)
    for k, model in enumerate(models):
        member[k, [col[term] for term in model]] = True
    empty_in = member & is_empty[None, :]
    keep = ~((empty_in.astype(np.float64) @ nterm.T) > 0)
    active = np.hstack([np.ones((g, base), dtype=bool), member & ~is_empty[None, :]])
    code = np.full(g, -1, dtype=np.int8)
    dark = np.full(g, np.nan)
    se = np.full(g, np.nan)
    loglik = np.full(g, np.nan)
    n_params = np.array([base + len(m) for m in models], dtype=np.float64)
    cells = X.shape[0]
    outer = (X[:, :, None] * X[:, None, :]).reshape(cells, p * p)
    # rank: the information at unit weights on the kept cells is positive definite iff the design
    # has full column rank there (eigenvalues relative to the largest)
    # has full column rank there (eigenvalues relative to the largest); on all the cells every
    # hierarchical model without the t-list term is identifiable, so only models with removed
    # cells need the check
    deficient = np.zeros(g, dtype=bool)
    eye = np.eye(p)
    cut = np.flatnonzero(~keep.all(axis=1))
    for lo in range(0, len(cut), BATCH):
        sl = cut[lo : lo + BATCH]
        A = active[sl].astype(np.float64)
        G = (keep[sl].astype(np.float64) @ outer).reshape(-1, p, p)
        G = G * A[:, :, None] * A[:, None, :] + eye[None] * (1.0 - A)[:, :, None]
        ev = np.linalg.eigvalsh(G)
        deficient[sl] = ev[:, 0] < 1e-9 * ev[:, -1]
    screened = _zero_margins(t, terms, y, member, keep)
    code[screened] = np.where(deficient[screened], 3, 1)
    main_start = _main_start(X, y, base)
    betas = np.zeros((g, p))
    # level by level (models by number of terms), each started from its parent's fit (the model
    # without its last term): Newton then needs about half the steps it needs from main effects
    size = np.array([len(m) for m in models])
    parent = _parents(models)
    for level in np.unique(size):
        todo = np.flatnonzero((size == level) & ~deficient & ~screened)
        for lo in range(0, len(todo), BATCH):
            idx = todo[lo : lo + BATCH]
            starts = np.repeat(main_start[None, :], len(idx), axis=0)
            par = parent[idx]
            warm = (par >= 0) & (code[np.maximum(par, 0)] == 0)
            starts[warm] = betas[par[warm]]
            beta, mu, H, conv = _newton_block(
                X, outer, y, active[idx], keep[idx].astype(np.float64), starts
            )
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                kept_mu = np.where(keep[idx], mu, np.inf)
                trusted = (
                    conv
                    & (np.abs(beta).max(axis=1) < BETA_BOUND)
                    & (kept_mu.min(axis=1) > MU_FLOOR)
                )
                logmu = np.log(np.where(keep[idx], mu, 1.0))
                ll = ((y * logmu - mu) * keep[idx]).sum(axis=1) - keep[idx] @ gammaln(y + 1.0)
                inv00 = _solve_batch(H, np.repeat(eye[None, 0], len(idx), axis=0))
            good = idx[trusted]
            code[good] = 0
            betas[good] = beta[trusted]
            dark[good] = np.exp(beta[trusted, 0])
            se[good] = np.sqrt(np.maximum(inv00[trusted, 0], 0.0))
            loglik[good] = ll[trusted]
    _settle_the_rest(counts, t, models, nstar, code, deficient, dark, se, loglik)
    zero = {term for term, e in zip(terms, is_empty, strict=True) if e}
    empties = [tuple(term for term in m if term in zero) for m in models]
    return ModelSet(t, counts, list(models), code, dark, se, loglik, n_params, empties)


def _zero_margins(
    t: int, terms: list[Term], y: np.ndarray, member: np.ndarray, keep: np.ndarray
) -> np.ndarray:
    """Models whose MLE provably does not exist because a margin of one of their terms is 0.

    For a term theta of the model and a non-empty R within theta, the people on exactly the lists
    R of theta (whatever else) are a linear function of the model's sufficient statistics, so the
    fitted count there must equal the observed one. If that is 0 while a cell of it is still
    fitted (not removed by an empty-overlap term), a finite fit is impossible: no MLE. A cheap
    proof that spares most linear programs (Western, 5 lists: 6,212 models, 2,826 without MLE).
    """
    from ctip.estimate.histories import pattern_grid

    patterns = pattern_grid(t).astype(bool)
    cells, owners = [], []
    for k, term in enumerate(terms):
        inside = patterns[:, list(term)]
        for r in range(1, 1 << len(term)):
            want = np.array([(r >> i) & 1 for i in range(len(term))], dtype=bool)
            sel = (inside == want).all(axis=1)
            if y[sel].sum() == 0:
                cells.append(sel)
                owners.append(k)
    if not cells:
        return np.zeros(len(member), dtype=bool)
    C = np.array(cells, dtype=np.float64)  # zero margin cells x table cells
    fitted_there = (keep.astype(np.float64) @ C.T) > 0  # models x zero margin cells
    has_term = member[:, owners]
    return np.asarray((fitted_there & has_term).any(axis=1))


def _parents(models: list[Model]) -> np.ndarray:
    """Index of each model's parent (itself without its last, highest-order term), -1 if none."""
    position = {m: k for k, m in enumerate(models)}
    return np.array([position.get(m[:-1], -1) if m else -1 for m in models], dtype=np.int64)


def nstar_of(nstar: np.ndarray, t: int, term: Term) -> float:
    from ctip.estimate.loglinear import _terms_grid

    return float(nstar[_terms_grid(t)[1][term]])


def _settle_the_rest(
    counts: np.ndarray,
    t: int,
    models: list[Model],
    nstar: np.ndarray,
    code: np.ndarray,
    deficient: np.ndarray,
    dark: np.ndarray,
    se: np.ndarray,
    loglik: np.ndarray,
) -> None:
    """Models the batch could not vouch for: inherit failure, else the linear program decides."""
    position = {m: k for k, m in enumerate(models)}
    failing: set[Model] = set()
    order = sorted(np.flatnonzero(code < 0), key=lambda k: len(models[k]))
    for k in order:
        model = models[k]
        inherited = False
        for term in model:
            if nstar_of(nstar, t, term) == 0:
                continue
            parent = tuple(x for x in model if x != term)
            if any(set(term) < set(x) for x in parent):
                continue  # removing it would break the hierarchy
            j = position.get(parent)
            if parent in failing or (j is not None and code[j] in (1, 3)):
                inherited = True
                break
        if inherited:
            code[k] = 3 if deficient[k] else 1
            failing.add(model)
            continue
        if deficient[k]:
            d = design(t, model, nstar)
            code[k] = 2 + (0 if lp_exists(d, counts) else 1)
            if code[k] == 3:
                failing.add(model)
            continue
        # the batch's Newton did not settle: the linear program decides; an MLE that exists
        # but was slow to find is refitted from a cold start, longer (as fit_checked does)
        if not lp_exists(design(t, model, nstar), counts):
            code[k] = 1
            failing.add(model)
            continue
        f = fit(counts, model, t=t, nstar=nstar, max_iter=1000)
        code[k] = 0
        dark[k], se[k], loglik[k] = f.dark, f.se_log_dark, f.loglik


def all_models(counts: np.ndarray, t: int, maxorder: int = 2) -> ModelSet:
    """Every hierarchical model of at most ``maxorder`` lists per term, fitted and checked."""
    from ctip.estimate.terms import hierarchical_models

    return fit_models(counts, t, list(hierarchical_models(t, maxorder)))
