"""Does the (extended) maximum likelihood estimate of a model exist, and is it identifiable?

The Fienberg-Rinaldo (2012) linear program, as in SparseMSE's ``checkident``: with A the design
(cells x parameters, after removing the cells of empty-overlap terms) and t = A'n the sufficient
statistics, maximise s subject to A'x = t, x >= s, x >= 0. The MLE exists iff the optimum s > 0,
i.e. some strictly positive table has the same margins as the data. Column-rank deficiency of A
means the model is not identifiable. Codes as SparseMSE: 0 fine, 1 MLE does not exist,
2 not identifiable, 3 both.

``fit_checked`` is what the selection loops call: Newton's step-size convergence already proves
existence (a finite maximiser was found), so the linear program only runs when the fit did not
settle. That keeps the check at every stepwise step without paying for an LP in every one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from ctip.estimate.loglinear import (
    Design,
    Fit,
    Pair,
    design,
    fit,
    needs_terms,
    overlaps,
    term_overlaps,
)

LP_TOL = 1e-7


@dataclass(frozen=True)
class Check:
    code: int  # 0 ok, 1 MLE does not exist, 2 not identifiable, 3 both

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def exists(self) -> bool:
        return self.code in (0, 2)

    @property
    def identifiable(self) -> bool:
        return self.code in (0, 1)

    @property
    def reason(self) -> str:
        return {
            0: "",
            1: "the maximum likelihood estimate does not exist (some fitted cell goes to 0)",
            2: "the model is not identifiable from these lists (too few observed combinations)",
            3: "the maximum likelihood estimate does not exist and the model is not identifiable",
        }[self.code]


def rank_deficient(d: Design) -> bool:
    """Column-rank deficiency of the design (cached on the design, which is itself cached)."""
    cached = getattr(d, "_deficient", None)
    if cached is None:
        X = d.X
        cached = X.shape[1] > X.shape[0] or bool(np.linalg.matrix_rank(X) < X.shape[1])
        d._deficient = cached  # type: ignore[attr-defined]
    return bool(cached)


def lp_exists(d: Design, counts: np.ndarray) -> bool:
    """The Fienberg-Rinaldo linear program (scipy HiGHS in place of lpSolve)."""
    A = d.X.T  # params x cells
    y = counts[d.keep].astype(np.float64)
    npar, ncell = A.shape
    c = np.zeros(ncell + 1)
    c[-1] = -1.0  # maximise s
    a_eq = np.hstack([A, np.zeros((npar, 1))])
    a_ub = np.hstack([-np.eye(ncell), np.ones((ncell, 1))])  # s - x_w <= 0
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=np.zeros(ncell),
        A_eq=a_eq,
        b_eq=A @ y,
        bounds=[(0, None)] * (ncell + 1),
        method="highs",
    )
    if res.status != 0:
        return False
    return bool(-res.fun > LP_TOL)


BETA_BOUND = 25.0  # |coefficient| beyond e^25 means a cell is being pushed to 0 or infinity
MU_FLOOR = 1e-9


def trustworthy(beta: np.ndarray, mu_kept: np.ndarray, converged: bool) -> bool:
    """Can a Newton fit be taken as proof that the MLE exists, without the linear program?

    At the edge of non-existence Newton can stall numerically (a fitted cell of 1e-17 no longer
    moves the information matrix) and look converged with absurd coefficients. Such fits, and
    any with a fitted cell below 1e-9, go to the linear program, which has the final word.
    """
    return bool(
        converged
        and np.isfinite(beta).all()
        and np.abs(beta).max() < BETA_BOUND
        and (mu_kept.size == 0 or mu_kept.min() > MU_FLOOR)
    )


def check(counts: np.ndarray, t: int, pairs: tuple[Pair, ...]) -> Check:
    """SparseMSE ``checkident`` for main effects plus ``pairs`` (terms of any order)."""
    nstar = term_overlaps(counts, t) if needs_terms(tuple(pairs)) else overlaps(counts, t)
    d = design(t, tuple(pairs), nstar)
    return Check((0 if lp_exists(d, counts) else 1) + (2 if rank_deficient(d) else 0))


_RANK_CACHE: dict[tuple, bool] = {}
# Last coefficients fitted for each (model, empty overlaps): bootstrap resamples are close to the
# data, so the previous fit of the same model is a better Newton start than the smaller model's.
_STARTS: dict[tuple, np.ndarray] = {}


def fit_checked(
    counts: np.ndarray,
    t: int,
    pairs: tuple[Pair, ...],
    *,
    start: np.ndarray | None = None,
    nstar: np.ndarray | None = None,
    exact_start: np.ndarray | None = None,
) -> tuple[Fit | None, Check]:
    """Fit a model if, and only if, its MLE exists and is identifiable.

    Rank is checked first (cached: it depends only on the model and which overlaps are empty);
    then Newton; only a fit that did not converge is sent to the linear program.
    """
    if nstar is None:
        nstar = term_overlaps(counts, t) if needs_terms(tuple(pairs)) else overlaps(counts, t)
    pairs = tuple(sorted(pairs, key=lambda x: (len(x), x)))
    key = (t, pairs, tuple(bool(nstar[k] == 0) for k in range(len(nstar))))
    deficient = _RANK_CACHE.get(key)
    if deficient is None:
        deficient = rank_deficient(design(t, pairs, nstar))
        if len(_RANK_CACHE) > 100_000:
            _RANK_CACHE.clear()
        _RANK_CACHE[key] = deficient
    if deficient:
        d = design(t, pairs, nstar)
        return None, Check((0 if lp_exists(d, counts) else 1) + 2)
    # 40 Newton steps settle any fit whose MLE exists (quadratic convergence); a fit still moving
    # after that is almost surely diverging, which the linear program then decides
    if exact_start is None:
        exact_start = _STARTS.get(key, start)
    result = fit(counts, pairs, t=t, start=exact_start, nstar=nstar, max_iter=40)
    if trustworthy(result.beta, result.mu[result.design.keep], result.converged):
        if len(_STARTS) > 100_000:
            _STARTS.clear()
        _STARTS[key] = result.beta
        return result, Check(0)
    if lp_exists(result.design, counts):
        # exists but Newton was slow (very flat likelihood): refit from a cold start, longer
        result = fit(counts, pairs, t=t, nstar=nstar, max_iter=1000)
        return result, Check(0)
    return None, Check(1)
