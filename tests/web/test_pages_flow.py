"""The intake-screen-refer-accept path through the pages, in process (FastAPI TestClient)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service


@pytest.fixture
def app(tmp_path, database_url):
    return build_app(make_settings(tmp_path / "home", database_url))


def _case_id(url: str) -> str:
    match = re.search(r"/cases/([0-9a-f-]{36})", url)
    assert match, url
    return match.group(1)


def test_intake_screen_refer_accept(app):
    a = add_user(app, "amina.cw", "caseworker", "Agency A")
    b = add_user(app, "bruno.cw", "caseworker", "Agency B")
    admin = Principal("setup", "setup", Role.ADMIN, "Agency B")
    app.state.casework.add_service(admin, Service("", "Agency B", "Shelter", "safe_accommodation"))
    with TestClient(app) as ca, TestClient(app) as cb:
        sign_in(ca, a)
        page = ca.get("/cases/new")
        assert page.status_code == 200
        created = ca.post(
            "/cases/new",
            data={
                "csrf_token": csrf_from(page.text),
                "sex": "female",
                "age": "16",
                "nationality": "NGA",
                "exploitation_forms": ["forced_labour"],
                "given_name": "Zainab",
                "family_name": "Secretname",
                "phone": "+234555000111",
                "languages": "en, ha",
            },
        )
        assert created.status_code == 200, created.text[:300]
        case_id = _case_id(str(created.url))
        assert "Zainab" not in created.text and "Secretname" not in created.text
        token = csrf_from(created.text)
        moved = ca.post(
            f"/cases/{case_id}/transition",
            data={
                "csrf_token": token,
                "region": "main",
                "target": "screening",
                "confirm": ["safe_setting", "interpreter_offered"],
                "version": "1",
            },
        )
        assert moved.status_code == 200 and "Screening" in moved.text
        screened = ca.post(
            f"/cases/{case_id}/screen",
            data={"csrf_token": token, "ind-EX-01": "yes", "ind-EX-04": "yes", "ind-CD-01": "yes"},
        )
        assert screened.status_code == 200
        assert 'id="suggested-status"' in screened.text and "Presumed victim" in screened.text
        ca.post(
            f"/cases/{case_id}/transition",
            data={
                "csrf_token": token,
                "region": "main",
                "target": "presumed_victim",
                "reason": "Excessive hours, withheld documents",
            },
        )
        referred = ca.post(
            f"/cases/{case_id}/referrals",
            data={
                "csrf_token": token,
                "to_agency": "Agency B",
                "purpose": "service",
                "share": ["given_name"],
            },
        )
        assert referred.status_code == 200, referred.text[:500]
        assert "Agency B" in referred.text

        sign_in(cb, b)
        inbox = cb.get("/referrals")
        assert case_id in inbox.text
        ref_id = re.search(r'id="ref-([0-9a-f-]{36})"', inbox.text).group(1)
        accepted = cb.post(
            f"/referrals/{ref_id}", data={"csrf_token": csrf_from(inbox.text), "decision": "accept"}
        )
        assert accepted.status_code == 200
        seen = cb.get(f"/cases/{case_id}")
        assert seen.status_code == 200 and "Zainab" not in seen.text
        revealed = cb.post(
            f"/cases/{case_id}/reveal",
            data={"csrf_token": csrf_from(seen.text), "reason": "arranging the shelter place"},
        )
        assert "Zainab" in revealed.text
        assert "Secretname" not in revealed.text and "234555000111" not in revealed.text
        log = ca.get(f"/cases/{case_id}")
        assert "bruno.cw" in log.text  # who viewed this record
