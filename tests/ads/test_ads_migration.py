"""Migration 0901 creates exactly the tables of storage/ads.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctip.storage import ads
from ctip.storage.engine import make_engine, migrate

TABLES = ("ad_batches", "ad_rejects", "ads", "ad_identifiers", "ad_clusters", "ad_models")


def test_migration_matches_the_ad_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        ours = sa.MetaData()
        for name in TABLES:
            ads.metadata.tables[name].to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        assert [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))] \
            == []
    finally:
        engine.dispose()
