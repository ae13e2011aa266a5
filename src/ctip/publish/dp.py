"""Differentially private counts with OpenDP: the privacy unit and the total budget come first.

Following opendp's ``Context``: a ``PrivacyContext`` names the dataset, the privacy unit (one
victim, who may appear in at most ``contributions`` records of the table) and the total privacy
loss (pure epsilon-DP) *before* any release; each release spends part of it and a release that
would exceed it is refused with ``DisclosureError``. The context is pure: the budget ledger that
makes "spent" survive between runs lives in ``ctip.storage.releases`` and the service wires them.

What the guarantee covers: any one victim's presence or absence changes each released table's
distribution by at most a factor e^epsilon, and across all releases of the dataset by e^total.
What it does not: victims with more records than ``contributions`` (e.g. a person split by
linkage into more clusters than assumed) are protected less; categories (the keys) are public and
released in full; it says nothing about data outside the dataset. See docs/methods/disclosure.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ctip.errors import DisclosureError, MissingDependencyError

_TOLERANCE = 1e-9


def _opendp() -> Any:
    try:
        import opendp.prelude as dp
        import polars  # noqa: F401  (opendp's frame API needs it)
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError("opendp", "dp") from error
    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True)
class PrivacyUnit:
    """Who is protected: one victim, contributing at most ``contributions`` records.

    ``contributions=1`` holds when the table has one row per victim (after deduplication);
    raise it when a victim may appear several times (several agencies, linkage that splits)."""

    contributions: int = 1
    description: str = "one victim"

    def __post_init__(self) -> None:
        if self.contributions < 1:
            raise DisclosureError("contributions must be at least 1, got {contributions}",
                                  params={"contributions": self.contributions})


@dataclass
class PrivacyContext:
    """A dataset's declared privacy unit and total budget, and what has been spent so far."""

    dataset: str
    unit: PrivacyUnit
    total_epsilon: float
    spent_epsilon: float = 0.0
    releases: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not (self.total_epsilon > 0 and math.isfinite(self.total_epsilon)):
            raise DisclosureError(
                "total epsilon must be a positive number, got {total_epsilon}",
                params={"total_epsilon": self.total_epsilon})

    @property
    def remaining_epsilon(self) -> float:
        return max(0.0, self.total_epsilon - self.spent_epsilon)

    def check(self, epsilon: float) -> None:
        """Refuse a release that would exceed the declared total."""
        if not (epsilon > 0 and math.isfinite(epsilon)):
            raise DisclosureError("epsilon for a release must be a positive number, got "
                                  "{epsilon}",
                                  params={"epsilon": epsilon})
        if self.spent_epsilon + epsilon > self.total_epsilon + _TOLERANCE:
            raise DisclosureError(
                "releasing with epsilon {epsilon} would exceed the privacy budget of dataset "
                "{dataset}: {spent} of {total} spent, {remaining} left",
                hint="release fewer or coarser tables, use a smaller epsilon, or declare a new "
                "dataset (a new reporting period) with its own budget",
                params={"epsilon": f"{epsilon:g}", "dataset": repr(self.dataset),
                        "spent": f"{self.spent_epsilon:g}", "total": f"{self.total_epsilon:g}",
                        "remaining": f"{self.remaining_epsilon:g}"})

    def counts(
        self,
        frame: pd.DataFrame,
        *,
        by: Sequence[str],
        epsilon: float,
        keys: pd.DataFrame | Mapping[str, Sequence[Any]] | None = None,
        alpha: float = 0.05,
    ) -> DPCounts:
        """Noisy counts of rows per combination of ``by``, spending ``epsilon`` of the budget.

        ``keys``: the public list of categories (a frame of combinations, or each column's
        categories, crossed). Every key combination is released, also the empty ones, so the
        set of categories discloses nothing. Defaults to the categories of the code lists the
        caller passes; without keys the data's own categories would leak, so they are required.
        """
        self.check(epsilon)
        result = dp_counts(frame, by=by, epsilon=epsilon, unit=self.unit, keys=keys, alpha=alpha)
        self.spent_epsilon += epsilon
        self.releases.append(result.describe())
        return result


@dataclass(frozen=True)
class DPCounts:
    """A released table: ``frame`` (by..., ``count``), the noise and its accuracy."""

    frame: pd.DataFrame
    by: tuple[str, ...]
    epsilon: float
    contributions: int
    mechanism: str
    scale: float
    accuracy: float
    alpha: float

    def describe(self) -> dict[str, Any]:
        return {
            "method": "OpenDP compositor, group_by().agg(len) with public keys",
            "by": list(self.by),
            "epsilon": self.epsilon,
            "contributions": self.contributions,
            "mechanism": self.mechanism,
            "scale": self.scale,
            "accuracy": self.accuracy,
            "alpha": self.alpha,
            "cells": len(self.frame),
        }


def _key_frame(keys: pd.DataFrame | Mapping[str, Sequence[Any]], by: Sequence[str]) -> pd.DataFrame:
    if isinstance(keys, pd.DataFrame):
        frame = keys[list(by)].drop_duplicates()
    else:
        missing = [c for c in by if c not in keys]
        if missing:
            raise DisclosureError("no public categories given for {missing}",
                                  params={"missing": missing})
        frame = pd.MultiIndex.from_product(
            [list(dict.fromkeys(keys[c])) for c in by], names=list(by)
        ).to_frame(index=False)
    return frame.astype(str).reset_index(drop=True)


def noise_summary(unit: PrivacyUnit, epsilon: float, alpha: float = 0.05) -> pd.DataFrame:
    """OpenDP's own account of the noise for a count under ``unit`` and ``epsilon`` (no release)."""
    dp = _opendp()
    import polars as pl

    context = dp.Context.compositor(
        data=pl.DataFrame({"k": ["a"]}).lazy(),
        privacy_unit=dp.unit_of(contributions=unit.contributions),
        privacy_loss=dp.loss_of(epsilon=float(epsilon)),
        split_evenly_over=1,
    )
    query = (
        context.query()
        .group_by("k")
        .agg(dp.len(signed=False))
        .with_keys(pl.DataFrame({"k": ["a"]}))
    )
    return query.summarize(alpha=alpha).to_pandas()


def dp_counts(
    frame: pd.DataFrame,
    *,
    by: Sequence[str],
    epsilon: float,
    unit: PrivacyUnit,
    keys: pd.DataFrame | Mapping[str, Sequence[Any]] | None,
    alpha: float = 0.05,
) -> DPCounts:
    """One epsilon-DP count table (integer Laplace noise through OpenDP; counts clamped at 0).

    Prefer ``PrivacyContext.counts``, which checks and records the budget."""
    dp = _opendp()
    import polars as pl

    by = tuple(by)
    if not by:
        raise DisclosureError("a DP count table needs at least one column to group by")
    if keys is None:
        raise DisclosureError(
            "DP counts need the public list of categories (keys)",
            hint="pass keys: each column's code list, so empty categories are released too",
        )
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise DisclosureError("table has no column(s) {missing}",
                              params={"missing": missing})
    key_frame = _key_frame(keys, by)
    data = frame[list(by)].astype("string").fillna("unknown").astype(str)
    outside = ~data.set_index(list(by)).index.isin(key_frame.set_index(list(by)).index)
    if outside.any():
        example = tuple(data[outside].iloc[0])
        raise DisclosureError(
            "value {example} of {by} is not among the public categories",
            hint="add it to the keys (code list) or recode it to 'unknown'",
            params={"example": example, "by": list(by)})
    context = dp.Context.compositor(
        data=pl.from_pandas(data).lazy(),
        privacy_unit=dp.unit_of(contributions=unit.contributions),
        privacy_loss=dp.loss_of(epsilon=float(epsilon)),
        split_evenly_over=1,
    )
    query = (
        context.query().group_by(*by).agg(dp.len(signed=False)).with_keys(pl.from_pandas(key_frame))
    )
    # A count's L1 sensitivity is the number of records one victim may add: scale = c / epsilon
    # (what ``query.summarize`` reports; computed here because summarize re-plans the query).
    scale = unit.contributions / float(epsilon)
    released = query.release().collect().to_pandas().rename(columns={"len": "count"})
    released["count"] = released["count"].astype("int64")
    released = key_frame.merge(released, on=list(by), how="left")  # the keys' order
    return DPCounts(
        frame=released,
        by=by,
        epsilon=float(epsilon),
        contributions=unit.contributions,
        mechanism="Integer Laplace",
        scale=scale,
        accuracy=float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha)),
        alpha=alpha,
    )
