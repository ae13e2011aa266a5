"""Foundation: batches, rejects, sealed victims, perpetrators, justice stages, audit log.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-28

The audit log is append-only at the database too: triggers refuse UPDATE and DELETE on it (the
hash chain still detects tampering by anyone able to drop the triggers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

_PG_APPEND_ONLY = """
CREATE FUNCTION ctip_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION ctip_audit_log_append_only();
"""

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "import_batches",
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("profile", sa.String(length=50), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_count", sa.Integer(), nullable=True),
        sa.Column("accepted_count", sa.Integer(), nullable=True),
        sa.Column("rejected_count", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_import_batches")),
    )
    op.create_table(
        "perpetrators",
        sa.Column("perpetrator_key", sa.String(length=36), nullable=False),
        sa.Column("perpetrator_id", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("import_batch", sa.String(length=36), nullable=True),
        sa.Column("sex", sa.String(length=30), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("age_group", sa.String(length=20), nullable=False),
        sa.Column("citizenships", sa.Text(), nullable=True),
        sa.Column("citizenship", sa.String(length=20), nullable=False),
        sa.Column("roles", sa.Text(), nullable=True),
        sa.Column("victim_links", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("perpetrator_key", name=op.f("pk_perpetrators")),
        sa.UniqueConstraint("agency", "perpetrator_id", name="uq_perpetrators_agency_perpetrator"),
    )
    op.create_index(
        op.f("ix_perpetrators_import_batch"), "perpetrators", ["import_batch"], unique=False
    )
    op.create_table(
        "victims",
        sa.Column("victim_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("source_record_id", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("import_batch", sa.String(length=36), nullable=True),
        sa.Column("pseudonym", sa.String(length=64), nullable=True),
        sa.Column("agency_type", sa.String(length=50), nullable=True),
        sa.Column("identification_date", sa.Date(), nullable=True),
        sa.Column("identification_year", sa.Integer(), nullable=True),
        sa.Column("identification_status", sa.String(length=50), nullable=False),
        sa.Column("detected", sa.Boolean(), nullable=False),
        sa.Column("sex", sa.String(length=30), nullable=False),
        sa.Column("gender_identity", sa.String(length=50), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("age_group", sa.String(length=20), nullable=False),
        sa.Column("victim_group", sa.String(length=20), nullable=False),
        sa.Column("disability_status", sa.String(length=50), nullable=False),
        sa.Column("citizenships", sa.Text(), nullable=True),
        sa.Column("citizenship", sa.String(length=20), nullable=False),
        sa.Column("country_of_detection", sa.String(length=20), nullable=True),
        sa.Column("countries_of_exploitation", sa.Text(), nullable=True),
        sa.Column("country_of_recruitment", sa.String(length=20), nullable=True),
        sa.Column("exploitation_forms", sa.Text(), nullable=True),
        sa.Column("primary_form", sa.String(length=50), nullable=False),
        sa.Column("labour_sector_isic", sa.Text(), nullable=True),
        sa.Column("sexual_exploitation_type", sa.Text(), nullable=True),
        sa.Column("means_of_control", sa.Text(), nullable=True),
        sa.Column("recruiter_relationship", sa.Text(), nullable=True),
        sa.Column("consent_case_management", sa.Boolean(), nullable=True),
        sa.Column("consent_statistical_use", sa.Boolean(), nullable=True),
        sa.Column("consent_sharing", sa.Boolean(), nullable=True),
        sa.Column("consent_legal_basis", sa.String(length=50), nullable=True),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("consent_withdrawal_date", sa.Date(), nullable=True),
        sa.Column("consent_withdrawn", sa.Boolean(), nullable=True),
        sa.Column("source_system", sa.String(length=50), nullable=True),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_row", sa.Integer(), nullable=True),
        sa.Column("source_record_hash", sa.String(length=64), nullable=True),
        sa.Column("code_list_version", sa.String(length=50), nullable=True),
        sa.Column("identity_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("victim_id", name=op.f("pk_victims")),
        sa.UniqueConstraint("agency", "source_record_id", name="uq_victims_agency_source_record"),
    )
    op.create_index(op.f("ix_victims_import_batch"), "victims", ["import_batch"], unique=False)
    op.create_index(op.f("ix_victims_pseudonym"), "victims", ["pseudonym"], unique=False)
    op.create_table(
        "import_rejects",
        sa.Column("reject_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("problem_columns", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.batch_id"],
            name=op.f("fk_import_rejects_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("reject_id", name=op.f("pk_import_rejects")),
        sa.UniqueConstraint(
            "source_file", "source_row", "content_hash", name="uq_import_rejects_file_row_content"
        ),
    )
    op.create_index(
        op.f("ix_import_rejects_batch_id"), "import_rejects", ["batch_id"], unique=False
    )
    op.create_index(
        op.f("ix_import_rejects_seal_key_id"), "import_rejects", ["seal_key_id"], unique=False
    )
    op.create_table(
        "justice_stages",
        sa.Column("perpetrator_key", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("stage_date", sa.Date(), nullable=True),
        sa.Column("stage_year", sa.Integer(), nullable=True),
        sa.Column("offence_iccs", sa.String(length=30), nullable=True),
        sa.Column("exploitation_forms", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["perpetrator_key"],
            ["perpetrators.perpetrator_key"],
            name=op.f("fk_justice_stages_perpetrator_key_perpetrators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("perpetrator_key", "position", name=op.f("pk_justice_stages")),
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_APPEND_ONLY)
    else:
        for statement in _SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS ctip_audit_log_append_only()")
    op.drop_table("justice_stages")
    op.drop_index(op.f("ix_import_rejects_seal_key_id"), table_name="import_rejects")
    op.drop_index(op.f("ix_import_rejects_batch_id"), table_name="import_rejects")
    op.drop_table("import_rejects")
    op.drop_index(op.f("ix_victims_pseudonym"), table_name="victims")
    op.drop_index(op.f("ix_victims_import_batch"), table_name="victims")
    op.drop_table("victims")
    op.drop_index(op.f("ix_perpetrators_import_batch"), table_name="perpetrators")
    op.drop_table("perpetrators")
    op.drop_table("import_batches")
    op.drop_table("audit_log")
