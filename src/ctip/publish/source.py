"""The rows a release reads, as functions of a DuckDB connection holding the analytic tables
(``victims``, ``perpetrators``; domain/analytic.py). Kept here so no SQL sits in services/."""

from __future__ import annotations

import duckdb
import pandas as pd

# The same rule as the national tables (stats/tables.py): detected, consent not withdrawn.
DETECTED = "detected AND NOT COALESCE(consent_withdrawn, FALSE)"


def detected_victims(con: duckdb.DuckDBPyConnection, table: str = "victims") -> pd.DataFrame:
    """Every analytic column of the detected victims whose consent was not withdrawn."""
    return con.execute(f"SELECT * FROM {table} WHERE {DETECTED}").df()


def has_perpetrators(con: duckdb.DuckDBPyConnection, table: str = "perpetrators") -> bool:
    return bool(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
