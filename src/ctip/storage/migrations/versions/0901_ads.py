"""Online recruitment screening: ad batches, rejects, ads, identifiers, clusters, models.

Revision ID: 0901_ads
Revises: 0001_foundation
Create Date: 2026-12-04

Written from ``ctip.storage.ads``; a later change to those tables gets its own revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0901_ads"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ad_batches",
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("source_file", sa.String(500), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("profile", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("read_count", sa.Integer(), nullable=True),
        sa.Column("accepted_count", sa.Integer(), nullable=True),
        sa.Column("duplicate_count", sa.Integer(), nullable=True),
        sa.Column("rejected_count", sa.Integer(), nullable=True),
        sa.Column("model_version", sa.String(36), nullable=True),
        sa.Column("references_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ad_batches")),
    )
    op.create_table(
        "ad_rejects",
        sa.Column("reject_id", sa.String(36), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("raw_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ad_batches.batch_id"],
                                name=op.f("fk_ad_rejects_batch_id_ad_batches")),
        sa.PrimaryKeyConstraint("reject_id", name=op.f("pk_ad_rejects")),
    )
    op.create_index(op.f("ix_ad_rejects_batch_id"), "ad_rejects", ["batch_id"])
    op.create_table(
        "ads",
        sa.Column("ad_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("source_ref", sa.String(200), nullable=True),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("content_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_id", sa.String(64), nullable=False),
        sa.Column("company_key", sa.String(64), nullable=True),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("roles", sa.String(400), nullable=True),
        sa.Column("destinations", sa.String(400), nullable=True),
        sa.Column("monthly_usd", sa.Float(), nullable=True),
        sa.Column("label", sa.Integer(), nullable=True),
        sa.Column("hits_json", sa.Text(), nullable=False),
        sa.Column("network_json", sa.Text(), nullable=True),
        sa.Column("body_start", sa.Integer(), nullable=False),
        sa.Column("body_end", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("score_kind", sa.String(20), nullable=False),
        sa.Column("model_version", sa.String(36), nullable=True),
        sa.Column("cluster_id", sa.String(20), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ad_batches.batch_id"],
                                name=op.f("fk_ads_batch_id_ad_batches")),
        sa.PrimaryKeyConstraint("ad_id", name=op.f("pk_ads")),
        sa.UniqueConstraint("agency", "content_key", name="uq_ads_agency_content_key"),
    )
    op.create_index(op.f("ix_ads_batch_id"), "ads", ["batch_id"])
    op.create_index(op.f("ix_ads_cluster_id"), "ads", ["cluster_id"])
    op.create_index("ix_ads_agency_score", "ads", ["agency", "score"])
    op.create_table(
        "ad_identifiers",
        sa.Column("identifier_id", sa.String(36), nullable=False),
        sa.Column("ad_id", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("value_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("seal_key_id", sa.String(64), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("app", sa.String(20), nullable=True),
        sa.Column("obfuscated", sa.Boolean(), nullable=False),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ad_id"], ["ads.ad_id"],
                                name=op.f("fk_ad_identifiers_ad_id_ads")),
        sa.PrimaryKeyConstraint("identifier_id", name=op.f("pk_ad_identifiers")),
    )
    op.create_index(op.f("ix_ad_identifiers_ad_id"), "ad_identifiers", ["ad_id"])
    op.create_index("ix_ad_identifiers_agency_pseudonym", "ad_identifiers",
                    ["agency", "pseudonym"])
    op.create_table(
        "ad_clusters",
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("cluster_id", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("companies", sa.Integer(), nullable=False),
        sa.Column("places_json", sa.Text(), nullable=False),
        sa.Column("shared_json", sa.Text(), nullable=False),
        sa.Column("near_duplicate_pairs", sa.Integer(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("agency", "cluster_id", name=op.f("pk_ad_clusters")),
    )
    op.create_table(
        "ad_models",
        sa.Column("model_version", sa.String(36), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("ads", sa.Integer(), nullable=False),
        sa.Column("risky", sa.Integer(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("references_json", sa.Text(), nullable=False),
        sa.Column("model_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("seal_key_id", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("model_version", name=op.f("pk_ad_models")),
    )
    op.create_index(op.f("ix_ad_models_agency"), "ad_models", ["agency"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ad_models_agency"), table_name="ad_models")
    op.drop_table("ad_models")
    op.drop_table("ad_clusters")
    op.drop_index("ix_ad_identifiers_agency_pseudonym", table_name="ad_identifiers")
    op.drop_index(op.f("ix_ad_identifiers_ad_id"), table_name="ad_identifiers")
    op.drop_table("ad_identifiers")
    op.drop_index("ix_ads_agency_score", table_name="ads")
    op.drop_index(op.f("ix_ads_cluster_id"), table_name="ads")
    op.drop_index(op.f("ix_ads_batch_id"), table_name="ads")
    op.drop_table("ads")
    op.drop_index(op.f("ix_ad_rejects_batch_id"), table_name="ad_rejects")
    op.drop_table("ad_rejects")
    op.drop_table("ad_batches")
