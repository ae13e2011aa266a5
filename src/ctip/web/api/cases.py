"""REST routes for cases: intake, reading, editing, screening, NRM steps, consent, identity.

Thin adapter: each route validates the body (schemas.py), calls one ``Casework`` method with the
caller's principal, and shapes the answer with a Public model. Access decisions live in the
service and the domain, never here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from ctip.domain import screening
from ctip.domain.records import Identity
from ctip.services.casework import CaseIntake, CaseView
from ctip.web.api.schemas import (
    NO_NUL,
    CaseCreate,
    CasePublic,
    CaseSearch,
    CaseUpdate,
    ConsentCreate,
    ConsentPublic,
    DimensionPublic,
    EmergencyCreate,
    EmergencyGrantPublic,
    IdentityIn,
    IdentityPublic,
    IndicatorPublic,
    NextSteps,
    RevealCreate,
    ScreeningCreate,
    ScreeningPublic,
    TransitionCreate,
    ViewPublic,
)
from ctip.web.security import CaseworkDep, PrincipalDep

router = APIRouter(prefix="/cases", tags=["cases"])
QueryText = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


def case_public(view: CaseView) -> CasePublic:
    return CasePublic(
        **{
            **view.data,
            "case_id": view.case_id,
            "relation": view.relation,
            "version": view.version,
            "revealable_identity": list(view.revealable_identity),
        }
    )


def screening_public(result: screening.ScreeningResult) -> ScreeningPublic:
    return ScreeningPublic(
        profile=result.profile,
        classification=result.classification,
        suggested_status=result.suggested_status,
        reasons=list(result.reasons),
        positive_dimensions=list(result.positive_dimensions()),
        dimensions=[DimensionPublic.model_validate(asdict(d)) for d in result.dimensions],
        rule_version=result.rule_version,
    )


def _identity(body: IdentityIn) -> Identity:
    data = body.model_dump()
    data["aliases"] = tuple(data.get("aliases") or ())
    return Identity(**data)


@router.get("", response_model=list[CasePublic], response_model_exclude_unset=True)
def list_cases(
    who: PrincipalDep,
    cw: CaseworkDep,
    status_: Annotated[str | None, Query(alias="status", max_length=40, pattern=NO_NUL)] = None,
    case_id: QueryText = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CasePublic]:
    """Cases your agency owns or has a live referral for, newest first. To search by name use
    ``POST /api/cases/search``: a name never travels in a URL (logs, proxies, history)."""
    return [
        case_public(v)
        for v in cw.search_cases(who, status=status_, case_id=case_id, limit=limit, offset=offset)
    ]


@router.post("/search", response_model=list[CasePublic], response_model_exclude_unset=True)
def search_cases(body: CaseSearch, who: PrincipalDep, cw: CaseworkDep) -> list[CasePublic]:
    """Search by exact full name (matched on a keyed hash, nothing decrypted), status or case id."""
    return [
        case_public(v)
        for v in cw.search_cases(
            who,
            status=body.status,
            name=body.name,
            case_id=body.case_id,
            limit=body.limit,
            offset=body.offset,
        )
    ]


@router.post(
    "",
    response_model=CasePublic,
    response_model_exclude_unset=True,
    status_code=status.HTTP_201_CREATED,
)
def create_case(body: CaseCreate, who: PrincipalDep, cw: CaseworkDep) -> CasePublic:
    """Intake: a new case in ``signal``; identity is sealed at once."""
    intake = CaseIntake(
        sex=body.sex,
        age=body.age,
        age_disputed=body.age_disputed,
        nationality=body.nationality,
        languages=tuple(body.languages),
        interpreter_needed=body.interpreter_needed,
        exploitation_forms=tuple(body.exploitation_forms),
        notes=body.notes,
        identity=_identity(body.identity),
    )
    return case_public(cw.create_case(who, intake))


@router.get("/{case_id}", response_model=CasePublic, response_model_exclude_unset=True)
def get_case(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> CasePublic:
    return case_public(cw.get_case(who, case_id))


@router.patch("/{case_id}", response_model=CasePublic, response_model_exclude_unset=True)
def edit_case(case_id: str, body: CaseUpdate, who: PrincipalDep, cw: CaseworkDep) -> CasePublic:
    """Change intake fields; send the ``version`` you read (409 if someone changed it since)."""
    changes = body.model_dump(exclude_unset=True, exclude={"version", "identity"})
    for key in ("languages", "exploitation_forms"):
        if key in changes:
            changes[key] = tuple(changes[key] or ())
    if body.identity is not None:
        changes["identity"] = _identity(body.identity)
    return case_public(cw.edit_case(who, case_id, changes, expected_version=body.version))


@router.post("/{case_id}/screening", response_model=ScreeningPublic)
def screen_case(
    case_id: str, body: ScreeningCreate, who: PrincipalDep, cw: CaseworkDep
) -> ScreeningPublic:
    """Record indicator observations; answers the suggested status and its reasons (a person
    decides)."""
    return screening_public(cw.screen_case(who, case_id, body.observations, profile=body.profile))


@router.get("/{case_id}/screening", response_model=ScreeningPublic | None)
def latest_screening(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> ScreeningPublic | None:
    result = cw.latest_screening(who, case_id)
    return screening_public(result) if result else None


@router.get("/{case_id}/next-steps", response_model=NextSteps)
def next_steps(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> NextSteps:
    return NextSteps(steps={k: list(v) for k, v in cw.next_steps(who, case_id).items()})


@router.post("/{case_id}/transitions", response_model=CasePublic, response_model_exclude_unset=True)
def transition(
    case_id: str, body: TransitionCreate, who: PrincipalDep, cw: CaseworkDep
) -> CasePublic:
    """One NRM step (checked by the state machine: who may act, guards, reasons)."""
    return case_public(
        cw.transition(
            who,
            case_id,
            to_state=body.to_state,
            region=body.region,
            reason=body.reason,
            confirmations=body.confirmations,
            consent_id=body.consent_id,
            expected_version=body.version,
        )
    )


@router.get("/{case_id}/consents", response_model=list[ConsentPublic])
def consents(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> list[ConsentPublic]:
    return [ConsentPublic(**asdict(c), live=c.live) for c in cw.consents(who, case_id)]


@router.post(
    "/{case_id}/consents", response_model=ConsentPublic, status_code=status.HTTP_201_CREATED
)
def record_consent(
    case_id: str, body: ConsentCreate, who: PrincipalDep, cw: CaseworkDep
) -> ConsentPublic:
    c = cw.record_consent(
        who,
        case_id,
        purpose=body.purpose,
        recipient=body.recipient,
        given_by=body.given_by,
        text_version=body.text_version,
    )
    return ConsentPublic(**asdict(c), live=c.live)


@router.post("/{case_id}/consents/{consent_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_consent(case_id: str, consent_id: str, who: PrincipalDep, cw: CaseworkDep) -> None:
    """Revoke a consent; referrals that relied on it are revoked with it."""
    cw.revoke_consent(who, case_id, consent_id)


@router.post(
    "/{case_id}/identity", response_model=IdentityPublic, response_model_exclude_unset=True
)
def reveal_identity(
    case_id: str, body: RevealCreate, who: PrincipalDep, cw: CaseworkDep
) -> IdentityPublic:
    """Open the sealed identity for a stated reason (audited; a receiving agency gets shared fields
    only)."""
    fields = tuple(body.fields) if body.fields else None
    return IdentityPublic(**cw.reveal_identity(who, case_id, reason=body.reason, fields=fields))


@router.post(
    "/{case_id}/emergency-access",
    response_model=EmergencyGrantPublic,
    status_code=status.HTTP_201_CREATED,
)
def emergency_access(
    case_id: str, body: EmergencyCreate, who: PrincipalDep, cw: CaseworkDep
) -> EmergencyGrantPublic:
    """Break-glass access for 60 minutes, with a justification a supervisor reviews afterwards."""
    return EmergencyGrantPublic(
        **cw.emergency_access(who, case_id, justification=body.justification)
    )


@router.get("/{case_id}/views", response_model=list[ViewPublic])
def who_viewed(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> list[ViewPublic]:
    """Who viewed this record, newest first."""
    return [ViewPublic(**asdict(v)) for v in cw.who_viewed(who, case_id)]


indicators_router = APIRouter(tags=["screening"])


@indicators_router.get("/indicators", response_model=list[IndicatorPublic])
def indicators(
    profile: Annotated[str, Query(pattern=r"^(AL|CL)$")] = "AL",
) -> list[IndicatorPublic]:
    """The ILO/EC indicator list of a profile (for screening forms)."""
    return [
        IndicatorPublic(
            id=i.id, dimension=i.dimension, text=i.text, strength=str(i.strength[profile])
        )
        for i in screening.indicators(profile)
    ]
