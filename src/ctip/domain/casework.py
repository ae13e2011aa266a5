"""The case-management records: a case, its referrals, consents, services given and review tasks.

Plain dataclasses so the NRM rules, access checks and tests need no database. Identity is kept
apart (``Identity`` from records.py) because storage seals it and only an audited reveal opens it.
Consent is a ledger: one record per purpose (and recipient), revocable, never overwritten, so the
history of what the person agreed to stays readable (Primero keeps a few booleans; see section 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ctip.domain.records import Identity

CONSENT_PURPOSES: tuple[str, ...] = (
    "nrm_referral",
    "share_with_service_provider",
    "law_enforcement_contact",
    "durable_solution",
    "statistical_use",
    "case_management",
)
REFERRAL_STATUSES: tuple[str, ...] = ("pending", "accepted", "declined", "completed", "revoked")
LIVE_REFERRAL_STATUSES = frozenset({"pending", "accepted"})
SERVICE_TYPES: tuple[str, ...] = (
    "safe_accommodation",
    "medical",
    "psychological",
    "legal",
    "material",
    "interpretation",
    "education",
    "employment",
    "child_protection",
    "identification",
    "other",
)


@dataclass(frozen=True)
class Case:
    """One person's case in the NRM. ``version`` guards against silent overwrites."""

    case_id: str
    agency: str
    status: str = "signal"
    sex: str = "unknown"
    age: int | None = None
    age_disputed: bool = False
    nationality: str | None = None
    languages: tuple[str, ...] = ()
    interpreter_needed: bool = False
    exploitation_forms: tuple[str, ...] = ()
    assistance_state: str = "none"
    justice_state: str = "none"
    non_punishment_state: str = "none"
    non_punishment_flag: bool = False
    child_state: str = "not_applicable"
    residence_state: str = "not_applicable"
    notes: str | None = None
    status_since: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None
    version: int = 1
    identity: Identity = field(default_factory=Identity)
    case_number: str | None = None  # readable, unique per agency: "AA-2026-00042"

    @property
    def is_child(self) -> bool:
        """Minority is presumed when age is unknown or disputed."""
        return self.age is None or self.age < 18 or self.age_disputed


def case_number_prefix(agency: str) -> str:
    """The agency's case-number prefix: the initials of its name's words (up to four), or its
    first three letters when it is one word ("Agency A" -> "AA", "Caritas" -> "CAR"). Only
    ASCII letters and digits, so a number can be read out on the phone and typed anywhere."""
    words = ["".join(ch for ch in w if ch.isascii() and ch.isalnum()) for w in agency.split()]
    words = [w for w in words if w]
    if not words:
        return "CASE"
    prefix = "".join(w[0] for w in words[:4]) if len(words) > 1 else words[0][:3]
    return prefix.upper()


def format_case_number(agency: str, year: int, sequence: int) -> str:
    """``PREFIX-YYYY-NNNNN``: the agency's prefix, the year of intake, the sequence in that
    year (at least five digits; more once an agency passes 99,999 cases in a year)."""
    return f"{case_number_prefix(agency)}-{year:04d}-{sequence:05d}"


def looks_like_case_number(text: str) -> bool:
    """Whether a search term is (the start of) a readable case number rather than of a case
    id (a UUID): it has a character a UUID cannot have, or a dash within its first 7."""
    value = text.strip()
    if not value:
        return False
    if any(ch not in "0123456789abcdefABCDEF-" for ch in value):
        return True
    dash = value.find("-")
    return 0 < dash < 8


#: The one list of the fields a person records at intake and may edit later (besides the sealed
#: notes and identity): the intake object, the edit check and the forms follow it.
INTAKE_FIELDS: tuple[str, ...] = (
    "sex",
    "age",
    "age_disputed",
    "nationality",
    "languages",
    "interpreter_needed",
    "exploitation_forms",
)
#: Fields of ``Case`` that are not plain columns of its row: notes and identity are sealed apart.
SEALED_CASE_FIELDS: tuple[str, ...] = ("notes", "identity")


@dataclass(frozen=True)
class Referral:
    referral_id: str
    case_id: str
    from_agency: str
    to_agency: str
    purpose: str
    shared_fields: frozenset[str]
    status: str = "pending"
    service_id: str | None = None
    consent_id: str | None = None
    due_date: date | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    responded_at: datetime | None = None
    responded_by: str | None = None
    response_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_REFERRAL_STATUSES

    def overdue(self, today: date) -> bool:
        """A pending referral past its due date (accepted ones are being worked on)."""
        return self.status == "pending" and self.due_date is not None and self.due_date < today


@dataclass(frozen=True)
class ConsentRecord:
    consent_id: str
    case_id: str
    purpose: str
    recipient: str | None  # an agency, or None for any recipient of that purpose
    given_at: datetime
    recorded_by: str
    text_version: str = "1"
    given_by: str = "person"  # person | guardian
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class ServiceEntry:
    """One service actually given (the services-given log)."""

    entry_id: str
    case_id: str
    agency: str
    service_type: str
    given_on: date
    recorded_by: str
    referral_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Service:
    """An entry in the service directory, with who it can take."""

    service_id: str
    agency: str
    name: str
    service_type: str
    location: str | None = None
    languages: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()  # empty = any
    min_age: int | None = None
    max_age: int | None = None
    accepts_children: bool = True
    capacity: int | None = None

    def eligible(self, *, sex: str | None, age: int | None, language: str | None = None) -> bool:
        if self.sexes and sex not in self.sexes:
            return False
        if age is None:
            if not self.accepts_children:
                return False  # minority is presumed when age is unknown
        else:
            if self.min_age is not None and age < self.min_age:
                return False
            if self.max_age is not None and age > self.max_age:
                return False
        return not (language and self.languages and language not in self.languages)


@dataclass(frozen=True)
class ReviewTask:
    task_id: str
    case_id: str
    agency: str
    kind: str
    due_at: datetime
    created_at: datetime
    detail: str = ""
    safety: bool = False
    done_at: datetime | None = None
    done_by: str | None = None


def live_consent_purposes(
    consents: list[ConsentRecord], recipient: str | None = None
) -> frozenset[str]:
    """Purposes with a live consent (covering ``recipient`` when one is given)."""
    return frozenset(
        c.purpose
        for c in consents
        if c.live and (recipient is None or c.recipient in (None, recipient))
    )


# The Case field holding each workflow region's state (domain/nrm.py REGIONS).
REGION_FIELD: dict[str, str] = {
    "main": "status",
    "assistance": "assistance_state",
    "justice": "justice_state",
    "non_punishment": "non_punishment_state",
    "child": "child_state",
    "residence": "residence_state",
}
