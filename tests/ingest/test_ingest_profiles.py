"""Profiles map rows onto case records: every problem named, unknown kept apart from none."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain.problems import RejectedRow
from ctip.domain.records import VictimRecord
from ctip.errors import ConfigurationError, InputFileError
from ctip.ingest.profiles import get_profile

TODAY = date(2025, 6, 30)
canonical = get_profile("canonical")


def row(**values: str) -> dict[str, str]:
    base = {"source_record_id": "R1", "agency": "ngo-a"}
    base.update(values)
    return base


def mapped(**values: str) -> VictimRecord | RejectedRow:
    return canonical.map_row(row(**values), source_file="f.csv", source_row=2, today=TODAY)


def test_a_full_row_maps_every_field() -> None:
    record = mapped(
        identification_date="2024-02-29",
        identification_status="identified",
        sex="F",
        gender_identity="TransgenderFeminine",
        age_at_identification="17",
        birth_year="2007",
        disability_status="disability",
        citizenships="NG;stateless",
        country_of_detection="Italy",
        countries_of_exploitation="ITA;LBY",
        country_of_recruitment="566",
        exploitation_forms="Sexual exploitation;forced_labour",
        labour_sector_isic="A01;T",
        sexual_exploitation_type="prostitution",
        means_of_control="none",
        recruiter_relationship="",
        given_name="Ada",
        aliases="A.;Adda",
        date_of_birth="2007-03",
        consent_statistical_use="yes",
        legal_basis="public_task",
    )
    assert isinstance(record, VictimRecord), record
    assert record.identification_date == date(2024, 2, 29) and record.sex == "female"
    assert record.gender_identity == "transgender_feminine"
    assert record.citizenships == ("NGA", "stateless") and record.country_of_detection == "ITA"
    assert record.country_of_recruitment == "NGA"
    assert record.exploitation_forms == ("sexual_exploitation", "forced_labour")
    assert record.labour_sector_isic == ("A", "T")
    assert record.means_of_control == ()  # 'none' = known empty
    assert record.recruiter_relationship is None  # empty = unknown
    assert record.identity.aliases == ("A.", "Adda") and record.identity.date_of_birth == "2007-03"
    assert record.consent is not None and record.consent.statistical_use is True
    assert record.provenance is not None and record.provenance.source_row == 2


def test_empty_cells_are_unknown_not_no() -> None:
    record = mapped()
    assert isinstance(record, VictimRecord)
    assert (record.sex, record.disability_status, record.age_at_identification) == (
        "unknown",
        "unknown",
        None,
    )
    assert (
        record.citizenships is None and record.exploitation_forms is None and record.consent is None
    )


def test_agency_comes_from_the_option_when_the_column_is_empty() -> None:
    raw = {"source_record_id": "R1", "agency": ""}
    record = canonical.map_row(raw, source_file="f.csv", source_row=2, agency="police", today=TODAY)
    assert isinstance(record, VictimRecord) and record.agency == "police"
    rejected = canonical.map_row(raw, source_file="f.csv", source_row=2, today=TODAY)
    assert isinstance(rejected, RejectedRow) and rejected.problems[0].column == "agency"


def test_every_problem_of_a_row_is_reported_with_column_value_and_allowed() -> None:
    rejected = mapped(
        age_at_identification="250",
        identification_date="2025-07-01",
        sex="x",
        citizenships="NGA;Atlantis",
        exploitation_forms="juggling",
    )
    assert isinstance(rejected, RejectedRow)
    by_column = {p.column: p for p in rejected.problems}
    assert set(by_column) == {
        "age_at_identification",
        "identification_date",
        "sex",
        "citizenships",
        "exploitation_forms",
    }
    assert by_column["age_at_identification"].value == "250"
    assert "0 to 120" in (by_column["age_at_identification"].allowed or "")
    assert "future" in by_column["identification_date"].message
    assert rejected.raw["sex"] == "x"  # raw content kept as read
    assert all("file f.csv, row 2, column" in r for r in rejected.reasons())


def test_identity_values_are_never_echoed_in_reasons() -> None:
    rejected = mapped(given_name="Secretname\x01", date_of_birth="31/12/1990", email="a@b\x00")
    assert isinstance(rejected, RejectedRow)
    text = " ".join(rejected.reasons())
    assert "Secretname" not in text and "1990" not in text and "a@b" not in text
    assert {p.column for p in rejected.problems} == {"given_name", "date_of_birth", "email"}


def test_age_and_birth_year_must_agree() -> None:
    assert isinstance(
        mapped(age_at_identification="30", birth_year="1994", identification_date="2024-05-01"),
        VictimRecord,
    )
    rejected = mapped(
        age_at_identification="30", birth_year="2010", identification_date="2024-05-01"
    )
    assert (
        isinstance(rejected, RejectedRow) and rejected.problems[0].column == "age_at_identification"
    )


def test_html_is_kept_as_text_and_oversized_cells_are_rejected() -> None:
    record = mapped(narrative="<script>alert(1)</script>", given_name="<b>Ada</b>")
    assert (
        isinstance(record, VictimRecord)
        and record.identity.narrative == "<script>alert(1)</script>"
    )
    rejected = mapped(narrative="x" * 1_048_576)
    assert (
        isinstance(rejected, RejectedRow) and "1,048,576 characters" in rejected.problems[0].message
    )


def test_column_names_match_whatever_their_case_and_spacing() -> None:
    raw = {"Source Record ID": "R9", "AGENCY": "ngo-b", "Sex": "male", "country-of-detection": "GB"}
    record = canonical.map_row(raw, source_file="f.csv", source_row=2, today=TODAY)
    assert isinstance(record, VictimRecord)
    assert (record.source_record_id, record.agency, record.sex, record.country_of_detection) == (
        "R9",
        "ngo-b",
        "male",
        "GBR",
    )


def test_header_check_names_missing_required_columns_and_lists_extra_ones() -> None:
    with pytest.raises(InputFileError, match="no column 'source_record_id'"):
        canonical.check_header(["agency", "sex"], source_file="f.csv")
    check = canonical.check_header(["source_record_id", "shoe_size"], source_file="f.csv")
    assert check.extra_columns == ("shoe_size",)


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="no import profile 'ctdc2'"):
        get_profile("ctdc2")


def test_ctdc_row_keeps_the_band_and_does_not_invent_an_age() -> None:
    ctdc = get_profile("ctdc")
    raw = {
        "yearOfRegistration": "2016",
        "gender": "Female",
        "ageBroad": "9--17",
        "citizenship": "PH",
        "isForcedLabour": "0.0",
        "isSexualExploit": "1.0",
        "CountryOfExploitation": "0",
        "extra": "x",
    }
    record = ctdc.map_row(raw, source_file="ctdc.csv", source_row=7, today=TODAY)
    assert isinstance(record, VictimRecord)
    assert record.age_at_identification is None and record.age_band == "9--17"
    assert record.identification_year == 2016 and record.identification_date is None
    assert record.citizenships == ("PHL",) and record.country_of_detection is None
    assert record.exploitation_forms == ("sexual_exploitation",)
    assert record.source_record_id == "ctdc:7"
    unknown_forms = ctdc.map_row(
        {**raw, "isSexualExploit": "", "isForcedLabour": ""},
        source_file="ctdc.csv",
        source_row=8,
        today=TODAY,
    )
    assert isinstance(unknown_forms, VictimRecord) and unknown_forms.exploitation_forms is None
    bad = ctdc.map_row(
        {**raw, "ageBroad": "10-12", "citizenship": "QQ"},
        source_file="ctdc.csv",
        source_row=9,
        today=TODAY,
    )
    assert isinstance(bad, RejectedRow) and {p.column for p in bad.problems} == {
        "ageBroad",
        "citizenship",
    }


def test_ctdc_vp_row_gives_a_victim_and_perpetrators() -> None:
    vp = get_profile("ctdc_vp")
    raw = {
        "yearRegister": "2019",
        "gender": "Male",
        "majorityStatus": "Minor",
        "isForcedLabour": "1",
        "isSexualExploit": "",
        "IP_Gender": "Female;Male",
        "IP_Relation": "FriendAcquaintance",
        "IP_Exploiter": "1",
        "IP_RecruiterBroker": "1",
        "IP_TransactionProcess": "",
        "IP_ControlAbuseKidnap": "",
    }
    victim = vp.map_row(raw, source_file="vp.csv", source_row=3, today=TODAY)
    assert isinstance(victim, VictimRecord)
    assert (
        victim.age_band == "0-17"
        and victim.sex == "male"
        and victim.exploitation_forms == ("forced_labour",)
    )
    people = vp.perpetrators(raw, victim)
    assert [p.sex for p in people] == ["female", "male"]
    assert people[0].roles == ("recruiter", "exploiter")
    assert people[0].victim_links == (("vp:3", "friend_acquaintance"),)


def test_htcds_names_and_picklists() -> None:
    htcds = get_profile("htcds")
    raw = {
        "prs_FirstName": "Ana",
        "prs_SecondName": "Lima",
        "prs_Gender": "Feminine",
        "prs_Citizenship": "BR, PT",
        "vic_TraffickingStatus": "ActualVictimOfTrafficking",
        "vic_TypeOfExploitation": "ForcedLabour;Servitude",
        "vic_ForcedLabourIndustry": "A_AgricultureForestryAndFishing",
        "vic_MethodsOfControl": "DebtBondage",
        "vic_RelationshipToTrafficker": "Familial",
        "vic_TraffickinStatusDecisionMakingOrg": "Police",
        "con_Consent": "true",
        "prs_MailingCity": "Recife",
    }
    record = htcds.map_row(raw, source_file="h.csv", source_row=2, agency="nrm", today=TODAY)
    assert isinstance(record, VictimRecord), record
    assert record.gender_identity == "feminine" and record.sex == "unknown"
    assert record.citizenships == ("BRA", "PRT") and record.identification_status == "identified"
    assert record.exploitation_forms == ("forced_labour", "slavery_or_servitude")
    assert record.labour_sector_isic == ("A",) and record.recruiter_relationship == ("family",)
    assert (
        record.agency_type == "police"
        and record.consent is not None
        and record.consent.case_management
    )
    assert record.identity.given_name == "Ana" and record.identity.address == "Recife"


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "source_record_id",
                "agency",
                "sex",
                "age_at_identification",
                "identification_date",
                "citizenships",
                "exploitation_forms",
                "narrative",
                "date_of_birth",
                "birth_year",
                "labour_sector_isic",
            ]
        ),
        st.text(max_size=30),
    )
)
def test_any_row_maps_to_a_record_or_a_reasoned_reject(raw: dict[str, str]) -> None:
    result = canonical.map_row(raw, source_file="f.csv", source_row=5, agency=None, today=TODAY)
    if isinstance(result, RejectedRow):
        assert result.problems and all(p.message for p in result.problems)
        assert result.source_row == 5 and result.raw == raw
    else:
        assert result.source_record_id and result.agency
        assert result.age_at_identification is None or 0 <= result.age_at_identification <= 120


def test_fast_build_makes_the_same_record_as_the_constructor() -> None:
    from dataclasses import fields

    from ctip.domain.records import Identity
    from ctip.ingest.profiles.base import build

    record = mapped(sex="male", age_at_identification="40", citizenships="GBR", given_name="Al")
    assert isinstance(record, VictimRecord)
    again = VictimRecord(**{f.name: getattr(record, f.name) for f in fields(VictimRecord)})
    assert record == again and hash(record) == hash(again)
    assert build(Identity, {"given_name": "x", "aliases": ()}) == Identity(given_name="x")
    with pytest.raises(TypeError):
        build(Identity, {"given_name": "x", "aliases": (), "nickname": "y"})


def test_htcds_template_rows_without_values_are_skipped_not_invented() -> None:
    htcds = get_profile("htcds")
    empty = htcds.map_row(
        {"column_1": "7", "prs_FirstName": ""},
        source_file="t.xlsx",
        source_row=9,
        agency="nrm",
        today=TODAY,
    )
    assert not isinstance(empty, VictimRecord | RejectedRow) and "blank" in empty.reason
    only_agency = htcds.map_row({"agency": "nrm", "prs_FirstName": ""}, source_file="t.xlsx",
                                source_row=10, agency="nrm", today=TODAY)
    assert isinstance(only_agency, RejectedRow)
    assert "no HTCDS value" in only_agency.problems[0].message
