"""Known answers: every table on the hand-made fixture (tests/stats/conftest.py), counted by hand.

Detected and counted: v1-v10 and v13 (v11 is only a possible victim, v12 withdrew consent).
"""

from __future__ import annotations

import pandas as pd
import pytest

from ctip.domain.derive import RollupRule
from ctip.errors import ValidationError
from ctip.stats.flows import flow_shares, flows, od_matrix
from ctip.stats.quality import data_quality
from ctip.stats.registry import TABLES, compute
from ctip.stats.sdg import sdg_16_2_2
from ctip.stats.tables import perpetrators_by, reporting_country_of, victims_by


def cell(frame: pd.DataFrame, column: str = "count", **dims: object) -> object:
    mask = pd.Series(True, index=frame.index)
    for name, value in dims.items():
        mask &= frame[name] == value
    hit = frame.loc[mask, column]
    assert len(hit) == 1, f"expected one cell for {dims}, found {len(hit)}"
    return hit.iloc[0]


def test_victims_by_year_and_group_keeps_unknowns(con):
    t = victims_by(con, ["year", "victim_group"])
    expected = {
        ("2022", "women"): 2,
        ("2022", "girls"): 1,
        ("2022", "men"): 1,
        ("2022", "boys"): 1,
        ("2022", "unknown"): 2,
        ("2023", "women"): 1,
        ("2023", "girls"): 1,
        ("2023", "men"): 1,
        ("2023", "boys"): 0,
        ("unknown", "women"): 1,
    }
    for (year, group), n in expected.items():
        assert cell(t, year=year, victim_group=group) == n
    assert t["count"].sum() == 11  # 13 rows, one not detected, one withdrawn


def test_margins_are_totals(con):
    t = victims_by(con, ["year", "sex"], margins=True)
    assert cell(t, year="total", sex="total") == 11
    assert cell(t, year="2022", sex="total") == 7
    assert cell(t, year="total", sex="female") == 6


def test_unodc_rollup_default_and_other_rule(con):
    t = victims_by(con, ["year", "unodc_form"])
    assert [
        cell(t, year="2022", unodc_form=f)
        for f in (
            "sexual_exploitation",
            "forced_labour",
            "mixed",
            "forced_criminality",
            "begging",
            "unknown",
        )
    ] == [2, 1, 1, 1, 1, 1]
    national = RollupRule(mixed=False, begging_and_criminality_as_labour=True)
    t2 = victims_by(con, ["year", "unodc_form"], rule=national)
    assert cell(t2, year="2022", unodc_form="sexual_exploitation") == 3  # mixed -> precedence
    assert cell(t2, year="2022", unodc_form="forced_labour") == 3  # + begging, criminality
    assert "mixed" not in set(t2["unodc_form"])


def test_mixed_rule_from_stored_primary_form_equals_full_rollup(con):
    from ctip.stats.query import rollup_sql

    rule = RollupRule(mixed=False)
    fast = victims_by(con, ["year", "unodc_form"], rule=rule)
    full = con.execute(
        f"SELECT {rollup_sql(rule)} AS f, COUNT(*) FROM victims AS v "
        "WHERE v.detected AND NOT v.consent_withdrawn GROUP BY f"
    ).fetchall()
    totals = fast.groupby("unodc_form")["count"].sum()
    assert {f: n for f, n in full} == {f: n for f, n in totals.items() if n}
    assert totals["sexual_exploitation"] == 4  # v1, v3, v8 and the mixed v4


def test_fine_forms_are_multi_response(con):
    t = victims_by(con, ["year", "form"])
    y = t[t["year"] == "2022"]
    assert cell(y, form="sexual_exploitation") == 3 and cell(y, form="forced_labour") == 2
    assert cell(y, form="unknown") == 1
    assert y["count"].sum() == 8  # 7 victims, one with two forms


def test_disability_and_citizenship(con):
    d = victims_by(con, ["year", "disability", "victim_group"])
    assert cell(d, year="2022", disability="disability", victim_group="boys") == 1
    assert cell(d, year="2022", disability="unknown", victim_group="unknown") == 1
    c = victims_by(con, ["year", "citizenship_origin"])
    assert [
        cell(c, year="2022", citizenship_origin=o)
        for o in ("national", "Europe", "Africa", "unknown")
    ] == [1, 3, 2, 1]
    t = victims_by(con, ["citizenship_type"])
    assert cell(t, citizenship_type="national") == 3 and cell(t, citizenship_type="foreign") == 7


def test_perpetrators_by_stage_sex_and_citizenship(con):
    assert reporting_country_of(con) == "MLT"
    p = perpetrators_by(con, ["year", "stage", "sex"])
    assert cell(p, year="2022", stage="suspected", sex="male") == 1
    assert cell(p, year="2022", stage="suspected", sex="female") == 1
    assert cell(p, year="2023", stage="convicted", sex="male") == 1
    assert cell(p, year="2023", stage="prosecuted", sex="unknown") == 1
    c = perpetrators_by(con, ["stage", "citizenship_origin"], reporting_country="MLT")
    assert cell(c, stage="suspected", citizenship_origin="national") == 1
    assert cell(c, stage="suspected", citizenship_origin="Europe") == 1
    assert cell(c, stage="prosecuted", citizenship_origin="unknown") == 1


def test_flows_and_shares(con):
    f = flows(con)
    assert cell(f, origin="ROU", destination="MLT") == 2
    matrix = od_matrix(f)
    assert matrix.loc["NGA", "MLT"] == 2 and matrix.values.sum() == 11
    s = flow_shares(con)
    y = s[s["year"] == "2022"]
    assert [
        cell(y, flow_type=k)
        for k in ("domestic", "subregional", "intraregional", "transregional", "unknown")
    ] == [1, 1, 2, 2, 1]
    assert cell(y, "share", flow_type="transregional") == pytest.approx(2 / 6)
    assert pd.isna(cell(y, "share", flow_type="unknown"))
    regional = flows(con, origin="region", destination="region")
    assert cell(regional, origin="Africa", destination="Europe") == 2


def test_sdg_16_2_2_counts_and_rates(con):
    t = sdg_16_2_2(con)
    y = t[(t["year"] == "2022") & (t["ref_area"] == "MLT")]
    total = y[(y["series"] == "VC_HTF_DETV") & (y["sex"] == "_T") & (y["age"] == "_T")]
    assert int(total["count"].iloc[0]) == 7
    assert int(total["population"].iloc[0]) == 531_113  # World Bank, Malta 2022
    assert float(total["rate"].iloc[0]) == pytest.approx(7 / 531_113 * 100_000)
    by_series = {
        s: int(y[(y["series"] == s) & (y["sex"] == "_T") & (y["age"] == "_T")]["count"].sum())
        for s in ("VC_HTF_DETVSX", "VC_HTF_DETVFL", "VC_HTF_DETVOP", "VC_HTF_DETVOG")
    }
    assert by_series == {
        "VC_HTF_DETVSX": 3,
        "VC_HTF_DETVFL": 1,
        "VC_HTF_DETVOP": 2,
        "VC_HTF_DETVOG": 0,
    }
    girls = y[(y["series"] == "VC_HTF_DETV") & (y["sex"] == "F") & (y["age"] == "Y0T17")]
    assert int(girls["count"].iloc[0]) == 1
    # sex margins add up within each series and age
    for (series, age), g in y.groupby(["series", "age"]):
        assert g[g["sex"] == "_T"]["count"].sum() == g[g["sex"] != "_T"]["count"].sum()


def test_data_quality_per_agency(con):
    q = data_quality(con)
    assert cell(q, "records", agency="police", field="age") == 8
    assert cell(q, "unknown", agency="police", field="age") == 1
    assert cell(q, "share_unknown", agency="ngo", field="sex") == pytest.approx(1 / 3)
    assert cell(q, "unknown", agency="all agencies", field="citizenship") == 1
    assert cell(q, "records", agency="all agencies", field="sex") == 11


def test_registry_runs_every_table_and_rejects_bad_dimensions(con):
    for name in TABLES:
        table = compute(con, name)
        assert not table.frame.empty, name
        assert not table.frame.duplicated(table.dims).any(), name
    with pytest.raises(ValidationError, match="allowed"):
        compute(con, "victims", ["year", "shoe_size"])
    with pytest.raises(ValidationError, match="no table"):
        compute(con, "nope")
