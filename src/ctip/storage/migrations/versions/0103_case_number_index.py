"""Case-number search: an index on (agency, case_id) that serves ``case_id LIKE 'prefix%'``.

A caseworker finds a case by the first characters of its number within their agency
(``storage.casework.search_cases``). Without this index PostgreSQL reads every case of the agency
(50,000 rows in a 1M-case store, about 250 ms) to test the prefix. ``varchar_pattern_ops`` makes
the prefix a range scan whatever the database's collation (only the "C" collation lets a plain
index serve LIKE); SQLite ignores the option and gets a plain (agency, case_id) index.

Revision ID: 0103_case_number_index
Revises: 0102_access_reasons
Create Date: 2026-11-28

Written from ``ctip.storage.casework.cases``; frozen like every revision.
"""

from __future__ import annotations

from alembic import op

revision = "0103_case_number_index"
down_revision = "0102_access_reasons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_agency_case_id",
        "cases",
        ["agency", "case_id"],
        unique=False,
        postgresql_ops={"case_id": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_cases_agency_case_id", table_name="cases")
