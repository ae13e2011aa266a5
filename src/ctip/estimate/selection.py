"""Model selection: SparseMSE's stepwise procedure, and AIC/BIC over all two-way models.

Stepwise (Chan, Silverman & Vincent 2021, ``stepwisefit``): start from main effects; for each pair
not yet in the model the statistic N*_ij (people on both lists) is Poisson with mean lambda*_ij
(fitted people on both lists) under the current model; p = min(P(X <= N*), P(X >= N*)), so
negative dependence can enter too. A candidate whose model fails the existence/identifiability
check gets p = 1. Add the smallest p while p < threshold (default 0.02); ties go to the lowest pair
in R's ``combn`` order.

Information criteria: every hierarchical model with main effects and any set of pairs (2^C(t,2)
models: 1,024 for 5 lists) is checked and fitted; the smallest AIC or BIC wins. With more than 5
lists the exhaustive search is too large and a greedy forward search on the criterion is used
(as ``downhill_fit`` in Silverman's MultipleSystemsEstimation), which the result states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.special import pdtr, pdtrc

from ctip.estimate.existence import Check, fit_checked
from ctip.estimate.histories import all_pairs
from ctip.estimate.loglinear import (
    Design,
    Fit,
    Pair,
    design,
    expected_overlaps,
    newton_stack,
    overlaps,
)

EXHAUSTIVE_MAX_LISTS = 5


@dataclass
class Selection:
    """The chosen model (``fit`` None when not even main effects can be fitted)."""

    fit: Fit | None
    terms: tuple[Pair, ...]  # in order of entry
    check: Check
    note: str = ""
    candidates: list[tuple[tuple[Pair, ...], Fit | None, Check]] = field(default_factory=list)


def _warm_start(current: Fit, pairs: tuple[Pair, ...], nstar: np.ndarray) -> np.ndarray:
    index = {pair: k for k, pair in enumerate(all_pairs(current.design.t))}
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


def all_models(counts: np.ndarray, t: int) -> list[tuple[tuple[Pair, ...], Fit | None, Check]]:
    """Check and fit every model with main effects plus any subset of pairs (<= 5 lists)."""
    if t > EXHAUSTIVE_MAX_LISTS:
        raise ValueError("exhaustive search is limited to 5 lists")
    counts = np.asarray(counts, dtype=np.int64)
    nstar = overlaps(counts, t)
    pairs = all_pairs(t)
    out: list[tuple[tuple[Pair, ...], Fit | None, Check]] = []
    main, chk = fit_checked(counts, t, (), nstar=nstar)
    out.append(((), main, chk))
    # SparseMSE's checkallmodels argument: if the MLE exists for a model it still exists with an
    # overlapping pair removed; so a model that adds an overlapping pair to a failing one fails
    # too, with no need to fit it or solve its linear program
    prefit = _prefit(
        counts, t, [m for k in range(1, len(pairs) + 1) for m in combinations(pairs, k)], nstar
    )
    failing: set[tuple[Pair, ...]] = set() if main is not None else {()}
    fitted: dict[tuple[Pair, ...], Fit] = {(): main} if main is not None else {}
    for size in range(1, len(pairs) + 1):
        for model in combinations(pairs, size):
            inherited = any(
                nstar[pairs.index(p)] > 0 and tuple(q for q in model if q != p) in failing
                for p in model
            )
            if inherited:
                f, c = None, Check(1)
            else:
                parent = fitted.get(model[:-1]) if model not in prefit else None
                start = _warm_start(parent, model, nstar) if parent is not None else None
                f, c = fit_checked(
                    counts, t, model, start=start, nstar=nstar, exact_start=prefit.get(model)
                )
                if f is not None:
                    fitted[model] = f
            if f is None and c.code in (1, 3):
                failing.add(model)
            out.append((model, f, c))
    return out


def _prefit(
    counts: np.ndarray, t: int, models: list[tuple[Pair, ...]], nstar: np.ndarray
) -> dict[tuple[Pair, ...], np.ndarray]:
    """Batched Newton over models sharing a design shape: converged coefficients as exact starts."""
    groups: dict[tuple[int, int], list[tuple[tuple[Pair, ...], Design]]] = {}
    for model in models:
        d = design(t, model, nstar)
        groups.setdefault(d.X.shape, []).append((model, d))
    out: dict[tuple[Pair, ...], np.ndarray] = {}
    for members in groups.values():
        Xs = np.stack([d.X for _, d in members])
        Ys = np.stack([counts[d.keep] for _, d in members]).astype(np.float64)
        beta, converged = newton_stack(Xs, Ys)
        for (model, _), b, ok in zip(members, beta, converged, strict=True):
            if ok:
                out[model] = b
    return out


def by_criterion(
    counts: np.ndarray, t: int, criterion: str = "bic", models: list[tuple[Pair, ...]] | None = None
) -> Selection:
    """Smallest AIC/BIC: exhaustive for <= 5 lists (or over ``models``), greedy forward beyond."""
    counts = np.asarray(counts, dtype=np.int64)
    key = (lambda f: f.bic) if criterion == "bic" else (lambda f: f.aic)
    if models is not None:
        nstar = overlaps(counts, t)
        cands = []
        for model in models:
            f, c = fit_checked(counts, t, model, nstar=nstar)
            cands.append((model, f, c))
    elif t <= EXHAUSTIVE_MAX_LISTS:
        cands = all_models(counts, t)
    else:
        return _greedy(counts, t, key, criterion)
    ok = [(m, f, c) for m, f, c in cands if f is not None]
    if not ok:
        return Selection(None, (), cands[0][2] if cands else Check(1), candidates=cands)
    model, best, chk = min(ok, key=lambda item: key(item[1]))
    return Selection(best, tuple(model), chk, candidates=cands)


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
        f"greedy forward {criterion.upper()} search ({t} lists: exhaustive search is limited to 5)"
    )
    return Selection(current, tuple(terms), Check(0), note=note)
