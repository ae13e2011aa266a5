"""Where each role lands after signing in: a page of its own menu that it may open (an
investigator on a review queue, not on case pages its role cannot open)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, make_settings, sign_in


@pytest.mark.parametrize("role, agency", [
    ("caseworker", "NGO"), ("supervisor", "NGO"), ("competent_authority", "NGO"),
    ("analyst", "Stats"), ("auditor", "DPO"), ("admin", "-"), ("investigator", "FIU"),
])
def test_every_role_lands_on_a_page_it_may_open(tmp_path, role: str, agency: str) -> None:
    app = build_app(make_settings(tmp_path / "home"))
    user = add_user(app, f"user.{role}", role, agency)
    client = TestClient(app)
    sign_in(client, user)
    landing = client.get("/", follow_redirects=False)
    assert landing.status_code in (302, 303, 307)
    page = client.get(landing.headers["location"])
    assert page.status_code == 200, (role, landing.headers["location"])
    if role == "investigator":
        assert landing.headers["location"] != "/cases"


def test_the_audit_log_page_shows_newest_entries_and_is_auditors_only(tmp_path) -> None:
    app = build_app(make_settings(tmp_path / "home"))
    auditor = add_user(app, "user.auditor", "auditor", "DPO")
    worker = add_user(app, "user.worker", "caseworker", "NGO")
    client = TestClient(app)
    sign_in(client, worker)
    assert client.get("/audit-log").status_code == 403
    client.cookies.clear()
    sign_in(client, auditor)
    page = client.get("/audit-log")
    assert page.status_code == 200
    assert "verifies" in page.text
    # the worker's sign-in is in the log, newest first: the latest (the auditor's own) on top
    rows = page.text.split("<tbody>")[1]
    assert rows.index("user.auditor") < rows.index("user.worker")
    filtered = client.get("/audit-log", params={"action": "no.such.action"})
    assert "No entries match" in filtered.text
