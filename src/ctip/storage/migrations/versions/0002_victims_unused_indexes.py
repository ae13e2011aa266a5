"""Drop the two victims indexes no query uses: the pseudonym and the import batch.

No code path looks victims up by pseudonym (linkage compares opened identities or Bloom-filter
encodings; search in case management uses its own keyed name hash) or by import batch. Each
index was paid for on every inserted row: the pseudonym is a keyed hash, so its index takes one
random B-tree insert per row, and together they cost about 40% of SQLite's write rate for the
victims table (benchmarks/import_bench.py prints that rate as its second baseline). A feature
that needs such a lookup adds the index with the query.

Revision ID: 0002_victims_unused_indexes
Revises: 0001_foundation
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002_victims_unused_indexes"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_victims_pseudonym", table_name="victims")
    op.drop_index("ix_victims_import_batch", table_name="victims")


def downgrade() -> None:
    op.create_index("ix_victims_import_batch", "victims", ["import_batch"], unique=False)
    op.create_index("ix_victims_pseudonym", "victims", ["pseudonym"], unique=False)
