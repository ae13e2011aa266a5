"""Request and response models: a Create / Update / Public family per resource.

Why a family: what a client may send (Create, Update) and what it may see (Public) differ, and a
response model is the last line that keeps internal fields (sealed blobs, who-recorded ids, the
owner-only fields for a receiving agency) out of an answer. Every string is bounded and refuses
NUL characters, so no input can reach the database in a shape it would reject with a 500.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

NO_NUL = r"^[^\x00]*$"
Short = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Code = Annotated[str, StringConstraints(max_length=60, pattern=NO_NUL)]
Text = Annotated[str, StringConstraints(max_length=4000, pattern=NO_NUL)]
Ref = Annotated[str, StringConstraints(max_length=36, pattern=NO_NUL)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---- sessions and users ----


class SessionCreate(_In):
    username: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
    password: Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
    code: Annotated[str, StringConstraints(max_length=10, pattern=NO_NUL)] = Field(
        description="the 6-digit code from the authenticator app"
    )


class UserPublic(_Out):
    user_id: str
    username: str
    role: str
    agency: str


class SessionPublic(_Out):
    token: str = Field(description="send as 'Authorization: Bearer <token>' (also set as a cookie)")
    csrf_token: str = Field(description="send in X-CSRF-Token on cookie-authenticated writes")
    expires_at: datetime
    user: UserPublic


class UserCreate(_In):
    username: Code
    password: Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)]
    role: Code
    agency: Short


class UserCreated(UserPublic):
    otpauth_uri: str = Field(description="shown once: add it to the authenticator app")


class UserListed(UserPublic):
    active: bool
    locked_until: datetime | None = None


# ---- cases ----


class IdentityIn(_In):
    given_name: Short | None = None
    family_name: Short | None = None
    aliases: list[Short] = Field(default_factory=list, max_length=20)
    date_of_birth: (
        Annotated[str, StringConstraints(max_length=10, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]
        | None
    ) = None
    document_number: Short | None = None
    phone: Short | None = None
    email: Short | None = None
    address: Text | None = None
    narrative: Text | None = None


class CaseCreate(_In):
    sex: Code = "unknown"
    age: int | None = Field(default=None, ge=0, le=120)
    age_disputed: bool = False
    nationality: (
        Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")] | None
    ) = None
    languages: list[Code] = Field(default_factory=list, max_length=20)
    interpreter_needed: bool = False
    exploitation_forms: list[Code] = Field(default_factory=list, max_length=20)
    notes: Text | None = None
    identity: IdentityIn = Field(default_factory=IdentityIn)


class CaseUpdate(_In):
    version: int = Field(
        ge=1, le=2**31, description="the version you read; a newer one answers 409"
    )
    sex: Code | None = None
    age: int | None = Field(default=None, ge=0, le=120)
    age_disputed: bool | None = None
    nationality: (
        Annotated[str, StringConstraints(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")] | None
    ) = None
    languages: list[Code] | None = Field(default=None, max_length=20)
    interpreter_needed: bool | None = None
    exploitation_forms: list[Code] | None = Field(default=None, max_length=20)
    notes: Text | None = None
    identity: IdentityIn | None = None


class CaseSearch(_In):
    name: Short | None = Field(default=None, description="full name; matched exactly, normalised")
    status: Code | None = None
    case_id: Short | None = Field(
        default=None, description="the start of a case number (AA-2026-00042) or case id"
    )
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class CasePublic(_Out):
    """A case as the caller may see it. Fields the caller may not see are absent, not null."""

    case_id: str
    case_number: str | None = Field(default=None, description="readable, unique per agency")
    relation: str = Field(description="owner, recipient (via a referral) or emergency")
    version: int
    revealable_identity: list[str]
    agency: str | None = None
    status: str | None = None
    sex: str | None = None
    age: int | None = None
    age_disputed: bool | None = None
    is_child: bool | None = None
    languages: list[str] | None = None
    interpreter_needed: bool | None = None
    exploitation_forms: list[str] | None = None
    nationality: str | None = None
    assistance_state: str | None = None
    child_state: str | None = None
    residence_state: str | None = None
    non_punishment_flag: bool | None = None
    non_punishment_state: str | None = None
    justice_state: str | None = None
    notes: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ScreeningCreate(_In):
    observations: dict[
        Annotated[str, StringConstraints(max_length=10, pattern=NO_NUL)],
        Literal["yes", "no", "unknown", "declined"],
    ] = Field(max_length=100)
    profile: Literal["AL", "CL", "AS", "CS"] | None = None


class DimensionPublic(_Out):
    dimension: str
    name: str
    positive: bool
    strong: list[str]
    medium: list[str]
    weak: list[str]


class ScreeningPublic(_Out):
    profile: str
    classification: str
    suggested_status: str = Field(description="a suggestion only: a person decides")
    reasons: list[str]
    positive_dimensions: list[str]
    dimensions: list[DimensionPublic]
    rule_version: str


class IndicatorPublic(_Out):
    id: str
    dimension: str
    text: str
    strength: str


class TransitionCreate(_In):
    to_state: Code
    region: Literal[
        "main", "assistance", "justice", "non_punishment", "child", "residence"
    ] = "main"
    reason: Text = ""
    confirmations: list[Code] = Field(default_factory=list, max_length=10)
    consent_id: Ref | None = None
    version: int | None = Field(default=None, ge=1, le=2**31)


class NextSteps(_Out):
    steps: dict[str, list[str]]


class ConsentCreate(_In):
    purpose: Code
    recipient: Short | None = None
    given_by: Literal["person", "guardian"] = "person"
    text_version: Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL)] = "1"


class ConsentPublic(_Out):
    consent_id: str
    purpose: str
    recipient: str | None
    given_at: datetime
    given_by: str
    text_version: str
    live: bool
    revoked_at: datetime | None = None


class ReferralCreate(_In):
    to_agency: Short
    purpose: Literal["nrm_referral", "service", "law_enforcement"] = "service"
    shared_fields: list[Code] = Field(
        default_factory=list, max_length=20, description="identity fields the recipient may see"
    )
    service_id: Ref | None = None
    due_date: date | None = None
    consent_id: Ref | None = None
    consent_override: Text | None = Field(
        default=None,
        description="supervisors only, when there is no consent: why the referral cannot wait "
        "(audited, reviewed)",
    )


class ReferralDecline(_In):
    reason: Text


class ReferralPublic(_Out):
    referral_id: str
    case_id: str
    from_agency: str
    to_agency: str
    purpose: str
    shared_fields: list[str]
    status: str
    service_id: str | None = None
    due_date: date | None = None
    created_at: datetime | None = None
    responded_at: datetime | None = None
    overdue: bool = False


class ServiceGivenCreate(_In):
    service_type: Code
    given_on: date | None = None
    referral_id: Ref | None = None
    note: Text | None = None


class ServiceGivenPublic(_Out):
    entry_id: str
    agency: str
    service_type: str
    given_on: date
    referral_id: str | None = None
    note: str | None = None


class ServiceCreate(_In):
    agency: Short
    name: Short
    service_type: Code
    location: Short | None = None
    languages: list[Code] = Field(default_factory=list, max_length=20)
    sexes: list[Code] = Field(default_factory=list, max_length=5)
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    accepts_children: bool = True
    capacity: int | None = Field(default=None, ge=0, le=1_000_000)


class ServicePublic(ServiceCreate):
    model_config = ConfigDict(extra="ignore")
    service_id: str


class RevealCreate(_In):
    reason: Text = Field(description="why you need the identity; recorded in the audit log")
    fields: list[str] | None = Field(
        default=None,
        description="only these identity fields (default: all you may see; under emergency "
        "access, only given_name, family_name and date_of_birth unless named here)",
        max_length=20,
    )


class IdentityPublic(_Out):
    """Only the identity fields the caller may see are present."""

    given_name: str | None = None
    family_name: str | None = None
    aliases: list[str] | None = None
    date_of_birth: str | None = None
    document_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    narrative: str | None = None


class EmergencyCreate(_In):
    justification: Text = Field(description="at least 20 characters; a supervisor reviews it")


class EmergencyGrantPublic(_Out):
    grant_id: str
    case_id: str
    expires_at: datetime


class EmergencyReviewItem(_Out):
    grant_id: str
    case_id: str
    user_id: str
    agency: str
    granted_at: datetime
    expires_at: datetime
    justification: str
    review_outcome: str | None = None


class EmergencyReviewCreate(_In):
    outcome: Literal["justified", "unjustified"]


class ViewPublic(_Out):
    username: str
    agency: str
    action: str
    at: datetime


class TaskPublic(_Out):
    task_id: str
    case_id: str
    kind: str
    due_at: datetime
    detail: str
    safety: bool


class DashboardPublic(_Out):
    agency: str
    status_counts: dict[str, int]
    overdue_incoming: int
    overdue_outgoing: int
    open_tasks: int
    caseload_by_month: list[tuple[str, int, int]]


class DeidentifiedCase(_Out):
    status: str
    sex: str
    age_group: str | None
    nationality: str | None
    exploitation_forms: list[str]
    assistance_state: str
    non_punishment_flag: bool


class AuditEntryPublic(_Out):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]


class AuditVerifyPublic(_Out):
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None


class ErrorPublic(_Out):
    error: str
    message: str
    hint: str | None = None
