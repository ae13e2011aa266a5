"""Evidence locker (items, custody events, signing keys, case keys, notes), log checkpoints for
the custody logs and the audit log, and keyed audit tags with the append that returns the hash.

Revision ID: 0701_evidence
Revises: 0001_foundation
Depends on: 0104_audit_append_function (the audit append function this one extends)
Create Date: 2026-12-03

Written from ``ctip.storage.evidence`` and ``ctip.storage.audit`` (``audit_tags``); frozen (a
later change gets its own revision). ``evidence_events``, ``log_checkpoints`` and ``audit_tags``
are append-only at the database: triggers refuse UPDATE and DELETE, as for ``audit_log``.
``ctip_audit_append_hashed`` is ``ctip_audit_append`` (0104) returning "seq:hash" so that the
caller can add the keyed tag (HMAC under a key the database never sees) in the same transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0701_evidence"
down_revision = "0001_foundation"
branch_labels = None
depends_on = "0104_audit_append_function"

TS = sa.DateTime(timezone=True)
APPEND_ONLY = ("evidence_events", "log_checkpoints", "audit_tags")

PG_GUARD = """
CREATE FUNCTION ctip_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
"""

PG_APPEND_HASHED = """
CREATE OR REPLACE FUNCTION ctip_audit_append_hashed(
    p_lock bigint, p_at text, p_actor text, p_action text, p_subject text, p_details text
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_seq bigint;
    prev text;
    next_seq bigint;
    payload bytea := ''::bytea;
    field text;
    raw bytea;
    digest text;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT seq, entry_hash INTO last_seq, prev FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        next_seq := 1;
        prev := repeat('0', 64);
    ELSE
        next_seq := last_seq + 1;
    END IF;
    FOREACH field IN ARRAY ARRAY[prev, next_seq::text, p_at, p_actor, p_action, p_subject,
                                 p_details] LOOP
        raw := convert_to(field, 'UTF8');
        payload := payload || int8send(octet_length(raw)::bigint) || raw;
    END LOOP;
    digest := encode(sha256(payload), 'hex');
    INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, entry_hash)
    VALUES (next_seq, p_at, p_actor, p_action, p_subject, p_details, prev, digest);
    RETURN next_seq::text || ':' || digest;
END
$$;
"""


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime", sa.String(200), nullable=False),
        sa.Column("name_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("source_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("acquired_by", sa.String(200), nullable=False),
        sa.Column("derived_from", sa.String(64), nullable=True),
        sa.Column("token", sa.LargeBinary(), nullable=True),
        sa.Column("token_time", TS, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_evidence_items")),
        sa.UniqueConstraint("case_id", "sha256", name="uq_evidence_items_case_sha256"),
    )
    op.create_table(
        "evidence_events",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_evidence_events")),
    )
    op.create_table(
        "evidence_signing_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_evidence_signing_keys")),
    )
    op.create_index("ix_evidence_signing_keys_owner", "evidence_signing_keys", ["owner"])
    op.create_table(
        "evidence_case_keys",
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_evidence_case_keys")),
    )
    op.create_table(
        "evidence_notes",
        sa.Column("note_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_evidence_notes")),
    )
    op.create_index(op.f("ix_evidence_notes_case_id"), "evidence_notes", ["case_id"])
    op.create_table(
        "log_checkpoints",
        sa.Column("log", sa.String(80), nullable=False),
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=True),
        sa.Column("gen_time", TS, nullable=True),
        sa.PrimaryKeyConstraint("log", "size", name=op.f("pk_log_checkpoints")),
    )
    op.create_table(
        "audit_tags",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_tags")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ctip_append_only()")
        op.execute(PG_APPEND_HASHED)
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS "
                   "ctip_audit_append_hashed(bigint, text, text, text, text, text)")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ctip_append_only()")
    for table in ("audit_tags", "log_checkpoints", "evidence_notes", "evidence_case_keys",
                  "evidence_signing_keys", "evidence_events", "evidence_items"):
        op.drop_table(table)
