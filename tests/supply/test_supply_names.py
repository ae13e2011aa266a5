"""Company-name matching: legal forms, transliteration, typos; precision/recall on pairs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.supply import synthetic
from ctip.supply.evaluate import matching
from ctip.supply.names import NameMatcher, normalise


def test_legal_forms_and_scripts_fold_away() -> None:
    assert normalise("Hoshine Silicon Industry Co., Ltd.") == "hoshine silicon industry"
    assert normalise("HOSHINE SILICON INDUSTRY COMPANY LIMITED") == "hoshine silicon industry"
    assert normalise("OOO Rosneft") == normalise("Rosneft")
    assert normalise("Xīnjiāng Zhōngtài") == "xinjiang zhongtai"


def test_matcher_finds_variants_and_leaves_others() -> None:
    m = NameMatcher([["Hoshine Silicon Industry Co., Ltd."], ["Xinjiang Daqo New Energy Co."]])
    found = {c.query: c for c in m.match(["Hoshine Silicon Industries Co Ltd",
                                          "XINJIANG DAQO NEW ENERGY", "Acme Widgets Ltd",
                                          "Xinjiang Daqo Chemical"])}
    assert found["XINJIANG DAQO NEW ENERGY"].method == "exact"
    assert found["Hoshine Silicon Industries Co Ltd"].entity_index == 0
    assert "Acme Widgets Ltd" not in found
    assert "Xinjiang Daqo Chemical" not in found  # same region and core, another company


def test_precision_and_recall_on_perturbed_pairs() -> None:
    result = matching(pairs=500)
    assert result["pairs"] == 500 and result["negatives"] == 500
    assert set(result["recall_by_perturbation"]) == set(synthetic.PERTURBATIONS)
    assert result["recall"] >= 0.9
    assert result["precision"] >= 0.8
    # a stricter threshold cannot find more
    strict = matching(pairs=500, threshold=0.97)
    assert strict["recall"] <= result["recall"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_normalise_is_idempotent_and_ascii(text: str) -> None:
    once = normalise(text)
    assert once.isascii()
    assert normalise(once) == once or normalise(once) == normalise(normalise(once))
