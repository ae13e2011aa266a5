"""The short summary ``ctip demo`` and ``ctip import`` print: stored records by sex, age group and
form of exploitation, over the de-identified ``victims`` table in a DuckDB connection.

This is an operator's view inside the authority (not a publication), so cells are not suppressed;
everything published goes through ``ctip.publish`` first.
"""

from __future__ import annotations

from typing import Any

import duckdb

DIMENSIONS = {
    "sex": "sex",
    "age group": "age_group",
    "victim group": "victim_group",
    "form of exploitation (UNODC)": "primary_form",
    "agency": "agency",
}


def counts_by(
    con: duckdb.DuckDBPyConnection, column: str, table: str = "victims"
) -> list[tuple[str, int]]:
    """(value, count) pairs, largest first; NULL shown as 'unknown' (kept, never dropped)."""
    if column not in set(DIMENSIONS.values()):
        raise ValueError(f"not a summary dimension: {column}")
    rows = con.execute(
        f"SELECT coalesce(CAST({column} AS VARCHAR), 'unknown') AS v, count(*) AS n "  # noqa: S608
        f"FROM {table} GROUP BY 1 ORDER BY n DESC, v"
    ).fetchall()
    return [(str(v), int(n)) for v, n in rows]


def demo_summary(con: duckdb.DuckDBPyConnection, table: str = "victims") -> dict[str, Any]:
    total = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])  # noqa: S608
    return {
        "records": total,
        **{label: counts_by(con, col, table) for label, col in DIMENSIONS.items()},
    }
