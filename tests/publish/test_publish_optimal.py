"""Optimal secondary suppression (HiGHS integer programme) against the hypercube heuristic.

Tables are drawn at random (shapes, values mixing small and large counts, thresholds, margins
known / inside the table / unpublished), so nothing here is tuned to a table. Every released
pattern is audited by the LP attacker of ``publish.audit`` (independent code from the model).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctip.errors import DisclosureError
from ctip.publish import boxes
from ctip.publish.audit import attacker_bounds
from ctip.publish.optimal import attacker_intervals
from ctip.publish.shortcuts import refused_with_known_margins
from ctip.publish.suppression import TOTAL_LABELS, suppress, with_margins
from ctip.services.statistics import QUALITY_LARGE_GROUP, publish
from ctip.stats.registry import StatTable, table_spec

MARGIN_COST = 10.0


def _table(values: np.ndarray) -> pd.DataFrame:
    dims = [f"d{i}" for i in range(values.ndim)]
    rows = [{**{d: f"c{p}" for d, p in zip(dims, pos, strict=True)}, "count": int(values[pos])}
            for pos in itertools.product(*[range(n) for n in values.shape])]
    return pd.DataFrame(rows)


def _check(original: pd.DataFrame, released, threshold: int) -> None:  # type: ignore[no-untyped-def]
    """The rule of docs/methods/disclosure.md, by the LP attacker, on every hidden cell."""
    bounds = attacker_bounds(original, released)
    assert len(bounds) == int(released.frame["suppressed"].sum())
    for _, cell in bounds.iterrows():
        assert cell["upper"] - cell["lower"] >= threshold - 1e-6, cell.to_dict()
        if 1 <= cell["true"] < threshold:
            assert cell["upper"] >= threshold - 1e-6, cell.to_dict()
            assert cell["lower"] <= cell["true"] - 1 + 1e-6, cell.to_dict()
    merged = released.frame.merge(original.rename(columns={"count": "true"}),
                                  on=list(released.dims))
    assert merged.loc[merged["true"].between(1, threshold - 1), "suppressed"].all()
    shown = merged[~merged["suppressed"]]
    assert (shown["count"].astype(int) == shown["true"]).all()


def _cost(original: pd.DataFrame, released, threshold: int) -> float:  # type: ignore[no-untyped-def]
    """What both methods minimise, from the released frame: value + 1 of each complementary
    cell, times MARGIN_COST for a total."""
    dims = list(released.dims)
    merged = released.frame.merge(original.rename(columns={"count": "true"}), on=dims)
    secondary = merged["suppressed"] & ~merged["true"].between(1, threshold - 1)
    margin = merged[dims].isin(["_T"]).any(axis=1)
    return float(((merged["true"] + 1) * np.where(margin, MARGIN_COST, 1.0))[secondary].sum())


@st.composite
def cases(draw, singleton: bool | None = None):  # type: ignore[no-untyped-def]
    ndim = draw(st.integers(1, 3))
    shape = [draw(st.integers(2, 4 if ndim < 3 else 3)) for _ in range(ndim)]
    # sometimes a dimension with one category (its cells equal its margin)
    if draw(st.booleans()) if singleton is None else singleton:
        shape.insert(draw(st.integers(0, ndim)), 1)
    shape = tuple(shape)
    cells = int(np.prod(shape))
    values = draw(st.lists(st.one_of(st.integers(0, 6), st.integers(0, 80)),
                           min_size=cells, max_size=cells))
    margins = draw(st.sampled_from(["known", "in_table", "unpublished"]))
    threshold = draw(st.integers(2, 6))
    table = _table(np.array(values).reshape(shape))
    if margins == "in_table":
        table = with_margins(table, dims=list(table.columns[:-1]))
    return table, margins != "unpublished", threshold


def _run(table: pd.DataFrame, known: bool, threshold: int, method: str):  # type: ignore[no-untyped-def]
    try:
        return suppress(table, dims=list(table.columns[:-1]), threshold=threshold,
                        margins_known=known, method=method, margin_cost=MARGIN_COST)
    except DisclosureError:
        return None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_property_optimal_is_protected_and_never_worse_than_the_heuristic(case):
    table, known, threshold = case
    optimal = _run(table, known, threshold, "optimal")
    heuristic = _run(table, known, threshold, "hypercube")
    if optimal is None:
        # the integer programme is exact: no pattern at all exists, so boxes cannot exist either
        assert heuristic is None
        return
    _check(table, optimal, threshold)
    if optimal.primary:
        assert optimal.parameters["proven_optimal"]
    if heuristic is not None:
        _check(table, heuristic, threshold)
        assert _cost(table, optimal, threshold) <= _cost(table, heuristic, threshold) + 1e-6


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_property_default_is_protected_and_within_the_loss_target(case):
    table, known, threshold = case
    chosen = _run(table, known, threshold, "auto")
    heuristic = _run(table, known, threshold, "hypercube")
    assert (chosen is None) == (heuristic is None)  # auto refuses exactly when the boxes do
    if chosen is None:
        return
    _check(table, chosen, threshold)
    optimal = _run(table, known, threshold, "optimal")
    assert optimal is not None
    loss, best = _cost(table, chosen, threshold), _cost(table, optimal, threshold)
    assert loss <= _cost(table, heuristic, threshold) + 1e-6
    assert loss <= 1.2 * best + 1e-6


def test_optimum_beats_boxes_on_a_table_with_many_small_cells():
    # random Poisson(3) tables with their margins: many small cells whose boxes overlap badly;
    # the optimum shares complementary cells between them
    rng = np.random.default_rng(11)
    gains = []
    for _ in range(3):
        table = with_margins(_table(rng.poisson(3, size=(3, 3, 3))), dims=["d0", "d1", "d2"])
        heuristic = _run(table, True, 5, "hypercube")
        optimal = _run(table, True, 5, "optimal")
        if heuristic is None or optimal is None:
            continue
        _check(table, optimal, 5)
        gains.append(_cost(table, heuristic, 5) - _cost(table, optimal, 5))
    assert gains and min(gains) >= 0 and max(gains) > 0


def _quality_frame(records: dict[str, int], unknown: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = []
    fields = sorted({f for u in unknown.values() for f in u})
    for agency, n in [*records.items(), ("all agencies", sum(records.values()))]:
        for f in fields:
            k = (sum(u[f] for u in unknown.values()) if agency == "all agencies"
                 else unknown[agency][f])
            rows.append({"agency": agency, "field": f, "label": f, "records": n, "count": k,
                         "share_unknown": k / n})
    return pd.DataFrame(rows)


def test_quality_shares_of_a_large_agency_are_shown_small_agencies_protected():
    threshold = 5
    big = QUALITY_LARGE_GROUP * threshold
    records = {"big-agency": 21 * big, "mid": big + 7, "small-a": 40, "small-b": 33}
    unknown = {"big-agency": {"sex": 3, "age": 1200}, "mid": {"sex": 2, "age": 60},
               "small-a": {"sex": 2, "age": 9}, "small-b": {"sex": 7, "age": 1}}
    frame = _quality_frame(records, unknown)
    published = publish(StatTable(table_spec("data-quality"), (), frame), threshold=threshold)
    out = published.frame.set_index(["agency", "field"])
    for agency in ("big-agency", "mid"):  # gaps in a large group are not victims: shown
        assert not out.loc[(agency, "sex"), "suppressed"]
        assert out.loc[(agency, "sex"), "share_unknown"] == frame.loc[
            (frame["agency"] == agency) & (frame["field"] == "sex"), "share_unknown"].iloc[0]
    assert out.loc[("small-a", "sex"), "suppressed"]
    assert pd.isna(out.loc[("small-a", "sex"), "share_unknown"])
    # the small agencies' hidden counts survive the attacker who knows every shown figure,
    # including the all-agencies total minus the large agencies
    small = frame[frame["agency"].isin(["small-a", "small-b"])][["agency", "field", "count"]]
    released = suppress(small, dims=["agency", "field"], threshold=threshold)
    shown_small = published.frame[published.frame["agency"].isin(["small-a", "small-b"])]
    assert (shown_small["suppressed"].to_numpy() == released.frame["suppressed"].to_numpy()).all()
    _check(small, released, threshold)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(singleton=True))
def test_property_folding_a_one_category_dimension_changes_nothing(case):
    """The folded problem (publish.shortcuts) gives a pattern exactly as protected and as cheap
    as the full one, audited by the LP attacker on the full table."""
    from ctip.publish import shortcuts

    table, known, threshold = case
    folded = _run(table, known, threshold, "optimal")
    shortcuts.clear_cache()
    unfolded, shortcuts.foldable_axis = shortcuts.foldable_axis, lambda *a: None
    try:
        full = _run(table, known, threshold, "optimal")
    finally:
        shortcuts.foldable_axis = unfolded
    shortcuts.clear_cache()
    assert (folded is None) == (full is None)
    if folded is None:
        return
    _check(table, folded, threshold)
    assert abs(_cost(table, folded, threshold) - _cost(table, full, threshold)) <= 1e-6


def test_the_same_cells_give_the_same_pattern_from_the_cache():
    from ctip.publish import shortcuts

    rng = np.random.default_rng(5)
    table = with_margins(_table(rng.poisson(3, size=(3, 4))), dims=["d0", "d1"])
    shortcuts.clear_cache()
    first = _run(table, True, 5, "auto")
    again = _run(table.sample(frac=1.0, random_state=1), True, 5, "auto")  # rows reordered
    assert first is not None and again is not None
    assert again.parameters.get("cached") and not first.parameters.get("cached")
    key = list(first.dims)
    merged = first.frame.merge(again.frame, on=key, suffixes=("", "_again"))
    assert len(merged) == len(first.frame)
    assert (merged["suppressed"] == merged["suppressed_again"]).all()
    _check(table, again, 5)


@st.composite
def stacks(draw):  # type: ignore[no-untyped-def]
    """2-4 independent tables of one shape (margins inside or known), stacked by a column."""
    ndim = draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(2, 4)) for _ in range(ndim))
    cells = int(np.prod(shape))
    in_table = draw(st.booleans())
    threshold = draw(st.integers(2, 6))
    parts = []
    for s in range(draw(st.integers(2, 4))):
        values = draw(st.lists(st.one_of(st.integers(0, 6), st.integers(0, 80)),
                               min_size=cells, max_size=cells))
        part = _table(np.array(values).reshape(shape))
        if in_table:
            part = with_margins(part, dims=list(part.columns[:-1]))
        parts.append(part.assign(slice=f"s{s}"))
    return pd.concat(parts, ignore_index=True), threshold


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks(), st.sampled_from(["hypercube", "optimal", "auto"]))
def test_property_slices_in_one_pass_are_each_protected_as_alone(case, method):
    """suppress(slices=...) protects every slice as suppressing it alone does: each slice's
    pattern passes the LP attacker on that slice; the boxes are the same; the optimum costs the
    same; auto is within the loss target of the optimum."""
    table, threshold = case
    dims = [c for c in table.columns if c not in ("count", "slice")]
    try:
        stacked = suppress(table, dims=dims, slices=["slice"], threshold=threshold,
                           method=method, margin_cost=MARGIN_COST)
    except DisclosureError:
        stacked = None
    alone = {}
    for name, part in table.groupby("slice"):
        alone[name] = _run(part[[*dims, "count"]].reset_index(drop=True), True, threshold,
                           method)
    assert (stacked is None) == any(v is None for v in alone.values())
    if stacked is None:
        return
    total = 0.0
    for name, part in table.groupby("slice"):
        original = part[[*dims, "count"]].reset_index(drop=True)
        mine = stacked.frame[stacked.frame["slice"] == name].drop(columns="slice")
        # the slice's release (the attacker reads dims, value, frame and margins_known only)
        released = dataclasses.replace(stacked, frame=mine.reset_index(drop=True))
        _check(original, released, threshold)
        cost = _cost(original, released, threshold)
        total += cost
        if method == "hypercube":
            key = alone[name].frame.merge(mine, on=dims, suffixes=("", "_stack"))
            assert (key["suppressed"] == key["suppressed_stack"]).all()
        elif method == "auto":
            best = _cost(original, _run(original, True, threshold, "optimal"), threshold)
            assert cost <= 1.2 * best + 1e-6
    if method == "optimal":
        assert abs(total - sum(_cost(p[[*dims, "count"]].reset_index(drop=True), alone[n],
                                     threshold) for n, p in table.groupby("slice"))) <= 1e-6


def test_margins_in_one_pass_equal_the_group_by():
    """with_margins' array path gives the rows, order and dtypes of one group-by per margin."""
    from ctip.publish.suppression import _margins_by_array

    rng = np.random.default_rng(3)
    for trial in range(40):
        n, k = int(rng.integers(1, 30)), int(rng.integers(1, 4))
        table = pd.DataFrame({f"d{i}": rng.choice(["a", "b", "c", None], size=n)
                              for i in range(k)})
        if trial % 2:
            table["d0"] = rng.integers(2015, 2019, size=n)
        table["count"] = rng.integers(0, 9, size=n)
        dims = [f"d{i}" for i in range(k)]
        expected = [table[[*dims, "count"]]]
        for r in range(1, k + 1):
            for summed in itertools.combinations(dims, r):
                keep = [d for d in dims if d not in summed]
                part = (table.groupby(keep, dropna=False)["count"].sum().reset_index() if keep
                        else pd.DataFrame({"count": [table["count"].sum()]}))
                for d in summed:
                    part[d] = "_T"
                expected.append(part[[*dims, "count"]])
        want = pd.concat([p.astype({d: "object" for d in dims}) for p in expected],
                         ignore_index=True)
        got = _margins_by_array(table, "count", dims, "_T")
        assert got is not None
        pd.testing.assert_frame_equal(got, want)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from(["auto", "hypercube", "optimal"]))
def test_property_a_refusal_known_in_advance_is_a_refusal(case, method):
    """refused_with_known_margins says "certain" only where suppress with known margins
    refuses; and it does say so for a small cell alone on a line of a published margin."""
    table, _, threshold = case
    dims = list(table.columns[:-1])
    certain = refused_with_known_margins(table, "count", dims, threshold, TOTAL_LABELS)
    if certain:
        with pytest.raises(DisclosureError):
            suppress(table, dims=dims, threshold=threshold, method=method,
                     margin_cost=MARGIN_COST)
    lone = pd.DataFrame({"a": ["x", "x", "y"], "b": ["p", "q", "p"],
                         "count": [threshold - 1, 0, 50]})
    assert refused_with_known_margins(lone, "count", ["a", "b"], threshold, TOTAL_LABELS) \
        == (threshold > 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(2, 5), st.integers(2, 6), st.data())
def test_property_a_box_certificate_is_what_the_attacker_finds(n_rows, n_cols, threshold, data):
    """Every cell boxes.certified vouches for passes the rule under the LP attacker
    (optimal.attacker_intervals, every hidden cell unknown, margins included); a small cell
    alone in its row is never vouched for."""
    inner = np.array(data.draw(st.lists(st.one_of(st.integers(0, 6), st.integers(0, 60)),
                                        min_size=n_rows * n_cols, max_size=n_rows * n_cols)))
    ext = np.zeros((n_rows + 1, n_cols + 1), dtype=np.int64)
    ext[:-1, :-1] = inner.reshape(n_rows, n_cols)
    ext[-1, :] = ext[:-1, :].sum(axis=0)
    ext[:, -1] = ext[:, :-1].sum(axis=1)
    mask = data.draw(st.lists(st.booleans(), min_size=ext.size, max_size=ext.size))
    hidden = np.array(mask).reshape(ext.shape)
    cells = np.argwhere(hidden)
    small = (ext[hidden] >= 1) & (ext[hidden] < threshold)
    vouched = boxes.certified(ext, hidden, cells, small, threshold)
    bounds = attacker_intervals(ext, hidden, [tuple(int(i) for i in c) for c in cells])
    for cell, is_small, ok in zip(cells, small, vouched, strict=True):
        lo, hi = bounds[tuple(int(i) for i in cell)]
        if ok:
            assert hi - lo >= threshold - 1e-6
            if is_small:
                v = ext[tuple(cell)]
                assert hi >= threshold - 1e-6 and lo <= v - 1 + 1e-6
        if is_small and hidden[cell[0]].sum() == 1:
            assert not ok
    # and on slices: the same answer as each slice alone
    stacked = np.stack([ext, ext])
    both = np.vstack([np.column_stack([np.zeros(len(cells), int), cells]),
                      np.column_stack([np.ones(len(cells), int), cells])])
    again = boxes.certified(stacked, np.stack([hidden, hidden]), both,
                            np.concatenate([small, small]), threshold, lead=1)
    assert (again == np.concatenate([vouched, vouched])).all()
