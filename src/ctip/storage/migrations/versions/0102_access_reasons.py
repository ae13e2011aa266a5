"""Access reasons: the sealed reason of an identity reveal or a consent override, kept out of the
immutable audit log so key rotation can re-seal it (the audit entry holds only its id).

Revision ID: 0102_access_reasons
Revises: 0101_casework
Create Date: 2026-11-28

Written from ``ctip.storage.casework.access_reasons``; frozen like every revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102_access_reasons"
down_revision = "0101_casework"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_reasons",
        sa.Column("reason_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_access_reasons_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("reason_id", name=op.f("pk_access_reasons")),
    )
    op.create_index(
        op.f("ix_access_reasons_case_id"), "access_reasons", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_access_reasons_case_id"), table_name="access_reasons")
    op.drop_table("access_reasons")
