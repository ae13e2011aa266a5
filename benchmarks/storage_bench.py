"""Storage benchmark: sealed, audited ``add_victims`` and the DuckDB analytic export.

Prints rows per second for each, against a named baseline measured in the same run:
- add_victims vs **plain sqlite3 executemany** of the same rows' plain columns (no sealing, no
  pseudonym, no idempotency lookup, no audit): the cost of protection and idempotency;
- to_duckdb vs **DuckDB reading the same rows from a CSV file** (read_csv): the cost of going
  through the row store.

    python benchmarks/storage_bench.py [--rows 200000] [--batch 5000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sqlite3
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import sqlalchemy as sa

from ctip.domain.records import Consent, Identity, Provenance, VictimRecord
from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.storage.repository import CaseStore

FORMS = ("sexual_exploitation", "forced_labour", "forced_criminality", "forced_begging")
COUNTRIES = ("NGA", "ITA", "ROU", "PHL", "UKR", "VNM", "MEX", "USA")


def records(n: int, seed: int = 1) -> list[VictimRecord]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        out.append(VictimRecord(
            source_record_id=f"B{i:08d}", agency=f"agency-{i % 5}",
            identification_status=rnd.choice(("possible", "presumed", "identified")),
            identification_date=date(2015 + i % 10, 1 + i % 12, 1 + i % 28),
            sex=rnd.choice(("female", "male", "unknown")), age_at_identification=rnd.randint(1, 70),
            disability_status="unknown", citizenships=(rnd.choice(COUNTRIES),),
            country_of_detection=rnd.choice(COUNTRIES),
            exploitation_forms=tuple(sorted(set(rnd.sample(FORMS, rnd.randint(1, 2))))),
            means_of_control=("debt_bondage",) if i % 3 else None,
            identity=Identity(given_name=f"Given{i}", family_name=f"Family{i % 997}",
                              date_of_birth=f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
                              document_number=f"D{i:09d}", email=f"person{i}@example.org"),
            consent=Consent(statistical_use=True),
            provenance=Provenance(source_system="canonical", source_file="bench.csv",
                                  source_row=i + 2),
        ))
    return out


def baseline_sqlite(path: Path, recs: list[VictimRecord], batch: int) -> float:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE v (id TEXT PRIMARY KEY, agency TEXT, sid TEXT, d TEXT, sex TEXT, "
                "age INT, cit TEXT, det TEXT, forms TEXT, UNIQUE(agency, sid))")
    start = time.perf_counter()
    for lo in range(0, len(recs), batch):
        rows = [(f"{lo + j}", r.agency, r.source_record_id, r.identification_date.isoformat(),
                 r.sex, r.age_at_identification, repr(r.citizenships), r.country_of_detection,
                 repr(r.exploitation_forms)) for j, r in enumerate(recs[lo:lo + batch])]
        con.executemany("INSERT INTO v VALUES (?,?,?,?,?,?,?,?,?)", rows)
        con.commit()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (a scratch database)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ctip-bench-"))
    settings = Settings(home=tmp / "home", database_url=args.postgres, seal_key=None,
                        pseudonym_key=None, key_file=None, pseudonym_key_file=None)
    init_home(settings)
    recs = records(args.rows)
    print(f"rows: {args.rows:,}  batch: {args.batch:,}  database: "
          f"{'PostgreSQL' if args.postgres else 'SQLite (WAL)'}")

    base = baseline_sqlite(tmp / "baseline.db", recs, args.batch)
    print(f"baseline plain sqlite3 executemany: {args.rows / base:>10,.0f} rows/s")

    with CaseStore.open(settings, actor="bench") as store:
        db_time = [0.0]

        @sa.event.listens_for(store.engine, "before_cursor_execute")
        def _start(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
            conn.info["t0"] = time.perf_counter()

        @sa.event.listens_for(store.engine, "after_cursor_execute")
        def _stop(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
            db_time[0] += time.perf_counter() - conn.info.pop("t0")

        batch_id = store.start_batch(source_file="bench.csv", file_sha256=None,
                                     profile="canonical", agency=None)
        per_call = []
        start, cpu_start = time.perf_counter(), time.process_time()
        for lo in range(0, len(recs), args.batch):
            t = time.perf_counter()
            store.add_victims(batch_id, recs[lo:lo + args.batch])
            per_call.append(time.perf_counter() - t)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        calls = len(per_call)
        per_call.sort()
        print(f"add_victims (sealed, audited):      {args.rows / took:>10,.0f} rows/s  "
              f"({took / base:.1f}x baseline time; median {per_call[len(per_call) // 2] * 1000:.0f}"
              f" ms per {args.batch:,})")
        print(f"  CPU time of this process: {cpu / len(per_call) * 1000:.0f} ms per call "
              f"({args.rows / cpu:,.0f} rows per CPU-second; wall time suffers on a busy machine)")
        if not args.postgres:  # PostgreSQL rows go through COPY, outside SQLAlchemy's events
            print(f"  of which SQL statements (lookup, insert, audit): "
                  f"{db_time[0] / calls * 1000:.0f} ms per call of {args.batch:,}")
        start = time.perf_counter()
        result = store.add_victims(batch_id, recs[:args.batch])
        rate = args.batch / (time.perf_counter() - start)
        print(f"add_victims again (unchanged):       {rate:>10,.0f}"
              f" rows/s  ({result.unchanged:,} unchanged)")

        csv_path = tmp / "analytic.csv"
        with csv_path.open("w", newline="") as handle:
            rows = store.analytic_rows()
            first = next(rows)
            writer = csv.DictWriter(handle, fieldnames=list(first))
            writer.writeheader()
            writer.writerow(first)
            writer.writerows(rows)
        con = duckdb.connect()
        start = time.perf_counter()
        con.execute(f"CREATE TABLE csv_baseline AS SELECT * FROM read_csv('{csv_path}')")
        csv_took = time.perf_counter() - start
        start, cpu_start = time.perf_counter(), time.process_time()
        store.to_duckdb(con)
        took, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        count = con.execute("SELECT count(*) FROM victims").fetchone()[0]
        print(f"baseline duckdb read_csv:            {count / csv_took:>10,.0f} rows/s")
        print(f"to_duckdb (ADBC Arrow stream):       {count / took:>10,.0f} rows/s  "
              f"({took / csv_took:.1f}x baseline time; {cpu:.2f} s CPU in this process)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (incl. the {args.rows:,} generated records): {peak:,.0f} MB")


if __name__ == "__main__":
    main()
