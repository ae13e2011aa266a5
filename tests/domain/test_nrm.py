"""The NRM state machine: who may act, guards, and the invariants I1, I3, I6."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain import nrm
from ctip.domain.nrm import AssistanceFacts, Request
from ctip.errors import PermissionDeniedError, WorkflowError


def facts(**kw) -> AssistanceFacts:
    base = dict(
        status="presumed_victim",
        age=30,
        age_disputed=False,
        child_state="not_applicable",
        assistance_state="none",
        live_consent_purposes=frozenset(),
    )
    base.update(kw)
    return AssistanceFacts(**base)


def test_guard_facts_have_no_justice_or_cooperation_field():
    names = {f.name for f in dataclasses.fields(AssistanceFacts)}
    assert not {n for n in names if "justice" in n or "cooperat" in n or "prosecut" in n}


ASSISTANCE_STEPS = [
    t
    for t in nrm.TRANSITIONS
    if (t.region == "main" and t.target in nrm.ENTITLED_STATES) or t.region == "assistance"
]


@pytest.mark.parametrize("step", ASSISTANCE_STEPS, ids=lambda t: f"{t.region}:{t.target}")
def test_no_assistance_transition_depends_on_the_justice_region(step):
    """I1: run every step into assistance with every justice state: the result never changes."""
    actor = sorted(step.actors)[0]
    source = sorted(step.source)[0]
    results = set()
    for justice in nrm.JUSTICE_STATES:
        f = facts(status=source)
        # the justice state lives in RegionStates, which decide() never receives
        regions = nrm.RegionStates(main=source, justice=justice)
        assert regions.justice == justice
        try:
            out = nrm.decide(
                step.region,
                source,
                step.target,
                role=actor,
                facts=f,
                request=Request(reason="r", confirmations=frozenset({"safe_setting"})),
            )
            results.add(("ok", out.target))
        except WorkflowError as e:
            results.add(("refused", str(e)))
    assert len(results) == 1
    # and decide() has no parameter through which a justice state could enter
    import inspect

    params = set(inspect.signature(nrm.decide).parameters)
    assert params == {"region", "current", "target", "role", "facts", "request"}


def test_child_is_referred_without_consent_once_child_protection_notified():
    child = facts(age=15, child_state="child_protection_notified")
    out = nrm.decide(
        "main",
        "presumed_victim",
        "referred",
        role="caseworker",
        facts=child,
        request=Request(reason="child says she wants help"),
    )
    assert out.target == "referred" and "record_child_views" in out.effects


def test_child_referral_needs_child_protection_notified():
    with pytest.raises(WorkflowError, match="child-protection"):
        nrm.decide(
            "main",
            "presumed_victim",
            "referred",
            role="caseworker",
            facts=facts(age=None, child_state="minor_presumed"),
            request=Request(reason="views"),
        )


def test_unknown_age_is_treated_as_child():
    assert facts(age=None).is_child and facts(age=40, age_disputed=True).is_child
    with pytest.raises(WorkflowError, match="child"):
        nrm.decide(
            "main",
            "presumed_victim",
            "consent_pending",
            role="caseworker",
            facts=facts(age=None),
            request=Request(),
        )


def test_adult_referral_needs_purpose_consent():
    with pytest.raises(WorkflowError, match="nrm_referral"):
        nrm.decide(
            "main",
            "consent_pending",
            "referred",
            role="caseworker",
            facts=facts(),
            request=Request(),
        )
    with pytest.raises(WorkflowError, match="nrm_referral"):  # consent for another purpose
        nrm.decide(
            "main",
            "consent_pending",
            "referred",
            role="caseworker",
            facts=facts(live_consent_purposes=frozenset({"statistical_use"})),
            request=Request(),
        )
    out = nrm.decide(
        "main",
        "consent_pending",
        "referred",
        role="caseworker",
        facts=facts(live_consent_purposes=frozenset({"nrm_referral"})),
        request=Request(consent_id="c1"),
    )
    assert out.consent_id == "c1"


def test_only_the_competent_authority_decides_reasonable_grounds():
    for role in ("caseworker", "supervisor", "admin", "analyst"):
        with pytest.raises(PermissionDeniedError):
            nrm.decide(
                "main",
                "recovery_reflection",
                "rg_positive",
                role=role,
                facts=facts(),
                request=Request(reason="x"),
            )
    out = nrm.decide(
        "main",
        "recovery_reflection",
        "rg_positive",
        role="competent_authority",
        facts=facts(),
        request=Request(reason="credible account"),
    )
    assert out.target == "rg_positive"


def test_decision_needs_a_reason():
    with pytest.raises(WorkflowError, match="reason"):
        nrm.decide(
            "main",
            "screening",
            "presumed_victim",
            role="caseworker",
            facts=facts(),
            request=Request(reason="  "),
        )


def test_presumed_victim_opens_non_punishment_review_and_child_region():
    adult = nrm.decide(
        "main",
        "screening",
        "presumed_victim",
        role="caseworker",
        facts=facts(),
        request=Request(reason="indicators"),
    )
    assert (
        "open_non_punishment_review" in adult.effects and "enter_child_region" not in adult.effects
    )
    child = nrm.decide(
        "main",
        "screening",
        "presumed_victim",
        role="caseworker",
        facts=facts(age=12),
        request=Request(reason="indicators"),
    )
    assert "enter_child_region" in child.effects


def test_impossible_step_names_the_possible_ones():
    with pytest.raises(WorkflowError, match="possible next steps"):
        nrm.decide(
            "main",
            "signal",
            "identified_victim",
            role="competent_authority",
            facts=facts(),
            request=Request(reason="x"),
        )


def test_closure_is_for_supervisors_and_waits_for_safety_tasks():
    with pytest.raises(PermissionDeniedError):
        nrm.decide(
            "main",
            "referred",
            "closed",
            role="caseworker",
            facts=facts(),
            request=Request(reason="x"),
        )
    with pytest.raises(WorkflowError, match="safety"):
        nrm.decide(
            "main",
            "referred",
            "closed",
            role="supervisor",
            facts=facts(open_safety_tasks=1),
            request=Request(reason="goals met"),
        )


def test_assistance_starts_only_from_an_entitled_state_and_regardless_of_justice():
    with pytest.raises(WorkflowError):
        nrm.decide(
            "assistance",
            "none",
            "active",
            role="caseworker",
            facts=facts(status="screening"),
            request=Request(),
        )
    out = nrm.decide(
        "assistance",
        "none",
        "active",
        role="caseworker",
        facts=facts(status="anonymous_notification"),
        request=Request(),
    )
    assert out.target == "active"


def test_justice_reporting_needs_law_enforcement_consent():
    with pytest.raises(WorkflowError, match="law_enforcement_contact"):
        nrm.decide(
            "justice",
            "informed_of_rights",
            "reported",
            role="caseworker",
            facts=facts(),
            request=Request(),
        )


@given(st.sampled_from(nrm.MAIN_STATES), st.integers(min_value=0, max_value=400))
def test_timers_only_create_review_tasks(status, days):
    entered = datetime(2026, 1, 1)
    now = entered + timedelta(days=days)
    due = nrm.due_reviews(status, entered, now)
    for d in due:
        assert d.due_at <= now and d.task
        assert not hasattr(d, "target")  # a review, never a new state
    expected = {r.name for r in nrm.DEFAULT_TIMERS if r.state == status and r.days <= days}
    assert {d.rule for d in due} == expected


def test_allowed_targets_lists_only_the_roles_steps():
    assert "rg_positive" in nrm.allowed_targets(
        "main", "recovery_reflection", "competent_authority"
    )
    assert "rg_positive" not in nrm.allowed_targets("main", "recovery_reflection", "caseworker")
    assert "withdrawn" in nrm.allowed_targets("main", "recovery_reflection", "caseworker")


def test_residence_region_permit_track():
    """Decisions need the reason given; assistance guards cannot see the residence state."""
    assert "residence" in nrm.REGIONS and nrm.RegionStates().residence == "not_applicable"
    names = {f.name for f in dataclasses.fields(AssistanceFacts)}
    assert not {n for n in names if "residence" in n or "permit" in n or "immigra" in n}
    path = ["reflection_leave", "permit_requested", "permit_granted", "permit_renewed",
            "long_term_status"]
    state = "not_applicable"
    for target in path:
        out = nrm.decide("residence", state, target, role="caseworker", facts=facts(),
                         request=Request(reason="decision letter"))
        state = out.target
    with pytest.raises(WorkflowError, match="reason"):
        nrm.decide("residence", "permit_requested", "permit_granted", role="caseworker",
                   facts=facts(), request=Request())
    with pytest.raises(PermissionDeniedError):
        nrm.decide("residence", "permit_granted", "permit_renewed", role="competent_authority",
                   facts=facts(), request=Request())
    assert "permit_requested" in nrm.allowed_targets("residence", "permit_refused", "caseworker")
