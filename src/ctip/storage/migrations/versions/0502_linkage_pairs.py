"""Linkage runs keep every scored pair (ids and probability), for linkage-error-aware estimates.

Revision ID: 0502_linkage_pairs
Revises: 0501_linkage
Create Date: 2026-12-06

Written from ``ctip.storage.linkage.linkage_pairs``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0502_linkage_pairs"
down_revision = "0501_linkage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_pairs",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("victim_id_l", sa.String(36), nullable=False),
        sa.Column("victim_id_r", sa.String(36), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["linkage_runs.run_id"], name=op.f("fk_linkage_pairs_run_id_linkage_runs")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "victim_id_l", "victim_id_r", name=op.f("pk_linkage_pairs")
        ),
    )


def downgrade() -> None:
    op.drop_table("linkage_pairs")
