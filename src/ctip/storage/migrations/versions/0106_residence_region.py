"""The residence region (CASE-MANAGEMENT.md 5.3): one more parallel state per case.

Existing cases start at ``not_applicable``, as new ones do.

Revision ID: 0106_residence_region
Revises: 0105_case_timer_index
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0106_residence_region"
down_revision = "0105_case_timer_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("residence_state", sa.String(length=40), nullable=False,
                                   server_default="not_applicable"))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("residence_state")
