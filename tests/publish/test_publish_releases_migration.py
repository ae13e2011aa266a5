"""Alembic 0301_releases creates exactly the ledger tables declared in storage/releases.py."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctip.storage import releases
from ctip.storage.engine import current_revisions, make_engine, migrate

OURS = ("release_budgets", "releases")


def test_releases_migration_matches_the_declared_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine)
        assert releases.RELEASES_REVISION in current_revisions(engine)
        ours = sa.MetaData()
        for name in OURS:
            releases.metadata.tables[name].to_metadata(ours)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), ours)
        mine = [d for d in diff if not (isinstance(d, tuple) and d[0].startswith("remove_"))]
        assert mine == []
        with engine.begin() as conn:
            releases.declare_budget(
                conn,
                dataset="d",
                total_epsilon=1.0,
                privacy_unit="one victim",
                contributions=1,
                actor="t",
            )
            releases.spend(conn, dataset="d", epsilon=0.75, actor="t", parameters={"by": ["sex"]})
        with engine.connect() as conn:
            budget = releases.budget(conn, "d")
            assert budget.spent_epsilon == 0.75 and budget.remaining_epsilon == 0.25
    finally:
        engine.dispose()
