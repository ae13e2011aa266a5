import csv
import json

from openpyxl import load_workbook

from ctip.demo_data.generate import AGENCIES, CANONICAL_COLUMNS, generate, shipped_files, truth


def _shipped_rows(path):
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
        return [{c: row.get(c, "") for c in CANONICAL_COLUMNS} for row in rows]
    sheet = load_workbook(path, read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    return [{c: (v or "") for c, v in zip(values[0], row, strict=True)} for row in values[1:]]


def test_shipped_files_are_what_the_generator_makes():
    generated = generate()
    for agency, path in zip(AGENCIES, shipped_files(), strict=True):
        assert path.name == agency.file_name
        assert _shipped_rows(path) == generated[agency.file_name]


def test_ground_truth_names_a_person_for_every_valid_row_and_people_recur_across_agencies():
    people = truth()
    rows = [r for rs in generate().values() for r in rs]
    valid = {(r["agency"], r["source_record_id"]) for r in rows
             if r["source_record_id"] and "BAD" not in r["source_record_id"]}
    assert valid == set(people)
    seen_by = {}
    for (agency, _), person in people.items():
        seen_by.setdefault(person, set()).add(agency)
    assert any(len(a) >= 3 for a in seen_by.values())  # overlaps exist for estimation
    assert len(seen_by) < len(people)  # the same people appear on several lists


def test_generator_writes_no_contact_details():
    # names are synthetic combinations; email and address stay empty so nothing looks like a contact
    for rows in generate().values():
        assert all(r["email"] == "" and r["address"] == "" for r in rows)
