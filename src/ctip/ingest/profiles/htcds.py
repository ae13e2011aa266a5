"""The HTCDS profile: IOM Human Trafficking Case Data Standard v2.0 field names (prs_, vic_...).

Picklist values are HTCDS's CamelCase names ("SexualExploitation"); multiselect cells are
separated by ``;`` (HTCDS spreadsheets) or ``,``. HTCDS has no record id, agency, sex,
identification date or country of detection: the canonical column names are read for them when
present (``source_record_id``, ``agency``, ``sex``, ``identification_date``,
``country_of_detection``, ``age_at_identification``), else the id is ``<file stem>:<row>``.
``prs_Gender`` is gender identity, kept apart from sex as HTCDS intends.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, partial

from ctip.domain.countries import normalise_country
from ctip.domain.problems import Problem
from ctip.domain.records import Consent, Identity, Provenance, VictimRecord
from ctip.domain.vocabulary import code_list, code_list_version
from ctip.ingest import cells
from ctip.ingest.profiles.base import Profile
from ctip.ingest.profiles.canonical import Parser, parse_into, record_parsers
from ctip.ingest.profiles.htcds_labels import FIELD_LABELS, label_key, name_of, split_known

# HTCDS names whose crosswalk to our codes is one-to-many: the closest canonical code.
_OVERRIDES = {
    "identification_status": {"possiblevictimoftrafficking": "possible"},
    "recruiter_relationship": {
        "familial": "family",
        "acquainted": "friend_acquaintance",
        "unaquainted": "stranger",
        "unacquainted": "stranger",
    },
    "agency_type": {
        "police": "police",
        "lawenforcement": "police",
        "ngo": "ngo",
        "courtorprosecution": "prosecution",
        "nonpolicegovernmentalorganization": "other",
        "other": "other",
    },
}


_UNNAMED = re.compile(r"column_\d+")  # the reader's name for a column without a header


@cache
def _lookup(list_name: str) -> dict[str, str]:
    table = dict(cells.code_lookup(list_name))
    table.update(code_list(list_name).from_standard("htcds"))
    table.update(_OVERRIDES.get(list_name, {}))
    return table


def _multi(parse, column: str, value: str, *, lookup: dict[str, str] | None = None):
    """A multiselect cell: its values (HTCDS names, codes or the template's labels, which may
    hold a comma) split at ``;`` or ``,`` and given to ``parse`` as names, ``;``-separated."""
    def known(piece: str) -> str | None:
        name = name_of(column, piece)
        if name is not None:
            return name
        key = piece.casefold()
        if lookup is not None and (key in lookup or label_key(piece) in lookup):
            return piece
        return None

    return parse(column, ";".join(split_known(value, known)))


def _country_multi(parse, column: str, value: str):
    """Citizenships: ISO codes or the template's country names ("Korea, Republic of")."""
    def known(piece: str) -> str | None:
        ok = piece.casefold() == "stateless" or normalise_country(piece) is not None
        return piece if ok else None

    return parse(column, ";".join(split_known(value, known)))


def _one(parse, column: str, value: str):
    """A single-select cell: the template's label ("Court or prosecution") read as its name."""
    return parse(column, name_of(column, value) or value)


def _isic(column: str, value: str):
    def known(piece: str) -> str | None:
        return name_of(column, piece) or (piece if _isic_code(piece) else None)

    return cells.isic_sections(column, ";".join(split_known(value, known)))


def _isic_code(piece: str) -> bool:
    try:
        return bool(cells.isic_sections("isic", piece))
    except cells.CellError:
        return False


_ADDRESS = (
    "prs_mailingstreet",
    "prs_mailingcity",
    "prs_mailingstate",
    "prs_mailingpostalcode",
    "prs_mailingcountry",
)


def _address(row: dict[str, str], problems: list[Problem]) -> str | None:
    """The mailing address parts joined in reading order (each part checked like any text)."""
    parts: dict[str, object] = {}
    parse_into(row, dict.fromkeys(_ADDRESS, cells.text_or_none), parts, problems)
    text = ", ".join(str(parts[c]) for c in _ADDRESS if c in parts)
    return text or None


class HtcdsProfile(Profile):
    name = "htcds"
    description = "IOM HTCDS v2.0 field names (prs_FirstName, vic_TypeOfExploitation, ...)"
    columns = (
        "source_record_id",
        "agency",
        "sex",
        "identification_date",
        "country_of_detection",
        "age_at_identification",
        "prs_firstname",
        "prs_middlename",
        "prs_secondname",
        "prs_birthdate",
        "prs_gender",
        "prs_citizenship",
        "prs_identitynumber",
        "prs_email",
        "prs_homephone",
        "prs_mobilephone",
        "prs_mailingcity",
        "prs_mailingcountry",
        "prs_mailingstate",
        "prs_mailingstreet",
        "prs_mailingpostalcode",
        "vic_traffickingstatus",
        "vic_traffickingstatusdecisionmakingorg",
        "vic_traffickinstatusdecisionmakingorg",
        "vic_relationshiptotrafficker",
        "vic_methodsofcontrol",
        "vic_typeofexploitation",
        "vic_forcedlabourindustry",
        "vic_typeofsexexploitation",
        "con_consent",
        "vic_agreementtomanagepersonaldata",
        "vic_detailsofvulnerabilities",
    )
    required = ()

    def skip_reason(self, row: dict[str, str]) -> str | None:
        """IOM's template: its second row holds the fields' labels, and its numbered rows (a
        number in the unnamed first column) stand blank until filled."""
        named = [v.strip() for k, v in row.items() if not _UNNAMED.fullmatch(k) and v and
                 v.strip()]
        if not named:
            numbers = [(v or "").strip() for k, v in row.items() if _UNNAMED.fullmatch(k)]
            numbers = [n for n in numbers if n]
            if all(n.removesuffix(".0").isdigit() for n in numbers):
                return "a blank numbered row of the template"
            return None
        if len(named) >= 3 and all(label_key(v) in FIELD_LABELS for v in named):
            return "the template's row of field labels"
        return None

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
        fields: dict[str, object] = {}
        base = record_parsers(today)
        parsers: dict[str, Parser] = {
            "sex": base["sex"],
            "identification_date": base["identification_date"],
            "country_of_detection": base["country_of_detection"],
            "age_at_identification": base["age_at_identification"],
            "prs_gender": partial(_one, partial(
                cells.one_code, list_name="gender_identity", lookup=_lookup("gender_identity")
            )),
            "prs_citizenship": partial(
                _country_multi, partial(cells.many_countries, allow_stateless=True)
            ),
            "vic_traffickingstatus": partial(_one, partial(
                cells.one_code,
                list_name="identification_status",
                lookup=_lookup("identification_status"),
                unknown="possible",
            )),
            "vic_traffickingstatusdecisionmakingorg": partial(_one, partial(
                cells.one_code, list_name="agency_type", lookup=_lookup("agency_type")
            )),
            "vic_traffickinstatusdecisionmakingorg": partial(_one, partial(
                cells.one_code, list_name="agency_type", lookup=_lookup("agency_type")
            )),
            "vic_relationshiptotrafficker": partial(
                _multi,
                partial(
                    cells.many_codes,
                    list_name="recruiter_relationship",
                    lookup=_lookup("recruiter_relationship"),
                ),
                lookup=_lookup("recruiter_relationship"),
            ),
            "vic_methodsofcontrol": partial(
                _multi,
                partial(
                    cells.many_codes,
                    list_name="means_of_control",
                    lookup=_lookup("means_of_control"),
                ),
                lookup=_lookup("means_of_control"),
            ),
            "vic_typeofexploitation": partial(
                _multi,
                partial(
                    cells.many_codes,
                    list_name="exploitation_form",
                    lookup=_lookup("exploitation_form"),
                ),
                lookup=_lookup("exploitation_form"),
            ),
            "vic_forcedlabourindustry": _isic,
            "vic_typeofsexexploitation": partial(
                _multi,
                partial(
                    cells.many_codes,
                    list_name="sexual_exploitation_type",
                    lookup=_lookup("sexual_exploitation_type"),
                ),
                lookup=_lookup("sexual_exploitation_type"),
            ),
            "con_consent": cells.boolean,
        }
        parse_into(row, parsers, fields, problems)
        ident: dict[str, object] = {}
        text = cells.text_or_none
        parse_into(
            row,
            {
                "prs_firstname": text,
                "prs_secondname": text,
                "prs_middlename": text,
                "prs_birthdate": partial(cells.partial_date, today=today),
                "prs_identitynumber": text,
                "prs_email": text,
                "prs_mobilephone": text,
                "prs_homephone": text,
                "vic_detailsofvulnerabilities": text,
            },
            ident,
            problems,
        )
        record_id = (
            row.get("source_record_id") or ""
        ).strip() or f"{source_file.rsplit('.', 1)[0]}:{source_row}"
        agency_name = (row.get("agency") or "").strip() or agency or ""
        if not agency_name:
            problems.append(
                Problem(
                    "agency",
                    "is required and empty",
                    "",
                    "an agency column, or --agency for the whole file",
                )
            )
        address = _address(row, problems)
        if not any(row.get(c) for c in self.columns if c.startswith(("prs_", "vic_", "con_"))):
            problems.append(
                Problem(
                    None,
                    "the row has no HTCDS value (only a number or empty cells)",
                    None,
                    "at least one prs_/vic_/con_ field",
                )
            )
        if problems:
            return None
        given = (
            " ".join(str(ident[k]) for k in ("prs_firstname", "prs_middlename") if k in ident)
            or None
        )
        org = fields.pop("vic_traffickingstatusdecisionmakingorg", None) or fields.pop(
            "vic_traffickinstatusdecisionmakingorg", None
        )
        consent = fields.pop("con_consent", None)
        return VictimRecord(
            source_record_id=record_id,
            agency=agency_name,
            identification_status=fields.pop("vic_traffickingstatus", "possible"),  # type: ignore[arg-type]
            identification_date=fields.get("identification_date"),  # type: ignore[arg-type]
            agency_type=org,  # type: ignore[arg-type]
            sex=fields.get("sex", "unknown"),  # type: ignore[arg-type]
            gender_identity=fields.get("prs_gender"),  # type: ignore[arg-type]
            age_at_identification=fields.get("age_at_identification"),  # type: ignore[arg-type]
            citizenships=fields.get("prs_citizenship"),  # type: ignore[arg-type]
            country_of_detection=fields.get("country_of_detection"),  # type: ignore[arg-type]
            exploitation_forms=fields.get("vic_typeofexploitation"),  # type: ignore[arg-type]
            labour_sector_isic=fields.get("vic_forcedlabourindustry"),  # type: ignore[arg-type]
            sexual_exploitation_type=fields.get("vic_typeofsexexploitation"),  # type: ignore[arg-type]
            means_of_control=fields.get("vic_methodsofcontrol"),  # type: ignore[arg-type]
            recruiter_relationship=fields.get("vic_relationshiptotrafficker"),  # type: ignore[arg-type]
            identity=Identity(
                given_name=given,
                family_name=ident.get("prs_secondname"),  # type: ignore[arg-type]
                date_of_birth=ident.get("prs_birthdate"),  # type: ignore[arg-type]
                document_number=ident.get("prs_identitynumber"),  # type: ignore[arg-type]
                phone=ident.get("prs_mobilephone") or ident.get("prs_homephone"),  # type: ignore[arg-type]
                email=ident.get("prs_email"),  # type: ignore[arg-type]
                address=address,
                narrative=ident.get("vic_detailsofvulnerabilities"),  # type: ignore[arg-type]
            ),
            consent=Consent(case_management=consent) if consent is not None else None,  # type: ignore[arg-type]
            provenance=Provenance(
                self.name, source_file, source_row, None, None, code_list_version()
            ),
        )
