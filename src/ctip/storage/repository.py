"""``CaseStore``: the one repository over the case store (SQLite or PostgreSQL, SQLAlchemy Core).

Identity is sealed before a row is built and opened only through ``identities`` /
``records_for_linkage`` / ``rejects``, each of which writes an audit entry first. Every write
(batches, victims, perpetrators, rejects) writes an audit entry in the same transaction, so a
change and its audit record are committed together or not at all.

Writes are set-based: one lookup of existing keys per call and ``executemany`` inserts/updates,
because imports stream millions of rows through here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ctip.domain.problems import Problem, RejectedRow
from ctip.domain.records import Identity, Perpetrator, VictimRecord
from ctip.errors import NotFoundError, PermissionDeniedError
from ctip.settings import Settings
from ctip.storage import codec
from ctip.storage.audit import AuditLog
from ctip.storage.bulk import insert_many, insert_rows, new_id
from ctip.storage.engine import make_engine, migrate
from ctip.storage.export import analytic_rows, perpetrator_rows, to_duckdb
from ctip.storage.keystate import guard_of, open_keys
from ctip.storage.sealing import Pseudonymiser, Sealer, load_keys
from ctip.storage.tables import (
    import_batches,
    import_rejects,
    justice_stages,
    perpetrators,
    victims,
)
from ctip.storage.victim_rows import (
    SEAL_KEY_ID,
    VICTIM_COLUMNS,
    VICTIM_ID,
    PreparedVictim,
    VictimPreparer,
    victim_context,
)

CHUNK = 500  # keys per IN (...) lookup: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class AddResult:
    new: int = 0
    unchanged: int = 0
    updated: int = 0


@dataclass(frozen=True)
class StoredReject:
    batch_id: str
    source_file: str
    source_row: int
    raw: dict[str, str] | str
    reasons: list[str]
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class BatchSummary:
    batch_id: str
    source_file: str
    file_sha256: str | None
    profile: str
    agency: str | None
    actor: str
    started_at: datetime
    finished_at: datetime | None
    read: int | None
    accepted: int | None
    rejected: int | None


def reject_context(reject_id: str) -> str:
    return f"import_rejects/{reject_id}/content"


def _now() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class CaseStore:
    """Sealed, audited storage of victim records, perpetrators, import batches and rejects."""

    def __init__(self, engine: sa.Engine, sealer: Sealer, pseudonymiser: Pseudonymiser, *,
                 actor: str = "system") -> None:
        self.engine = engine
        self.sealer = sealer
        self.pseudonymiser = pseudonymiser
        self.preparer = VictimPreparer(sealer, pseudonymiser)
        self.audit = AuditLog()
        self.actor = actor

    @classmethod
    def open(cls, settings: Settings, *, actor: str = "system") -> CaseStore:
        """Keys first (a missing key says "run `ctip init`"), then the engine, then migrations,
        then the keys checked against the database (``storage.keystate``)."""
        load_keys(settings)
        engine = make_engine(settings.resolved_database_url)
        try:
            migrate(engine)
            sealer, pseudonymiser = open_keys(settings, engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, sealer, pseudonymiser, actor=actor)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ---- import batches -------------------------------------------------------------------
    def start_batch(self, *, source_file: str, file_sha256: str | None, profile: str,
                    agency: str | None, owner: str | None = None) -> str:
        batch_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(import_batches.insert().values(
                batch_id=batch_id, source_file=source_file, file_sha256=file_sha256,
                profile=profile, agency=agency, actor=self.actor, started_at=_now(),
                owner=owner))
            self.audit.append(conn, actor=self.actor, action="batch.start", subject=batch_id,
                              details={"source_file": source_file, "file_sha256": file_sha256,
                                       "profile": profile, "agency": agency})
        return batch_id

    def finish_batch(self, batch_id: str, *, read: int, accepted: int, rejected: int) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                import_batches.update().where(import_batches.c.batch_id == batch_id).values(
                    finished_at=_now(), read_count=read, accepted_count=accepted,
                    rejected_count=rejected))
            if done.rowcount != 1:
                raise NotFoundError(f"No import batch {batch_id!r}.",
                                    hint="list batches with `ctip import` output or the web UI")
            self.audit.append(conn, actor=self.actor, action="batch.finish", subject=batch_id,
                              details={"read": read, "accepted": accepted, "rejected": rejected})

    def unfinished_batches(self) -> list[tuple[str, str, str | None, datetime]]:
        """(batch id, source file, owner, started at) of batches neither finished nor yet
        marked interrupted."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(import_batches.c.batch_id, import_batches.c.source_file,
                          import_batches.c.owner, import_batches.c.started_at)
                .where(import_batches.c.finished_at.is_(None),
                       import_batches.c.interrupted_at.is_(None))
                .order_by(import_batches.c.started_at))
            return [(r.batch_id, r.source_file, r.owner, r.started_at) for r in rows]

    def mark_interrupted(self, batch_id: str) -> tuple[int, int]:
        """Mark a batch whose import died; returns the (victims, rejects) it had stored."""
        with self.engine.begin() as conn:
            kept = int(conn.execute(sa.select(sa.func.count()).select_from(victims)
                                    .where(victims.c.import_batch == batch_id)).scalar_one())
            rejected = int(conn.execute(sa.select(sa.func.count()).select_from(import_rejects)
                                        .where(import_rejects.c.batch_id == batch_id))
                           .scalar_one())
            done = conn.execute(import_batches.update().where(
                import_batches.c.batch_id == batch_id, import_batches.c.finished_at.is_(None),
                import_batches.c.interrupted_at.is_(None)).values(interrupted_at=_now()))
            if done.rowcount == 1:
                self.audit.append(conn, actor=self.actor, action="batch.interrupted",
                                  subject=batch_id,
                                  details={"victims_kept": kept, "rejects_kept": rejected})
        return kept, rejected

    def batches(self) -> list[BatchSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(import_batches).order_by(import_batches.c.started_at))
            return [BatchSummary(r.batch_id, r.source_file, r.file_sha256, r.profile, r.agency,
                                 r.actor, r.started_at, r.finished_at, r.read_count,
                                 r.accepted_count, r.rejected_count) for r in rows]

    # ---- victims --------------------------------------------------------------------------
    def _existing(self, conn: sa.Connection, table: sa.Table, id_col: str, key_col: str,
                  keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """(agency, key) -> (row id, content hash) for the keys already stored."""
        by_agency: dict[str, list[str]] = {}
        for agency, key in keys:
            by_agency.setdefault(agency, []).append(key)
        found: dict[tuple[str, str], tuple[str, str]] = {}
        # one statement per agency with the keys as ONE parameter (a JSON array for SQLite's
        # json_each, an array for PostgreSQL's = ANY): no per-key bind parameters to compile
        head = f'SELECT "{id_col}", "{key_col}", content_hash FROM "{table.name}" WHERE agency = '
        if conn.dialect.name == "sqlite":
            sql = head + f'? AND "{key_col}" IN (SELECT value FROM json_each(?))'
            for agency, ids in by_agency.items():
                rows = conn.exec_driver_sql(sql, (agency, json.dumps(ids)))
                for row in rows:
                    found[(agency, row[1])] = (row[0], row[2])
            return found
        if conn.dialect.name == "postgresql":
            sql = head + f'%s AND "{key_col}" = ANY(%s)'
            for agency, ids in by_agency.items():
                for row in conn.exec_driver_sql(sql, (agency, ids)):
                    found[(agency, row[1])] = (row[0], row[2])
            return found
        for agency, ids in by_agency.items():
            for chunk in _chunks(ids):
                rows = conn.execute(
                    sa.select(table.c[id_col], table.c[key_col], table.c.content_hash)
                    .where(table.c.agency == agency, table.c[key_col].in_(chunk)))
                for row in rows:
                    found[(agency, row[1])] = (row[0], row[2])
        return found

    def add_victims(self, batch_id: str, records: Sequence[VictimRecord]) -> AddResult:
        """Store records; the same (agency, source_record_id) with the same content is unchanged,
        with different content it is updated in place (same victim_id) and audited."""
        return self.store_victims(batch_id, self.preparer.prepare(records, batch_id))

    def store_victims(self, batch_id: str, items: Sequence[PreparedVictim]) -> AddResult:
        """Store rows ``VictimPreparer`` built (here or in an import worker process).

        The existing keys come from one SELECT per agency and all new rows go in one
        ``executemany`` (COPY on PostgreSQL): imports stream millions of rows through here."""
        if not items:
            return AddResult()
        now = _now()
        with self.engine.begin() as conn:
            items = self._under_active_key(conn, items)
            known = self._existing(conn, victims, "victim_id", "source_record_id",
                                   {(i.agency, i.source_record_id) for i in items})
            inserts: dict[tuple[str, str], tuple[Any, ...]] = {}
            updates: dict[tuple[str, str], tuple[Any, ...]] = {}
            new = unchanged = updated = 0
            stamps = (now, now)
            for item in items:
                key = (item.agency, item.source_record_id)
                prior = known.get(key)
                if prior is not None and prior[1] == item.content_hash:
                    unchanged += 1
                    continue
                if prior is None:
                    new += 1
                    known[key] = (item.victim_id, item.content_hash)
                    inserts[key] = item.row + stamps
                    continue
                updated += 1
                known[key] = (prior[0], item.content_hash)
                row = (item.row if prior[0] == item.victim_id
                       else self.preparer.reseal_for(item, prior[0]).row) + stamps
                # the same key twice in one call: the later content wins, in whichever set
                (inserts if key in inserts else updates)[key] = row
            if inserts:
                insert_rows(conn, victims, VICTIM_COLUMNS, list(inserts.values()))
            if updates:
                changes: list[dict[str, Any]] = []
                for row in updates.values():
                    change = dict(zip(VICTIM_COLUMNS, row, strict=True))
                    del change["created_at"]
                    change["_vid"] = change["victim_id"]
                    changes.append(change)
                conn.execute(
                    sa.update(victims).where(victims.c.victim_id == sa.bindparam("_vid")),
                    changes)
            if inserts or updates:
                self.audit.append(conn, actor=self.actor, action="victims.add", subject=batch_id,
                                  details={"new": new, "updated": updated, "unchanged": unchanged,
                                           "updated_ids": sorted(row[VICTIM_ID]
                                                                 for row in updates.values())})
        return AddResult(new=new, unchanged=unchanged, updated=updated)

    def _under_active_key(self, conn: sa.Connection,
                          items: Sequence[PreparedVictim]) -> Sequence[PreparedVictim]:
        """The items, each sealed under the database's active key: rows prepared (in a worker)
        under another key, because the keys were rotated meanwhile, are re-sealed here, in the
        transaction that holds the key lock (``storage.keystate``)."""
        guard = guard_of(self.sealer)
        if guard is None:
            return items
        active = guard.sync(conn, self.sealer)
        if all(item.row[SEAL_KEY_ID] == active for item in items):
            return items
        return [item if item.row[SEAL_KEY_ID] == active
                else self.preparer.reseal_for(item, item.victim_id) for item in items]

    def victim_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(victims)).scalar_one())

    def victim_ids(self, *, agency: str | None = None) -> list[str]:
        query = sa.select(victims.c.victim_id).order_by(victims.c.victim_id)
        if agency is not None:
            query = query.where(victims.c.agency == agency)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    # ---- identity (audited reads) ---------------------------------------------------------
    @staticmethod
    def _require_reason(reason: str) -> None:
        if not reason or not reason.strip():
            raise PermissionDeniedError("Opening a victim's identity needs a stated reason.",
                                        hint="give the reason (it is written to the audit log)")

    def identities(self, victim_ids: Sequence[str], *, actor: str,
                   reason: str) -> dict[str, Identity]:
        """Open identities (audited first, in the same transaction). Unknown ids are left out."""
        self._require_reason(reason)
        ids = list(dict.fromkeys(victim_ids))
        out: dict[str, Identity] = {}
        with self.engine.begin() as conn:
            self.audit.append(conn, actor=actor, action="identity.read", subject="victims",
                              details={"victim_ids": ids, "reason": reason})
            for chunk in _chunks(ids):
                rows = conn.execute(sa.select(victims.c.victim_id, victims.c.identity_sealed)
                                    .where(victims.c.victim_id.in_(chunk)))
                for vid, blob in rows:
                    out[vid] = codec.identity_from_json(
                        self.sealer.open(blob, context=victim_context(vid)))
        return out

    def records_for_linkage(self, *, actor: str, reason: str
                            ) -> Iterator[tuple[str, VictimRecord]]:
        """Every record with its identity, for a linkage run only (audited once per call)."""
        self._require_reason(reason)
        with self.engine.begin() as conn:
            self.audit.append(conn, actor=actor, action="identity.read_for_linkage",
                              subject="victims",
                              details={"reason": reason, "records": self.victim_count()})
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(
                sa.select(victims).order_by(victims.c.victim_id))
            for row in rows:
                identity = codec.identity_from_json(
                    self.sealer.open(row.identity_sealed, context=victim_context(row.victim_id)))
                yield row.victim_id, codec.victim_record(row, identity)

    # ---- perpetrators ---------------------------------------------------------------------
    def add_perpetrators(self, batch_id: str, items: Sequence[Perpetrator]) -> AddResult:
        if not items:
            return AddResult()
        keyed = self.pseudonymiser.keyed_hash
        now = _now()
        new = unchanged = updated = 0
        with self.engine.begin() as conn:
            known = self._existing(conn, perpetrators, "perpetrator_key", "perpetrator_id",
                                   {(p.agency, p.perpetrator_id) for p in items})
            rows: dict[tuple[str, str], dict[str, Any]] = {}
            stages: dict[tuple[str, str], list[dict[str, Any]]] = {}
            replaced: list[str] = []
            for p in items:
                key = (p.agency, p.perpetrator_id)
                content_hash = keyed("perpetrator-content", codec.perpetrator_content_bytes(p))
                prior = known.get(key)
                if prior is not None and prior[1] == content_hash:
                    unchanged += 1
                    continue
                if prior is None:
                    pkey = new_id()
                    new += 1
                else:
                    pkey = prior[0]
                    updated += 1
                    if key not in rows:
                        replaced.append(pkey)
                known[key] = (pkey, content_hash)
                rows[key] = {**codec.perpetrator_row(p), "perpetrator_key": pkey,
                             "content_hash": content_hash, "import_batch": batch_id,
                             "created_at": now, "updated_at": now}
                stages[key] = codec.stage_rows(pkey, p.stages)
            for chunk in _chunks(replaced):
                conn.execute(justice_stages.delete()
                             .where(justice_stages.c.perpetrator_key.in_(chunk)))
                conn.execute(perpetrators.delete()
                             .where(perpetrators.c.perpetrator_key.in_(chunk)))
            if rows:
                insert_many(conn, perpetrators, list(rows.values()))
                stage_list = [s for group in stages.values() for s in group]
                if stage_list:
                    insert_many(conn, justice_stages, stage_list)
                self.audit.append(conn, actor=self.actor, action="perpetrators.add",
                                  subject=batch_id,
                                  details={"new": new, "updated": updated,
                                           "unchanged": unchanged, "updated_keys": replaced})
        return AddResult(new=new, unchanged=unchanged, updated=updated)

    # ---- rejects --------------------------------------------------------------------------
    def add_rejects(self, batch_id: str, rows: Sequence[RejectedRow]) -> int:
        """Keep rejected rows (raw content and reasons sealed: both can quote identity).
        The same file + row + content is stored once. Returns how many were stored."""
        if not rows:
            return 0
        keyed = self.pseudonymiser.keyed_hash
        now = _now()
        prepared = []
        for row in rows:
            raw_text = json.dumps(row.raw, sort_keys=True, ensure_ascii=False)
            prepared.append((row, raw_text, keyed("reject-content", raw_text.encode())))
        with self.engine.begin() as conn:
            seen: set[tuple[str, int, str]] = set()
            for chunk in _chunks([p[2] for p in prepared]):
                seen.update((r[0], r[1], r[2]) for r in conn.execute(
                    sa.select(import_rejects.c.source_file, import_rejects.c.source_row,
                              import_rejects.c.content_hash)
                    .where(import_rejects.c.content_hash.in_(chunk))))
            values = []
            for row, raw_text, content_hash in prepared:
                key = (row.source_file, row.source_row, content_hash)
                if key in seen:
                    continue
                seen.add(key)
                reject_id = new_id()
                payload = json.dumps({"raw": json.loads(raw_text), "reasons": row.reasons(),
                                      "problems": [asdict(p) for p in row.problems]},
                                     ensure_ascii=False)
                values.append({
                    "reject_id": reject_id, "batch_id": batch_id, "source_file": row.source_file,
                    "source_row": row.source_row, "content_hash": content_hash,
                    "problem_columns": json.dumps(sorted({p.column or "" for p in row.problems})),
                    "sealed": self.sealer.seal(payload, context=reject_context(reject_id)),
                    "seal_key_id": self.sealer.active_key_id, "created_at": now,
                })
            if values:
                insert_many(conn, import_rejects, values)
                self.audit.append(conn, actor=self.actor, action="rejects.add", subject=batch_id,
                                  details={"stored": len(values),
                                           "already_stored": len(rows) - len(values)})
        return len(values)

    def rejects(self, batch_id: str | None = None, *,
                details: dict[str, Any] | None = None) -> Iterator[StoredReject]:
        """Rejected rows with raw content and reasons (opening them is audited, with
        ``details`` such as where they go: raw rows can hold names)."""
        with self.engine.begin() as conn:
            self.audit.append(conn, actor=self.actor, action="rejects.read",
                              subject=batch_id or "*", details=details or {})
        query = sa.select(import_rejects).order_by(
            import_rejects.c.source_file, import_rejects.c.source_row, import_rejects.c.reject_id)
        if batch_id is not None:
            query = query.where(import_rejects.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(query):
                data = json.loads(self.sealer.open(row.sealed,
                                                   context=reject_context(row.reject_id)))
                yield StoredReject(row.batch_id, row.source_file, row.source_row, data["raw"],
                                   data["reasons"],
                                   tuple(Problem(**p) for p in data.get("problems", ())))

    def reject_count(self, batch_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(import_rejects)
        if batch_id is not None:
            query = query.where(import_rejects.c.batch_id == batch_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # ---- analytics (de-identified) --------------------------------------------------------
    def analytic_rows(self) -> Iterator[dict[str, Any]]:
        return analytic_rows(self.engine)

    def perpetrator_rows(self) -> Iterator[dict[str, Any]]:
        return perpetrator_rows(self.engine)

    def to_duckdb(self, con: Any, victims: str = "victims",
                  perpetrators: str = "perpetrators") -> None:
        """Load both analytic tables into a DuckDB connection. No identity column is read."""
        to_duckdb(self.engine, con, victims=victims, perpetrators=perpetrators)
