"""The role x action x agency matrix for the pages issue 13 added (case edit, the page referral
form, sent referrals, review queues and the linkage item, reveal and decision).

Case X is owned by agency A and referred to B; C has no relation to it. The linkage review item
is on A's queue. Every user of every role in A, B and C tries every action; the expected answer
of each cell is written out by hand (not derived from the code under test). A refusal to someone
who may not know X (or the item) exists must be identical to the answer for an id that does not
exist.
"""

from __future__ import annotations

import re
import uuid

import pytest
from api_support import ROLES
from pages_support import (
    build_app,
    csrf_from,
    linkage_run,
    make_settings,
    signed_in_clients,
)

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.services.casework import CaseIntake
from ctip.services.linkage_review import LinkageReviews

OK = "ok"
AGENCIES = ("A", "B", "C")
# action -> (A, B, C) per role; roles not listed get 403 everywhere
WORKER = {  # caseworker and supervisor
    "edit_form": (OK, 403, 404),
    "edit_save": (OK, 403, 404),
    "refer": (OK, 403, 404),
    "sent": (OK, OK, OK),
}
AUTHORITY = {"edit_form": (403, 403, 403), "edit_save": (403, 403, 403),
             "refer": (403, 403, 404), "sent": (403, 403, 403)}
REVIEWER = {  # roles that read the linkage queue: analyst and supervisor
    "review_index": (OK, OK, OK),
    "review_queue": (OK, OK, OK),
    "review_item": (OK, 404, 404),
    "review_reveal": (OK, 404, 404),
    "review_decide": (OK, 404, 404),
}
NOT_REVIEWER = {"review_index": (403, 403, 403), "review_queue": (403, 403, 403),
                "review_item": (403, 404, 404), "review_reveal": (403, 404, 404),
                "review_decide": (403, 404, 404)}
CASE_ACTIONS = tuple(WORKER)
REVIEW_ACTIONS = tuple(REVIEWER)


def expected(role: str, agency: str, action: str):  # type: ignore[no-untyped-def]
    i = AGENCIES.index(agency)
    if action in REVIEW_ACTIONS:
        table = REVIEWER if role in ("analyst", "supervisor") else NOT_REVIEWER
        return table[action][i]
    table = {"caseworker": WORKER, "supervisor": WORKER, "competent_authority": AUTHORITY}
    if role == "admin" and action == "refer":
        return 403
    return table[role][action][i] if role in table else 403


@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path_factory.mktemp("pages-matrix") / "home")
    app = build_app(settings)
    admin = Principal("setup", "setup", Role.ADMIN, "D")
    app.state.casework.add_service(admin, Service("", "D", "Shelter D", "safe_accommodation"))
    app.state.casework.add_service(admin, Service("", "B", "Shelter B", "safe_accommodation"))
    clients = signed_in_clients(app, ROLES, AGENCIES)
    linkage_run(settings)
    reviews = LinkageReviews.over(app.state.casework.engine, app.state.casework.sealer,
                                  app.state.casework.pseudonymiser, app.state.casework.audit,
                                  settings)
    reviews.queue_latest_run(Principal("x", "analyst-a", Role.ANALYST, "A"))
    item_id = reviews.items(Principal("x", "analyst-a", Role.ANALYST, "A"))[0].item_id
    owner = app.state.accounts.principal_for("caseworker-a")
    return app, clients, owner, item_id


def fresh_case(app, owner) -> str:  # type: ignore[no-untyped-def]
    cw = app.state.casework
    view = cw.create_case(owner, CaseIntake(sex="female", age=15, notes="met at the station"))
    cw.refer(owner, view.case_id, to_agency="B", shared_fields=("given_name",))
    return view.case_id


def call(c, action: str, case_id: str, item_id: str, version: int):  # type: ignore[no-untyped-def]
    # the session's token, from the sign-out form every signed-in page carries (even a 404)
    token = csrf_from(c.get("/no-such-page", headers={"Accept": "text/html"}).text)
    q = "linkage.pairs"
    html = {"Accept": "text/html"}
    calls = {
        "edit_form": ("GET", f"/cases/{case_id}/edit", None),
        "edit_save": ("POST", f"/cases/{case_id}/edit",
                      {"csrf_token": token, "version": str(version), "sex": "female",
                       "age": "15"}),
        "refer": ("POST", f"/cases/{case_id}/referrals",
                  {"csrf_token": token, "to_agency": "D", "purpose": "service"}),
        "sent": ("GET", "/referrals/sent", None),
        "review_index": ("GET", "/review", None),
        "review_queue": ("GET", f"/review/{q}", None),
        "review_item": ("GET", f"/review/{q}/{item_id}", None),
        "review_reveal": ("POST", f"/review/{q}/{item_id}/reveal",
                          {"csrf_token": token, "reason": "names differ by one letter"}),
        "review_decide": ("POST", f"/review/{q}/{item_id}/decide",
                          {"csrf_token": token, "decision": "non_match"}),
    }
    method, path, data = calls[action]
    return c.request(method, path, data=data, headers=html)


def _normalise(text: str, *ids: str) -> str:
    for value in ids:
        text = text.replace(value, "<id>")
    return re.sub(r'csrf_token" value="[^"]+"|"X-CSRF-Token": "[^"]+"', "", text)


@pytest.mark.parametrize("agency", AGENCIES)
@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(world, role, agency):  # type: ignore[no-untyped-def]
    app, clients, owner, item_id = world
    c = clients[(role, agency)]
    case_id = fresh_case(app, owner)
    ghost_case, ghost_item = str(uuid.uuid4()), str(uuid.uuid4())
    for action in (*CASE_ACTIONS, *REVIEW_ACTIONS):
        want = expected(role, agency, action)
        version = app.state.casework.get_case(owner, case_id).version
        got = call(c, action, case_id, item_id, version)
        cell = f"{role}@{agency} {action}: {got.status_code}"
        if want == OK:
            assert got.status_code == 200, cell
        else:
            assert got.status_code == want, cell
            if want == 404 or role in ("admin", "analyst", "auditor"):  # may not read X
                assert "met at the station" not in got.text, cell
            assert "Voss" not in got.text, cell  # identities only after a reveal
            if want == 404:
                ghost = call(c, action, ghost_case, ghost_item, version)
                assert ghost.status_code == 404, cell
                assert _normalise(ghost.text, ghost_case, ghost_item) == _normalise(
                    got.text, case_id, item_id), cell
