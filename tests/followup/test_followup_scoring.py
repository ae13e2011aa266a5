"""The catalogue as data and the scoring engine as a pure function (design note part A7)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.errors import NotComparableError, ValidationError
from ctip.followup import catalogue, cycles
from ctip.followup.model import MET, NO_EVIDENCE, NOT_MET, PARTLY, Evidence, Observation, Unit
from ctip.followup.rules import observations
from ctip.followup.scoring import Weights, rate_unit

FW = catalogue.declaration()
RULES = catalogue.rule_set()
CYCLE = cycles.CycleInfo("ALB-2025-2028", "ALB", "2025-01-01", "2028-12-31")


def test_the_catalogue_has_the_44_rows_of_the_design_note() -> None:
    ids = [u.id for u in FW.units]
    assert len(ids) == 44 and len(set(ids)) == 44
    paragraphs = [i for i in ids if re.fullmatch(r"P\d+", i)]
    lettered = [i for i in ids if re.fullmatch(r"P\d+[a-f]", i)]
    assert len(paragraphs) == 31 and len(lettered) == 13
    assert sum(u.scoring == "score" for u in FW.units) == 24
    assert sum(bool(u.harm) for u in FW.units) == 24  # "Rows with harm checks: 24 of 44"
    # the track exceptions the rules name
    for track in ("P18a", "P18c", "P18e", "P21", "P22"):
        assert FW.unit(track).scoring == "track"
    for scored in ("P4", "P11", "P25", "P10", "P15"):
        assert FW.unit(scored).scoring == "score"
    rows = FW.detail["rows"]
    assert rows["P4"]["kind"] == "call" and rows["P4"]["strength"] == "firm"
    assert "GSI M2121" in FW.indicators["RAT-TIPP"].crosswalk
    assert FW.indicators["NEG-PENALISED"].harm
    assert FW.indicators["ASSIST-SHARE"].unit == "%"
    # one definition for a code used by several rows, shared by those rows
    assert {u.id for u in FW.units if "MLA-TIME" in u.indicators} == {"P15", "P18f", "P28d"}


def test_versions_are_named_by_their_hashes() -> None:
    assert FW.key == "declaration-2025 v1" and len(FW.sha256) == 64
    assert FW.sha256 == catalogue.declaration("1").sha256
    assert RULES.key == "gsi-style v1" and len(RULES.sha256) == 64


def _unit(positive: int, harm: int = 0) -> tuple[Unit, list[str], list[str]]:
    p = [f"I{i}" for i in range(positive)]
    h = [f"H{i}" for i in range(harm)]
    return Unit("U", "u", "legal", positive=tuple(p), harm=tuple(h)), p, h


@pytest.mark.parametrize(
    ("positive", "harm", "expected"),
    [
        ([MET, MET], [NOT_MET], 2),
        ([MET, MET], [MET], 1),  # harm caps at 1
        ([MET, NOT_MET], [], 1),
        ([PARTLY, NOT_MET], [], 1),
        ([NOT_MET, NOT_MET], [], 0),
        ([NO_EVIDENCE, NO_EVIDENCE], [MET], None),  # no evidence is not "not met"
        ([MET, NO_EVIDENCE], [], 1),  # 2 needs every indicator shown
        ([NOT_MET, NO_EVIDENCE], [], 0),
    ],
)
def test_the_gsi_rule(positive: list[str], harm: list[str], expected: int | None) -> None:
    unit, p, h = _unit(len(positive), len(harm))
    obs = {c: Observation(s) for c, s in zip(p + h, positive + harm, strict=True)}
    assert rate_unit(unit, obs)[0] == expected


def test_a_harm_only_unit_is_minus_two_when_met() -> None:
    unit = Unit("N", "negative", "legal", harm=("H",))
    assert rate_unit(unit, {"H": Observation(MET)})[0] == -2
    assert rate_unit(unit, {"H": Observation(NOT_MET)})[0] == 0


def ev(eid: str, code: str, value: str, as_of: str = "2025-06-01", grade: str = "B2",
       status: str = "accepted") -> Evidence:
    return Evidence(eid, code, value, as_of=as_of, source=grade[0], credibility=grade[1],
                    citation="doc", status=status)


def _score(items: list[Evidence], weights: Weights | None = None) -> dict:
    data = cycles.inputs(FW, RULES, CYCLE, items, weights)
    return cycles.assess(FW, RULES, data)


def test_thresholds_missing_evidence_and_confidence() -> None:
    result = _score([ev("e1", "ASSIST-SHARE", "72"), ev("e2", "SURVIVOR-VOICE", "yes"),
                     ev("e3", "NONPUN-LAW", "yes", as_of="2019-01-01", grade="C3"),
                     ev("e4", "NEG-PENALISED", "3"),
                     ev("e5", "NAP", "yes", status="submitted")])
    ind = result["indicators"]
    assert ind["ASSIST-SHARE"]["status"] == PARTLY  # 72 < 90, >= 50
    assert ind["NEG-PENALISED"]["status"] == MET  # harm present
    assert ind["NONPUN-LAW"]["stale"] is True
    assert ind["NAP"]["status"] == NO_EVIDENCE and "waiting for review" in ind["NAP"]["rule"]
    p12 = next(u for u in result["units"] if u["id"] == "P12")
    assert p12["rating"] == 1 and p12["points"] == 1.0
    p8 = next(u for u in result["units"] if u["id"] == "P8")
    assert p8["rating"] is None and p8["points"] is None  # no evidence: left out, not 0
    assert result["overall"]["assessed"] == 1 and result["overall"]["scored"] == 24
    assert result["overall"]["pct"] == 50.0
    assert result["overall"]["pct_floor"] == pytest.approx(100 / 48)
    conf = result["confidence"]
    assert conf["evidenced"] == 4 and conf["graded_ab"] == 3 and conf["stale"] == 1
    assert any("P12 Survivor-centred care" in s and "ASSIST-SHARE=72 partly met" in s
               for s in result["steps"])


def test_declared_weights_are_shown_beside_the_equal_weights() -> None:
    items = [ev("a", "NAP", "yes"), ev("b", "NAP-FUNDED", "yes"), ev("c", "COORD-CSO", "yes"),
             ev("d", "LAW-DEF", "no"), ev("e", "RAT-UNTOC", "no"), ev("f", "RAT-TIPP", "no"),
             ev("g", "UNTOC-IRM", "no")]
    equal = _score(items)
    weighted = _score(items, Weights("protect-first", {"P8": 3.0}))
    assert equal["overall"]["pct"] == weighted["overall"]["pct"] == 50.0
    # P8 (2 of 2) x 3, P4 (0 of 2), P18b (NAP-FUNDED also serves it: 1 of 2) -> 7 of 10
    assert weighted["overall"]["weighted_pct"] == 70.0
    assert weighted["weights"] == {"name": "protect-first", "weights": {"P8": 3.0}}
    assert equal["overall"]["weighted_pct"] is None


def test_recomputing_from_stored_inputs_gives_identical_bytes() -> None:
    items = [ev("e1", "ASSIST-SHARE", "95"), ev("e2", "PROS-CONV", "14"),
             ev("e3", "NEG-ID-DELAY", "0")]
    data = cycles.inputs(FW, RULES, CYCLE, items)
    snap = cycles.snapshot(FW, RULES, data)
    assert cycles.recompute(FW, RULES, snap.inputs_json) == snap.result_json
    # and the inputs carry everything: a fresh decode recomputes the same bytes too
    assert cycles.recompute(FW, RULES, json.dumps(json.loads(snap.inputs_json))) == \
        snap.result_json
    other = RULES.__class__(RULES.id, "2", RULES.data)
    with pytest.raises(ValidationError, match="made with rules gsi-style v1"):
        cycles.recompute(FW, other, snap.inputs_json)


CODES = sorted(FW.indicators)
VALUES = {"y/n": st.sampled_from(["yes", "no"])}


@st.composite
def evidence_sets(draw: st.DrawFn) -> list[Evidence]:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=25))
    out = []
    for n, code in enumerate(codes):
        rule = RULES.rule_for(FW.indicators[code])
        value = draw(st.sampled_from(["yes", "no"])) if rule["kind"] == "binary" else \
            str(draw(st.integers(0, 120)))
        day = draw(st.integers(1, 28))
        out.append(ev(f"e{n:03d}", code, value, as_of=f"2025-02-{day:02d}",
                      grade=draw(st.sampled_from(["A1", "B2", "C3", "X4"]))))
    return out


@settings(max_examples=60, deadline=None)
@given(items=evidence_sets(), data=st.data())
def test_removing_one_evidence_item_changes_only_its_indicator(items, data) -> None:
    gone = data.draw(st.sampled_from(items))
    before = _score(items)
    after = _score([e for e in items if e.evidence_id != gone.evidence_id])
    changed = {c for c in before["indicators"]
               if before["indicators"][c] != after["indicators"][c]}
    assert changed <= {gone.indicator}
    touched = {u.id for u in FW.units if gone.indicator in u.indicators}
    changed_units = {u["id"] for u, v in zip(before["units"], after["units"], strict=True)
                     if u != v}
    assert changed_units <= touched


def test_comparison_across_versions_needs_a_crosswalk() -> None:
    old = _score([ev("e1", "NAP", "no"), ev("e2", "ASSIST-SHARE", "40")])
    new = _score([ev("e3", "NAP", "yes"), ev("e4", "NEG-PENALISED", "2"),
                  ev("e5", "ASSIST-SHARE", "40")])
    harm = frozenset(c for c, i in FW.indicators.items() if i.harm)
    report = cycles.change_report(old, new, harm_codes=harm)
    lines = {line["indicator"]: line for line in report["lines"]}
    assert lines["NAP"]["change"] == "improved" and lines["NAP"]["evidence_after"] == ["e3"]
    assert lines["NEG-PENALISED"]["change"] == "newly evidenced"
    assert lines["ASSIST-SHARE"]["change"] == "unchanged"
    assert lines["ASSIST-SHARE"]["evidence_changed"]
    moved = json.loads(json.dumps(new))
    moved["framework"]["version"] = "2"
    with pytest.raises(NotComparableError, match="no crosswalk") as caught:
        cycles.change_report(old, moved)
    assert "ctip followup crosswalk add" in str(caught.value)
    walk = cycles.Crosswalk("declaration-2025 v1", "declaration-2025 v2",
                            {"NAP": ("NAP", True), "ASSIST-SHARE": ("ASSIST-SHARE", False)})
    report = cycles.change_report(old, moved, crosswalk=walk)
    assert [line["indicator"] for line in report["lines"]] == ["NAP"]
    reasons = {n["indicator"]: n["reason"] for n in report["not_comparable"]}
    assert reasons["ASSIST-SHARE"] == "declared not comparable"
    assert reasons["NEG-PENALISED"] == "not in the crosswalk"


def test_observations_use_the_latest_accepted_item() -> None:
    obs = observations([FW.indicators["NAP"]], RULES,
                       [ev("a", "NAP", "no", as_of="2025-01-01"),
                        ev("b", "NAP", "yes", as_of="2025-05-01"),
                        ev("c", "NAP", "no", as_of="2026-01-01", status="rejected")])
    assert obs["NAP"].status == MET and obs["NAP"].evidence == ("b", "a")
