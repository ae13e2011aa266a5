"""Shared set-up for the page tests: an app over a fresh ctip home, users with TOTP, sign-in.

Kept in a plain module (not conftest) so the browser test and the benchmark can reuse it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp

from ctip.services.home import init_home
from ctip.settings import Settings

PASSWORD = secrets.token_urlsafe(16)  # throwaway users in a throwaway database


@dataclass(frozen=True)
class TestUser:
    username: str
    role: str
    agency: str
    totp_secret: str

    def code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()


def make_settings(home: Path, database_url: str | None = None) -> Settings:
    settings = Settings(home=home, database_url=database_url)
    init_home(settings)
    return settings


def build_app(settings: Settings):  # type: ignore[no-untyped-def]
    from ctip.web.app import create_app

    return create_app(settings)


def add_user(app, username: str, role: str, agency: str) -> TestUser:  # type: ignore[no-untyped-def]
    new = app.state.accounts.add_user(None, username, PASSWORD, role=role, agency=agency)
    secret = parse_qs(urlparse(new.otpauth_uri).query)["secret"][0]
    return TestUser(username, role, agency, secret)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client, user: TestUser) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": PASSWORD,
            "code": user.code(),
            "csrf_token": csrf_from(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
