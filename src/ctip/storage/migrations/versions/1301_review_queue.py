"""Review queues: items waiting for a person's decision, and every decision taken on them.

Revision ID: 1301_review_queue
Revises: 0001_foundation
Create Date: 2026-12-03

Written from ``ctip.storage.review``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1301_review_queue"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("queue", sa.String(60), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decision", sa.String(40), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("queue", "subject", name="uq_review_items_queue_subject"),
    )
    op.create_index("ix_review_items_queue_agency_decision", "review_items",
                    ["queue", "agency", "decision"])
    op.create_table(
        "review_decisions",
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("decision", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("linked_case", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["review_items.item_id"],
                                name=op.f("fk_review_decisions_item_id_review_items")),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_review_decisions")),
    )
    op.create_index(op.f("ix_review_decisions_item_id"), "review_decisions", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_review_decisions_item_id"), table_name="review_decisions")
    op.drop_table("review_decisions")
    op.drop_index("ix_review_items_queue_agency_decision", table_name="review_items")
    op.drop_table("review_items")
