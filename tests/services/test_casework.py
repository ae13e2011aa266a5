"""Case-management use cases on SQLite and PostgreSQL: the intake-screen-refer-accept path,
consent rules, concurrency, protection (reveal, emergency access, who viewed) and timers."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.domain.records import Identity
from ctip.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    WorkflowError,
)
from ctip.services.casework import CaseIntake, Casework
from ctip.storage import casework as db
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer


def in_directory(cw, *agencies: str) -> None:  # type: ignore[no-untyped-def]
    """List the agencies in the service directory: a referral goes only to one listed there."""
    admin = Principal("setup", "setup", Role.ADMIN, "Z")
    for agency in agencies:
        cw.add_service(admin, Service("", agency, f"Shelter {agency}", "safe_accommodation"))


@pytest.fixture
def cw(database_url: str) -> Casework:
    engine = make_engine(database_url)
    migrate(engine)
    yield Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    engine.dispose()


def person(role: str, agency: str = "A", name: str | None = None) -> Principal:
    return Principal(f"u-{role}-{agency}", name or f"{role}.{agency}".lower(), Role(role), agency)


A_CW, A_SUP, B_CW, B_CA, C_CW = (
    person("caseworker"),
    person("supervisor"),
    person("caseworker", "B"),
    person("competent_authority", "B"),
    person("caseworker", "C"),
)
SECRET_NAME = Identity(
    given_name="Amina", family_name="Okafor", date_of_birth="1999-02-03", phone="+2348000000"
)


def adult_case(cw: Casework, **kw) -> str:
    intake = CaseIntake(
        sex="female",
        age=kw.pop("age", 24),
        nationality="NGA",
        languages=("en",),
        exploitation_forms=("sexual_exploitation",),
        identity=kw.pop("identity", SECRET_NAME),
        **kw,
    )
    return cw.create_case(A_CW, intake).case_id


def to_presumed(cw: Casework, case_id: str) -> None:
    cw.transition(
        A_CW, case_id, to_state="screening", confirmations=("safe_setting", "interpreter_offered")
    )
    cw.transition(A_CW, case_id, to_state="presumed_victim", reason="strong indicators observed")


def test_identity_is_sealed_at_rest(cw):
    case_id = adult_case(cw)
    with cw.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(sa.select(db.cases)) for v in row)
        dump += " ".join(
            str(v) for row in conn.execute(sa.text("SELECT * FROM audit_log")) for v in row
        )
    assert "Amina" not in dump and "Okafor" not in dump and "2348000000" not in dump
    assert cw.get_case(A_CW, case_id).data["status"] == "signal"


def test_intake_screen_refer_accept(cw):
    in_directory(cw, "B")
    case_id = adult_case(cw)
    ex = [
        i
        for i in __import__("ctip.domain.screening", fromlist=["x"]).indicators("AL")
        if i.strength["AL"] == "S"
    ]
    result = cw.screen_case(A_CW, case_id, {i.id: "yes" for i in ex})
    assert result.suggested_status == "presumed_victim"
    to_presumed(cw, case_id)
    view = cw.get_case(A_CW, case_id)
    assert view.data["non_punishment_flag"] and view.data["assistance_state"] == "active"
    with pytest.raises(WorkflowError, match="consent"):
        cw.refer(A_CW, case_id, to_agency="B", shared_fields=("given_name",))
    cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
    ref = cw.refer(A_CW, case_id, to_agency="B", shared_fields=("given_name",))
    # B sees the case now, with only the shared identity field
    b_view = cw.get_case(B_CW, case_id)
    assert (
        b_view.relation == "recipient"
        and "notes" not in b_view.data
        and "justice_state" not in b_view.data
    )
    assert cw.reveal_identity(B_CW, case_id, reason="to arrange shelter") == {"given_name": "Amina"}
    assert cw.reveal_identity(A_CW, case_id, reason="home visit")["family_name"] == "Okafor"
    accepted = cw.accept_referral(B_CW, ref.referral_id)
    assert accepted.status == "accepted"
    cw.record_service(B_CW, case_id, service_type="safe_accommodation", note="room 4")
    assert [s.agency for s in cw.services_given(A_CW, case_id)] == ["B"]
    assert cw.complete_referral(B_CW, ref.referral_id).status == "completed"
    with pytest.raises(NotFoundError):  # access ends with the referral
        cw.get_case(B_CW, case_id)
    viewers = {(v.username, v.action) for v in cw.who_viewed(A_CW, case_id)}
    assert ("caseworker.b", "identity") in viewers and ("caseworker.a", "view") in viewers


def test_a_referral_goes_only_to_an_agency_in_the_directory(cw):
    """A typed agency name that the directory does not list (a typo, a stray space, an agency
    nobody added) is refused by the service itself, so the API, the CLI and the pages all get it;
    nothing is written and the case is not shared."""
    in_directory(cw, "B", "C")
    case_id = adult_case(cw, age=None)  # a child: no consent stands between us and the check
    for typo in ("b", "B ", "Agency Zed"):
        with pytest.raises(ValidationError, match="not in the service directory") as refused:
            cw.refer(A_CW, case_id, to_agency=typo)
        assert refused.value.column == "to_agency" and refused.value.value == typo
        assert "B, C" in str(refused.value)  # the agencies it could have been
    assert cw.case_referrals(A_CW, case_id) == []
    with pytest.raises(NotFoundError):
        cw.get_case(Principal("u-z", "cw.z", Role.CASEWORKER, "Agency Zed"), case_id)
    assert cw.refer(A_CW, case_id, to_agency="B").to_agency == "B"


def test_child_referred_without_consent(cw):
    in_directory(cw, "B")
    case_id = adult_case(cw, age=None)
    to_presumed(cw, case_id)
    assert cw.get_case(A_CW, case_id).data["child_state"] == "minor_presumed"
    with pytest.raises(WorkflowError, match="child-protection"):
        cw.transition(A_CW, case_id, to_state="referred", reason="she wants to go to school")
    cw.transition(A_CW, case_id, region="child", to_state="child_protection_notified")
    cw.transition(A_CW, case_id, to_state="referred", reason="she wants to go to school")
    ref = cw.refer(A_CW, case_id, to_agency="B", purpose="nrm_referral")  # no consent needed
    assert ref.consent_id is None
    cw.accept_referral(B_CA, ref.referral_id)
    cw.transition(B_CA, case_id, to_state="recovery_reflection")
    with pytest.raises(PermissionDeniedError):
        cw.transition(B_CW, case_id, to_state="rg_positive", reason="x")
    assert (
        cw.transition(B_CA, case_id, to_state="rg_positive", reason="credible").data["status"]
        == "rg_positive"
    )


def test_justice_region_never_gates_assistance(cw):
    one, two = adult_case(cw), adult_case(cw)
    cw.record_consent(A_CW, one, purpose="law_enforcement_contact")
    cw.transition(A_CW, one, region="justice", to_state="informed_of_rights")
    cw.transition(A_CW, one, region="justice", to_state="reported")
    cw.transition(A_CW, two, region="justice", to_state="declined")
    for case_id in (one, two):
        to_presumed(cw, case_id)
        assert cw.get_case(A_CW, case_id).data["assistance_state"] == "active"


def test_concurrent_edits_conflict(cw):
    case_id = adult_case(cw)
    v = cw.get_case(A_CW, case_id).version
    cw.edit_case(A_CW, case_id, {"age": 25}, expected_version=v)
    with pytest.raises(ConflictError, match="changed by someone else"):
        cw.edit_case(A_SUP, case_id, {"languages": ("fr",)}, expected_version=v)
    assert cw.get_case(A_CW, case_id).data["age"] == 25


def test_other_agency_cannot_tell_a_case_exists(cw):
    case_id = adult_case(cw)
    with pytest.raises(NotFoundError) as hidden:
        cw.get_case(C_CW, case_id)
    with pytest.raises(NotFoundError) as missing:
        cw.get_case(C_CW, case_id[:-4] + "0000")
    assert str(hidden.value).replace(case_id, "X") == str(missing.value).replace(
        case_id[:-4] + "0000", "X"
    )
    assert cw.search_cases(C_CW) == []


def test_emergency_access_is_timeboxed_and_reviewed(cw):
    case_id = adult_case(cw)
    with pytest.raises(ValidationError):
        cw.emergency_access(C_CW, case_id, justification="because")
    grant = cw.emergency_access(
        C_CW, case_id, justification="person is in hospital unconscious, need contacts"
    )
    assert cw.reveal_identity(C_CW, case_id, reason="call family", fields=("phone",)) == {
        "phone": "+2348000000"
    }
    reviews = cw.emergency_reviews(A_SUP)
    assert [r["grant_id"] for r in reviews] == [grant["grant_id"]]
    cw.review_emergency_access(A_SUP, grant["grant_id"], outcome="justified")
    assert cw.emergency_reviews(A_SUP) == []
    later = Casework(
        cw.engine,
        cw.sealer,
        cw.pseudonymiser,
        clock=lambda: datetime.now(UTC) + timedelta(minutes=61),
    )
    with pytest.raises(NotFoundError):
        later.get_case(C_CW, case_id)


def test_timers_create_tasks_and_never_change_status(cw):
    case_id = adult_case(cw)
    to_presumed(cw, case_id)
    cw.transition(A_CW, case_id, to_state="consent_pending")
    later = Casework(
        cw.engine, cw.sealer, cw.pseudonymiser, clock=lambda: datetime.now(UTC) + timedelta(days=20)
    )
    assert later.run_timers() == 1 and later.run_timers() == 0
    assert cw.get_case(A_CW, case_id).data["status"] == "consent_pending"
    assert [t.kind for t in cw.tasks(A_CW)] == ["follow_up_consent"]


def test_revoking_consent_revokes_the_referral(cw):
    in_directory(cw, "B")
    case_id = adult_case(cw)
    consent = cw.record_consent(A_CW, case_id, purpose="share_with_service_provider")
    ref = cw.refer(A_CW, case_id, to_agency="B")
    cw.revoke_consent(A_CW, case_id, consent.consent_id)
    with pytest.raises(NotFoundError):
        cw.get_case(B_CW, case_id)
    with pytest.raises(WorkflowError):
        cw.accept_referral(B_CW, ref.referral_id)


def test_search_by_exact_name_without_decrypting(cw):
    case_id = adult_case(cw)
    adult_case(cw, age=30, identity=Identity(given_name="Ana", family_name="Okafor"))
    assert [v.case_id for v in cw.search_cases(A_CW, name="okafor AMINA")] == [case_id]
    assert cw.search_cases(A_CW, name="Someone Else") == []


def test_directory_eligibility_and_dashboard(cw):
    admin = person("admin")
    cw.add_service(
        admin,
        Service(
            "",
            "B",
            "Shelter for women",
            "safe_accommodation",
            location="Lagos",
            languages=("en",),
            sexes=("female",),
            min_age=18,
            accepts_children=False,
        ),
    )
    assert len(cw.find_services(A_CW, sex="female", age=24, eligible_only=True)) == 1
    assert cw.find_services(A_CW, sex="female", age=15, eligible_only=True) == []
    adult_case(cw)
    board = cw.dashboard(A_CW)
    assert board.status_counts == {"signal": 1} and board.caseload_by_month[-1][2] == 1


def test_roles_outside_casework(cw):
    case_id = adult_case(cw)
    with pytest.raises(PermissionDeniedError):
        cw.get_case(person("analyst"), case_id)
    rows = cw.deidentified_cases(person("analyst"))
    assert rows and "case_id" not in rows[0] and "age" not in rows[0]
    entries = cw.audit_entries(person("auditor"), subject=case_id)
    assert entries[0]["action"] == "case.create"
    assert cw.verify_audit(person("auditor"))["ok"]


def test_consent_override_is_a_supervised_break_glass(cw):
    in_directory(cw, "B")
    case_id = adult_case(cw)
    why = "she is in danger tonight and cannot be reached to consent"
    with pytest.raises(PermissionDeniedError):
        cw.refer(A_CW, case_id, to_agency="B", consent_override=why)
    with pytest.raises(ValidationError):
        cw.refer(A_SUP, case_id, to_agency="B", consent_override="urgent")
    ref = cw.refer(A_SUP, case_id, to_agency="B", consent_override=why)
    assert ref.consent_id is None and ref.status == "pending"
    assert "review_consent_override" in [t.kind for t in cw.tasks(A_SUP)]
    actions = [e["action"] for e in cw.audit_entries(person("auditor"), subject=case_id)]
    assert "consent.override" in actions and why not in str(cw.audit_entries(person("auditor")))


def test_timers_pick_up_a_case_at_its_deadline_and_not_before(cw):
    """The database selects only cases whose earliest deadline for their state has passed
    (consent_pending: 14 days); the result is the same as testing every case in Python."""
    case_id = adult_case(cw)
    to_presumed(cw, case_id)
    cw.transition(A_CW, case_id, to_state="consent_pending")
    entered = datetime.now(UTC)

    def at(days: float) -> Casework:
        moment = entered + timedelta(days=days)
        return Casework(cw.engine, cw.sealer, cw.pseudonymiser, clock=lambda: moment)

    assert at(13.9).run_timers() == 0
    assert cw.tasks(A_CW) == []
    assert at(14.1).run_timers() == 1
    assert [t.kind for t in cw.tasks(A_CW)] == ["follow_up_consent"]


def test_case_page_reads_like_the_separate_calls_and_audits_the_view_once(cw):
    """``case_page`` (one transaction) shows each part exactly as the separate calls do, to the
    owner and to a receiving agency, records the view for "who viewed" and writes one
    ``case.view`` audit entry per page, like ``get_case``."""
    in_directory(cw, "B")
    case_id = adult_case(cw)
    to_presumed(cw, case_id)
    cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
    cw.refer(A_CW, case_id, to_agency="B", shared_fields=("given_name",))
    from ctip.domain.screening import indicators

    cw.screen_case(A_CW, case_id, {indicators("AL")[0].id: "yes"})
    auditor = person("auditor")

    def views_of(p: Principal) -> int:
        return sum(1 for v in cw.who_viewed(A_CW, case_id) if v.username == p.username)

    def audited_views() -> int:
        return sum(1 for e in cw.audit_entries(auditor, subject=case_id, limit=10_000)
                   if e["action"] == "case.view")

    before = audited_views()
    owner = cw.case_page(A_CW, case_id)
    assert owner.view == cw.get_case(A_CW, case_id)
    assert owner.consents == cw.consents(A_CW, case_id)
    assert owner.referrals == cw.case_referrals(A_CW, case_id)
    assert owner.services_given == cw.services_given(A_CW, case_id)
    assert owner.screening == cw.latest_screening(A_CW, case_id)
    assert owner.directory == cw.find_services(A_CW)
    assert owner.views is not None and owner.views[0].username == A_CW.username  # this view
    assert audited_views() == before + 2 and views_of(A_CW) == 2  # case_page, then get_case

    recipient = cw.case_page(B_CW, case_id)  # receiving agency: no consents, no view log
    assert recipient.view == cw.get_case(B_CW, case_id) and recipient.view.relation == "recipient"
    assert recipient.consents is None and recipient.views is None and recipient.screening is None
    assert recipient.referrals == cw.case_referrals(B_CW, case_id)
    assert audited_views() == before + 4 and views_of(B_CW) == 2

    with pytest.raises(NotFoundError):  # no relation: the same answer as a missing case
        cw.case_page(C_CW, case_id)
    with pytest.raises(PermissionDeniedError):  # the role may not read cases at all
        cw.case_page(person("analyst"), case_id)
    assert audited_views() == before + 4 and views_of(C_CW) == 0


def test_residence_region_records_the_permit_track_and_never_gates_assistance(cw):
    """The immigration authority's decisions are recorded with reasons; a refusal changes no
    other region, and the permit status is owner-only (tier 3), never shared by a referral."""
    in_directory(cw, "B")
    case_id = adult_case(cw)
    assert cw.get_case(A_CW, case_id).data["residence_state"] == "not_applicable"
    cw.transition(A_CW, case_id, region="residence", to_state="reflection_leave")
    cw.transition(A_CW, case_id, region="residence", to_state="permit_requested")
    with pytest.raises(WorkflowError, match="reason"):
        cw.transition(A_CW, case_id, region="residence", to_state="permit_refused")
    cw.transition(A_CW, case_id, region="residence", to_state="permit_refused",
                  reason="decision letter of 2 May: no proof of cooperation asked for")
    to_presumed(cw, case_id)  # a refused permit does not stop identification or assistance
    view = cw.get_case(A_CW, case_id)
    assert view.data["residence_state"] == "permit_refused"
    assert view.data["assistance_state"] == "active"
    cw.transition(A_CW, case_id, region="residence", to_state="permit_requested")  # appeal
    with pytest.raises(PermissionDeniedError):  # only a supervisor closes the track
        cw.transition(A_CW, case_id, region="residence", to_state="not_applicable", reason="x")
    cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
    cw.refer(A_CW, case_id, to_agency="B", shared_fields=("given_name",))
    assert "residence_state" not in cw.get_case(B_CW, case_id).data


def test_sent_referrals_come_a_page_at_a_time_newest_first(cw):
    in_directory(cw, "B")
    sent = []
    for _ in range(5):
        case_id = adult_case(cw)
        to_presumed(cw, case_id)
        cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
        sent.append(cw.refer(A_CW, case_id, to_agency="B"))
    cw.accept_referral(B_CW, sent[0].referral_id)
    newest_first = [r.referral_id for r in reversed(sent)]
    first = cw.sent_referrals(A_CW, limit=2)
    assert [r.referral_id for r in first.referrals] == newest_first[:2] and first.more
    middle = cw.sent_referrals(A_CW, limit=2, offset=2)
    assert [r.referral_id for r in middle.referrals] == newest_first[2:4] and middle.more
    last = cw.sent_referrals(A_CW, limit=2, offset=4)
    assert [r.referral_id for r in last.referrals] == newest_first[4:] and not last.more
    assert first.counts == {"pending": 4, "accepted": 1}  # all of them, not the page
    assert set(first.numbers) == {r.case_id for r in first.referrals}
    assert all(n.startswith("A") for n in first.numbers.values())
    accepted = cw.sent_referrals(A_CW, statuses=("accepted",))
    assert [r.referral_id for r in accepted.referrals] == [sent[0].referral_id]
    assert not accepted.more
    assert cw.sent_referrals(B_CW).referrals == []  # B sent none: A's are not B's to list
