"""Set-up shared by the API tests: an app over a fresh home, users of every role, bearer logins."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
from fastapi.testclient import TestClient

from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.web.app import create_app

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "supervisor", "caseworker", "competent_authority", "analyst", "auditor")


def make_app(home: Path, database_url: str | None = None):  # type: ignore[no-untyped-def]
    settings = Settings(home=home, database_url=database_url)
    init_home(settings)
    return create_app(settings)


def client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="https://testserver")


def add_user(app, username: str, role: str, agency: str) -> str:  # type: ignore[no-untyped-def]
    """Create a user; returns the TOTP secret."""
    new = app.state.accounts.add_user(None, username, PASSWORD, role=role, agency=agency)
    return parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]


def login(c: TestClient, username: str, secret: str) -> dict:
    r = c.post("/api/session", json={"username": username, "password": PASSWORD,
                                      "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
