"""Account pages: users (administrators, their agency only), my account (password, TOTP with a QR
code), the reused-code hint at sign-in; every route refused to the roles and agencies it is not
for (role x action x agency), and CSRF on every form."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from fastapi.testclient import TestClient
from pages_support import PASSWORD, add_user, build_app, csrf_from, make_settings, sign_in

from ctip.domain.access import Role


@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    app = build_app(make_settings(tmp_path_factory.mktemp("accounts") / "home"))
    users = {
        "admin_a": add_user(app, "adm.a", "admin", "Agency A"),
        "admin_b": add_user(app, "adm.b", "admin", "Agency B"),
        "national": add_user(app, "nat.admin", "national_admin", "Ministry"),
        "cw_a": add_user(app, "cw.a", "caseworker", "Agency A"),
        "sup_a": add_user(app, "sup.a", "supervisor", "Agency A"),
        "cw_b": add_user(app, "cw.b", "caseworker", "Agency B"),
    }
    add_user(app, "tgt.b", "caseworker", "Agency B")  # what the matrix changes; never signed in
    clients = {}
    for key, user in users.items():
        client = TestClient(app)
        sign_in(client, user)
        clients[key] = client
    return app, users, clients


def _post(client: TestClient, path: str, data: dict, page: str = "/account"):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


# route x who -> expected status (written out by hand, not derived from the code under test);
# "ok" = 200 or a 303 back to the page. Changes target tgt.b (agency B); a creation by an
# administrator of A lands in A whatever the form says (checked below).
ROUTES = ("users_page", "user_create", "user_unlock", "user_deactivate", "user_role",
          "user_totp", "account_page")
EXPECTED = {
    "admin_a": {"users_page": "ok", "user_create": "ok", "user_unlock": 404,
                "user_deactivate": 404, "user_role": 404, "user_totp": 404, "account_page": "ok"},
    "admin_b": {"users_page": "ok", "user_create": "ok", "user_unlock": "ok",
                "user_deactivate": "ok", "user_role": "ok", "user_totp": "ok",
                "account_page": "ok"},
    "national": {"users_page": "ok", "user_create": "ok", "user_unlock": "ok",
                 "user_deactivate": "ok", "user_role": "ok", "user_totp": "ok",
                 "account_page": "ok"},
    "cw_a": {r: 403 for r in ROUTES} | {"account_page": "ok"},
    "sup_a": {r: 403 for r in ROUTES} | {"account_page": "ok"},
    "cw_b": {r: 403 for r in ROUTES} | {"account_page": "ok"},
}


def _call(client: TestClient, route: str, n: int):  # type: ignore[no-untyped-def]
    if route == "users_page":
        return client.get("/users")
    if route == "account_page":
        return client.get("/account")
    if route == "user_create":
        return _post(client, "/users", {"username": f"new.b{n}", "role": "caseworker",
                                        "agency": "Agency B", "password": PASSWORD})
    change = {"user_unlock": "unlock", "user_deactivate": "deactivate", "user_role": "role",
              "user_totp": "totp"}
    return _post(client, f"/users/tgt.b/{change[route]}", {"role": "caseworker"})


@pytest.mark.parametrize("who", list(EXPECTED))
def test_matrix_of_account_routes(world, who):  # type: ignore[no-untyped-def]
    app, users, clients = world
    client = clients[who]
    for n, route in enumerate(ROUTES):
        got = _call(client, route, n + 100 * list(EXPECTED).index(who))
        want = EXPECTED[who][route]
        cell = f"{who} {route}: {got.status_code} {got.text[:300]}"
        if want == "ok":
            assert got.status_code in (200, 303), cell
        else:
            assert got.status_code == want, cell
        if route == "user_totp" and want == "ok":
            assert "<svg" in got.text and "otpauth://totp/" in got.text, cell
        if route == "user_deactivate" and want == "ok":
            app.state.accounts.set_active(None, "tgt.b", True)  # for the next row
    if who == "admin_a":  # the admin of A created nobody in B: the agency is fixed to A
        assert app.state.accounts.principal_for("new.b1").agency == "Agency A"
        listed = client.get("/users").text
        assert "cw.b" not in listed and "adm.b" not in listed and "cw.a" in listed


def test_forms_refuse_a_missing_csrf_token(world):  # type: ignore[no-untyped-def]
    _, _, clients = world
    for path in ("/users", "/users/cw.a/unlock", "/account/password", "/account/totp"):
        got = clients["admin_a"].post(path, data={"password": PASSWORD}, follow_redirects=False)
        assert got.status_code == 403, path


def test_admin_creates_a_user_who_gets_a_qr_code(world):  # type: ignore[no-untyped-def]
    app, _, clients = world
    page = _post(clients["admin_a"], "/users", {"username": "fresh.a", "role": "supervisor",
                                                "password": PASSWORD, "agency": "Agency B"},
                 page="/users")
    assert page.status_code == 200
    assert "<svg" in page.text and "otpauth://totp/" in page.text
    assert app.state.accounts.principal_for("fresh.a").agency == "Agency A"  # not the form's B
    assert app.state.accounts.principal_for("fresh.a").role is Role.SUPERVISOR
    bad = _post(clients["admin_a"], "/users", {"username": "Bad Name", "role": "caseworker",
                                               "password": PASSWORD}, page="/users")
    assert bad.status_code == 422 and "lower-case" in bad.text
    grant = _post(clients["admin_a"], "/users", {"username": "nat2", "role": "national_admin",
                                                 "password": PASSWORD}, page="/users")
    assert grant.status_code == 403
    assert 'value="national_admin"' not in clients["admin_a"].get("/users").text
    assert 'value="national_admin"' in clients["national"].get("/users").text


def test_password_change_and_totp_re_enrolment(world):  # type: ignore[no-untyped-def]
    app, _, _ = world
    me = add_user(app, "self.service", "caseworker", "Agency A")
    client = TestClient(app)
    sign_in(client, me)
    mismatch = _post(client, "/account/password", {"current_password": PASSWORD,
                                                   "new_password": "another long phrase",
                                                   "new_password_again": "something else"})
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    wrong = _post(client, "/account/password", {"current_password": "nope",
                                                "new_password": "another long phrase",
                                                "new_password_again": "another long phrase"})
    assert wrong.status_code == 422 and "current password is wrong" in wrong.text
    done = _post(client, "/account/password", {"current_password": PASSWORD,
                                               "new_password": "another long phrase",
                                               "new_password_again": "another long phrase"})
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert "Your password is changed" in client.get("/account?done=password").text  # signed in
    step1 = _post(client, "/account/totp", {"password": "another long phrase"})
    assert step1.status_code == 200 and "<svg" in step1.text
    uri = re.search(r'id="totp-uri">([^<]+)<', step1.text).group(1).replace("&amp;", "&")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert secret != me.totp_secret
    token = re.search(r'name="token" value="([^"]+)"', step1.text).group(1)
    csrf = csrf_from(step1.text)
    retry = client.post("/account/totp/confirm", data={"csrf_token": csrf, "token": token,
                                                       "code": "12345x"})
    assert retry.status_code == 422 and "<svg" in retry.text  # the same QR code again
    confirmed = client.post("/account/totp/confirm", follow_redirects=False, data={
        "csrf_token": csrf, "token": token, "code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 303
    assert "Codes from the old one no longer work" in client.get("/account?done=totp").text


def test_a_reused_code_gets_the_wait_hint(world):  # type: ignore[no-untyped-def]
    app, _, _ = world
    user = add_user(app, "reuse.me", "caseworker", "Agency A")
    client = TestClient(app)
    code = user.code()
    for attempt in range(2):
        page = client.get("/login")
        got = client.post("/login", follow_redirects=False, data={
            "username": user.username, "password": PASSWORD, "code": code,
            "csrf_token": csrf_from(page.text)})
        if attempt == 0 and got.status_code == 401:  # the step turned between get and post
            time.sleep(1)
            continue
        if attempt == 0:
            assert got.status_code == 303
            client.cookies.clear()
        else:
            assert got.status_code == 401 and "already used" in got.text
            assert "does not count" in got.text


@pytest.mark.parametrize(("code", "direction", "heading"), [
    ("ar", "rtl", "حسابي"), ("zh", "ltr", "我的账户"), ("ru", "ltr", "Моя учётная запись"),
    ("fr", "ltr", "Mon compte"), ("es", "ltr", "Mi cuenta"), ("en", "ltr", "My account"),
])
def test_account_page_in_every_language(world, code, direction, heading):  # type: ignore[no-untyped-def]
    _, _, clients = world
    client = clients["cw_a"]
    client.get(f"/language/{code}")
    try:
        page = client.get("/account").text
    finally:
        client.cookies.delete("ctip_lang")
    assert f'<html lang="{code}" dir="{direction}">' in page
    assert f"<h1>{heading}</h1>" in page
