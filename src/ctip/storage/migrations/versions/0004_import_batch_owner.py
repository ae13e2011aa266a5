"""Import batches remember which process ran them, and when one was found interrupted.

An import killed before it finished leaves a batch with no ``finished_at``: its rows stored so
far are kept (each batch of rows is committed with its audit entry), but nobody was told. The
next import looks for such batches whose process (``owner``, "host:pid") is gone, marks them
(``interrupted_at``, audited) and reports them once.

Revision ID: 0004_import_batch_owner
Revises: 0003_key_register
Create Date: 2026-12-01

Frozen like every revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_import_batch_owner"
down_revision = "0003_key_register"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_batches") as batch:
        batch.add_column(sa.Column("owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("interrupted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_batches") as batch:
        batch.drop_column("interrupted_at")
        batch.drop_column("owner")
