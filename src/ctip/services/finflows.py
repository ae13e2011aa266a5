"""Financial-flow use cases: import statements and KYC, run the rules, review, export.

Identity (account numbers, names, parties' contacts) is sealed before a row is built and
pseudonymised for joins; the rules run on an in-memory DuckDB over references only; alerts go
to the shared review queue (``finflows.alerts``) with reasons that carry rule ids, versions,
windows, thresholds and transaction ids, never identity. Opening identity (an FtM export or a
SAR draft with names) needs a reason and is audited; so is every import, run and export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Principal
from ctip.domain.review import may_read
from ctip.errors import InputFileError, NotFoundError, PermissionDeniedError, ValidationError
from ctip.finflows import camt053, detect, ftm, graph, readers, sar, score
from ctip.finflows.frames import (
    IDENTIFIER_KINDS,
    account_number,
    normalise_identifier,
    reference,
    row_hash,
    validate_party,
    validate_transaction,
)
from ctip.finflows.review import QUEUE, QUEUE_NAME
from ctip.finflows.rules import RuleSet, parse_rules, shipped_list_bytes, shipped_rules
from ctip.services.review import ReviewQueues
from ctip.settings import Settings
from ctip.storage import finflows as db
from ctip.storage.audit import AuditLog, keyed_audit_log
from ctip.storage.sealing import Pseudonymiser, Sealer

__all__ = ["QUEUE", "QUEUE_NAME", "FinFlows", "ImportReport", "RunReport", "load_rules"]

Progress = Callable[[int, int], None]
IMPORT_CHUNK = 20_000  # rows validated, then stored together


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ImportReport:
    file: str
    batch_id: str
    kind: str
    format: str
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)  # row, ref, reasons (shown once)


@dataclass
class RunReport:
    run_id: str
    agency: str
    transactions: int
    accounts: int
    hits: int
    alerts: list[score.Alert]
    new_alerts: int
    enqueued: int
    not_assessed: dict[str, str]
    seconds: float
    rules: RuleSet
    timings: dict[str, float]

    @property
    def per_10k_accounts(self) -> float:
        return 10_000 * len(self.alerts) / self.accounts if self.accounts else 0.0


class FinFlows:
    """The financial-flow module of one store (engine, keys, audit log)."""

    def __init__(self, engine: sa.Engine, sealer: Sealer, pseudonymiser: Pseudonymiser,
                 audit: AuditLog | None = None, *, clock: Callable[[], datetime] = _now) -> None:
        self.engine, self.sealer, self.pseudonymiser = engine, sealer, pseudonymiser
        self.audit = audit or keyed_audit_log(pseudonymiser)
        self.clock = clock
        self._refs: dict[str, dict[tuple[str | None, str | None], tuple[str, int]]] = {}

    @classmethod
    def open(cls, settings: Settings) -> FinFlows:
        """Over ``ctip.storage.open(settings)`` (keys checked, schema current, sealer bound to
        the key guard that makes rotation safe)."""
        from ctip import storage

        return storage.open(settings).repository(cls.of)

    @classmethod
    def of(cls, store: Any) -> FinFlows:
        return cls(store.engine, store.sealer, store.pseudonymiser, store.audit)

    @property
    def queues(self) -> ReviewQueues:
        return ReviewQueues(self.engine, self.sealer, self.audit)

    # -- keyed references -----------------------------------------------------------------
    def account_key(self, agency: str, number: str) -> str:
        text = f"{agency}\x00{account_number(number)}".encode()
        return self.pseudonymiser.keyed_hash("finflows.account", text)

    def name_key(self, agency: str, name: str) -> str:
        text = f"{agency}\x00{' '.join(name.casefold().split())}".encode()
        return self.pseudonymiser.keyed_hash("finflows.account-name", text)

    def identifier_key(self, kind: str, value: str) -> str:
        norm = normalise_identifier(kind, value)
        return self.pseudonymiser.keyed_hash("finflows.identifier", f"{kind}\x00{norm}".encode())

    # -- import ---------------------------------------------------------------------------
    def import_file(self, path: Path, *, agency: str, actor: str, kind: str = "transactions",
                    mapping: Path | None = None, fmt: str | None = None,
                    on_progress: Progress | None = None) -> ImportReport:
        """Import a transactions or parties file (CSV with a mapping, or camt.053 XML)."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputFileError("{path} cannot be read: {strerror}",
                                 params={"path": path, "strerror": error.strerror}) from None
        fmt = fmt or ("camt053" if path.suffix.lower() == ".xml" else "csv")
        if fmt == "camt053" and kind != "transactions":
            raise InputFileError("camt.053 statements hold transactions, not parties",
                                 hint="import the KYC file as CSV with --kind parties")
        rows: Any
        if fmt == "camt053":
            rows = ((r, raw, ref, probs, ref) for r, raw, ref, probs in
                    camt053.read_camt053(data, source_name=path.name))
        else:
            spec = (readers.parse_mapping(mapping.read_bytes(), source_name=mapping.name)
                    if mapping else readers.identity_mapping(kind))
            if spec.kind != kind:
                raise InputFileError("the mapping {mapping} is for {made_for}, not {kind}",
                                     hint="use --kind {made_for}",
                                     params={"mapping": mapping, "made_for": spec.kind,
                                             "kind": kind})
            rows = ((r, raw, as_read, probs, None) for r, raw, as_read, probs in
                    readers.read_csv(data, spec, source_name=path.name))
        report = ImportReport(file=path.name, batch_id=str(uuid.uuid4()), kind=kind, format=fmt)
        with self.engine.begin() as conn:
            db.insert_batch(conn, batch_id=report.batch_id, agency=agency, kind=kind,
                            format=fmt, source_file=path.name,
                            file_sha256=hashlib.sha256(data).hexdigest(), read=0, accepted=0,
                            rejected=0, actor=actor, started_at=self.clock())
            if kind == "transactions":
                self._transactions(conn, rows, report, agency, on_progress)
            else:
                self._parties(conn, rows, report, agency)
            db.finish_batch(conn, report.batch_id, read=report.read, accepted=report.accepted,
                            rejected=report.rejected)
            self.audit.append(conn, actor=actor, action="finflows.import",
                              subject=report.batch_id,
                              details={"agency": agency, "kind": kind, "format": fmt,
                                       "file": path.name, "read": report.read,
                                       "accepted": report.accepted,
                                       "rejected": report.rejected})
        return report

    def _reject(self, pending: list[dict[str, Any]], report: ImportReport, agency: str,
                row: int, ref: str | None, as_read: Any, reasons: list[str],
                fields: list[str]) -> None:
        reject_id = str(uuid.uuid4())
        content = json.dumps({"row": readers.raw_text(as_read), "reasons": reasons},
                             ensure_ascii=False)
        pending.append({"reject_id": reject_id, "batch_id": report.batch_id, "agency": agency,
                        "source_row": row, "source_ref": ref,
                        "fields": json.dumps(sorted({f for f in fields if f})),
                        "sealed": self.sealer.seal(content, context=db.reject_context(
                            reject_id))})
        report.rejected += 1
        report.rejects.append({"row": row, "ref": ref, "reasons": reasons})

    def _transactions(self, conn: sa.Connection, rows: Any, report: ImportReport, agency: str,
                      on_progress: Progress | None) -> None:
        """Validate, then store in chunks (bounded memory for files of any size)."""
        rejects: list[dict[str, Any]] = []
        good: list[tuple[int, str | None, Any, dict[str, Any], str]] = []
        first_row: dict[str, int] = {}
        for row, raw, as_read, problems, ref in rows:
            report.read += 1
            checked = validate_transaction(raw) if raw is not None else None
            problems = problems or (checked.problems if checked else ())
            if problems:
                self._reject(rejects, report, agency, row, ref, as_read if raw is None else raw,
                             [p.describe(report.file, row) for p in problems],
                             [p.column or "" for p in problems])
                continue
            assert checked is not None and checked.values is not None
            values: dict[str, Any] = checked.values
            txn_id = values["txn_id"]
            if txn_id in first_row:
                self._reject(rejects, report, agency, row, ref, raw,
                             [f"file {report.file}, row {row}, column 'txn_id': the same "
                              f"transaction id as row {first_row[txn_id]}"], ["txn_id"])
                continue
            first_row[txn_id] = row
            good.append((row, ref, raw, values, row_hash(raw)))
            if len(good) >= IMPORT_CHUNK:
                self._store_chunk(conn, good, rejects, report, agency)
                good = []
                if on_progress:
                    on_progress(report.read, 0)
        self._store_chunk(conn, good, rejects, report, agency)
        db.insert_rejects(conn, rejects)
        if on_progress:
            on_progress(report.read, report.read)

    def _store_chunk(self, conn: sa.Connection, good: list[tuple[int, str | None, Any,
                                                                  dict[str, Any], str]],
                     rejects: list[dict[str, Any]], report: ImportReport, agency: str) -> None:
        stored = db.existing_txn_ids(conn, agency, [g[3]["txn_id"] for g in good])
        accounts: dict[int, dict[str, Any]] = {}
        out: list[dict[str, Any]] = []
        for row, ref, raw, values, digest in good:
            if values["txn_id"] in stored:
                self._reject(rejects, report, agency, row, ref, raw,
                             [f"file {report.file}, row {row}, column 'txn_id': already "
                              "imported (the earlier row is kept)"], ["txn_id"])
                continue
            own = self._account(accounts, agency, values["account"], None, holder=True)
            other = None
            if values["counterparty_account"]:
                other = self._account(accounts, agency, values["counterparty_account"],
                                      values["counterparty_name"], holder=False)
            elif values["counterparty_name"]:
                other = self._account(accounts, agency, None, values["counterparty_name"],
                                      holder=False)
            out.append({"agency": agency, "txn_id": values["txn_id"],
                        "batch_id": report.batch_id, "source_row": row, "row_hash": digest,
                        "booked_at": values["booked_at"], "time_known": values["time_known"],
                        "amount": values["amount"], "currency": values["currency"],
                        "channel": values["channel"], "direction": values["direction"],
                        "account_ref": own, "counterparty_ref": other,
                        "counterparty_country": values["counterparty_country"],
                        "merchant": values["merchant_name"], "mcc": values["mcc"],
                        "location": values["location"], "region": values["region"],
                        "purpose": values["purpose"]})
            report.accepted += 1
        if accounts:
            self._store_accounts(conn, accounts, agency)
        db.insert_transactions(conn, out)

    def _account(self, accounts: dict[int, dict[str, Any]], agency: str, number: str | None,
                 name: str | None, *, holder: bool) -> int:
        cache = self._refs.setdefault(agency, {})
        memo = (number, None) if number else (None, name)
        found = cache.get(memo)
        if found is None:
            key = (self.account_key(agency, number) if number
                   else self.name_key(agency, name or ""))
            found = cache[memo] = (key, reference(key))
        key, ref = found
        entry = accounts.get(ref)
        if entry is None:
            entry = accounts[ref] = {"key": key, "number": number, "name": name,
                                     "holder": holder}
        else:
            entry["holder"] = entry["holder"] or holder
            entry["name"] = entry["name"] or name
        return ref

    def _store_accounts(self, conn: sa.Connection, accounts: dict[int, dict[str, Any]],
                        agency: str) -> None:
        known = db.known_accounts(conn, list(accounts))
        new, holders, names = [], [], {}
        at = self.clock()
        for ref, entry in accounts.items():
            if ref in known:
                was_holder, named = known[ref]
                if entry["holder"] and not was_holder:
                    holders.append(ref)
                if entry["name"] and not named:
                    names[ref] = self.sealer.seal(entry["name"],
                                                  context=db.account_name_context(ref))
                continue
            new.append({
                "account_ref": ref, "agency": agency, "account_key": entry["key"],
                "number_sealed": self.sealer.seal(entry["number"],
                                                  context=db.account_number_context(ref))
                if entry["number"] else None,
                "name_sealed": self.sealer.seal(entry["name"],
                                                context=db.account_name_context(ref))
                if entry["name"] else None,
                "holder": entry["holder"], "party_ref": None, "created_at": at})
        db.insert_accounts(conn, new)
        db.mark_holders(conn, holders)
        db.set_account_names(conn, names)

    def _parties(self, conn: sa.Connection, rows: Any, report: ImportReport,
                 agency: str) -> None:
        rejects: list[dict[str, Any]] = []
        accounts: dict[int, dict[str, Any]] = {}
        links: list[tuple[int, int]] = []
        for row, raw, as_read, problems, ref in rows:
            report.read += 1
            checked = validate_party(raw) if raw is not None else None
            problems = problems or (checked.problems if checked else ())
            if problems:
                self._reject(rejects, report, agency, row, ref, as_read if raw is None else raw,
                             [p.describe(report.file, row) for p in problems],
                             [p.column or "" for p in problems])
                continue
            assert checked is not None and checked.values is not None
            v: dict[str, Any] = checked.values
            party_ref = reference(self.pseudonymiser.keyed_hash(
                "finflows.party", f"{agency}\x00{v['party_id']}".encode()))
            identifiers = {k: v[k] for k in IDENTIFIER_KINDS if v.get(k)}
            db.upsert_party(conn, {
                "party_ref": party_ref, "agency": agency,
                "party_key": self.pseudonymiser.keyed_hash(
                    "finflows.party", f"{agency}\x00{v['party_id']}".encode()),
                "name_sealed": self.sealer.seal(v["name"], context=db.party_name_context(
                    party_ref)) if v["name"] else None,
                "identifiers_sealed": self.sealer.seal(
                    json.dumps(identifiers, sort_keys=True),
                    context=db.party_identifiers_context(party_ref)) if identifiers else None,
                "customer_type": v["customer_type"], "business_type": v["business_type"],
                "employees": v["employees"], "opening_date": v["opening_date"],
                "region": v["region"], "opens": v["opens"], "closes": v["closes"],
                "observed": v["observed"], "batch_id": report.batch_id,
            }, [(k, self.identifier_key(k, val)) for k, val in identifiers.items()])
            links.append((self._account(accounts, agency, v["account"], v["name"],
                                        holder=True), party_ref))
            report.accepted += 1
        if accounts:
            self._store_accounts(conn, accounts, agency)
        for account_ref, party_ref in links:
            db.link_party(conn, account_ref, party_ref)
        db.insert_rejects(conn, rejects)

    # -- run -------------------------------------------------------------------------------
    def lists_from_files(self, agency: str, files: dict[str, Path], rules: RuleSet
                         ) -> dict[str, Any]:
        """Reference lists for a run: the shipped ones, replaced or added by the user's files.
        Lists of accounts and identifiers are pseudonymised here with the store's key."""
        lists: dict[str, Any] = {"countries": {}, "merchants": {}, "refs": {},
                                 "identifiers": {}}
        unknown = sorted(set(files) - set(rules.lists))
        if unknown:
            raise ValidationError("the rule file declares no list named {unknown}",
                                  column="list", allowed=", ".join(sorted(rules.lists)),
                                  params={"unknown": ", ".join(unknown)})
        for name, spec in rules.lists.items():
            if name in files:
                data, source = files[name].read_bytes(), files[name].name
            elif spec.get("file"):
                data, source = shipped_list_bytes(spec["file"]), spec["file"]
            else:
                continue
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
            kind = str(spec.get("kind"))
            column = {"country": "code", "merchant": "pattern", "account": "account",
                      "identifier": "value"}[kind]
            if rows and column not in rows[0]:
                raise InputFileError("the list {source} has no column {column}",
                                     hint="a {kind} list is a CSV with a {name} column",
                                     params={"source": source, "column": repr(column),
                                             "kind": kind, "name": column})
            if kind == "country":
                lists["countries"][name] = [r["code"].strip().upper() for r in rows]
            elif kind == "merchant":
                lists["merchants"][name] = [(r["pattern"].strip().lower(),
                                             (r.get("country") or "").strip().upper())
                                            for r in rows]
            elif kind == "account":
                lists["refs"][name] = [reference(self.account_key(agency, r["account"]))
                                       for r in rows if r["account"].strip()]
            else:
                lists["identifiers"][name] = [self.identifier_key(r.get("kind") or "phone",
                                                                  r["value"])
                                              for r in rows if r["value"].strip()]
        return lists

    def run(self, agency: str, *, actor: str, rules: RuleSet | None = None,
            lists: dict[str, Path] | None = None, enqueue: bool = True,
            on_step: Callable[[str], None] | None = None) -> RunReport:
        """Every rule and graph pattern over the agency's transactions; alerts stored and put
        on the review queue (only new ones: a re-run adds nothing already queued)."""
        import duckdb

        rules = rules or shipped_rules()
        started = time.perf_counter()
        if on_step:
            on_step("loading transactions")
        tx, accounts, identifiers = db.analytic_frames(self.engine, agency)
        con = duckdb.connect()
        try:
            detect.load_frames(con, tx, accounts, identifiers)
            detect.load_lists(con, **self.lists_from_files(agency, lists or {}, rules))
            result = detect.run_rules(con, rules, graph_runner=graph.run_graph, on_step=on_step)
        finally:
            con.close()
        alerts = score.score_accounts(result.hits, rules)
        seconds = time.perf_counter() - started
        run_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            db.insert_run(conn, run_id=run_id, agency=agency, actor=actor,
                          started_at=self.clock(), rules_name=rules.name,
                          rules_version=rules.version, rules_digest=rules.digest,
                          transactions=result.transactions, accounts=result.accounts,
                          hits=len(result.hits), alerts=len(alerts),
                          not_assessed_json=json.dumps(result.not_assessed, sort_keys=True),
                          seconds=seconds)
            new, _seen = db.save_alerts(conn, agency, run_id, [alert_row(a) for a in alerts])
            self.audit.append(conn, actor=actor, action="finflows.run", subject=run_id,
                              details={"agency": agency, "rules_version": rules.version,
                                       "rules_digest": rules.digest,
                                       "transactions": result.transactions,
                                       "hits": len(result.hits), "alerts": len(alerts),
                                       "new_alerts": new})
        enqueued = 0
        if enqueue and alerts:
            done = self.queues.enqueue(QUEUE_NAME, agency, [
                (a.alert_id, a.score, score.reasons(a, rules)) for a in alerts], actor=actor)
            enqueued = done.added
        return RunReport(run_id, agency, result.transactions, result.accounts,
                         len(result.hits), alerts, new, enqueued, result.not_assessed, seconds,
                         rules, result.timings)

    # -- reading alerts -------------------------------------------------------------------
    def alerts(self, p: Principal, *, run_id: str | None = None) -> list[dict[str, Any]]:
        """The alerts of the agency's latest run (or ``run_id``), references only; audited."""
        may_read(p, QUEUE)
        with self.engine.begin() as conn:
            run = db.latest_run(conn, p.agency) if run_id is None else None
            chosen = run_id or (run.run_id if run is not None else None)
            if chosen is None:
                return []
            rows = db.alerts_of_run(conn, p.agency, chosen)
            self.audit.append(conn, actor=_actor(p), action="finflows.alerts", subject=chosen,
                              details={"shown": len(rows), "role": p.role.value})
        return [stored_alert(r) for r in rows]

    def alert(self, p: Principal, alert_id: str) -> dict[str, Any]:
        may_read(p, QUEUE)
        with self.engine.begin() as conn:
            row = db.alert_row(conn, p.agency, alert_id)
            if row is None:
                raise NotFoundError("no alert {alert_id} is visible to you",
                                    params={"alert_id": repr(alert_id)})
            self.audit.append(conn, actor=_actor(p), action="finflows.alert.read",
                              subject=alert_id, details={"role": p.role.value})
        return stored_alert(row)

    def _identities(self, conn: sa.Connection, p: Principal, refs: list[int], reason: str,
                    action: str) -> dict[int, ftm.AccountInfo]:
        """Open account numbers and holders' names (audited, with the reason's keyed hash)."""
        if not reason or not reason.strip():
            raise ValidationError("opening account identities needs a reason",
                                  column="reason", hint="say why, e.g. the case or request")
        out = {}
        for r in db.account_rows(conn, p.agency, refs):
            number = (self.sealer.open(r.number_sealed,
                                       context=db.account_number_context(r.account_ref))
                      if r.number_sealed else None)
            name = None
            if r.party_name is not None:
                name = self.sealer.open(r.party_name,
                                        context=db.party_name_context(r.party_ref))
            elif r.name_sealed is not None:
                name = self.sealer.open(r.name_sealed,
                                        context=db.account_name_context(r.account_ref))
            out[r.account_ref] = ftm.AccountInfo(r.account_ref, bool(r.holder),
                                                 r.customer_type, number, name)
        self.audit.append(conn, actor=_actor(p), action=action, subject=p.agency,
                          details={"accounts": sorted(out), "role": p.role.value,
                                   "reason_hash": self.pseudonymiser.keyed_hash(
                                       "finflows.reason", reason.strip().encode())[:16]})
        return out

    def evidence_rows(self, conn: sa.Connection, agency: str, alerts: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
        ids = sorted({i for a in alerts for h in a["hits"] for i in h["evidence"]})
        return [dict(r._mapping) for r in db.transactions_by_id(conn, agency, ids)]

    def export_ftm(self, p: Principal, out: Path, *, identities: bool = False,
                   reason: str | None = None, run_id: str | None = None) -> int:
        """Write the alerts of a run as an FtM entity stream (newline-delimited JSON)."""
        if identities and p.role.value not in ("supervisor", "investigator"):
            raise PermissionDeniedError("only a supervisor or investigator opens identities")
        alerts = self.alerts(p, run_id=run_id)
        with self.engine.begin() as conn:
            evidence = self.evidence_rows(conn, p.agency, alerts)
            refs = sorted({a["account_ref"] for a in alerts}
                          | {t["account_ref"] for t in evidence}
                          | {t["counterparty_ref"] for t in evidence
                             if t["counterparty_ref"] is not None})
            if identities:
                info = self._identities(conn, p, refs, reason or "", "finflows.export.identity")
            else:
                info = {r.account_ref: ftm.AccountInfo(r.account_ref, bool(r.holder),
                                                       r.customer_type)
                        for r in db.account_rows(conn, p.agency, refs)}
            items = ftm.entities(alerts, info, evidence)
            self.audit.append(conn, actor=_actor(p), action="finflows.export",
                              subject=str(out.name), details={"format": "ftm",
                                                              "entities": len(items),
                                                              "identities": identities})
        out.write_text(ftm.to_lines(items), encoding="utf-8")
        return len(items)

    def export_csv(self, p: Principal, out: Path, *, run_id: str | None = None) -> int:
        alerts = self.alerts(p, run_id=run_id)
        out.write_text(score.alerts_csv(_alerts_back(alerts)), encoding="utf-8")
        return len(alerts)

    def sar_draft(self, p: Principal, item_id: str, *, identities: bool = False,
                  reason: str | None = None, rules: RuleSet | None = None) -> str:
        """A draft SAR for a review item whose current decision is accept."""
        item = self.queues.item(p, item_id)
        if item.queue != QUEUE_NAME:
            raise NotFoundError("no financial-flow alert item {item_id}",
                                params={"item_id": repr(item_id)})
        if item.current is None or item.current.decision != "accept":
            raise ValidationError("a SAR draft is written for an accepted alert only",
                                  column="decision",
                                  hint="accept the alert first: ctip finflows review --decide")
        alert = self.alert(p, item.subject)
        with self.engine.begin() as conn:
            evidence = self.evidence_rows(conn, p.agency, [alert])
            subject = f"account reference {alert['account_ref']} (identity not opened)"
            if identities:
                info = self._identities(conn, p, [alert["account_ref"]], reason or "",
                                        "finflows.sar.identity")[alert["account_ref"]]
                subject = f"{info.name or 'unnamed holder'}, account {info.number}"
            self.audit.append(conn, actor=_actor(p), action="finflows.sar", subject=item_id,
                              details={"alert": alert["alert_id"], "identities": identities})
        return sar.draft(alert, rules=rules or shipped_rules(), transactions=evidence,
                         subject=subject, decided_by=item.current.actor,
                         decided_at=item.current.at.isoformat(timespec="minutes"))


def _actor(p: Principal) -> str:
    return f"{p.username}@{p.agency}"


def alert_row(alert: score.Alert) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "account_ref": alert.account, "score": alert.score,
            "rules_json": json.dumps(list(alert.rules)),
            "hits_json": json.dumps([hit_dict(h) for h in alert.hits], sort_keys=True)}


def hit_dict(h: detect.Hit) -> dict[str, Any]:
    return {"rule_id": h.rule_id, "rule_version": h.rule_version,
            "window_start": h.window_start.isoformat(), "window_end": h.window_end.isoformat(),
            "figures": h.figures, "evidence": list(h.evidence),
            "evidence_count": h.evidence_count}


def stored_alert(row: Any) -> dict[str, Any]:
    return {"alert_id": row.alert_id, "account_ref": int(row.account_ref),
            "score": float(row.score), "rules": json.loads(row.rules_json),
            "hits": json.loads(row.hits_json), "first_run_id": row.first_run_id,
            "last_run_id": row.last_run_id}


def _alerts_back(alerts: list[dict[str, Any]]) -> list[score.Alert]:
    out = []
    for a in alerts:
        hits = tuple(detect.Hit(h["rule_id"], h["rule_version"], a["account_ref"],
                                datetime.fromisoformat(h["window_start"]),
                                datetime.fromisoformat(h["window_end"]), h["figures"],
                                tuple(h["evidence"]), h["evidence_count"]) for h in a["hits"])
        out.append(score.Alert(a["alert_id"], a["account_ref"], a["score"], tuple(a["rules"]),
                               hits))
    return out


def load_rules(path: Path | None) -> RuleSet:
    if path is None:
        return shipped_rules()
    return parse_rules(path.read_bytes(), source_name=path.name)
