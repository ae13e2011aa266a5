"""Supply-chain screening throughput (issue 18): 1,000,000 purchase lines, with the floor.

The peer in the same run is a plain DuckDB join of the same file to the List: read the CSV,
join on (country, HS prefix) to the List expanded by the crosswalk - what any SQL user would
write, without validation, product text, input paths or name matching. Target: ctip's screen
within 3x of it. Entity matching alone: names/s against a 1,000-name list (target >= 10,000).

    PYTHONPATH=src python benchmarks/supply_bench.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import duckdb

from ctip.supply import reference, synthetic
from ctip.supply.entities import EntityList, ListedEntity
from ctip.supply.names import NameMatcher
from ctip.supply.purchases import read_purchases
from ctip.supply.screen import screen


def floor(path: Path, risk: reference.RiskList, cw: reference.Crosswalk, threads: int) -> tuple:
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    rows = [(cw.iso3(e.country), code) for e in risk.entries if e.flags
            for code in cw.hs.get(e.good, ())]
    con.execute("CREATE TABLE list_hs (iso3 VARCHAR, prefix VARCHAR)")
    con.executemany("INSERT INTO list_hs VALUES (?, ?)", rows)
    start, cpu = time.perf_counter(), time.process_time()
    # materialised like the screen's hits (an Arrow table), not only counted
    joined = con.sql(
        f"SELECT l.*, r.prefix FROM read_csv('{path}', all_varchar=true) l JOIN list_hs r "
        "ON l.country = r.iso3 AND starts_with(l.hs_code, r.prefix)").to_arrow_table()
    return time.perf_counter() - start, time.process_time() - cpu, joined.num_rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    risk, cw = reference.shipped_list(), reference.shipped_crosswalk()
    listed = synthetic.entity_names(1000, seed=1801)
    entities = EntityList("bench list", "uflpa", tuple(
        ListedEntity(f"e{i}", n, country="CHN") for i, n in enumerate(listed)), "bench", "csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "purchases.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(synthetic.HEADER)
            w.writerows(synthetic.ledger_rows(args.lines, suppliers=20_000, listed=listed[:200],
                                              seed=5, text_share=0.5))
        # warm both (imports, first DuckDB connection) on a small file first
        small = Path(tmp) / "warm.csv"
        small.write_text(path.read_text(encoding="utf-8")[:20_000].rsplit("\n", 1)[0] + "\n")
        floor(small, risk, cw, args.threads)
        screen(read_purchases(small.read_bytes(), source_name="warm.csv"), risk, cw, [entities])
        floor_s, floor_cpu, floor_hits = floor(path, risk, cw, args.threads)
        start, cpu = time.perf_counter(), time.process_time()
        purchases = read_purchases(path.read_bytes(), source_name=path.name)
        result = screen(purchases, risk, cw, [entities], threads=args.threads)
        ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"lines {args.lines:,}; DuckDB threads {args.threads}")
    print(f"floor   DuckDB read_csv + join on (country, HS prefix) to Arrow: {floor_s:.2f} s "
          f"({floor_cpu:.2f} s CPU), {args.lines / floor_s:,.0f} lines/s ({floor_hits:,} joined "
          "rows; HS lines only)")
    print(f"ctip    read + check + HS/text goods + input paths + names: {ours:.2f} s "
          f"({ours_cpu:.2f} s CPU), "
          f"{args.lines / ours:,.0f} lines/s ({result.hits.num_rows:,} hits, "
          f"{result.rejected:,} rejected, read {result.read:,} = {result.accepted:,} + "
          f"{result.rejected:,})")
    print(f"ratio   ctip / floor: {ours / floor_s:.2f}x wall, {ours_cpu / floor_cpu:.2f}x CPU "
          "(target <= 3x; CPU is the fairer figure on a shared machine)")
    print("        stages (cumulative s): " + ", ".join(f"{k} {v:.2f}"
                                                      for k, v in result.timings.items()))
    queries = [synthetic.perturb(n, k, __import__("random").Random(i))
               for i, n in enumerate(synthetic.entity_names(10_000, seed=77))
               for k in ("typo",)]
    matcher = NameMatcher([e.names for e in entities.entities])
    start, cpu = time.perf_counter(), time.process_time()
    found = matcher.match(queries)
    took, took_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"names   {len(queries):,} distinct names against {len(listed):,} listed: {took:.2f} s, "
          f"{len(queries) / took:,.0f} names/s wall, {len(queries) / took_cpu:,.0f} names/s CPU "
          f"(target >= 10,000); {len(found)} candidates")


if __name__ == "__main__":
    main()
