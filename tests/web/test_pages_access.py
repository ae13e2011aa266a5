"""Pages: who sees what, refusals that leak nothing, CSRF, conflicts, language, local assets."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app with users of two agencies and one case of agency A (module-wide: argon2 is slow)."""
    app = build_app(make_settings(tmp_path_factory.mktemp("pages") / "home"))
    users = {
        "a": add_user(app, "ana.cw", "caseworker", "Agency A"),
        "b": add_user(app, "ben.cw", "caseworker", "Agency B"),
        "analyst": add_user(app, "ali.analyst", "analyst", "Agency A"),
        "auditor": add_user(app, "aud.auditor", "auditor", "Agency A"),
        "sup": add_user(app, "sue.sup", "supervisor", "Agency A"),
        "c": add_user(app, "cai.cw", "caseworker", "Agency C"),
    }
    clients = {}
    for key, user in users.items():
        client = TestClient(app)
        sign_in(client, user)
        clients[key] = client
    page = clients["a"].get("/cases/new")
    created = clients["a"].post(
        "/cases/new",
        data={
            "csrf_token": csrf_from(page.text),
            "sex": "male",
            "age": "31",
            "given_name": "Tomasz",
            "family_name": "Quietname",
            "phone": "+48111222333",
        },
    )
    case_id = re.search(r"/cases/([0-9a-f-]{36})", str(created.url)).group(1)
    return app, clients, case_id


def test_anonymous_visitor_is_sent_to_sign_in(world):
    app, _, case_id = world
    with TestClient(app) as anon:
        response = anon.get(f"/cases/{case_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/cases/")


def test_other_agency_gets_the_same_answer_as_for_a_missing_case(world):
    _, clients, case_id = world
    theirs = clients["b"].get(f"/cases/{case_id}")
    missing = clients["b"].get(f"/cases/{uuid.uuid4()}")
    assert theirs.status_code == missing.status_code == 404
    strip = lambda html: re.sub(r"[0-9a-f-]{36}|csrf_token\" value=\"[^\"]+", "", html)  # noqa: E731
    assert strip(theirs.text) == strip(missing.text)  # nothing tells the case exists
    assert "Tomasz" not in theirs.text and "Agency A" not in theirs.text
    assert case_id not in clients["b"].get("/cases").text


def test_roles_without_case_access_are_refused(world):
    _, clients, case_id = world
    for role in ("analyst", "auditor"):
        response = clients[role].get(f"/cases/{case_id}")
        assert response.status_code == 403, role
        assert "Tomasz" not in response.text
        assert clients[role].get("/cases").status_code == 403
    assert clients["auditor"].get("/dashboard").status_code == 403


def test_identity_hidden_until_a_reason_is_given(world):
    _, clients, case_id = world
    page = clients["a"].get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert (
        "Tomasz" not in page.text
        and "Quietname" not in page.text
        and "48111222333" not in page.text
    )
    empty = clients["a"].post(
        f"/cases/{case_id}/reveal", data={"csrf_token": csrf_from(page.text), "reason": ""}
    )
    assert empty.status_code == 422 and "Tomasz" not in empty.text
    assert 'aria-invalid="true"' in empty.text
    shown = clients["a"].post(
        f"/cases/{case_id}/reveal",
        data={"csrf_token": csrf_from(page.text), "reason": "calling back about shelter"},
    )
    assert "Tomasz" in shown.text and "Quietname" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    log = clients["a"].get(f"/cases/{case_id}").text
    assert "opened the identity" in log


def test_forms_without_the_csrf_token_are_refused(world):
    _, clients, case_id = world
    response = clients["a"].post(
        f"/cases/{case_id}/reveal", data={"reason": "no token here at all"}
    )
    assert response.status_code == 403 and "Tomasz" not in response.text
    response = clients["a"].post("/cases/new", data={"csrf_token": "forged", "sex": "male"})
    assert response.status_code == 403


def test_a_stale_version_is_a_conflict_not_an_overwrite(world):
    _, clients, case_id = world
    page = clients["a"].get(f"/cases/{case_id}")
    token = csrf_from(page.text)
    version = int(re.search(r'name="version" value="(\d+)"', page.text).group(1))
    step = {
        "csrf_token": token,
        "region": "main",
        "target": "screening",
        "confirm": ["safe_setting", "interpreter_offered"],
        "version": str(version),
    }
    assert clients["a"].post(f"/cases/{case_id}/transition", data=step).status_code == 200
    stale = clients["a"].post(
        f"/cases/{case_id}/transition",
        data={
            "csrf_token": token,
            "region": "justice",
            "target": "informed_of_rights",
            "version": str(version),
        },
    )
    assert stale.status_code == 409
    assert 'id="conflict"' in stale.text


def test_intake_errors_are_shown_next_to_the_field_and_input_is_kept(world):
    _, clients, _ = world
    page = clients["a"].get("/cases/new")
    response = clients["a"].post(
        "/cases/new",
        data={
            "csrf_token": csrf_from(page.text),
            "age": "two hundred",
            "date_of_birth": "sometime in 1990",  # 31/12/1990 is read in the locale
            "given_name": "Keepme",
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="f-age-error"' in html and 'id="f-date_of_birth-error"' in html
    assert 'aria-describedby="f-age-hint f-age-error"' in html
    assert 'value="Keepme"' in html and 'value="two hundred"' in html


def test_language_from_browser_or_choice(world):
    _, clients, _ = world
    fr = clients["a"].get("/cases", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="fr" dir="ltr">' in fr.text and "Dossiers" in fr.text
    chosen = clients["a"].get(
        "/language/es?next=/cases", follow_redirects=True, headers={"Accept-Language": "fr"}
    )
    assert '<html lang="es" dir="ltr">' in chosen.text and "Casos" in chosen.text
    clients["a"].cookies.delete("ctip_lang")


def test_every_asset_is_served_locally(world):
    _, clients, case_id = world
    html = clients["a"].get(f"/cases/{case_id}").text + clients["a"].get("/dashboard").text
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
    htmx = clients["a"].get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "Zero-Clause BSD" in htmx.text[:600]
    assert clients["a"].get("/static/ctip.css").status_code == 200


def test_referral_inbox_and_directory_render(world):
    app, clients, _ = world
    assert clients["b"].get("/referrals").status_code == 200
    directory = clients["a"].get("/directory")
    assert directory.status_code == 200 and "Service directory" in directory.text
    dash = clients["a"].get("/dashboard")
    assert dash.status_code == 200 and 'role="img"' in dash.text


def test_emergency_access_needs_a_justification_and_is_reviewed(world):
    _, clients, case_id = world
    refused = clients["c"].get(f"/cases/{case_id}")
    assert refused.status_code == 404 and "/emergency?case_id=" in refused.text
    form = clients["c"].get(f"/emergency?case_id={case_id}")
    token = csrf_from(form.text)
    short = clients["c"].post("/emergency", data={"csrf_token": token, "case_id": case_id,
                                                  "justification": "urgent"})
    assert short.status_code == 422 and 'id="f-justification-error"' in short.text
    granted = clients["c"].post("/emergency", data={
        "csrf_token": token, "case_id": case_id,
        "justification": "Hospital called: the person is in danger tonight and needs a shelter"})
    assert granted.status_code == 200 and "emergency access" in granted.text
    assert "Tomasz" not in granted.text  # break-glass opens the case, identity still needs a reason
    reviews = clients["sup"].get("/emergency/reviews")
    assert "Hospital called" in reviews.text
    grant_id = re.search(r"/emergency/reviews/([0-9a-f-]{36})", reviews.text).group(1)
    done = clients["sup"].post(f"/emergency/reviews/{grant_id}",
                               data={"csrf_token": csrf_from(reviews.text), "outcome": "justified"})
    assert done.status_code == 200 and grant_id not in done.text
    assert clients["a"].get("/emergency/reviews").status_code == 403  # caseworkers do not review


def test_search_by_exact_name_without_decrypting(world):
    _, clients, case_id = world

    def search(client, name):
        page = client.get("/cases")
        assert 'method="post"' in page.text and "hx-push-url" not in page.text
        return client.post("/cases", data={"csrf_token": csrf_from(page.text), "name": name})

    found = search(clients["a"], "tomasz  QUIETNAME")
    assert found.status_code == 200 and case_id.split("-")[0] in found.text
    assert "Tomasz" not in found.text  # the list never shows names
    partial = search(clients["a"], "Tomasz")
    assert case_id.split("-")[0] not in partial.text
    other = search(clients["b"], "Tomasz Quietname")
    assert case_id.split("-")[0] not in other.text  # another agency finds nothing
    # a name never travels in a URL: the query string does not search by name at all
    by_url = clients["a"].get("/cases", params={"name": "Nobody Atall"})
    assert case_id.split("-")[0] in by_url.text  # the name was ignored, not matched
    forged = clients["a"].post("/cases", data={"name": "Tomasz Quietname"})
    assert forged.status_code == 403  # no CSRF token, no search


def test_residence_region_on_the_case_page(world):
    """The owner sees the permit track and moves it through the page; in French too."""
    _, clients, case_id = world
    page = clients["a"].get(f"/cases/{case_id}")
    assert "Residence (migrants)" in page.text and "Residence permit requested" in page.text
    moved = clients["a"].post(
        f"/cases/{case_id}/transition",
        data={"csrf_token": csrf_from(page.text), "region": "residence",
              "target": "permit_requested",
              "version": re.search(r'name="version" value="(\d+)"', page.text).group(1)},
    )
    assert moved.status_code == 200
    assert "Residence permit requested" in moved.text.split("<h2")[1]  # now the region's state
    fr = clients["a"].get(f"/cases/{case_id}", headers={"Accept-Language": "fr"})
    assert "Séjour (personnes migrantes)" in fr.text and "Titre de séjour demandé" in fr.text


def test_a_date_of_birth_is_read_in_the_users_locale(world):
    """en-GB reads 12/2/96 as 12 February; en-US as 2 December; the case stores ISO."""
    app, clients, _ = world
    for header, expected in (("en-GB,en;q=0.9", "1996-02-12"), ("en-US,en;q=0.9", "1996-12-02")):
        page = clients["a"].get("/cases/new", headers={"Accept-Language": header})
        created = clients["a"].post(
            "/cases/new",
            headers={"Accept-Language": header},
            data={"csrf_token": csrf_from(page.text), "sex": "female", "date_of_birth": "12/2/96",
                  "given_name": "Dated"},
        )
        assert created.status_code == 200, created.text[:300]
        case_id = re.search(r"/cases/([0-9a-f-]{36})", str(created.url)).group(1)
        owner = app.state.accounts.principal_for("ana.cw")
        identity = app.state.casework.reveal_identity(owner, case_id, reason="checking the date")
        assert identity["date_of_birth"] == expected, header
