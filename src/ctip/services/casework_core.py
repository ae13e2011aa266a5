"""Shared plumbing of the case-management services: the service object, access loading, views.

``Casework`` (services/casework.py) is assembled from this core and two parts kept in their own
modules for size: referrals, consent and services (services/referrals.py) and protection, tasks,
dashboard and audit (services/protection.py). Every public method takes the acting principal
first and checks access in the fixed order of ``domain/access.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

import sqlalchemy as sa

from ctip import storage
from ctip.domain import nrm
from ctip.domain.access import (
    Action,
    Principal,
    Relation,
    authorize,
    not_found,
    relation_to,
    require_role,
    revealable_identity_fields,
    visible_fields,
)
from ctip.domain.casework import (
    Case,
    ReviewTask,
    live_consent_purposes,
)
from ctip.errors import PermissionDeniedError
from ctip.settings import Settings
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage import protection as pdb
from ctip.storage import referrals as rdb
from ctip.storage.audit import AuditLog, keyed_audit_log
from ctip.storage.sealing import Pseudonymiser, Sealer
from ctip.storage.store import Store

EMERGENCY_MINUTES = 60
DEFAULT_REFERRAL_DAYS = 7
PURPOSE_CONSENT = {  # referral purpose -> consent purpose an adult must have given (I2)
    "nrm_referral": "nrm_referral",
    "service": "share_with_service_provider",
    "law_enforcement": "law_enforcement_contact",
}


@dataclass(frozen=True)
class CaseView:
    """A case as one user may see it: ``data`` holds only the fields their relation allows."""

    case_id: str
    relation: str
    data: dict[str, Any]
    revealable_identity: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class Step:
    """An NRM step this user may take now; its guards are checked when it is taken."""

    region: str
    target: str
    needs_reason: bool
    confirmations: tuple[str, ...]


def step_regions(rel: Relation) -> tuple[str, ...]:
    """The workflow regions a relation works in: all for the owner, identification otherwise."""
    return nrm.REGIONS if rel is Relation.OWNER else ("main",)


def allowed_steps(
    p: Principal, rel: Relation, case_id: str, states: Mapping[str, str | None]
) -> tuple[Step, ...]:
    """The steps ``p`` may take from the case's current ``states`` (region -> state): the same
    permission ``transition`` checks (``authorize`` for CASE_TRANSITION), then the state
    machine's steps from each state that the role may take. The one place a page or the API
    learns what to offer."""
    try:
        authorize(p, Action.CASE_TRANSITION, rel, case_id)
    except PermissionDeniedError:
        return ()
    steps: dict[tuple[str, str], Step] = {}
    for region in step_regions(rel):
        for t in nrm.transitions_from(region, states.get(region) or ""):
            if p.role.value in t.actors:
                steps.setdefault((region, t.target),
                                 Step(region, t.target, t.needs_reason, t.confirmations))
    return tuple(steps.values())


@dataclass(frozen=True)
class ViewEntry:
    username: str
    agency: str
    action: str
    at: datetime


@dataclass(frozen=True)
class ViewGroup:
    """Every read of a case by one user on one (UTC) day: "who viewed" shows one line per
    user and day, while each read stays recorded (``case_views`` and the audit log)."""

    username: str
    agency: str
    day: date
    views: int  # reads of the case page
    identity_opened: int  # audited identity reveals
    first: datetime
    last: datetime


def group_views(entries: Iterable[ViewEntry]) -> list[ViewGroup]:
    """Group reads by user, agency and day, newest day first, then the latest reader first."""
    groups: dict[tuple[str, str, date], list[ViewEntry]] = {}
    for e in entries:
        groups.setdefault((e.username, e.agency, e.at.astimezone(UTC).date()), []).append(e)
    out = [
        ViewGroup(
            username=user,
            agency=agency,
            day=day,
            views=sum(1 for e in items if e.action != "identity"),
            identity_opened=sum(1 for e in items if e.action == "identity"),
            first=min(e.at for e in items),
            last=max(e.at for e in items),
        )
        for (user, agency, day), items in groups.items()
    ]
    return sorted(out, key=lambda g: (g.day, g.last), reverse=True)


@dataclass(frozen=True)
class Dashboard:
    agency: str
    status_counts: dict[str, int]
    overdue_incoming: int
    overdue_outgoing: int
    open_tasks: int
    caseload_by_month: list[tuple[str, int, int]]  # (YYYY-MM, new cases, open at month end)
    referrals_sent: dict[str, int] = field(default_factory=dict)  # status -> count
    referrals_received: dict[str, int] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return str(uuid.uuid4())


class CaseworkCore:
    """Database, keys, audit and the access-checked loading every use case needs."""

    def __init__(
        self,
        engine: sa.Engine,
        sealer: Sealer,
        pseudonymiser: Pseudonymiser,
        audit: AuditLog | None = None,
        *,
        clock: Callable[[], datetime] = _now,
        timers: Iterable[nrm.TimerRule] = nrm.DEFAULT_TIMERS,
    ) -> None:
        self.engine, self.sealer, self.pseudonymiser = engine, sealer, pseudonymiser
        self.audit = audit or keyed_audit_log(pseudonymiser)
        self.clock = clock
        self.timers = tuple(timers)

    @classmethod
    def of(cls, store: Store) -> Self:
        """Over the store facade's engine, keys and audit log (``store.repository(Casework.of)``
        keeps one per store)."""
        return cls(store.engine, store.sealer, store.pseudonymiser, store.audit)

    @classmethod
    def open(cls, settings: Settings) -> Self:
        """Over ``ctip.storage.open(settings)`` (a clear error naming `ctip init` when keys are
        missing, `ctip migrate` when the schema is behind)."""
        return storage.open(settings).repository(cls.of)

    def open_pool(self) -> None:
        """Open the connection pool before the first request (a server listens only after
        this), so the first users do not each wait for a new database connection."""
        size = getattr(self.engine.pool, "size", lambda: 0)()
        connections = [self.engine.connect() for _ in range(min(int(size), 20))]
        for connection in connections:
            connection.close()

    def warm_up(self) -> None:
        """Run the case page's and case search's read statements once, matching nothing.

        SQLAlchemy compiles a statement the first time it runs and caches it; a web worker's
        first requests arrive together, and each thread compiled the same statements again
        (a search's union took 15 ms to compile). Only reads, in a transaction rolled back: no
        case is read, nothing is written or audited."""
        nobody, nil = "", "00000000-0000-0000-0000-000000000000"
        with self.engine.connect() as conn:
            for status in (None, "x"):
                for name_key in (None, "x"):
                    for prefix in (None, "x"):
                        db.search_cases(
                            conn,
                            agencies_owned=nobody,
                            referred_to=nobody,
                            status=status,
                            name_key=name_key,
                            case_id_prefix=prefix,
                        )
            rdb.live_referral_agencies_many(conn, [nil])
            db.get_case_row(conn, nil)
            rdb.live_referral_agencies(conn, nil)
            pdb.live_grant(conn, nil, nil, self.clock())
            db.latest_screening(conn, nil)
            rdb.case_consents(conn, nil)
            rdb.case_referrals(conn, nil)
            rdb.case_services_given(conn, nil)
            rdb.case_services_given(conn, nil, nobody)
            pdb.views(conn, nil)
            rdb.list_services(conn)
            conn.rollback()

    # ---- plumbing ----

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _audit(
        self, conn: sa.Connection, p: Principal | None, action: str, subject: str, **details: Any
    ) -> None:
        actor = f"{p.username}@{p.agency}" if p else "system"
        self.audit.append(
            conn,
            actor=actor,
            action=action,
            subject=subject,
            details={"role": p.role.value if p else "system", **details},
        )

    def _access_reason(self, conn: sa.Connection, case_id: str, kind: str, text: str) -> str:
        """Seal a reason the audit entry refers to; returns the id the audit details carry.

        Not the ciphertext itself: audit entries are immutable, so it could never be re-sealed
        and would become unreadable once key rotation retires its key."""
        reason_id = _id()
        sdb.insert_access_reason(
            conn,
            reason_id=reason_id,
            case_id=case_id,
            kind=kind,
            at=self.clock(),
            reason_sealed=self.sealer.seal(text, context=sdb.access_reason_context(reason_id)),
        )
        return reason_id

    @staticmethod
    def _revoke_live_referrals(
        conn: sa.Connection, p: Principal, case_id: str, *, relying_on: str | None = None
    ) -> None:
        """Revoke the case's live referrals: all of them, or those made under one consent."""
        for ref in rdb.case_referrals(conn, case_id):
            if ref.live and (relying_on is None or ref.consent_id == relying_on):
                rdb.set_referral_status(
                    conn,
                    ref.referral_id,
                    expected=("pending", "accepted"),
                    status="revoked",
                    by=p.user_id,
                    reason_sealed=None,
                )

    def _seal(self, text: str | None, context: str) -> bytes | None:
        return self.sealer.seal(text, context=context) if text else None

    def _open(self, blob: bytes | None, context: str) -> str | None:
        return self.sealer.open(blob, context=context) if blob else None

    def _load(
        self, conn: sa.Connection, p: Principal, case_id: str, action: Action
    ) -> tuple[sa.Row, Relation, dict[str, frozenset[str]]]:
        """Role check, then relationship (none -> 404 like a missing case), then action check."""
        require_role(p, action)
        row = db.get_case_row(conn, case_id) if _valid_id(case_id) else None
        if row is None:
            raise not_found(case_id)
        live = rdb.live_referral_agencies(conn, case_id)
        grant = (
            p.agency != row.agency
            and p.agency not in live
            and pdb.live_grant(conn, case_id, p.user_id, self.clock())
        )
        rel = relation_to(
            p,
            owner_agency=row.agency,
            live_referral_agencies=frozenset(live),
            emergency_grant=grant,
        )
        return row, authorize(p, action, rel, case_id), live

    def _view(
        self,
        row: sa.Row,
        rel: Relation,
        live: Mapping[str, frozenset[str]],
        p: Principal,
        notes: str | None = None,
    ) -> CaseView:
        case = db.case_from_row(row, notes=notes)
        data = {k: getattr(case, k) for k in visible_fields(rel)}  # is_child is a property
        shared = live.get(p.agency, frozenset())
        return CaseView(
            case.case_id, rel.value, data, revealable_identity_fields(rel, shared), case.version
        )

    def _facts(self, conn: sa.Connection, case: Case) -> nrm.AssistanceFacts:
        tasks = pdb.open_tasks(conn, case_id=case.case_id)
        return nrm.AssistanceFacts(
            status=case.status,
            age=case.age,
            age_disputed=case.age_disputed,
            child_state=case.child_state,
            assistance_state=case.assistance_state,
            live_consent_purposes=live_consent_purposes(rdb.case_consents(conn, case.case_id)),
            open_safety_tasks=sum(1 for t in tasks if t.safety),
        )

    def _task(
        self,
        conn: sa.Connection,
        case: Case,
        kind: str,
        days: int = 7,
        *,
        safety: bool = False,
        detail: str = "",
    ) -> None:
        at = self.clock()
        pdb.insert_task(
            conn,
            ReviewTask(
                _id(),
                case.case_id,
                case.agency,
                kind,
                at + timedelta(days=days),
                at,
                detail,
                safety,
            ),
        )


def _valid_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
