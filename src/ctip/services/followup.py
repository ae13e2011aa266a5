"""Follow-up use cases (para 31): cycles, evidence, scores as immutable snapshots, comparisons.

Who may do what (``domain.access``): a *coordinator* opens cycles, enters and withdraws evidence,
scores and closes cycles; a *reviewer* accepts or rejects evidence someone else entered (four
eyes: never their own). Both read. Only accepted evidence enters a score; submitted evidence is
shown as waiting. Every change and every score is audited in the same transaction (ids, codes,
grades and hashes; evidence values are public facts but stay out of the log).

Attached files: only their SHA-256 (and name) is stored now; ``Attachments`` is the one seam
through which the evidence locker (issue 14) will later take the file itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from ctip.domain.access import Action, Principal, require_role
from ctip.errors import ConflictError, InputFileError, NotFoundError, PermissionDeniedError
from ctip.errors import ValidationError as Invalid
from ctip.followup import catalogue, cycles, rules
from ctip.followup.model import INFO_GRADES, SOURCE_GRADES, Evidence, Framework, RuleSet
from ctip.followup.scoring import Weights
from ctip.settings import Settings
from ctip.storage import followup as db
from ctip.storage.audit import AuditLog
from ctip.storage.repository import CaseStore

KINDS = ("annual", "quadrennial")
SOURCE_KINDS = ("law", "policy", "statistics", "report", "budget", "treaty", "ctip", "other")
SCORED_STATUSES = ("accepted", "submitted")
GRADES = tuple(f"{s}{c}" for s in SOURCE_GRADES for c in INFO_GRADES)
CYCLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")


def _now() -> datetime:
    return datetime.now(UTC)


def _actor(p: Principal) -> str:
    return f"{p.username}@{p.agency}"


@dataclass(frozen=True)
class Attachment:
    sha256: str
    name: str
    size: int
    locker_ref: str | None = None


class Attachments(Protocol):
    """Where an evidence file goes. ``put`` returns its hash (and a locker reference, once the
    evidence locker keeps the file; until then ``None``)."""

    def put(self, path: Path, *, evidence_id: str, actor: str) -> Attachment: ...


class HashOnlyAttachments:
    """Records the file's SHA-256 and name; keeps no copy (the evidence locker will)."""

    def put(self, path: Path, *, evidence_id: str, actor: str) -> Attachment:
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as error:
            raise InputFileError("cannot read the attachment {path}: {why}",
                                 hint="check the path and that you may read the file",
                                 params={"path": path, "why": error.strerror}) from error
        return Attachment(digest, path.name, path.stat().st_size)


@dataclass(frozen=True)
class Scored:
    assessment_id: str
    result: dict[str, Any]
    inputs_sha256: str
    result_sha256: str
    new: bool


def catalogue_framework(version: str = catalogue.DEFAULT_VERSION) -> Framework:
    """The commitment catalogue (for listing; scoring loads it per cycle)."""
    return catalogue.declaration(version)


def read_weights(path: Path) -> Weights:
    """A declared weight set from JSON ``{"name": ..., "weights": {"P8": 2, ...}}``."""
    try:
        weights = _weights(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Invalid("cannot read the weights: {error}", file=str(path),
                      hint='write {{"name": "...", "weights": {{"P8": 2}}}}',
                      params={"error": error}) from error
    if weights is None:
        raise Invalid("the weights file declares no weights", file=str(path))
    return weights


def _weights(data: Mapping[str, Any] | None) -> Weights | None:
    if not data:
        return None
    return Weights(str(data.get("name") or "declared"),
                   {str(k): float(v) for k, v in dict(data["weights"]).items()})


class FollowUp:
    """The follow-up records of one store."""

    def __init__(self, engine: sa.Engine, audit: AuditLog | None = None, *,
                 attachments: Attachments | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self.engine, self.audit = engine, audit or AuditLog()
        self.attachments = attachments or HashOnlyAttachments()
        self.clock = clock

    @classmethod
    def of(cls, store: Any, **kwargs: Any) -> FollowUp:
        return cls(store.engine, store.audit, **kwargs)

    @classmethod
    def open(cls, settings: Settings) -> FollowUp:
        return cls.of(CaseStore.open(settings, actor="followup"))

    def close(self) -> None:
        self.engine.dispose()

    # ---- cycles ---------------------------------------------------------------------------
    def new_cycle(self, p: Principal, *, country: str, period_start: date, period_end: date,
                  kind: str = "quadrennial", cycle_id: str | None = None,
                  framework_version: str = catalogue.DEFAULT_VERSION,
                  rules_id: str = catalogue.DEFAULT_RULES,
                  rules_version: str = catalogue.DEFAULT_RULES_VERSION) -> db.CycleRow:
        require_role(p, Action.FOLLOWUP_EDIT)
        if kind not in KINDS:
            raise Invalid("unknown cycle kind", column="kind", value=kind,
                          allowed=", ".join(KINDS))
        if period_end < period_start:
            raise Invalid("the period ends before it starts", column="period_end",
                          value=period_end.isoformat())
        catalogue.framework_for(catalogue.DEFAULT_FRAMEWORK, framework_version)
        catalogue.rule_set(rules_id, rules_version)
        country = country.strip()
        if not country:
            raise Invalid("name the country", column="country")
        cycle_id = cycle_id or f"{country}-{period_start.year}-{period_end.year}"
        if not CYCLE_ID.match(cycle_id):
            raise Invalid("a cycle id is letters, digits, '.', '_' or '-'", column="cycle",
                          value=cycle_id)
        with self.engine.begin() as conn:
            if db.cycle(conn, cycle_id) is not None:
                raise ConflictError("cycle {cycle} exists already",
                                    hint="give another id with --id, or use the existing cycle",
                                    params={"cycle": repr(cycle_id)})
            db.add_cycle(conn, cycle_id=cycle_id, country=country, period_start=period_start,
                         period_end=period_end, kind=kind,
                         framework_id=catalogue.DEFAULT_FRAMEWORK,
                         framework_version=framework_version, rules_id=rules_id,
                         rules_version=rules_version, created_by=_actor(p),
                         created_at=self.clock())
            self.audit.append(conn, actor=_actor(p), action="followup.cycle.create",
                              subject=cycle_id, details={"country": country, "kind": kind})
            row = db.cycle(conn, cycle_id)
        assert row is not None
        return row

    def cycles(self, p: Principal, country: str | None = None) -> list[db.CycleRow]:
        require_role(p, Action.FOLLOWUP_READ)
        with self.engine.connect() as conn:
            return db.cycles(conn, country)

    def _cycle(self, conn: sa.Connection, cycle_id: str) -> db.CycleRow:
        row = db.cycle(conn, cycle_id)
        if row is None:
            raise NotFoundError("no follow-up cycle {cycle}",
                                hint="list cycles with `ctip followup cycle list`",
                                params={"cycle": repr(cycle_id)})
        return row

    def cycle(self, p: Principal, cycle_id: str) -> db.CycleRow:
        require_role(p, Action.FOLLOWUP_READ)
        with self.engine.connect() as conn:
            return self._cycle(conn, cycle_id)

    @staticmethod
    def framework_of(row: db.CycleRow) -> tuple[Framework, RuleSet]:
        return (catalogue.framework_for(row.framework_id, row.framework_version),
                catalogue.rule_set(row.rules_id, row.rules_version))

    # ---- evidence -------------------------------------------------------------------------
    def add_evidence(self, p: Principal, cycle_id: str, *, indicator: str, value: str,
                     as_of: date | None, citation: str, source_kind: str = "report",
                     reliability: str = "B", credibility: str = "2", unit: str | None = None,
                     file: Path | None = None) -> str:
        require_role(p, Action.FOLLOWUP_EDIT)
        with self.engine.begin() as conn:
            row = self._cycle(conn, cycle_id)
            if row.status != "open":
                raise ConflictError("cycle {cycle} is closed: its snapshot is final",
                                    hint="open a new cycle for new evidence",
                                    params={"cycle": repr(cycle_id)})
            framework, rule_set = self.framework_of(row)
            code = indicator.strip().upper()
            if code not in framework.indicators:
                raise Invalid("{code} is not an indicator of {framework}",
                              column="indicator", value=indicator,
                              hint="list them with `ctip followup catalogue --indicators`",
                              params={"code": repr(code), "framework": framework.key})
            rules.check_value(framework.indicators[code], rule_set, value)
            rules.check_grade(reliability, credibility)
            if source_kind not in SOURCE_KINDS:
                raise Invalid("unknown kind of source", column="source_kind", value=source_kind,
                              allowed=", ".join(SOURCE_KINDS))
            if not citation.strip():
                raise Invalid("cite the source (document, article, table, URL)",
                              column="citation")
            evidence_id = db.add_evidence(
                conn, cycle_id=cycle_id, indicator_code=code, value=value.strip(),
                unit=unit or framework.indicators[code].unit, as_of=as_of,
                source_kind=source_kind, citation=citation.strip(), file_sha256=None,
                file_name=None, locker_ref=None, reliability=reliability,
                credibility=credibility, status="submitted", entered_by=_actor(p),
                entered_at=self.clock(), reviewed_by=None, reviewed_at=None, review_note=None)
            attached = None
            if file is not None:
                attached = self.attachments.put(file, evidence_id=evidence_id, actor=_actor(p))
                conn.execute(db.followup_evidence.update()
                             .where(db.followup_evidence.c.evidence_id == evidence_id)
                             .values(file_sha256=attached.sha256, file_name=attached.name,
                                     locker_ref=attached.locker_ref))
            self.audit.append(conn, actor=_actor(p), action="followup.evidence.add",
                              subject=evidence_id,
                              details={"cycle": cycle_id, "indicator": code,
                                       "grade": f"{reliability}{credibility}",
                                       "file_sha256": attached.sha256 if attached else None})
        return evidence_id

    def evidence(self, p: Principal, cycle_id: str) -> list[dict[str, Any]]:
        require_role(p, Action.FOLLOWUP_READ)
        with self.engine.connect() as conn:
            self._cycle(conn, cycle_id)
            return db.evidence(conn, cycle_id)

    def _change_status(self, p: Principal, evidence_id: str, status: str, note: str | None,
                       *, review: bool) -> None:
        with self.engine.begin() as conn:
            item = db.evidence_item(conn, evidence_id)
            if item is None:
                raise NotFoundError("no evidence item {evidence}",
                                    hint="list a cycle's evidence with `ctip followup evidence "
                                    "list --cycle ID`", params={"evidence": repr(evidence_id)})
            if self._cycle(conn, item["cycle_id"]).status != "open":
                raise ConflictError("the cycle is closed: its evidence can no longer change")
            if review:
                if item["status"] != "submitted":
                    raise ConflictError("evidence {evidence} is {status}, not waiting for review",
                                        params={"evidence": evidence_id,
                                                "status": item["status"]})
                if item["entered_by"] == _actor(p):
                    raise PermissionDeniedError("you entered this evidence: another person "
                                                "must review it", hint="ask a second reviewer")
            elif item["status"] == "withdrawn":
                raise ConflictError("evidence {evidence} is withdrawn already",
                                params={"evidence": evidence_id})
            db.set_evidence_status(conn, evidence_id, status=status, by=_actor(p),
                                   at=self.clock(), note=note)
            self.audit.append(conn, actor=_actor(p), action=f"followup.evidence.{status}",
                              subject=evidence_id, details={"cycle": item["cycle_id"],
                                                            "indicator": item["indicator_code"]})

    def review(self, p: Principal, evidence_id: str, *, accept: bool,
               note: str | None = None) -> None:
        require_role(p, Action.FOLLOWUP_REVIEW)
        if not accept and not (note or "").strip():
            raise Invalid("say why the evidence is rejected", column="note")
        self._change_status(p, evidence_id, "accepted" if accept else "rejected", note,
                            review=True)

    def withdraw(self, p: Principal, evidence_id: str, *, reason: str) -> None:
        """Take an item out of the scoring; it stays on record with the reason."""
        require_role(p, Action.FOLLOWUP_EDIT)
        if not reason.strip():
            raise Invalid("say why the evidence is withdrawn", column="reason")
        self._change_status(p, evidence_id, "withdrawn", reason, review=False)

    # ---- scoring --------------------------------------------------------------------------
    def _inputs(self, conn: sa.Connection, row: db.CycleRow,
                weights: Weights | None) -> dict[str, Any]:
        framework, rule_set = self.framework_of(row)
        items = [Evidence(evidence_id=e["evidence_id"], indicator=e["indicator_code"],
                          value=e["value"], unit=e["unit"],
                          as_of=e["as_of"].isoformat() if e["as_of"] else "",
                          source=e["reliability"], credibility=e["credibility"],
                          citation=e["citation"], status=e["status"])
                 for e in db.evidence(conn, row.cycle_id, statuses=SCORED_STATUSES)]
        info = cycles.CycleInfo(row.cycle_id, row.country, row.period_start.isoformat(),
                                row.period_end.isoformat(), row.kind)
        return cycles.inputs(framework, rule_set, info, items, weights)

    def score(self, p: Principal, cycle_id: str, *, weights: Weights | None = None,
              save: bool = True) -> Scored:
        """Score the cycle's evidence now; the snapshot is stored once per distinct inputs."""
        require_role(p, Action.FOLLOWUP_EDIT if save else Action.FOLLOWUP_READ)
        with self.engine.begin() as conn:
            row = self._cycle(conn, cycle_id)
            framework, rule_set = self.framework_of(row)
            snap = cycles.snapshot(framework, rule_set, self._inputs(conn, row, weights))
            result = json.loads(snap.result_json)
            if not save:
                return Scored("", result, snap.inputs_sha256, snap.result_sha256, False)
            found = db.assessment_for_inputs(conn, cycle_id, snap.inputs_sha256)
            if found is not None:
                return Scored(found.assessment_id, json.loads(found.result_json),
                              found.inputs_sha256, found.result_sha256, False)
            assessment_id = db.add_assessment(
                conn, cycle_id=cycle_id, inputs_sha256=snap.inputs_sha256,
                result_sha256=snap.result_sha256, inputs_json=snap.inputs_json,
                result_json=snap.result_json, framework_key=framework.key,
                rules_key=rule_set.key, computed_by=_actor(p), computed_at=self.clock())
            self.audit.append(conn, actor=_actor(p), action="followup.score", subject=cycle_id,
                              details={"assessment": assessment_id,
                                       "inputs_sha256": snap.inputs_sha256,
                                       "result_sha256": snap.result_sha256})
        return Scored(assessment_id, result, snap.inputs_sha256, snap.result_sha256, True)

    def snapshots(self, p: Principal, cycle_id: str) -> list[db.AssessmentRow]:
        require_role(p, Action.FOLLOWUP_READ)
        with self.engine.connect() as conn:
            self._cycle(conn, cycle_id)
            return db.assessments(conn, cycle_id)

    def verify(self, p: Principal, cycle_id: str) -> list[tuple[str, bool]]:
        """Recompute every stored snapshot of the cycle from its stored inputs: identical bytes?"""
        out = []
        for snap in self.snapshots(p, cycle_id):
            with self.engine.connect() as conn:
                framework, rule_set = self.framework_of(self._cycle(conn, cycle_id))
            again = cycles.recompute(framework, rule_set, snap.inputs_json)
            out.append((snap.assessment_id, again == snap.result_json))
        return out

    def close_cycle(self, p: Principal, cycle_id: str) -> Scored:
        scored = self.score(p, cycle_id)
        with self.engine.begin() as conn:
            if self._cycle(conn, cycle_id).status != "open":
                raise ConflictError("cycle {cycle} is closed already",
                                    params={"cycle": repr(cycle_id)})
            db.close_cycle(conn, cycle_id, self.clock(), scored.assessment_id)
            self.audit.append(conn, actor=_actor(p), action="followup.cycle.close",
                              subject=cycle_id, details={"assessment": scored.assessment_id})
        return scored

    def latest(self, p: Principal, cycle_id: str) -> dict[str, Any]:
        """The cycle's final snapshot if closed, else its latest one."""
        with self.engine.connect() as conn:
            row = self._cycle(conn, cycle_id)
        snaps = self.snapshots(p, cycle_id)
        if not snaps:
            raise NotFoundError("cycle {cycle} has no assessment yet",
                                hint="score it: `ctip followup score --cycle {cycle_id}`",
                                params={"cycle": repr(cycle_id), "cycle_id": cycle_id})
        chosen = next((s for s in snaps if s.assessment_id == row.final_assessment_id), snaps[-1])
        result: dict[str, Any] = json.loads(chosen.result_json)
        return result

    def compare(self, p: Principal, old_cycle: str, new_cycle: str) -> dict[str, Any]:
        old, new = self.latest(p, old_cycle), self.latest(p, new_cycle)
        walk = None
        old_key = f"{old['framework']['id']} v{old['framework']['version']}"
        new_key = f"{new['framework']['id']} v{new['framework']['version']}"
        if old_key != new_key:
            with self.engine.connect() as conn:
                entries = db.crosswalk(conn, old_key, new_key)
            walk = cycles.Crosswalk(old_key, new_key, entries) if entries else None
        with self.engine.connect() as conn:
            framework, _ = self.framework_of(self._cycle(conn, new_cycle))
        harm = frozenset(c for c, i in framework.indicators.items() if i.harm)
        return cycles.change_report(old, new, harm_codes=harm, crosswalk=walk)

    def declare_crosswalk(self, p: Principal, from_key: str, to_key: str,
                          entries: Iterable[tuple[str, str, bool]]) -> int:
        require_role(p, Action.FOLLOWUP_EDIT)
        with self.engine.begin() as conn:
            n = db.put_crosswalk(conn, from_key, to_key, list(entries), by=_actor(p),
                                 at=self.clock())
            self.audit.append(conn, actor=_actor(p), action="followup.crosswalk.declare",
                              subject=f"{from_key} -> {to_key}", details={"entries": n})
        return n
