"""GLOTIP: value parsing (property-based), the real export (reconciles, known totals), mapping."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.stats.glotip import (
    flow_matrix,
    flow_type_shares,
    load_glotip,
    parse_glotip,
    parse_value,
    read_glotip,
    regional_aggregates,
    victim_totals,
)
from ctip.stats.glotip_map import build_mapping, classify, shipped_mapping, unmapped_report


@given(st.integers(min_value=0, max_value=1_000_000))
def test_counts_with_thousands_separators_round_trip(n):
    assert parse_value(f"{n:,}").value == n
    assert parse_value(str(n)).value == n


@given(st.text(max_size=12))
def test_any_text_is_a_count_or_rejected_with_a_reason(text):
    parsed = parse_value(text, "2019")
    assert (parsed.value is not None) + parsed.suppressed + (parsed.reason is not None) == 1


def test_special_values():
    assert parse_value("<5").suppressed and parse_value("<5").value is None
    assert "cell reference" in parse_value("61,102,019", "2019").reason
    assert "plausible" in parse_value("6,112,019", "2022").reason
    assert parse_value("").reason == "empty value"
    assert "not a count" in parse_value("12a").reason
    assert parse_value("1,2345").reason  # a misplaced separator is not a number


def test_parse_rows_reconcile_and_keep_reasons():
    rows = [
        (
            2,
            {
                "Iso3_code": "MLT",
                "Indicator": "Detected trafficking victims",
                "Dimension": "by citizenship",
                "Category": "Nigerians",
                "Sex": "Total",
                "Age": "Total",
                "Year": "2020",
                "txtVALUE": "1,192",
            },
        ),
        (
            3,
            {
                "Iso3_code": "MLT",
                "Indicator": "Detected trafficking victims",
                "Dimension": "by citizenship",
                "Category": "Q6.1_10s_2019",
                "Sex": "Total",
                "Age": "Total",
                "Year": "2019",
                "txtVALUE": "<5",
            },
        ),
        (
            4,
            {
                "Iso3_code": "MLT",
                "Indicator": "Detected trafficking victims",
                "Dimension": "Total",
                "Category": "Total",
                "Sex": "Total",
                "Age": "Total",
                "Year": "2019",
                "txtVALUE": "<5",
            },
        ),
        (5, {"Iso3_code": "MLT", "Year": "20x9", "txtVALUE": "7"}),
    ]
    data = parse_glotip(rows)
    assert data.read == 4 and data.reconciles
    assert list(data.accepted["source_row"]) == [2, 4]
    assert data.accepted.loc[0, "citizenship"] == "NGA" and data.accepted.loc[0, "value"] == 1192
    assert data.accepted.loc[1, "lower"] == 1 and data.accepted.loc[1, "upper"] == 4
    reasons = dict(zip(data.rejected["source_row"], data.rejected["reason"], strict=True))
    assert "not a citizenship" in reasons[3] and "year" in reasons[5]


def test_mapping_classifies_demonyms_languages_and_specials():
    assert classify("Nigerians")[0] == "NGA"
    assert classify("Rep\ufffdblica Dominicana")[0] == "DOM"
    assert classify("Roumanie")[0] == "ROU"
    assert classify("Viet Nam") == ("VNM", "iso", "")
    assert classify("Abroad")[0] == "ABROAD" and classify("Nationals")[0] == "NATIONALS"
    assert classify("Q6.1_3s_2020")[0] == "INVALID"
    assert classify("Atlantis")[0] is None
    table = build_mapping(["Atlantis", "Chinese"])
    report = unmapped_report(
        pd.DataFrame({"category": ["Atlantis", "Atlantis", "Chinese"], "value": [3, 4, 10]}), table
    )
    assert report.to_dict("records") == [{"category": "Atlantis", "rows": 2, "known_count": 7}]


@pytest.mark.shared_data
def test_real_export_reconciles_and_reproduces_known_totals(shared_data):
    data = load_glotip(shared_data / "unodc-glotip" / "data_glotip.csv")
    assert data.read == 58_769 and data.reconciles
    assert int(data.accepted["suppressed"].sum()) > 29_000  # about half are "<5"
    totals = victim_totals(data)
    # SOURCE.md: sums of numeric Total/Total/Total victim rows
    assert int(totals.loc[totals["year"] == 2019, "value"].sum()) == 82_291
    assert int(totals.loc[totals["year"] == 2022, "value"].sum()) == 75_128
    assert all("reason" in r and r["reason"] for r in data.rejected.to_dict("records"))
    # every citizenship category is in the shipped, reviewed mapping
    cit = data.accepted[
        data.accepted["dimension"].isin(["by citizenship", "by country of repatriation"])
    ]
    assert unmapped_report(cit).empty
    assert set(cit["category"]) <= set(shipped_mapping()["category"])
    world = regional_aggregates(data)
    w22 = world[(world["area"] == "World") & (world["year"] == 2022)].iloc[0]
    regions = world[(world["area"] != "World") & (world["year"] == 2022)]
    assert w22["known"] == 75_128 == regions["known"].sum()
    assert w22["lower"] <= w22["upper"] and w22["lower"] - w22["known"] == w22["suppressed"]
    flows = flow_matrix(data, year=2022)
    assert (flows["lower"] <= flows["upper"]).all()
    shares = flow_type_shares(data, year=2022)
    assert shares.groupby("destination")["share"].sum().round(9).eq(1).all()


@pytest.mark.shared_data
def test_xlsx_and_csv_exports_read_the_same(shared_data):
    folder = shared_data / "unodc-glotip"
    csv_rows = [r for _, r in itertools.islice(read_glotip(folder / "data_glotip.csv"), 300)]
    xlsx_rows = [r for _, r in itertools.islice(read_glotip(folder / "data_glotip.xlsx"), 300)]
    for a, b in zip(csv_rows, xlsx_rows, strict=True):
        assert (a["Iso3_code"], a["Category"], a["Year"], a["txtVALUE"]) == (
            b["Iso3_code"],
            b["Category"],
            str(b["Year"]),
            b["txtVALUE"],
        )


@pytest.mark.shared_data
def test_cli_glotip_reconciles(shared_data):
    import json

    from typer.testing import CliRunner

    from ctip.cli import app

    out = CliRunner().invoke(
        app,
        [
            "glotip",
            str(shared_data / "unodc-glotip" / "data_glotip.csv"),
            "--year",
            "2022",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["read"] == doc["accepted"] + doc["rejected"] == 58_769
    world = [r for r in doc["regions"] if r["area"] == "World"]
    assert world[0]["known"] == 75_128
