"""The key register: check values of the keys a database is sealed with, and which is active.

``storage/keystate.py`` explains both uses: a store opened with a key that is not the one its
data was sealed with is refused (a check value is an HMAC of a fixed text under the key; it
reveals nothing about the key), and the active sealing key is read from here by every sealing
transaction, under the key lock, so key rotation cannot lose values written meanwhile.

Revision ID: 0003_key_register
Revises: 0002_victims_unused_indexes
Create Date: 2026-12-01

Frozen like every revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_key_register"
down_revision = "0002_victims_unused_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_register",
        sa.Column("key_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_key_register"),
    )


def downgrade() -> None:
    op.drop_table("key_register")
