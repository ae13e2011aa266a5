"""Case-management use cases: intake, screening, NRM steps, consent, referral, services, protection.

Every public method takes the acting :class:`~ctip.domain.access.Principal` first, checks access in
the fixed order of ``domain/access.py`` (role, then relationship, then action), does its work and
writes an audit entry in the *same* transaction. Audit details carry ids, states and field names,
never identity or free text (free text is sealed in the case tables).

Method names are a stable interface for the web pages and the REST API:
``create_case``, ``get_case``, ``case_page``, ``search_cases``, ``edit_case``, ``screen_case``,
``latest_screening``, ``next_steps``, ``transition``, ``record_consent``, ``revoke_consent``,
``consents``, ``refer``,
``accept_referral``, ``decline_referral``, ``complete_referral``, ``revoke_referral``,
``referrals``, ``case_referrals``, ``record_service``, ``services_given``, ``add_service``,
``find_services``, ``reveal_identity``, ``emergency_access``, ``emergency_reviews``,
``review_emergency_access``, ``who_viewed``, ``run_timers``, ``tasks``, ``complete_task``,
``dashboard``, ``deidentified_cases``, ``audit_entries``, ``verify_audit``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ctip.domain import nrm, screening
from ctip.domain.access import (
    ROLE_ACTIONS,
    Action,
    Principal,
    Relation,
    authorize,
    require_role,
)
from ctip.domain.casework import (
    INTAKE_FIELDS,
    REGION_FIELD,
    SEALED_CASE_FIELDS,
    Case,
    ConsentRecord,
    Referral,
    Service,
    ServiceEntry,
)
from ctip.domain.records import Identity
from ctip.domain.vocabulary import code_list
from ctip.errors import PermissionDeniedError, ValidationError, WorkflowError
from ctip.services.casework_core import (  # noqa: F401 - re-exported for adapters
    DEFAULT_REFERRAL_DAYS,
    EMERGENCY_MINUTES,
    PURPOSE_CONSENT,
    CaseView,
    CaseworkCore,
    Dashboard,
    Step,
    ViewEntry,
    _id,
    allowed_steps,
    step_regions,
)
from ctip.services.protection import ProtectionWork, _views
from ctip.services.referrals import ReferralWork
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage import protection as pdb
from ctip.storage import referrals as rdb
from ctip.storage.sealing import normalise_name


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
class CasePage:
    """What the case page shows, each part as this user may see it (None: not theirs to see)."""

    view: CaseView
    screening: screening.ScreeningResult | None
    consents: list[ConsentRecord] | None
    referrals: list[Referral]
    services_given: list[ServiceEntry]
    views: list[ViewEntry] | None
    directory: list[Service] | None
    steps: tuple[Step, ...] = ()  # the NRM steps this user may take now


class Casework(ReferralWork, ProtectionWork):
    """The case-management service over one database. Build it with :meth:`open` or directly."""

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
                    _identity_json(ident), context=sdb.case_identity_context(case.case_id)
                ),
                notes_sealed=self._seal(intake.notes, sdb.case_notes_context(case.case_id)),
                name_key=self.pseudonymiser.keyed_hash("case-name", name.encode())
                if name
                else None,
            )
            self._audit(conn, p, "case.create", case.case_id, status="signal")
            row = db.get_case_row(conn, case.case_id)
            assert row is not None  # inserted above, in this transaction
            return self._view(row, Relation.OWNER, {}, p, intake.notes)

    def get_case(self, p: Principal, case_id: str) -> CaseView:
        """One case, fields limited by the user's relation; the read is logged (who viewed)."""
        with self._tx() as conn:
            view, rel = self._read_case(conn, p, case_id)
            self._audit(conn, p, "case.view", case_id, relation=rel.value)
            return view

    def case_page(self, p: Principal, case_id: str) -> CasePage:
        """Everything a case page shows, read in one transaction (one connection, one commit).

        The same checks as the separate calls (``get_case``, ``latest_screening``,
        ``consents``, ``case_referrals``, ``services_given``, ``who_viewed``,
        ``find_services``): the case is read with CASE_READ, then each part is added only if
        this user's role and relation allow its own action; a part they may not see is None.
        The read is recorded for "who viewed" and audited (``case.view``) exactly as
        ``get_case`` does; the audit entry is the last statement before commit, so the audit
        chain's lock is held only for the append and the commit."""
        with self._tx() as conn:
            view, rel = self._read_case(conn, p, case_id)
            owner = rel is Relation.OWNER
            latest = db.latest_screening(conn, case_id) if owner else None
            page = CasePage(
                view=view,
                screening=screening.screen(json.loads(latest.observations), latest.profile)
                if latest
                else None,
                consents=rdb.case_consents(conn, case_id)
                if owner and _allowed(p, Action.CONSENT_RECORD, rel, case_id)
                else None,
                referrals=self._case_referrals(conn, p, case_id, rel),
                services_given=self._services_given(conn, p, case_id, rel),
                views=_views(conn, case_id)
                if owner and _allowed(p, Action.VIEW_LOG, rel, case_id)
                else None,
                directory=rdb.list_services(conn)
                if Action.DIRECTORY_READ in ROLE_ACTIONS.get(p.role, frozenset())
                else None,
                steps=allowed_steps(
                    p, rel, case_id,
                    {r: view.data.get(REGION_FIELD[r]) for r in step_regions(rel)},
                ),
            )
            self._audit(conn, p, "case.view", case_id, relation=rel.value)
            return page

    def _read_case(
        self, conn: sa.Connection, p: Principal, case_id: str
    ) -> tuple[CaseView, Relation]:
        """Load one case with CASE_READ and record the read for "who viewed" (not yet audited:
        the caller appends ``case.view`` last, just before its transaction commits)."""
        row, rel, live = self._load(conn, p, case_id, Action.CASE_READ)
        notes = (
            self._open(row.notes_sealed, sdb.case_notes_context(case_id))
            if rel is Relation.OWNER
            else None
        )
        pdb.record_view(
            conn,
            case_id=case_id,
            user_id=p.user_id,
            username=p.username,
            agency=p.agency,
            action="view",
        )
        return self._view(row, rel, live, p, notes), rel

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
            received = [r.case_id for r in rows if r.agency != p.agency]
            shared = rdb.live_referral_agencies_many(conn, received)
            out = []
            for row in rows:
                rel = Relation.OWNER if row.agency == p.agency else Relation.RECIPIENT
                out.append(self._view(row, rel, shared.get(row.case_id, {}), p))
            self._audit(conn, p, "case.search", "cases", count=len(out), by_name=bool(name))
            return out

    def edit_case(
        self, p: Principal, case_id: str, changes: Mapping[str, Any], *, expected_version: int
    ) -> CaseView:
        """Change intake fields. A stale ``expected_version`` raises ConflictError (nothing
        lost)."""
        allowed = {*INTAKE_FIELDS, *SEALED_CASE_FIELDS}
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
                values["notes_sealed"] = self._seal(
                    changes["notes"], sdb.case_notes_context(case_id)
                )
            if "identity" in changes:
                ident = changes["identity"]
                values["identity_sealed"] = self.sealer.seal(
                    _identity_json(ident), context=sdb.case_identity_context(case_id)
                )
                name = normalise_name(ident.given_name, ident.family_name)
                values["name_key"] = (
                    self.pseudonymiser.keyed_hash("case-name", name.encode()) if name else None
                )
            db.update_case(conn, case_id, expected_version=expected_version, values=values)
            self._audit(
                conn, p, "case.edit", case_id, fields=sorted(changes), version=expected_version + 1
            )
            updated = db.get_case_row(conn, case_id)
            assert updated is not None  # updated above, in this transaction
            notes = self._open(updated.notes_sealed, sdb.case_notes_context(case_id))
            return self._view(updated, rel, live, p, notes)

    # ---- screening and the NRM workflow ----

    def screen_case(
        self,
        p: Principal,
        case_id: str,
        observations: Mapping[str, str],
        *,
        profile: str | None = None,
    ) -> screening.ScreeningResult:
        """Apply the ILO/EC indicators; stores the observations and the suggestion (not a
        decision)."""
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
        """Per region, the states this user may move the case to now (``allowed_steps``: the
        permission ``transition`` checks, then the state machine; guards checked on submit)."""
        with self._tx() as conn:
            row, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
        case = db.case_from_row(row)
        states = {r: getattr(case, REGION_FIELD[r]) for r in step_regions(rel)}
        steps = allowed_steps(p, rel, case_id, states)
        return {r: tuple(s.target for s in steps if s.region == r) for r in states}

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
            if region not in REGION_FIELD:
                raise WorkflowError(
                    f"unknown workflow region {region!r}",
                    hint=f"use one of {', '.join(nrm.REGIONS)}",
                )
            current = getattr(case, REGION_FIELD[region])
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
                reason_sealed=self._seal(reason, sdb.event_reason_context(event_id)),
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
            updated = db.get_case_row(conn, case_id)
            assert updated is not None  # updated above, in this transaction
            return self._view(updated, rel, live, p)

    def _apply(
        self, conn: sa.Connection, case: Case, outcome: nrm.Outcome, p: Principal
    ) -> dict[str, Any]:
        values: dict[str, Any] = {REGION_FIELD[outcome.region]: outcome.target}
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
                rdb.revoke_consent(conn, case.case_id, None, by=p.user_id)
            elif effect == "stop_sharing":
                self._revoke_live_referrals(conn, p, case.case_id)
            elif effect.endswith("_task"):
                self._task(conn, case, effect.removesuffix("_task"))
        return values


def _allowed(p: Principal, action: Action, rel: Relation, case_id: str) -> bool:
    try:
        authorize(p, action, rel, case_id)
    except PermissionDeniedError:
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
