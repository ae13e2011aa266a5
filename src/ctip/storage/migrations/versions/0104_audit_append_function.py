"""The audit chain's append as one PostgreSQL function: the chain lock is held one round trip.

``AuditLog.append`` used to take the chain's advisory lock, read the last entry, compute the
next hash in Python and insert it: three round trips between client and server while holding a
lock that every audited request needs, and on a busy web server each round trip also waits for
the Python interpreter lock. ``ctip_audit_append`` does the same steps inside the server: lock,
read the head (a new snapshot per statement, so it sees every entry committed before the lock
was granted), compute ``entry_hash`` exactly as ``ctip.storage.audit.entry_hash`` does
(SHA-256 over length-prefixed UTF-8 fields, each length an 8-byte big-endian integer) and insert.
The lock is still a transaction-level lock, released at the caller's commit or rollback, so the
chain stays strictly ordered; ``ctip audit verify`` recomputes every hash in Python, which the
tests check on PostgreSQL. SQLite keeps the Python path (one writer at a time anyway).

Revision ID: 0104_audit_append_function
Revises: 0103_case_number_index
Create Date: 2026-11-28

Frozen like every revision (a later change to the function is a new revision).
"""

from __future__ import annotations

from alembic import op

revision = "0104_audit_append_function"
down_revision = "0103_case_number_index"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION ctip_audit_append(
    p_lock bigint, p_at text, p_actor text, p_action text, p_subject text, p_details text
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_seq bigint;
    prev text;
    next_seq bigint;
    payload bytea := ''::bytea;
    field text;
    raw bytea;
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
    INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, entry_hash)
    VALUES (next_seq, p_at, p_actor, p_action, p_subject, p_details, prev,
            encode(sha256(payload), 'hex'));
    RETURN next_seq;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS ctip_audit_append(bigint, text, text, text, text, text)"
        )
