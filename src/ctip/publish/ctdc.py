"""The CTDC microdata layout: the 27 variables of the CTDC Global Synthetic Data Codebook (v2,
Feb 2024; STANDARDS.md 3.2), built from the analytic view through the code lists' crosswalks.

Flags follow CTDC: 1 = yes, empty (NULL) = no or not known (CTDC has no zeros).
``traffickMonths`` is not collected by ctip and stays empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import pandas as pd

from ctip.domain.vocabulary import code_list

CTDC_COLUMNS: tuple[str, ...] = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "citizenship",
    "CountryOfExploitation",
    "traffickMonths",
    "meansDebtBondageEarnings",
    "meansThreats",
    "meansAbusePsyPhySex",
    "meansFalsePromises",
    "meansDrugsAlcohol",
    "meansDenyBasicNeeds",
    "meansExcessiveWorkHours",
    "meansWithholdDocs",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "typeOfLabourAgriculture",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
)

# 27-variable merged "means" groups, from the 63-variable names in the code list's ctdc crosswalk
_MEANS_GROUPS = {
    "meansDebtBondageEarnings": {"DebtBondage", "TakesEarnings"},
    "meansThreats": {"Threats", "UsesChildren", "ThreatOfLawEnforcement"},
    "meansAbusePsyPhySex": {"PsychologicalAbuse", "PhysicalAbuse", "SexualAbuse"},
    "meansFalsePromises": {"FalsePromises"},
    "meansDrugsAlcohol": {"PsychoactiveSubstances"},
    "meansDenyBasicNeeds": {
        "RestrictsFinancialAccess",
        "RestrictsMovement",
        "RestrictsMedicalCare",
        "WithholdsNecessities",
    },
    "meansExcessiveWorkHours": {"ExcessiveWorkingHours"},
    "meansWithholdDocs": {"WithholdsDocuments"},
}
_GENDER = {"female": "Woman", "male": "Man", "other": "Trans/Transgender/NonConforming"}
_LABOUR = {
    "A": "typeOfLabourAgriculture",
    "F": "typeOfLabourConstruction",
    "T": "typeOfLabourDomesticWork",
    "I": "typeOfLabourHospitality",
}
_SEX_TYPES = {"prostitution": "typeOfSexProstitution", "pornography": "typeOfSexPornography"}


@cache
def _crosswalk(name: str) -> dict[str, str]:
    codes = code_list(name)
    return {c: str(codes.entry(c).get("ctdc") or "") for c in codes.codes}


def exploitation_block(form: str) -> str:
    """isSexualExploit, isForcedLabour (incl. CTDC's labour types: begging, illicit activities)
    or isOtherExploit, for one fine form."""
    target = _crosswalk("exploitation_form").get(form, "")
    if target == "isSexualExploit":
        return target
    if target == "isForcedLabour" or target.startswith("typeOfLabour"):
        return "isForcedLabour"
    return "isOtherExploit"


def is_missing(value: Any) -> bool:
    """None, NaN or pd.NA (what a NULL list cell becomes, depending on the frame's origin)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _codes(value: Any) -> list[str]:
    if is_missing(value):
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def ctdc_flags(row: dict[str, Any]) -> dict[str, str]:
    """The flag columns of one analytic row ("1" or "")."""
    flags = dict.fromkeys(CTDC_COLUMNS[6:], "")
    means = _crosswalk("means_of_control")
    for code in _codes(row.get("means_of_control")):
        name = means.get(code, "").removeprefix("meansOfControl")
        for column, members in _MEANS_GROUPS.items():
            if name in members:
                flags[column] = "1"
    for form in _codes(row.get("exploitation_forms")):
        flags[exploitation_block(form)] = "1"
    for section in _codes(row.get("labour_sector_isic")):
        if section[:1] in _LABOUR:
            flags[_LABOUR[section[:1]]] = "1"
    for kind in _codes(row.get("sexual_exploitation_type")):
        if kind in _SEX_TYPES:
            flags[_SEX_TYPES[kind]] = "1"
    recruiters = _crosswalk("recruiter_relationship")
    for code in _codes(row.get("recruiter_relationship")):
        column = recruiters.get(code, "")
        if column in flags:
            flags[column] = "1"
    return flags


def gender(sex: Any) -> str:
    return _GENDER.get(str(sex), "")


def flag_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([ctdc_flags(r) for r in rows], columns=list(CTDC_COLUMNS[6:]))
