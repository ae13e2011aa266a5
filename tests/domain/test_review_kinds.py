"""Review queues, the pure part: which decisions a queue allows, who may take them, the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctip.domain.access import Principal, Role
from ctip.domain.review import (
    QueueKind,
    Reason,
    ReviewItem,
    check_decision,
    may_read,
    queue_kind,
    rank,
    register_queue,
)
from ctip.errors import PermissionDeniedError, ValidationError

KIND = QueueKind(
    name="test.alerts",
    title="Test alerts",
    decisions=("accept", "dismiss", "link_case"),
    reason_required=frozenset({"dismiss"}),
    links_case=frozenset({"link_case"}),
)
INVESTIGATOR = Principal("u1", "ines", Role.INVESTIGATOR, "FIU")
ANALYST = Principal("u2", "ana", Role.ANALYST, "FIU")


def test_registered_kind_is_found_and_unknown_queue_names_the_known_ones() -> None:
    register_queue(KIND)
    assert queue_kind("test.alerts") is KIND
    with pytest.raises(ValidationError, match="test.alerts"):
        queue_kind("no.such.queue")


def test_registering_a_different_kind_under_the_same_name_is_refused() -> None:
    register_queue(KIND)
    register_queue(KIND)  # the same kind again is fine (module imported twice)
    with pytest.raises(ValueError, match="twice"):
        register_queue(QueueKind(name="test.alerts", title="Other", decisions=("x",)))


def test_decisions_are_checked_against_the_queue() -> None:
    check_decision(INVESTIGATOR, KIND, "accept", reason=None, linked_case=None)
    with pytest.raises(ValidationError, match="not a decision"):
        check_decision(INVESTIGATOR, KIND, "delete", reason=None, linked_case=None)
    with pytest.raises(ValidationError, match="needs a written reason"):
        check_decision(INVESTIGATOR, KIND, "dismiss", reason="   ", linked_case=None)
    check_decision(INVESTIGATOR, KIND, "dismiss", reason="salary payments", linked_case=None)
    with pytest.raises(ValidationError, match="needs the victim case"):
        check_decision(INVESTIGATOR, KIND, "link_case", reason=None, linked_case=None)
    with pytest.raises(ValidationError, match="does not link a case"):
        check_decision(INVESTIGATOR, KIND, "accept", reason=None, linked_case="c1")


def test_roles_outside_the_queue_may_neither_read_nor_decide() -> None:
    may_read(INVESTIGATOR, KIND)
    with pytest.raises(PermissionDeniedError):
        may_read(ANALYST, KIND)
    with pytest.raises(PermissionDeniedError):
        check_decision(ANALYST, KIND, "accept", reason=None, linked_case=None)


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@given(st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.integers(0, 1000)),
                max_size=30))
def test_rank_is_by_score_then_age_and_the_same_whatever_the_input_order(pairs) -> None:
    items = [ReviewItem(item_id=f"i{n}", queue="q", agency="A", subject=f"s{n}", score=score,
                        reasons=(Reason("R", "r"),), created_at=T0 + timedelta(minutes=age))
             for n, (score, age) in enumerate(pairs)]
    ranked = rank(items)
    assert ranked == rank(list(reversed(items)))
    for a, b in zip(ranked, ranked[1:], strict=False):
        assert (a.score > b.score) or (a.score == b.score and a.created_at <= b.created_at)
