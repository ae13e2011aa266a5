"""Web benchmark: case search and case page under 50 concurrent users, over PostgreSQL.

1. Creates a fresh PostgreSQL database (from the server's ``test`` database connection), a ctip
   home with its keys, and migrates it.
2. Loads ``--cases`` cases (default 1,000,000) with PostgreSQL COPY, spread over 20 agencies;
   every identity is sealed with the home's key ring under the same context the service uses, and
   the keyed name hash is computed, exactly as ``Casework.create_case`` stores them. A few
   thousand live referrals between agencies are added so the recipient path is exercised too.
3. Runs ``ctip serve`` on a free loopback port against that database.
4. Drives it with locust (headless, ``--users`` users, ``--run-time`` seconds): each user has a
   session signed in beforehand (password + TOTP; argon2 is slow on purpose, so sign-in is not
   part of the timed run) and searches cases (page ``/cases`` by status, by case-number
   prefix), opens case pages (``/cases/{id}``), opens the case edit form and saves it now and
   then (``/cases/{id}/edit``; a 409 conflict counts as a right answer), lists the agency's sent
   referrals (``/referrals/sent``) and, for the supervisors (every fifth user), the linkage
   review queue (``/review/linkage.pairs``, 300 waiting pairs per agency), plus the searches and
   case reads through the REST API.
5. Prints p50/p95/p99 latency per request kind and the error count, against the target
   (p95 < 150 ms, zero errors). Baseline in the same run: ``/healthz`` (the server with no
   database work), printed beside every figure, so the cost of the page itself can be read off;
   when its p95 exceeds 50 ms the run warns that the machine, not the app, is the limit. On
   Linux it also prints the load average and the CPU seconds used during the run by the server,
   PostgreSQL, locust and everything else on the machine (the server, the database and the load
   generator share it).

    python benchmarks/web_bench.py [--cases 1000000] [--users 50] [--run-time 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pyotp
import sqlalchemy as sa

from ctip.domain.casework import format_case_number
from ctip.domain.records import Identity
from ctip.domain.review import Reason
from ctip.services.accounts import Accounts
from ctip.services.case_intake import _identity_json
from ctip.services.casework import Casework
from ctip.services.home import init_home
from ctip.services.review import ReviewQueues
from ctip.settings import Settings
from ctip.storage.sealing import normalise_name

ADMIN_URL = os.environ.get("CTIP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AGENCIES = [f"Agency {i:02d}" for i in range(1, 21)]
STATUSES = (
    "signal",
    "screening",
    "presumed_victim",
    "consent_pending",
    "referred",
    "recovery_reflection",
    "identified_victim",
    "closed",
)
FORMS = ("sexual_exploitation", "forced_labour", "forced_criminality", "forced_begging")
COUNTRIES = ("NGA", "ROU", "VNM", "PHL", "UKR", "ALB", "ERI", "BRA")
PASSWORD = secrets.token_urlsafe(16)  # throwaway users in a throwaway database
CASE_COLUMNS = (
    "case_id",
    "agency",
    "status",
    "status_since",
    "sex",
    "age",
    "age_disputed",
    "nationality",
    "languages",
    "interpreter_needed",
    "exploitation_forms",
    "assistance_state",
    "justice_state",
    "non_punishment_state",
    "non_punishment_flag",
    "child_state",
    "identity_sealed",
    "notes_sealed",
    "name_key",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "case_number",
)
REVIEW_ITEMS_PER_AGENCY = 300  # linkage pairs waiting on each agency's review queue

LOCUSTFILE = """
import json, random, re
from locust import HttpUser, task, between

CFG = json.load(open(__CFG__))


class Caseworker(HttpUser):
    wait_time = between(0.2, 0.8)

    def on_start(self):
        # signed in before the timed run (argon2 is slow on purpose)
        me = random.choice(CFG["sessions"])
        self.ids = CFG["case_ids"][me["agency"]]
        token = me["token"]
        self.csrf = me["csrf"]
        self.reviewer = me["role"] == "supervisor"
        self.api = {"Authorization": "Bearer " + token}  # the API with a bearer token
        self.client.cookies.set("ctip_session", token)   # the pages with the browser cookie

    @task(3)
    def search_page(self):
        if random.random() < 0.5:
            status = random.choice(CFG["statuses"])
            self.client.get("/cases?status=" + status, name="page: case search")
        else:
            self.client.get("/cases?q=" + random.choice(self.ids)[:4], name="page: case search")

    @task(3)
    def case_page(self):
        self.client.get("/cases/" + random.choice(self.ids), name="page: case")

    @task(1)
    def search_api(self):
        status = random.choice(CFG["statuses"])
        self.client.get("/api/cases?status=" + status, name="api: case search", headers=self.api)

    @task(1)
    def case_api(self):
        self.client.get("/api/cases/" + random.choice(self.ids), name="api: case", headers=self.api)

    @task(1)
    def case_edit(self):
        # the edit form, then (one time in four) saving it with the version it showed; a 409 is
        # the right answer when another user saved the same case in between, not an error
        case_id = random.choice(self.ids)
        form = self.client.get("/cases/" + case_id + "/edit", name="page: case edit")
        if random.random() < 0.25 and form.status_code == 200:
            m = re.search(r'name="version" value="(\\d+)"', form.text)
            age = str(random.randint(18, 60))
            with self.client.post(
                "/cases/" + case_id + "/edit",
                data={"csrf_token": self.csrf, "version": m.group(1) if m else "0",
                      "sex": "female", "age": age},
                name="page: case edit (save)", catch_response=True,
            ) as saved:
                if saved.status_code in (200, 409):
                    saved.success()

    @task(1)
    def referral_list(self):
        self.client.get("/referrals/sent", name="page: referral list")

    @task(1)
    def review_queue(self):
        if self.reviewer:
            self.client.get("/review/linkage.pairs", name="page: review queue")

    @task(1)
    def health(self):
        self.client.get("/healthz", name="baseline: /healthz")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database() -> tuple[str, str]:
    name = f"ctip_webbench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def load_cases(cw: Casework, url: str, n: int, seed: int = 7) -> dict[str, list[str]]:
    """COPY ``n`` sealed cases; returns a sample of case ids per agency for the load test."""
    rnd = random.Random(seed)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    sample: dict[str, list[str]] = {a: [] for a in AGENCIES}
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Every status changed within the last week: no NRM deadline (14 days and more) has passed,
    # as in a server whose timers have been running all along. (Loading years-old statuses would
    # make the server's first timer run create hundreds of thousands of review tasks at start-up.)
    recent = datetime.now(UTC) - timedelta(days=7)
    t0 = time.perf_counter()
    counters: Counter = Counter()  # (agency, year) -> last case number given
    # sealing happens inside a transaction of the store's engine (its key-rotation guard checks
    # the active key there); the rows themselves go through psycopg's COPY
    with cw.engine.begin(), psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY cases ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
            for i in range(n):
                case_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
                agency = AGENCIES[i % len(AGENCIES)]
                given, family = f"Given{i}", f"Family{i % 4999}"
                identity = Identity(
                    given_name=given,
                    family_name=family,
                    date_of_birth=f"19{60 + i % 40}-0{1 + i % 9}-1{i % 10}",
                    phone=f"+10000{i:07d}",
                )
                created = start + timedelta(minutes=i % 1_000_000)
                counters[(agency, created.year)] += 1
                number = format_case_number(agency, created.year, counters[(agency, created.year)])
                age = rnd.randint(8, 60)
                changed = recent + timedelta(seconds=i % 500_000)
                copy.write_row(
                    (
                        case_id,
                        agency,
                        STATUSES[rnd.randrange(len(STATUSES))],
                        changed,
                        rnd.choice(("female", "male", "unknown")),
                        age,
                        False,
                        rnd.choice(COUNTRIES),
                        '["en"]',
                        False,
                        json.dumps([rnd.choice(FORMS)]),
                        "active",
                        "none",
                        "none",
                        False,
                        "minor_presumed" if age < 18 else "not_applicable",
                        cw.sealer.seal(
                            _identity_json(identity), context=f"case/{case_id}/identity"
                        ),
                        None,
                        cw.pseudonymiser.keyed_hash(
                            "case-name", normalise_name(given, family).encode()
                        ),
                        created,
                        changed,
                        "bench-loader",
                        1,
                        number,
                    )
                )
                if len(sample[agency]) < 2000:
                    sample[agency].append(case_id)
                if (i + 1) % 100_000 == 0:
                    print(
                        f"  loaded {i + 1:,} cases ({time.perf_counter() - t0:.0f} s)", flush=True
                    )
        # live referrals: each agency's first 200 sampled cases referred to the next agency
        with cur.copy(
            "COPY referrals (referral_id, case_id, from_agency, to_agency, purpose, shared_fields, "
            "status, due_date, created_at, created_by) FROM STDIN"
        ) as copy:
            for k, agency in enumerate(AGENCIES):
                to = AGENCIES[(k + 1) % len(AGENCIES)]
                for case_id in sample[agency][:200]:
                    copy.write_row(
                        (
                            str(uuid.uuid4()),
                            case_id,
                            agency,
                            to,
                            "service",
                            '["given_name"]',
                            "pending",
                            start.date(),
                            start,
                            "bench-loader",
                        )
                    )
        with cur.copy("COPY case_counters (agency, year, last) FROM STDIN") as copy:
            for (agency, year), last in counters.items():
                copy.write_row((agency, year, last))
        conn.commit()
        cur.execute("ANALYZE")
    print(f"loaded {n:,} cases in {time.perf_counter() - t0:.1f} s", flush=True)
    return sample


def load_review_queue(cw: Casework, agencies: list[str], seed: int = 11) -> None:
    """``REVIEW_ITEMS_PER_AGENCY`` linkage pairs on each agency's queue, with the reasons the
    linkage queue gives (score band, and now and then dates of birth that disagree)."""
    from ctip.domain.linkage_queue import QUEUE_NAME, pair_reasons

    rnd = random.Random(seed)
    queues = ReviewQueues.of(cw)
    for agency in agencies:
        items = []
        for k in range(REVIEW_ITEMS_PER_AGENCY):
            p = rnd.uniform(0.5, 0.95)
            reasons: tuple[Reason, ...] = pair_reasons(
                p, match_threshold=0.95, review_threshold=0.5,
                dob=rnd.choice(("agree", "disagree", "missing")))
            items.append((f"bench-run:{agency}:{k}", p, reasons))
        queues.enqueue(QUEUE_NAME, agency, items, actor="bench-loader")


def wait_until_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ctip serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310 - loopback
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("ctip serve did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--run-time", type=int, default=60, help="seconds of load")
    ap.add_argument("--workers", type=int, default=2, help="ctip serve worker processes")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args(argv)
    import importlib.util

    if importlib.util.find_spec("locust") is None:  # say so before minutes of loading
        print("web_bench needs locust: pip install 'ctip[bench]'", file=sys.stderr)
        return 2

    db_name, url = create_database()
    home = Path(tempfile.mkdtemp(prefix="ctip-webbench-"))
    proc = None
    try:
        settings = Settings(home=home, database_url=url)
        init_home(settings)
        cw = Casework.open(settings)
        sample = load_cases(cw, url, args.cases)
        accounts = Accounts.from_settings(settings, cw.engine, cw.sealer)
        users = []
        for k in range(args.users):  # one user per simulated person: a TOTP code is accepted once
            agency = AGENCIES[k % 10]
            role = "supervisor" if k % 5 == 4 else "caseworker"  # supervisors read review queues
            new = accounts.add_user(None, f"bench{k:03d}", PASSWORD, role=role, agency=agency)
            users.append(
                {
                    "username": new.username,
                    "agency": agency,
                    "role": role,
                    "secret": parse_qs(urlparse(new.otpauth_uri).query)["secret"][0],
                }
            )
        load_review_queue(cw, sorted({u["agency"] for u in users if u["role"] == "supervisor"}))
        sessions = []
        for u in users:
            result = accounts.login(u["username"], PASSWORD, pyotp.TOTP(u["secret"]).now())
            sessions.append({"token": result.token, "csrf": result.csrf_token,
                             "agency": u["agency"], "role": u["role"]})
        cw.engine.dispose()
        cfg = home / "locust.json"
        cfg.write_text(
            json.dumps(
                {
                    "sessions": sessions,
                    "statuses": list(STATUSES),
                    "case_ids": {u["agency"]: sample[u["agency"]] for u in users},
                }
            )
        )
        locustfile = home / "locustfile.py"
        locustfile.write_text(LOCUSTFILE.replace("__CFG__", repr(str(cfg))))

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "CTIP_HOME": str(home), "CTIP_DATABASE_URL": url}
        server_log = (home / "serve.log").open("wb")  # a pipe nobody reads would block the server
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [
                sys.executable,
                "-m",
                "ctip",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers are stopped with it
        )
        wait_until_up(base, proc)
        print(f"home {home}", flush=True)
        print(
            f"ctip serve up on {base} ({args.workers} workers); "
            f"{args.users} users for {args.run_time} s",
            flush=True,
        )
        prefix = home / "locust"
        before = machine_snapshot(proc.pid, db_name)
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(locustfile),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.users),
                "-t",
                f"{args.run_time}s",
                "--host",
                base,
                "--csv",
                str(prefix),
                "--json-file",
                str(prefix.with_name("locust_final")),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            check=False,
            env={**os.environ},
        )
        after = machine_snapshot(proc.pid, db_name)
        report(final_stats(prefix.with_name("locust_final.json"), args.run_time), args)
        report_machine(before, after, args.run_time)
    finally:
        if proc is not None:  # the server and its worker processes: the group we started
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if not args.keep:
            drop_database(db_name)
        else:  # for benchmarks/web_profile.py HOME URL
            print(f"kept: home {home} database {url}", flush=True)
    return 0


def _cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_snapshot(server_group: int, db_name: str) -> dict[str, float] | None:
    """CPU seconds so far of the server (its process group), of PostgreSQL's backends for this
    database, of this process's finished children (locust), and of the whole machine; with the
    load average. The machine is shared: what the others use is what is left. None off Linux."""
    try:
        out = {"server": 0.0, "postgres": 0.0}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if int(stat[2]) == server_group:
                    out["server"] += _cpu_seconds(entry.name)
                elif cmd.startswith("postgres:") and f" {db_name} " in cmd:
                    out["postgres"] += _cpu_seconds(entry.name)
            except (OSError, IndexError, ValueError):
                continue
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        out["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["children"] = usage.ru_utime + usage.ru_stime
        out["load"] = os.getloadavg()[0]
        return out
    except (OSError, ValueError):
        return None


def report_machine(
    before: dict[str, float] | None, after: dict[str, float] | None, seconds: int
) -> None:
    if before is None or after is None:
        return
    used = {k: after[k] - before[k] for k in ("server", "postgres", "children", "machine")}
    others = used["machine"] - used["server"] - used["postgres"] - used["children"]
    cores = os.cpu_count() or 1
    print(
        f"machine: {cores} cores; load average (1 min) {before['load']:.2f} before the run, "
        f"{after['load']:.2f} after; CPU seconds during the run: server {used['server']:.1f}, "
        f"PostgreSQL for this database {used['postgres']:.1f}, locust {used['children']:.1f}, "
        f"everything else {max(others, 0.0):.1f} (of {cores * seconds} available)"
    )


def final_stats(path: Path, run_time: int) -> list[dict[str, str]]:
    """Per request kind and aggregated, from locust's final statistics (``--json-file``).

    Not from ``--csv``'s stats file: that is rewritten every few seconds and missed the last
    requests of a run (its counts and percentiles differed from locust's own closing summary).
    Percentiles are computed by locust's own function over the same response-time histogram."""
    rows, every, total_failures = [], Counter(), 0
    for entry in sorted(json.loads(path.read_text()), key=lambda e: str(e["name"])):
        times = Counter({int(float(k)): int(v) for k, v in entry["response_times"].items()})
        every.update(times)
        total_failures += int(entry["num_failures"])
        rows.append(_stats_row(entry["name"], times, int(entry["num_failures"]), run_time))
    rows.append(_stats_row("Aggregated", every, total_failures, run_time))
    return rows


def _stats_row(name: str, times: Counter, failures: int, run_time: int) -> dict[str, str]:
    from locust.stats import calculate_response_time_percentile

    count = sum(times.values())

    def pct(q: float) -> str:
        return str(calculate_response_time_percentile(times, count, q)) if count else "N/A"

    return {
        "Name": name,
        "Request Count": str(count),
        "Failure Count": str(failures),
        "50%": pct(0.50),
        "95%": pct(0.95),
        "99%": pct(0.99),
        "Requests/s": str(count / max(run_time, 1)),
    }


HEALTHZ_LIMIT_MS = 50  # above this the machine (CPU, scheduler), not the app, is the limit


def report(rows: list[dict[str, str]], args: argparse.Namespace) -> None:
    print()
    print(
        f"web_bench: {args.cases:,} cases in PostgreSQL, {args.users} concurrent users, "
        f"{args.run_time} s, "
        f"{args.workers} server workers"
    )
    print(
        f"{'request':28} {'count':>8} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'req/s':>8}"
    )
    total_errors = 0
    for r in rows:
        name = r["Name"]
        total_errors += int(r["Failure Count"]) if name != "Aggregated" else 0
        print(
            f"{name:28} {int(r['Request Count']):>8} {int(r['Failure Count']):>7} {r['50%']:>8} "
            f"{r['95%']:>8} {r['99%']:>8} {float(r['Requests/s']):>8.1f}"
        )
    by_name = {r["Name"]: r for r in rows}
    base = by_name.get("baseline: /healthz")
    base_p95 = float(base["95%"]) if base and base["95%"] != "N/A" else None
    beside = f"  (/healthz p95 in the same run {base_p95:.0f} ms)" if base_p95 is not None else ""
    print()
    for name in ("page: case search", "page: case", "page: case edit", "page: case edit (save)",
                 "page: referral list", "page: review queue", "api: case search", "api: case"):
        if name in by_name and by_name[name]["95%"] != "N/A":
            p95 = float(by_name[name]["95%"])
            print(
                f"{name:20} p95 {p95:6.0f} ms  target < 150 ms: "
                f"{'met' if p95 < 150 else 'NOT met'}{beside}"
            )
    if base_p95 is not None:
        print(f"baseline /healthz p95 {base_p95:.0f} ms (server and client overhead alone)")
        if base_p95 > HEALTHZ_LIMIT_MS:
            print(
                f"WARNING: /healthz, which does no database work, took {base_p95:.0f} ms at p95 "
                f"(over {HEALTHZ_LIMIT_MS} ms): the machine, not the app, limits this run; "
                "rerun on a quiet machine before reading the figures above as the app's"
            )
    print(f"errors: {total_errors} (target 0: {'met' if total_errors == 0 else 'NOT met'})")


if __name__ == "__main__":
    raise SystemExit(main())
