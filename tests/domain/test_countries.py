"""Countries: ISO3 normalisation from what agencies type, M49 regions and GLOTIP flow types."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain.countries import all_countries, country, flow_type, normalise_country


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("NGA", "NGA"),
        ("nga", "NGA"),
        ("NG", "NGA"),
        ("566", "NGA"),
        ("Nigeria", "NGA"),
        ("  nigeria ", "NGA"),
        ("GB", "GBR"),
        ("UK", "GBR"),
        ("United Kingdom", "GBR"),
        ("Côte d'Ivoire", "CIV"),
        ("Cote dIvoire", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Viet Nam", "VNM"),
        ("Vietnam", "VNM"),
        ("8", "ALB"),
        ("008", "ALB"),
        ("Russian Federation", "RUS"),
        ("Russia", "RUS"),
        ("Kosovo", "XKX"),
        ("XK", "XKX"),
        ("Democratic Republic of the Congo", "COD"),
        ("DRC", "COD"),
        ("Congo", "COG"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Bolivia (Plurinational State of)", "BOL"),
        ("United States of America", "USA"),
        ("Republic of Moldova", "MDA"),
    ],
)
def test_normalise_accepts_codes_names_and_aliases(text: str, iso3: str) -> None:
    assert normalise_country(text) == iso3


@pytest.mark.parametrize(
    "text", ["", "  ", "Atlantis", "ZZZ", "QQ", "999", "stateless", "unknown", "0"]
)
def test_normalise_returns_none_for_what_is_not_a_country(text: str) -> None:
    assert normalise_country(text) is None


def test_every_country_normalises_to_itself_by_each_code_and_name() -> None:
    countries = all_countries()
    assert len(countries) >= 249
    for c in countries:
        assert normalise_country(c.iso3) == c.iso3
        assert normalise_country(c.iso2) == c.iso3
        assert normalise_country(c.name) == c.iso3, c
        if c.m49:
            assert normalise_country(c.m49) == c.iso3


def test_m49_regions() -> None:
    assert country("ITA").region == "Europe" and country("ITA").subregion == "Southern Europe"
    ng = country("NGA")
    assert (ng.region, ng.subregion, ng.intermediate_region) == (
        "Africa",
        "Sub-Saharan Africa",
        "Western Africa",
    )
    assert country("BRA").subregion == "Latin America and the Caribbean"
    assert country("THA").subregion == "South-eastern Asia"
    assert country("XKX").region == "Europe" and country("XKX").m49 is None
    regions = {c.region for c in all_countries()}
    assert regions == {"Africa", "Americas", "Asia", "Europe", "Oceania", None}
    assert [c.iso3 for c in all_countries() if c.region is None] == ["ATA"]


def test_unknown_code_raises_lookup_error() -> None:
    with pytest.raises(LookupError, match="ZZZ"):
        country("ZZZ")


@pytest.mark.parametrize(
    ("citizenship", "detection", "flow"),
    [
        ("NGA", "NGA", "domestic"),
        ("NGA", "GHA", "subregional"),
        ("EGY", "NGA", "intraregional"),
        ("NGA", "ITA", "transregional"),
        ("ALB", "ITA", "subregional"),
        ("ROU", "ITA", "intraregional"),
        (None, "ITA", "unknown"),
        ("NGA", None, "unknown"),
        ("stateless", "ITA", "unknown"),
        ("ATA", "ITA", "unknown"),
    ],
)
def test_flow_type(citizenship: str | None, detection: str | None, flow: str) -> None:
    assert flow_type(citizenship, detection) == flow


@given(st.text(max_size=40))
def test_normalise_never_crashes_and_returns_a_known_code(text: str) -> None:
    result = normalise_country(text)
    assert result is None or country(result).iso3 == result
