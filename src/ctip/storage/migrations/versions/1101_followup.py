"""Follow-up and review: cycles, evidence, assessment snapshots, crosswalks, treaties, pledges.

Revision ID: 1101_followup
Revises: 0001_foundation
Create Date: 2026-12-03

Written from ``ctip.storage.followup`` and ``ctip.storage.followup_ledgers``; a later change to
those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1101_followup"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "followup_cycles",
        sa.Column("cycle_id", sa.String(60), nullable=False),
        sa.Column("country", sa.String(100), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("framework_id", sa.String(60), nullable=False),
        sa.Column("framework_version", sa.String(20), nullable=False),
        sa.Column("rules_id", sa.String(60), nullable=False),
        sa.Column("rules_version", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("final_assessment_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("cycle_id", name=op.f("pk_followup_cycles")),
    )
    op.create_index(op.f("ix_followup_cycles_country"), "followup_cycles", ["country"])
    op.create_table(
        "followup_evidence",
        sa.Column("evidence_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(60), nullable=False),
        sa.Column("indicator_code", sa.String(60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(60), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source_kind", sa.String(40), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(300), nullable=True),
        sa.Column("locker_ref", sa.String(200), nullable=True),
        sa.Column("reliability", sa.String(1), nullable=False),
        sa.Column("credibility", sa.String(1), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", TS, nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cycle_id"], ["followup_cycles.cycle_id"],
                                name=op.f("fk_followup_evidence_cycle_id_followup_cycles")),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_followup_evidence")),
    )
    op.create_index(op.f("ix_followup_evidence_cycle_id"), "followup_evidence", ["cycle_id"])
    op.create_table(
        "followup_assessments",
        sa.Column("assessment_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(60), nullable=False),
        sa.Column("inputs_sha256", sa.String(64), nullable=False),
        sa.Column("result_sha256", sa.String(64), nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("framework_key", sa.String(100), nullable=False),
        sa.Column("rules_key", sa.String(100), nullable=False),
        sa.Column("computed_by", sa.String(200), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["followup_cycles.cycle_id"],
                                name=op.f("fk_followup_assessments_cycle_id_followup_cycles")),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_followup_assessments")),
        sa.UniqueConstraint("cycle_id", "inputs_sha256",
                            name="uq_followup_assessments_cycle_inputs"),
    )
    op.create_index(op.f("ix_followup_assessments_cycle_id"), "followup_assessments",
                    ["cycle_id"])
    op.create_table(
        "followup_crosswalks",
        sa.Column("from_key", sa.String(100), nullable=False),
        sa.Column("to_key", sa.String(100), nullable=False),
        sa.Column("old_code", sa.String(60), nullable=False),
        sa.Column("new_code", sa.String(60), nullable=False),
        sa.Column("comparable", sa.Boolean(), nullable=False),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.Column("declared_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("from_key", "to_key", "old_code",
                                name=op.f("pk_followup_crosswalks")),
    )
    op.create_table(
        "followup_treaty_status",
        sa.Column("treaty", sa.String(40), nullable=False),
        sa.Column("state", sa.String(3), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("party", sa.Boolean(), nullable=False),
        sa.Column("signature_date", sa.String(10), nullable=False),
        sa.Column("consent_date", sa.String(10), nullable=False),
        sa.Column("consent_type", sa.String(2), nullable=False),
        sa.Column("reservations", sa.Text(), nullable=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("treaty", "state", "source",
                                name=op.f("pk_followup_treaty_status")),
    )
    op.create_table(
        "followup_pledges",
        sa.Column("pledge_id", sa.String(36), nullable=False),
        sa.Column("donor", sa.String(200), nullable=False),
        sa.Column("donor_type", sa.String(20), nullable=False),
        sa.Column("fund", sa.String(40), nullable=False),
        sa.Column("pledged_on", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_pledged", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.String(10), nullable=False),
        sa.Column("source_doc", sa.Text(), nullable=False),
        sa.Column("entered_by", sa.String(200), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("pledge_id", name=op.f("pk_followup_pledges")),
    )
    op.create_index(op.f("ix_followup_pledges_donor"), "followup_pledges", ["donor"])


def downgrade() -> None:
    op.drop_index(op.f("ix_followup_pledges_donor"), table_name="followup_pledges")
    op.drop_table("followup_pledges")
    op.drop_table("followup_treaty_status")
    op.drop_table("followup_crosswalks")
    op.drop_index(op.f("ix_followup_assessments_cycle_id"), table_name="followup_assessments")
    op.drop_table("followup_assessments")
    op.drop_index(op.f("ix_followup_evidence_cycle_id"), table_name="followup_evidence")
    op.drop_table("followup_evidence")
    op.drop_index(op.f("ix_followup_cycles_country"), table_name="followup_cycles")
    op.drop_table("followup_cycles")
