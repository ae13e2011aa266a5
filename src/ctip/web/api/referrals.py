"""REST routes for referrals, services given, the service directory, tasks and emergency reviews."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from ctip.domain.casework import Referral, Service
from ctip.web.api.schemas import (
    NO_NUL,
    EmergencyReviewCreate,
    EmergencyReviewItem,
    ReferralCreate,
    ReferralDecline,
    ReferralPublic,
    ServiceCreate,
    ServiceGivenCreate,
    ServiceGivenPublic,
    ServicePublic,
    TaskPublic,
)
from ctip.web.security import CaseworkDep, PrincipalDep

router = APIRouter(tags=["referrals"])


def referral_public(ref: Referral) -> ReferralPublic:
    data = asdict(ref)
    data["shared_fields"] = sorted(ref.shared_fields)
    return ReferralPublic(**data, overdue=ref.overdue(datetime.now(UTC).date()))


@router.post(
    "/cases/{case_id}/referrals", response_model=ReferralPublic, status_code=status.HTTP_201_CREATED
)
def refer(case_id: str, body: ReferralCreate, who: PrincipalDep, cw: CaseworkDep) -> ReferralPublic:
    """Refer to another agency, sharing only ``shared_fields`` of the identity (adults: consent
    first)."""
    return referral_public(
        cw.refer(
            who,
            case_id,
            to_agency=body.to_agency,
            purpose=body.purpose,
            shared_fields=body.shared_fields,
            service_id=body.service_id,
            due_date=body.due_date,
            consent_id=body.consent_id,
            consent_override=body.consent_override,
        )
    )


@router.get("/cases/{case_id}/referrals", response_model=list[ReferralPublic])
def case_referrals(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> list[ReferralPublic]:
    return [referral_public(r) for r in cw.case_referrals(who, case_id)]


@router.get("/referrals", response_model=list[ReferralPublic])
def referrals(
    who: PrincipalDep,
    cw: CaseworkDep,
    direction: Annotated[str, Query(pattern=r"^(incoming|outgoing)$")] = "incoming",
    overdue: bool = False,
) -> list[ReferralPublic]:
    """Your agency's incoming or outgoing referrals; ``overdue=true`` lists pending ones past
    due."""
    return [
        referral_public(r)
        for r in cw.referrals(who, incoming=direction == "incoming", overdue_only=overdue)
    ]


@router.post("/referrals/{referral_id}/accept", response_model=ReferralPublic)
def accept(referral_id: str, who: PrincipalDep, cw: CaseworkDep) -> ReferralPublic:
    return referral_public(cw.accept_referral(who, referral_id))


@router.post("/referrals/{referral_id}/decline", response_model=ReferralPublic)
def decline(
    referral_id: str, body: ReferralDecline, who: PrincipalDep, cw: CaseworkDep
) -> ReferralPublic:
    return referral_public(cw.decline_referral(who, referral_id, reason=body.reason))


@router.post("/referrals/{referral_id}/complete", response_model=ReferralPublic)
def complete(referral_id: str, who: PrincipalDep, cw: CaseworkDep) -> ReferralPublic:
    return referral_public(cw.complete_referral(who, referral_id))


@router.post("/referrals/{referral_id}/revoke", response_model=ReferralPublic)
def revoke(referral_id: str, who: PrincipalDep, cw: CaseworkDep) -> ReferralPublic:
    return referral_public(cw.revoke_referral(who, referral_id))


@router.post(
    "/cases/{case_id}/services-given",
    response_model=ServiceGivenPublic,
    status_code=status.HTTP_201_CREATED,
)
def record_service(
    case_id: str, body: ServiceGivenCreate, who: PrincipalDep, cw: CaseworkDep
) -> ServiceGivenPublic:
    entry = cw.record_service(
        who,
        case_id,
        service_type=body.service_type,
        given_on=body.given_on,
        referral_id=body.referral_id,
        note=body.note,
    )
    return ServiceGivenPublic(**asdict(entry))


@router.get("/cases/{case_id}/services-given", response_model=list[ServiceGivenPublic])
def services_given(case_id: str, who: PrincipalDep, cw: CaseworkDep) -> list[ServiceGivenPublic]:
    return [ServiceGivenPublic(**asdict(e)) for e in cw.services_given(who, case_id)]


@router.get("/services", response_model=list[ServicePublic], tags=["directory"])
def find_services(
    who: PrincipalDep,
    cw: CaseworkDep,
    service_type: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
    location: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    sex: Annotated[str | None, Query(max_length=20, pattern=NO_NUL)] = None,
    age: Annotated[int | None, Query(ge=0, le=120)] = None,
    language: Annotated[str | None, Query(max_length=20, pattern=NO_NUL)] = None,
    eligible_only: bool = False,
) -> list[ServicePublic]:
    """The service directory; ``eligible_only`` keeps services whose eligibility fits the person."""
    found = cw.find_services(
        who,
        service_type=service_type,
        location=location,
        sex=sex,
        age=age,
        language=language,
        eligible_only=eligible_only,
    )
    return [ServicePublic(**asdict(s)) for s in found]


@router.post(
    "/services",
    response_model=ServicePublic,
    status_code=status.HTTP_201_CREATED,
    tags=["directory"],
)
def add_service(body: ServiceCreate, who: PrincipalDep, cw: CaseworkDep) -> ServicePublic:
    data = body.model_dump()
    data["languages"], data["sexes"] = tuple(data["languages"]), tuple(data["sexes"])
    return ServicePublic(**asdict(cw.add_service(who, Service(service_id="", **data))))


@router.get("/tasks", response_model=list[TaskPublic], tags=["tasks"])
def tasks(who: PrincipalDep, cw: CaseworkDep) -> list[TaskPublic]:
    """Open review tasks of your agency (timers create them; they never cut support)."""
    return [TaskPublic(**asdict(t)) for t in cw.tasks(who)]


@router.post("/tasks/{task_id}/done", status_code=status.HTTP_204_NO_CONTENT, tags=["tasks"])
def task_done(task_id: str, who: PrincipalDep, cw: CaseworkDep) -> None:
    cw.complete_task(who, task_id)


@router.get("/emergency-access", response_model=list[EmergencyReviewItem], tags=["protection"])
def emergency_reviews(
    who: PrincipalDep, cw: CaseworkDep, unreviewed_only: bool = True
) -> list[EmergencyReviewItem]:
    """Break-glass events for supervisors to review."""
    return [
        EmergencyReviewItem(**g) for g in cw.emergency_reviews(who, unreviewed_only=unreviewed_only)
    ]


@router.post(
    "/emergency-access/{grant_id}/review",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["protection"],
)
def review_emergency(
    grant_id: str, body: EmergencyReviewCreate, who: PrincipalDep, cw: CaseworkDep
) -> None:
    cw.review_emergency_access(who, grant_id, outcome=body.outcome)
