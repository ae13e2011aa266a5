"""Training that cannot fail (issue 11 item 1): EM's zero levels floored, failed steps skipped,
untrained levels given fixed priors, and every such step named in a notice."""

from __future__ import annotations

import pytest
import splink.comparison_level_library as cll
from hypothesis import given
from hypothesis import strategies as st
from splink.internals import expectation_maximisation as em

from ctip.linkage.model import u_without_matches
from ctip.linkage.training import EM_FLOOR, complete_with_priors, flooring_em, guarded


def _level():  # type: ignore[no-untyped-def]
    level = cll.ExactMatchLevel("address").get_comparison_level("duckdb")
    level._comparison_vector_value = 3  # as a Comparison numbers its levels
    return level


def test_a_level_em_gives_m_zero_is_floored_and_named() -> None:
    lookup = {"address": {3: {"m_probability": 0.0, "u_probability": 0.15}}}
    with pytest.raises(ValueError, match="below the minimum"):  # what Splink does on its own
        em.populate_m_u_from_lookup(set(), _level(), "address", {"address": {**lookup["address"]}})
    notices: list[str] = []
    level = _level()
    with flooring_em(notices):
        em.populate_m_u_from_lookup(set(), level, "address", lookup)
    assert level.m_probability == EM_FLOOR and level.u_probability == 0.15
    assert len(notices) == 1 and "address" in notices[0] and "floored" in notices[0]
    assert em.populate_m_u_from_lookup.__name__ == "populate_m_u_from_lookup"  # restored


def test_a_failing_step_is_skipped_with_a_notice_and_other_errors_propagate() -> None:
    notices: list[str] = []

    def fails() -> None:
        raise ValueError("m_probability value 0.0 is below the minimum allowed value of 1e-300")

    assert guarded("EM on pairs sharing a date of birth", fails, notices) is False
    assert notices and notices[0].startswith("EM on pairs sharing a date of birth could not be")

    def bug() -> None:
        raise TypeError("a bug of ours")

    with pytest.raises(TypeError):
        guarded("step", bug, notices)


def test_untrained_levels_and_lambda_get_fixed_priors() -> None:
    model = {
        "probability_two_random_records_match": None,
        "comparisons": [
            {
                "output_column_name": "address",
                "comparison_levels": [
                    {"is_null_level": True, "label_for_charts": "null"},
                    {"label_for_charts": "exact", "m_probability": 0.8, "u_probability": 0.01},
                    {"label_for_charts": "tokens", "u_probability": 0.05},
                    {"label_for_charts": "else"},
                ],
            }
        ],
    }
    notices: list[str] = []
    out = complete_with_priors(model, 1000, notices)
    levels = out["comparisons"][0]["comparison_levels"][1:]
    assert levels[0]["m_probability"] == 0.8  # trained values are kept
    assert all(isinstance(lv["m_probability"], float) for lv in levels)
    assert all(isinstance(lv["u_probability"], float) for lv in levels)
    assert levels[1]["m_probability"] > levels[2]["m_probability"]
    assert out["probability_two_random_records_match"] == pytest.approx(1 / 1000)
    assert any("address" in n for n in notices)
    assert any("one match per record" in n for n in notices)


def _address_model(lam: float, exact_u: float) -> dict:  # type: ignore[type-arg]
    return {
        "probability_two_random_records_match": lam,
        "comparisons": [
            {
                "output_column_name": "address",
                "comparison_levels": [
                    {"is_null_level": True},
                    {"m_probability": 0.6, "u_probability": exact_u},
                    {"m_probability": 0.3, "u_probability": 0.05},
                    {"m_probability": 0.1, "u_probability": 1 - 0.05 - exact_u},
                ],
            }
        ],
    }


@given(
    lam=st.floats(1e-6, 0.05),
    share=st.floats(0.0, 1.0),
    pairs=st.floats(1e3, 1e7),
)
def test_u_leaves_out_the_matches_among_random_pairs(
    lam: float, share: float, pairs: float
) -> None:

    # what random sampling counted on the exact level: the matches' share plus non-matches'
    true_u = share * 1e-3
    counted = lam * 0.6 + (1 - lam) * true_u
    model = _address_model(lam, counted)
    out = u_without_matches(model, pairs)
    levels = out["comparisons"][0]["comparison_levels"][1:]
    us = [lv["u_probability"] for lv in levels]
    assert sum(us) == pytest.approx(1.0)  # still a distribution
    assert us[0] <= counted  # never more than was counted
    assert us[0] >= min(0.5 / pairs, counted) * 0.99  # rare at most, never impossible
    if true_u > 0.5 / pairs:
        assert us[0] == pytest.approx(true_u, rel=0.1)
    assert [lv["m_probability"] for lv in levels] == [0.6, 0.3, 0.1]  # m untouched
    assert model["comparisons"][0]["comparison_levels"][1]["u_probability"] == counted  # a copy
