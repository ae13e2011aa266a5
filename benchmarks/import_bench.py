"""Import benchmark: N canonical rows into SQLite with sealing, against DuckDB's CSV reader.

Generates a canonical CSV of N rows (default 1,000,000; names, dates of birth, documents and
contacts included so every row is sealed and pseudonymised), imports it through the same service
``ctip import`` uses, and prints rows per second, rows per CPU second of *every* process that
worked on it (the ``ctip`` process, the import workers and multiprocessing's fork server), peak
memory (this process and the largest worker) and three named baselines measured in the same run:

- the peer: a minimal importer of the same rows in one process (``csv`` reader -> AES-GCM
  sealing of the identity fields + HMAC pseudonym and content hash -> ``executemany`` into an
  empty copy of the same table), with no validation, code lists or derived columns: what the
  least an importer with the same protection has to do costs;
- SQLite's own write rate for these rows: the stored victims rows, already built and sealed,
  inserted again with plain ``sqlite3`` ``executemany`` into an empty copy of the table (same
  indexes and pragmas). No import into this table can be faster than that;
- ``duckdb.read_csv`` of the same file (reading alone, in C++; it writes nothing).

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


class DescendantUsage:
    """Peak resident memory and CPU time of every process descended from this one, sampled every
    0.1 s with psutil. The import workers are children of multiprocessing's fork server, not of
    this process, so neither RUSAGE_CHILDREN nor process_time() sees their CPU; a worker's last
    sample is kept after it exits (at most 0.1 s of its CPU can be missed)."""

    def __init__(self) -> None:
        import threading

        self.peak_rss: dict[int, int] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> DescendantUsage:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        import psutil

        for child in psutil.Process().children(recursive=True):
            try:
                with child.oneshot():
                    times = child.cpu_times()
                    rss = child.memory_info().rss
            except psutil.Error:
                continue
            self.cpu[child.pid] = max(self.cpu.get(child.pid, 0.0), times.user + times.system)
            self.peak_rss[child.pid] = max(self.peak_rss.get(child.pid, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    @property
    def peak_mb(self) -> float:
        return max(self.peak_rss.values(), default=0) / 1e6

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    @property
    def processes(self) -> int:
        return len(self.cpu)


def minimal_import_seconds(source: Path, database: Path, work: Path) -> float:
    """The peer: the same rows read with ``csv``, identity sealed with AES-GCM, pseudonym and
    content hash by HMAC-SHA256, written with ``executemany`` (5,000 rows a commit) into an empty
    copy of the victims table. One process, no validation: the floor for a protected import."""
    import hashlib
    import hmac
    import sqlite3
    import uuid

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from ctip.domain.records import IDENTITY_FIELDS
    from ctip.storage.engine import _sqlite_pragmas

    target = work / "peer.db"
    src = sqlite3.connect(database)
    dst = sqlite3.connect(target)
    for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'victims' AND sql IS NOT NULL"
    ):
        dst.execute(sql)
    _sqlite_pragmas(dst, None)
    dst.commit()
    columns = [d[0] for d in src.execute("SELECT * FROM victims LIMIT 1").description]
    src.close()
    insert = f"INSERT INTO victims VALUES ({', '.join('?' * len(columns))})"
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    hkey = os.urandom(32)
    now = "2026-01-01 00:00:00.000000+00:00"
    fixed = {"identification_status": "identified", "detected": 1, "age_group": "unknown",
             "victim_group": "unknown", "citizenship": "unknown", "primary_form": "unknown",
             "seal_key_id": "k1", "created_at": now, "updated_at": now}
    started = time.perf_counter()
    with open(source, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        batch: list[tuple[object, ...]] = []
        for row in reader:
            victim_id = str(uuid.uuid4())
            identity = json.dumps({k: row[k] for k in IDENTITY_FIELDS if row.get(k)},
                                  sort_keys=True).encode()
            nonce = os.urandom(12)
            values: dict[str, object] = {c: row[c] or None for c in columns if c in row}
            values.update(fixed)
            values.update(
                victim_id=victim_id,
                sex=row["sex"],
                disability_status=row["disability_status"],
                content_hash=hmac.new(hkey, repr(sorted(row.items())).encode(),
                                      hashlib.sha256).hexdigest(),
                pseudonym=hmac.new(hkey, f"{row['given_name']}|{row['family_name']}|"
                                   f"{row['date_of_birth']}".lower().encode(),
                                   hashlib.sha256).hexdigest(),
                identity_sealed=nonce + aead.encrypt(nonce, identity,
                                                     f"victims/{victim_id}/identity".encode()),
            )
            batch.append(tuple(values.get(c) for c in columns))
            if len(batch) == 5000:
                dst.executemany(insert, batch)
                dst.commit()
                batch = []
        if batch:
            dst.executemany(insert, batch)
            dst.commit()
    spent = time.perf_counter() - started
    written = dst.execute("SELECT count(*) FROM victims").fetchone()[0]
    dst.close()
    target.unlink()
    assert written > 0
    return spent


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
            with DescendantUsage() as others:
                report = import_file(
                    store, source, batch_size=settings.batch_size, workers=args.workers
                )
            elapsed = time.perf_counter() - started
            own_cpu = time.process_time() - cpu
        peak = peak_memory_mb()  # before the baseline, whose Arrow table would count here
        worker_peak = others.peak_mb
        cpu = own_cpu + others.cpu_seconds
        load = os.getloadavg()
        database = next((work / "home").rglob("*.db"))
        peer = minimal_import_seconds(source, database, work)
        floor = sqlite_write_seconds(database, work)
        baseline = duckdb_seconds(source)
        assert report.read == report.accepted + report.rejected == args.rows, report
        figures = {
            "rows": args.rows,
            "file_mb": round(source.stat().st_size / 1e6, 1),
            "import_seconds": round(elapsed, 2),
            "rows_per_second": round(args.rows / elapsed),
            "peak_memory_mb": round(peak, 1),
            "worker_peak_memory_mb": round(worker_peak, 1),
            "import_cpu_seconds": round(cpu, 2),
            "ctip_process_cpu_seconds": round(own_cpu, 2),
            "other_processes": others.processes,
            "rows_per_cpu_second": round(args.rows / cpu),
            "peer_seconds": round(peer, 2),
            "peer_rows_per_second": round(args.rows / peer),
            "import_vs_peer": round(elapsed / peer, 2),
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
            "load_average": [round(x, 2) for x in load],
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
        f"  {f['rows_per_cpu_second']:,} rows per CPU second of all processes "
        f"({f['import_cpu_seconds']} s CPU: {f['ctip_process_cpu_seconds']} s in the ctip "
        f"process + {f['other_processes']} worker/fork-server processes)"
    )
    print(
        f"  peak memory {f['peak_memory_mb']} MB, largest worker {f['worker_peak_memory_mb']} MB "
        "(target < 1024 MB)"
    )
    print(
        f"  peer: a minimal importer of the same rows (csv -> AES-GCM + HMAC -> executemany, one "
        f"process, no validation) {f['peer_seconds']} s = {f['peer_rows_per_second']:,} rows/s; "
        f"the import takes {f['import_vs_peer']}x as long"
    )
    print(
        f"  baseline SQLite's own write of the same stored rows (plain executemany): "
        f"{f['sqlite_write_seconds']} s = {f['sqlite_write_rows_per_second']:,} rows/s; "
        f"the import takes {f['import_vs_sqlite_write']}x as long"
    )
    print(
        f"  baseline duckdb.read_csv of the same file (reads, writes nothing): "
        f"{f['duckdb_read_csv_seconds']} s; the import takes {f['import_vs_duckdb_read_csv']}x"
    )
    print(f"  load average during the run: {f['load_average']}")


if __name__ == "__main__":  # the guard matters: import workers start by re-reading this file
    main()
