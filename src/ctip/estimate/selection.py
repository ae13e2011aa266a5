"""Model selection: SparseMSE's stepwise procedure, and AIC/BIC over all two-way models.

Stepwise (Chan, Silverman & Vincent 2021, ``stepwisefit``): start from main effects; for each pair
not yet in the model the statistic N*_ij (people on both lists) is Poisson with mean lambda*_ij
(fitted people on both lists) under the current model; p = min(P(X <= N*), P(X >= N*)), so
negative dependence can enter too. A candidate whose model fails the existence/identifiability
check gets p = 1. Add the smallest p while p < threshold (default 0.02); ties go to the lowest pair
in R's ``combn`` order.

Information criteria: every hierarchical model with main effects and terms of at most ``maxorder``
lists (MultipleSystemsEstimation's defaults: two-way for 3 and 6 lists, three-way for 4 and 5) is
checked and fitted (``search``: all 32,768 two-way models of 6 lists in about 2 s); the smallest
AIC or BIC wins. With more than 6 lists the exhaustive search is too large and a greedy forward
search on the criterion is used (as ``downhill_fit`` in MultipleSystemsEstimation), which the
result states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import pdtr, pdtrc

from ctip.estimate import search
from ctip.estimate.existence import Check, fit_checked
from ctip.estimate.histories import all_pairs
from ctip.estimate.loglinear import Fit, Pair, expected_overlaps, overlaps
from ctip.estimate.search import ModelSet
from ctip.estimate.terms import check_maxorder, default_maxorder

EXHAUSTIVE_MAX_LISTS = 6  # 32,768 two-way models: fitted in batches in about 2 s


@dataclass
class Selection:
    """The chosen model (``fit`` None when not even main effects can be fitted)."""

    fit: Fit | None
    terms: tuple[Pair, ...]  # in order of entry
    check: Check
    note: str = ""
    models: ModelSet | None = None  # every candidate of an exhaustive search, fitted


def _warm_start(current: Fit, pairs: tuple[Pair, ...], nstar: np.ndarray) -> np.ndarray:
    index: dict[Pair, int] = {pair: k for k, pair in enumerate(all_pairs(current.design.t))}
    old = current.design.fitted_pairs
    t = current.design.t
    beta = list(current.beta[: 1 + t])
    for pair in sorted(pairs):
        if nstar[index[pair]] == 0:
            continue
        beta.append(current.beta[1 + t + old.index(pair)] if pair in old else 0.0)
    return np.asarray(beta)


def poisson_pvalues(current: Fit, nstar: np.ndarray) -> np.ndarray:
    """Two-sided-minimum Poisson p-value of every pair's overlap under the current model."""
    lam = expected_overlaps(current)
    lower = pdtr(nstar, lam)
    upper = np.where(nstar > 0, pdtrc(nstar - 1, lam), 1.0)
    return np.minimum(lower, upper)


def stepwise(counts: np.ndarray, t: int, threshold: float = 0.02) -> Selection:
    """SparseMSE's stepwise selection with the existence check at each step."""
    counts = np.asarray(counts, dtype=np.int64)
    nstar = overlaps(counts, t)
    current, chk = fit_checked(counts, t, (), nstar=nstar)
    if current is None:
        return Selection(None, (), chk)
    pairs = all_pairs(t)
    if threshold >= 1:
        full, fchk = fit_checked(counts, t, tuple(pairs), nstar=nstar)
        if full is not None:
            return Selection(full, tuple(pairs), fchk)
    terms: list[Pair] = []
    if threshold <= 0:
        return Selection(current, (), chk)
    included = np.zeros(len(pairs), dtype=bool)
    while not included.all():
        p = poisson_pvalues(current, nstar)
        p[included] = np.inf
        order = np.lexsort((np.arange(len(p)), p))
        accepted = None
        for k in order:
            if not p[k] < threshold:
                break
            model = (*terms, pairs[k])
            start = _warm_start(current, model, nstar)
            new, _ = fit_checked(counts, t, model, start=start, nstar=nstar)
            if new is not None:
                accepted = (k, new)
                break
            # fails the check: p = 1 for this round (SparseMSE re-tests it in later rounds)
        if accepted is None:
            break
        k, current = accepted
        included[k] = True
        terms.append(pairs[k])
    return Selection(current, tuple(terms), Check(0))


def by_criterion(
    counts: np.ndarray,
    t: int,
    criterion: str = "bic",
    models: list[tuple[Pair, ...]] | None = None,
    maxorder: int | None = None,
) -> Selection:
    """Smallest AIC/BIC: over every hierarchical model with terms of at most ``maxorder`` lists
    (exhaustive up to 6 lists: 32,768 two-way models), over ``models`` if given, greedy beyond."""
    counts = np.asarray(counts, dtype=np.int64)
    if models is None and t > EXHAUSTIVE_MAX_LISTS:
        key = (lambda f: f.bic) if criterion == "bic" else (lambda f: f.aic)
        return _greedy(counts, t, key, criterion)
    if models is None:
        order = default_maxorder(t) if maxorder is None else check_maxorder(t, maxorder)
        cands = search.all_models(counts, t, order)
    else:
        cands = search.fit_models(counts, t, [tuple(m) for m in models])
    ranked = cands.ranked(criterion)
    if len(ranked) == 0:
        code = int(cands.code[0]) if len(cands.code) else 1
        return Selection(None, (), Check(code), models=cands)
    best = int(ranked[0])
    fit, chk = cands.fit(best)
    return Selection(fit, tuple(cands.models[best]), chk, models=cands)


def _greedy(counts: np.ndarray, t: int, key, criterion: str) -> Selection:
    nstar = overlaps(counts, t)
    current, chk = fit_checked(counts, t, (), nstar=nstar)
    if current is None:
        return Selection(None, (), chk)
    terms: list[Pair] = []
    remaining = list(all_pairs(t))
    while remaining:
        best = None
        for pair in remaining:
            model = (*terms, pair)
            f, _ = fit_checked(
                counts, t, model, start=_warm_start(current, model, nstar), nstar=nstar
            )
            if f is not None and key(f) < key(current) and (best is None or key(f) < key(best[1])):
                best = (pair, f)
        if best is None:
            break
        terms.append(best[0])
        remaining.remove(best[0])
        current = best[1]
    note = (
        f"greedy forward {criterion.upper()} search ({t} lists: the exhaustive search covers up "
        f"to {EXHAUSTIVE_MAX_LISTS}, {2 ** (t * (t - 1) // 2):,} models would be needed here)"
    )
    return Selection(current, tuple(terms), Check(0), note=note)


def aic_stepwise(counts: np.ndarray, t: int, threshold: float = 0.05) -> Selection:
    """The Home Office 2014 method (Silverman 2014; Bales, Hesketh & Silverman 2015; modslavmse's
    ``MSEfit``): from main effects, add the pair that lowers the AIC most (ties: lowest pair);
    stop when no pair lowers it, or when the added pair's Wald p-value exceeds ``threshold``
    (the papers use 5% and 0.1%). A pair nobody is on both lists of has a coefficient of -inf
    (Rcapture's glm drifts there with a p-value near 1), so adding it stops the search too.
    Models whose MLE does not exist are not candidates (Rcapture would fit them regardless).
    """
    from scipy.stats import norm

    counts = np.asarray(counts, dtype=np.int64)
    nstar = overlaps(counts, t)
    current, chk = fit_checked(counts, t, (), nstar=nstar)
    if current is None:
        return Selection(None, (), chk)
    pairs = all_pairs(t)
    terms: list[Pair] = []
    note = ""
    while len(terms) < len(pairs):
        best: tuple[float, int, Fit] | None = None
        for k, pair in enumerate(pairs):
            if pair in terms:
                continue
            model = (*terms, pair)
            f, _ = fit_checked(
                counts, t, model, start=_warm_start(current, model, nstar), nstar=nstar
            )
            if f is not None and f.aic < current.aic and (best is None or f.aic < best[0]):
                best = (f.aic, k, f)
        if best is None:
            note = "stopped: no pair lowers the AIC"
            break
        _, k, candidate = best
        coef = candidate.coefficient(pairs[k])
        if not np.isfinite(coef):
            pvalue = 1.0
        else:
            j = 1 + t + candidate.design.fitted_pairs.index(pairs[k])
            se = float(np.sqrt(max(candidate.cov[j, j], 0.0)))
            pvalue = float(2 * norm.sf(abs(coef) / se)) if se > 0 else 1.0
        if pvalue > threshold:
            note = (
                f"stopped: the next pair by AIC, {pairs[k]}, has p = {pvalue:.3g} > {threshold:g}"
            )
            break
        terms.append(pairs[k])
        current = candidate
    return Selection(current, tuple(terms), Check(0), note=note)
