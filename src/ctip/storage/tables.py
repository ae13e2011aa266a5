"""The case store's tables (SQLAlchemy Core). Alembic revision ``0001_foundation`` creates them.

Every table registers on ``metadata``; other areas define their tables in their own
``storage/<area>.py`` on this same object and add an Alembic revision whose ``down_revision`` is
``"0001_foundation"``.

Why the victims table stores derived columns (age_group, primary_form, ...): they are computed
once, at write time, from the domain's derive functions, so the analytic export is a plain column
copy (no per-row Python over millions of rows). Multi-valued fields are JSON text: NULL = unknown,
``[]`` = known empty, which both SQLite and PostgreSQL keep as-is and DuckDB casts to VARCHAR[].

No identity column exists in plaintext: ``identity_sealed`` is AES-GCM ciphertext whose key id is
also kept in ``seal_key_id`` (so rotation can find what is left to re-seal without opening it).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

FOUNDATION_REVISION = "0001_foundation"

# A list of codes, stored as JSON text (NULL = unknown, "[]" = known empty).
CodesJSON = sa.Text

import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("batch_id", sa.String(36), primary_key=True),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=True),
    sa.Column("profile", sa.String(50), nullable=False),
    sa.Column("agency", sa.String(200), nullable=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("read_count", sa.Integer, nullable=True),
    sa.Column("accepted_count", sa.Integer, nullable=True),
    sa.Column("rejected_count", sa.Integer, nullable=True),
    # "host:pid" of the importing process, and when a later import found it gone before it
    # finished (migration 0004): such a batch keeps what it stored and is reported once
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("interrupted_at", sa.DateTime(timezone=True), nullable=True),
)

import_rejects = sa.Table(
    "import_rejects",
    metadata,
    sa.Column("reject_id", sa.String(36), primary_key=True),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey("import_batches.batch_id"), nullable=False,
              index=True),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("source_row", sa.Integer, nullable=False),
    # keyed hash (HMAC) of the raw content: same file + row + content is stored once
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("problem_columns", sa.Text, nullable=False),  # JSON list of column names only
    # raw row and reasons (reasons can quote identity values) sealed together as JSON
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("source_file", "source_row", "content_hash",
                        name="uq_import_rejects_file_row_content"),
)

victims = sa.Table(
    "victims",
    metadata,
    sa.Column("victim_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("source_record_id", sa.String(200), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("import_batch", sa.String(36), nullable=True),
    sa.Column("pseudonym", sa.String(64), nullable=True),
    sa.Column("agency_type", sa.String(50), nullable=True),
    sa.Column("identification_date", sa.Date, nullable=True),
    sa.Column("identification_year", sa.Integer, nullable=True),
    sa.Column("identification_status", sa.String(50), nullable=False),
    sa.Column("detected", sa.Boolean, nullable=False),
    sa.Column("sex", sa.String(30), nullable=False),
    sa.Column("gender_identity", sa.String(50), nullable=True),
    sa.Column("age", sa.Integer, nullable=True),
    sa.Column("birth_year", sa.Integer, nullable=True),
    sa.Column("age_group", sa.String(20), nullable=False),
    sa.Column("victim_group", sa.String(20), nullable=False),
    sa.Column("disability_status", sa.String(50), nullable=False),
    sa.Column("citizenships", CodesJSON, nullable=True),
    sa.Column("citizenship", sa.String(20), nullable=False),
    sa.Column("country_of_detection", sa.String(20), nullable=True),
    sa.Column("countries_of_exploitation", CodesJSON, nullable=True),
    sa.Column("country_of_recruitment", sa.String(20), nullable=True),
    sa.Column("exploitation_forms", CodesJSON, nullable=True),
    sa.Column("primary_form", sa.String(50), nullable=False),
    sa.Column("labour_sector_isic", CodesJSON, nullable=True),
    sa.Column("sexual_exploitation_type", CodesJSON, nullable=True),
    sa.Column("means_of_control", CodesJSON, nullable=True),
    sa.Column("recruiter_relationship", CodesJSON, nullable=True),
    sa.Column("consent_case_management", sa.Boolean, nullable=True),
    sa.Column("consent_statistical_use", sa.Boolean, nullable=True),
    sa.Column("consent_sharing", sa.Boolean, nullable=True),
    sa.Column("consent_legal_basis", sa.String(50), nullable=True),
    sa.Column("consent_date", sa.Date, nullable=True),
    sa.Column("consent_withdrawal_date", sa.Date, nullable=True),
    sa.Column("consent_withdrawn", sa.Boolean, nullable=True),
    sa.Column("source_system", sa.String(50), nullable=True),
    sa.Column("source_file", sa.Text, nullable=True),
    sa.Column("source_row", sa.Integer, nullable=True),
    # keyed (HMAC) form of the provenance row hash: an unkeyed hash of a row holding names
    # would let anyone test guesses of a person's details against the store
    sa.Column("source_record_hash", sa.String(64), nullable=True),
    sa.Column("code_list_version", sa.String(50), nullable=True),
    sa.Column("identity_sealed", sa.LargeBinary, nullable=False),
    sa.Column("seal_key_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("agency", "source_record_id", name="uq_victims_agency_source_record"),
)

perpetrators = sa.Table(
    "perpetrators",
    metadata,
    sa.Column("perpetrator_key", sa.String(36), primary_key=True),
    sa.Column("perpetrator_id", sa.String(200), nullable=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("import_batch", sa.String(36), nullable=True),
    sa.Column("sex", sa.String(30), nullable=False),
    sa.Column("age", sa.Integer, nullable=True),
    sa.Column("age_group", sa.String(20), nullable=False),
    sa.Column("citizenships", CodesJSON, nullable=True),
    sa.Column("citizenship", sa.String(20), nullable=False),
    sa.Column("roles", CodesJSON, nullable=True),
    sa.Column("victim_links", sa.Text, nullable=False),  # JSON [[source_record_id, relationship]]
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("agency", "perpetrator_id", name="uq_perpetrators_agency_perpetrator"),
)

justice_stages = sa.Table(
    "justice_stages",
    metadata,
    sa.Column("perpetrator_key", sa.String(36),
              sa.ForeignKey("perpetrators.perpetrator_key", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("stage", sa.String(30), nullable=False),
    sa.Column("stage_date", sa.Date, nullable=True),
    sa.Column("stage_year", sa.Integer, nullable=True),
    sa.Column("offence_iccs", sa.String(30), nullable=True),
    sa.Column("exploitation_forms", CodesJSON, nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 UTC text: hashed exactly as stored
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # canonical JSON; never identity
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)
