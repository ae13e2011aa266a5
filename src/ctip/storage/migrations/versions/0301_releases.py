"""Releases and the differential-privacy budget ledger.

Revision ID: 0301_releases
Revises: 0001_foundation
Create Date: 2026-11-28

Written from ``ctip.storage.releases``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0301_releases"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "release_budgets",
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("total_epsilon", sa.Float(), nullable=False),
        sa.Column("privacy_unit", sa.String(200), nullable=False),
        sa.Column("contributions", sa.Integer(), nullable=False),
        sa.Column("declared_at", TS, nullable=False),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("dataset", name=op.f("pk_release_budgets")),
    )
    op.create_table(
        "releases",
        sa.Column("release_id", sa.String(36), nullable=False),
        sa.Column("dataset", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_releases")),
    )
    op.create_index(op.f("ix_releases_dataset"), "releases", ["dataset"])


def downgrade() -> None:
    op.drop_index(op.f("ix_releases_dataset"), table_name="releases")
    op.drop_table("releases")
    op.drop_table("release_budgets")
