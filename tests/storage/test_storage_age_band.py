"""Sources that give only an age band and a year (the CTDC profile) still count by year, age
group and victim group in the analytic view."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest
from storage_helpers import victim

from ctip.domain import derive
from ctip.storage.repository import CaseStore


def _ctdc_like(i: int, *, sex: str, band: str | None, year: int | None) -> object:
    return dataclasses.replace(victim(i, agency="ctdc"), identification_date=None,
                               age_at_identification=None, birth_year=None, sex=sex,
                               age_band=band, identification_year=year)


def _view(store: CaseStore) -> dict[str, tuple[object, ...]]:
    con = duckdb.connect()
    store.to_duckdb(con)
    rows = con.execute("SELECT source_record_id, identification_year, age_group, victim_group "
                       "FROM victims").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_band_and_year_reach_the_analytic_view(store: CaseStore) -> None:
    batch = store.start_batch(source_file="ctdc.csv", file_sha256=None, profile="ctdc",
                              agency="ctdc")
    records = [
        _ctdc_like(1, sex="female", band="9--17", year=2019),
        _ctdc_like(2, sex="male", band="0-17", year=2020),
        _ctdc_like(3, sex="female", band="30--38", year=2021),
        _ctdc_like(4, sex="male", band="18+", year=2018),
        _ctdc_like(5, sex="female", band=None, year=None),
        _ctdc_like(6, sex="unknown", band="0--8", year=2017),
        _ctdc_like(7, sex="male", band="no such band", year=2016),
        # a date and an age, when given, win over the year and the band
        dataclasses.replace(victim(8, agency="ctdc"), age_at_identification=40, age_band="0--8",
                            identification_year=1999),
    ]
    store.add_victims(batch, records)
    view = _view(store)
    assert view == {
        "R00001": (2019, "0-17", "girls"),
        "R00002": (2020, "0-17", "boys"),
        "R00003": (2021, "18+", "women"),
        "R00004": (2018, "18+", "men"),
        "R00005": (None, "unknown", "unknown"),
        "R00006": (2017, "0-17", "unknown"),
        "R00007": (2016, "unknown", "unknown"),
        "R00008": (records[7].identification_date.year, "18+", "men"),
    }


def test_a_changed_band_is_an_update(store: CaseStore) -> None:
    batch = store.start_batch(source_file="ctdc.csv", file_sha256=None, profile="ctdc",
                              agency="ctdc")
    first = _ctdc_like(1, sex="female", band="0--8", year=2019)
    assert store.add_victims(batch, [first]).new == 1
    assert store.add_victims(batch, [first]).unchanged == 1
    # same age group, different band: still a change to the record
    assert store.add_victims(batch, [dataclasses.replace(first, age_band="9--17")]).updated == 1


@pytest.mark.parametrize(("band", "group"), [
    *[(label, "0-17" if high < 18 else "18+") for _, high, label in derive.CTDC_AGE_BROAD],
    ("0-17", "0-17"), ("18+", "18+"), (None, "unknown"), ("", "unknown"), ("17--30", "unknown"),
])
def test_age_group_of_band(band: str | None, group: str) -> None:
    assert derive.age_group_of_band(band) == group
