"""What differs between SQLite (the embedded default) and PostgreSQL (the server database).

Every difference the storage code needs is one method of ``Backend`` (after splink's
``database_api``): making the engine, locks, the bulk insert, a lookup of many keys, row locks
and the Arrow stream for analytics. The storage modules ask ``backend_of(conn)`` and never
test a dialect name themselves; a third database would be one more class here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ctip.errors import ConfigurationError

MIGRATION_LOCK = 7411200  # PostgreSQL advisory lock id serialising migrations


def sqlite_path(url: str | sa.URL) -> Path | None:
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


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


class Backend:
    """The interface; see SQLite and PostgreSQL below."""

    name: str = ""
    #: the audit log's append runs as one statement in the database (migration 0104)
    appends_audit_in_database: bool = False
    #: Alembic must rebuild a table to alter it (SQLite's ALTER TABLE is limited)
    migrations_in_batch: bool = False

    def make_engine(self, url: sa.URL, *, pool_size: int, pool_overflow: int) -> sa.Engine:
        raise NotImplementedError

    def begin_write(self, conn: sa.Connection) -> None:
        """Make the current transaction a writer before it reads what it will write after."""

    def serialise_migrations(self, conn: sa.Connection) -> None:
        """Hold, until the transaction ends, a lock that a second migrating process waits for."""
        raise NotImplementedError

    def lock_shared(self, conn: sa.Connection, lock_id: int) -> None:
        """Hold lock ``lock_id`` shared until the transaction ends (many holders at once)."""
        raise NotImplementedError

    def lock_exclusive(self, conn: sa.Connection, lock_id: int) -> None:
        """Hold lock ``lock_id`` alone until the transaction ends (waits for shared holders)."""
        raise NotImplementedError

    def for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """``query`` locking the rows it reads until the transaction ends."""
        return query

    def insert_rows(self, conn: sa.Connection, table: sa.Table, names: Sequence[str],
                    rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert value tuples (in the order of ``names``) in the fastest bulk form."""
        raise NotImplementedError

    def keys_in(self, conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                key_col: str, agency: str, keys: Sequence[str]) -> Iterable[Sequence[Any]]:
        """``columns`` of the rows of ``agency`` whose ``key_col`` is one of ``keys``, with the
        keys as ONE parameter (no per-key bind parameter to compile)."""
        raise NotImplementedError

    def arrow_connection(self, engine: sa.Engine) -> Any | None:
        """An ADBC (Arrow) connection to the same database, read-only where the backend allows,
        or None when its driver is not installed."""
        return None

    def typed_arrow_query(self, inner: str, columns: dict[str, str]) -> str:
        """Wrap a compiled query so its Arrow stream has the declared column types and a
        ``__real`` column (1 for the query's rows)."""
        return f"SELECT __q.*, 1 AS __real FROM ({inner}) AS __q"


class SQLite(Backend):
    name = "sqlite"
    migrations_in_batch = True

    def make_engine(self, url: sa.URL, *, pool_size: int, pool_overflow: int) -> sa.Engine:
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

    def begin_write(self, conn: sa.Connection) -> None:
        """Start the transaction with SQLite's write lock (BEGIN IMMEDIATE) when none has begun.

        Python's sqlite3 begins a transaction only at the first INSERT/UPDATE/DELETE, so a read
        before it (the audit chain's head, the schema version) is not protected from another
        writer slipping in between. A transaction that has already written holds the lock."""
        driver = conn.connection.dbapi_connection
        if driver is not None and not driver.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def serialise_migrations(self, conn: sa.Connection) -> None:
        # the check of the schema version and the DDL happen as one (SQLite's DDL is
        # transactional): the write lock serialises them
        self.begin_write(conn)

    # SQLite has one writer at a time: its write lock is every lock, shared or not
    def lock_shared(self, conn: sa.Connection, lock_id: int) -> None:
        self.begin_write(conn)

    def lock_exclusive(self, conn: sa.Connection, lock_id: int) -> None:
        self.begin_write(conn)

    def insert_rows(self, conn: sa.Connection, table: sa.Table, names: Sequence[str],
                    rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql = (f'INSERT INTO "{table.name}" ({_quoted(names)}) '
               f'VALUES ({", ".join("?" * len(names))})')
        temporal = [i for i, n in enumerate(names)
                    if isinstance(table.c[n].type, sa.Date | sa.DateTime)]
        params: Sequence[tuple[Any, ...]] = rows
        if temporal:
            converted: dict[Any, Any] = {}  # dates repeat a lot within a batch
            out = []
            for row in rows:
                values = list(row)
                for i in temporal:
                    value = values[i]
                    if value is not None:
                        text = converted.get(value)
                        if text is None:
                            text = converted[value] = _sqlite_value(value)
                        values[i] = text
                out.append(tuple(values))
            params = out
        conn.exec_driver_sql(sql, list(params))

    def keys_in(self, conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                key_col: str, agency: str, keys: Sequence[str]) -> Iterable[Sequence[Any]]:
        sql = (f'SELECT {_quoted(columns)} FROM "{table.name}" WHERE agency = ? '
               f'AND "{key_col}" IN (SELECT value FROM json_each(?))')
        return conn.exec_driver_sql(sql, (agency, json.dumps(list(keys))))

    def arrow_connection(self, engine: sa.Engine) -> Any | None:
        try:
            from adbc_driver_sqlite import dbapi as sqlite_adbc
        except ImportError:
            return None
        path = sqlite_path(engine.url)
        if path is None:
            return None
        return sqlite_adbc.connect(f"file:{path}?mode=ro")

    def typed_arrow_query(self, inner: str, columns: dict[str, str]) -> str:
        # SQLite has no column types in a result, and the ADBC SQLite driver infers each
        # column's type from the first rows, so a leading row of typed placeholders
        # (``__real = 0``) fixes the types; the reader filters it out again
        placeholders = ", ".join(
            f"{0 if columns[n] in ('INTEGER', 'BOOLEAN') else chr(39) * 2} AS \"{n}\""
            for n in columns)
        return (f"SELECT {placeholders}, 0 AS __real UNION ALL "
                f"SELECT __q.*, 1 FROM ({inner}) AS __q")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # the busy timeout first: switching to WAL takes a write lock, and a second `ctip`
    # process opening the same new file at that moment must wait for it, not fail with
    # "database is locked"; a file already in WAL is not switched again
    cursor.execute("PRAGMA busy_timeout=30000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # imports write millions of rows with four indexes: a page cache of up to 64 MiB (the
    # default is 2 MiB) keeps index pages in memory, and checkpointing every ~40 MB of WAL
    # instead of every 4 MB copies fewer pages twice (benchmarks/import_bench.py)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


class PostgreSQL(Backend):
    name = "postgresql"
    appends_audit_in_database = True

    def make_engine(self, url: sa.URL, *, pool_size: int, pool_overflow: int) -> sa.Engine:
        if url.get_driver_name() in ("", "psycopg2"):
            url = url.set(drivername="postgresql+psycopg")
        # a web worker runs up to 40 request threads: keep up to pool_size connections open
        # (beyond the default 5, each connection over it was opened and closed per request)
        return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size,
                                max_overflow=pool_overflow)

    def serialise_migrations(self, conn: sa.Connection) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})

    def lock_shared(self, conn: sa.Connection, lock_id: int) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": lock_id})

    def lock_exclusive(self, conn: sa.Connection, lock_id: int) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})

    def for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update()

    def insert_rows(self, conn: sa.Connection, table: sa.Table, names: Sequence[str],
                    rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        # COPY: PostgreSQL's bulk path, several times faster than even pipelined INSERTs
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({_quoted(names)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def keys_in(self, conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                key_col: str, agency: str, keys: Sequence[str]) -> Iterable[Sequence[Any]]:
        sql = (f'SELECT {_quoted(columns)} FROM "{table.name}" WHERE agency = %s '
               f'AND "{key_col}" = ANY(%s)')
        return conn.exec_driver_sql(sql, (agency, list(keys)))

    def arrow_connection(self, engine: sa.Engine) -> Any | None:
        try:
            from adbc_driver_postgresql import dbapi as pg_adbc
        except ImportError:
            return None
        url = engine.url.set(drivername="postgresql")
        return pg_adbc.connect(url.render_as_string(hide_password=False))


BACKENDS: dict[str, Backend] = {b.name: b for b in (SQLite(), PostgreSQL())}


def backend_for_url(url: str) -> tuple[Backend, sa.URL]:
    """The backend of a database URL (a clear error for a bad or unsupported one)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise ConfigurationError(
            f"The database URL {url!r} is not valid: {error}",
            hint="set CTIP_DATABASE_URL to e.g. postgresql+psycopg://user@host/db, or unset it",
        ) from error
    backend = BACKENDS.get(parsed.get_backend_name())
    if backend is None:
        raise ConfigurationError(
            f"Database {parsed.get_backend_name()!r} is not supported.",
            hint="use SQLite (default) or PostgreSQL",
        )
    return backend, parsed


def backend_of(bind: sa.Engine | sa.Connection) -> Backend:
    """The backend an engine or a connection talks to."""
    return BACKENDS[bind.dialect.name]
