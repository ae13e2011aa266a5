"""Exchange between instances: trust anchors, directories, the anchor's cards and revocations,
packages sent and received, sealed payloads (crypto-shredded on recall), transnational referrals.

Revision ID: 1701_exchange
Revises: 0001_foundation
Create Date: 2026-12-03

Written from ``ctip.storage.exchange``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1701_exchange"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exchange_trust",
        sa.Column("anchor_id", sa.String(200), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("anchor_id", name=op.f("pk_exchange_trust")),
    )
    op.create_table(
        "exchange_directories",
        sa.Column("anchor_id", sa.String(200), nullable=False),
        sa.Column("serial", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("issued", TS, nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("anchor_id", "serial", name=op.f("pk_exchange_directories")),
    )
    op.create_table(
        "exchange_cards",
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("agency", name=op.f("pk_exchange_cards")),
    )
    op.create_table(
        "exchange_revocations",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("revoked_at", TS, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_exchange_revocations")),
    )
    op.create_table(
        "exchange_packages",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("peer", sa.String(200), nullable=False),
        sa.Column("profile", sa.String(60), nullable=False),
        sa.Column("in_reply_to", sa.String(36), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("ciphertext_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created", TS, nullable=False),
        sa.Column("expires", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("package_id", "direction", name=op.f("pk_exchange_packages")),
    )
    op.create_table(
        "exchange_payloads",
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("package_id", name=op.f("pk_exchange_payloads")),
    )
    op.create_table(
        "exchange_referrals",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("peer", sa.String(200), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("profile", sa.String(60), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(60), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("referral_id", "direction", name=op.f("pk_exchange_referrals")),
    )


def downgrade() -> None:
    for table in ("exchange_referrals", "exchange_payloads", "exchange_packages",
                  "exchange_revocations", "exchange_cards", "exchange_directories",
                  "exchange_trust"):
        op.drop_table(table)
