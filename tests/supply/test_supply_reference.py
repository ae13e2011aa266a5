"""The DOL List as reference data: CSV and XML load the same, the reviewed tables map it."""

from __future__ import annotations

import contextlib
import csv
import io

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.domain.countries import country
from ctip.errors import InputFileError, ValidationError
from ctip.supply import reference


def test_csv_and_xml_load_the_same_list() -> None:
    from_csv, from_xml = reference.shipped_list("csv"), reference.shipped_list("xml")
    assert from_csv == from_xml
    assert from_csv.version == from_xml.version
    assert len(from_csv.entries) == 467  # SOURCE.md: 467 good-country pairs
    assert sum(e.forced_labor for e in from_csv.entries) == 121
    assert sum(e.derived for e in from_csv.entries) == 10


@pytest.mark.shared_data
def test_the_shared_copy_loads_equal_from_csv_and_raw_xml(shared_data) -> None:
    base = shared_data / "dol-goods"
    a = reference.read_dol(base / "dol_goods_latest.csv", edition=2022)
    b = reference.read_dol(base / "raw" / "goods_2021.xml", edition=2022)
    assert a == b
    for year in (2016, 2019):
        old_csv = reference.read_dol_csv((base / "dol_goods_all_files.csv").read_bytes(),
                                         source_name="all", edition=year,
                                         source_file=f"goods_{year}.xml")
        old_xml = reference.read_dol(base / "raw" / f"goods_{year}.xml", edition=year)
        assert old_csv == old_xml and old_csv.version != a.version


def test_a_changed_flag_changes_the_version() -> None:
    text = reference._data("dol_goods_2022.csv").decode()
    changed = text.replace("Açaí Berries,Agriculture,Brazil,Latin America and the Caribbean,Yes",
                           "Açaí Berries,Agriculture,Brazil,Latin America and the Caribbean,No")
    if changed == text:  # the file spells Açaí decomposed
        rows = list(csv.reader(io.StringIO(text)))
        rows[1][5] = "No"
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        changed = out.getvalue()
    other = reference.read_dol_csv(changed.encode(), source_name="x.csv", edition=2022)
    assert other.version != reference.shipped_list().version


def test_every_dol_country_maps_to_a_real_iso_code() -> None:
    cw = reference.shipped_crosswalk()
    for name, iso3 in cw.countries.items():
        assert country(iso3).iso3 == iso3
        assert pycountry.countries.get(alpha_3=iso3) is not None, name
    # where pycountry knows the DOL spelling itself, it agrees with the reviewed table
    agree = 0
    for name, iso3 in cw.countries.items():
        try:
            found = pycountry.countries.lookup(name)
        except LookupError:
            continue
        assert found.alpha_3 == iso3, name
        agree += 1
    assert agree > 50


def test_coverage_lists_what_is_not_mapped() -> None:
    cov = reference.coverage(reference.shipped_list(), reference.shipped_crosswalk())
    assert cov.iso_share == 1.0
    unmapped = {g for g, _ in cov.unmapped_goods}
    assert cov.hs_mapped + sum(1 for e in reference.shipped_list().entries
                               if e.good in unmapped) == cov.entries
    assert "Pornography" in unmapped and "Polysilicon" not in unmapped
    assert all(why for _, why in cov.unmapped_goods)


def test_every_good_of_every_edition_is_in_the_crosswalk() -> None:
    cw = reference.shipped_crosswalk()
    assert reference.shipped_list().goods <= set(cw.hs)
    for codes in cw.hs.values():
        assert all(c.isdigit() and len(c) in (2, 4, 6) for c in codes)


def test_bad_list_files_name_file_row_and_column() -> None:
    head = ",".join(["source_file", *reference.CSV_COLUMNS])
    with pytest.raises(ValidationError) as err:
        reference.read_dol_csv(f"{head}\nf,Cocoa,Agriculture,Ghana,Africa,Maybe,No,No,No,No\n"
                               .encode(), source_name="bad.csv", edition=2022)
    assert "bad.csv" in str(err.value) and "row 2" in str(err.value)
    assert "child_labor" in str(err.value)
    with pytest.raises(InputFileError):
        reference.read_dol_xml(b"<Goods><Good>", source_name="cut.xml", edition=2022)
    with pytest.raises(InputFileError):
        reference.read_dol_csv(b"a,b\n1,2\n", source_name="other.csv", edition=2022)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_the_xml_reader_refuses_garbage_with_our_error(data: bytes) -> None:
    with contextlib.suppress(InputFileError, ValidationError):
        reference.read_dol_xml(data, source_name="fuzz.xml", edition=2022)
