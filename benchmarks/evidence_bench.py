"""Evidence locker benchmark: ingest MB/s against ``sha256sum`` of the same files, and custody
verification events/s (issue 14).

What a user runs, on files made for the run (random bytes: nothing to compress or dedupe):

- ``sha256sum FILES`` (the floor: reading and hashing alone), timed after the files are in the
  page cache, then ``ctip evidence ingest CASE FILES --user U`` on the same files (hash first,
  AES-GCM, write-once blob, RFC 3161 token from the local OpenSSL TSA, signed custody event,
  audit entry), both as separate processes: wall seconds and CPU seconds of the child process;
  the service call in this process too (no interpreter start-up);
- a custody log of N events (default 10,000; views signed by one user) with a checkpoint,
  verified by ``ctip evidence verify --case CASE`` and by the service in this process.

Targets: ingest >= 50 % of sha256sum's rate on large files; a 10,000-event log verified in < 2 s.
The machine is shared: the load average is printed, and the ratio in the same run is what counts.

    python benchmarks/evidence_bench.py --mb 256       # quick
    python benchmarks/evidence_bench.py                # 1 GiB in 4 files, 10,000 events
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ctip.domain.records import Identity
from ctip.services.accounts import Accounts
from ctip.services.anchoring import init_notary
from ctip.services.casework import CaseIntake, Casework
from ctip.services.evidence import Locker
from ctip.services.evidence_bundle import verify_locker
from ctip.services.home import init_home
from ctip.services.timestamping import init_local_tsa
from ctip.settings import Settings


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one child process."""
    cpu, wall = child_cpu(), time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - wall, child_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{args[0]} failed: {done.stderr[-2000:]}")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=1024, help="total MiB of evidence files")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    sha256sum, ctip = shutil.which("sha256sum"), shutil.which("ctip")
    if not sha256sum or not ctip:
        sys.exit("needs sha256sum (coreutils) and the ctip command (pip install -e .)")
    work = Path(tempfile.mkdtemp(prefix="ctip-evidence-bench-"))
    try:
        home = work / "home"
        settings = Settings(home=home, tsa="local")
        init_home(settings)
        init_notary(settings)
        init_local_tsa(settings.resolved_tsa_dir)
        cw = Casework.open(settings)
        accounts = Accounts.from_settings(settings, cw.engine, cw.sealer, cw.audit)
        accounts.add_user(None, "bench", "a long enough password", role="supervisor",
                          agency="bench")
        who = accounts.principal_for("bench")

        def new_case() -> str:
            return cw.create_case(who, CaseIntake(
                sex="female", age=30, nationality="NGA", languages=("en",),
                exploitation_forms=("forced_labour",),
                identity=Identity(given_name="Bench"))).case_id

        each = args.mb * (1 << 20) // args.files
        files = []
        for i in range(args.files):
            files.append(work / f"evidence-{i}.bin")
            with files[-1].open("wb") as out:
                for _ in range(each // (1 << 20)):
                    out.write(os.urandom(1 << 20))
        total_mb = sum(f.stat().st_size for f in files) / (1 << 20)
        env = {**os.environ, "CTIP_HOME": str(home), "CTIP_TSA": "local"}
        for var in ("CTIP_DATABASE_URL", "CTIP_KEY_FILE", "CTIP_PSEUDONYM_KEY_FILE"):
            env.pop(var, None)
        timed([sha256sum, *map(str, files)], env)  # page cache warm for both
        floor_wall, floor_cpu = timed([sha256sum, *map(str, files)], env)
        case_cli = new_case()
        cli_wall, cli_cpu = timed([ctip, "evidence", "ingest", case_cli, *map(str, files),
                                   "--user", "bench"], env)
        locker = Locker.over(cw, settings)
        case_svc = new_case()
        start = time.perf_counter()
        for f in files:
            with f.open("rb") as handle:
                locker.ingest(who, case_svc, handle, name=f.name)
        svc_wall = time.perf_counter() - start

        # custody verification: one small item, N events, a checkpoint
        case_log = new_case()
        locker.ingest(who, case_log, io.BytesIO(b"a chat export"), name="chat.txt")
        item = locker.items(who, case_log)[0].sha256
        with cw.engine.begin() as conn:
            for _ in range(args.events - 1):
                locker.record_event(conn, who, case_log, "view", item=item, purpose="investigation")
        locker.checkpoint(case_log)
        verify_wall, verify_cpu = timed([ctip, "evidence", "verify", "--case", case_log], env)
        start, cpu = time.perf_counter(), time.process_time()
        report = verify_locker(locker, [case_log])
        svc_verify, svc_verify_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert report.ok and report.events == args.events, report.problems
        cw.engine.dispose()
        figures = {
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "files": args.files, "total_mb": round(total_mb, 1),
            "sha256sum_mb_s": round(total_mb / floor_wall, 1),
            "sha256sum_cpu_mb_s": round(total_mb / floor_cpu, 1),
            "ctip_ingest_mb_s": round(total_mb / cli_wall, 1),
            "ctip_ingest_cpu_mb_s": round(total_mb / cli_cpu, 1),
            "service_ingest_mb_s": round(total_mb / svc_wall, 1),
            "ratio_wall": round(floor_wall / cli_wall, 3),
            "ratio_cpu": round(floor_cpu / cli_cpu, 3),
            "ratio_service_wall": round(floor_wall / svc_wall, 3),
            "events": args.events,
            "ctip_verify_s": round(verify_wall, 3),
            "ctip_verify_cpu_s": round(verify_cpu, 3),
            "service_verify_s": round(svc_verify, 3),
            "service_verify_cpu_s": round(svc_verify_cpu, 3),
            "service_verify_events_s": round(args.events / svc_verify, 1),
            "service_verify_events_cpu_s": round(args.events / svc_verify_cpu, 1),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    f = figures
    print(f"load average {f['load_average']} (2 cores, shared)")
    print(f"ingest of {f['files']} files, {f['total_mb']} MiB (random bytes):")
    print(f"  sha256sum (floor)       {f['sha256sum_mb_s']:>8} MB/s wall "
          f"{f['sha256sum_cpu_mb_s']:>8} MB/s CPU")
    print(f"  ctip evidence ingest    {f['ctip_ingest_mb_s']:>8} MB/s wall "
          f"{f['ctip_ingest_cpu_mb_s']:>8} MB/s CPU   ratio to sha256sum: "
          f"{f['ratio_wall']:.0%} wall, {f['ratio_cpu']:.0%} CPU (target >= 50%)")
    print(f"  Locker.ingest (service) {f['service_ingest_mb_s']:>8} MB/s wall   ratio "
          f"{f['ratio_service_wall']:.0%}")
    print(f"verification of a {f['events']:,}-event custody log with a checkpoint:")
    print(f"  ctip evidence verify    {f['ctip_verify_s']:>8} s wall "
          f"{f['ctip_verify_cpu_s']:>8} s CPU (with start-up; target < 2 s)")
    print(f"  verify_locker (service) {f['service_verify_s']:>8} s wall "
          f"{f['service_verify_cpu_s']:>8} s CPU = {f['service_verify_events_s']:,} events/s wall, "
          f"{f['service_verify_events_cpu_s']:,} per CPU s")


if __name__ == "__main__":
    main()
