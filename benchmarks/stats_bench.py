"""Benchmark: every national table, with disclosure control, over N synthetic victim records.

    python benchmarks/stats_bench.py                 # 10,000,000 records, 2 threads
    python benchmarks/stats_bench.py --rows 1000000  # quicker while developing

The records are generated directly in DuckDB (no store: this measures the statistics, not the
import). Baseline, in the same run: ONE plain DuckDB GROUP BY (year x sex x age group, COUNT(*))
over the same table. Printed: seconds per table (computing + suppression) and its ratio to the
baseline, and the total. Targets (issue 3): all tables under 10 s on 2 cores; each table within
5x of the baseline.
"""

from __future__ import annotations

import argparse
import time

import duckdb

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.services.statistics import publish
from ctip.stats.registry import TABLES, compute

ORIGINS = ["GBR"] * 12 + ["ROU", "ALB", "VNM", "NGA", "PHL", "UKR", "MDA", "POL", "CHN", "IND",
                          "ERI", "SDN", "BGR", "BRA", "THA", "IRQ", "SYR", "AFG", "unknown"]
FORMS = ["['sexual_exploitation']", "['forced_labour']", "['sexual_exploitation','forced_labour']",
         "['forced_criminality']", "['forced_begging']", "NULL", "['organ_removal']",
         "['forced_marriage']", "['sexual_exploitation']", "['forced_labour']"]
PRIMARY = ["sexual_exploitation", "forced_labour", "mixed", "forced_criminality", "begging",
           "unknown", "organ_removal", "other", "sexual_exploitation", "forced_labour"]


def _pick(values: list[str], r: str, quote: bool = True) -> str:
    items = ", ".join(f"'{v}'" if quote else v for v in values)
    return f"([{items}])[CAST(1 + ({r} % {len(values)}) AS BIGINT)]"


def generate(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """N victim records with plausible shapes (unknowns included), in one SQL statement."""
    forms_case = "CASE CAST(r5 % 10 AS INTEGER) " + " ".join(
        f"WHEN {i} THEN {f}" for i, f in enumerate(FORMS)) + " END"
    sql = f"""
    CREATE OR REPLACE TABLE victims AS
    WITH r AS (
      SELECT i, hash(i * 7 + 1) AS r1, hash(i * 7 + 2) AS r2, hash(i * 7 + 3) AS r3,
             hash(i * 7 + 4) AS r4, hash(i * 7 + 5) AS r5, hash(i * 7 + 6) AS r6
      FROM range({rows}) AS t(i)
    ), b AS (
      SELECT i, r1, r2, r3, r4, r5, r6,
        CASE WHEN r2 % 100 < 55 THEN 'female' WHEN r2 % 100 < 95 THEN 'male'
             WHEN r2 % 100 < 96 THEN 'other' ELSE 'unknown' END AS sex,
        CASE WHEN r3 % 10 = 0 THEN NULL ELSE CAST(5 + (r3 // 10) % 60 AS INTEGER) END AS age,
        DATE '2015-01-01' + CAST(r1 % 3650 AS INTEGER) AS identification_date,
        {_pick(ORIGINS, 'r4')} AS citizenship,
        {forms_case} AS exploitation_forms,
        {_pick(PRIMARY, 'r5 % 10')} AS primary_form
      FROM r
    )
    SELECT
      'v' || i AS victim_id, NULL::VARCHAR AS pseudonym,
      {_pick(['police', 'ngo-a', 'ngo-b', 'labour-inspectorate', 'social-services'], 'r6')}
        AS agency,
      'police' AS agency_type, CAST(i AS VARCHAR) AS source_record_id,
      identification_date, CAST(year(identification_date) AS INTEGER) AS identification_year,
      CASE WHEN r6 % 20 = 0 THEN 'possible' ELSE 'identified' END AS identification_status,
      r6 % 20 <> 0 AS detected, sex, NULL::VARCHAR AS gender_identity, age,
      CASE WHEN age IS NULL THEN 'unknown' WHEN age < 18 THEN '0-17' ELSE '18+' END AS age_group,
      CASE WHEN age IS NULL OR sex NOT IN ('female', 'male') THEN 'unknown'
           WHEN sex = 'female' THEN CASE WHEN age < 18 THEN 'girls' ELSE 'women' END
           ELSE CASE WHEN age < 18 THEN 'boys' ELSE 'men' END END AS victim_group,
      {_pick(['no_disability', 'no_disability', 'disability', 'unknown'], 'r3 // 7')}
        AS disability_status,
      CASE WHEN citizenship = 'unknown' THEN NULL ELSE [citizenship] END AS citizenships,
      citizenship, 'GBR' AS country_of_detection, ['GBR'] AS countries_of_exploitation,
      citizenship AS country_of_recruitment, exploitation_forms,
      primary_form, NULL::VARCHAR[] AS labour_sector_isic,
      NULL::VARCHAR[] AS sexual_exploitation_type,
      CASE WHEN r2 % 3 = 0 THEN NULL ELSE ['debt_bondage'] END AS means_of_control,
      NULL::VARCHAR[] AS recruiter_relationship, TRUE AS consent_statistical_use,
      r5 % 1000 = 0 AS consent_withdrawn, 'bench' AS import_batch
    FROM b
    """
    con.execute(sql)
    got = [c[0] for c in con.execute("DESCRIBE victims").fetchall()]
    assert got == list(ANALYTIC_COLUMNS), got
    con.execute(f"""
    CREATE OR REPLACE TABLE perpetrators AS
    SELECT 'p' || (i // 2) AS perpetrator_id, 'police' AS agency,
      CASE WHEN hash(i) % 10 < 7 THEN 'male' ELSE 'female' END AS sex,
      CAST(20 + hash(i + 1) % 40 AS INTEGER) AS age, '18+' AS age_group,
      [{_pick(ORIGINS, 'hash(i + 2)')}] AS citizenships, {_pick(ORIGINS, 'hash(i + 2)')}
        AS citizenship, ['exploiter'] AS roles,
      {_pick(['suspected', 'prosecuted', 'convicted'], 'hash(i + 3)')} AS stage,
      CAST(2015 + hash(i + 4) % 10 AS INTEGER) AS stage_year,
      ['forced_labour'] AS exploitation_forms
    FROM range({max(rows // 100, 10)}) AS t(i)""")
    got = [c[0] for c in con.execute("DESCRIBE perpetrators").fetchall()]
    assert got == list(PERPETRATOR_COLUMNS), got


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--threshold", type=int, default=5)
    args = parser.parse_args()

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    seconds, _ = timed(lambda: generate(con, args.rows))
    print(f"generated {args.rows:,} victim records in DuckDB in {seconds:.1f} s "
          f"({args.threads} threads)")

    baseline_sql = ("SELECT identification_year, sex, age_group, COUNT(*) AS n FROM victims "
                    "GROUP BY identification_year, sex, age_group")
    timed(lambda: con.execute(baseline_sql).fetchall())  # warm the cache, like the tables get
    baseline, _ = timed(lambda: con.execute(baseline_sql).fetchall())
    print(f"baseline: one plain GROUP BY (year x sex x age group): {baseline:.3f} s\n")

    print(f"{'table':32} {'cells':>7} {'hidden':>7} {'seconds':>8} {'x baseline':>11}")
    total = 0.0
    worst = 0.0
    for name in TABLES:
        seconds, published = timed(lambda n=name: publish(compute(con, n),
                                                          threshold=args.threshold))
        total += seconds
        worst = max(worst, seconds / baseline)
        hidden = int(published.frame["suppressed"].sum())
        print(f"{name:32} {len(published.frame):7,} {hidden:7,} {seconds:8.3f} "
              f"{seconds / baseline:11.1f}")
    print(f"\nall {len(TABLES)} tables with suppression: {total:.2f} s "
          f"(target < 10 s): {'OK' if total < 10 else 'MISSED'}")
    print(f"all tables / baseline: {total / baseline:.1f}x; slowest table / baseline: "
          f"{worst:.1f}x (target <= 5x per table): {'OK' if worst <= 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
