"""Supply-chain use cases (para 30): load lists, screen purchase ledgers, review, record findings.

A screen reads a ledger (read = accepted + rejected), runs ``ctip.supply.screen`` against the
agency's active lists (the shipped DOL 2022 edition when none was loaded), stores the run, its
rejects and its hit groups, and puts every group scoring at least ``queue_above`` on the shared
review queue ``supply.hits`` with reasons that carry the list's label, edition and version. A hit
is sector and geography risk, not an allegation: the queue's caveat says so on every page.
Worker-level findings (audits, grievances) are recorded against the ILO 11 indicators, may link a
victim case and an evidence item of the agency, and keep their notes sealed. Every load, screen,
read and decision is audited.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Principal
from ctip.domain.review import Reason, ReviewItem, may_read
from ctip.domain.supply import (
    CAVEAT,
    QUEUE_NAME,
    SUPPLY_QUEUE,
    Finding,
    check_finding,
)
from ctip.errors import InputFileError, NotFoundError, ValidationError
from ctip.services.review import ReviewQueues
from ctip.services.store_service import StoreService
from ctip.settings import Settings
from ctip.storage import supply as db
from ctip.storage.casework import get_case_row
from ctip.supply import entities as entity_lists
from ctip.supply import reference
from ctip.supply.purchases import read_purchases
from ctip.supply.screen import hit_groups, screen

__all__ = ["CAVEAT", "QUEUE_NAME", "DueDiligence", "ScreenReport", "SupplyChains"]
FLAG_WORDS = {"child_labor": "child labour", "forced_labor": "forced labour",
              "forced_child_labor": "forced child labour", "derived": "made with listed inputs"}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputFileError("{path} cannot be read: {strerror}",
                             params={"path": path, "strerror": error.strerror}) from None


@dataclass
class ScreenReport:
    run_id: str
    file: str
    read: int
    accepted: int
    rejected: int
    unmatched_goods: int
    hits: int
    groups: int
    queued: int
    already_queued: int
    lists: dict[str, str]
    edition: int
    rejects: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class DueDiligence:
    """A queue item with the hit group behind it."""

    item: ReviewItem
    group: dict[str, Any]


def subject_of(agency: str, g: dict[str, Any]) -> str:
    key = "\x00".join(str(g.get(k) or "") for k in (
        "supplier", "rule", "good", "hit_country", "entity_id", "list_label"))
    return "supply:" + hashlib.sha256(f"{agency}\x00{key}".encode()).hexdigest()[:32]


def describe(g: dict[str, Any]) -> str:
    flags = ", ".join(FLAG_WORDS.get(f, f) for f in (g.get("flags") or "").split(",") if f)
    edition = g.get("edition")
    if g["rule"] == "entity_list":
        return (f"Supplier name matches {g.get('matched_name')!s} on {g['list_label']} "
                f"(similarity {g['score']:.2f}): compare name, address and identifiers.")
    if g["rule"] == "dol.upstream":
        return (f"An input on the path {g.get('path')} is on the DOL List ({edition} edition) "
                f"for {flags}. Sector and geography risk, not an allegation.")
    return (f"{g.get('good')} from {g.get('hit_country')} is on the DOL List ({edition} edition) "
            f"for {flags}. Sector and geography risk, not an allegation.")


def reasons_of(g: dict[str, Any]) -> list[Reason]:
    code = {"entity_list": "SUPPLY-ENTITY", "dol.upstream": "SUPPLY-DOL-UPSTREAM"}.get(
        g["rule"], "SUPPLY-DOL")
    figures = {k: g[k] for k in ("list_label", "list_version", "edition", "lines", "score",
                                 "good", "hit_country", "flags", "path", "entity_id",
                                 "matched_by") if g.get(k) is not None}
    if g.get("value") is not None:
        figures["value"] = round(float(g["value"]), 2)
    return [Reason(code, describe(g), figures,
                   tuple(f"line {r}" for r in json.loads(g["rows_json"])))]


class SupplyChains(StoreService):
    """The supply-chain module of one store (its engine, sealing key ring and audit log)."""

    @classmethod
    def open(cls, settings: Settings) -> SupplyChains:
        from ctip import storage

        return storage.open(settings).repository(cls.of)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def queues(self) -> ReviewQueues:
        return ReviewQueues(self.engine, self.sealer, self.audit)

    # -- lists ----------------------------------------------------------------------------
    def load_dol(self, path: Path | None, *, agency: str, actor: str,
                 edition: int = reference.SHIPPED_EDITION) -> dict[str, Any]:
        """Load a DOL List file (CSV or XML), or the shipped 2022 edition, as the active one."""
        if path is None:
            risk, data, name = reference.shipped_list(), b"shipped", "dol_goods_2022.csv"
        else:
            data, name = _read(path), path.name
            risk = reference.read_dol(path, edition=edition)
        content = [e.__dict__ for e in risk.entries]
        return self._store_list(agency, actor, kind="dol", label=risk.name, list_kind=None,
                                version=risk.version, edition=risk.edition, source=name,
                                data=data, content=content)

    def load_entities(self, path: Path, *, agency: str, actor: str, label: str,
                      kind: str = "other", fmt: str | None = None) -> dict[str, Any]:
        data = _read(path)
        load = entity_lists.read_entities(data, source_name=path.name, label=label, kind=kind,
                                          fmt=fmt)
        if not load.entity_list.entities:
            # the first rejected row's reasons (English: the readers' row texts) as the hint
            hint = None
            if load.rejects:
                hint = "{reasons}"
            raise InputFileError("{file}: no entity could be read", hint=hint,
                                 params={"file": path.name,
                                         "reasons": "; ".join(load.rejects[0]["reasons"])
                                         if load.rejects else ""})
        content = [e.__dict__ for e in load.entity_list.entities]
        info = self._store_list(agency, actor, kind="entities", label=label, list_kind=kind,
                                version=load.entity_list.version, edition=None,
                                source=path.name, data=data, content=content)
        info.update(read=load.read, rejected=len(load.rejects), rejects=load.rejects)
        return info

    def _store_list(self, agency: str, actor: str, *, kind: str, label: str,
                    list_kind: str | None, version: str, edition: int | None, source: str,
                    data: bytes, content: list[dict[str, Any]]) -> dict[str, Any]:
        list_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            db.insert_list(conn, list_id=list_id, agency=agency, kind=kind, label=label,
                           list_kind=list_kind, version=version, edition=edition,
                           source_file=source, file_sha256=hashlib.sha256(data).hexdigest(),
                           entries=len(content), content_json=db.dumps(content), active=True,
                           loaded_by=actor, loaded_at=self.clock())
            self.audit.append(conn, actor=actor, action="supply.list.load", subject=list_id,
                              details={"agency": agency, "kind": kind, "label": label,
                                       "version": version, "entries": len(content)})
        return {"list_id": list_id, "kind": kind, "label": label, "version": version,
                "edition": edition, "entries": len(content), "accepted": len(content)}

    def lists(self, agency: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in db.all_lists(conn, agency)]

    def _active(self, conn: sa.Connection, agency: str) -> tuple[Any, list[Any]]:
        rows = db.active_lists(conn, agency)
        dol = [r for r in rows if r.kind == "dol"]
        if dol:
            entries = tuple(reference.ListEntry(**e) for e in json.loads(dol[0].content_json))
            risk = reference.RiskList(dol[0].label, dol[0].edition, entries, dol[0].version)
        else:
            risk = reference.shipped_list()
        lists = []
        for r in rows:
            if r.kind != "entities":
                continue
            found = tuple(entity_lists.ListedEntity(**{**e, "aliases": tuple(e["aliases"])})
                          for e in json.loads(r.content_json))
            lists.append(entity_lists.EntityList(r.label, r.list_kind or "other", found,
                                                 r.version, "stored"))
        return risk, lists

    # -- screening --------------------------------------------------------------------------
    def screen(self, path: Path, *, agency: str, actor: str, queue_above: float = 0.5,
               threshold: float = 0.88) -> ScreenReport:
        import time

        started = time.perf_counter()
        data = _read(path)
        purchases = read_purchases(data, source_name=path.name)
        with self.engine.connect() as conn:
            risk, lists = self._active(conn, agency)
        result = screen(purchases, risk, reference.shipped_crosswalk(), lists,
                        threshold=threshold)
        groups = hit_groups(result)
        run_id = str(uuid.uuid4())
        rows = []
        for g in groups:
            g["rows_json"] = json.dumps(list(g.pop("rows")))
            g["subject"] = subject_of(agency, g)
            rows.append({**g, "group_id": str(uuid.uuid4()), "run_id": run_id,
                         "agency": agency, "lines": int(g["lines"])})
        with self.engine.begin() as conn:
            db.insert_run(conn, run_id=run_id, agency=agency, source_file=path.name,
                          file_sha256=hashlib.sha256(data).hexdigest(), read_count=result.read,
                          accepted_count=result.accepted, rejected_count=result.rejected,
                          unmatched_count=result.unmatched_goods, hit_count=result.hits.num_rows,
                          lists_json=db.dumps(result.lists), edition=result.edition,
                          actor=actor, started_at=self.clock())
            db.insert_rejects(conn, [{"reject_id": str(uuid.uuid4()), "run_id": run_id,
                                      "source_row": r["row"], "reasons": db.dumps(r["reasons"])}
                                     for r in result.rejects])
            db.insert_groups(conn, rows)
            self.audit.append(conn, actor=actor, action="supply.screen", subject=run_id,
                              details={"agency": agency, "file": path.name, "read": result.read,
                                       "accepted": result.accepted,
                                       "rejected": result.rejected, "groups": len(rows),
                                       "lists": result.lists})
        queued = self.queues.enqueue(QUEUE_NAME, agency, (
            (g["subject"], float(g["score"]), reasons_of(g))
            for g in groups if g["score"] >= queue_above), actor=actor)
        return ScreenReport(run_id, path.name, result.read, result.accepted, result.rejected,
                            result.unmatched_goods, result.hits.num_rows, len(groups),
                            queued.added, queued.already_queued, result.lists, result.edition,
                            result.rejects, round(time.perf_counter() - started, 3))

    # -- review -----------------------------------------------------------------------------
    def queue(self, p: Principal, *, open_only: bool = True, limit: int = 50,
              offset: int = 0) -> list[DueDiligence]:
        found = self.queues.items(p, QUEUE_NAME, open_only=open_only, limit=limit, offset=offset)
        with self.engine.connect() as conn:
            groups = db.latest_groups(conn, p.agency, [i.subject for i in found])
        return [DueDiligence(i, dict(groups[i.subject]._mapping)) for i in found
                if i.subject in groups]

    def counts(self, p: Principal) -> dict[str, int]:
        return self.queues.counts(p, QUEUE_NAME)

    def item(self, p: Principal, item_id: str) -> DueDiligence:
        item = self.queues.item(p, item_id)
        if item.queue != QUEUE_NAME:
            raise NotFoundError("no supply-chain hit {item_id} is visible to you",
                                params={"item_id": repr(item_id)})
        with self.engine.connect() as conn:
            group = db.latest_groups(conn, p.agency, [item.subject]).get(item.subject)
        if group is None:
            raise NotFoundError("no supply-chain hit {item_id} is visible to you",
                                params={"item_id": repr(item_id)})
        return DueDiligence(item, dict(group._mapping))

    def decide(self, p: Principal, item_id: str, decision: str, *,
               reason: str | None = None) -> ReviewItem:
        self.item(p, item_id)
        return self.queues.decide(p, item_id, decision, reason=reason)

    def groups(self, p: Principal, *, run_id: str | None = None) -> tuple[Any, list[dict]]:
        """The latest (or named) run of the agency and its hit groups (audited)."""
        may_read(p, SUPPLY_QUEUE)
        with self.engine.begin() as conn:
            run = db.run_row(conn, p.agency, run_id)
            if run is None:
                raise NotFoundError("no screening run is visible to you",
                                    hint="run `ctip supply screen purchases.csv` first")
            found = [dict(r._mapping) for r in db.groups(conn, p.agency, run_id=run.run_id)]
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="supply.read",
                              subject=run.run_id, details={"groups": len(found)})
        return run, found

    # -- worker-level findings --------------------------------------------------------------
    def add_finding(self, p: Principal, *, supplier: str, source: str, indicator: str,
                    evidence_type: str, observed_on: date, site: str | None = None,
                    case_id: str | None = None, evidence_item: str | None = None,
                    note: str | None = None) -> Finding:
        may_read(p, SUPPLY_QUEUE)
        check_finding(source, indicator, evidence_type)
        if not supplier.strip():
            raise ValidationError("is empty", column="supplier")
        finding_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            if case_id is not None:
                case = get_case_row(conn, case_id)
                if case is None or case.agency != p.agency:
                    raise NotFoundError("no case {case} is visible to you",
                                        params={"case": repr(case_id)})
            if (evidence_item is not None
                    and db.evidence_item_case(conn, evidence_item) != case_id):
                raise NotFoundError("no evidence item {evidence_item} of that case is visible "
                                    "to you",
                                    hint="give the case the item belongs to (--case)",
                                    params={"evidence_item": repr(evidence_item)})
            text = note.strip() if note and note.strip() else None
            db.insert_finding(conn, finding_id=finding_id, agency=p.agency,
                              supplier=supplier.strip(), site=site, source=source,
                              indicator=indicator, evidence_type=evidence_type,
                              observed_on=observed_on, case_id=case_id,
                              evidence_item=evidence_item,
                              note_sealed=self.sealer.seal(
                                  text, context=db.finding_note_context(finding_id))
                              if text else None,
                              recorded_by=f"{p.username}@{p.agency}", recorded_at=self.clock())
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="supply.finding",
                              subject=finding_id, details={"indicator": indicator,
                                                           "source": source,
                                                           "evidence_type": evidence_type,
                                                           "case": case_id})
        return Finding(finding_id, p.agency, supplier.strip(), source, indicator, evidence_type,
                       observed_on, site, case_id, evidence_item, text,
                       f"{p.username}@{p.agency}")

    def findings(self, p: Principal, supplier: str | None = None, *,
                 with_notes: bool = False) -> list[Finding]:
        may_read(p, SUPPLY_QUEUE)
        with self.engine.begin() as conn:
            rows = db.findings(conn, p.agency, supplier)
            self.audit.append(conn, actor=f"{p.username}@{p.agency}", action="supply.read",
                              subject="findings", details={"findings": len(rows),
                                                           "notes": with_notes})
        return [Finding(r.finding_id, r.agency, r.supplier, r.source, r.indicator,
                        r.evidence_type, r.observed_on, r.site, r.case_id, r.evidence_item,
                        self.sealer.open(r.note_sealed,
                                         context=db.finding_note_context(r.finding_id))
                        if with_notes and r.note_sealed else None, r.recorded_by)
                for r in rows]
