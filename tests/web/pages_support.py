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


def signed_in_clients(app, roles, agencies) -> dict:  # type: ignore[no-untyped-def]
    """One signed-in client per (role, agency), for the role x agency matrices."""
    from fastapi.testclient import TestClient

    clients = {}
    for agency in agencies:
        for role in roles:
            client = TestClient(app)
            sign_in(client, add_user(app, f"{role.replace('_', '-')}-{agency.lower()}", role,
                                     agency))
            clients[(role, agency)] = client
    return clients


def linkage_run(settings) -> list[str]:
    """Four victim records and a linkage run with two borderline pairs (the first pair's dates
    of birth agree, the second's disagree); returns the four victim ids in that order."""
    from ctip import storage
    from ctip.domain.records import Identity, VictimRecord
    from ctip.storage import linkage as ltables

    store = storage.open(settings)
    records = store.records(actor="tester")
    batch = records.start_batch(source_file="x.csv", file_sha256=None, profile="canonical",
                                agency="ngo-a")
    people = [("Mara", "Voss", "1990-04-01"), ("Mara", "Vos", "1990-04"),
              ("Ilya", "Petrov", "1985-01-01"), ("Ilia", "Petrov", "1987-06-01")]
    recs = [VictimRecord(source_record_id=f"r{i}", agency="ngo-a",
                         identity=Identity(given_name=g, family_name=f, date_of_birth=d))
            for i, (g, f, d) in enumerate(people)]
    records.add_victims(batch, recs)
    records.finish_batch(batch, read=4, accepted=4, rejected=0)
    ids = sorted(records.victim_ids())
    by_name = {}
    for vid, ident in records.identities(ids, actor="tester", reason="test set-up").items():
        by_name[ident.family_name + ident.date_of_birth] = vid
    v = [by_name["Voss1990-04-01"], by_name["Vos1990-04"], by_name["Petrov1985-01-01"],
         by_name["Petrov1987-06-01"]]
    with store.engine.begin() as conn:
        ltables.save_run(conn, actor="tester", lists_by="agency", engine="duckdb",
                         match_threshold=0.95, review_threshold=0.5,
                         clusters=[(x, f"c{i}") for i, x in enumerate(v)],
                         reviews=[(v[0], v[1], 0.91), (v[2], v[3], 0.62)], model=None)
    store.close()
    return v
