"""The canonical case record: one victim x one identification event (STANDARDS.md section 6).

Unknown is never the same as no:
- a single-valued field uses the code ``unknown`` (or ``None`` where no code list applies);
- a multi-valued field is ``None`` when nothing is known and ``()`` when it is known to be empty.

Identity (names, date of birth, documents, contacts, address, narrative) sits in its own
``Identity`` object: storage seals it before it reaches a table, and no statistic reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date


@dataclass(frozen=True)
class Identity:
    """Direct identifiers. Sealed at rest; opened only for an authorised, audited reason."""

    given_name: str | None = None
    family_name: str | None = None
    aliases: tuple[str, ...] = ()
    date_of_birth: str | None = None  # ISO 8601, possibly partial: "1990", "1990-04", "1990-04-12"
    document_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    narrative: str | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


IDENTITY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Identity))


@dataclass(frozen=True)
class Consent:
    """Consent per purpose, and the legal basis when processing does not rest on consent."""

    case_management: bool | None = None
    statistical_use: bool | None = None
    sharing: bool | None = None
    legal_basis: str | None = None  # code list legal_basis
    consent_date: date | None = None
    withdrawal_date: date | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal_date is not None


@dataclass(frozen=True)
class Provenance:
    """Where a record came from, so every figure can be traced back to a file and row."""

    source_system: str  # import profile or system name: canonical, ctdc, htcds, web
    source_file: str | None = None
    source_row: int | None = None
    source_record_hash: str | None = None  # SHA-256 of the normalised source row
    import_batch: str | None = None
    code_list_version: str | None = None


@dataclass(frozen=True)
class VictimRecord:
    """One victim as identified at one identification event by one agency."""

    source_record_id: str
    agency: str
    identification_status: str = "possible"
    identification_date: date | None = None
    agency_type: str | None = None
    sex: str = "unknown"
    gender_identity: str | None = None
    age_at_identification: int | None = None
    birth_year: int | None = None
    disability_status: str = "unknown"
    citizenships: tuple[str, ...] | None = None
    country_of_detection: str | None = None
    countries_of_exploitation: tuple[str, ...] | None = None
    country_of_recruitment: str | None = None
    exploitation_forms: tuple[str, ...] | None = None
    labour_sector_isic: tuple[str, ...] | None = None
    sexual_exploitation_type: tuple[str, ...] | None = None
    means_of_control: tuple[str, ...] | None = None
    recruiter_relationship: tuple[str, ...] | None = None
    identity: Identity = field(default_factory=Identity)
    consent: Consent | None = None
    provenance: Provenance | None = None
    # Only when the source gives a band instead of an age in years (CTDC ageBroad such as
    # "9--17", or a majority status "0-17"/"18+"); age_at_identification stays None then.
    age_band: str | None = None
    # Only when the source gives a year but no date (CTDC yearOfRegistration).
    identification_year: int | None = None


@dataclass(frozen=True)
class JusticeStage:
    """A perpetrator at one stage of criminal justice (GLOTIP questionnaire Q2-Q4)."""

    stage: str  # code list justice_stage
    stage_date: date | None = None
    offence_iccs: str | None = None
    exploitation_forms: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Perpetrator:
    perpetrator_id: str
    agency: str
    sex: str = "unknown"
    age: int | None = None
    citizenships: tuple[str, ...] | None = None
    roles: tuple[str, ...] | None = None
    stages: tuple[JusticeStage, ...] = ()
    victim_links: tuple[tuple[str, str], ...] = ()  # (source_record_id of victim, relationship)
