"""Fixtures shared by every test: a fresh ctip home, the shared datasets, and PostgreSQL.

Outside CI, tests that need an outside resource (../shared/data, the PostgreSQL server, Chromium,
pyspark) skip with the reason. In CI (``CI=true``) every skip is turned into a failure, so a test
that should run can never silently not run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CTIP_SHARED_DATA", REPO.parent / "shared" / "data"))
PG_ADMIN_URL = os.environ.get("CTIP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Tests that take long (Spark, Chromium, the demo, mypy, real servers): left out of a plain local
# `python -m pytest` so the default run stays quick; CI (CI=true), `--slow`, an explicit `-m` or
# naming the test files runs them.
SLOW_MARKERS = {"slow", "spark", "browser"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="also run the slow tests (Spark, browser, demo, mypy); CI always does")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = config.args_source is not pytest.Config.ArgsSource.TESTPATHS
    if IN_CI or config.getoption("--slow") or config.option.markexpr or chosen:
        return
    slow = [i for i in items if SLOW_MARKERS & {m.name for m in i.iter_markers()}]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [i for i in items if i not in set(slow)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.fixture
def shared_data() -> Path:
    """The read-only public datasets beside the checkout (../shared/data)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA} (they are present in CI)")
    return SHARED_DATA


@pytest.fixture
def ctip_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ctip home; the environment points at it and at nothing else."""
    home = tmp_path / "ctip-home"
    for var in ("CTIP_DATABASE_URL", "CTIP_KEY_FILE", "CTIP_PSEUDONYM_KEY_FILE", "CTIP_SEAL_KEY",
                "CTIP_PSEUDONYM_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CTIP_HOME", str(home))
    return home


def _pg_available() -> bool:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _fresh_pg_database() -> Iterator[str]:
    """A brand-new PostgreSQL database, dropped afterwards (skips when the server is absent)."""
    if not _pg_available():
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} (it runs in CI)")
    import sqlalchemy as sa

    name = f"ctip_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    yield from _fresh_pg_database()


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """One PostgreSQL database shared by a module's tests (for set-ups too costly per test)."""
    yield from _fresh_pg_database()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on PostgreSQL (splink's one-test-every-backend idea)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ctip.db'}"
    return str(request.getfixturevalue("pg_url"))
