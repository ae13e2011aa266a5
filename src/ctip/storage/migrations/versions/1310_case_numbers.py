"""Readable case numbers: ``cases.case_number`` (unique per agency), per-year counters, and an
index on the referrals an agency sent.

Cases made before this revision are numbered here, per agency and year of intake in the order
they were created, and the counters start after them, so every case has a number.

Revision ID: 1310_case_numbers
Revises: 0106_residence_region
Create Date: 2026-12-03

Written from ``ctip.storage.casework.cases`` and ``case_counters``; frozen like every revision.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "1310_case_numbers"
down_revision = "0106_residence_region"
branch_labels = None
depends_on = None

BATCH = 5000


def _number(agency: str, year: int, sequence: int) -> str:
    """A frozen copy of ``domain.casework.format_case_number`` as it was for this revision."""
    words = ["".join(ch for ch in w if ch.isascii() and ch.isalnum()) for w in agency.split()]
    words = [w for w in words if w]
    if not words:
        prefix = "CASE"
    else:
        prefix = "".join(w[0] for w in words[:4]) if len(words) > 1 else words[0][:3]
    return f"{prefix.upper()}-{year:04d}-{sequence:05d}"


def upgrade() -> None:
    op.add_column("cases", sa.Column("case_number", sa.String(40), nullable=True))
    op.create_table(
        "case_counters",
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency", "year", name=op.f("pk_case_counters")),
    )
    conn = op.get_bind()
    cases = sa.table(
        "cases",
        sa.column("case_id", sa.String),
        sa.column("agency", sa.String),
        sa.column("created_at", sa.DateTime),
        sa.column("case_number", sa.String),
    )
    last: dict[tuple[str, int], int] = defaultdict(int)
    pending: list[dict[str, str]] = []
    update = (
        cases.update()
        .where(cases.c.case_id == sa.bindparam("cid"))
        .values(case_number=sa.bindparam("number"))
    )
    rows = conn.execute(
        sa.select(cases.c.case_id, cases.c.agency, cases.c.created_at).order_by(
            cases.c.agency, cases.c.created_at, cases.c.case_id
        )
    ).all()
    for case_id, agency, created_at in rows:
        year = created_at.year
        last[(agency, year)] += 1
        number = _number(agency, year, last[(agency, year)])
        pending.append({"cid": case_id, "number": number})
        if len(pending) >= BATCH:
            conn.execute(update, pending)
            pending = []
    if pending:
        conn.execute(update, pending)
    if last:
        counters = sa.table(
            "case_counters", sa.column("agency"), sa.column("year"), sa.column("last")
        )
        conn.execute(
            counters.insert(),
            [{"agency": a, "year": y, "last": n} for (a, y), n in last.items()],
        )
    op.create_index(
        "uq_cases_agency_case_number",
        "cases",
        ["agency", "case_number"],
        unique=True,
        postgresql_ops={"case_number": "varchar_pattern_ops"},
    )

    # the referrals an agency sent (its list, its dashboard) without reading every referral
    op.create_index("ix_referrals_from_agency_status", "referrals", ["from_agency", "status"])


def downgrade() -> None:
    op.drop_index("ix_referrals_from_agency_status", table_name="referrals")
    op.drop_index("uq_cases_agency_case_number", table_name="cases")
    op.drop_table("case_counters")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("case_number")
