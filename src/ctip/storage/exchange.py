"""Exchange at rest: trust anchors, directories, the anchor's cards, packages, payloads, referrals.

- ``exchange_trust``: anchors this instance trusts: its own (pinned by fingerprint at setup) and
  foreign ones, each with the cross-sign statement our anchor signed;
- ``exchange_directories``: every verified directory imported, by anchor and serial (a lower
  serial than the newest is refused: no rollback to an old directory);
- ``exchange_cards`` / ``exchange_revocations``: what this instance, when it is a national
  anchor, countersigned and revoked (published as a directory);
- ``exchange_packages``: packages sent (``out``) and received (``in``): ids, hashes, status.
  The received rows are also the replay set: kept after a purge, so a replay is still refused;
- ``exchange_payloads``: a received payload encrypted (AES-256-GCM) under its own data key,
  the key sealed under the key ring. Recall deletes both: crypto-shredding;
- ``exchange_referrals``: transnational referrals, outgoing (the local case) and incoming
  (the receiver's inbox), with status and outcome codes, never free text.
Private keys are never here: they are key files under ``CTIP_HOME/keys/exchange``.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.sealing import Sealer
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
EXCHANGE_REVISION = "1701_exchange"

exchange_trust = sa.Table(
    "exchange_trust", metadata,
    sa.Column("anchor_id", sa.String(200), primary_key=True),
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # own | cross
    sa.Column("statement", sa.Text, nullable=True),
    sa.Column("added_at", TS, nullable=False),
    sa.Column("added_by", sa.String(200), nullable=False),
)

exchange_directories = sa.Table(
    "exchange_directories", metadata,
    sa.Column("anchor_id", sa.String(200), primary_key=True),
    sa.Column("serial", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("issued", TS, nullable=False),
    sa.Column("imported_at", TS, nullable=False),
)

exchange_cards = sa.Table(
    "exchange_cards", metadata,
    sa.Column("agency", sa.String(200), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("added_at", TS, nullable=False),
)

exchange_revocations = sa.Table(
    "exchange_revocations", metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("revoked_at", TS, nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
)

exchange_packages = sa.Table(
    "exchange_packages", metadata,
    sa.Column("package_id", sa.String(36), primary_key=True),
    sa.Column("direction", sa.String(3), primary_key=True),  # out | in
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
)

exchange_payloads = sa.Table(
    "exchange_payloads", metadata,
    sa.Column("package_id", sa.String(36), primary_key=True),
    sa.Column("key_sealed", sa.LargeBinary, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

exchange_referrals = sa.Table(
    "exchange_referrals", metadata,
    sa.Column("referral_id", sa.String(36), primary_key=True),
    sa.Column("direction", sa.String(3), primary_key=True),  # out | in
    sa.Column("package_id", sa.String(36), nullable=False),
    sa.Column("peer", sa.String(200), nullable=False),
    sa.Column("case_id", sa.String(36), nullable=True),
    sa.Column("profile", sa.String(60), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(60), nullable=True),
    sa.Column("updated_at", TS, nullable=False),
)


def payload_key_context(package_id: str) -> str:
    return f"exchange_payloads/{package_id}/key"


register_sealed(SealedColumn(exchange_payloads, "package_id", "key_sealed", payload_key_context))


# ---- trust and directories -------------------------------------------------------------------
def trust_rows(conn: sa.Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(exchange_trust).order_by(exchange_trust.c.anchor_id)))


def put_trust(conn: sa.Connection, *, anchor_id: str, record: dict[str, Any], kind: str,
              statement: dict[str, Any] | None, at: datetime, by: str) -> None:
    conn.execute(exchange_trust.delete().where(exchange_trust.c.anchor_id == anchor_id))
    conn.execute(exchange_trust.insert().values(
        anchor_id=anchor_id, record=json.dumps(record, sort_keys=True), kind=kind,
        statement=None if statement is None else json.dumps(statement, sort_keys=True),
        added_at=at, added_by=by))


def newest_serial(conn: sa.Connection, anchor_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.max(exchange_directories.c.serial))
                           .where(exchange_directories.c.anchor_id == anchor_id)) or 0)


def insert_directory(conn: sa.Connection, *, anchor_id: str, serial: int, document: dict[str, Any],
                     issued: datetime, at: datetime) -> None:
    conn.execute(exchange_directories.insert().values(
        anchor_id=anchor_id, serial=serial, document=json.dumps(document, sort_keys=True),
        issued=issued, imported_at=at))


def current_directories(conn: sa.Connection) -> list[dict[str, Any]]:
    """The newest imported directory document of each anchor."""
    newest = (sa.select(exchange_directories.c.anchor_id,
                        sa.func.max(exchange_directories.c.serial).label("serial"))
              .group_by(exchange_directories.c.anchor_id).subquery())
    rows = conn.execute(sa.select(exchange_directories.c.document).join(
        newest, sa.and_(newest.c.anchor_id == exchange_directories.c.anchor_id,
                        newest.c.serial == exchange_directories.c.serial))
        .order_by(exchange_directories.c.anchor_id))
    return [json.loads(r.document) for r in rows]


def put_card(conn: sa.Connection, agency: str, document: dict[str, Any], at: datetime) -> None:
    conn.execute(exchange_cards.delete().where(exchange_cards.c.agency == agency))
    conn.execute(exchange_cards.insert().values(agency=agency, document=json.dumps(
        document, sort_keys=True), added_at=at))


def cards(conn: sa.Connection) -> list[dict[str, Any]]:
    return [json.loads(r.document) for r in
            conn.execute(sa.select(exchange_cards).order_by(exchange_cards.c.agency))]


def revoke(conn: sa.Connection, *, key_id: str, agency: str, at: datetime, reason: str) -> None:
    if conn.execute(sa.select(exchange_revocations.c.key_id)
                    .where(exchange_revocations.c.key_id == key_id)).first() is None:
        conn.execute(exchange_revocations.insert().values(key_id=key_id, agency=agency,
                                                          revoked_at=at, reason=reason))


def revocations(conn: sa.Connection) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(exchange_revocations)
                             .order_by(exchange_revocations.c.key_id)))


# ---- packages --------------------------------------------------------------------------------
def insert_package(conn: sa.Connection, **values: Any) -> None:
    conn.execute(exchange_packages.insert().values(**values))


def get_package(conn: sa.Connection, package_id: str, direction: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(exchange_packages).where(
        exchange_packages.c.package_id == package_id,
        exchange_packages.c.direction == direction)).first()


def set_package_status(conn: sa.Connection, package_id: str, direction: str, status: str,
                       at: datetime, detail: str | None = None) -> None:
    conn.execute(exchange_packages.update().where(
        exchange_packages.c.package_id == package_id,
        exchange_packages.c.direction == direction).values(status=status, updated_at=at,
                                                           detail=detail))


def packages(conn: sa.Connection, direction: str | None = None) -> list[sa.Row[Any]]:
    query = sa.select(exchange_packages).order_by(exchange_packages.c.created)
    if direction:
        query = query.where(exchange_packages.c.direction == direction)
    return list(conn.execute(query))


def expired_held(conn: sa.Connection, now: datetime) -> list[str]:
    return list(conn.scalars(sa.select(exchange_packages.c.package_id).where(
        exchange_packages.c.direction == "in", exchange_packages.c.expires <= now,
        exchange_packages.c.status.in_(("received", "opened")))))


# ---- payloads: one data key per package, sealed; deleting it is the shredding ----------------
def store_payload(conn: sa.Connection, sealer: Sealer, package_id: str, data: bytes) -> None:
    key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    blob = nonce + AESGCM(key).encrypt(nonce, data, package_id.encode())
    sealed = sealer.seal(base64.b64encode(key).decode(), context=payload_key_context(package_id))
    conn.execute(exchange_payloads.insert().values(package_id=package_id, key_sealed=sealed,
                                                   payload=blob))


def load_payload(conn: sa.Connection, sealer: Sealer, package_id: str) -> bytes | None:
    row = conn.execute(sa.select(exchange_payloads).where(
        exchange_payloads.c.package_id == package_id)).first()
    if row is None:
        return None
    key = base64.b64decode(sealer.open(row.key_sealed, context=payload_key_context(package_id)))
    return AESGCM(key).decrypt(row.payload[:12], row.payload[12:], package_id.encode())


def shred_payload(conn: sa.Connection, package_id: str) -> int:
    """Delete the data key and the ciphertext; the number of payload bytes removed."""
    size = conn.scalar(sa.select(sa.func.length(exchange_payloads.c.payload)).where(
        exchange_payloads.c.package_id == package_id)) or 0
    conn.execute(exchange_payloads.delete().where(exchange_payloads.c.package_id == package_id))
    return int(size)


def payload_count(conn: sa.Connection, package_id: str) -> int:
    return int(conn.scalar(sa.select(sa.func.count()).select_from(exchange_payloads).where(
        exchange_payloads.c.package_id == package_id)) or 0)


# ---- referrals -------------------------------------------------------------------------------
def insert_referral(conn: sa.Connection, **values: Any) -> None:
    conn.execute(exchange_referrals.insert().values(**values))


def get_referral(conn: sa.Connection, referral_id: str, direction: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(exchange_referrals).where(
        exchange_referrals.c.referral_id == referral_id,
        exchange_referrals.c.direction == direction)).first()


def referral_of_package(conn: sa.Connection, package_id: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(exchange_referrals).where(
        exchange_referrals.c.package_id == package_id)).first()


def set_referral(conn: sa.Connection, referral_id: str, direction: str, *, status: str,
                 at: datetime, outcome: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": at}
    if outcome is not None:
        values["outcome"] = outcome
    conn.execute(exchange_referrals.update().where(
        exchange_referrals.c.referral_id == referral_id,
        exchange_referrals.c.direction == direction).values(**values))


def referrals(conn: sa.Connection, direction: str) -> list[sa.Row[Any]]:
    return list(conn.execute(sa.select(exchange_referrals)
                             .where(exchange_referrals.c.direction == direction)
                             .order_by(exchange_referrals.c.updated_at)))
