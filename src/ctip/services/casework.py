"""Case-management use cases: intake, screening, NRM steps, consent, referral, services, protection.

Every public method takes the acting :class:`~ctip.domain.access.Principal` first, checks access in
the fixed order of ``domain/access.py`` (role, then relationship, then action), does its work and
writes an audit entry in the *same* transaction. Audit details carry ids, states and field names,
never identity or free text (free text is sealed in the case tables).

Method names are a stable interface for the web pages and the REST API:
``create_case``, ``get_case``, ``search_cases``, ``edit_case``, ``screen_case``, ``latest_screening``,
``next_steps``, ``transition``, ``record_consent``, ``revoke_consent``, ``consents``, ``refer``,
``accept_referral``, ``decline_referral``, ``complete_referral``, ``revoke_referral``,
``referrals``, ``case_referrals``, ``record_service``, ``services_given``, ``add_service``,
``find_services``, ``reveal_identity``, ``emergency_access``, ``emergency_reviews``,
``review_emergency_access``, ``who_viewed``, ``run_timers``, ``tasks``, ``complete_task``,
``dashboard``, ``deidentified_cases``, ``audit_entries``, ``verify_audit``.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ctip.domain import nrm, screening
from ctip.domain.access import (
    SHAREABLE_IDENTITY_FIELDS,
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
    CONSENT_PURPOSES,
    SERVICE_TYPES,
    Case,
    ConsentRecord,
    Referral,
    ReviewTask,
    Service,
    ServiceEntry,
    live_consent_purposes,
)
from ctip.domain.derive import age_group
from ctip.domain.records import Identity
from ctip.domain.vocabulary import code_list
from ctip.errors import NotFoundError, PermissionDeniedError, ValidationError, WorkflowError
from ctip.settings import Settings
from ctip.storage import casework as db
from ctip.storage.audit import AuditLog
from ctip.storage.sealing import Pseudonymiser, Sealer, normalise_name

EMERGENCY_MINUTES = 60
DEFAULT_REFERRAL_DAYS = 7
PURPOSE_CONSENT = {  # referral purpose -> consent purpose an adult must have given (I2)
    "nrm_referral": "nrm_referral",
    "service": "share_with_service_provider",
    "law_enforcement": "law_enforcement_contact",
}


@dataclass(frozen=True)
class CaseIntake:
    """What a first responder records at intake (identity is sealed before it is stored)."""

    sex: str = "unknown"
    age: int | None = None
    age_disputed: bool = False
    nationality: str | None = None
    languages: tuple[str, ...] = ()
    interpreter_needed: bool = False
    exploitation_forms: tuple[str, ...] = ()
    notes: str | None = None
    identity: Identity = field(default_factory=Identity)


@dataclass(frozen=True)
class CaseView:
    """A case as one user may see it: ``data`` holds only the fields their relation allows."""

    case_id: str
    relation: str
    data: dict[str, Any]
    revealable_identity: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class ViewEntry:
    username: str
    agency: str
    action: str
    at: datetime


@dataclass(frozen=True)
class Dashboard:
    agency: str
    status_counts: dict[str, int]
    overdue_incoming: int
    overdue_outgoing: int
    open_tasks: int
    caseload_by_month: list[tuple[str, int, int]]  # (YYYY-MM, new cases, open at month end)


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return str(uuid.uuid4())


class Casework:
    """The case-management service over one database. Build it with :meth:`open` or directly."""

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
        self.audit = audit or AuditLog()
        self.clock = clock
        self.timers = tuple(timers)

    @classmethod
    def open(cls, settings: Settings) -> Casework:
        """Engine + migrations + keys from settings (clear error naming `ctip init` if keys are missing)."""
        from ctip.storage.engine import make_engine, migrate
        from ctip.storage.keys import KeyRing  # noqa: F401 - imported for its error messages
        from ctip.storage.sealing import load_keys

        engine = make_engine(settings.resolved_database_url)
        migrate(engine)
        ring, pseudonym_key = load_keys(settings)
        return cls(engine, Sealer(ring), Pseudonymiser(pseudonym_key))

    # ---- plumbing ----

    @contextmanager
    def _tx(self):  # type: ignore[no-untyped-def]
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
        live = db.live_referral_agencies(conn, case_id)
        grant = (
            p.agency != row.agency
            and p.agency not in live
            and db.live_grant(conn, case_id, p.user_id, self.clock())
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
        full = {
            f.name: getattr(case, f.name) for f in dataclasses.fields(case) if f.name != "identity"
        }
        full["is_child"] = case.is_child
        data = {k: full.get(k) for k in visible_fields(rel)}
        shared = live.get(p.agency, frozenset())
        return CaseView(
            case.case_id, rel.value, data, revealable_identity_fields(rel, shared), case.version
        )

    def _facts(self, conn: sa.Connection, case: Case) -> nrm.AssistanceFacts:
        tasks = db.open_tasks(conn, case_id=case.case_id)
        return nrm.AssistanceFacts(
            status=case.status,
            age=case.age,
            age_disputed=case.age_disputed,
            child_state=case.child_state,
            assistance_state=case.assistance_state,
            live_consent_purposes=live_consent_purposes(db.case_consents(conn, case.case_id)),
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
        db.insert_task(
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

    # ---- cases ----

    def create_case(self, p: Principal, intake: CaseIntake) -> CaseView:
        """Intake: a new case in ``signal``, owned by the user's agency; identity sealed."""
        require_role(p, Action.CASE_CREATE)
        _check_intake(intake)
        at = self.clock()
        case = Case(
            case_id=_id(),
            agency=p.agency,
            status="signal",
            sex=intake.sex,
            age=intake.age,
            age_disputed=intake.age_disputed,
            nationality=intake.nationality,
            languages=tuple(intake.languages),
            interpreter_needed=intake.interpreter_needed,
            exploitation_forms=tuple(intake.exploitation_forms),
            status_since=at,
            created_at=at,
            updated_at=at,
            created_by=p.user_id,
        )
        ident = intake.identity
        name = normalise_name(ident.given_name, ident.family_name)
        with self._tx() as conn:
            db.insert_case(
                conn,
                case,
                identity_sealed=self.sealer.seal(
                    _identity_json(ident), context=f"case/{case.case_id}/identity"
                ),
                notes_sealed=self._seal(intake.notes, f"case/{case.case_id}/notes"),
                name_key=self.pseudonymiser.keyed_hash("case-name", name.encode())
                if name
                else None,
            )
            self._audit(conn, p, "case.create", case.case_id, status="signal")
            row = db.get_case_row(conn, case.case_id)
            return self._view(row, Relation.OWNER, {}, p, intake.notes)

    def get_case(self, p: Principal, case_id: str) -> CaseView:
        """One case, fields limited by the user's relation; the read is logged (who viewed)."""
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.CASE_READ)
            notes = (
                self._open(row.notes_sealed, f"case/{case_id}/notes")
                if rel is Relation.OWNER
                else None
            )
            db.record_view(
                conn,
                case_id=case_id,
                user_id=p.user_id,
                username=p.username,
                agency=p.agency,
                action="view",
            )
            self._audit(conn, p, "case.view", case_id, relation=rel.value)
            return self._view(row, rel, live, p, notes)

    def search_cases(
        self,
        p: Principal,
        *,
        status: str | None = None,
        name: str | None = None,
        case_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CaseView]:
        """Cases the user's agency owns or has a live referral for. ``name`` matches exactly
        (normalised) through a keyed hash: nothing is decrypted to search."""
        require_role(p, Action.CASE_LIST)
        key = None
        if name:
            norm = normalise_name(name)
            key = self.pseudonymiser.keyed_hash("case-name", norm.encode()) if norm else None
        with self._tx() as conn:
            rows = db.search_cases(
                conn,
                agencies_owned=p.agency,
                referred_to=p.agency,
                status=status,
                name_key=key,
                case_id_prefix=case_id,
                limit=min(max(limit, 1), 200),
                offset=max(offset, 0),
            )
            out = []
            for row in rows:
                rel = Relation.OWNER if row.agency == p.agency else Relation.RECIPIENT
                live = (
                    db.live_referral_agencies(conn, row.case_id)
                    if rel is Relation.RECIPIENT
                    else {}
                )
                out.append(self._view(row, rel, live, p))
            self._audit(conn, p, "case.search", "cases", count=len(out), by_name=bool(name))
            return out

    def edit_case(
        self, p: Principal, case_id: str, changes: Mapping[str, Any], *, expected_version: int
    ) -> CaseView:
        """Change intake fields. A stale ``expected_version`` raises ConflictError (nothing lost)."""
        allowed = {
            "sex",
            "age",
            "age_disputed",
            "nationality",
            "languages",
            "interpreter_needed",
            "exploitation_forms",
            "notes",
            "identity",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(
                "these fields cannot be edited",
                column=", ".join(sorted(unknown)),
                allowed=", ".join(sorted(allowed)),
            )
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.CASE_EDIT)
            current = db.case_from_row(row)
            merged = {
                k: changes.get(k, getattr(current, k)) for k in allowed - {"notes", "identity"}
            }
            _check_intake(CaseIntake(**merged))
            values: dict[str, Any] = {
                k: v
                for k, v in db.case_row(dataclasses.replace(current, **merged)).items()
                if k in merged
            }
            if "notes" in changes:
                values["notes_sealed"] = self._seal(changes["notes"], f"case/{case_id}/notes")
            if "identity" in changes:
                ident = changes["identity"]
                values["identity_sealed"] = self.sealer.seal(
                    _identity_json(ident), context=f"case/{case_id}/identity"
                )
                name = normalise_name(ident.given_name, ident.family_name)
                values["name_key"] = (
                    self.pseudonymiser.keyed_hash("case-name", name.encode()) if name else None
                )
            db.update_case(conn, case_id, expected_version=expected_version, values=values)
            self._audit(
                conn, p, "case.edit", case_id, fields=sorted(changes), version=expected_version + 1
            )
            row = db.get_case_row(conn, case_id)
            notes = self._open(row.notes_sealed, f"case/{case_id}/notes")
            return self._view(row, rel, live, p, notes)

    # ---- screening and the NRM workflow ----

    def screen_case(
        self,
        p: Principal,
        case_id: str,
        observations: Mapping[str, str],
        *,
        profile: str | None = None,
    ) -> screening.ScreeningResult:
        """Apply the ILO/EC indicators; stores the observations and the suggestion (not a decision)."""
        with self._tx() as conn:
            row, _, _ = self._load(conn, p, case_id, Action.CASE_SCREEN)
            case = db.case_from_row(row)
            prof = profile or screening.profile_for(is_child=case.is_child)
            result = screening.screen(observations, prof)
            db.insert_screening(
                conn,
                screening_id=_id(),
                case_id=case_id,
                profile=prof,
                observations=json.dumps(dict(observations), sort_keys=True),
                classification=result.classification,
                suggested_status=result.suggested_status,
                positive_dimensions=json.dumps(result.positive_dimensions()),
                rule_version=result.rule_version,
                screened_by=p.user_id,
                screened_at=self.clock(),
            )
            self._audit(
                conn, p, "case.screen", case_id, profile=prof, suggested=result.suggested_status
            )
            return result

    def latest_screening(self, p: Principal, case_id: str) -> screening.ScreeningResult | None:
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CASE_READ)
            row = db.latest_screening(conn, case_id)
        return screening.screen(json.loads(row.observations), row.profile) if row else None

    def next_steps(self, p: Principal, case_id: str) -> dict[str, tuple[str, ...]]:
        """Per region, the states this user's role may move the case to (guards checked on submit)."""
        with self._tx() as conn:
            row, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
        case = db.case_from_row(row)
        regions = ("main",) if rel is not Relation.OWNER else nrm.REGIONS
        return {
            r: nrm.allowed_targets(r, getattr(case, _REGION_COLUMN[r]), p.role.value)
            for r in regions
        }

    def transition(
        self,
        p: Principal,
        case_id: str,
        *,
        to_state: str,
        region: str = "main",
        reason: str = "",
        confirmations: Iterable[str] = (),
        consent_id: str | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """One NRM step, checked by the state machine, applied with its effects and audited (I5)."""
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.CASE_TRANSITION)
            if rel is Relation.RECIPIENT and region != "main":
                raise PermissionDeniedError(
                    "a receiving agency takes only identification decisions",
                    hint="the owning agency manages the other regions",
                )
            case = db.case_from_row(row)
            if region not in _REGION_COLUMN:
                raise WorkflowError(
                    f"unknown workflow region {region!r}",
                    hint=f"use one of {', '.join(nrm.REGIONS)}",
                )
            current = getattr(case, _REGION_COLUMN[region])
            outcome = nrm.decide(
                region,
                current,
                to_state,
                role=p.role.value,
                facts=self._facts(conn, case),
                request=nrm.Request(
                    reason=reason, confirmations=frozenset(confirmations), consent_id=consent_id
                ),
            )
            values = self._apply(conn, case, outcome, p)
            db.update_case(
                conn, case_id, expected_version=expected_version or case.version, values=values
            )
            event_id = _id()
            db.insert_event(
                conn,
                event_id=event_id,
                case_id=case_id,
                region=region,
                from_state=current,
                to_state=to_state,
                actor=p.user_id,
                role=p.role.value,
                at=self.clock(),
                consent_id=consent_id,
                reason_sealed=self._seal(reason, f"event/{event_id}/reason"),
            )
            self._audit(
                conn,
                p,
                "case.transition",
                case_id,
                region=region,
                source=current,
                target=to_state,
                consent_id=consent_id,
                event_id=event_id,
                effects=list(outcome.effects),
            )
            return self._view(db.get_case_row(conn, case_id), rel, live, p)

    def _apply(
        self, conn: sa.Connection, case: Case, outcome: nrm.Outcome, p: Principal
    ) -> dict[str, Any]:
        values: dict[str, Any] = {_REGION_COLUMN[outcome.region]: outcome.target}
        if outcome.region == "main":
            values["status_since"] = self.clock()
        for effect in outcome.effects:
            if effect == "open_non_punishment_review":
                values["non_punishment_flag"] = True
            elif effect == "enter_child_region" and case.child_state == "not_applicable":
                values["child_state"] = "minor_presumed"
            elif effect == "start_assistance" and case.assistance_state == "none":
                values["assistance_state"] = "active"
            elif effect == "revoke_consents":
                db.revoke_consent(conn, case.case_id, None, by=p.user_id)
            elif effect == "stop_sharing":
                for ref in db.case_referrals(conn, case.case_id):
                    if ref.live:
                        db.set_referral_status(
                            conn,
                            ref.referral_id,
                            expected=("pending", "accepted"),
                            status="revoked",
                            by=p.user_id,
                            reason_sealed=None,
                        )
            elif effect.endswith("_task"):
                self._task(conn, case, effect.removesuffix("_task"))
        return values

    # ---- consent ----

    def record_consent(
        self,
        p: Principal,
        case_id: str,
        *,
        purpose: str,
        recipient: str | None = None,
        given_by: str = "person",
        text_version: str = "1",
    ) -> ConsentRecord:
        """Add one consent to the ledger (per purpose, optionally per recipient agency)."""
        if purpose not in CONSENT_PURPOSES:
            raise ValidationError(
                "consent purpose not recognised",
                column="purpose",
                value=purpose,
                allowed=", ".join(CONSENT_PURPOSES),
            )
        if given_by not in ("person", "guardian"):
            raise ValidationError(
                "consent is given by the person or their guardian",
                column="given_by",
                value=given_by,
                allowed="person, guardian",
            )
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            record = ConsentRecord(
                _id(), case_id, purpose, recipient, self.clock(), p.user_id, text_version, given_by
            )
            db.insert_consent(conn, record)
            self._audit(
                conn,
                p,
                "consent.give",
                case_id,
                consent_id=record.consent_id,
                purpose=purpose,
                recipient=recipient,
            )
            return record

    def revoke_consent(self, p: Principal, case_id: str, consent_id: str) -> None:
        """Revoke a consent; live referrals that relied on it are revoked too (stop sharing)."""
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            if db.revoke_consent(conn, case_id, consent_id, by=p.user_id) != 1:
                raise NotFoundError(f"no live consent {consent_id!r} on this case")
            for ref in db.case_referrals(conn, case_id):
                if ref.live and ref.consent_id == consent_id:
                    db.set_referral_status(
                        conn,
                        ref.referral_id,
                        expected=("pending", "accepted"),
                        status="revoked",
                        by=p.user_id,
                        reason_sealed=None,
                    )
            self._audit(conn, p, "consent.revoke", case_id, consent_id=consent_id)

    def consents(self, p: Principal, case_id: str) -> list[ConsentRecord]:
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.CONSENT_RECORD)
            return db.case_consents(conn, case_id)

    # ---- referrals ----

    def refer(
        self,
        p: Principal,
        case_id: str,
        *,
        to_agency: str,
        purpose: str = "service",
        shared_fields: Iterable[str] = (),
        service_id: str | None = None,
        due_date: date | None = None,
        consent_id: str | None = None,
    ) -> Referral:
        """Refer a case to another agency, sharing only ``shared_fields`` of the identity.

        An adult needs a live consent for the referral's purpose covering the recipient (I2); a
        child is referred without consent (I3).
        """
        if purpose not in PURPOSE_CONSENT:
            raise ValidationError(
                "referral purpose not recognised",
                column="purpose",
                value=purpose,
                allowed=", ".join(PURPOSE_CONSENT),
            )
        shared = frozenset(shared_fields)
        bad = shared - set(SHAREABLE_IDENTITY_FIELDS)
        if bad:
            raise ValidationError(
                "these fields cannot be shared",
                column="shared_fields",
                value=", ".join(sorted(bad)),
                allowed=", ".join(SHAREABLE_IDENTITY_FIELDS),
            )
        with self._tx() as conn:
            row, _, _ = self._load(conn, p, case_id, Action.CASE_REFER)
            case = db.case_from_row(row)
            if not to_agency.strip() or to_agency == case.agency:
                raise ValidationError(
                    "refer to another agency", column="to_agency", value=to_agency
                )
            if case.status in nrm.FINAL_STATES:
                raise WorkflowError(
                    f"a {case.status} case cannot be referred", hint="reopen it first"
                )
            if service_id is not None:
                service = db.get_service(conn, service_id)
                if service is None or service.agency != to_agency:
                    raise ValidationError(
                        "the service is not in the directory for that agency",
                        column="service_id",
                        value=service_id,
                    )
            needed = PURPOSE_CONSENT[purpose]
            if not case.is_child:
                live = [
                    c
                    for c in db.case_consents(conn, case_id)
                    if c.live and c.purpose == needed and c.recipient in (None, to_agency)
                ]
                if consent_id is not None:
                    live = [c for c in live if c.consent_id == consent_id]
                if not live:
                    raise WorkflowError(
                        f"an adult's referral needs their consent for {needed!r} covering {to_agency!r}",
                        hint="record the person's consent first (children are referred without consent)",
                    )
                consent_id = live[-1].consent_id
            at = self.clock()
            ref = Referral(
                _id(),
                case_id,
                case.agency,
                to_agency,
                purpose,
                shared,
                "pending",
                service_id,
                consent_id,
                due_date or (at.date() + timedelta(days=DEFAULT_REFERRAL_DAYS)),
                at,
                p.user_id,
            )
            db.insert_referral(conn, ref)
            self._audit(
                conn,
                p,
                "referral.create",
                case_id,
                referral_id=ref.referral_id,
                to=to_agency,
                purpose=purpose,
                shared_fields=sorted(shared),
                consent_id=consent_id,
            )
            return ref

    def _respond(
        self,
        p: Principal,
        referral_id: str,
        status: str,
        expected: tuple[str, ...],
        reason: str | None = None,
        *,
        owner_side: bool = False,
    ) -> Referral:
        with self._tx() as conn:
            ref = db.get_referral(conn, referral_id) if _valid_id(referral_id) else None
            if ref is None:
                require_role(p, Action.CASE_REFER if owner_side else Action.REFERRAL_RESPOND)
                raise NotFoundError(f"no referral {referral_id!r} is visible to you")
            action = Action.CASE_REFER if owner_side else Action.REFERRAL_RESPOND
            require_role(p, action)
            party = ref.from_agency if owner_side else ref.to_agency
            if p.agency != party:
                raise NotFoundError(f"no referral {referral_id!r} is visible to you")
            rid = f"referral/{referral_id}/reason"
            if not db.set_referral_status(
                conn,
                referral_id,
                expected=expected,
                status=status,
                by=p.user_id,
                reason_sealed=self._seal(reason, rid),
            ):
                raise WorkflowError(
                    f"the referral is {ref.status}: it cannot become {status}",
                    hint="reload the referral to see who answered it",
                )
            self._audit(conn, p, f"referral.{status}", ref.case_id, referral_id=referral_id)
            return db.get_referral(conn, referral_id)  # type: ignore[return-value]

    def accept_referral(self, p: Principal, referral_id: str) -> Referral:
        """The receiving agency takes the referral on."""
        return self._respond(p, referral_id, "accepted", ("pending",))

    def decline_referral(self, p: Principal, referral_id: str, *, reason: str) -> Referral:
        """The receiving agency declines, saying why (sealed: reasons can name people)."""
        if not reason.strip():
            raise ValidationError("say why the referral is declined", column="reason")
        return self._respond(p, referral_id, "declined", ("pending",), reason)

    def complete_referral(self, p: Principal, referral_id: str) -> Referral:
        """The receiving agency has given the service; its access ends with the referral."""
        return self._respond(p, referral_id, "completed", ("accepted",))

    def revoke_referral(self, p: Principal, referral_id: str) -> Referral:
        """The referring agency withdraws the referral; the recipient loses access at once."""
        return self._respond(p, referral_id, "revoked", ("pending", "accepted"), owner_side=True)

    def referrals(
        self, p: Principal, *, incoming: bool = True, overdue_only: bool = False
    ) -> list[Referral]:
        """The agency's incoming (or outgoing) referrals; ``overdue_only`` lists pending ones past due."""
        require_role(p, Action.REFERRAL_RESPOND if incoming else Action.CASE_REFER)
        with self._tx() as conn:
            return db.agency_referrals(
                conn,
                p.agency,
                incoming=incoming,
                overdue_on=self.clock().date() if overdue_only else None,
            )

    def case_referrals(self, p: Principal, case_id: str) -> list[Referral]:
        """Referrals of a case: all for the owner, only its own for a receiving agency."""
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
            refs = db.case_referrals(conn, case_id)
        return refs if rel is Relation.OWNER else [r for r in refs if r.to_agency == p.agency]

    # ---- services ----

    def record_service(
        self,
        p: Principal,
        case_id: str,
        *,
        service_type: str,
        given_on: date | None = None,
        referral_id: str | None = None,
        note: str | None = None,
    ) -> ServiceEntry:
        """Log a service given (owner, or a receiving agency on its accepted referral)."""
        if service_type not in SERVICE_TYPES:
            raise ValidationError(
                "service type not recognised",
                column="service_type",
                value=service_type,
                allowed=", ".join(SERVICE_TYPES),
            )
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.SERVICE_RECORD)
            if rel is Relation.RECIPIENT:
                mine = [
                    r
                    for r in db.case_referrals(conn, case_id)
                    if r.to_agency == p.agency and r.status == "accepted"
                ]
                if not mine:
                    raise WorkflowError("accept the referral before recording services on it")
                referral_id = referral_id or mine[-1].referral_id
            entry = ServiceEntry(
                _id(),
                case_id,
                p.agency,
                service_type,
                given_on or self.clock().date(),
                p.user_id,
                referral_id,
                note,
            )
            db.insert_service_given(
                conn, entry, note_sealed=self._seal(note, f"service/{entry.entry_id}/note")
            )
            self._audit(
                conn,
                p,
                "service.record",
                case_id,
                entry_id=entry.entry_id,
                service_type=service_type,
            )
            return entry

    def services_given(self, p: Principal, case_id: str) -> list[ServiceEntry]:
        with self._tx() as conn:
            _, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
            rows = db.case_services_given(
                conn, case_id, None if rel is Relation.OWNER else p.agency
            )
        return [
            ServiceEntry(
                r.entry_id,
                r.case_id,
                r.agency,
                r.service_type,
                r.given_on,
                r.recorded_by,
                r.referral_id,
                self._open(r.note_sealed, f"service/{r.entry_id}/note"),
            )
            for r in rows
        ]

    def add_service(self, p: Principal, service: Service) -> Service:
        """Add an entry to the service directory (admins, supervisors)."""
        require_role(p, Action.DIRECTORY_MANAGE)
        if service.service_type not in SERVICE_TYPES:
            raise ValidationError(
                "service type not recognised",
                column="service_type",
                value=service.service_type,
                allowed=", ".join(SERVICE_TYPES),
            )
        if not service.name.strip() or not service.agency.strip():
            raise ValidationError("a service needs a name and an agency", column="name")
        service = dataclasses.replace(service, service_id=service.service_id or _id())
        with self._tx() as conn:
            db.insert_service(conn, service)
            self._audit(conn, p, "directory.add", service.service_id, agency=service.agency)
        return service

    def find_services(
        self,
        p: Principal,
        *,
        service_type: str | None = None,
        location: str | None = None,
        sex: str | None = None,
        age: int | None = None,
        language: str | None = None,
        eligible_only: bool = False,
    ) -> list[Service]:
        """The service directory, optionally only services whose eligibility fits the person."""
        require_role(p, Action.DIRECTORY_READ)
        with self._tx() as conn:
            found = db.list_services(conn, service_type=service_type, location=location)
        if eligible_only:
            found = [s for s in found if s.eligible(sex=sex, age=age, language=language)]
        return found

    # ---- protection ----

    def reveal_identity(self, p: Principal, case_id: str, *, reason: str) -> dict[str, Any]:
        """Open the sealed identity for a stated reason: every field allowed to this user, audited."""
        if len(reason.strip()) < 5:
            raise ValidationError(
                "say why you need to see the identity",
                column="reason",
                hint="a short reason, e.g. 'arranging shelter placement'",
            )
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.IDENTITY_REVEAL)
            fields = revealable_identity_fields(rel, live.get(p.agency, frozenset()))
            identity = json.loads(
                self.sealer.open(row.identity_sealed, context=f"case/{case_id}/identity")
            )
            db.record_view(
                conn,
                case_id=case_id,
                user_id=p.user_id,
                username=p.username,
                agency=p.agency,
                action="identity",
            )
            self._audit(
                conn,
                p,
                "identity.reveal",
                case_id,
                relation=rel.value,
                fields=list(fields),
                reason_sealed=self.sealer.seal(reason, context=f"audit/{case_id}/reason").hex(),
            )
            return {f: identity.get(f) for f in fields}

    def emergency_access(self, p: Principal, case_id: str, *, justification: str) -> dict[str, Any]:
        """Break-glass: read a case outside your scope for 60 minutes; supervisors review it after."""
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
            db.insert_grant(
                conn,
                grant_id=grant_id,
                case_id=case_id,
                user_id=p.user_id,
                agency=p.agency,
                granted_at=at,
                expires_at=at + timedelta(minutes=EMERGENCY_MINUTES),
                justification_sealed=self.sealer.seal(justification, context=f"grant/{grant_id}"),
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
        """Break-glass events on the supervisor's agency's cases (or by its staff), with justifications."""
        require_role(p, Action.EMERGENCY_REVIEW)
        with self._tx() as conn:
            rows = db.grants(conn, unreviewed_only=unreviewed_only, case_ids_owned_by=p.agency)
            self._audit(conn, p, "emergency.list", "emergency_grants", count=len(rows))
            return [
                {
                    "grant_id": r.grant_id,
                    "case_id": r.case_id,
                    "user_id": r.user_id,
                    "agency": r.agency,
                    "granted_at": db.aware(r.granted_at),
                    "expires_at": db.aware(r.expires_at),
                    "justification": self.sealer.open(
                        r.justification_sealed, context=f"grant/{r.grant_id}"
                    ),
                    "review_outcome": r.review_outcome,
                }
                for r in rows
            ]

    def review_emergency_access(self, p: Principal, grant_id: str, *, outcome: str) -> None:
        """A supervisor of the owning agency records whether the break-glass access was justified."""
        require_role(p, Action.EMERGENCY_REVIEW)
        if outcome not in ("justified", "unjustified"):
            raise ValidationError(
                "outcome not recognised",
                column="outcome",
                value=outcome,
                allowed="justified, unjustified",
            )
        with self._tx() as conn:
            grant = db.get_grant(conn, grant_id) if _valid_id(grant_id) else None
            owner = db.get_case_row(conn, grant.case_id) if grant else None
            if grant is None or owner is None or owner.agency != p.agency:
                raise NotFoundError(f"no emergency access {grant_id!r} for your agency to review")
            if not db.review_grant(conn, grant_id, by=p.user_id, outcome=outcome):
                raise WorkflowError("this emergency access was already reviewed")
            for task in db.open_tasks(conn, case_id=grant.case_id):
                if task.kind == "review_emergency_access" and grant_id in task.detail:
                    db.complete_task(conn, task.task_id, p.agency, by=p.user_id)
            self._audit(
                conn, p, "emergency.review", grant.case_id, grant_id=grant_id, outcome=outcome
            )

    def who_viewed(self, p: Principal, case_id: str) -> list[ViewEntry]:
        """Every read of the case and of its identity, newest first (owner agency only)."""
        with self._tx() as conn:
            self._load(conn, p, case_id, Action.VIEW_LOG)
            return [
                ViewEntry(r.username, r.agency, r.action, db.aware(r.at))
                for r in db.views(conn, case_id)
            ]

    # ---- timers and tasks (I6) ----

    def run_timers(self, at: datetime | None = None) -> int:
        """Create review tasks for deadlines passed. Never changes a case's state (I6)."""
        at = at or self.clock()
        states = {r.state for r in self.timers}
        created = 0
        with self._tx() as conn:
            for row in db.cases_in_states(conn, states):
                for due in nrm.due_reviews(row.status, db.aware(row.status_since), at, self.timers):
                    task = ReviewTask(
                        _id(), row.case_id, row.agency, due.task, due.due_at, at, due.rule
                    )
                    if db.insert_task(conn, task):
                        created += 1
                        self._audit(conn, None, "task.timer", row.case_id, task=due.task)
        return created

    def tasks(self, p: Principal) -> list[ReviewTask]:
        require_role(p, Action.TASKS_READ)
        with self._tx() as conn:
            return db.open_tasks(conn, agency=p.agency)

    def complete_task(self, p: Principal, task_id: str) -> None:
        require_role(p, Action.TASKS_READ)
        with self._tx() as conn:
            if not (_valid_id(task_id) and db.complete_task(conn, task_id, p.agency, by=p.user_id)):
                raise NotFoundError(f"no open task {task_id!r} for your agency")
            self._audit(conn, p, "task.done", task_id)

    # ---- dashboard, de-identified data, audit ----

    def dashboard(self, p: Principal) -> Dashboard:
        """Aggregates for the user's agency: cases by status, overdue referrals, caseload by month."""
        require_role(p, Action.DASHBOARD_READ)
        today = self.clock().date()
        with self._tx() as conn:
            counts = db.status_counts(conn, p.agency)
            over_in = len(
                db.agency_referrals(conn, p.agency, incoming=True, overdue_on=today, limit=10000)
            )
            over_out = len(
                db.agency_referrals(conn, p.agency, incoming=False, overdue_on=today, limit=10000)
            )
            tasks = len(db.open_tasks(conn, agency=p.agency))
            created, closed = db.caseload_by_month(conn, p.agency)
        return Dashboard(p.agency, counts, over_in, over_out, tasks, _caseload(created, closed))

    def deidentified_cases(self, p: Principal, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The agency's cases without any identifier or case number: for analysts."""
        require_role(p, Action.DEIDENTIFIED_READ)
        with self._tx() as conn:
            rows = db.deidentified_rows(conn, p.agency, min(max(limit, 1), 10000))
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
    ) -> list[dict[str, Any]]:
        """The audit log (auditors only); reading it is itself audited."""
        require_role(p, Action.AUDIT_READ)
        with self._tx() as conn:
            out = []
            for entry in self.audit.entries(conn, subject=subject, action=action):
                out.append(dataclasses.asdict(entry))
                if len(out) >= limit:
                    break
            self._audit(conn, p, "audit.read", subject or "audit_log", count=len(out))
            return out

    def verify_audit(self, p: Principal) -> dict[str, Any]:
        require_role(p, Action.AUDIT_READ)
        with self._tx() as conn:
            return dataclasses.asdict(self.audit.verify(conn))


_REGION_COLUMN = {
    "main": "status",
    "assistance": "assistance_state",
    "justice": "justice_state",
    "non_punishment": "non_punishment_state",
    "child": "child_state",
}


def _valid_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _identity_json(identity: Identity) -> str:
    data = dataclasses.asdict(identity)
    data["aliases"] = list(identity.aliases)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def _check_intake(intake: CaseIntake) -> None:
    sexes = code_list("sex").codes
    if intake.sex not in sexes:
        raise ValidationError(
            "sex not recognised", column="sex", value=intake.sex, allowed=", ".join(sexes)
        )
    if intake.age is not None and not 0 <= intake.age <= 120:
        raise ValidationError("age must be between 0 and 120", column="age", value=intake.age)
    forms = code_list("exploitation_form").codes
    bad = [f for f in intake.exploitation_forms if f not in forms]
    if bad:
        raise ValidationError(
            "form of exploitation not recognised",
            column="exploitation_forms",
            value=", ".join(bad),
            allowed=", ".join(forms),
        )
    if intake.nationality is not None and not (
        len(intake.nationality) == 3
        and intake.nationality.isalpha()
        and intake.nationality.isupper()
    ):
        raise ValidationError(
            "nationality must be an ISO 3166 alpha-3 code",
            column="nationality",
            value=intake.nationality,
            hint="e.g. NGA, VNM, ROU",
        )


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
