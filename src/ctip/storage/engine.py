"""Engines for the case store, and programmatic Alembic migrations (no alembic.ini at runtime).

SQLite is the embedded default: the file is created with 0600 permissions before SQLite opens it
(SQLite gives its -wal/-shm/-journal files the same mode), in WAL mode. PostgreSQL URLs are
routed to psycopg 3. What differs between the two is in ``storage/backend.py``.

Migrations run only from ``ctip init`` and ``ctip migrate`` (``services.home``); opening a store
checks the schema and says "run `ctip migrate`" when it is behind (``require_current_schema``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ctip.errors import ConfigurationError
from ctip.settings import Settings
from ctip.storage.backend import (  # noqa: F401 - re-exported for callers of the engine module
    _sqlite_pragmas,
    backend_for_url,
    backend_of,
    create_sqlite_file,
    sqlite_path,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_POOL = Settings.model_fields


class SchemaError(ConfigurationError):
    """The database schema is not the one this ctip expects (behind, ahead, or absent)."""


def make_engine(url: str, *, pool_size: int = _POOL["pool_size"].default,
                pool_overflow: int = _POOL["pool_overflow"].default) -> sa.Engine:
    """An engine for ``url``; for SQLite the file is created (0600) if its directory exists.
    The pool sizes apply to PostgreSQL (``Settings.pool_size`` / ``pool_overflow``)."""
    backend, parsed = backend_for_url(url)
    return backend.make_engine(parsed, pool_size=pool_size, pool_overflow=pool_overflow)


def engine_for(settings: Settings) -> sa.Engine:
    """The engine ``settings`` describe (its database URL and pool sizes)."""
    return make_engine(settings.resolved_database_url, pool_size=settings.pool_size,
                       pool_overflow=settings.pool_overflow)


@contextmanager
def autocommit(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection on which every statement commits by itself: no BEGIN before the first and
    no COMMIT after the last. For a short lookup whose statements need not be one transaction
    (the session check every request starts with): on PostgreSQL one round trip a statement,
    where a transaction adds two. The connection returns to the pool with its usual
    isolation level."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


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
        backend_of(connection).serialise_migrations(connection)
        if _at_heads(connection, config):
            return
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def _heads() -> set[str]:
    return set(ScriptDirectory.from_config(_config()).get_heads())


def _at_heads(connection: sa.Connection, config: Config) -> bool:
    """Cheap check so an up-to-date database does not run Alembic's upgrade machinery."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    heads = set(ScriptDirectory.from_config(config).get_heads())
    return current == heads


def current_revisions(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def require_current_schema(engine: sa.Engine) -> None:
    """Raise ``SchemaError`` unless the database is migrated to every head of this ctip."""
    current = current_revisions(engine)
    heads = _heads()
    if current == heads:
        return
    where = engine.url.render_as_string(hide_password=True)
    if not current:
        raise SchemaError(f"The database {where} has no ctip schema yet.",
                          hint="run `ctip init` (or check CTIP_HOME / CTIP_DATABASE_URL)")
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        raise SchemaError(
            f"The database {where} was migrated by a newer ctip "
            f"(revisions {', '.join(sorted(current - known))} are unknown to this one).",
            hint="upgrade ctip to the version that migrated it",
        )
    raise SchemaError(f"The database {where} is behind this version of ctip.",
                      hint="run `ctip migrate` (back up the database first)")
