"""Simulated populations of known size, for recovery tests and the coverage benchmark.

A population of N people is a mixture of classes (heterogeneity: some people are much easier for
every agency to find). Within a class, capture follows a log-linear model with main effects (how
likely each list is to record someone) and pairwise effects (list dependence: e.g. the police
refer people to an NGO, so being on one makes the other likelier). People on no list are dropped,
as they are in real data; the answer the estimators should find is N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ctip.estimate.histories import CaptureHistory


@dataclass(frozen=True)
class CaptureClass:
    weight: float  # share of the population
    probabilities: Sequence[float]  # P(on list j) if the lists were independent
    dependence: dict[tuple[int, int], float] = field(default_factory=dict)  # log odds ratios


def cell_probabilities(cls: CaptureClass) -> np.ndarray:
    """P(pattern) for all 2^t patterns, the all-zero pattern first (index = bit code)."""
    p = np.asarray(cls.probabilities, dtype=float)
    t = len(p)
    codes = np.arange(2**t)
    x = (codes[:, None] >> np.arange(t)[None, :]) & 1
    logw = x @ np.log(p / (1 - p))
    for (i, j), effect in cls.dependence.items():
        logw = logw + effect * x[:, i] * x[:, j]
    w = np.exp(logw - logw.max())
    return w / w.sum()


def simulate(
    N: int,
    classes: Sequence[CaptureClass],
    rng: np.random.Generator,
    names: Sequence[str] | None = None,
) -> CaptureHistory:
    """Draw a population of N, capture it, and return what the agencies would see."""
    weights = np.array([c.weight for c in classes], dtype=float)
    sizes = rng.multinomial(N, weights / weights.sum())
    t = len(classes[0].probabilities)
    cells = np.zeros(2**t, dtype=np.int64)
    for size, cls in zip(sizes, classes, strict=True):
        cells += rng.multinomial(size, cell_probabilities(cls))
    names = tuple(names or [chr(ord("A") + j) for j in range(t)])
    return CaptureHistory(tuple(names), cells[1:])


# Scenarios used by the tests and benchmarks/mse_coverage.py
SCENARIOS = ("independent", "dependent", "heterogeneous", "hard")


def scenario(name: str, t: int = 4) -> list[CaptureClass]:
    """Populations for recovery checks.

    independent    lists independent, everyone equally catchable;
    dependent      pairwise list dependence, positive and negative (e.g. police refer to an NGO);
    heterogeneous  two groups of victims, each far easier to find for some lists than others
                   (e.g. sexual exploitation found by police and NGOs, labour by inspectors);
    hard           one group less catchable on every list in the same proportion: the people
                   the lists miss leave no trace in the overlaps, and every method underestimates.
    """
    base = [0.12, 0.18, 0.08, 0.15, 0.10, 0.06][:t]
    if name == "independent":
        return [CaptureClass(1.0, base)]
    if name == "dependent":
        return [CaptureClass(1.0, base, {(0, 1): 1.0, (1, 2): -0.7, (2, 3 % t): 0.8})]
    if name == "heterogeneous":
        half = t // 2
        first = [2.0 * p if j < half else 0.6 * p for j, p in enumerate(base)]
        second = [0.6 * p if j < half else 2.0 * p for j, p in enumerate(base)]
        return [CaptureClass(0.5, first), CaptureClass(0.5, second)]
    if name == "hard":
        return [
            CaptureClass(0.3, [min(3 * p, 0.6) for p in base], {(0, 1): 0.7}),
            CaptureClass(0.7, [p / 2 for p in base], {(0, 1): 0.7}),
        ]
    raise ValueError(f"unknown scenario {name!r}")
