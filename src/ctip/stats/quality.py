"""Data quality annex (STANDARDS.md S11): the share of unknown values per field and per agency.

Para 24 of the Declaration asks for "systematic and consistent criteria"; this table shows where
each agency's records fall short, so the figures can be read with their gaps in view. Unknown means
missing or coded 'unknown' (never 'no': a known-empty list is known).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from ctip.stats.tables import DETECTED


def _coded(column: str) -> str:
    return f"(v.{column} IS NULL OR v.{column} = 'unknown')"


# field -> (label, SQL predicate "this record's value is unknown")
FIELDS: dict[str, tuple[str, str]] = {
    "sex": ("Sex", _coded("sex")),
    # a band from the source (CTDC ageBroad) is a known age, to that extent: only records with
    # neither years nor a band count as unknown
    "age": ("Age (years or band)", "v.age IS NULL AND " + _coded("age_group")),
    "identification_date": ("Date of identification", "v.identification_date IS NULL"),
    "disability_status": ("Disability", _coded("disability_status")),
    "citizenship": ("Citizenship", _coded("citizenship")),
    "country_of_detection": ("Country of detection", _coded("country_of_detection")),
    "exploitation_forms": ("Form of exploitation", "v.exploitation_forms IS NULL"),
    "means_of_control": ("Means of control", "v.means_of_control IS NULL"),
    "recruiter_relationship": ("Recruiter relationship", "v.recruiter_relationship IS NULL"),
}


def quality_sql(table: str = "victims") -> str:
    flags = ", ".join(f"CASE WHEN {pred} THEN 1 ELSE 0 END AS {name}"
                      for name, (_, pred) in FIELDS.items())
    sums = ", ".join(f"SUM({name}) AS {name}" for name in FIELDS)
    return (
        "SELECT CASE WHEN GROUPING(agency) = 1 THEN 'all agencies' ELSE agency END AS agency, "
        f"COUNT(*) AS records, {sums} FROM (SELECT COALESCE(v.agency, 'unknown') AS agency, "
        f"{flags} FROM {table} AS v WHERE {DETECTED}) AS t GROUP BY GROUPING SETS ((agency), ())"
    )


def data_quality(con: duckdb.DuckDBPyConnection, *, table: str = "victims") -> pd.DataFrame:
    """Long frame: agency ('all agencies' for the whole), field, label, records, unknown, share."""
    wide = con.sql(quality_sql(table)).df()
    long = wide.melt(id_vars=["agency", "records"], value_vars=list(FIELDS),
                     var_name="field", value_name="unknown")
    long["unknown"] = long["unknown"].fillna(0).astype("int64")
    long["records"] = long["records"].astype("int64")
    long["label"] = long["field"].map({k: v[0] for k, v in FIELDS.items()})
    long["share_unknown"] = long["unknown"] / long["records"].where(long["records"] > 0)
    field_order = {f: i for i, f in enumerate(FIELDS)}
    long["_all"] = long["agency"] == "all agencies"
    long = long.sort_values(["_all", "agency", "field"],
                            key=lambda s: s.map(field_order) if s.name == "field" else s)
    return long.drop(columns="_all")[["agency", "field", "label", "records", "unknown",
                                      "share_unknown"]].reset_index(drop=True)
