"""Capture histories from clusters: people (not records) by combination of lists, by stratum."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.estimate.histories import from_frame
from ctip.linkage.histories import capture_histories

RECORDS = pd.DataFrame(
    {
        "cluster_id": ["p1", "p1", "p1", "p2", "p3", "p3", "p4"],
        "list": ["police", "police", "ngo", "ngo", "labour", "police", "labour"],
        "sex": ["female", "unknown", "female", "male", "male", "female", None],
    }
)


def test_hand_counted_table() -> None:
    table = capture_histories(RECORDS)
    assert list(table.columns) == ["labour", "ngo", "police", "count"]
    cells = {tuple(r[:3]): r[3] for r in table.itertuples(index=False)}
    # p1: ngo+police (two police records count once), p2: ngo, p3: labour+police, p4: labour
    assert cells == {(0, 1, 1): 1, (0, 1, 0): 1, (1, 0, 1): 1, (1, 0, 0): 1}


def test_strata_take_the_persons_most_frequent_known_value() -> None:
    table = capture_histories(RECORDS, strata=["sex"], lists=["police", "ngo", "labour"])
    assert list(table.columns) == ["police", "ngo", "labour", "sex", "count"]
    by_pattern = {tuple(r[:3]): r[3] for r in table.itertuples(index=False)}
    assert by_pattern[(1, 1, 0)] == "female"  # unknown ignored
    assert by_pattern[(1, 0, 1)] == "female"  # tie female/male -> first in sort order
    assert by_pattern[(0, 0, 1)] == "unknown"  # nothing known


@settings(deadline=None, max_examples=40)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=80
    )
)
def test_counts_add_up_to_people_and_feed_the_estimator(rows: list[tuple[int, str]]) -> None:
    records = pd.DataFrame(rows, columns=["cluster_id", "list"])
    table = capture_histories(records, lists=["a", "b", "c"])
    assert table["count"].sum() == records["cluster_id"].nunique()
    for name in ("a", "b", "c"):  # each list's total is the people seen on it
        seen = records.loc[records["list"] == name, "cluster_id"].nunique()
        assert table.loc[table[name] == 1, "count"].sum() == seen
    history = from_frame(table, lists=["a", "b", "c"])
    assert history.observed == records["cluster_id"].nunique()
