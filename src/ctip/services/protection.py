"""Use cases for protection (identity reveal, emergency access, who viewed), review tasks, the
dashboard, de-identified data and the audit log (part of ``Casework``)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ctip.domain import nrm
from ctip.domain.access import (
    Action,
    Principal,
    Relation,
    fields_to_reveal,
    not_found,
    require_role,
    revealable_identity_fields,
)
from ctip.domain.casework import (
    ReviewTask,
)
from ctip.domain.derive import age_group
from ctip.errors import NotFoundError, ValidationError, WorkflowError
from ctip.services.casework_core import (
    EMERGENCY_MINUTES,
    CaseworkCore,
    Dashboard,
    ViewEntry,
    _id,
    _valid_id,
)
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage import protection as pdb
from ctip.storage import referrals as rdb

if TYPE_CHECKING:
    import sqlalchemy as sa

TIMER_BATCH = 500  # review tasks written per transaction


def _opened_under(work: CaseworkCore, conn: sa.Connection, grants: list[Any]
                  ) -> dict[str, list[dict[str, Any]]]:
    """For each grant, the identity reveals made under it (when, which fields) from the audit
    log, for the supervisor's review."""
    wanted = {g.grant_id for g in grants}
    out: dict[str, list[dict[str, Any]]] = {}
    for case_id in {g.case_id for g in grants}:
        for entry in work.audit.entries(conn, subject=case_id, action="identity.reveal"):
            grant_id = entry.details.get("grant_id")
            if isinstance(grant_id, str) and grant_id in wanted:
                out.setdefault(grant_id, []).append(
                    {"at": entry.at, "fields": entry.details.get("fields", [])}
                )
    return out

class ProtectionWork(CaseworkCore):
    """Identity protection, break-glass, timers and oversight."""

    # ---- protection ----

    def reveal_identity(
        self, p: Principal, case_id: str, *, reason: str, fields: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Open the sealed identity for a stated reason, audited: the ``fields`` named (each
        allowed to this user), else every allowed field; under break-glass only the minimum
        that recognises the person (``EMERGENCY_MINIMUM``) unless fields are named, each such
        reveal tied to its grant for the supervisor's review."""
        if len(reason.strip()) < 5:
            raise ValidationError(
                "say why you need to see the identity",
                column="reason",
                hint="a short reason, e.g. 'arranging shelter placement'",
            )
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.IDENTITY_REVEAL)
            allowed = revealable_identity_fields(rel, live.get(p.agency, frozenset()))
            try:
                opened = fields_to_reveal(rel, allowed, tuple(fields) if fields else None)
            except ValueError as wrong:
                raise ValidationError(
                    "you may not open these identity fields of this case",
                    column="fields",
                    value=str(wrong),
                    allowed=", ".join(allowed),
                ) from None
            identity = json.loads(
                self.sealer.open(row.identity_sealed, context=sdb.case_identity_context(case_id))
            )
            emergency = rel is Relation.EMERGENCY
            pdb.record_view(
                conn,
                case_id=case_id,
                user_id=p.user_id,
                username=p.username,
                agency=p.agency,
                action="emergency identity" if emergency else "identity",
            )
            extra = (
                {"grant_id": pdb.live_grant_id(conn, case_id, p.user_id, self.clock())}
                if emergency
                else {}
            )
            self._audit(
                conn,
                p,
                "identity.reveal",
                case_id,
                relation=rel.value,
                fields=list(opened),
                reason_id=self._access_reason(conn, case_id, "identity.reveal", reason),
                **extra,
            )
            return {f: identity.get(f) for f in opened}

    def emergency_access(self, p: Principal, case_id: str, *, justification: str) -> dict[str, Any]:
        """Break-glass: read a case outside your scope for 60 minutes; supervisors review it
        after."""
        require_role(p, Action.EMERGENCY_ACCESS)
        if len(justification.strip()) < 20:
            raise ValidationError(
                "emergency access needs a justification of at least 20 characters",
                column="justification",
            )
        with self._tx() as conn:
            row = db.get_case_row(conn, case_id) if _valid_id(case_id) else None
            if row is None:
                raise not_found(case_id)
            if row.agency == p.agency:
                raise WorkflowError("this case is your agency's: open it normally")
            at = self.clock()
            grant_id = _id()
            pdb.insert_grant(
                conn,
                grant_id=grant_id,
                case_id=case_id,
                user_id=p.user_id,
                agency=p.agency,
                granted_at=at,
                expires_at=at + timedelta(minutes=EMERGENCY_MINUTES),
                justification_sealed=self.sealer.seal(
                    justification, context=sdb.grant_context(grant_id)
                ),
            )
            case = db.case_from_row(row)
            self._task(conn, case, "review_emergency_access", 1, detail=f"grant {grant_id}")
            self._audit(
                conn, p, "emergency.access", case_id, grant_id=grant_id, minutes=EMERGENCY_MINUTES
            )
            return {
                "grant_id": grant_id,
                "case_id": case_id,
                "expires_at": at + timedelta(minutes=EMERGENCY_MINUTES),
            }

    def emergency_reviews(
        self, p: Principal, *, unreviewed_only: bool = True
    ) -> list[dict[str, Any]]:
        """Break-glass events on the supervisor's agency's cases (or by its staff), with
        justifications."""
        require_role(p, Action.EMERGENCY_REVIEW)
        with self._tx() as conn:
            rows = pdb.grants(conn, unreviewed_only=unreviewed_only, case_ids_owned_by=p.agency)
            opened = _opened_under(self, conn, rows)
            self._audit(conn, p, "emergency.list", "emergency_grants", count=len(rows))
            return [
                {
                    "identity_opened": opened.get(r.grant_id, []),
                    "grant_id": r.grant_id,
                    "case_id": r.case_id,
                    "user_id": r.user_id,
                    "agency": r.agency,
                    "granted_at": db.aware(r.granted_at),
                    "expires_at": db.aware(r.expires_at),
                    "justification": self.sealer.open(
                        r.justification_sealed, context=sdb.grant_context(r.grant_id)
                    ),
                    "review_outcome": r.review_outcome,
                }
                for r in rows
            ]

    def review_emergency_access(self, p: Principal, grant_id: str, *, outcome: str) -> None:
        """A supervisor of the owning agency records whether the break-glass access was
        justified."""
        require_role(p, Action.EMERGENCY_REVIEW)
        if outcome not in ("justified", "unjustified"):
            raise ValidationError(
                "outcome not recognised",
                column="outcome",
                value=outcome,
                allowed="justified, unjustified",
            )
        with self._tx() as conn:
            grant = pdb.get_grant(conn, grant_id) if _valid_id(grant_id) else None
            owner = db.get_case_row(conn, grant.case_id) if grant else None
            if grant is None or owner is None or owner.agency != p.agency:
                raise NotFoundError("no emergency access {grant} for your agency to review",
                                    params={"grant": repr(grant_id)})
            if not pdb.review_grant(conn, grant_id, by=p.user_id, outcome=outcome):
                raise WorkflowError("this emergency access was already reviewed")
            for task in pdb.open_tasks(conn, case_id=grant.case_id):
                if task.kind == "review_emergency_access" and grant_id in task.detail:
                    pdb.complete_task(conn, task.task_id, p.agency, by=p.user_id)
            self._audit(
                conn, p, "emergency.review", grant.case_id, grant_id=grant_id, outcome=outcome
            )

    def who_viewed(self, p: Principal, case_id: str) -> list[ViewEntry]:
        """Every read of the case and of its identity, newest first (owner agency only)."""
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.VIEW_LOG)
            return _views(conn, case_id)

    # ---- timers and tasks (I6) ----

    def run_timers(self, at: datetime | None = None) -> int:
        """Create review tasks for deadlines passed. Never changes a case's state (I6)."""
        at = at or self.clock()
        cutoffs: dict[str, datetime] = {}  # per state, entered before the earliest deadline
        for rule in self.timers:
            cutoff = at - timedelta(days=rule.days)
            cutoffs[rule.state] = max(cutoff, cutoffs.get(rule.state, cutoff))
        with self._tx() as conn:
            due_now = [
                (row.case_id, row.agency, due)
                for row in pdb.cases_in_state_since(conn, cutoffs)
                for due in nrm.due_reviews(row.status, db.aware(row.status_since), at, self.timers)
            ]
        # Write in short transactions: one long one would hold the audit chain's lock and stall
        # every audited request while a server starts on a large store.
        created = 0
        for start in range(0, len(due_now), TIMER_BATCH):
            with self._tx() as conn:
                for case_id, agency, due in due_now[start : start + TIMER_BATCH]:
                    task = ReviewTask(_id(), case_id, agency, due.task, due.due_at, at, due.rule)
                    if pdb.insert_task(conn, task):
                        created += 1
                        self._audit(conn, None, "task.timer", case_id, task=due.task)
        return created

    def tasks(self, p: Principal) -> list[ReviewTask]:
        require_role(p, Action.TASKS_READ)
        with self._tx() as conn:
            return pdb.open_tasks(conn, agency=p.agency)

    def complete_task(self, p: Principal, task_id: str) -> None:
        require_role(p, Action.TASKS_READ)
        with self._tx() as conn:
            if not (
                _valid_id(task_id) and pdb.complete_task(conn, task_id, p.agency, by=p.user_id)
            ):
                raise NotFoundError("no open task {task} for your agency",
                                    params={"task": repr(task_id)})
            self._audit(conn, p, "task.done", task_id)

    # ---- dashboard, de-identified data, audit ----

    def dashboard(self, p: Principal) -> Dashboard:
        """Aggregates for the user's agency: cases by status, overdue referrals, caseload by
        month."""
        require_role(p, Action.DASHBOARD_READ)
        today = self.clock().date()
        with self._tx() as conn:
            counts = pdb.status_counts(conn, p.agency)
            over_in = len(
                rdb.agency_referrals(conn, p.agency, incoming=True, overdue_on=today, limit=10000)
            )
            over_out = len(
                rdb.agency_referrals(conn, p.agency, incoming=False, overdue_on=today, limit=10000)
            )
            tasks = len(pdb.open_tasks(conn, agency=p.agency))
            created, closed = pdb.caseload_by_month(conn, p.agency)
            sent = rdb.referral_counts(conn, p.agency, incoming=False)
            received = rdb.referral_counts(conn, p.agency, incoming=True)
        return Dashboard(p.agency, counts, over_in, over_out, tasks, _caseload(created, closed),
                         referrals_sent=sent, referrals_received=received)

    def deidentified_cases(self, p: Principal, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The agency's cases without any identifier or case number: for analysts."""
        require_role(p, Action.DEIDENTIFIED_READ)
        with self._tx() as conn:
            rows = pdb.deidentified_rows(conn, p.agency, min(max(limit, 1), 10000))
            self._audit(conn, p, "deidentified.read", "cases", count=len(rows))
        return [
            {
                "status": r.status,
                "sex": r.sex,
                "age_group": age_group(r.age),
                "nationality": r.nationality,
                "exploitation_forms": json.loads(r.exploitation_forms),
                "assistance_state": r.assistance_state,
                "non_punishment_flag": bool(r.non_punishment_flag),
            }
            for r in rows
        ]

    def audit_entries(
        self,
        p: Principal,
        *,
        subject: str | None = None,
        action: str | None = None,
        limit: int = 500,
        newest_first: bool = False,
    ) -> list[dict[str, Any]]:
        """The audit log (auditors only); reading it is itself audited."""
        require_role(p, Action.AUDIT_READ)
        with self._tx() as conn:
            out = []
            for entry in self.audit.entries(conn, subject=subject, action=action,
                                            newest_first=newest_first):
                out.append(dataclasses.asdict(entry))
                if len(out) >= limit:
                    break
            self._audit(conn, p, "audit.read", subject or "audit_log", count=len(out))
            return out

    def verify_audit(self, p: Principal) -> dict[str, Any]:
        require_role(p, Action.AUDIT_READ)
        with self._tx() as conn:
            return dataclasses.asdict(self.audit.verify(conn))


def _caseload(
    created: dict[tuple[int, int], int], closed: dict[tuple[int, int], int]
) -> list[tuple[str, int, int]]:
    """New cases per month and cases still open at each month's end (closed = closed/withdrawn)."""
    out, open_count = [], 0
    for year, month in sorted(set(created) | set(closed)):
        new = created.get((year, month), 0)
        open_count += new - closed.get((year, month), 0)
        out.append((f"{year:04d}-{month:02d}", new, open_count))
    return out


def _views(conn: sa.Connection, case_id: str) -> list[ViewEntry]:
    """``who_viewed`` once access is checked (VIEW_LOG)."""
    return [
        ViewEntry(r.username, r.agency, r.action, db.aware(r.at)) for r in pdb.views(conn, case_id)
    ]
