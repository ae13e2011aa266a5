"""Migrations: 0001_foundation creates exactly the tables in tables.py; upgrading is repeatable."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ctip.storage import tables
from ctip.storage.engine import MIGRATIONS, current_revisions, make_engine, migrate

FOUNDATION = ("import_batches", "import_rejects", "victims", "perpetrators", "justice_stages",
              "audit_log")


def test_migration_matches_tables_and_is_repeatable(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        migrate(engine)  # second run: nothing to do, no error
        script = ScriptDirectory(str(MIGRATIONS))
        assert current_revisions(engine) == set(script.get_heads())
        applied = {r.revision for r in script.walk_revisions("base", "heads")}
        assert tables.FOUNDATION_REVISION in applied
        ours = sa.MetaData()
        for name in FOUNDATION:
            tables.metadata.tables[name].to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        # tables of other areas show up as "remove_*" against our subset; ours must match exactly
        ours_diff = [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))]
        assert ours_diff == []
        inspector = sa.inspect(engine)
        assert set(FOUNDATION) <= set(inspector.get_table_names())
    finally:
        engine.dispose()


def test_sqlite_file_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
    assert (tmp_path / "x.db").stat().st_mode & 0o777 == 0o600


def test_concurrent_migrations_on_postgres(pg_url: str) -> None:
    """Web workers starting together must not race each other through the migrations."""
    import threading

    errors: list[Exception] = []

    def run() -> None:
        engine = make_engine(pg_url)
        try:
            migrate(engine)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = make_engine(pg_url)
    assert current_revisions(engine) == set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    engine.dispose()


def test_concurrent_migrations_on_one_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two `ctip` commands opening a new SQLite home at once: one migrates, the other waits."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    make_engine(url).dispose()  # the file exists (ctip init makes it); the schema does not
    code = ("import sys; from ctip.storage.engine import make_engine, migrate; "
            "migrate(make_engine(sys.argv[1]))")
    runs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE,
                             text=True) for _ in range(4)]
    failures = [err for run in runs if (err := run.communicate(timeout=120)[1]) and run.returncode]
    assert failures == []
    engine = make_engine(url)
    assert current_revisions(engine) == set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    engine.dispose()
