"""Import benchmark: N canonical rows into SQLite with sealing, against DuckDB's CSV reader.

Generates a canonical CSV of N rows (default 1,000,000; names, dates of birth, documents and
contacts included so every row is sealed and pseudonymised), imports it through the same service
``ctip import`` uses, and prints rows per second, the process's peak memory and, as the named
baseline in the same run, how long plain ``duckdb.read_csv`` takes to read the same file.

Targets (issue 2): >= 100,000 rows/s end to end on 2 cores; peak memory < 1 GB at any size.

    python benchmarks/import_bench.py --rows 20000      # quick
    python benchmarks/import_bench.py                   # the full 1,000,000
"""

from __future__ import annotations

import argparse
import csv
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--dir", type=Path, default=None, help="Work directory (default: a temporary one)."
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
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
            report = import_file(store, source, batch_size=settings.batch_size)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        peak = peak_memory_mb()  # before the baseline, whose Arrow table would count here
        baseline = duckdb_seconds(source)
        assert report.read == report.accepted + report.rejected == args.rows, report
        figures = {
            "rows": args.rows,
            "file_mb": round(source.stat().st_size / 1e6, 1),
            "import_seconds": round(elapsed, 2),
            "rows_per_second": round(args.rows / elapsed),
            "peak_memory_mb": round(peak, 1),
            "import_cpu_seconds": round(cpu, 2),
            "rows_per_cpu_second": round(args.rows / cpu),
            "duckdb_read_csv_seconds": round(baseline, 3),
            "import_vs_duckdb_read_csv": round(elapsed / baseline, 1),
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
    print(f"  peak memory {f['peak_memory_mb']} MB (target < 1024 MB)")
    print(
        f"  baseline duckdb.read_csv of the same file: {f['duckdb_read_csv_seconds']} s; "
        f"the import takes {f['import_vs_duckdb_read_csv']}x as long"
    )


if __name__ == "__main__":
    main()
