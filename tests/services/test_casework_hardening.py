"""Issue 20, item 9 (case work), on SQLite and PostgreSQL: a service is logged against a
referral of its own case only; break-glass opens the minimum identity, further fields one named
request at a time, each tied to its grant and listed in the supervisor's review."""

from __future__ import annotations

import json
import secrets

import pytest
import sqlalchemy as sa

from ctip.domain.access import EMERGENCY_MINIMUM, Principal, Role
from ctip.domain.casework import Service
from ctip.domain.records import Identity
from ctip.errors import ValidationError
from ctip.services.casework import CaseIntake, Casework
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer
from ctip.storage.tables import audit_log


def in_directory(cw, *agencies: str) -> None:  # type: ignore[no-untyped-def]
    """List the agencies in the service directory: a referral goes only to one listed there."""
    admin = Principal("setup", "setup", Role.ADMIN, "Z")
    for agency in agencies:
        cw.add_service(admin, Service("", agency, f"Shelter {agency}", "safe_accommodation"))


@pytest.fixture
def cw(database_url: str) -> Casework:
    engine = make_engine(database_url)
    migrate(engine)
    cw = Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))
    in_directory(cw, "B", "C")
    yield cw
    engine.dispose()


def person(role: str, agency: str) -> Principal:
    return Principal(f"u-{role}-{agency}", f"{role}.{agency}".lower(), Role(role), agency)


A_CW, A_SUP, B_CW, C_CW = (person("caseworker", "A"), person("supervisor", "A"),
                           person("caseworker", "B"), person("caseworker", "C"))
WHO = Identity(given_name="Amina", family_name="Okafor", date_of_birth="1999-02-03",
               phone="+2348000000", email="amina@example.org", address="12 Hidden Road")


def _referred_case(cw: Casework) -> tuple[str, str]:
    case_id = cw.create_case(A_CW, CaseIntake(sex="female", age=24, identity=WHO)).case_id
    cw.record_consent(A_CW, case_id, purpose="share_with_service_provider", recipient="B")
    ref = cw.refer(A_CW, case_id, to_agency="B", shared_fields=("given_name",))
    cw.accept_referral(B_CW, ref.referral_id)
    return case_id, ref.referral_id


def test_a_service_names_a_referral_of_its_own_case_only(cw: Casework) -> None:
    case_one, ref_one = _referred_case(cw)
    case_two, ref_two = _referred_case(cw)
    with pytest.raises(ValidationError, match="no such referral on this case"):
        cw.record_service(B_CW, case_one, service_type="safe_accommodation", referral_id=ref_two)
    with pytest.raises(ValidationError, match="no such referral on this case"):
        cw.record_service(A_CW, case_two, service_type="legal", referral_id=ref_one)
    with pytest.raises(ValidationError, match="no such referral on this case"):
        cw.record_service(A_CW, case_two, service_type="legal",
                          referral_id="00000000-0000-0000-0000-000000000000")
    done = cw.record_service(B_CW, case_one, service_type="safe_accommodation",
                             referral_id=ref_one)
    assert done.referral_id == ref_one
    assert cw.record_service(B_CW, case_two, service_type="safe_accommodation"
                             ).referral_id == ref_two
    assert [s.referral_id for s in cw.services_given(A_CW, case_one)] == [ref_one]


def test_break_glass_opens_the_minimum_and_the_review_lists_what_was_opened(
        cw: Casework) -> None:
    case_id = cw.create_case(A_CW, CaseIntake(sex="female", age=24, identity=WHO)).case_id
    grant = cw.emergency_access(
        C_CW, case_id, justification="person is in hospital unconscious, need to identify her")
    first = cw.reveal_identity(C_CW, case_id, reason="identify at the hospital")
    assert tuple(first) == EMERGENCY_MINIMUM and "phone" not in first
    assert first["family_name"] == "Okafor"
    assert cw.reveal_identity(C_CW, case_id, reason="call her family",
                              fields=("phone",)) == {"phone": "+2348000000"}
    with pytest.raises(ValidationError, match="may not open"):
        cw.reveal_identity(C_CW, case_id, reason="curious", fields=("shoe_size",))
    # the owner still sees everything by default
    assert "address" in cw.reveal_identity(A_CW, case_id, reason="home visit")
    (review,) = cw.emergency_reviews(A_SUP)
    assert review["grant_id"] == grant["grant_id"]
    assert [r["fields"] for r in review["identity_opened"]] == [list(EMERGENCY_MINIMUM),
                                                                ["phone"]]
    with cw.engine.connect() as conn:
        reveals = [json.loads(d) for d in conn.execute(
            sa.select(audit_log.c.details).where(audit_log.c.action == "identity.reveal")
        ).scalars()]
    emergency = [d for d in reveals if d["relation"] == "emergency"]
    assert all(d["grant_id"] == grant["grant_id"] and d["reason_id"] for d in emergency)
    assert len(emergency) == 2
    assert {(v.username, v.action) for v in cw.who_viewed(A_CW, case_id)} >= {
        ("caseworker.c", "emergency identity")}
