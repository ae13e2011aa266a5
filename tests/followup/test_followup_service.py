"""Follow-up use cases on SQLite and PostgreSQL: evidence lifecycle (four eyes), audited changes,
immutable snapshots that recompute to identical bytes, closed cycles, comparisons, ledgers and
outcomes from case data."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.errors import ConflictError, NotComparableError, PermissionDeniedError, ValidationError
from ctip.services.casework import CaseIntake, Casework
from ctip.services.followup import FollowUp
from ctip.services.followup_ledgers import Ledgers
from ctip.services.followup_outcomes import outcomes
from ctip.storage import followup as db
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.repository import CaseStore
from ctip.storage.sealing import Pseudonymiser, Sealer

COORD = Principal("u1", "cora", Role.COORDINATOR, "nat-rapporteur")
COORD2 = Principal("u3", "cyril", Role.COORDINATOR, "nat-rapporteur")
REVIEWER = Principal("u2", "rita", Role.REVIEWER, "nat-rapporteur")
ANALYST = Principal("u4", "ann", Role.ANALYST, "stats-office")


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fu(engine) -> FollowUp:
    return FollowUp(engine)


def _cycle(fu: FollowUp, start: int = 2025) -> str:
    return fu.new_cycle(COORD, country="ALB", period_start=date(start, 1, 1),
                        period_end=date(start + 3, 12, 31)).cycle_id


def test_evidence_is_reviewed_by_someone_else_and_every_step_is_audited(fu, tmp_path: Path):
    cycle = _cycle(fu)
    doc = tmp_path / "nap.pdf"
    doc.write_bytes(b"%PDF national action plan")
    eid = fu.add_evidence(COORD, cycle, indicator="nap", value="yes", as_of=date(2025, 3, 1),
                          citation="National Action Plan 2025-2028, s. 4", source_kind="policy",
                          reliability="A", credibility="1", file=doc)
    item = fu.evidence(REVIEWER, cycle)[0]
    assert item["status"] == "submitted" and item["indicator_code"] == "NAP"
    assert item["file_sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    assert item["locker_ref"] is None  # until the evidence locker keeps the file
    # submitted evidence does not count yet, and is shown as waiting
    assert fu.score(COORD, cycle).result["indicators"]["NAP"]["status"] == "no_evidence"
    with pytest.raises(PermissionDeniedError):
        fu.review(COORD, eid, accept=True)  # a coordinator does not review
    self_review = Principal("u1", "cora", Role.REVIEWER, "nat-rapporteur")
    with pytest.raises(PermissionDeniedError, match="another person"):
        fu.review(self_review, eid, accept=True)
    with pytest.raises(ValidationError, match="say why"):
        fu.review(REVIEWER, eid, accept=False)
    fu.review(REVIEWER, eid, accept=True)
    with pytest.raises(ConflictError):
        fu.review(REVIEWER, eid, accept=True)
    assert fu.score(COORD, cycle).result["indicators"]["NAP"]["status"] == "met"
    with pytest.raises(PermissionDeniedError):
        fu.cycles(ANALYST)
    with pytest.raises(ValidationError, match="yes/no"):
        fu.add_evidence(COORD, cycle, indicator="NAP", value="maybe", as_of=None,
                        citation="x")
    with pytest.raises(ValidationError, match="not an indicator"):
        fu.add_evidence(COORD, cycle, indicator="NOPE", value="1", as_of=None, citation="x")
    with fu.engine.connect() as conn:
        actions = [a for (a,) in conn.execute(sa.text(
            "SELECT action FROM audit_log WHERE action LIKE 'followup.%' ORDER BY seq"))]
        verified = fu.audit.verify(conn)
    assert actions == ["followup.cycle.create", "followup.evidence.add", "followup.score",
                       "followup.evidence.accepted", "followup.score"]
    assert verified.ok


def _accepted(fu: FollowUp, cycle: str, code: str, value: str, as_of=date(2025, 6, 1)) -> str:
    eid = fu.add_evidence(COORD, cycle, indicator=code, value=value, as_of=as_of,
                          citation=f"source for {code}", reliability="B", credibility="2")
    fu.review(REVIEWER, eid, accept=True)
    return eid


def test_snapshots_are_immutable_and_recompute_to_identical_bytes(fu):
    cycle = _cycle(fu)
    for code, value in (("ASSIST-SHARE", "93"), ("SURVIVOR-VOICE", "yes"), ("NONPUN-LAW", "yes"),
                        ("NEG-PENALISED", "0"), ("RAT-TIPP", "yes")):
        _accepted(fu, cycle, code, value)
    first = fu.score(COORD, cycle)
    again = fu.score(COORD, cycle)
    assert first.new and not again.new and again.assessment_id == first.assessment_id
    p12 = next(u for u in first.result["units"] if u["id"] == "P12")
    assert p12["rating"] == 2
    gone = _accepted(fu, cycle, "NEG-SHELTER-FORCED", "2")  # harm found: P12 capped at 1
    capped = fu.score(COORD, cycle)
    assert capped.new and next(u for u in capped.result["units"] if u["id"] == "P12")[
        "rating"] == 1
    assert fu.verify(COORD, cycle) == [(first.assessment_id, True), (capped.assessment_id, True)]
    # withdrawing that one item changes only its indicator (and its commitment's roll-up)
    fu.withdraw(COORD, gone, reason="entered for the wrong cycle")
    after = fu.score(COORD, cycle).result
    changed = {c for c in after["indicators"]
               if after["indicators"][c] != capped.result["indicators"][c]}
    assert changed == {"NEG-SHELTER-FORCED"}
    assert after["overall"] == first.result["overall"]
    # a stored snapshot that was edited no longer verifies
    with fu.engine.begin() as conn:
        conn.execute(db.followup_assessments.update()
                     .where(db.followup_assessments.c.assessment_id == first.assessment_id)
                     .values(result_json=first_text(conn, first.assessment_id).replace(
                         '"rating":2', '"rating":1', 1)))
    assert (first.assessment_id, False) in fu.verify(COORD, cycle)


def first_text(conn, assessment_id: str) -> str:
    return conn.execute(sa.select(db.followup_assessments.c.result_json).where(
        db.followup_assessments.c.assessment_id == assessment_id)).scalar_one()


def test_closing_freezes_a_cycle_and_cycles_compare(fu, engine):
    old = _cycle(fu, 2021)
    _accepted(fu, old, "NAP", "no")
    closed = fu.close_cycle(COORD, old)
    with pytest.raises(ConflictError, match="closed"):
        fu.add_evidence(COORD, old, indicator="NAP", value="yes", as_of=None, citation="x")
    assert fu.cycle(COORD, old).final_assessment_id == closed.assessment_id
    new = _cycle(fu, 2025)
    _accepted(fu, new, "NAP", "yes")
    fu.score(COORD, new)
    report = fu.compare(REVIEWER, old, new)
    nap = next(line for line in report["lines"] if line["indicator"] == "NAP")
    assert nap["change"] == "improved" and report["counts"]["improved"] == 1
    # a cycle scored under another catalogue version is blocked without a crosswalk
    with engine.begin() as conn:
        conn.execute(db.followup_assessments.update()
                     .where(db.followup_assessments.c.cycle_id == new)
                     .values(result_json=sa.func.replace(db.followup_assessments.c.result_json,
                                                         '"version":"1"', '"version":"2"')))
    with pytest.raises(NotComparableError, match="declaration-2025 v1 and declaration-2025 v2"):
        fu.compare(REVIEWER, old, new)
    fu.declare_crosswalk(COORD, "declaration-2025 v1", "declaration-2025 v2",
                         [("NAP", "NAP", True)])
    report = fu.compare(REVIEWER, old, new)
    assert [line["indicator"] for line in report["lines"]] == ["NAP"]
    assert len(report["not_comparable"]) > 100


def test_pledges_and_treaty_tables(fu, tmp_path: Path):
    ledgers = Ledgers(fu)
    ledgers.add_pledge(COORD, donor="Albania", donor_type="member_state",
                       pledged_on=date(2025, 11, 25), currency="usd", amount=50_000, paid=20_000,
                       source_doc="Pledge letter 2025-11-25")
    ledgers.add_pledge(COORD, donor="Fondation X", donor_type="private",
                       pledged_on=date(2021, 11, 22), currency="EUR", amount=10_000,
                       source_doc="Letter")
    got = ledgers.pledge_indicators(REVIEWER, donor="Albania", period_start="2025-01-01")
    assert got["pledged_in_cycle"] and got["totals"]["USD"]["paid_share"] == 0.4
    # a UNTC table as saved from the status page (synthetic rows, for the parser and the check)
    table = tmp_path / "untc.csv"
    table.write_text("Status as at: 01-09-2023\nParticipant,Signature,\"Ratification, Acceptance"
                     "(A), Approval(AA), Accession(a), Succession(d)\"\n"
                     "Albania,12 Dec 2000,21 Aug 2002\nPakistan,,\n"
                     "Atlantis,1 Jan 2001,\nSomalia,,15 Mar 2023 a\n", encoding="utf-8")
    loaded = ledgers.load_untc(COORD, table, treaty="XVIII-12-a", as_of=date(2023, 9, 1))
    assert (loaded.read, loaded.accepted, len(loaded.rejected)) == (4, 3, 1)
    assert "Atlantis" in loaded.rejected[0][1]
    rows = {s.state: s for s in ledgers.statuses(REVIEWER, "XVIII-12-a")}
    assert rows["SOM"].consent_type == "a" and rows["SOM"].consent_date == "2023-03-15"
    assert rows["ALB"].party and not rows["PAK"].party


def test_outcomes_come_from_case_workflow_facts_without_identity(engine):
    sealer, pseud = Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32))
    now = [datetime(2023, 1, 10, tzinfo=UTC)]
    cw = Casework(engine, sealer, pseud, clock=lambda: now[0])
    worker = Principal("u-cw", "cw.a", Role.CASEWORKER, "A")
    for n in range(16):
        now[0] = datetime(2023, 1, 10, tzinfo=UTC) + timedelta(days=45 * n)
        case_id = cw.create_case(worker, CaseIntake(
            sex="female", age=30, nationality="NGA", languages=("en",),
            exploitation_forms=("forced_labour",),
            identity=Identity(given_name="Amina", family_name=f"Okafor{n}"))).case_id
        cw.transition(worker, case_id, to_state="screening",
                      confirmations=("safe_setting", "interpreter_offered"))
        cw.transition(worker, case_id, to_state="presumed_victim", reason="indicators")
    store = CaseStore(engine, sealer, pseud)
    got = outcomes(store, COORD, measure="Shelter standards", start=date(2024, 1, 1),
                   threshold=5)
    text = json.dumps(got)
    assert "Okafor" not in text and "Amina" not in text
    assert got["label"] == "association, not proof"
    share = next(o for o in got["outcomes"] if o["key"] == "assistance")
    assert share["n_before"] == 8 and share["n_after"] == 8
    assert share["before"] == share["after"] and share["low"] <= 0 <= share["high"]
    ident = next(o for o in got["outcomes"] if o["key"] == "identifications")
    assert ident["effect"] is None  # no victim records in the analytic view: withheld
    assert any("linkage run" in n for n in got["notes"])
