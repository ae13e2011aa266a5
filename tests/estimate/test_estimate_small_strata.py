"""The stated rule for tiny strata (docs/methods/estimation.md, "Small strata"): refuse without
overlaps, warn under 10 people on several lists, count dropped bootstrap replicates and give
the profile interval when more than 5% are dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctip.estimate import estimate, estimate_strata
from ctip.estimate.histories import CaptureHistory

FIVE = CaptureHistory(("A", "B", "C"), np.array([2, 1, 1, 1, 0, 0, 0]))  # one person on A and B


@pytest.mark.parametrize("method", ["stepwise", "bic", "homeoffice"])
def test_five_person_stratum_bootstrap_is_not_narrower_than_wald(method):
    # issue 12: the bootstrap dropped 118 of 200 replicates on a 5-person stratum and reported
    # an interval narrower than Wald, silently
    boot = estimate(FIVE, method, bootstrap=200, seed=1)
    wald = estimate(FIVE, method, interval="wald")
    assert boot.estimable
    failed = boot.details["bootstrap_failed"]
    assert failed > 10  # more than 5% of 200: counted, and the bootstrap interval refused
    assert boot.interval.startswith("profile likelihood")
    assert any(f"{failed} of 200 bootstrap replicates" in w for w in boot.warnings)
    assert boot.ci_high - boot.ci_low >= 0.9 * (wald.ci_high - wald.ci_low)
    assert any("only 1 people are on more than one list" in w for w in boot.warnings)


def test_resample_losing_a_list_is_estimated_without_it():
    # a small list that vanishes from a resample is dropped as it would be from real data,
    # so those replicates are estimated instead of being thrown away
    hist = CaptureHistory(("A", "B", "C"), np.array([40, 30, 8, 2, 1, 1, 0]))
    result = estimate(hist, "stepwise", bootstrap=300, seed=2)
    assert result.details["bootstrap_failed"] <= 15
    assert result.interval.startswith("bootstrap")


def test_strata_rows_follow_the_rule():
    rows = [
        # a stratum with plenty of overlap
        *(
            {"A": a, "B": b, "C": c, "sex": "female", "count": k}
            for a, b, c, k in [
                (1, 0, 0, 60),
                (0, 1, 0, 45),
                (0, 0, 1, 50),
                (1, 1, 0, 15),
                (1, 0, 1, 14),
                (0, 1, 1, 11),
                (1, 1, 1, 4),
            ]
        ),
        # 3 people, no overlap: refused by every method
        *(
            {"A": a, "B": b, "C": c, "sex": "male", "count": 1}
            for a, b, c in [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
        ),
    ]
    frame = pd.DataFrame(rows)
    for method in ("stepwise", "lcmcr", "dga", "bayesthresh"):
        results = estimate_strata(frame, lists=["A", "B", "C"], strata=["sex"], method=method)
        by = {r.stratum["sex"]: r for r in results}
        assert by["female"].estimable and by["total"].estimable
        assert not by["male"].estimable and "overlap" in by["male"].reason
