"""Benchmark: every national table, with disclosure control, over N synthetic victim records.

    python benchmarks/stats_bench.py                        # 100k, 1M and 10M records
    python benchmarks/stats_bench.py --rows 100000 --repeat 5

The records are generated directly in DuckDB (no store: this measures the statistics, not the
import), with a fixed number of rare records at every size (rare citizenships, rare forms,
other or unknown sex, disability, young children), so small cells are hidden at 10M rows too.
Peer, in the same run: ONE plain DuckDB GROUP BY (year x sex x age group, COUNT(*)) over the
same table. Printed per table: cells, cells hidden, wall seconds to compute and to suppress (each
the median of --repeat runs after a warm-up; suppression cold, its pattern cache emptied before
each run), their sum and its ratio to the peer, the same in CPU seconds (this process, all
threads: the fair figure when other work shares the machine), and "again": wall seconds to
publish the same cells once more (the pattern comes from the content-addressed cache).
Target (issue 22): every table within 5x of the peer at 100k, 1M and 10M rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import duckdb

from ctip.domain.analytic import ANALYTIC_COLUMNS, PERPETRATOR_COLUMNS
from ctip.publish.shortcuts import clear_cache
from ctip.services.statistics import publish
from ctip.stats.registry import TABLES, compute

ORIGINS = ["GBR"] * 12 + ["ROU", "ALB", "VNM", "NGA", "PHL", "UKR", "MDA", "POL", "CHN", "IND",
                          "ERI", "SDN", "BGR", "BRA", "THA", "IRQ", "SYR", "AFG", "unknown"]
FORMS = ["['sexual_exploitation']", "['forced_labour']", "['sexual_exploitation','forced_labour']",
         "['forced_criminality']", "['forced_begging']", "NULL", "['organ_removal']",
         "['forced_marriage']", "['sexual_exploitation']", "['forced_labour']"]
PRIMARY = ["sexual_exploitation", "forced_labour", "mixed", "forced_criminality", "begging",
           "unknown", "organ_removal", "other", "sexual_exploitation", "forced_labour"]
# Small cells at every size: a fixed number of records (not a share) are rare in one way each,
# as in real national data: a citizenship seen a few times a year, a rare form, other sex, a
# recorded disability, a child of a rare origin. They make small cells at 100k and at 10M rows.
RARE_ROWS = 3_000
RARE_ORIGINS = ["TON", "FJI", "ISL", "LUX", "MLT", "BTN", "MDV", "BRB", "SUR", "GUY", "NAM",
                "BWA", "LSO", "SWZ", "MUS", "CPV", "STP", "COM", "DJI", "GMB", "GNB", "LBR",
                "SLE", "TGO", "BEN", "MRT", "TCD", "CAF", "GAB", "GNQ", "ERI", "SSD", "BDI",
                "RWA", "MWI", "ZMB", "KGZ", "TJK", "TKM", "MNG", "LAO", "KHM", "TLS", "PNG",
                "SLB", "VUT", "WSM", "KIR", "NRU", "TUV", "BLZ", "NIC", "HND", "SLV", "PRY",
                "BOL", "ECU", "URY", "CUB", "HTI", "stateless"]
RARE_FORMS = ["['organ_removal']", "['forced_marriage']", "['illegal_adoption']",
              "['forced_marriage','forced_begging']"]
RARE_PRIMARY = ["organ_removal", "other", "other", "begging"]


def _pick(values: list[str], r: str, quote: bool = True) -> str:
    items = ", ".join(f"'{v}'" if quote else v for v in values)
    return f"([{items}])[CAST(1 + ({r} % {len(values)}) AS BIGINT)]"


def generate(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """N victim records with plausible shapes (unknowns included), in one SQL statement; the
    last RARE_ROWS are rare in one respect each (``rare``: 0 origin, 1 form, 2 sex, 3
    disability, 4 young child)."""
    rare_rows = min(RARE_ROWS, rows // 10)
    rare_forms = "CASE CAST(r5 % 4 AS INTEGER) " + " ".join(
        f"WHEN {i} THEN {f}" for i, f in enumerate(RARE_FORMS)) + " END"
    forms_case = "CASE CAST(r5 % 10 AS INTEGER) " + " ".join(
        f"WHEN {i} THEN {f}" for i, f in enumerate(FORMS)) + " END"
    sql = f"""
    CREATE OR REPLACE TABLE victims AS
    WITH r AS (
      SELECT i, hash(i * 7 + 1) AS r1, hash(i * 7 + 2) AS r2, hash(i * 7 + 3) AS r3,
             hash(i * 7 + 4) AS r4, hash(i * 7 + 5) AS r5, hash(i * 7 + 6) AS r6
      FROM range({rows}) AS t(i)
    ), b AS (
      SELECT i, r1, r2, r3, r4, r5, r6, rare,
        CASE WHEN rare = 2 THEN CASE WHEN r2 % 2 = 0 THEN 'other' ELSE 'unknown' END
             WHEN r2 % 100 < 56 THEN 'female' ELSE 'male' END AS sex,
        CASE WHEN rare = 4 THEN CAST(r3 % 9 AS INTEGER)
             WHEN r3 % 10 = 0 THEN NULL ELSE CAST(18 + (r3 // 10) % 50 AS INTEGER) END AS age,
        DATE '2015-01-01' + CAST(r1 % 3650 AS INTEGER) AS identification_date,
        CASE WHEN rare = 0 THEN {_pick(RARE_ORIGINS, 'r4')}
             ELSE {_pick(ORIGINS, 'r4')} END AS citizenship,
        CASE WHEN rare = 1 THEN {rare_forms} ELSE {forms_case} END AS exploitation_forms,
        CASE WHEN rare = 1 THEN {_pick(RARE_PRIMARY, 'r5 % 4')}
             ELSE {_pick(PRIMARY, 'r5 % 10')} END AS primary_form
      FROM (SELECT *, CASE WHEN i >= {rows - rare_rows} THEN CAST(r6 % 5 AS INTEGER)
                           ELSE -1 END AS rare FROM r) AS r
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
      CASE WHEN rare = 3 THEN 'disability'
           ELSE {_pick(['no_disability', 'no_disability', 'no_disability', 'unknown'], 'r3 // 7')}
           END AS disability_status,
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
      CASE WHEN i % 997 = 0 THEN 'unknown' WHEN hash(i) % 10 < 7 THEN 'male'
           ELSE 'female' END AS sex,
      CAST(20 + hash(i + 1) % 40 AS INTEGER) AS age, '18+' AS age_group,
      [{_pick(ORIGINS, 'hash(i + 2)')}] AS citizenships,
      CASE WHEN i % 499 = 0 THEN {_pick(RARE_ORIGINS, 'hash(i + 5)')}
           ELSE {_pick(ORIGINS, 'hash(i + 2)')} END AS citizenship, ['exploiter'] AS roles,
      {_pick(['suspected', 'prosecuted', 'convicted'], 'hash(i + 3)')} AS stage,
      CAST(2015 + hash(i + 4) % 10 AS INTEGER) AS stage_year,
      ['forced_labour'] AS exploitation_forms
    FROM range({max(rows // 100, 10)}) AS t(i)""")
    got = [c[0] for c in con.execute("DESCRIBE perpetrators").fetchall()]
    assert got == list(PERPETRATOR_COLUMNS), got


def median_seconds(fn, repeat: int):  # type: ignore[no-untyped-def]
    """Median wall and CPU seconds (this process, every thread) of ``repeat`` runs after one
    warm-up run, and the last result. CPU time is the fair figure on a shared machine."""
    out = fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--method", default="auto", help="secondary suppression method")
    parser.add_argument("--audit", action="store_true",
                        help="after timing, the LP attacker (publish.audit) on every hidden cell")
    args = parser.parse_args()
    for rows in args.rows:
        run(rows, args)


def audit(table, threshold: int, method: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(hidden cells audited, failures): every table ``suppress`` returned while publishing
    ``table`` (cold), each slice on its own, through the LP attacker of ``publish.audit``
    (scipy's linprog, independent of the suppression code): width >= threshold for every
    hidden cell, and for a small one an upper bound >= threshold and a lower bound <= v - 1."""
    import dataclasses

    import ctip.services.statistics as service
    from ctip.publish.audit import attacker_bounds

    calls = []
    real = service.suppress

    def spy(frame, **kwargs):  # type: ignore[no-untyped-def]
        done = real(frame, **kwargs)
        calls.append((frame, kwargs, done))
        return done

    service.suppress = spy
    try:
        clear_cache()
        published = publish(table, threshold=threshold, method=method)
    finally:
        service.suppress = real
    checked = failures = 0
    for frame, kwargs, done in calls:
        dims, slices = list(kwargs["dims"]), list(kwargs.get("slices", ()))
        groups = frame.groupby(slices, sort=False) if slices else [((), frame)]
        for key, part in groups:
            key = key if isinstance(key, tuple) else (key,)
            mine = done.frame
            for name, value in zip(slices, key, strict=True):
                mine = mine[mine[name] == value]
            if not mine["suppressed"].any():
                continue
            original = part[[*dims, "count"]].reset_index(drop=True)
            released = dataclasses.replace(done, frame=mine.drop(columns=slices)
                                           .reset_index(drop=True))
            for _, cell in attacker_bounds(original, released).iterrows():
                checked += 1
                ok = cell["upper"] - cell["lower"] >= threshold - 1e-6
                if 1 <= cell["true"] < threshold:
                    ok = ok and cell["upper"] >= threshold - 1e-6
                    ok = ok and cell["lower"] <= cell["true"] - 1 + 1e-6
                failures += not ok
    assert checked >= int(published.frame["suppressed"].sum()) or not calls
    return checked, failures


def run(rows: int, args: argparse.Namespace) -> None:
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    start = time.perf_counter()
    generate(con, rows)
    print(f"\n=== {rows:,} victim records ({min(RARE_ROWS, rows // 10):,} rare in one "
          f"respect) generated in DuckDB in {time.perf_counter() - start:.1f} s; "
          f"{args.threads} threads; median of {args.repeat} runs; suppression {args.method}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    baseline_sql = ("SELECT identification_year, sex, age_group, COUNT(*) AS n FROM victims "
                    "GROUP BY identification_year, sex, age_group")
    baseline, base_cpu, _ = median_seconds(lambda: con.execute(baseline_sql).fetchall(),
                                           args.repeat)
    print(f"peer: one plain DuckDB GROUP BY (year x sex x age group): {baseline:.4f} s wall, "
          f"{base_cpu:.4f} s CPU\n")
    print(f"{'table':28} {'cells':>6} {'hidden':>6} {'compute':>8} {'suppress':>8} "
          f"{'wall s':>8} {'x peer':>7} {'CPU s':>7} {'x peer':>7} {'again s':>8}")
    total = total_cpu = worst = worst_cpu = 0.0
    hidden_any = 0
    for name in TABLES:
        compute_s, compute_cpu, table = median_seconds(lambda n=name: compute(con, n),
                                                       args.repeat)
        # cold: the pattern cache is emptied before every run (a first publication)
        supp_s, supp_cpu, published = median_seconds(
            lambda t=table: (clear_cache(), publish(t, threshold=args.threshold,
                                                    method=args.method))[1], args.repeat)
        again_s, again_cpu, _ = median_seconds(  # warm: the same cells published again
            lambda t=table: publish(t, threshold=args.threshold, method=args.method),
            args.repeat)
        seconds, cpu = compute_s + supp_s, compute_cpu + supp_cpu
        total, total_cpu = total + seconds, total_cpu + cpu
        worst, worst_cpu = max(worst, seconds / baseline), max(worst_cpu, cpu / base_cpu)
        hidden = int(published.frame["suppressed"].sum())
        hidden_any += hidden > 0
        print(f"{name:28} {len(published.frame):6,} {hidden:6,} {compute_s:8.3f} {supp_s:8.3f} "
              f"{seconds:8.3f} {seconds / baseline:7.1f} {cpu:7.3f} {cpu / base_cpu:7.1f} "
              f"{again_s:8.3f}")
    print(f"\n{hidden_any} of {len(TABLES)} tables have hidden cells (suppression exercised)")
    if args.audit:
        checked = failed = 0
        for name in TABLES:
            c, f = audit(compute(con, name), args.threshold, args.method)
            checked, failed = checked + c, failed + f
        print(f"LP attacker audit: {checked:,} hidden cells checked, {failed} failures")
    print(f"all {len(TABLES)} tables with suppression: {total:.2f} s wall = "
          f"{total / baseline:.1f}x the peer, {total_cpu:.2f} s CPU = "
          f"{total_cpu / base_cpu:.1f}x; slowest table {worst:.1f}x wall, {worst_cpu:.1f}x CPU "
          f"(target <= 5x per table): {'OK' if max(worst, worst_cpu) <= 5 else 'MISSED'}")
    con.close()


if __name__ == "__main__":
    main()
