"""Madigan-York model averaging over decomposable graphs, against R dga's documented example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip.estimate import estimate, from_frame
from ctip.estimate.dga import bma, decomposable_graphs, graph_label
from ctip.estimate.histories import CaptureHistory


def _table(shared_data, name):
    return from_frame(pd.read_csv(shared_data / "mse-reference-tables" / f"{name}.csv"))


def test_graph_counts_are_those_of_dga():
    # dga ships graphs3/4/5 with 8, 61 and 822 decomposable graphs; on 6 lists there are 18,154
    # chordal graphs (OEIS A058862)
    assert [len(decomposable_graphs(t)[0]) for t in (3, 4, 5)] == [8, 61, 822]


def test_six_list_graph_count():
    assert len(decomposable_graphs(6)[0]) == 18154


def test_five_list_example_matches_dga(shared_data):
    # dga's README / man/bma.cr example (Madigan & York 1997, 5 lists, 537 people): delta = 0.5,
    # Nmissing = 1:300. Its table of the top five models gives posterior probabilities
    # 0.21707345 0.16029369 0.08226562 0.06535887 0.05193514 and model-wise 2.5% / 97.5%
    # quantiles 687/752, 680/734, 675/737, 674/729, 680/736. Those N values were computed with
    # N = Nmissing + 626 (the 3-list example's total, left over in that R session), i.e. 89 above
    # Nmissing + 537: the quantiles here are those minus 89.
    hist = _table(shared_data, "MY5_dga_example")
    r = bma(hist, delta=0.5, missing=np.arange(1, 301), top=5)
    weights = [m.weight for m in r.top]
    assert weights == pytest.approx(
        [0.21707345, 0.16029369, 0.08226562, 0.06535887, 0.05193514], abs=5e-9
    )
    published = [(687, 752), (680, 734), (675, 737), (674, 729), (680, 736)]
    assert [(m.low, m.high) for m in r.top] == [(lo - 89, hi - 89) for lo, hi in published]
    assert graph_label(hist.lists, r.top[0].graph) == "[A,B][A,C][B,D][D,E]"


def test_uk_five_lists_is_bimodal(shared_data):
    # ESTIMATION.md section 4: the UK 5-list posterior is bimodal (about 11k and 23k)
    result = estimate(_table(shared_data, "UKdat_5"), "dga")
    assert result.estimable and result.method == "dga"
    modes = result.details["modes"]
    assert len(modes) == 2
    assert 10_000 < modes[0] < 13_000 and 20_000 < modes[1] < 27_000
    assert any("more than one mode" in w for w in result.warnings)
    top = result.details["top_models"]
    assert sum(m["weight"] for m in top) <= 1 + 1e-9
    assert top[0]["weight"] >= top[-1]["weight"]
    assert result.ci_low < result.estimate < result.ci_high


def test_grid_end_is_reported_not_hidden(shared_data):
    # a grid too short for the posterior (as dga's user-supplied Nmissing can be) shows up
    hist = _table(shared_data, "Ned_5")
    short = bma(hist, missing=np.arange(0, 20_000))
    assert short.tail_mass > 0.01
    full = bma(hist)
    assert full.high > short.high


def test_lognormal_prior_pulls_towards_its_median(shared_data):
    hist = _table(shared_data, "Kosovo")
    flat = bma(hist)
    low = bma(hist, prior="lognormal", prior_median=8000, prior_sdlog=0.05)
    assert low.median < flat.median
    assert abs(low.median - 8000) < abs(flat.median - 8000)


def test_no_overlap_is_refused_by_dga():
    hist = CaptureHistory(("A", "B", "C"), np.array([5, 7, 0, 9, 0, 0, 0]))
    result = estimate(hist, "dga")
    assert not result.estimable and "overlap" in result.reason


def test_too_many_lists_is_a_clear_error(shared_data):
    from ctip.errors import EstimationError

    with pytest.raises(EstimationError, match="3 to 6 lists"):
        bma(_table(shared_data, "NewOrl"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 40), min_size=15, max_size=15),
    st.permutations(list(range(4))),
)
def test_list_order_does_not_change_the_posterior(cells, order):
    counts = np.array(cells, dtype=np.int64)
    counts[[0, 1, 3, 7]] += 5
    counts[14] += 1  # someone on every list
    hist = CaptureHistory(("A", "B", "C", "D"), counts)
    a = bma(hist, missing=np.arange(0, 400))
    b = bma(hist.reorder(order), missing=np.arange(0, 400))
    assert b.posterior == pytest.approx(a.posterior, abs=1e-12)
    assert b.median == a.median
    assert b.top[0].weight == pytest.approx(a.top[0].weight, rel=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 60), min_size=7, max_size=7))
def test_posterior_is_a_distribution_and_summaries_are_ordered(cells):
    hist = CaptureHistory(("A", "B", "C"), np.array(cells, dtype=np.int64))
    r = bma(hist)
    assert r.posterior.sum() == pytest.approx(1.0)
    assert (r.posterior >= 0).all()
    assert hist.observed <= r.low <= r.median <= r.high
    assert sum(m.weight for m in r.top) <= 1 + 1e-9
