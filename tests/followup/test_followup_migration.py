"""Alembic 1101_followup creates exactly the tables declared in storage/followup*.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctip.storage import followup, followup_ledgers
from ctip.storage.engine import current_revisions, make_engine, migrate

OURS = ("followup_cycles", "followup_evidence", "followup_assessments", "followup_crosswalks",
        "followup_treaty_status", "followup_pledges")


def test_followup_migration_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        assert followup.FOLLOWUP_REVISION in current_revisions(engine)
        ours = sa.MetaData()
        for name in OURS:
            followup_ledgers.metadata.tables[name].to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        mine = [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))]
        assert mine == []
    finally:
        engine.dispose()
