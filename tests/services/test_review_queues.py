"""Review-queue use cases on SQLite and PostgreSQL: idempotent enqueue, agency scoping,
decisions with sealed reasons, history kept, case links checked, everything audited."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.domain.review import QueueKind, Reason, register_queue
from ctip.errors import NotFoundError, PermissionDeniedError, ValidationError
from ctip.services.casework import CaseIntake, Casework
from ctip.services.review import ReviewQueues
from ctip.storage import review as db
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer

QUEUE = register_queue(QueueKind(
    name="test.flags",
    title="Test flags",
    decisions=("accept", "dismiss", "link_case"),
    reason_required=frozenset({"dismiss"}),
    links_case=frozenset({"link_case"}),
))
INV_A = Principal("u1", "ines", Role.INVESTIGATOR, "A")
INV_B = Principal("u2", "bo", Role.INVESTIGATOR, "B")
CW_A = Principal("u3", "cw", Role.CASEWORKER, "A")


@pytest.fixture
def work(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    yield cw, ReviewQueues.of(cw)
    engine.dispose()


def flags(*subjects: str):
    return [(s, float(n), (Reason("F14-06", "cash just below the threshold",
                                  {"deposits": n, "threshold": 10000}, (f"tx-{n}",)),))
            for n, s in enumerate(subjects)]


def test_enqueue_is_idempotent_and_items_come_highest_score_first(work) -> None:
    _, queues = work
    first = queues.enqueue("test.flags", "A", flags("a1", "a2", "a3"), actor="rules")
    again = queues.enqueue("test.flags", "A", flags("a1", "a2", "a3", "a4"), actor="rules")
    assert (first.added, first.already_queued) == (3, 0)
    assert (again.added, again.already_queued) == (1, 3)
    listed = queues.items(INV_A, "test.flags")
    assert [i.subject for i in listed] == ["a4", "a3", "a2", "a1"]
    assert listed[0].reasons[0].figures == {"deposits": 3, "threshold": 10000}
    assert listed[0].reasons[0].evidence == ("tx-3",)


def test_another_agency_sees_nothing_and_gets_not_found(work) -> None:
    _, queues = work
    queues.enqueue("test.flags", "A", flags("a1"), actor="rules")
    item_id = queues.items(INV_A, "test.flags")[0].item_id
    assert queues.items(INV_B, "test.flags") == []
    with pytest.raises(NotFoundError):
        queues.item(INV_B, item_id)
    with pytest.raises(NotFoundError):
        queues.decide(INV_B, item_id, "accept")
    with pytest.raises(NotFoundError):
        queues.item(INV_A, "no-such-item")
    with pytest.raises(PermissionDeniedError):
        queues.items(CW_A, "test.flags")


def test_decisions_keep_history_seal_reasons_and_are_audited(work) -> None:
    cw, queues = work
    queues.enqueue("test.flags", "A", flags("a1"), actor="rules")
    item_id = queues.items(INV_A, "test.flags")[0].item_id
    with pytest.raises(ValidationError, match="reason"):
        queues.decide(INV_A, item_id, "dismiss")
    queues.decide(INV_A, item_id, "dismiss", reason="Payroll of Jane Doe's bakery")
    decided = queues.decide(INV_A, item_id, "accept")
    assert [d.decision for d in decided.decisions] == ["dismiss", "accept"]
    assert decided.decisions[0].reason == "Payroll of Jane Doe's bakery"
    assert decided.current.decision == "accept" and not decided.is_open
    assert queues.items(INV_A, "test.flags") == []  # no longer open
    assert queues.counts(INV_A, "test.flags") == {"accept": 1}
    with cw.engine.connect() as conn:
        raw = conn.execute(sa.select(db.review_decisions.c.reason_sealed)).scalars().all()
        entries = list(cw.audit.entries(conn))
    assert all(b"Jane" not in bytes(blob) for blob in raw if blob)
    actions = [e.action for e in entries]
    assert actions.count("review.decide") == 2 and "review.enqueue" in actions
    assert "Jane" not in repr([e.details for e in entries])
    with cw.engine.connect() as conn:
        assert cw.audit.verify(conn).ok


def test_a_linked_case_must_be_one_of_the_reviewers_agency(work) -> None:
    cw, queues = work
    intake = CaseIntake(sex="female", age=30, nationality="NGA", languages=("en",),
                        exploitation_forms=("forced_labour",), identity=Identity(given_name="X"))
    own = cw.create_case(CW_A, intake).case_id
    other = cw.create_case(Principal("u9", "cwb", Role.CASEWORKER, "B"), intake).case_id
    queues.enqueue("test.flags", "A", flags("a1"), actor="rules")
    item_id = queues.items(INV_A, "test.flags")[0].item_id
    with pytest.raises(NotFoundError):
        queues.decide(INV_A, item_id, "link_case", linked_case=other)
    linked = queues.decide(INV_A, item_id, "link_case", linked_case=own)
    assert linked.current.linked_case == own
