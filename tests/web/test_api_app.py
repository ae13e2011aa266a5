"""The app factory: nothing built at import, NRM timers run while the app runs, errors as JSON."""

from __future__ import annotations

import importlib
import sys
import time
from datetime import UTC, datetime, timedelta

from api_support import add_user, bearer, client, login, make_app
from fastapi.testclient import TestClient

from ctip.services.casework import CaseIntake


def test_importing_the_app_builds_nothing(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CTIP_HOME", str(tmp_path / "never"))
    sys.modules.pop("ctip.web.app", None)
    importlib.import_module("ctip.web.app")
    assert not (tmp_path / "never").exists()


def test_timers_create_review_tasks_while_serving(tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path / "home")
    token = login(client(app), "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    cw = app.state.casework
    me = app.state.accounts.principal_for("cw-a")
    case = cw.create_case(me, CaseIntake(sex="female", age=30))
    cw.transition(
        me,
        case.case_id,
        to_state="screening",
        confirmations=("safe_setting", "interpreter_offered"),
    )
    cw.transition(me, case.case_id, to_state="presumed_victim", reason="indicators")
    cw.transition(me, case.case_id, to_state="consent_pending")
    cw.clock = lambda: datetime.now(UTC) + timedelta(days=15)
    with TestClient(
        app, base_url="https://testserver"
    ) as c:  # runs the lifespan: the first timer run starts with the server, in the background
        deadline = time.monotonic() + 30
        while not (tasks := c.get("/api/tasks", headers=bearer(token)).json()):
            assert time.monotonic() < deadline, "no review task 30 s after the server started"
            time.sleep(0.05)
        assert [t["kind"] for t in tasks] == ["follow_up_consent"]
        assert (
            c.get(f"/api/cases/{case.case_id}", headers=bearer(token)).json()["status"]
            == "consent_pending"
        )


def test_errors_are_json_with_a_hint(tmp_path):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path / "home")
    c = client(app)
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    made = c.post(
        "/api/cases",
        json={"sex": "female", "exploitation_forms": ["juggling"]},
        headers=bearer(token),
    )
    assert made.status_code == 422
    body = made.json()
    assert body["error"] == "ValidationError" and "exploitation_forms" in body["message"]
    assert "allowed" in body["message"]


def test_referral_to_an_agency_not_in_the_directory_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    """The API takes the receiving agency as text; one the service directory does not list is
    refused with a 422 that names the field, before anything is shared."""
    app = make_app(tmp_path / "home")
    c = client(app)
    admin = login(c, "admin-a", add_user(app, "admin-a", "admin", "A"))["token"]
    listed = c.post("/api/services", headers=bearer(admin), json={
        "agency": "Agency B", "name": "Shelter", "service_type": "safe_accommodation"})
    assert listed.status_code == 201, listed.text
    token = login(c, "cw-a", add_user(app, "cw-a", "caseworker", "A"))["token"]
    case = c.post("/api/cases", json={"sex": "female", "age": 15}, headers=bearer(token)).json()
    url = f"/api/cases/{case['case_id']}/referrals"
    typo = c.post(url, json={"to_agency": "Agency  B"}, headers=bearer(token))
    assert typo.status_code == 422
    body = typo.json()
    assert body["error"] == "ValidationError" and "'to_agency'" in body["message"]
    assert "not in the service directory" in body["message"] and "Agency B" in body["message"]
    assert body["hint"] and "directory" in body["hint"]
    assert c.get(url, headers=bearer(token)).json() == []
    sent = c.post(url, json={"to_agency": "Agency B"}, headers=bearer(token))
    assert sent.status_code == 201 and sent.json()["to_agency"] == "Agency B"
