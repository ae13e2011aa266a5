"""NRM timers: an index on (status, status_since), so finding the cases whose deadline has
passed reads only those cases (``storage.protection.cases_in_state_since``), not every case in a
timed state: each web worker runs the timers as it starts, and then every 15 minutes.

Revision ID: 0105_case_timer_index
Revises: 0104_audit_append_function
Create Date: 2026-11-28

Written from ``ctip.storage.casework.cases``; frozen like every revision.
"""

from __future__ import annotations

from alembic import op

revision = "0105_case_timer_index"
down_revision = "0104_audit_append_function"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_since", "cases", ["status", "status_since"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_cases_status_since", table_name="cases")
