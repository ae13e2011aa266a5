"""Import benchmark: N canonical rows into SQLite with sealing, against DuckDB's CSV reader.

Generates a canonical CSV of N rows (default 1,000,000; names, dates of birth, documents and
contacts included so every row is sealed and pseudonymised), imports it through the same service
``ctip import`` uses, and prints rows per second, peak memory (this process and, with workers,
the largest worker) and two named baselines measured in the same run:

- ``duckdb.read_csv`` of the same file (reading alone, in C++);
- SQLite's own write rate for these rows: the stored victims rows, already built and sealed,
  inserted again with plain ``sqlite3`` ``executemany`` into an empty copy of the table (same
  indexes and pragmas). No import into this table can be faster than that.

Targets (issue 2): >= 100,000 rows/s end to end on 2 cores; peak memory < 1 GB at any size.

    python benchmarks/import_bench.py --rows 20000      # quick
    python benchmarks/import_bench.py                   # the full 1,000,000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from ctip.ingest.profiles.canonical import COLUMNS
from ctip.services.home import init_home
from ctip.services.importing import import_file
from ctip.settings import Settings
from ctip.storage.repository import CaseStore

GIVEN = [
    "Amina",
    "Olena",
    "Mark",
    "Liza",
    "Omar",
    "Tetiana",
    "Rommel",
    "Mariam",
    "Connor",
    "Ana",
    "Jose",
    "Mai",
]
FAMILY = [
    "Okafor",
    "Shevchenko",
    "Mendoza",
    "Reyes",
    "Diallo",
    "Haile",
    "Taylor",
    "Nguyen",
    "Silva",
    "Lima",
]
COUNTRIES = ["NGA", "UKR", "PHL", "VNM", "ROU", "GBR", "ALB", "BRA", "THA", "ERI"]
FORMS = ["sexual_exploitation", "forced_labour", "forced_criminality", "forced_begging", ""]
MEANS = ["debt_bondage", "false_promises;physical_abuse", "withholds_documents", "", "none"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """A canonical file with realistic variety (identity in every row)."""
    rng = random.Random(seed)
    start = date(2019, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for i in range(rows):
            age = rng.randint(0, 70)
            when = start + timedelta(days=rng.randint(0, 2000))
            form = rng.choice(FORMS)
            values = {
                "source_record_id": f"B-{i:08d}",
                "agency": f"agency-{i % 4}",
                "agency_type": "police",
                "identification_date": when.isoformat(),
                "identification_status": rng.choice(["identified", "presumed", "possible"]),
                "sex": rng.choice(["female", "male", "unknown"]),
                "age_at_identification": str(age),
                "disability_status": rng.choice(["unknown", "no_disability", "disability"]),
                "citizenships": rng.choice(COUNTRIES),
                "country_of_detection": "GBR",
                "countries_of_exploitation": rng.choice(COUNTRIES),
                "country_of_recruitment": rng.choice(COUNTRIES),
                "exploitation_forms": form,
                "labour_sector_isic": "A" if form == "forced_labour" else "",
                "sexual_exploitation_type": "prostitution" if form == "sexual_exploitation" else "",
                "means_of_control": rng.choice(MEANS),
                "recruiter_relationship": rng.choice(["stranger", "family", ""]),
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "date_of_birth": f"{when.year - age}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "document_number": f"X{rng.randint(10**7, 10**8 - 1)}",
                "phone": f"+44 7{rng.randint(10**8, 10**9 - 1)}",
                "email": "",
                "address": "",
                "narrative": "",
            }
            writer.writerow([values.get(c, "") for c in COLUMNS])


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def duckdb_seconds(path: Path) -> float:
    """Plain ``duckdb.read_csv`` of the whole file into an Arrow table (every column parsed)."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    table = duckdb.read_csv(str(path), all_varchar=True, connection=con).to_arrow_table()
    elapsed = time.perf_counter() - started
    assert table.num_rows > 0
    con.close()
    return elapsed


def sqlite_write_seconds(database: Path, work: Path) -> float:
    """Seconds to insert the stored victims rows into an empty copy of the table (same schema,
    indexes and pragmas as ctip's engine), in 5,000-row executemany calls: the storage floor."""
    import sqlite3

    from ctip.storage.engine import _sqlite_pragmas

    target = work / "floor.db"
    src = sqlite3.connect(database)
    dst = sqlite3.connect(target)
    for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'victims' AND sql IS NOT NULL"
    ):
        dst.execute(sql)
    _sqlite_pragmas(dst, None)
    dst.commit()
    width = len(src.execute("SELECT * FROM victims LIMIT 1").description)
    insert = f"INSERT INTO victims VALUES ({', '.join('?' * width)})"
    cursor = src.execute("SELECT * FROM victims")
    spent = 0.0
    while rows := cursor.fetchmany(5000):
        started = time.perf_counter()
        dst.executemany(insert, rows)
        dst.commit()
        spent += time.perf_counter() - started
    src.close()
    dst.close()
    target.unlink()
    return spent


class DescendantMemory:
    """Largest resident memory of any process descended from this one (the import workers are
    children of multiprocessing's fork server, so RUSAGE_CHILDREN does not see them), sampled
    from /proc every 0.2 s. Linux only; 0 elsewhere."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DescendantMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            parents: dict[int, int] = {}
            rss: dict[int, int] = {}
            for entry in Path("/proc").glob("[0-9]*/status"):
                try:
                    fields = dict(
                        line.split(":", 1) for line in entry.read_text().splitlines() if ":" in line
                    )
                except OSError:
                    continue
                pid = int(entry.parent.name)
                parents[pid] = int(fields.get("PPid", "0"))
                rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
            for pid, kb in rss.items():
                ancestor = parents.get(pid)
                while ancestor and ancestor != me:
                    ancestor = parents.get(ancestor)
                if ancestor == me:
                    self.peak_kb = max(self.peak_kb, kb)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--dir", type=Path, default=None, help="Work directory (default: a temporary one)."
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    parser.add_argument(
        "--workers", type=int, default=None,
        help="Worker processes (default: ctip's own choice, one per CPU; 1 = in process).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        source = work / "bench.csv"
        started = time.perf_counter()
        generate(source, args.rows)
        generate_s = time.perf_counter() - started
        settings = Settings(
            home=work / "home",
            database_url=None,
            seal_key=None,
            pseudonym_key=None,
            key_file=None,
            pseudonym_key_file=None,
        )
        init_home(settings)
        with CaseStore.open(settings, actor="benchmark") as store:
            started = time.perf_counter()
            cpu = time.process_time()
            with DescendantMemory() as workers_memory:
                report = import_file(
                    store, source, batch_size=settings.batch_size, workers=args.workers
                )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        peak = peak_memory_mb()  # before the baseline, whose Arrow table would count here
        worker_peak = workers_memory.peak_mb
        baseline = duckdb_seconds(source)
        database = next((work / "home").rglob("*.db"))
        floor = sqlite_write_seconds(database, work)
        assert report.read == report.accepted + report.rejected == args.rows, report
        figures = {
            "rows": args.rows,
            "file_mb": round(source.stat().st_size / 1e6, 1),
            "import_seconds": round(elapsed, 2),
            "rows_per_second": round(args.rows / elapsed),
            "peak_memory_mb": round(peak, 1),
            "worker_peak_memory_mb": round(worker_peak, 1),
            "import_cpu_seconds": round(cpu, 2),
            "rows_per_cpu_second": round(args.rows / cpu),
            "duckdb_read_csv_seconds": round(baseline, 3),
            "import_vs_duckdb_read_csv": round(elapsed / baseline, 1),
            "sqlite_write_seconds": round(floor, 2),
            "sqlite_write_rows_per_second": round(args.rows / floor),
            "import_vs_sqlite_write": round(elapsed / floor, 1),
            "accepted": report.accepted,
            "rejected": report.rejected,
            "generate_seconds": round(generate_s, 1),
            "target_rows_per_second": 100_000,
            "target_peak_memory_mb": 1024,
        }
    if args.json:
        print(json.dumps(figures))
        return
    f = figures
    print(f"import of {f['rows']:,} canonical rows ({f['file_mb']} MB) into SQLite with sealing")
    print(
        f"  {f['rows_per_second']:,} rows/s end to end ({f['import_seconds']} s; "
        "target 100,000 rows/s)"
    )
    print(
        f"  {f['rows_per_cpu_second']:,} rows per CPU second of this process "
        f"({f['import_cpu_seconds']} s CPU: the rate on an unshared core)"
    )
    print(
        f"  peak memory {f['peak_memory_mb']} MB, largest worker {f['worker_peak_memory_mb']} MB "
        "(target < 1024 MB)"
    )
    print(
        f"  baseline duckdb.read_csv of the same file: {f['duckdb_read_csv_seconds']} s; "
        f"the import takes {f['import_vs_duckdb_read_csv']}x as long"
    )
    print(
        f"  baseline SQLite's own write of the same stored rows (plain executemany): "
        f"{f['sqlite_write_seconds']} s = {f['sqlite_write_rows_per_second']:,} rows/s; "
        f"the import takes {f['import_vs_sqlite_write']}x as long"
    )


if __name__ == "__main__":  # the guard matters: import workers start by re-reading this file
    main()
