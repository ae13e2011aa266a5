"""The log-linear methods as ``estimate`` runs them: selection, then a point and an interval.

Methods: ``stepwise`` (SparseMSE, Chan, Silverman & Vincent 2021), ``homeoffice`` (AIC stepwise
with a p-value stop and profile intervals: Silverman 2014 for the Home Office, modslavmse),
``aic``/``bic`` (every hierarchical model up to ``maxorder``, MultipleSystemsEstimation / Rcapture
``closedpMS.t``), ``main`` (independence) and ``fixed`` (one model the analyst names).

Bootstrap rule (stated in docs/methods/estimation.md): replicates that cannot be estimated (a
resample with no overlap left) are counted in ``details.bootstrap_failed``; when they are more than
5% of the replicates the bootstrap interval is not given - it would be conditional on the
resamples that happened to be estimable, hence too narrow - and the profile-likelihood interval
is reported instead, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ctip.errors import EstimationError
from ctip.estimate import intervals
from ctip.estimate.existence import Check, fit_checked
from ctip.estimate.histories import CaptureHistory
from ctip.estimate.loglinear import Fit
from ctip.estimate.outcome import Outcome, pct
from ctip.estimate.selection import (
    EXHAUSTIVE_MAX_LISTS,
    Selection,
    aic_stepwise,
    by_criterion,
    stepwise,
)
from ctip.estimate.terms import Model, default_maxorder, model_name, name, parse_model

LOGLINEAR = ("stepwise", "homeoffice", "aic", "bic", "main", "fixed")
DEFAULT_THRESHOLD = {"stepwise": 0.02, "homeoffice": 0.05}
MAX_FAILED_SHARE = 0.05
NTOP = {4: 20, 5: 100, 6: 100}  # MultipleSystemsEstimation's ntopmodels (all for <= 3 lists)


def select(
    history: CaptureHistory,
    method: str,
    threshold: float,
    maxorder: int | None,
    model: Model,
) -> Selection:
    counts, t = history.counts, history.t
    if method == "main":
        return stepwise(counts, t, 0.0)
    if method == "stepwise":
        return stepwise(counts, t, threshold)
    if method == "homeoffice":
        return aic_stepwise(counts, t, threshold)
    if method == "fixed":
        f, chk = fit_checked(counts, t, model)
        return Selection(f, model, chk)
    return by_criterion(counts, t, method, maxorder=maxorder)


def bootstrap_selector(
    history: CaptureHistory, method: str, threshold: float, sel: Selection
) -> tuple[intervals.Selector, str]:
    t = history.t
    if method == "stepwise":
        return intervals.select_stepwise(t, threshold), "stepwise selection repeated in each"
    if method == "main":
        return intervals.select_fixed(t, ()), "main-effects model"
    if method == "fixed":
        return intervals.select_fixed(t, sel.terms), "the model named, refitted in each"
    if method == "homeoffice":
        return intervals.select_scalar(t, _Repeat(threshold)), "AIC stepwise repeated in each"
    if sel.models is not None:
        ranked = sel.models.ranked(method)
        ntop = NTOP.get(t, 100) if t > 3 else len(ranked)
        models = [sel.models.models[k] for k in ranked[:ntop]]
        note = f"{method.upper()} selection repeated in each over the {len(models)} best models"
    else:  # greedy search: the nested models along its path
        models = [tuple(sel.terms[:k]) for k in range(len(sel.terms) + 1)]
        note = f"{method.upper()} selection repeated over the {len(models)} models of its path"
    return intervals.select_criterion(t, method, models), note


class _Repeat:
    """Picklable ``aic_stepwise`` at a fixed threshold (worker processes need to import it)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, counts: np.ndarray, t: int) -> Selection:
        return aic_stepwise(counts, t, self.threshold)


def empty_overlap_report(history: CaptureHistory, fit: Fit) -> list[dict[str, Any]]:
    """Per empty term in the model: P(nobody there | the model without that term), as SparseMSE.

    The expected count is that of the cell holding exactly the term's lists, from the fitted
    main effects and the term's fitted sub-terms; a term with an empty sub-term is implied by it.
    """
    d = fit.design
    fitted = {term: 1 + d.t + k for k, term in enumerate(d.fitted_pairs)}
    out = []
    for term in d.empty:
        subs = [s for s in d.pairs if set(s) < set(term)]
        if any(s in d.empty for s in subs):
            continue
        eta = fit.beta[0] + sum(fit.beta[1 + v] for v in term)
        eta += sum(fit.beta[fitted[s]] for s in subs)
        lam = float(np.exp(eta))
        out.append({"pair": name(history.lists, term), "p_empty": float(np.exp(-lam))})
    return out


def parse_fixed(history: CaptureHistory, model: str | Sequence[str]) -> tuple[Model, list[str]]:
    terms, added = parse_model(history.lists, model)
    notes = []
    if added:
        notes.append(
            "added to keep the model hierarchical: "
            + ", ".join(name(history.lists, a) for a in added)
        )
    return terms, notes


def run(
    history: CaptureHistory,
    method: str,
    *,
    threshold: float | None,
    interval: str,
    replicates: int,
    seed: int,
    level: float,
    workers: int,
    maxorder: int | None,
    model: str | Sequence[str] | None,
    on_progress: Callable[[int], None] | None,
) -> Outcome:
    if threshold is None:
        threshold = DEFAULT_THRESHOLD.get(method, 0.02)
    fixed: Model = ()
    notes: list[str] = []
    if method == "fixed":
        if model is None:
            raise EstimationError("method 'fixed' needs a model", hint='give --model "A:B,B:C"')
        fixed, notes = parse_fixed(history, model)
    if maxorder is not None and method not in ("aic", "bic"):
        raise EstimationError(
            "--maxorder applies to the aic and bic searches", hint="use --method bic or aic"
        )
    sel = select(history, method, threshold, maxorder, fixed)
    fit = sel.fit
    if fit is None:
        reason = sel.check.reason or "no model could be fitted"
        what = f"the model {model_name(history.lists, fixed)}" if method == "fixed" else ""
        return Outcome(0, 0, 0, "", [], {}, refused=f"{what or 'main-effects model'}: {reason}")
    terms = [name(history.lists, term) for term in sel.terms]
    details: dict[str, Any] = {
        "aic": fit.aic,
        "bic": fit.bic,
        "deviance": fit.deviance,
        "log_dark": float(fit.beta[0]),
        "se_log_dark": fit.se_log_dark,
        "threshold": threshold if method in DEFAULT_THRESHOLD else None,
    }
    if method in ("aic", "bic"):
        order = maxorder or (
            default_maxorder(history.t) if history.t <= EXHAUSTIVE_MAX_LISTS else 2
        )
        details["maxorder"] = order
        if sel.models is not None:
            details["models_searched"] = len(sel.models.models)
            details["models_estimable"] = int((sel.models.code == 0).sum())
    if sel.note or notes:
        details["note"] = "; ".join([*notes, sel.note] if sel.note else notes)
    details["empty_overlaps"] = empty_overlap_report(history, fit)
    if interval == "auto":
        interval = (
            "bootstrap" if replicates > 0 else ("profile" if method == "homeoffice" else "wald")
        )
    warnings: list[str] = []
    point = fit.estimate
    if interval == "bootstrap":
        replicates = replicates or 1000
        selector, what = bootstrap_selector(history, method, threshold, sel)
        boot = intervals.bootstrap(
            history.counts,
            selector,
            fit.estimate,
            replicates=replicates,
            seed=seed,
            level=level,
            workers=workers,
            on_progress=on_progress,
        )
        details.update(
            bootstrap_replicates=replicates,
            bootstrap_seed=seed,
            bootstrap_failed=boot.failed,
            acceleration=boot.acceleration,
            bias_z0=boot.bias_z0,
        )
        if boot.failed > MAX_FAILED_SHARE * replicates:
            warnings.append(
                f"{boot.failed} of {replicates} bootstrap replicates could not be estimated "
                "(no overlap left in the resample): an interval from the rest would be too "
                "narrow, so the profile-likelihood interval is given instead"
            )
            interval = "profile"
        else:
            if boot.failed:
                warnings.append(
                    f"{boot.failed} of {replicates} bootstrap replicates could not be estimated "
                    "(no overlap left in the resample) and were left out"
                )
            how = f"bootstrap BCa {pct(level)} ({replicates} replicates, seed {seed}; {what})"
            return Outcome(point, boot.low, boot.high, how, terms, details, warnings)
    if interval == "wald":
        low, high = intervals.wald(fit, level)
        how = f"Wald {pct(level)} on the log dark figure, conditional on the selected model"
    elif interval == "profile":
        n_hat, low, high = intervals.profile(fit, history.counts, level)
        details["profile_maximiser"] = n_hat
        details["poisson_mle"] = fit.estimate
        if method == "homeoffice":  # modslavmse reports Rcapture's profile abundance, and 80%
            point = n_hat
            details["ci80"] = list(intervals.profile(fit, history.counts, 0.80)[1:])
        how = f"profile likelihood {pct(level)}, conditional on the selected model"
    else:
        raise EstimationError(
            f"unknown interval {interval!r}", hint="use one of auto, wald, profile, bootstrap"
        )
    return Outcome(point, low, high, how, terms, details, warnings)


__all__ = ["LOGLINEAR", "run", "select", "Check"]
