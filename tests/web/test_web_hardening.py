"""Issue 20, item 9 (web): HSTS on every answer; a page logout ends the server session even
without its CSRF token (it used to drop only the cookie, leaving a copied token usable)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pages_support import add_user, build_app, make_settings, sign_in


def test_every_answer_asks_for_https_from_now_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(build_app(make_settings(tmp_path / "home")),
                        base_url="https://testserver")
    for path in ("/healthz", "/login", "/api/cases"):
        hsts = client.get(path).headers["strict-transport-security"]
        assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


def test_logout_without_csrf_token_ends_the_server_session(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    app = build_app(make_settings(tmp_path / "home", database_url))
    user = add_user(app, "cw-out", "caseworker", "ngo-a")
    client = TestClient(app, base_url="https://testserver")
    sign_in(client, user)
    token = client.cookies.get("ctip_session")
    assert token and client.get("/api/cases").status_code == 200
    out = client.post("/logout", data={}, follow_redirects=False)  # no csrf_token field
    assert out.status_code == 303
    copied = TestClient(app, base_url="https://testserver")
    refused = copied.get("/api/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401  # the session itself is gone, not just the cookie
