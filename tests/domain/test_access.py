"""Roles, agency scoping and the order of checks that keeps refusals from leaking."""

from __future__ import annotations

import pytest

from ctip.domain.access import (
    ROLE_ACTIONS,
    Action,
    Principal,
    Relation,
    Role,
    authorize,
    relation_to,
    revealable_identity_fields,
    visible_fields,
)
from ctip.errors import NotFoundError, PermissionDeniedError


def who(role, agency="A"):
    return Principal("u1", "u", Role(role), agency)


CASE_ACTIONS = [
    a
    for a in Action
    if a.value.startswith(("case.", "referral.", "service.", "identity.", "consent."))
]


@pytest.mark.parametrize("role", ["admin", "analyst", "auditor"])
@pytest.mark.parametrize("action", CASE_ACTIONS)
def test_non_case_roles_get_the_same_403_for_any_case(role, action):
    """The refusal comes from the role alone, so it says nothing about whether a case exists."""
    errors = []
    for relation in (Relation.OWNER, None):
        with pytest.raises(PermissionDeniedError) as e:
            authorize(who(role), action, relation, "case-1")
        errors.append(str(e.value))
    assert errors[0] == errors[1]


def test_other_agency_without_referral_sees_not_found_identical_to_missing():
    rel = relation_to(
        who("caseworker", "B"),
        owner_agency="A",
        live_referral_agencies=frozenset(),
        emergency_grant=False,
    )
    assert rel is None
    with pytest.raises(NotFoundError) as hidden:
        authorize(who("caseworker", "B"), Action.CASE_READ, rel, "case-1")
    with pytest.raises(NotFoundError) as missing:
        authorize(who("caseworker", "B"), Action.CASE_READ, None, "case-1")
    assert str(hidden.value) == str(missing.value)


def test_recipient_sees_operational_fields_and_only_shared_identity():
    rel = relation_to(
        who("caseworker", "B"),
        owner_agency="A",
        live_referral_agencies=frozenset({"B"}),
        emergency_grant=False,
    )
    assert rel is Relation.RECIPIENT
    assert "justice_state" not in visible_fields(rel) and "notes" not in visible_fields(rel)
    assert revealable_identity_fields(rel, frozenset({"given_name"})) == ("given_name",)
    assert "family_name" in revealable_identity_fields(Relation.OWNER, frozenset())
    for action in (Action.CASE_EDIT, Action.CASE_REFER, Action.CONSENT_RECORD, Action.VIEW_LOG):
        with pytest.raises(PermissionDeniedError):
            authorize(who("caseworker", "B"), action, rel, "case-1")
    assert (
        authorize(who("caseworker", "B"), Action.REFERRAL_RESPOND, rel, "c") is Relation.RECIPIENT
    )


def test_recipient_caseworker_cannot_take_decisions_but_competent_authority_can():
    with pytest.raises(PermissionDeniedError):
        authorize(who("caseworker", "B"), Action.CASE_TRANSITION, Relation.RECIPIENT, "c")
    authorize(who("competent_authority", "B"), Action.CASE_TRANSITION, Relation.RECIPIENT, "c")


def test_emergency_grant_reads_only():
    assert authorize(who("caseworker", "C"), Action.CASE_READ, Relation.EMERGENCY, "c")
    with pytest.raises(PermissionDeniedError):
        authorize(who("caseworker", "C"), Action.CASE_EDIT, Relation.EMERGENCY, "c")


def test_separation_of_duties():
    assert not any(a.value.startswith("case.") for a in ROLE_ACTIONS[Role.ADMIN])
    assert ROLE_ACTIONS[Role.AUDITOR] == frozenset({Action.AUDIT_READ})
    assert Action.IDENTITY_REVEAL not in ROLE_ACTIONS[Role.ANALYST]
