"""Domain records <-> table rows. Derived analytic columns are computed here, once, at write time.

Kept apart from the repository so the mapping (and what is sealed) is easy to read in one place.
"""

from __future__ import annotations

import json
from functools import lru_cache
from operator import attrgetter
from typing import Any

from ctip.domain import derive
from ctip.domain.records import (
    IDENTITY_FIELDS,
    Consent,
    Identity,
    JusticeStage,
    Perpetrator,
    Provenance,
    VictimRecord,
)
from ctip.domain.vocabulary import code_list
from ctip.errors import ValidationError

UNKNOWN = "unknown"



@lru_cache(maxsize=256)  # derive looks codes up in the code lists; inputs repeat endlessly
def is_detected(status: str) -> bool:
    try:
        return derive.is_detected(status)
    except LookupError as error:
        raise ValidationError(
            "identification status is not in the code list", column="identification_status",
            value=status, allowed=code_list("identification_status").allowed_text(),
        ) from error


@lru_cache(maxsize=4096)
def primary_form(forms: tuple[str, ...] | None) -> str:
    try:
        return derive.primary_form(forms)
    except LookupError as error:
        raise ValidationError(
            "form of exploitation is not in the code list", column="exploitation_forms",
            value=";".join(forms or ()), allowed=code_list("exploitation_form").allowed_text(),
        ) from error


age_group = derive.age_group
victim_group = derive.victim_group


@lru_cache(maxsize=64)
def age_group_of(age: int | None, band: str | None) -> str:
    """Age group from the age in years, else from the band a source gave instead (CTDC)."""
    return derive.age_group(age) if age is not None else derive.age_group_of_band(band)

MULTI_VALUED = ("citizenships", "countries_of_exploitation", "exploitation_forms",
                "labour_sector_isic", "sexual_exploitation_type", "means_of_control",
                "recruiter_relationship")


@lru_cache(maxsize=65536)  # code combinations repeat endlessly; json.dumps per field does not pay
def codes_json(values: tuple[str, ...] | None) -> str | None:
    """None stays NULL (unknown); () becomes "[]" (known empty)."""
    return None if values is None else json.dumps(list(values), ensure_ascii=False)


def codes_tuple(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(json.loads(text))


# one encoder, built once: json.dumps with any option builds a new JSONEncoder on every call
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_IDENTITY_VALUES = attrgetter(*IDENTITY_FIELDS)  # one C call for all fields


def identity_json(identity: Identity) -> str:
    data = dict(zip(IDENTITY_FIELDS, _IDENTITY_VALUES(identity), strict=True))
    data["aliases"] = list(identity.aliases)
    return _ENCODE(data)


def identity_from_json(text: str) -> Identity:
    data = json.loads(text)
    data["aliases"] = tuple(data.get("aliases") or ())
    return Identity(**{k: data.get(k) for k in IDENTITY_FIELDS if k in data})


PROVENANCE_COLUMNS = ("source_system", "source_file", "source_row", "code_list_version")


def content_bytes(row: dict[str, Any] | tuple[Any, ...], identity_text: str,
                  age_band: str | None = None) -> bytes:
    """Everything that makes a record what it is (its plain columns and its identity), provenance
    of this import excluded, so the same record from the same or another file is recognised as
    unchanged. ``repr`` of str/int/bool/date/None values is deterministic and cheap.
    ``victim_values`` puts the provenance columns last, so they are cut off by position.
    The hash must stay the same across versions (a changed hash makes every re-import an
    "update"): the repr of the same values in the same order."""
    values = (row if isinstance(row, tuple) else tuple(row.values()))[:-len(PROVENANCE_COLUMNS)]
    text = repr(values) + "\x00" + identity_text
    if age_band is not None:  # no column of its own; appended only when given, so the hashes
        text += "\x00" + age_band  # of records without a band stay as they were
    return text.encode()


def perpetrator_content_bytes(p: Perpetrator) -> bytes:
    return repr(p).encode()


VICTIM_PLAIN_COLUMNS: tuple[str, ...] = (
    "agency", "source_record_id", "agency_type", "identification_date", "identification_year",
    "identification_status", "detected", "sex", "gender_identity", "age", "birth_year",
    "age_group", "victim_group", "disability_status", "citizenship", "country_of_detection",
    "country_of_recruitment", "primary_form", "consent_case_management",
    "consent_statistical_use", "consent_sharing", "consent_legal_basis", "consent_date",
    "consent_withdrawal_date", "consent_withdrawn", *MULTI_VALUED,
    # provenance last: content_bytes leaves these out by position (same order as PROVENANCE_COLUMNS)
    *PROVENANCE_COLUMNS,
)
_NO_CONSENT = (None,) * 7
_NO_PROVENANCE = (None,) * 4


def victim_values(record: VictimRecord) -> tuple[Any, ...]:
    """The plain (non-identity) columns of a victim row, derived columns included, in the order
    of ``VICTIM_PLAIN_COLUMNS``. A tuple, not a dict: the import path builds one per row, and
    the tuple goes to ``executemany`` as it is."""
    consent = record.consent
    prov = record.provenance
    age = record.age_at_identification
    citizenships = record.citizenships
    group = age_group_of(age, record.age_band)
    status = record.identification_status
    day = record.identification_date
    return (
        record.agency, record.source_record_id, record.agency_type, day,
        day.year if day else record.identification_year,
        status, is_detected(status) if status else False,
        record.sex, record.gender_identity, age, record.birth_year,
        group, derive.victim_group_of(record.sex, group), record.disability_status,
        citizenships[0] if citizenships else UNKNOWN,
        record.country_of_detection, record.country_of_recruitment,
        primary_form(record.exploitation_forms),
        *((consent.case_management, consent.statistical_use, consent.sharing,
           consent.legal_basis, consent.consent_date, consent.withdrawal_date, consent.withdrawn)
          if consent else _NO_CONSENT),
        codes_json(record.citizenships), codes_json(record.countries_of_exploitation),
        codes_json(record.exploitation_forms), codes_json(record.labour_sector_isic),
        codes_json(record.sexual_exploitation_type), codes_json(record.means_of_control),
        codes_json(record.recruiter_relationship),
        *((prov.source_system, prov.source_file, prov.source_row, prov.code_list_version)
          if prov else _NO_PROVENANCE),
    )


def victim_row(record: VictimRecord) -> dict[str, Any]:
    """``victim_values`` by column name."""
    return dict(zip(VICTIM_PLAIN_COLUMNS, victim_values(record), strict=True))


def victim_record(row: Any, identity: Identity) -> VictimRecord:
    """Rebuild the domain record from a victims row (plus its opened identity)."""
    consent = None
    if any(getattr(row, c) is not None for c in (
            "consent_case_management", "consent_statistical_use", "consent_sharing",
            "consent_legal_basis", "consent_date", "consent_withdrawal_date")):
        consent = Consent(row.consent_case_management, row.consent_statistical_use,
                          row.consent_sharing, row.consent_legal_basis, row.consent_date,
                          row.consent_withdrawal_date)
    provenance = Provenance(
        source_system=row.source_system or UNKNOWN, source_file=row.source_file,
        source_row=row.source_row, source_record_hash=row.source_record_hash,
        import_batch=row.import_batch, code_list_version=row.code_list_version,
    )
    return VictimRecord(
        source_record_id=row.source_record_id, agency=row.agency,
        identification_status=row.identification_status,
        identification_date=row.identification_date, agency_type=row.agency_type, sex=row.sex,
        gender_identity=row.gender_identity, age_at_identification=row.age,
        birth_year=row.birth_year, disability_status=row.disability_status,
        country_of_detection=row.country_of_detection,
        country_of_recruitment=row.country_of_recruitment,
        identity=identity, consent=consent, provenance=provenance,
        # a source's band is not stored, only its age group ("0-17"/"18+"), itself a valid band
        age_band=row.age_group if row.age is None and row.age_group != UNKNOWN else None,
        identification_year=row.identification_year if row.identification_date is None else None,
        **{name: codes_tuple(getattr(row, name)) for name in MULTI_VALUED},
    )


def perpetrator_row(p: Perpetrator) -> dict[str, Any]:
    return {
        "perpetrator_id": p.perpetrator_id,
        "agency": p.agency,
        "sex": p.sex,
        "age": p.age,
        "age_group": age_group(p.age),
        "citizenships": codes_json(p.citizenships),
        "citizenship": p.citizenships[0] if p.citizenships else UNKNOWN,
        "roles": codes_json(p.roles),
        "victim_links": json.dumps([list(link) for link in p.victim_links], ensure_ascii=False),
    }


def stage_rows(perpetrator_key: str, stages: tuple[JusticeStage, ...]) -> list[dict[str, Any]]:
    return [{
        "perpetrator_key": perpetrator_key,
        "position": i,
        "stage": s.stage,
        "stage_date": s.stage_date,
        "stage_year": s.stage_date.year if s.stage_date else None,
        "offence_iccs": s.offence_iccs,
        "exploitation_forms": codes_json(s.exploitation_forms),
    } for i, s in enumerate(stages)]
