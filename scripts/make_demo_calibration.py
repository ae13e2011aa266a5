"""Derive the demo dataset's calibration (rounded shares) from the CTDC k-anonymised 2020 subset.

Run from the repository root with ../shared/data beside it:
    python scripts/make_demo_calibration.py
Writes src/ctip/demo_data/calibration.json: only aggregate shares (rounded to 0.1 %), no record.
Source: Counter-Trafficking Data Collaborative (CTDC), Global Dataset 14 Apr 2020 (k = 11).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SOURCE = (
    ROOT.parent / "shared/data/ctdc-kanon-2020-subset/ctdc_global_dataset_2020-04-14_subset.csv"
)
OUT = ROOT / "src/ctip/demo_data/calibration.json"


def shares(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, float]:
    rows = con.sql(sql).fetchall()
    total = sum(n for _, n in rows)
    out = {str(k): round(n / total, 3) for k, n in rows}
    return {k: v for k, v in out.items() if v > 0}


def main() -> None:
    con = duckdb.connect()
    con.sql(f"CREATE TABLE t AS SELECT * FROM read_csv_auto('{SOURCE}')")
    profile = shares(
        con,
        """
        SELECT gender || '|' || coalesce(ageBroad, 'unknown') || '|' ||
               CASE WHEN isSexualExploit = 1 AND isForcedLabour = 1 THEN 'both'
                    WHEN isSexualExploit = 1 THEN 'sexual'
                    WHEN isForcedLabour = 1 THEN 'labour'
                    ELSE 'unknown' END AS k, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC""",
    )
    citizenship = shares(
        con,
        """
        SELECT nacionalidade_alpha3, count(*) FROM t WHERE nacionalidade_alpha3 IS NOT NULL
        GROUP BY 1 HAVING count(*) >= 50 ORDER BY 2 DESC""",
    )
    unknown_citizenship = con.sql(
        "SELECT avg(CASE WHEN nacionalidade_alpha3 IS NULL THEN 1 ELSE 0 END) FROM t"
    ).fetchall()[0][0]
    doc = {
        "source": "Counter-Trafficking Data Collaborative (CTDC), Global Dataset 14 Apr 2020 "
        "(k-anonymised subset); shares rounded to 0.1 %, no records.",
        "sex_age_form": profile,
        "citizenship": citizenship,
        "citizenship_unknown_share": round(float(unknown_citizenship), 3),
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(profile)} profiles, {len(citizenship)} citizenships)")


if __name__ == "__main__":
    main()
