"""Flows: citizenship (origin) -> country of detection, as UNODC's Global Report draws them.

A flow is domestic (same country), subregional (same UN M49 subregion), intraregional (same
region) or transregional; ``domain.countries.flow_type`` decides, the same function the import
uses. Origin-destination matrices are returned long (one row per origin x destination, ready for
suppression) and can be pivoted with ``od_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from ctip.stats.query import FLOW_ORDER
from ctip.stats.tables import victims_by

ORIGIN_LEVELS = {"country": "citizenship", "subregion": "citizenship_subregion",
                 "region": "citizenship_region"}
DESTINATION_LEVELS = {"country": "country_of_detection", "region": "detection_region"}


def flows(con: duckdb.DuckDBPyConnection, *, origin: str = "country", destination: str = "country",
          by: Sequence[str] = (), table: str = "victims") -> pd.DataFrame:
    """Detected victims by origin x destination (long), with columns ``origin``, ``destination``."""
    o, d = ORIGIN_LEVELS[origin], DESTINATION_LEVELS[destination]
    frame = victims_by(con, [*by, o, d], table=table, complete=False)
    frame = frame.rename(columns={o: "origin", d: "destination"})
    return frame[frame["count"] > 0].reset_index(drop=True)


def od_matrix(long: pd.DataFrame, value: str = "count") -> pd.DataFrame:
    """Pivot a long flow table to an origin x destination matrix (origins as rows)."""
    return long.pivot_table(index="origin", columns="destination", values=value,
                            aggfunc="sum", fill_value=0)


def flow_shares(con: duckdb.DuckDBPyConnection, *, by: Sequence[str] = ("year",),
                table: str = "victims") -> pd.DataFrame:
    """Counts and shares of domestic / subregional / intraregional / transregional flows.

    The share's denominator is the victims whose flow is known (unknown flows are counted and
    shown, but a share of 'unknown' would say nothing about where victims come from).
    """
    frame = victims_by(con, [*by, "flow_type"], table=table)
    keys = list(by)
    known = frame[frame["flow_type"] != "unknown"]
    totals = (known.groupby(keys)["count"].sum() if keys
              else pd.Series({(): known["count"].sum()}))
    if keys:
        frame = frame.merge(totals.rename("known_total").reset_index(), on=keys, how="left")
    else:
        frame["known_total"] = int(known["count"].sum())
    frame["share"] = (frame["count"] / frame["known_total"]).where(
        (frame["flow_type"] != "unknown") & (frame["known_total"] > 0))
    order = {f: i for i, f in enumerate(FLOW_ORDER)}
    frame = frame.sort_values([*keys, "flow_type"], key=lambda s: s.map(order) if s.name ==
                              "flow_type" else s)
    return frame.drop(columns="known_total").reset_index(drop=True)
