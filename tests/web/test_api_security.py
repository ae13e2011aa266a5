"""Sessions, CSRF, lockout, TOTP, timeout, concurrency conflicts and what the schema exposes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from api_support import PASSWORD, add_user, bearer, client, login, make_app


@pytest.fixture
def app(tmp_path, database_url):  # type: ignore[no-untyped-def]
    return make_app(tmp_path / "home", database_url)


def test_cookie_session_needs_csrf_for_writes(app):  # type: ignore[no-untyped-def]
    c = client(app)
    secret = add_user(app, "cw-a", "caseworker", "A")
    session = login(c, "cw-a", secret)  # sets the HttpOnly cookie on the client
    cookie = c.cookies.get("ctip_session")
    assert cookie == session["token"]
    assert c.get("/api/cases").status_code == 200  # reads need no CSRF token
    refused = c.post("/api/cases", json={"sex": "female"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    wrong = c.post("/api/cases", json={"sex": "female"}, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    made = c.post(
        "/api/cases",
        json={"sex": "female", "age": 19, "identity": {"given_name": "Ama"}},
        headers={"X-CSRF-Token": session["csrf_token"]},
    )
    assert made.status_code == 201 and made.json()["status"] == "signal"
    assert "given_name" not in made.json() and "identity" not in made.json()
    assert (
        c.delete("/api/session", headers={"X-CSRF-Token": session["csrf_token"]}).status_code == 204
    )
    assert c.get("/api/cases").status_code == 401


def test_session_cookie_flags(app):  # type: ignore[no-untyped-def]
    c = client(app)
    secret = add_user(app, "cw-a", "caseworker", "A")
    r = c.post(
        "/api/session",
        json={"username": "cw-a", "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    header = r.headers["set-cookie"].lower()
    assert "httponly" in header and "secure" in header and "samesite=lax" in header
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"


def test_login_needs_the_one_time_code_and_locks_out(app):  # type: ignore[no-untyped-def]
    c = client(app)
    secret = add_user(app, "cw-a", "caseworker", "A")
    no_code = c.post(
        "/api/session", json={"username": "cw-a", "password": PASSWORD, "code": "000000"}
    )
    unknown = c.post(
        "/api/session", json={"username": "nobody", "password": PASSWORD, "code": "000000"}
    )
    assert no_code.status_code == unknown.status_code == 401
    assert no_code.json()["message"] == unknown.json()["message"]  # nothing about which part failed
    for _ in range(4):
        c.post(
            "/api/session", json={"username": "cw-a", "password": "wrong password!", "code": "1"}
        )
    locked = c.post(
        "/api/session",
        json={"username": "cw-a", "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert locked.status_code == 401  # 5 failures: locked even with the right password and code


def test_idle_session_times_out(app):  # type: ignore[no-untyped-def]
    c = client(app)
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    assert c.get("/api/cases", headers=bearer(token)).status_code == 200
    later = datetime.now(UTC) + timedelta(minutes=app.state.settings.session_timeout_minutes + 1)
    app.state.accounts.clock = lambda: later
    r = c.get("/api/cases", headers=bearer(token))
    assert r.status_code == 401 and "timed out" in r.json()["message"]
    again = c.get("/api/cases", headers=bearer(token))  # the timed-out session was deleted
    assert again.status_code == 401 and "not logged in" in again.json()["message"]


def test_second_editor_gets_a_conflict(app):  # type: ignore[no-untyped-def]
    c = client(app)
    one = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    two = login(c, "cw-a2", add_user(app, "cw-a2", "caseworker", "A"))["token"]
    case = c.post("/api/cases", json={"sex": "male", "age": 40}, headers=bearer(one)).json()
    first = c.patch(
        f"/api/cases/{case['case_id']}",
        json={"version": case["version"], "age": 41},
        headers=bearer(one),
    )
    assert first.status_code == 200 and first.json()["version"] == case["version"] + 1
    second = c.patch(
        f"/api/cases/{case['case_id']}",
        json={"version": case["version"], "age": 39},
        headers=bearer(two),
    )
    assert second.status_code == 409 and "changed by someone else" in second.json()["message"]
    assert c.get(f"/api/cases/{case['case_id']}", headers=bearer(two)).json()["age"] == 41


def test_openapi_exposes_no_internal_fields(app):  # type: ignore[no-untyped-def]
    text = client(app).get("/openapi.json").text
    for internal in (
        "identity_sealed",
        "password_hash",
        "totp",
        "name_key",
        "token_hash",
        "created_by",
    ):
        assert internal not in text


def test_admin_adds_user_over_the_api_and_others_cannot(app):  # type: ignore[no-untyped-def]
    c = client(app)
    admin = login(c, "root", add_user(app, "root", "national_admin", "HQ"))["token"]
    worker = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    local = login(c, "adm-a", add_user(app, "adm-a", "admin", "A"))["token"]
    body = {"username": "new-user", "password": PASSWORD, "role": "caseworker", "agency": "B"}
    assert c.post("/api/users", json=body, headers=bearer(worker)).status_code == 403
    # an agency's administrator manages that agency's users only; a national one, every agency's
    assert c.post("/api/users", json=body, headers=bearer(local)).status_code == 403
    assert "root" not in {u["username"] for u in c.get("/api/users", headers=bearer(local)).json()}
    made = c.post("/api/users", json=body, headers=bearer(admin))
    assert made.status_code == 201 and made.json()["otpauth_uri"].startswith("otpauth://totp/")
    listed = c.get("/api/users", headers=bearer(admin)).json()
    assert {u["username"] for u in listed} >= {"new-user", "root"} and "otpauth_uri" not in listed[
        0
    ]


def test_a_one_time_code_works_once(app):  # type: ignore[no-untyped-def]
    c = client(app)
    secret = add_user(app, "cw-a", "caseworker", "A")
    code = pyotp.TOTP(secret).now()
    body = {"username": "cw-a", "password": PASSWORD, "code": code}
    assert c.post("/api/session", json=body).status_code == 201
    assert c.post("/api/session", json=body).status_code == 401  # replayed


def test_unlock_and_deactivate(app):  # type: ignore[no-untyped-def]
    c = client(app)
    secret = add_user(app, "cw-a", "caseworker", "A")
    for _ in range(5):
        c.post(
            "/api/session", json={"username": "cw-a", "password": "wrong password!", "code": "1"}
        )
    app.state.accounts.unlock(None, "cw-a")
    token = login(c, "cw-a", secret)["token"]
    assert c.get("/api/cases", headers=bearer(token)).status_code == 200
    app.state.accounts.set_active(None, "cw-a", False)
    assert c.get("/api/cases", headers=bearer(token)).status_code == 401


def test_sessions_end_after_the_absolute_lifetime(app):  # type: ignore[no-untyped-def]
    c = client(app)
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    start = datetime.now(UTC)
    for hours in (*range(1, 12), 13):  # used every hour: never idle, still ends after 12 hours
        moment = start + timedelta(hours=hours)
        app.state.accounts.session_minutes = 24 * 60
        app.state.accounts.clock = lambda moment=moment: moment
        status = c.get("/api/cases", headers=bearer(token)).status_code
        assert status == (200 if hours < 12 else 401)


def test_name_search_goes_in_the_body_never_the_url(app):  # type: ignore[no-untyped-def]
    c = client(app)
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    made = c.post(
        "/api/cases",
        json={"sex": "female", "identity": {"given_name": "Ana", "family_name": "Lopez"}},
        headers=bearer(token),
    ).json()
    c.post("/api/cases", json={"sex": "male"}, headers=bearer(token))
    found = c.post("/api/cases/search", json={"name": "LOPEZ ana"}, headers=bearer(token)).json()
    assert [f["case_id"] for f in found] == [made["case_id"]]
    listing = client(app).get("/openapi.json").json()["paths"]["/api/cases"]["get"]
    assert "name" not in {p["name"] for p in listing["parameters"]}


def test_residence_region_moves_over_the_api(app):  # type: ignore[no-untyped-def]
    c = client(app)
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    case_id = c.post("/api/cases", json={"sex": "female"}, headers=bearer(token)).json()["case_id"]
    moved = c.post(f"/api/cases/{case_id}/transitions", headers=bearer(token),
                   json={"region": "residence", "to_state": "permit_requested"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["residence_state"] == "permit_requested"
    refused = c.post(f"/api/cases/{case_id}/transitions", headers=bearer(token),
                     json={"region": "residence", "to_state": "permit_granted"})
    assert refused.status_code == 409 and "reason" in refused.text  # a decision needs its reason
