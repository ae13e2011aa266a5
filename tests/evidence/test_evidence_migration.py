"""Migration 0701 creates exactly the tables of storage/evidence.py and the audit tags."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctip.storage import evidence
from ctip.storage.audit import audit_tags
from ctip.storage.engine import make_engine, migrate

TABLES = (evidence.evidence_items, evidence.evidence_events, evidence.evidence_signing_keys,
          evidence.evidence_case_keys, evidence.evidence_notes, evidence.log_checkpoints,
          audit_tags)


def test_migration_matches_the_evidence_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        ours = sa.MetaData()
        for table in TABLES:
            table.to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        assert [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))] \
            == []
    finally:
        engine.dispose()
