"""CPU per request of each page web_bench drives, one client, against a database web_bench kept.

Every request runs on this one thread (the thread pool FastAPI hands page handlers to is replaced
by a direct call), so ``time.process_time`` and cProfile see all of a request's Python work: the
page, the services, SQLAlchemy and psycopg, the templates. The database's own time is not in the
CPU figure (it is in the wall figure). On a shared machine, read the minimum over rounds: other
processes only ever add to it.

    python benchmarks/web_bench.py --cases 1000000 --keep     # prints the home and database
    python benchmarks/web_profile.py HOME DATABASE_URL [--rounds 5] [--n 12] [--profile DIR]

``--profile DIR`` writes one cProfile file per page (``DIR/<page>.prof``, and the top functions
as text). Two users are created in the database (a caseworker and a supervisor of Agency 05, the
agency whose review queue web_bench fills) and signed in with password and TOTP.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio.to_thread
import httpx
import pyotp
import sqlalchemy as sa

from ctip.services.accounts import Accounts, LoginResult
from ctip.settings import Settings
from ctip.web.app import create_app

STATUSES = ("signal", "screening", "presumed_victim", "consent_pending", "referred",
            "recovery_reflection", "identified_victim", "closed")
AGENCY = "Agency 05"  # has a review queue in web_bench's database


async def _inline(func: Callable[..., Any], *args: Any, **_kw: Any) -> Any:
    return func(*args)


def _signed_in(accounts: Accounts, role: str) -> LoginResult:
    password = secrets.token_urlsafe(16)
    new = accounts.add_user(None, f"profile-{role}-{secrets.token_hex(4)}", password, role=role,
                            agency=AGENCY)
    secret = parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]
    return accounts.login(new.username, password, pyotp.TOTP(secret).now())


async def run(args: argparse.Namespace) -> None:
    app = create_app(Settings(home=Path(args.home), database_url=args.url), timers_every=None)
    casework, accounts = app.state.casework, app.state.accounts
    casework.open_pool()
    casework.warm_up()
    with casework.engine.connect() as conn:
        ids = list(conn.scalars(sa.text("SELECT case_id FROM cases WHERE agency = :a LIMIT 400"),
                                {"a": AGENCY}))
    worker, supervisor = _signed_in(accounts, "caseworker"), _signed_in(accounts, "supervisor")
    rnd = random.Random(3)
    transport = httpx.ASGITransport(app=app)
    cw = httpx.AsyncClient(transport=transport, base_url="http://bench")
    cw.cookies.set("ctip_session", worker.token)
    sup = httpx.AsyncClient(transport=transport, base_url="http://bench")
    sup.cookies.set("ctip_session", supervisor.token)
    bearer = {"Authorization": "Bearer " + worker.token}

    async def edit_and_save() -> httpx.Response:
        case_id = rnd.choice(ids)
        form = await cw.get(f"/cases/{case_id}/edit")
        version = re.search(r'name="version" value="(\d+)"', form.text)
        return await cw.post(f"/cases/{case_id}/edit", data={
            "csrf_token": worker.csrf_token, "version": version.group(1) if version else "0",
            "sex": "female", "age": str(rnd.randint(18, 60))})

    pages: dict[str, Callable[[], Awaitable[httpx.Response]]] = {
        "healthz": lambda: cw.get("/healthz"),
        "case search (status)": lambda: cw.get("/cases?status=" + rnd.choice(STATUSES)),
        "case search (prefix)": lambda: cw.get("/cases?q=" + rnd.choice(ids)[:4]),
        "case": lambda: cw.get("/cases/" + rnd.choice(ids)),
        "case edit": lambda: cw.get("/cases/" + rnd.choice(ids) + "/edit"),
        "case edit + save": edit_and_save,
        "referral list": lambda: cw.get("/referrals/sent"),
        "review queue": lambda: sup.get("/review/linkage.pairs"),
        "api: case search": lambda: cw.get("/api/cases?status=" + rnd.choice(STATUSES),
                                           headers=bearer),
        "api: case": lambda: cw.get("/api/cases/" + rnd.choice(ids), headers=bearer),
    }
    print(f"{'request':22} {'cpu min':>8} {'cpu median':>10} {'wall median':>11}  status  "
          f"(ms per request; {args.rounds} rounds of {args.n})")
    for name, call in pages.items():
        for _ in range(5):
            await call()
        profile = cProfile.Profile() if args.profile else None
        cpu, wall, statuses = [], [], set()
        if profile:
            profile.enable()
        for _ in range(args.rounds):
            c0, w0 = time.process_time(), time.perf_counter()
            for _ in range(args.n):
                statuses.add((await call()).status_code)
            cpu.append((time.process_time() - c0) / args.n)
            wall.append((time.perf_counter() - w0) / args.n)
        if profile:
            profile.disable()
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            stem = re.sub(r"\W+", "_", name).strip("_")
            profile.dump_stats(out / f"{stem}.prof")
            with (out / f"{stem}.txt").open("w") as fh:
                pstats.Stats(profile, stream=fh).sort_stats("cumulative").print_stats(60)
        cpu.sort()
        wall.sort()
        print(f"{name:22} {1000 * cpu[0]:8.2f} {1000 * cpu[len(cpu) // 2]:10.2f} "
              f"{1000 * wall[len(wall) // 2]:11.1f}  {sorted(statuses)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("home", help="the ctip home web_bench printed")
    ap.add_argument("url", help="the database URL web_bench printed")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--n", type=int, default=12, help="requests per round")
    ap.add_argument("--profile", help="write cProfile files per page into this folder")
    args = ap.parse_args(argv)
    anyio.to_thread.run_sync = _inline  # every request on this thread, where the clock is
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
