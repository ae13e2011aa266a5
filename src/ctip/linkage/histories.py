"""Capture histories from linked records: the table ``ctip estimate`` reads.

One row per capture pattern (and stratum): one 0/1 column per list, the strata columns, then
``count``, the number of *people* (clusters) seen on exactly those lists. A person's stratum
value is the most frequent known value across their records (agencies disagree on sex or age
now and then); ties go to the first in sort order so the result is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

UNKNOWN = "unknown"


def _person_value(values: pd.Series) -> str:
    known = values.dropna().astype(str)
    known = known[(known != UNKNOWN) & (known != "")]
    if known.empty:
        return UNKNOWN
    counts = known.value_counts()
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])


def capture_histories(
    records: pd.DataFrame,
    *,
    list_column: str = "list",
    cluster_column: str = "cluster_id",
    strata: Sequence[str] = (),
    lists: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Count people by the combination of lists they appear on.

    ``records`` has one row per record with its list, its cluster (person) and any strata
    columns. ``lists`` fixes the list columns and their order (default: sorted names present).
    """
    missing = [c for c in (list_column, cluster_column, *strata) if c not in records.columns]
    if missing:
        raise ValueError(f"records lack column(s) {', '.join(missing)}")
    names = list(lists) if lists is not None else sorted(records[list_column].astype(str).unique())
    if set(names) & {"count", *strata}:
        raise ValueError("a list may not be called 'count' or share a name with a stratum")
    people = pd.crosstab(records[cluster_column], records[list_column].astype(str))
    people = (people.reindex(columns=names, fill_value=0) > 0).astype(int)
    people = people[people.sum(axis=1) > 0]
    for column in strata:
        people[column] = (
            records.groupby(cluster_column)[column].agg(_person_value).reindex(people.index)
        )
    keys = [*names, *strata]
    table = people.groupby(keys, dropna=False).size().rename("count").reset_index()
    return table.sort_values(
        keys, ascending=[False] * len(names) + [True] * len(strata), ignore_index=True
    )
