"""How much an estimate depends on the model: the range across the defensible methods.

Trafficking MSE answers move with the model far more than with sampling error (UK 2013, five
lists: stepwise 11,313, BIC 22,991), so no headline figure goes out without the range across the
methods a statistician could defend for the same lists: SparseMSE's stepwise selection, the
log-linear models best by AIC and by BIC (dependence between lists), Bayesian thresholding
(model averaging) and LCMCR (heterogeneity between people). The office picks one for the
headline (``Settings.estimate_method``); the range is shown beside it, with the methods that
could not estimate said, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ctip.estimate.api import EstimateResult, estimate
from ctip.estimate.histories import CaptureHistory

DEFENSIBLE = ("stepwise", "aic", "bic", "bayesthresh", "lcmcr")
LABELS = {"stepwise": "stepwise (SparseMSE)", "aic": "best AIC", "bic": "best BIC",
          "bayesthresh": "Bayesian thresholding", "lcmcr": "LCMCR (latent classes)",
          "homeoffice": "Home Office (modslavmse)", "main": "main effects", "dga": "dga",
          "fixed": "a fixed model"}


@dataclass
class Sensitivity:
    chosen: EstimateResult
    results: dict[str, EstimateResult] = field(default_factory=dict)  # method -> result

    @property
    def estimable(self) -> list[EstimateResult]:
        return [r for r in self.results.values() if r.estimable and r.estimate is not None]

    @property
    def estimate_range(self) -> tuple[float, float] | None:
        """Lowest and highest point estimate across the methods that could estimate."""
        values = [float(r.estimate) for r in self.estimable]  # type: ignore[arg-type]
        return (min(values), max(values)) if values else None

    @property
    def interval_range(self) -> tuple[float, float] | None:
        """From the lowest interval bound to the highest, across the methods."""
        lows = [float(r.ci_low) for r in self.estimable if r.ci_low is not None]
        highs = [float(r.ci_high) for r in self.estimable if r.ci_high is not None]
        return (min(lows), max(highs)) if lows and highs else None

    def not_estimable(self) -> list[str]:
        return [f"{LABELS.get(m, m)} ({r.reason})" for m, r in self.results.items()
                if not r.estimable]

    def caveat(self) -> str:
        """One sentence a reader needs beside any single figure (report and `ctip estimate`)."""
        chosen = LABELS.get(self.chosen.method, self.chosen.method)
        span = self.estimate_range
        if span is None:
            return (f"Model sensitivity: none of {', '.join(LABELS[m] for m in self.results)} "
                    "could estimate these lists, so no figure can be given.")
        methods = ", ".join(f"{LABELS.get(r.method, r.method)} {r.estimate or 0:,.0f}"
                            for r in self.estimable)
        text = (f"Model sensitivity: the defensible models estimate {span[0]:,.0f} to "
                f"{span[1]:,.0f} people in all ({methods})")
        bounds = self.interval_range
        if bounds is not None:
            text += f"; their 95% intervals span {bounds[0]:,.0f} to {bounds[1]:,.0f}"
        text += f". The headline uses {chosen}, the office's choice"
        missing = self.not_estimable()
        if missing:
            text += f"; not estimable: {'; '.join(missing)}"
        return text + ". Read the range, not one number."

    def as_dict(self) -> dict[str, Any]:
        keep = ("estimate", "ci_low", "ci_high", "estimable", "reason")
        return {"chosen": self.chosen.method, "estimate_range": self.estimate_range,
                "interval_range": self.interval_range,
                "methods": {m: {k: r.to_dict()[k] for k in keep}
                            for m, r in self.results.items()},
                "caveat": self.caveat()}


def sensitivity(history: CaptureHistory, *, chosen: EstimateResult | None = None,
                chosen_method: str = "stepwise", methods: tuple[str, ...] = DEFENSIBLE,
                given: dict[str, EstimateResult] | None = None,
                **options: Any) -> Sensitivity:
    """Every method of ``methods`` on ``history``; results already computed on the same
    history (``chosen``, ``given``: method -> result) are reused, not computed again."""
    known = dict(given or {})
    if chosen is None:
        chosen = known.get(chosen_method) or estimate(history, chosen_method, **options)
    known[chosen.method] = chosen
    results: dict[str, EstimateResult] = {}
    for method in dict.fromkeys((*methods, chosen.method)):
        results[method] = known.get(method) or estimate(history, method, **options)
    return Sensitivity(chosen, results)
