"""DP counts: unit and budget first, noise of the stated scale, over-budget releases refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip.errors import DisclosureError
from ctip.publish.dp import PrivacyContext, PrivacyUnit, noise_summary


def _victims(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "year": rng.choice(["2021", "2022"], n),
            "sex": rng.choice(["female", "male"], n, p=[0.7, 0.3]),
        }
    )


KEYS = {"year": ["2021", "2022"], "sex": ["female", "male", "other", "unknown"]}


def test_counts_are_near_truth_all_keys_released_and_over_budget_refused():
    victims = _victims()
    ctx = PrivacyContext("t", PrivacyUnit(contributions=1), total_epsilon=2.0)
    released = ctx.counts(victims, by=["year", "sex"], epsilon=1.0, keys=KEYS)
    frame = released.frame
    assert len(frame) == 8  # every public combination, also the empty ones
    truth = victims.value_counts(["year", "sex"]).rename("true").reset_index()
    merged = frame.merge(truth, on=["year", "sex"], how="left").fillna({"true": 0})
    # Laplace(1): |noise| > 12 has probability e^-12 per cell
    assert (merged["count"] - merged["true"]).abs().max() <= 12
    assert (frame["count"] >= 0).all()
    assert ctx.spent_epsilon == pytest.approx(1.0) and ctx.remaining_epsilon == pytest.approx(1.0)
    # over budget: refused before any noise is drawn, and nothing is spent
    with pytest.raises(DisclosureError, match="exceed the privacy budget"):
        ctx.counts(victims, by=["sex"], epsilon=1.5, keys=KEYS)
    assert ctx.spent_epsilon == pytest.approx(1.0) and len(ctx.releases) == 1


def test_noise_scale_matches_opendp_own_account():
    summary = noise_summary(PrivacyUnit(contributions=3), epsilon=0.5)
    ctx = PrivacyContext("t", PrivacyUnit(3), 5.0)
    released = ctx.counts(_victims(100), by=["sex"], epsilon=0.5, keys=KEYS)
    assert released.scale == pytest.approx(float(summary["scale"][0]))
    assert released.accuracy == pytest.approx(float(summary["accuracy"][0]))
    assert released.scale == pytest.approx(6.0)  # 3 records per victim / epsilon 0.5


def test_categories_must_be_public():
    with pytest.raises(DisclosureError, match="public list of categories"):
        PrivacyContext("t", PrivacyUnit(), 1.0).counts(
            _victims(50), by=["sex"], epsilon=0.5, keys=None
        )
    with pytest.raises(DisclosureError, match="not among the public categories"):
        PrivacyContext("t", PrivacyUnit(), 1.0).counts(
            _victims(50), by=["sex"], epsilon=0.5, keys={"sex": ["female"]}
        )
    with pytest.raises(DisclosureError, match="positive"):
        PrivacyContext("t", PrivacyUnit(), 0.0)
