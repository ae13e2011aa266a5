"""Set-up shared by the API tests: an app over a fresh home, users of every role, bearer logins."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from ctip.services.accounts import Accounts
from ctip.services.casework import Casework
from ctip.services.home import init_home
from ctip.settings import Settings
from ctip.web.app import create_app

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = secrets.token_urlsafe(16)  # throwaway users in a throwaway database
ROLES = ("admin", "supervisor", "caseworker", "competent_authority", "analyst", "auditor")


def make_app(home: Path, database_url: str | None = None):  # type: ignore[no-untyped-def]
    """The real app factory; a cheaper argon2 setting keeps dozens of test logins fast."""
    settings = Settings(home=home, database_url=database_url)
    init_home(settings)
    cw = Casework.open(settings)
    accounts = Accounts(
        cw.engine, cw.sealer, cw.audit, session_minutes=settings.session_timeout_minutes,
        hasher=FAST_HASHER
    )
    return create_app(settings, casework=cw, accounts=accounts)


def client(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="https://testserver")


def add_user(app, username: str, role: str, agency: str) -> str:  # type: ignore[no-untyped-def]
    """Create a user; returns the TOTP secret."""
    new = app.state.accounts.add_user(None, username, PASSWORD, role=role, agency=agency)
    return parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]


def login(c: TestClient, username: str, secret: str) -> dict:
    r = c.post(
        "/api/session",
        json={"username": username, "password": PASSWORD, "code": pyotp.TOTP(secret).now()},
    )
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
