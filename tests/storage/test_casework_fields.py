"""One field list per record: the case row, the Case dataclass and the intake object agree."""

from __future__ import annotations

import dataclasses

from ctip.domain.casework import INTAKE_FIELDS, SEALED_CASE_FIELDS, Case
from ctip.services.casework import CaseIntake
from ctip.storage import casework as db


def test_every_case_field_has_its_column_and_back() -> None:
    fields = {f.name for f in dataclasses.fields(Case)} - set(SEALED_CASE_FIELDS)
    columns = set(db.cases.c.keys())
    assert fields <= columns, f"Case fields without a column: {fields - columns}"
    assert set(db._CASE_COLUMNS) == fields  # case_from_row reads exactly these


def test_the_intake_object_is_the_intake_field_list() -> None:
    assert tuple(f.name for f in dataclasses.fields(CaseIntake)) == (
        *INTAKE_FIELDS, *SEALED_CASE_FIELDS)
    case_fields = {f.name for f in dataclasses.fields(Case)}
    assert set(INTAKE_FIELDS) <= case_fields
