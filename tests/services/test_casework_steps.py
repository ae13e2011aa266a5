"""The NRM steps offered are the steps allowed: the case page and the API both get them from the
service (``allowed_steps``), with the same permission check as taking a step, and each offered
step's confirmations are exactly what its guard asks for."""

from __future__ import annotations

import secrets

import pytest

from ctip.domain import nrm
from ctip.domain.access import Action, Principal, Role
from ctip.domain.casework import Service
from ctip.domain.records import Identity
from ctip.errors import PermissionDeniedError, WorkflowError
from ctip.services.casework import CaseIntake, Casework
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer


def in_directory(cw, *agencies: str) -> None:  # type: ignore[no-untyped-def]
    """List the agencies in the service directory: a referral goes only to one listed there."""
    admin = Principal("setup", "setup", Role.ADMIN, "Z")
    for agency in agencies:
        cw.add_service(admin, Service("", agency, f"Shelter {agency}", "safe_accommodation"))


def person(role: str, agency: str) -> Principal:
    return Principal(f"u-{role}-{agency}", f"{role}.{agency}".lower(), Role(role), agency)


A_CW, A_SUP = person("caseworker", "A"), person("supervisor", "A")
B_CW, B_CA = person("caseworker", "B"), person("competent_authority", "B")


@pytest.fixture
def referred(database_url: str):
    """A presumed victim of agency A, referred to (and accepted by) agency B."""
    engine = make_engine(database_url)
    migrate(engine)
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    in_directory(cw, "B")
    case_id = cw.create_case(A_CW, CaseIntake(
        sex="female", age=24, nationality="NGA", languages=("en",),
        exploitation_forms=("sexual_exploitation",), identity=Identity(given_name="Amina"),
    )).case_id
    first = next(s for s in cw.case_page(A_CW, case_id).steps if s.target == "screening")
    cw.transition(A_CW, case_id, to_state="screening", confirmations=first.confirmations)
    cw.transition(A_CW, case_id, to_state="presumed_victim", reason="strong indicators")
    cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
    cw.accept_referral(B_CW, cw.refer(A_CW, case_id, to_agency="B").referral_id)
    yield cw, case_id
    engine.dispose()


@pytest.mark.parametrize("who", [A_CW, A_SUP, B_CW, B_CA], ids=lambda p: p.username)
def test_the_page_offers_what_the_service_allows(referred, who: Principal) -> None:
    cw, case_id = referred
    page = cw.case_page(who, case_id)
    by_region = cw.next_steps(who, case_id)
    assert {(s.region, s.target) for s in page.steps} == {
        (region, target) for region, targets in by_region.items() for target in targets
    }
    if who.agency == "B":  # a receiving agency: identification decisions only
        assert {s.region for s in page.steps} <= {"main"}
    if who.agency == "B":  # and no intake work: screening, consent and referral are the owner's
        assert not page.may & {Action.CASE_SCREEN, Action.CONSENT_RECORD, Action.CASE_REFER}
    else:
        assert {Action.CASE_SCREEN, Action.CONSENT_RECORD, Action.CASE_REFER} <= page.may
    if who is B_CW:  # ... and only its competent authority takes them
        assert page.may == {Action.IDENTITY_REVEAL, Action.SERVICE_RECORD}
        assert page.steps == ()
        with pytest.raises(PermissionDeniedError):
            cw.transition(who, case_id, to_state="identified_victim", reason="r")
    for step in page.steps:
        transition = next(t for t in nrm.transitions_from(step.region, "presumed_victim")
                          if t.target == step.target) if step.region == "main" else None
        if transition is not None:
            assert step.needs_reason == transition.needs_reason


def test_a_receiving_competent_authority_is_offered_its_decision(referred) -> None:
    cw, case_id = referred
    assert cw.case_page(B_CA, case_id).steps == ()  # nothing for it to decide yet
    cw.transition(A_CW, case_id, to_state="consent_pending")
    cw.record_consent(A_CW, case_id, purpose="nrm_referral", recipient="B")
    cw.transition(A_CW, case_id, to_state="referred", reason="to the competent authority")
    offered = cw.case_page(B_CA, case_id).steps
    assert [(s.region, s.target) for s in offered] == [("main", "recovery_reflection")]
    assert cw.case_page(B_CW, case_id).steps == ()
    cw.transition(B_CA, case_id, to_state="recovery_reflection", reason="reasonable grounds",
                  confirmations=offered[0].confirmations)


def test_each_offered_step_is_taken_with_the_confirmations_it_shows(referred) -> None:
    """Taking an offered step as offered never fails for want of a confirmation or of a
    permission; a guard may still refuse it for a fact of the case (e.g. no consent yet)."""
    cw, case_id = referred
    for step in cw.case_page(A_CW, case_id).steps:
        version = cw.get_case(A_CW, case_id).version
        try:
            cw.transition(A_CW, case_id, to_state=step.target, region=step.region,
                          reason="because", confirmations=step.confirmations,
                          expected_version=version)
        except WorkflowError as refused:
            assert "confirm first" not in refused.message
        else:
            return  # one step taken: the case moved on
    pytest.fail("no offered step could be taken")


def test_each_use_case_stands_alone_over_one_store(tmp_path, database_url, ctip_home) -> None:
    """Intake, workflow, referrals and protection are separate classes over the store's one
    engine, keys and audit; ``Casework`` only brings them together for the adapters."""
    from ctip import storage
    from ctip.services.case_intake import IntakeWork
    from ctip.services.case_workflow import WorkflowWork
    from ctip.services.home import init_home
    from ctip.services.protection import ProtectionWork
    from ctip.services.referrals import ReferralWork
    from ctip.settings import Settings

    settings = Settings(home=tmp_path / "home", database_url=database_url, seal_key=None,
                        pseudonym_key=None, key_file=None, pseudonym_key_file=None)
    init_home(settings)
    with storage.open(settings) as store:
        intake, workflow = store.repository(IntakeWork.of), store.repository(WorkflowWork.of)
        referrals = store.repository(ReferralWork.of)
        protection = store.repository(ProtectionWork.of)
        assert len({id(part.engine) for part in (intake, workflow, referrals, protection)}) == 1
        case_id = intake.create_case(A_CW, CaseIntake(sex="male", age=30)).case_id
        assert workflow.next_steps(A_CW, case_id)["main"]
        workflow.transition(A_CW, case_id, to_state="screening",
                            confirmations=("safe_setting", "interpreter_offered"))
        referrals.record_consent(A_CW, case_id, purpose="share_with_service_provider",
                                 recipient="B")
        assert intake.get_case(A_CW, case_id).data["status"] == "screening"
        assert {v.username for v in protection.who_viewed(A_CW, case_id)} == {A_CW.username}
