"""The canonical profile: ctip's own columns (issue 2), one row per victim identification.

Multi-valued cells are separated by ``;``. An empty cell (or ``unknown``) means unknown; the
token ``none`` means known to be empty ("no means of control recorded" is not "unknown").
Countries are ISO3; ISO2, M49 numbers and English names are accepted and stored as ISO3.
Codes are ctip's snake_case codes; HTCDS/CTDC/GLOTIP names that name exactly one code are
accepted too. Optional consent columns: consent_case_management, consent_statistical_use,
consent_sharing (yes/no), legal_basis, consent_date, withdrawal_date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache, partial

from ctip.domain.problems import Problem
from ctip.domain.records import Consent, Identity, Provenance, VictimRecord
from ctip.domain.vocabulary import code_list_version
from ctip.ingest import cells
from ctip.ingest.cells import CellError, problem
from ctip.ingest.profiles.base import Profile, build

IDENTITY_COLUMNS = (
    "given_name",
    "family_name",
    "aliases",
    "date_of_birth",
    "document_number",
    "phone",
    "email",
    "address",
    "narrative",
)
CONSENT_COLUMNS = (
    "consent_case_management",
    "consent_statistical_use",
    "consent_sharing",
    "legal_basis",
    "consent_date",
    "withdrawal_date",
)
RECORD_COLUMNS = (
    "source_record_id",
    "agency",
    "agency_type",
    "identification_date",
    "identification_status",
    "sex",
    "gender_identity",
    "age_at_identification",
    "birth_year",
    "disability_status",
    "citizenships",
    "country_of_detection",
    "countries_of_exploitation",
    "country_of_recruitment",
    "exploitation_forms",
    "labour_sector_isic",
    "sexual_exploitation_type",
    "means_of_control",
    "recruiter_relationship",
    *IDENTITY_COLUMNS,
)
COLUMNS = (*RECORD_COLUMNS, *CONSENT_COLUMNS)

Parser = Callable[[str, str], object]
_CONSENT_FIELD = {
    "consent_case_management": "case_management",
    "consent_statistical_use": "statistical_use",
    "consent_sharing": "sharing",
    "legal_basis": "legal_basis",
    "consent_date": "consent_date",
    "withdrawal_date": "withdrawal_date",
}


def _aliases(column: str, value: str) -> tuple[str, ...]:
    return tuple(cells.check_text(column, p.strip()) for p in value.split(";") if p.strip())


@lru_cache(maxsize=4)
def record_parsers(today: date) -> dict[str, Parser]:
    """Column -> parser of a non-empty cell (empty cells keep the record's 'unknown' default)."""
    return {
        "agency_type": partial(cells.one_code, list_name="agency_type"),
        "identification_date": partial(cells.iso_date, today=today),
        "identification_status": partial(
            cells.one_code, list_name="identification_status", unknown="possible"
        ),
        "sex": partial(cells.one_code, list_name="sex", unknown="unknown"),
        "gender_identity": partial(cells.one_code, list_name="gender_identity"),
        "age_at_identification": cells.age,
        "birth_year": partial(cells.birth_year, today=today),
        "disability_status": partial(
            cells.one_code, list_name="disability_status", unknown="unknown"
        ),
        "citizenships": partial(cells.many_countries, allow_stateless=True),
        "country_of_detection": cells.one_country,
        "countries_of_exploitation": cells.many_countries,
        "country_of_recruitment": cells.one_country,
        "exploitation_forms": partial(cells.many_codes, list_name="exploitation_form"),
        "labour_sector_isic": cells.isic_sections,
        "sexual_exploitation_type": partial(cells.many_codes, list_name="sexual_exploitation_type"),
        "means_of_control": partial(cells.many_codes, list_name="means_of_control"),
        "recruiter_relationship": partial(cells.many_codes, list_name="recruiter_relationship"),
    }


@lru_cache(maxsize=4)
def identity_parsers(today: date) -> dict[str, Parser]:
    text = cells.text_or_none
    return {
        "given_name": text,
        "family_name": text,
        "aliases": _aliases,
        "date_of_birth": partial(cells.partial_date, today=today),
        "document_number": text,
        "phone": text,
        "email": text,
        "address": text,
        "narrative": text,
    }


@lru_cache(maxsize=4)
def consent_parsers(today: date) -> dict[str, Parser]:
    return {
        "consent_case_management": cells.boolean,
        "consent_statistical_use": cells.boolean,
        "consent_sharing": cells.boolean,
        "legal_basis": partial(cells.one_code, list_name="legal_basis"),
        "consent_date": partial(cells.iso_date, today=today),
        "withdrawal_date": partial(cells.iso_date, today=today),
    }


_MISS = object()
MEMO_LIMIT = 20_000  # distinct values remembered per column (codes, countries, dates repeat a lot)


@lru_cache(maxsize=4)
def record_memo(today: date) -> dict[str, dict[str, object]]:
    """Column -> {cell text -> parsed value or CellError}: a million rows, few distinct codes."""
    return {column: {} for column in record_parsers(today)}


def parse_into(
    row: dict[str, str],
    parsers: dict[str, Parser],
    out: dict[str, object],
    problems: list[Problem],
    memo: dict[str, dict[str, object]] | None = None,
) -> None:
    """Parse every non-empty cell the parsers know; collect problems rather than stop.

    With ``memo``, a cell text already seen in that column is not parsed again (never used for
    identity columns: their values are unique and must not linger in memory).
    """
    for column, parse in parsers.items():
        value = row.get(column)
        if not value:
            continue
        if memo is not None:
            seen = memo[column]
            parsed = seen.get(value, _MISS)
            if parsed is _MISS:
                try:
                    parsed = parse(column, value)
                except CellError as error:
                    parsed = error
                if len(seen) < MEMO_LIMIT:
                    seen[value] = parsed
        else:
            try:
                parsed = parse(column, value)
            except CellError as error:
                parsed = error
        if parsed.__class__ is CellError:
            problems.append(parsed.problem)
        elif parsed is not None:
            out[column] = parsed


class CanonicalProfile(Profile):
    name = "canonical"
    description = (
        "ctip's own columns (see `ctip import --help`); multi-valued cells separated by ';'"
    )
    columns = COLUMNS
    required = ("source_record_id",)

    def _map(
        self,
        row: dict[str, str],
        problems: list[Problem],
        *,
        source_file: str,
        source_row: int,
        agency: str | None,
        today: date,
    ) -> VictimRecord | None:
        try:
            record_id = cells.record_id("source_record_id", row.get("source_record_id") or "")
        except CellError as error:
            problems.append(error.problem)
            record_id = ""
        agency_name = (row.get("agency") or "").strip() or (agency or "")
        if not agency_name:
            problems.append(
                Problem(
                    "agency",
                    "is required and empty",
                    "",
                    "an agency name in the column, or --agency for the whole file",
                )
            )
        else:
            try:
                agency_name = cells.record_id("agency", agency_name)
            except CellError as error:
                problems.append(error.problem)
        fields: dict[str, object] = {}
        parse_into(row, record_parsers(today), fields, problems, record_memo(today))
        ident: dict[str, object] = {}
        parse_into(row, identity_parsers(today), ident, problems)
        consent: dict[str, object] = {}
        parse_into(row, consent_parsers(today), consent, problems)
        self._cross_checks(fields, ident, today, problems)
        if problems:
            return None
        if "aliases" not in ident:
            ident["aliases"] = ()
        fields["source_record_id"] = record_id
        fields["agency"] = agency_name
        fields["identity"] = build(Identity, ident)
        agreed = {_CONSENT_FIELD[k]: v for k, v in consent.items()}
        fields["consent"] = Consent(**agreed) if agreed else None  # type: ignore[arg-type]
        fields["provenance"] = Provenance(
            self.name, source_file, source_row, None, None, code_list_version()
        )
        return build(VictimRecord, fields)  # type: ignore[return-value]

    @staticmethod
    def _cross_checks(
        fields: dict[str, object], ident: dict[str, object], today: date, problems: list[Problem]
    ) -> None:
        """Rules across cells: age, birth year and identification date must agree."""
        year, age_value = fields.get("birth_year"), fields.get("age_at_identification")
        when = fields.get("identification_date")
        if isinstance(year, int) and isinstance(age_value, int):
            ref = when.year if isinstance(when, date) else today.year
            if not -1 <= ref - year - age_value <= 1:
                problems.append(
                    problem(
                        "age_at_identification",
                        f"does not agree with birth_year {year} (identified in {ref})",
                        str(age_value),
                        "an age within a year of the one birth_year gives",
                    ).problem
                )
        if isinstance(when, date) and isinstance(year, int) and year > when.year:
            problems.append(
                problem(
                    "birth_year",
                    "is after the identification date",
                    str(year),
                    "a year on or before the identification date",
                ).problem
            )
