"""The national tables (STANDARDS.md section 7): detected victims and perpetrators by any breakdown.

Every function takes a DuckDB connection holding the analytic tables ``victims`` and
``perpetrators`` (domain/analytic.py) and returns a pandas frame, one row per cell with a
``count`` column. No suppression here: services pass every published table through
``publish.suppression.suppress``.

Who counts as a detected victim: a record whose status counts as detected (``detected``, from the
code list) and whose consent to statistical use was not withdrawn (a withdrawal drops the record
from later outputs, STANDARDS.md 6.7). A victim record is counted once, except in tables by the
fine form of exploitation, where a victim with several forms counts once under each (a
multi-response table: its total exceeds the number of victims, and the report says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from ctip.domain.derive import RollupRule
from ctip.stats.query import VICTIM_DIMENSIONS, CountQuery, perpetrator_dimensions

DETECTED = "v.detected AND NOT COALESCE(v.consent_withdrawn, FALSE)"


def victims_query(by: Sequence[str], *, rule: RollupRule | None = None, margins: bool = False,
                  detected_only: bool = True, table: str = "victims") -> CountQuery:
    return CountQuery(table, VICTIM_DIMENSIONS, list(by), [DETECTED] if detected_only else [],
                      rule=rule, margins=margins)


def victims_by(con: duckdb.DuckDBPyConnection, by: Sequence[str], *, rule: RollupRule | None = None,
               margins: bool = False, detected_only: bool = True, table: str = "victims",
               complete: bool = True) -> pd.DataFrame:
    """Detected victims counted by the named dimensions (query.VICTIM_DIMENSIONS).

    ``rule``: a roll-up rule other than the default for the 'unodc_form' dimension; the stored
    ``primary_form`` is the default rule, another rule is computed from ``exploitation_forms``.
    """
    query = victims_query(by, rule=rule, margins=margins, detected_only=detected_only, table=table)
    return query.run(con, complete=complete)


def perpetrators_query(by: Sequence[str], *, reporting_country: str | None = None,
                       margins: bool = False, table: str = "perpetrators") -> CountQuery:
    return CountQuery(table, perpetrator_dimensions(reporting_country), list(by), margins=margins)


def perpetrators_by(con: duckdb.DuckDBPyConnection, by: Sequence[str], *,
                    reporting_country: str | None = None, margins: bool = False,
                    table: str = "perpetrators", complete: bool = True) -> pd.DataFrame:
    """Suspected, prosecuted and convicted persons (GLOTIP Q2-Q4): one row per person x stage.

    'citizenship_type' (national/foreign) needs ``reporting_country``; without it, every
    perpetrator's citizenship type is 'unknown'.
    """
    return perpetrators_query(by, reporting_country=reporting_country, margins=margins,
                              table=table).run(con, complete=complete)


def reporting_country_of(con: duckdb.DuckDBPyConnection, table: str = "victims") -> str | None:
    """The country whose figures these are: the most frequent country of detection.

    A national store holds one country's records; this names it without another setting.
    """
    row = con.execute(
        f"SELECT country_of_detection, COUNT(*) AS n FROM {table} "
        "WHERE country_of_detection IS NOT NULL AND country_of_detection <> 'unknown' "
        "GROUP BY country_of_detection ORDER BY n DESC, country_of_detection LIMIT 1"
    ).fetchall()
    return str(row[0][0]) if row else None


def detected_in_clusters(con: duckdb.DuckDBPyConnection, clusters: pd.DataFrame,
                         table: str = "victims") -> tuple[int, int, int]:
    """(detected-victim records, of which in ``clusters``, distinct clusters among those):
    people rather than records, by a linkage run's clusters (victim_id -> cluster_id)."""
    frame = clusters[["victim_id", "cluster_id"]].astype(str)
    con.register("detected_clusters", frame)
    try:
        records, in_run, people = con.execute(
            "SELECT COUNT(*), COUNT(l.cluster_id), COUNT(DISTINCT l.cluster_id) "
            f"FROM {table} v LEFT JOIN detected_clusters l "
            f"ON l.victim_id = CAST(v.victim_id AS VARCHAR) WHERE {DETECTED}").fetchall()[0]
    finally:
        con.unregister("detected_clusters")
    return int(records), int(in_run), int(people)
