"""Linkage runs, cluster ids per victim record, and the review queue of borderline pairs.

Revision ID: 0501_linkage
Revises: 0001_foundation
Create Date: 2026-11-28

Written from ``ctip.storage.linkage``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0501_linkage"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "linkage_runs",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("lists_by", sa.String(40), nullable=False),
        sa.Column("engine", sa.String(40), nullable=False),
        sa.Column("match_threshold", sa.Float(), nullable=False),
        sa.Column("review_threshold", sa.Float(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("review_pairs", sa.Integer(), nullable=False),
        sa.Column("model_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_linkage_runs")),
    )
    op.create_table(
        "linkage_clusters",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("victim_id", sa.String(36), nullable=False),
        sa.Column("cluster_id", sa.String(80), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["linkage_runs.run_id"],
            name=op.f("fk_linkage_clusters_run_id_linkage_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "victim_id", name=op.f("pk_linkage_clusters")),
    )
    op.create_index(op.f("ix_linkage_clusters_cluster_id"), "linkage_clusters", ["cluster_id"])
    op.create_table(
        "linkage_reviews",
        sa.Column("review_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("victim_id_l", sa.String(36), nullable=False),
        sa.Column("victim_id_r", sa.String(36), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["linkage_runs.run_id"], name=op.f("fk_linkage_reviews_run_id_linkage_runs")
        ),
        sa.PrimaryKeyConstraint("review_id", name=op.f("pk_linkage_reviews")),
    )
    op.create_index(op.f("ix_linkage_reviews_run_id"), "linkage_reviews", ["run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_linkage_reviews_run_id"), table_name="linkage_reviews")
    op.drop_table("linkage_reviews")
    op.drop_index(op.f("ix_linkage_clusters_cluster_id"), table_name="linkage_clusters")
    op.drop_table("linkage_clusters")
    op.drop_table("linkage_runs")
