"""Supply-chain screening: loaded lists, screening runs, rejects, hit groups, worker findings.

Revision ID: 1801_supply
Revises: 0001_foundation
Create Date: 2026-12-03

Written from ``ctip.storage.supply``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1801_supply"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "supply_lists",
        sa.Column("list_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("list_kind", sa.String(40), nullable=True),
        sa.Column("version", sa.String(80), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=True),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("content_json", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("loaded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_supply_lists")),
    )
    op.create_index("ix_supply_lists_agency_kind", "supply_lists", ["agency", "kind"])
    op.create_table(
        "supply_runs",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("read_count", sa.Integer(), nullable=False),
        sa.Column("accepted_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("unmatched_count", sa.Integer(), nullable=False),
        sa.Column("hit_count", sa.Integer(), nullable=False),
        sa.Column("lists_json", sa.Text(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_supply_runs")),
    )
    op.create_index(op.f("ix_supply_runs_agency"), "supply_runs", ["agency"])
    op.create_table(
        "supply_rejects",
        sa.Column("reject_id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["supply_runs.run_id"],
                                name=op.f("fk_supply_rejects_run_id_supply_runs")),
        sa.PrimaryKeyConstraint("reject_id", name=op.f("pk_supply_rejects")),
    )
    op.create_index(op.f("ix_supply_rejects_run_id"), "supply_rejects", ["run_id"])
    op.create_table(
        "supply_hit_groups",
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("supplier", sa.String(500), nullable=False),
        sa.Column("supplier_country", sa.String(3), nullable=True),
        sa.Column("parent", sa.String(500), nullable=True),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("good", sa.String(200), nullable=True),
        sa.Column("hit_country", sa.String(3), nullable=True),
        sa.Column("flags", sa.String(200), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("edition", sa.Integer(), nullable=True),
        sa.Column("list_label", sa.String(200), nullable=False),
        sa.Column("list_version", sa.String(80), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=True),
        sa.Column("entity_name", sa.String(500), nullable=True),
        sa.Column("matched_name", sa.String(500), nullable=True),
        sa.Column("matched_by", sa.String(40), nullable=True),
        sa.Column("rows_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["supply_runs.run_id"],
                                name=op.f("fk_supply_hit_groups_run_id_supply_runs")),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_supply_hit_groups")),
    )
    op.create_index(op.f("ix_supply_hit_groups_run_id"), "supply_hit_groups", ["run_id"])
    op.create_index(op.f("ix_supply_hit_groups_subject"), "supply_hit_groups", ["subject"])
    op.create_table(
        "supply_findings",
        sa.Column("finding_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("supplier", sa.String(500), nullable=False),
        sa.Column("site", sa.String(500), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("indicator", sa.String(60), nullable=False),
        sa.Column("evidence_type", sa.String(20), nullable=False),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("evidence_item", sa.String(36), nullable=True),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_supply_findings")),
    )
    op.create_index("ix_supply_findings_agency_supplier", "supply_findings",
                    ["agency", "supplier"])


def downgrade() -> None:
    op.drop_index("ix_supply_findings_agency_supplier", table_name="supply_findings")
    op.drop_table("supply_findings")
    op.drop_index(op.f("ix_supply_hit_groups_subject"), table_name="supply_hit_groups")
    op.drop_index(op.f("ix_supply_hit_groups_run_id"), table_name="supply_hit_groups")
    op.drop_table("supply_hit_groups")
    op.drop_index(op.f("ix_supply_rejects_run_id"), table_name="supply_rejects")
    op.drop_table("supply_rejects")
    op.drop_index(op.f("ix_supply_runs_agency"), table_name="supply_runs")
    op.drop_table("supply_runs")
    op.drop_index("ix_supply_lists_agency_kind", table_name="supply_lists")
    op.drop_table("supply_lists")
