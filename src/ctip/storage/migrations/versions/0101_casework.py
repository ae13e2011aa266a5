"""Case management: cases, workflow events, screenings, service directory, referrals, consents,
services given, review tasks, emergency-access grants, record views, users and sessions.

Revision ID: 0101_casework
Revises: 0001_foundation
Create Date: 2026-11-28

Generated once from ``ctip.storage.casework`` with Alembic autogenerate, then frozen: a later
change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101_casework"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_views",
        sa.Column("view_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("view_id", name=op.f("pk_case_views")),
    )
    op.create_index(op.f("ix_case_views_case_id"), "case_views", ["case_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sex", sa.String(length=20), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("age_disputed", sa.Boolean(), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=True),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.Column("exploitation_forms", sa.Text(), nullable=False),
        sa.Column("assistance_state", sa.String(length=40), nullable=False),
        sa.Column("justice_state", sa.String(length=40), nullable=False),
        sa.Column("non_punishment_state", sa.String(length=40), nullable=False),
        sa.Column("non_punishment_flag", sa.Boolean(), nullable=False),
        sa.Column("child_state", sa.String(length=40), nullable=False),
        sa.Column("identity_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("notes_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("name_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_agency"), "cases", ["agency"], unique=False)
    op.create_index("ix_cases_agency_updated", "cases", ["agency", "updated_at"], unique=False)
    op.create_index(
        "ix_cases_agency_status_updated", "cases", ["agency", "status", "updated_at"], unique=False
    )
    op.create_index(op.f("ix_cases_name_key"), "cases", ["name_key"], unique=False)
    op.create_index(op.f("ix_cases_status"), "cases", ["status"], unique=False)
    op.create_table(
        "services",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("service_type", sa.String(length=40), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("languages", sa.Text(), nullable=False),
        sa.Column("sexes", sa.Text(), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("accepts_children", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_services")),
    )
    op.create_index(op.f("ix_services_agency"), "services", ["agency"], unique=False)
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "case_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=False),
        sa.Column("to_state", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=True),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("given_by", sa.String(length=20), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_consents_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_case_id"), "consents", ["case_id"], unique=False)
    op.create_table(
        "emergency_grants",
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("justification_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=36), nullable=True),
        sa.Column("review_outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_emergency_grants_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_emergency_grants")),
    )
    op.create_index(
        op.f("ix_emergency_grants_case_id"), "emergency_grants", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_emergency_grants_user_id"), "emergency_grants", ["user_id"], unique=False
    )
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("from_agency", sa.String(length=200), nullable=False),
        sa.Column("to_agency", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=True),
        sa.Column("purpose", sa.String(length=60), nullable=False),
        sa.Column("shared_fields", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_by", sa.String(length=36), nullable=True),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_referrals_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], unique=False)
    op.create_index(op.f("ix_referrals_to_agency"), "referrals", ["to_agency"], unique=False)
    op.create_index(
        "ix_referrals_to_agency_status", "referrals", ["to_agency", "status"], unique=False
    )
    op.create_table(
        "review_tasks",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("safety", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_review_tasks_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_review_tasks")),
        sa.UniqueConstraint("case_id", "kind", "due_at", name="uq_review_tasks_case_kind_due"),
    )
    op.create_index(op.f("ix_review_tasks_agency"), "review_tasks", ["agency"], unique=False)
    op.create_index(op.f("ix_review_tasks_case_id"), "review_tasks", ["case_id"], unique=False)
    op.create_table(
        "screenings",
        sa.Column("screening_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("profile", sa.String(length=4), nullable=False),
        sa.Column("observations", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=40), nullable=False),
        sa.Column("suggested_status", sa.String(length=40), nullable=False),
        sa.Column("positive_dimensions", sa.Text(), nullable=False),
        sa.Column("rule_version", sa.String(length=200), nullable=False),
        sa.Column("screened_by", sa.String(length=36), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_screenings_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("screening_id", name=op.f("pk_screenings")),
    )
    op.create_index(op.f("ix_screenings_case_id"), "screenings", ["case_id"], unique=False)
    op.create_table(
        "services_given",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("service_type", sa.String(length=40), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=True),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_services_given_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_services_given")),
    )
    op.create_index(op.f("ix_services_given_case_id"), "services_given", ["case_id"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_services_given_case_id"), table_name="services_given")
    op.drop_table("services_given")
    op.drop_index(op.f("ix_screenings_case_id"), table_name="screenings")
    op.drop_table("screenings")
    op.drop_index(op.f("ix_review_tasks_case_id"), table_name="review_tasks")
    op.drop_index(op.f("ix_review_tasks_agency"), table_name="review_tasks")
    op.drop_table("review_tasks")
    op.drop_index("ix_referrals_to_agency_status", table_name="referrals")
    op.drop_index(op.f("ix_referrals_to_agency"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_emergency_grants_user_id"), table_name="emergency_grants")
    op.drop_index(op.f("ix_emergency_grants_case_id"), table_name="emergency_grants")
    op.drop_table("emergency_grants")
    op.drop_index(op.f("ix_consents_case_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(op.f("ix_case_events_case_id"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_table("users")
    op.drop_index(op.f("ix_services_agency"), table_name="services")
    op.drop_table("services")
    op.drop_index(op.f("ix_cases_status"), table_name="cases")
    op.drop_index(op.f("ix_cases_name_key"), table_name="cases")
    op.drop_index("ix_cases_agency_updated", table_name="cases")
    op.drop_index("ix_cases_agency_status_updated", table_name="cases")
    op.drop_index(op.f("ix_cases_agency"), table_name="cases")
    op.drop_table("cases")
    op.drop_index(op.f("ix_case_views_case_id"), table_name="case_views")
    op.drop_table("case_views")
