"""Engines for the case store, and programmatic Alembic migrations (no alembic.ini at runtime).

SQLite is the embedded default: the file is created with 0600 permissions before SQLite opens it
(SQLite gives its -wal/-shm/-journal files the same mode), in WAL mode. PostgreSQL URLs are
routed to psycopg 3. Backend differences stay in this module and in ``_is_postgres`` checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ctip.errors import ConfigurationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
POOL_SIZE = 15  # PostgreSQL connections kept open per process
POOL_OVERFLOW = 5  # opened beyond that under bursts, closed when returned


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_sqlite_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (0600)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; for SQLite the file is created (0600) if its directory exists."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigurationError(
            f"The database URL {url!r} is not valid: {error}",
            hint="set CTIP_DATABASE_URL to e.g. postgresql+psycopg://user@host/db, or unset it",
        ) from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            if not path.parent.is_dir():
                raise ConfigurationError(
                    f"The folder for the database {path} does not exist.",
                    hint="run `ctip init` to create the ctip home, or set CTIP_HOME",
                )
            if not path.exists():
                create_sqlite_file(path)
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        # a web worker runs up to 40 request threads: keep up to POOL_SIZE connections open
        # (beyond the default 5, each connection over it was opened and closed per request)
        return sa.create_engine(
            parsed, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
    raise ConfigurationError(
        f"Database {backend!r} is not supported.", hint="use SQLite (default) or PostgreSQL"
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # imports write millions of rows with four indexes: a page cache of up to 64 MiB (the
    # default is 2 MiB) keeps index pages in memory, and checkpointing every ~40 MB of WAL
    # instead of every 4 MB copies fewer pages twice (benchmarks/import_bench.py)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def take_sqlite_write_lock(connection: sa.Connection) -> None:
    """Start the transaction with SQLite's write lock (BEGIN IMMEDIATE) when none has begun yet.

    Python's sqlite3 begins a transaction only at the first INSERT/UPDATE/DELETE, so a read
    before it (the audit chain's head, the schema version) is not protected from another
    writer slipping in between. A transaction that has already written holds the lock."""
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine_or_conn: sa.Engine | sa.Connection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: sa.Engine) -> None:
    """Upgrade the database to every head (each area may add its own branch off 0001)."""
    config = _config()
    with engine.begin() as connection:
        # several processes (web workers, two `ctip` commands) may start at once: the first
        # migrates, the others wait for it and then find the schema at its heads
        if is_postgres(connection):
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7411200)"))
        elif connection.dialect.name == "sqlite":
            # the check below and the DDL happen as one (SQLite's DDL is transactional)
            take_sqlite_write_lock(connection)
        if _at_heads(connection, config):
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def _at_heads(connection: sa.Connection, config: Config) -> bool:
    """Cheap check so opening an up-to-date store does not run Alembic's upgrade machinery."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(config).get_heads())
    return current == heads


def current_revisions(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
