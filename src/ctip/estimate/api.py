"""One entry point: ``estimate(history, method=...)`` -> ``EstimateResult``; and per stratum.

Every outcome is a result, never an exception for data that cannot support an estimate: the
result says ``estimable=False`` and why (lists that never overlap, an MLE that does not exist, a
stratum with nobody in it), so a table over strata always comes back whole (as HRDAG's verdata).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ctip.errors import EstimationError
from ctip.estimate.existence import Check, fit_checked
from ctip.estimate.histories import CaptureHistory
from ctip.estimate.loglinear import Pair, expected_overlaps
from ctip.estimate.selection import EXHAUSTIVE_MAX_LISTS

METHODS = ("stepwise", "homeoffice", "aic", "bic", "main", "fixed", "lcmcr", "bayesthresh", "dga")
BAYESIAN = ("lcmcr", "bayesthresh", "dga")
INTERVALS = ("auto", "wald", "profile", "bootstrap")
ABSURD_RATIO = 100.0  # a dark figure above 100 x the observed is flagged as not to be trusted


@dataclass
class EstimateResult:
    """What the CLI prints as JSON; field names are the interface (issue 4)."""

    lists: list[str]
    observed: int
    estimate: float | None
    hidden: float | None
    ci_low: float | None
    ci_high: float | None
    interval: str
    method: str
    model: list[str]
    estimable: bool
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    stratum: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("estimate", "hidden", "ci_low", "ci_high"):
            if out[key] is not None:
                out[key] = None if not np.isfinite(out[key]) else round(float(out[key]), 1)
        if out["stratum"] is None:
            del out["stratum"]
        out["details"] = _finite(out["details"])
        return out


def _finite(value: Any) -> Any:
    """JSON has no NaN/inf: non-finite numbers become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _not_estimable(
    history: CaptureHistory, method: str, reason: str, **extra: Any
) -> EstimateResult:
    return EstimateResult(
        list(history.lists),
        history.observed,
        None,
        None,
        None,
        None,
        "none",
        method,
        [],
        False,
        reason,
        **extra,
    )


NO_OVERLAP = (
    "no one is on more than one list: without overlaps between lists the number of "
    "people on none cannot be estimated"
)
FEW_OVERLAPS = 10  # people on two lists or more below which every estimate is flagged


def _why_not(history: CaptureHistory, check: Check) -> str:
    if len(history.empty_pairs()) == history.t * (history.t - 1) // 2:
        return NO_OVERLAP
    return f"main-effects model: {check.reason}"


def _prepare(history: CaptureHistory) -> tuple[CaptureHistory | None, list[str], str]:
    """Lists with nobody on them are dropped; then the stated rule for every method:

    1. nobody observed, or nobody on two lists or more: not estimable (every method's answer
       would come from its prior or its model alone, e.g. LCMCR's 3 [3, 10] for 3 people);
    2. the main-effects model's MLE does not exist: not estimable (no model can say more, and a
       Bayesian posterior with flat priors on the main effects is improper);
    3. fewer than 10 people on two lists or more: estimated, with a warning (the relative error
       is then at least about 1/sqrt(overlaps), over 30%).
    """
    warnings = []
    empty_lists = [name for name, total in history.list_totals().items() if total == 0]
    if empty_lists:
        warnings.append(f"lists with nobody on them were left out: {', '.join(empty_lists)}")
        if history.t - len(empty_lists) < 2:
            return None, warnings, "fewer than 2 lists have anyone on them"
        history = history.drop_lists(empty_lists)
    if history.observed == 0:
        return None, warnings, "nobody was observed"
    on_several = int(history.counts[history.patterns.sum(axis=1) >= 2].sum())
    if on_several == 0:
        return None, warnings, NO_OVERLAP
    main, check = fit_checked(history.counts, history.t, ())
    if main is None:
        return None, warnings, f"main-effects model: {check.reason}"
    if on_several < FEW_OVERLAPS:
        warnings.append(
            f"only {on_several} people are on more than one list: every estimate rests on "
            "this handful of overlaps (relative error over 30%); treat it as an order of magnitude"
        )
    return history, warnings, ""


def _finish(
    history: CaptureHistory,
    method: str,
    point: float,
    low: float,
    high: float,
    how: str,
    terms: list[str],
    warnings: list[str],
    details: dict[str, Any],
) -> EstimateResult:
    n = history.observed
    hidden = point - n
    if not np.isfinite(point):
        return _not_estimable(history, method, "the estimate is not finite", warnings=warnings)
    if hidden > ABSURD_RATIO * n:
        warnings.append(
            f"the estimated dark figure is more than {ABSURD_RATIO:.0f} times the "
            "number observed: the lists overlap too little to trust this figure"
        )
    if not np.isfinite(high):
        warnings.append("the interval has no finite upper end")
    return EstimateResult(
        list(history.lists),
        n,
        point,
        hidden,
        low,
        high,
        how,
        method,
        terms,
        True,
        "",
        warnings,
        details,
    )


def estimate(
    history: CaptureHistory,
    method: str = "stepwise",
    *,
    threshold: float | None = None,
    interval: str = "auto",
    bootstrap: int = 0,
    seed: int = 1234,
    level: float = 0.95,
    workers: int = 1,
    maxorder: int | None = None,
    model: str | Sequence[str] | None = None,
    lcmcr_options: dict[str, Any] | None = None,
    dga_options: dict[str, Any] | None = None,
    bayes_options: dict[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> EstimateResult:
    """Estimate the total number of victims N (observed + hidden) from a capture-history table.

    ``interval`` "auto" means bootstrap when ``bootstrap`` > 0, else Wald (profile for the Home
    Office method); the Bayesian methods (lcmcr, bayesthresh, dga) give posterior intervals.
    ``threshold`` defaults to 0.02 for stepwise (SparseMSE) and 0.05 for homeoffice (modslavmse);
    ``maxorder`` (aic, bic) to MultipleSystemsEstimation's 1/2/3/3/2 for 2 to 6 lists; ``model``
    ("A:B,B:C:D") fits that one model (method "fixed").
    """
    if model is not None and method == "stepwise":
        method = "fixed"
    if method not in METHODS:
        raise EstimationError(f"unknown method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    if interval not in INTERVALS:
        raise EstimationError(
            f"unknown interval {interval!r}", hint=f"use one of {', '.join(INTERVALS)}"
        )
    prepared, warnings, reason = _prepare(history)
    if prepared is None:
        return _not_estimable(history, method, reason, warnings=warnings)
    history = prepared
    if method in BAYESIAN:
        from ctip.estimate import bayesian

        run = bayesian.RUNNERS[method]
        options = {"lcmcr": lcmcr_options, "dga": dga_options, "bayesthresh": bayes_options}
        out = run(
            history, level=level, seed=seed, options=options[method] or {}, on_progress=on_progress
        )
    else:
        from ctip.estimate import classical

        out = classical.run(
            history,
            method,
            threshold=threshold,
            interval=interval,
            replicates=bootstrap,
            seed=seed,
            level=level,
            workers=workers,
            maxorder=maxorder,
            model=model,
            on_progress=on_progress,
        )
    warnings.extend(out.warnings)
    if out.refused:
        return _not_estimable(history, method, out.refused, warnings=warnings)
    return _finish(
        history, method, out.point, out.low, out.high, out.how, out.terms, warnings, out.details
    )


def pair_index(history: CaptureHistory, terms: Sequence[str]) -> tuple[Pair, ...]:
    """ "A:B" names -> pairs of list indices (for a fixed model given by name)."""
    idx = {name: k for k, name in enumerate(history.lists)}
    out: list[Pair] = []
    for term in terms:
        a, _, b = term.partition(":")
        if a not in idx or b not in idx:
            raise EstimationError(
                f"unknown interaction {term!r}", hint=f"lists are {', '.join(history.lists)}"
            )
        out.append((min(idx[a], idx[b]), max(idx[a], idx[b])))
    return tuple(out)


__all__ = [
    "EstimateResult",
    "estimate",
    "pair_index",
    "METHODS",
    "INTERVALS",
    "EXHAUSTIVE_MAX_LISTS",
    "expected_overlaps",
]
