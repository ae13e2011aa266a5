"""Intake use cases: a new case, reading and searching cases, editing intake fields, screening.

Over ``CaseworkCore`` (the store's engine, keys and audit, and the access-checked loading); one
of the four use-case classes ``Casework`` brings together for the adapters."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ctip.domain import screening
from ctip.domain.access import (
    Action,
    Principal,
    Relation,
    require_role,
)
from ctip.domain.casework import (
    INTAKE_FIELDS,
    SEALED_CASE_FIELDS,
    Case,
    format_case_number,
    looks_like_case_number,
)
from ctip.domain.records import Identity
from ctip.domain.vocabulary import code_list
from ctip.errors import ValidationError
from ctip.services.casework_core import (
    CaseView,
    CaseworkCore,
    _id,
)
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



class IntakeWork(CaseworkCore):
    """Intake, reading, search, editing and screening of cases."""

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
            sequence = db.next_case_number(conn, p.agency, at.year)
            case = dataclasses.replace(
                case, case_number=format_case_number(p.agency, at.year, sequence)
            )
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
            self._audit(conn, p, "case.create", case.case_id, status="signal",
                        case_number=case.case_number)
            row = db.get_case_row(conn, case.case_id)
            assert row is not None  # inserted above, in this transaction
            return self._view(row, Relation.OWNER, {}, p, intake.notes)

    def get_case(self, p: Principal, case_id: str) -> CaseView:
        """One case, fields limited by the user's relation; the read is logged (who viewed)."""
        with self._tx() as conn:
            view, rel = self._read_case(conn, p, case_id)
            self._audit(conn, p, "case.view", case_id, relation=rel.value)
            return view

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
        (normalised) through a keyed hash: nothing is decrypted to search. ``case_id`` is the
        start of a readable case number ("AA-2026-0004") or of a case id (a UUID)."""
        require_role(p, Action.CASE_LIST)
        key = None
        if name:
            norm = normalise_name(name)
            key = self.pseudonymiser.keyed_hash("case-name", norm.encode()) if norm else None
        number = bool(case_id) and looks_like_case_number(case_id or "")
        with self._tx() as conn:
            rows = db.search_cases(
                conn,
                agencies_owned=p.agency,
                referred_to=p.agency,
                status=status,
                name_key=key,
                case_id_prefix=None if number else (case_id or "").lower() or None,
                case_number_prefix=case_id.strip().upper() if number and case_id else None,
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

    def case_numbers(self, p: Principal, case_ids: Iterable[str]) -> dict[str, str]:
        """Readable numbers of cases the user's agency owns or has a referral for (to show in
        lists of referrals and tasks); a number alone names no one, so no audit entry."""
        with self._tx() as conn:
            return db.case_numbers(conn, p.agency, case_ids)

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

