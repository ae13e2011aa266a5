from hypothesis import given
from hypothesis import strategies as st

from ctip.domain.derive import (
    RollupRule,
    age_group,
    ctdc_age_broad,
    ctdc_age_broad_range,
    is_detected,
    primary_form,
    unodc_form,
    victim_group,
)
from ctip.domain.vocabulary import code_list, code_list_names, code_list_version

FORMS = code_list("exploitation_form").codes


@given(st.integers(min_value=0, max_value=120))
def test_every_age_falls_in_exactly_one_ctdc_band(age):
    band = ctdc_age_broad(age)
    low, high = ctdc_age_broad_range(band)
    assert low <= age <= high
    assert (age_group(age) == "0-17") == (age < 18)


def test_unknown_age_and_sex_stay_unknown():
    assert age_group(None) == "unknown"
    assert victim_group("female", None) == "unknown"
    assert victim_group("unknown", 30) == "unknown"
    assert [
        victim_group(s, a) for s, a in [("female", 17), ("female", 18), ("male", 5), ("male", 40)]
    ] == ["girls", "women", "boys", "men"]


def test_mixed_sexual_and_labour_is_its_own_category_unless_the_rule_says_otherwise():
    both = ("sexual_exploitation", "forced_labour")
    assert primary_form(both) == "mixed"
    assert primary_form(both, RollupRule(mixed=False)) == "sexual_exploitation"
    assert primary_form(None) == "unknown" and primary_form(()) == "unknown"


def test_begging_and_criminality_roll_up_by_national_rule():
    assert unodc_form("forced_begging") == "begging"
    assert unodc_form("forced_criminality") == "forced_criminality"
    as_labour = RollupRule(begging_and_criminality_as_labour=True)
    assert unodc_form("forced_begging", as_labour) == "forced_labour"
    assert primary_form(("forced_criminality", "sexual_exploitation"), as_labour) == "mixed"


@given(st.lists(st.sampled_from(FORMS), min_size=1, max_size=4))
def test_every_fine_form_rolls_up_to_a_unodc_category(forms):
    assert primary_form(tuple(forms)) in code_list("unodc_form").codes


def test_code_lists_are_versioned_and_crosswalk_both_ways():
    assert code_list_version()
    assert "exploitation_form" in code_list_names()
    htcds = code_list("means_of_control").from_standard("htcds")
    assert htcds["debtbondage"] == "debt_bondage"
    assert code_list("sex").crosswalk("sdg")["female"] == "F"
    assert is_detected("identified") and not is_detected("possible")
