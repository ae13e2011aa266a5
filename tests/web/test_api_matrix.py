"""The whole role x action x agency matrix through the REST API.

Case X is owned by agency A and referred to agency B (sharing the given name only); agency C has
no relation to it. Every user of every role in A, B and C tries every case action on their own
fresh copy of X. The expected answer of each cell is written out below by hand (not derived from
the code under test). Each refused cell must answer 403 or 404, and a refusal to anyone who may
not know X exists must be *identical* to the answer for a case id that does not exist.
"""

from __future__ import annotations

import uuid

import pytest
from api_support import ROLES, add_user, bearer, client, login, make_app

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.domain.records import Identity
from ctip.services.casework import CaseIntake

OK = "ok"
# action -> {(role, relation): expected}; relation: A=owner, B=recipient, C=none.
# Roles without any case right (admin, analyst, auditor) get 403 everywhere (filled in below).
WORKER = {  # caseworker and supervisor
    "list": (OK, OK, OK),
    "read": (OK, OK, 404),
    "views": (OK, 403, 404),
    "consents": (OK, 403, 404),
    "reveal": (OK, OK, 404),
    "edit": (OK, 403, 404),
    "screen": (OK, 403, 404),
    "transition": (OK, 403, 404),
    "consent_add": (OK, 403, 404),
    "refer": (OK, 403, 404),
    "accept": (404, OK, 404),
    "service": (OK, OK, 404),
    "case_referrals": (OK, OK, 404),
    "emergency": (409, OK, OK),
}
AUTHORITY = {  # competent_authority
    "list": (OK, OK, OK),
    "read": (OK, OK, 404),
    "views": (403, 403, 403),
    "consents": (403, 403, 403),
    "reveal": (OK, OK, 404),
    "edit": (403, 403, 403),
    "screen": (403, 403, 403),
    "transition": (403, 403, 404),
    "consent_add": (403, 403, 403),
    "refer": (403, 403, 403),
    "accept": (404, OK, 404),
    "service": (403, 403, 403),
    "case_referrals": (OK, OK, 404),
    "emergency": (403, 403, 403),
}
ACTIONS = tuple(WORKER)
AGENCIES = ("A", "B", "C")


def expected(role: str, agency: str, action: str):  # type: ignore[no-untyped-def]
    table = {"caseworker": WORKER, "supervisor": WORKER, "competent_authority": AUTHORITY}.get(role)
    if table is None:
        return 403
    return table[action][AGENCIES.index(agency)]


def request(c, action: str, case_id: str, referral_id: str, version: int):  # type: ignore[no-untyped-def]
    calls = {
        "list": ("GET", "/api/cases", None),
        "read": ("GET", f"/api/cases/{case_id}", None),
        "views": ("GET", f"/api/cases/{case_id}/views", None),
        "consents": ("GET", f"/api/cases/{case_id}/consents", None),
        "reveal": (
            "POST",
            f"/api/cases/{case_id}/identity",
            {"reason": "arranging a shelter place"},
        ),
        "edit": ("PATCH", f"/api/cases/{case_id}", {"version": version, "age": 31}),
        "screen": ("POST", f"/api/cases/{case_id}/screening", {"observations": {"CD-01": "yes"}}),
        "transition": (
            "POST",
            f"/api/cases/{case_id}/transitions",
            {"to_state": "screening", "confirmations": ["safe_setting", "interpreter_offered"]},
        ),
        "consent_add": ("POST", f"/api/cases/{case_id}/consents", {"purpose": "statistical_use"}),
        "refer": (
            "POST",
            f"/api/cases/{case_id}/referrals",
            {"to_agency": "D", "purpose": "service"},
        ),
        "accept": ("POST", f"/api/referrals/{referral_id}/accept", None),
        "service": ("POST", f"/api/cases/{case_id}/services-given", {"service_type": "medical"}),
        "case_referrals": ("GET", f"/api/cases/{case_id}/referrals", None),
        "emergency": (
            "POST",
            f"/api/cases/{case_id}/emergency-access",
            {"justification": "the person is in hospital and cannot speak for herself"},
        ),
    }
    method, path, body = calls[action]
    return c.request(method, path, json=body, headers=c.headers)


@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path_factory.mktemp("matrix") / "home")
    admin = Principal("setup", "setup", Role.ADMIN, "Z")
    for agency in ("B", "D"):  # a referral goes only to an agency the directory lists
        app.state.casework.add_service(admin, Service("", agency, f"Shelter {agency}",
                                                      "safe_accommodation"))
    c = client(app)
    tokens = {}
    for agency in AGENCIES:
        for role in ROLES:
            name = f"{role.replace('_', '-')}-{agency.lower()}"
            tokens[(role, agency)] = login(c, name, add_user(app, name, role, agency))["token"]
    owner = app.state.accounts.principal_for("caseworker-a")
    return app, c, tokens, owner


def fresh_case(app, owner) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    cw = app.state.casework
    view = cw.create_case(
        owner,
        CaseIntake(
            sex="female",
            age=30,
            notes="met at the bus station",
            identity=Identity(given_name="Lena", family_name="Marin"),
        ),
    )
    cw.record_consent(owner, view.case_id, purpose="share_with_service_provider")
    ref = cw.refer(owner, view.case_id, to_agency="B", shared_fields=("given_name",))
    return view.case_id, ref.referral_id


def _normalise(text: str, *ids: str) -> str:
    for value in ids:
        text = text.replace(value, "<id>")
    return text


@pytest.mark.parametrize("agency", AGENCIES)
@pytest.mark.parametrize("role", ROLES)
def test_matrix(world, role, agency):  # type: ignore[no-untyped-def]
    app, c, tokens, owner = world
    case_id, referral_id = fresh_case(app, owner)
    c.headers = bearer(tokens[(role, agency)])
    ghost_case, ghost_ref = str(uuid.uuid4()), str(uuid.uuid4())
    for action in ACTIONS:
        want = expected(role, agency, action)
        version = app.state.casework.get_case(owner, case_id).version
        got = request(c, action, case_id, referral_id, version)
        cell = f"{role}@{agency} {action}: {got.status_code} {got.text[:200]}"
        if want == OK:
            assert got.status_code < 300, cell
            if action == "list":
                listed = {row["case_id"] for row in got.json()}
                assert (case_id in listed) is (agency in ("A", "B")), cell
        else:
            assert got.status_code == want, cell
            assert (
                "Lena" not in got.text and "Marin" not in got.text and "bus station" not in got.text
            )
            if want in (403, 404) and (
                agency == "C" or want == 404 or role in ("admin", "analyst", "auditor")
            ):
                # someone who may not know X exists learns nothing: same answer as for no case at
                # all
                ghost = request(c, action, ghost_case, ghost_ref, version)
                assert ghost.status_code == got.status_code, cell
                assert _normalise(ghost.text, ghost_case, ghost_ref) == _normalise(
                    got.text, case_id, referral_id
                ), cell


def test_recipient_sees_only_what_the_referral_shares(world):  # type: ignore[no-untyped-def]
    app, c, tokens, owner = world
    case_id, _ = fresh_case(app, owner)
    as_b = c.get(f"/api/cases/{case_id}", headers=bearer(tokens[("caseworker", "B")])).json()
    assert as_b["relation"] == "recipient" and as_b["revealable_identity"] == ["given_name"]
    assert "notes" not in as_b and "justice_state" not in as_b
    ident = c.post(
        f"/api/cases/{case_id}/identity",
        json={"reason": "to welcome her by name"},
        headers=bearer(tokens[("caseworker", "B")]),
    ).json()
    assert ident == {"given_name": "Lena"}
    as_a = c.get(f"/api/cases/{case_id}", headers=bearer(tokens[("caseworker", "A")])).json()
    assert (
        as_a["notes"] == "met at the bus station" and "given_name" not in as_a
    )  # identity hidden by default


def test_anonymous_is_401_everywhere(world):  # type: ignore[no-untyped-def]
    app, c, tokens, owner = world
    anon = client(app)
    assert anon.get("/api/cases").status_code == 401
    assert anon.get(f"/api/cases/{uuid.uuid4()}").status_code == 401
    assert anon.post("/api/cases", json={}).status_code == 401
    assert anon.get("/api/cases", headers=bearer("forged")).status_code == 401
