"""CTDC profiles: the k-anonymised Global Dataset (``ctdc``) and the victim-perpetrator file
(``ctdc_vp``).

Neither file has a record id, and identical rows are different victims (k-anonymity makes at
least k rows identical by design), so the id is ``<file stem>:<row>`` and repeated rows are not
duplicates. Choices, so that nothing is invented:

- CTDC ``gender`` is the victim's recorded sex (Female/Male) -> ``sex``.
- ``ageBroad`` is a band, never an age: ``age_at_identification`` stays None and the band is kept
  in ``age_band`` (e.g. "9--17"); the VP file's ``majorityStatus`` becomes "0-17" / "18+".
- ``yearOfRegistration`` is a year, not a date: kept in ``identification_year``; the VP file's
  banded years ("2014-2018") are not a year and are left out.
- Exploitation flags: 1 -> the form; when no flag is 1 the forms are unknown (None): the subset
  dropped the other-form flags, so "none of these two" is not "none".
- Country codes are ISO2 (``0``/``00`` = unknown) -> ISO3. Country of exploitation also stands
  for the country of detection, as STANDARDS.md section 6.2 says for CTDC.
- The VP file gives regions, not countries, for citizenship: no country is guessed.
- All CTDC victims are identified victims (``identified``).
"""

from __future__ import annotations

from datetime import date

from ctip.domain.derive import CTDC_AGE_BROAD
from ctip.domain.problems import Problem
from ctip.domain.records import Perpetrator, Provenance, VictimRecord
from ctip.domain.vocabulary import code_list_version
from ctip.ingest import cells
from ctip.ingest.cells import CellError
from ctip.ingest.profiles.base import Profile, canonical_row

_SEX = {"female": "female", "male": "male", "": "unknown", "unknown": "unknown", "-99": "unknown"}
_AGE_BANDS = frozenset(label for _, _, label in CTDC_AGE_BROAD)
_FLAG_TRUE = frozenset({"1", "1.0", "true"})
_FLAG_FALSE = frozenset({"", "0", "0.0", "false", "-99"})
_UNKNOWN_COUNTRY = frozenset({"", "0", "00", "-99"})


def _sex(column: str, value: str) -> str:
    found = _SEX.get(value.strip().casefold())
    if found is None:
        raise cells.problem(column, "is not a CTDC gender", value, "Female, Male or empty")
    return found


def _flag(column: str, value: str) -> bool:
    key = value.strip().casefold()
    if key in _FLAG_TRUE:
        return True
    if key in _FLAG_FALSE:
        return False
    raise cells.problem(column, "is not a CTDC 0/1 flag", value, "1, 0 or empty")


def _iso2_country(column: str, value: str) -> str | None:
    if value.strip() in _UNKNOWN_COUNTRY:
        return None
    return cells.one_country(column, value)


def _forms(row: dict[str, str], problems: list[Problem]) -> tuple[str, ...] | None:
    forms = []
    for column, form in (
        ("issexualexploit", "sexual_exploitation"),
        ("isforcedlabour", "forced_labour"),
    ):
        try:
            if _flag(column, row.get(column, "")):
                forms.append(form)
        except CellError as error:
            problems.append(error.problem)
    return tuple(forms) or None


def _record_id(source_file: str, source_row: int) -> str:
    stem = source_file.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{stem}:{source_row}"


class CtdcProfile(Profile):
    name = "ctdc"
    description = (
        "CTDC k-anonymised Global Dataset (yearOfRegistration, gender, ageBroad, citizenship, ...)"
    )
    columns = (
        "yearofregistration",
        "gender",
        "agebroad",
        "citizenship",
        "isforcedlabour",
        "issexualexploit",
        "countryofexploitation",
    )
    required = ("gender", "citizenship")
    rows_are_distinct = True

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
        values: dict[str, object] = {}
        for column, key, parse in (
            ("gender", "sex", _sex),
            ("citizenship", "citizenship", _iso2_country),
            ("countryofexploitation", "exploitation", _iso2_country),
            (
                "yearofregistration",
                "year",
                lambda c, v: cells.integer(c, v, cells.MIN_YEAR, today.year, "(a year)"),
            ),
        ):
            try:
                values[key] = parse(column, row.get(column, ""))
            except CellError as error:
                problems.append(error.problem)
        band = (row.get("agebroad") or "").strip()
        if band in ("", "-99"):
            band_value = None
        elif band in _AGE_BANDS:
            band_value = band
        else:
            problems.append(
                Problem("ageBroad", "is not a CTDC age band", band, ", ".join(sorted(_AGE_BANDS)))
            )
            band_value = None
        forms = _forms(row, problems)
        if problems:
            return None
        citizenship, exploitation = values["citizenship"], values["exploitation"]
        return VictimRecord(
            source_record_id=_record_id(source_file, source_row),
            agency=agency or "ctdc",
            identification_status="identified",
            sex=values["sex"],  # type: ignore[arg-type]
            age_band=band_value,
            identification_year=values["year"],  # type: ignore[arg-type]
            citizenships=(citizenship,) if citizenship else None,  # type: ignore[arg-type]
            country_of_detection=exploitation,  # type: ignore[arg-type]
            countries_of_exploitation=(exploitation,) if exploitation else None,  # type: ignore[arg-type]
            exploitation_forms=forms,
            provenance=Provenance(
                self.name, source_file, source_row, None, None, code_list_version()
            ),
        )


_MAJORITY = {"adult": "18+", "minor": "0-17", "": None, "-99": None}
_RELATION = {
    "familyintimatepartner": "family",
    "friendacquaintance": "friend_acquaintance",
    "strangerunknownother": "other",
}
_ROLES = (
    ("ip_recruiterbroker", "recruiter"),
    ("ip_transactionprocess", "transporter"),
    ("ip_exploiter", "exploiter"),
    ("ip_controlabusekidnap", "controller"),
)


class CtdcVpProfile(Profile):
    name = "ctdc_vp"
    description = "CTDC Victim-Perpetrator synthetic dataset (victims plus their perpetrators)"
    columns = (
        "yearregister",
        "gender",
        "majoritystatus",
        "isforcedlabour",
        "issexualexploit",
        "un_coo_region",
        "un_coe_region",
        "ip_exploiter",
        "ip_gender",
        "ip_agebroad",
        "ip_citizen_unregion",
        "ip_relation",
        "ip_paymoney",
        "ip_recruiterbroker",
        "ip_transactionprocess",
        "ip_controlabusekidnap",
    )
    required = ("gender", "majoritystatus", "ip_gender")
    rows_are_distinct = True
    has_perpetrators = True

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
            sex = _sex("gender", row.get("gender", ""))
        except CellError as error:
            problems.append(error.problem)
        majority = (row.get("majoritystatus") or "").strip().casefold()
        if majority not in _MAJORITY:
            problems.append(
                Problem(
                    "majorityStatus",
                    "is not a CTDC majority status",
                    majority,
                    "Adult, Minor or empty",
                )
            )
        forms = _forms(row, problems)
        self._perpetrator_parts(row, problems)
        if problems:
            return None
        return VictimRecord(
            source_record_id=_record_id(source_file, source_row),
            agency=agency or "ctdc",
            identification_status="identified",
            sex=sex,
            age_band=_MAJORITY[majority],
            exploitation_forms=forms,
            provenance=Provenance(
                self.name, source_file, source_row, None, None, code_list_version()
            ),
        )

    @staticmethod
    def _perpetrator_parts(
        row: dict[str, str], problems: list[Problem]
    ) -> tuple[list[str], list[str], list[str]]:
        sexes: list[str] = []
        for part in (row.get("ip_gender") or "").split(";"):
            try:
                sex = _sex("IP_Gender", part)
            except CellError as error:
                problems.append(error.problem)
                continue
            if sex != "unknown":
                sexes.append(sex)
        relations: list[str] = []
        for part in (row.get("ip_relation") or "").split(";"):
            key = part.strip().casefold()
            if not key:
                continue
            if key not in _RELATION:
                problems.append(
                    Problem(
                        "IP_Relation",
                        "is not a CTDC relationship",
                        part,
                        "FamilyIntimatePartner, FriendAcquaintance, StrangerUnknownOther",
                    )
                )
            else:
                relations.append(_RELATION[key])
        roles: list[str] = []
        for column, role in _ROLES:
            try:
                if _flag(column, row.get(column, "")):
                    roles.append(role)
            except CellError as error:
                problems.append(error.problem)
        return sexes, relations, roles

    def perpetrators(self, raw: dict[str, str], victim: VictimRecord) -> tuple[Perpetrator, ...]:
        """One perpetrator per sex listed (the file says "at least one of each", not how many).

        Every perpetrator carries the roles and relationships given for the row; the file does
        not say which perpetrator had which, so they are not split further.
        """
        row = canonical_row(raw)
        sexes, relations, roles = self._perpetrator_parts(row, [])
        if not sexes and not relations and not roles:
            return ()
        links = tuple((victim.source_record_id, r) for r in relations)
        return tuple(
            Perpetrator(
                perpetrator_id=f"{victim.source_record_id}:p{i}",
                agency=victim.agency,
                sex=sex,
                roles=tuple(roles) or None,
                victim_links=links,
            )
            for i, sex in enumerate(sexes or ["unknown"], start=1)
        )
