"""Financial-flow tables: imported batches, accounts and parties (identity sealed), transactions,
rejected rows, detection runs, rule hits and alerts.

Account numbers, account holders' and counterparties' names, and parties' phones, e-mails,
addresses and devices are sealed like victims' identities (``storage.sealing``), each under a
context naming its row and field, and registered for key rotation below. Joins use keyed
references: ``account_ref`` is 63 bits of the HMAC pseudonym of (agency, account number), so a
transaction row holds no identity at all, and two agencies' references never meet. The
analytic frames the rules read (``transactions_arrow``) select only non-identifying columns.
Every function takes the caller's connection, so a service writes a change and its audit entry
in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from ctip.storage.engine import sqlite_path
from ctip.storage.rotation import SealedColumn, register_sealed
from ctip.storage.tables import metadata

TS = sa.DateTime(timezone=True)
CHUNK = 5000
FINFLOWS_REVISION = "0801_finflows"

ff_batches = sa.Table(
    "finflows_batches", metadata,
    sa.Column("batch_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),  # transactions | parties
    sa.Column("format", sa.String(20), nullable=False),  # csv | camt053
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("read", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("started_at", TS, nullable=False),
)

ff_accounts = sa.Table(
    "finflows_accounts", metadata,
    sa.Column("account_ref", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("account_key", sa.String(64), nullable=False),  # HMAC pseudonym
    sa.Column("number_sealed", sa.LargeBinary, nullable=True),  # NULL: known by name only
    sa.Column("name_sealed", sa.LargeBinary, nullable=True),
    sa.Column("holder", sa.Boolean, nullable=False),  # the data has this account's statement
    sa.Column("party_ref", sa.BigInteger, nullable=True, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("agency", "account_key", name="uq_finflows_accounts_agency_key"),
)

ff_parties = sa.Table(
    "finflows_parties", metadata,
    sa.Column("party_ref", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("party_key", sa.String(64), nullable=False),
    sa.Column("name_sealed", sa.LargeBinary, nullable=True),
    sa.Column("identifiers_sealed", sa.LargeBinary, nullable=True),  # JSON kind -> value
    sa.Column("customer_type", sa.String(20), nullable=False),
    sa.Column("business_type", sa.String(80), nullable=True),
    sa.Column("employees", sa.Integer, nullable=True),
    sa.Column("opening_date", sa.Date, nullable=True),
    sa.Column("region", sa.String(80), nullable=True),
    sa.Column("opens", sa.Integer, nullable=True),
    sa.Column("closes", sa.Integer, nullable=True),
    sa.Column("observed", sa.String(200), nullable=True),
    sa.Column("batch_id", sa.String(36), nullable=False),
    sa.UniqueConstraint("agency", "party_key", name="uq_finflows_parties_agency_key"),
)

ff_identifiers = sa.Table(
    "finflows_identifiers", metadata,
    sa.Column("party_ref", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("key", sa.String(64), primary_key=True),  # HMAC pseudonym of the normalised value
    sa.Index("ix_finflows_identifiers_key", "key"),
)

ff_transactions = sa.Table(
    "finflows_transactions", metadata,
    sa.Column("agency", sa.String(200), primary_key=True),
    sa.Column("txn_id", sa.String(120), primary_key=True),
    sa.Column("batch_id", sa.String(36), nullable=False, index=True),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("row_hash", sa.String(64), nullable=False),
    sa.Column("booked_at", sa.DateTime, nullable=False),
    sa.Column("time_known", sa.Boolean, nullable=False),
    sa.Column("amount", sa.Float, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("account_ref", sa.BigInteger, nullable=False),
    sa.Column("counterparty_ref", sa.BigInteger, nullable=True),
    sa.Column("counterparty_country", sa.String(2), nullable=True),
    sa.Column("merchant", sa.String(200), nullable=True),  # card acquirer's descriptor
    sa.Column("mcc", sa.String(4), nullable=True),
    sa.Column("location", sa.String(120), nullable=True),
    sa.Column("region", sa.String(80), nullable=True),
    sa.Column("purpose", sa.String(8), nullable=True),
    sa.Index("ix_finflows_transactions_agency_account", "agency", "account_ref"),
)

ff_rejects = sa.Table(
    "finflows_rejects", metadata,
    sa.Column("reject_id", sa.String(36), primary_key=True),
    sa.Column("batch_id", sa.String(36), nullable=False, index=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("source_row", sa.Integer, nullable=False),
    sa.Column("source_ref", sa.String(120), nullable=True),
    sa.Column("fields", sa.Text, nullable=False),  # JSON list of field names only
    sa.Column("sealed", sa.LargeBinary, nullable=False),  # the row as read and the reasons
)

ff_runs = sa.Table(
    "finflows_runs", metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("rules_name", sa.String(120), nullable=False),
    sa.Column("rules_version", sa.String(40), nullable=False),
    sa.Column("rules_digest", sa.String(64), nullable=False),
    sa.Column("transactions", sa.Integer, nullable=False),
    sa.Column("accounts", sa.Integer, nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("alerts", sa.Integer, nullable=False),
    sa.Column("not_assessed_json", sa.Text, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)

ff_alerts = sa.Table(
    "finflows_alerts", metadata,
    sa.Column("alert_id", sa.String(32), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False, index=True),
    sa.Column("first_run_id", sa.String(36), nullable=False),
    sa.Column("last_run_id", sa.String(36), nullable=False, index=True),
    sa.Column("account_ref", sa.BigInteger, nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("rules_json", sa.Text, nullable=False),
    sa.Column("hits_json", sa.Text, nullable=False),  # rule, version, window, figures, evidence
)


def account_number_context(ref: int | str) -> str:
    return f"finflows_accounts/{ref}/number"


def account_name_context(ref: int | str) -> str:
    return f"finflows_accounts/{ref}/name"


def party_name_context(ref: int | str) -> str:
    return f"finflows_parties/{ref}/name"


def party_identifiers_context(ref: int | str) -> str:
    return f"finflows_parties/{ref}/identifiers"


def reject_context(reject_id: str) -> str:
    return f"finflows_rejects/{reject_id}/content"


SEALED_COLUMNS = (
    SealedColumn(ff_accounts, "account_ref", "number_sealed", account_number_context),
    SealedColumn(ff_accounts, "account_ref", "name_sealed", account_name_context),
    SealedColumn(ff_parties, "party_ref", "name_sealed", party_name_context),
    SealedColumn(ff_parties, "party_ref", "identifiers_sealed", party_identifiers_context),
    SealedColumn(ff_rejects, "reject_id", "sealed", reject_context),
)
for _column in SEALED_COLUMNS:
    register_sealed(_column)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_batch(conn: sa.Connection, **values: Any) -> None:
    conn.execute(ff_batches.insert().values(**values))


def finish_batch(conn: sa.Connection, batch_id: str, *, read: int, accepted: int,
                 rejected: int) -> None:
    conn.execute(ff_batches.update().where(ff_batches.c.batch_id == batch_id)
                 .values(read=read, accepted=accepted, rejected=rejected))


def known_accounts(conn: sa.Connection, refs: Sequence[int]) -> dict[int, tuple[bool, bool]]:
    """ref -> (holder, has a name) of the refs already stored."""
    found: dict[int, tuple[bool, bool]] = {}
    for chunk in _chunks(list(refs), 900):
        for ref, holder, named in conn.execute(
                sa.select(ff_accounts.c.account_ref, ff_accounts.c.holder,
                          ff_accounts.c.name_sealed.is_not(None))
                .where(ff_accounts.c.account_ref.in_(chunk))):
            found[ref] = (bool(holder), bool(named))
    return found


def insert_accounts(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(ff_accounts.insert(), list(chunk))


def mark_holders(conn: sa.Connection, refs: Sequence[int]) -> None:
    for chunk in _chunks(list(refs), 900):
        conn.execute(ff_accounts.update().where(ff_accounts.c.account_ref.in_(chunk))
                     .values(holder=True))


def set_account_names(conn: sa.Connection, names: dict[int, bytes]) -> None:
    for ref, sealed in names.items():
        conn.execute(ff_accounts.update().where(ff_accounts.c.account_ref == ref,
                                                ff_accounts.c.name_sealed.is_(None))
                     .values(name_sealed=sealed))


def link_party(conn: sa.Connection, account_ref: int, party_ref: int) -> None:
    conn.execute(ff_accounts.update().where(ff_accounts.c.account_ref == account_ref)
                 .values(party_ref=party_ref, holder=True))


def existing_txn_ids(conn: sa.Connection, agency: str, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(list(ids), 900):
        found |= set(conn.execute(
            sa.select(ff_transactions.c.txn_id).where(ff_transactions.c.agency == agency,
                                                      ff_transactions.c.txn_id.in_(chunk))
        ).scalars())
    return found


def insert_transactions(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(ff_transactions.insert(), list(chunk))


def upsert_party(conn: sa.Connection, row: dict[str, Any],
                 identifiers: Sequence[tuple[str, str]]) -> bool:
    """Insert or replace a party and its identifier keys; True when it was new."""
    ref = row["party_ref"]
    exists = conn.execute(sa.select(ff_parties.c.party_ref)
                          .where(ff_parties.c.party_ref == ref)).first() is not None
    if exists:
        conn.execute(ff_parties.update().where(ff_parties.c.party_ref == ref).values(**row))
        conn.execute(ff_identifiers.delete().where(ff_identifiers.c.party_ref == ref))
    else:
        conn.execute(ff_parties.insert().values(**row))
    if identifiers:
        conn.execute(ff_identifiers.insert(),
                     [{"party_ref": ref, "kind": k, "key": v} for k, v in sorted(set(
                         identifiers))])
    return not exists


def insert_rejects(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        conn.execute(ff_rejects.insert(), list(chunk))


def rejects(conn: sa.Connection, batch_id: str) -> list[Any]:
    return list(conn.execute(sa.select(ff_rejects).where(ff_rejects.c.batch_id == batch_id)
                             .order_by(ff_rejects.c.source_row, ff_rejects.c.reject_id)))


def batches(conn: sa.Connection, agency: str) -> list[Any]:
    return list(conn.execute(sa.select(ff_batches).where(ff_batches.c.agency == agency)
                             .order_by(ff_batches.c.started_at)))


def transaction_count(conn: sa.Connection, agency: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(ff_transactions)
                            .where(ff_transactions.c.agency == agency)).scalar_one())


# --- analytic frames (no identity) ---------------------------------------------------------

_TX_SELECT = (
    ("txn_id", "txn_id"), ("booked_at", "booked_at"), ("time_known", "time_known"),
    ("amount", "amount"), ("currency", "currency"), ("channel", "channel"),
    ("direction", "direction"), ("account", "account_ref"), ("counterparty", "counterparty_ref"),
    ("counterparty_country", "counterparty_country"), ("merchant", "merchant"), ("mcc", "mcc"),
    ("location", "location"), ("region", "region"), ("purpose", "purpose"),
)


def _tx_query(agency: str) -> sa.Select[Any]:
    t = ff_transactions.c
    return (sa.select(*[t[col].label(name) for name, col in _TX_SELECT])
            .where(t.agency == agency).order_by(t.txn_id))


def _accounts_query(agency: str) -> sa.Select[Any]:
    a, p = ff_accounts.c, ff_parties.c
    return (sa.select(a.account_ref.label("account"), a.party_ref.label("party"),
                      p.customer_type, p.business_type, p.employees,
                      p.region.label("home_region"), p.opens, p.closes, p.observed)
            .select_from(ff_accounts.outerjoin(ff_parties, ff_parties.c.party_ref == a.party_ref))
            .where(a.agency == agency, a.holder.is_(True)).order_by(a.account_ref))


def _identifiers_query(agency: str) -> sa.Select[Any]:
    i, p = ff_identifiers.c, ff_parties.c
    return (sa.select(i.party_ref.label("party"), i.kind, i.key)
            .select_from(ff_identifiers.join(ff_parties, ff_parties.c.party_ref == i.party_ref))
            .where(p.agency == agency).order_by(i.party_ref, i.kind, i.key))


def _arrow(engine: sa.Engine, query: sa.Select[Any], fast: bool) -> Any:
    """An Arrow table of the query: straight from the database through ADBC when its driver
    is installed (no Python row objects), else through SQLAlchemy. Types are fixed later by
    ``detect.load_frames``; SQLite hands ADBC untyped columns, so they arrive as text there."""
    import pyarrow as pa

    if fast and engine.dialect.name == "sqlite":
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        try:
            from adbc_driver_sqlite import dbapi as sqlite_adbc
        except ImportError:
            path = None
        if path is not None:
            sql = str(query.compile(dialect=engine.dialect, compile_kwargs={
                "literal_binds": True}))
            with sqlite_adbc.connect(f"file:{path}?mode=ro") as connection:
                cursor = connection.cursor()
                cursor.execute(sql)
                table = cursor.fetch_arrow_table()
                cursor.close()
            # ADBC infers a column's type from its first rows: make every column text, then
            # let load_frames cast (the same values either way)
            return table.cast(pa.schema([(f.name, pa.string()) for f in table.schema]))
    with engine.connect() as conn:
        result = conn.execute(query)
        names = list(result.keys())
        rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(col)) if col else pa.array([], pa.string())
                     for n, col in zip(names, columns, strict=True)})


def analytic_frames(engine: sa.Engine, agency: str, *, fast: bool = True
                    ) -> tuple[Any, Any, Any]:
    """(transactions, accounts, identifiers) of one agency as Arrow tables: references and
    attributes only, never a sealed column."""
    return (_arrow(engine, _tx_query(agency), fast), _arrow(engine, _accounts_query(agency), fast),
            _arrow(engine, _identifiers_query(agency), fast))


# --- runs and alerts -------------------------------------------------------------------------

def insert_run(conn: sa.Connection, **values: Any) -> None:
    conn.execute(ff_runs.insert().values(**values))


def save_alerts(conn: sa.Connection, agency: str, run_id: str,
                alerts: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Store alerts by their content-derived id; an alert found again keeps its first run.
    Returns (new, seen before)."""
    ids = [a["alert_id"] for a in alerts]
    existing: set[str] = set()
    for chunk in _chunks(ids, 900):
        existing |= set(conn.execute(sa.select(ff_alerts.c.alert_id)
                                     .where(ff_alerts.c.alert_id.in_(chunk))).scalars())
    fresh = [{**a, "agency": agency, "first_run_id": run_id, "last_run_id": run_id}
             for a in alerts if a["alert_id"] not in existing]
    for chunk in _chunks(fresh, 1000):
        conn.execute(ff_alerts.insert(), list(chunk))
    for chunk in _chunks(sorted(existing), 900):
        conn.execute(ff_alerts.update().where(ff_alerts.c.alert_id.in_(chunk))
                     .values(last_run_id=run_id))
    return len(fresh), len(existing)


def latest_run(conn: sa.Connection, agency: str) -> Any:
    return conn.execute(sa.select(ff_runs).where(ff_runs.c.agency == agency)
                        .order_by(ff_runs.c.started_at.desc()).limit(1)).first()


def alerts_of_run(conn: sa.Connection, agency: str, run_id: str) -> list[Any]:
    return list(conn.execute(sa.select(ff_alerts).where(ff_alerts.c.agency == agency,
                                                        ff_alerts.c.last_run_id == run_id)
                             .order_by(ff_alerts.c.score.desc(), ff_alerts.c.account_ref)))


def alert_row(conn: sa.Connection, agency: str, alert_id: str) -> Any:
    return conn.execute(sa.select(ff_alerts).where(ff_alerts.c.agency == agency,
                                                   ff_alerts.c.alert_id == alert_id)).first()


def account_rows(conn: sa.Connection, agency: str, refs: Sequence[int]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(list(refs), 900):
        out += list(conn.execute(
            sa.select(ff_accounts.c.account_ref, ff_accounts.c.number_sealed,
                      ff_accounts.c.name_sealed, ff_accounts.c.party_ref, ff_accounts.c.holder,
                      ff_parties.c.customer_type, ff_parties.c.name_sealed.label("party_name"))
            .select_from(ff_accounts.outerjoin(ff_parties,
                                               ff_parties.c.party_ref == ff_accounts.c.party_ref))
            .where(ff_accounts.c.agency == agency, ff_accounts.c.account_ref.in_(chunk))))
    return out


def transactions_by_id(conn: sa.Connection, agency: str, ids: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(list(ids), 900):
        out += list(conn.execute(sa.select(ff_transactions).where(
            ff_transactions.c.agency == agency, ff_transactions.c.txn_id.in_(chunk))))
    return sorted(out, key=lambda r: (r.booked_at, r.txn_id))


def loads(text: str) -> Any:
    return json.loads(text)
