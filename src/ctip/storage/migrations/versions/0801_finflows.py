"""Financial flows: batches, accounts and parties (identity sealed), identifier keys,
transactions, rejected rows, detection runs and alerts.

Revision ID: 0801_finflows
Revises: 0001_foundation
Create Date: 2026-12-05

Written from ``ctip.storage.finflows``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0801_finflows"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "finflows_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("read", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_finflows_batches")),
    )
    op.create_index(op.f("ix_finflows_batches_agency"), "finflows_batches", ["agency"])
    op.create_table(
        "finflows_accounts",
        sa.Column("account_ref", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("number_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("holder", sa.Boolean(), nullable=False),
        sa.Column("party_ref", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_ref", name=op.f("pk_finflows_accounts")),
        sa.UniqueConstraint("agency", "account_key", name="uq_finflows_accounts_agency_key"),
    )
    op.create_index(op.f("ix_finflows_accounts_party_ref"), "finflows_accounts", ["party_ref"])
    op.create_table(
        "finflows_parties",
        sa.Column("party_ref", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("party_key", sa.String(64), nullable=False),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("identifiers_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("customer_type", sa.String(20), nullable=False),
        sa.Column("business_type", sa.String(80), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("opening_date", sa.Date(), nullable=True),
        sa.Column("region", sa.String(80), nullable=True),
        sa.Column("opens", sa.Integer(), nullable=True),
        sa.Column("closes", sa.Integer(), nullable=True),
        sa.Column("observed", sa.String(200), nullable=True),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("party_ref", name=op.f("pk_finflows_parties")),
        sa.UniqueConstraint("agency", "party_key", name="uq_finflows_parties_agency_key"),
    )
    op.create_index(op.f("ix_finflows_parties_agency"), "finflows_parties", ["agency"])
    op.create_table(
        "finflows_identifiers",
        sa.Column("party_ref", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("party_ref", "kind", "key", name=op.f("pk_finflows_identifiers")),
    )
    op.create_index("ix_finflows_identifiers_key", "finflows_identifiers", ["key"])
    op.create_table(
        "finflows_transactions",
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("txn_id", sa.String(120), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("time_known", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("account_ref", sa.BigInteger(), nullable=False),
        sa.Column("counterparty_ref", sa.BigInteger(), nullable=True),
        sa.Column("counterparty_country", sa.String(2), nullable=True),
        sa.Column("merchant", sa.String(200), nullable=True),
        sa.Column("mcc", sa.String(4), nullable=True),
        sa.Column("location", sa.String(120), nullable=True),
        sa.Column("region", sa.String(80), nullable=True),
        sa.Column("purpose", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("agency", "txn_id", name=op.f("pk_finflows_transactions")),
    )
    op.create_index(op.f("ix_finflows_transactions_batch_id"), "finflows_transactions",
                    ["batch_id"])
    op.create_index("ix_finflows_transactions_agency_account", "finflows_transactions",
                    ["agency", "account_ref"])
    op.create_table(
        "finflows_rejects",
        sa.Column("reject_id", sa.String(36), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(120), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("reject_id", name=op.f("pk_finflows_rejects")),
    )
    op.create_index(op.f("ix_finflows_rejects_batch_id"), "finflows_rejects", ["batch_id"])
    op.create_table(
        "finflows_runs",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("rules_name", sa.String(120), nullable=False),
        sa.Column("rules_version", sa.String(40), nullable=False),
        sa.Column("rules_digest", sa.String(64), nullable=False),
        sa.Column("transactions", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("not_assessed_json", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_finflows_runs")),
    )
    op.create_index(op.f("ix_finflows_runs_agency"), "finflows_runs", ["agency"])
    op.create_table(
        "finflows_alerts",
        sa.Column("alert_id", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("first_run_id", sa.String(36), nullable=False),
        sa.Column("last_run_id", sa.String(36), nullable=False),
        sa.Column("account_ref", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rules_json", sa.Text(), nullable=False),
        sa.Column("hits_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_finflows_alerts")),
    )
    op.create_index(op.f("ix_finflows_alerts_agency"), "finflows_alerts", ["agency"])
    op.create_index(op.f("ix_finflows_alerts_last_run_id"), "finflows_alerts", ["last_run_id"])
    op.create_index(op.f("ix_finflows_alerts_account_ref"), "finflows_alerts", ["account_ref"])


def downgrade() -> None:
    for table in ("finflows_alerts", "finflows_runs", "finflows_rejects", "finflows_transactions",
                  "finflows_identifiers", "finflows_parties", "finflows_accounts",
                  "finflows_batches"):
        op.drop_table(table)
