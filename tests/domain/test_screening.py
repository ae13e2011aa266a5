"""ILO/EC indicator screening: the dimension rule, case rule, child rule, and clear refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain import screening
from ctip.errors import ValidationError


def ids(profile, dim, strength):
    return [
        i.id
        for i in screening.indicators(profile)
        if i.dimension == dim and i.strength[profile] == strength
    ]


def test_indicator_list_has_the_published_sizes():
    al = screening.indicators("AL")
    assert len(al) == 67 and len(screening.indicators("CL")) == 65
    sizes = {d: sum(1 for i in al if i.dimension == d) for d in screening.DIMENSIONS}
    assert sizes == {"DR": 10, "CR": 10, "VR": 16, "EX": 9, "CD": 15, "VD": 7}


@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
def test_dimension_rule(s, m, w):
    expected = s >= 2 or (s >= 1 and m + w >= 1) or m >= 3 or (m >= 2 and w >= 1)
    assert screening.dimension_positive(s, m, w) is expected


def test_adult_case_rule_met():
    obs = {
        k: "yes"
        for k in ids("AL", "DR", "S")
        + ids("AL", "DR", "M")[:1]
        + ids("AL", "EX", "S")
        + ids("AL", "EX", "M")[:1]
        + ids("AL", "CD", "S")[:2]
    }
    result = screening.screen(obs, "AL")
    assert result.classification == "ilo_case_rule_met"
    assert set(result.positive_dimensions()) == {"DR", "EX", "CD"}
    assert result.suggested_status == "presumed_victim"
    assert any("person screening decides" in r for r in result.reasons)


def test_exploitation_only_is_not_the_case_rule_for_adults_but_is_for_children():
    adult_obs = {k: "yes" for k in ids("AL", "EX", "M")[:3]}
    adult = screening.screen(adult_obs, "AL")
    assert adult.classification == "exploited"
    child_obs = {k: "yes" for k in ids("CL", "EX", "M")[:3]}
    child = screening.screen(child_obs, "CL")
    assert child.classification == "ilo_case_rule_met"


def test_deceived_and_exploited():
    obs = {k: "yes" for k in ids("AL", "DR", "M")[:3] + ids("AL", "EX", "M")[:3]}
    assert screening.screen(obs, "AL").classification == "deceived_and_exploited"


def test_no_indicators_suggests_not_indicated_and_unknown_does_not_count():
    result = screening.screen({k: "unknown" for k in ids("AL", "CD", "S")}, "AL")
    assert result.suggested_status == "not_indicated" and result.classification == "no_indicators"


def test_single_strong_indicator_is_enough_for_the_presumption():
    result = screening.screen({ids("AL", "CD", "S")[0]: "yes"}, "AL")
    assert result.suggested_status == "presumed_victim" and not result.positive_dimensions()


def test_bad_input_is_refused_with_the_allowed_values():
    with pytest.raises(ValidationError, match="allowed"):
        screening.screen({"DR-01": "maybe"}, "AL")
    with pytest.raises(ValidationError, match="not in the CL list"):
        screening.screen({"VR-07": "yes"}, "CL")
    with pytest.raises(ValidationError, match="WCMS_105023"):
        screening.screen({}, "AS")
