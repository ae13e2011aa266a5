"""Two real ctip instances exchange a referral: country XA on SQLite, country XB on PostgreSQL,
each its own home, keys and national anchor; packages move between them as files only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from exchange_support import Instance, cross_sign, instance, new_case

from ctip.errors import ExchangeError, WorkflowError


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory,
         module_pg_url: str) -> Iterator[tuple[Instance, Instance]]:
    tmp_path = tmp_path_factory.mktemp("homes")
    pg_url = module_pg_url
    a = instance(tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}", "NRM-XA", "XA")
    b = instance(tmp_path / "b", pg_url, "NRM-XB", "XB")
    cross_sign(a, b)
    yield a, b
    a.x.engine.dispose()
    b.x.engine.dispose()


FIELDS = ["sex", "age", "nationality", "languages", "given_name", "family_name", "needs"]


def test_referral_arrives_with_only_shared_fields_and_the_answer_travels_back(pair) -> None:
    a, b = pair
    case_id = new_case(a)
    sent = a.x.refer_abroad(a.sup, case_id, to_agency="NRM-XB", profile_id="cross-border-return",
                            fields=FIELDS, needs=["safe_return", "medical"])
    raw = b.move(sent.data, sent.file_name)
    assert b"Popescu" not in raw and b"NRM-XA" not in raw

    got = b.x.receive(b.sup, raw)
    assert got.kind == "referral" and got.sender == "NRM-XA"
    (item,) = [i for i in b.x.inbox(b.sup) if i["package_id"] == sent.package_id]
    assert item["status"] == "pending" and item["from"] == "NRM-XA"
    shared = b.x.referral(b.sup, item["referral_id"])
    assert shared["family_name"] == "Popescu" and shared["needs"] == ["safe_return", "medical"]
    assert not {"phone", "narrative", "notes", "date_of_birth"} & set(shared)

    # the receipt goes back and lands in A's chain with B's audit head
    a.x.receive(a.sup, a.move(got.reply.data, got.reply.file_name))
    (out,) = [p for p in a.x.packages("out") if p["package_id"] == sent.package_id]
    assert out["status"] == "receipted" and "accepted" in out["detail"]

    answer = b.x.answer(b.sup, item["referral_id"], answer="accepted")
    a.x.receive(a.sup, a.move(answer.data, answer.file_name))
    done = b.x.answer(b.sup, item["referral_id"], answer="completed", outcome="returned")
    a.x.receive(a.sup, a.move(done.data, done.file_name))
    (ref,) = [r for r in a.x.outbox(a.sup) if r["package_id"] == sent.package_id]
    assert (ref["status"], ref["outcome"], ref["case_id"]) == ("completed", "returned", case_id)

    actions_a = _actions(a)
    actions_b = _actions(b)
    assert {"exchange.created", "exchange.sent", "exchange.receipt",
            "exchange.referral_answered"} <= actions_a
    assert {"exchange.received", "exchange.verified", "exchange.opened",
            "exchange.referral_received", "exchange.referral_accepted"} <= actions_b


def _actions(i: Instance) -> set[str]:
    with i.x.engine.connect() as conn:
        return {e.action for e in i.x.audit.entries(conn)}


def test_recall_shreds_the_payload_at_the_receiver_and_confirms(pair) -> None:
    a, b = pair
    sent = a.x.refer_abroad(a.sup, new_case(a), to_agency="NRM-XB",
                            profile_id="cross-border-return", fields=FIELDS)
    got = b.x.receive(b.sup, b.move(sent.data, sent.file_name))
    assert [p["payload_held"] for p in b.x.packages("in")
            if p["package_id"] == sent.package_id] == [True]
    recall = a.x.recall(a.sup, sent.package_id, reason="consent withdrawn")
    purged = b.x.receive(b.sup, b.move(recall.data, recall.file_name))
    assert purged.kind == "recall"
    with b.x.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM exchange_payloads WHERE package_id = :p"),
                            {"p": sent.package_id}).scalar_one()
    assert left == 0
    (held,) = [p for p in b.x.packages("in") if p["package_id"] == sent.package_id]
    assert held["status"] == "purged" and not held["payload_held"]
    with pytest.raises(Exception, match="No readable received package"):
        b.x.referral(b.sup, got.referral_id)
    with pytest.raises(WorkflowError, match="recalled"):
        b.x.answer(b.sup, got.referral_id, answer="accepted")
    a.x.receive(a.sup, a.move(purged.reply.data, purged.reply.file_name))
    (out,) = [p for p in a.x.packages("out") if p["package_id"] == sent.package_id]
    assert out["status"] == "purged"
    assert "exchange.purge_confirmed" in _actions(a) and "exchange.purged" in _actions(b)


def test_replay_between_homes_is_refused_and_audited(pair) -> None:
    a, b = pair
    sent = a.x.refer_abroad(a.sup, new_case(a), to_agency="NRM-XB",
                            profile_id="cross-border-return", fields=FIELDS)
    b.x.receive(b.sup, sent.data)
    with pytest.raises(ExchangeError, match="replay") as caught:
        b.x.receive(b.sup, sent.data)
    assert caught.value.reason == "replayed"
    with b.x.engine.connect() as conn:
        rejected = [e for e in b.x.audit.entries(conn) if e.action == "exchange.rejected"]
    assert rejected and rejected[-1].details["reason"] == "replayed"


def test_no_consent_no_package(pair) -> None:
    a, _ = pair
    case_id = new_case(a, consent=False)
    before = len(a.x.packages("out"))
    with pytest.raises(WorkflowError, match="consent"):
        a.x.refer_abroad(a.sup, case_id, to_agency="NRM-XB", profile_id="cross-border-return",
                         fields=FIELDS)
    assert len(a.x.packages("out")) == before


def test_out_of_profile_field_is_refused_before_anything_leaves(pair) -> None:
    a, _ = pair
    case_id, before = new_case(a), len(a.x.packages("out"))
    with pytest.raises(ExchangeError, match="'phone' is outside") as caught:
        a.x.refer_abroad(a.sup, case_id, to_agency="NRM-XB", profile_id="cross-border-return",
                         fields=["sex", "phone"])
    assert caught.value.reason == "out-of-profile" and len(a.x.packages("out")) == before


def test_a_directory_from_an_anchor_never_cross_signed_is_refused(pair, tmp_path: Path) -> None:
    a, _ = pair
    c = instance(tmp_path / "c", f"sqlite:///{tmp_path / 'c.db'}", "NRM-XC", "XC")
    with pytest.raises(ExchangeError, match="not trusted here") as caught:
        a.x.import_directory(a.sup, c.x.publish(c.sup))
    assert caught.value.reason == "untrusted"
    c.x.engine.dispose()


def test_old_directory_serial_is_refused(pair) -> None:
    a, b = pair
    old = a.x.publish(a.sup)
    b.x.import_directory(b.sup, a.x.publish(a.sup))
    with pytest.raises(ExchangeError, match="not newer"):
        b.x.import_directory(b.sup, old)


def test_packages_carry_a_time_stamp_the_receiver_checks(pair, tmp_path: Path) -> None:
    from ctip.services.timestamping import LocalTSA, init_local_tsa

    a, b = pair
    init_local_tsa(tmp_path / "tsa")
    a.x.tsa = b.x.tsa = LocalTSA(tmp_path / "tsa")
    try:
        sent = a.x.refer_abroad(a.sup, new_case(a), to_agency="NRM-XB",
                                profile_id="cross-border-return", fields=FIELDS)
        got = b.x.receive(b.sup, sent.data)
    finally:
        a.x.tsa = b.x.tsa = None
    assert got.timestamp.startswith("verified ")
    with b.x.engine.connect() as conn:
        (entry,) = [e for e in b.x.audit.entries(conn)
                    if e.action == "exchange.verified" and e.subject == sent.package_id]
    assert entry.details["timestamp"] == got.timestamp


def test_stale_directory_is_not_used_and_expired_packages_are_shredded(pair) -> None:
    a, b = pair
    sent = a.x.refer_abroad(a.sup, new_case(a), to_agency="NRM-XB",
                            profile_id="cross-border-return", fields=FIELDS)
    real = b.x.clock
    try:
        b.x.clock = lambda: real() + timedelta(days=31)
        with pytest.raises(ExchangeError, match="older than 30 days") as caught:
            b.x.receive(b.sup, sent.data)
        assert caught.value.reason == "untrusted"
        b.x.clock = real
        b.x.receive(b.sup, sent.data)
        b.x.clock = lambda: real() + timedelta(days=181)  # the profile's expiry is 180 days
        assert sent.package_id in b.x.purge_expired(b.sup)
    finally:
        b.x.clock = real
    (held,) = [p for p in b.x.packages("in") if p["package_id"] == sent.package_id]
    assert held["status"] == "purged" and not held["payload_held"]


def test_revoked_sender_key_is_refused_after_the_new_directory(pair) -> None:
    """Last in the module: it revokes home A's signing key."""
    a, b = pair
    keys = a.x.agency_keys()
    a.x.revoke_key(a.sup, agency="NRM-XA", key_id=keys.key_id, reason="device lost")
    b.x.import_directory(b.sup, a.x.publish(a.sup))
    sent = a.x.refer_abroad(a.sup, new_case(a), to_agency="NRM-XB",
                            profile_id="cross-border-return", fields=FIELDS)
    with pytest.raises(ExchangeError, match="revoked") as caught:
        b.x.receive(b.sup, sent.data)
    assert caught.value.reason == "revoked"
