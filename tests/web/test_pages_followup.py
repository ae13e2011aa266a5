"""Follow-up pages: a coordinator opens a cycle and enters evidence (with a file: its SHA-256 is
kept), a reviewer accepts it (never their own), both read the score; others are refused."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = build_app(make_settings(tmp_path_factory.mktemp("followup") / "home"))
    users = {"coord": add_user(app, "cora.coord", "coordinator", "Rapporteur"),
             "rev": add_user(app, "rita.rev", "reviewer", "Rapporteur"),
             "cw": add_user(app, "carl.cw", "caseworker", "Agency A"),
             "fr": add_user(app, "fleur.coord", "coordinator", "Rapporteur")}
    clients = {}
    for key, user in users.items():
        client = TestClient(app)
        sign_in(client, user)
        clients[key] = client
    clients["fr"].get("/language/fr?next=/followup")  # a coordinator reading in French
    return clients


def test_enter_review_and_read_the_assessment(world) -> None:
    coord, rev = world["coord"], world["rev"]
    page = coord.get("/followup")
    assert page.status_code == 200 and "Open a review cycle" in page.text
    made = coord.post("/followup", data={"csrf_token": csrf_from(page.text), "country": "ALB",
                                         "period_start": "2025-01-01",
                                         "period_end": "2028-12-31", "kind": "quadrennial"},
                      follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/followup/ALB-2025-2028"
    cycle = coord.get("/followup/ALB-2025-2028")
    assert "Enter evidence" in cycle.text and "P12" in cycle.text
    content = b"National Action Plan 2025-2028"
    added = coord.post("/followup/ALB-2025-2028/evidence",
                       data={"csrf_token": csrf_from(cycle.text), "indicator": "NAP",
                             "value": "yes", "as_of": "2025-03-01", "citation": "NAP s. 4",
                             "source_kind": "policy", "grade": "A1"},
                       files={"file": ("nap.pdf", content, "application/pdf")},
                       follow_redirects=False)
    assert added.status_code == 303
    own = coord.get("/followup/ALB-2025-2028")
    assert hashlib.sha256(content).hexdigest()[:16] in own.text
    assert 'value="accept"' not in own.text  # the coordinator cannot review
    seen = rev.get("/followup/ALB-2025-2028")
    assert "Enter evidence" not in seen.text
    evidence_id = re.search(r"/review/([0-9a-f-]{36})", seen.text).group(1)
    done = rev.post(f"/followup/ALB-2025-2028/review/{evidence_id}",
                    data={"csrf_token": csrf_from(seen.text), "decision": "accept"},
                    follow_redirects=False)
    assert done.status_code == 303
    after = rev.get("/followup/ALB-2025-2028")
    assert "accepted" in after.text and "NAP=yes met" in after.text


def test_others_are_refused_and_forms_need_the_token(world) -> None:
    assert world["cw"].get("/followup").status_code == 403
    page = world["rev"].get("/followup")
    assert "Open a review cycle" not in page.text
    refused = world["rev"].post("/followup", data={"csrf_token": csrf_from(page.text),
                                                   "country": "ALB", "period_start": "2021-01-01",
                                                   "period_end": "2024-12-31"})
    assert refused.status_code == 403
    forged = world["coord"].post("/followup", data={"csrf_token": "nope", "country": "ALB",
                                                    "period_start": "2021-01-01",
                                                    "period_end": "2024-12-31"})
    assert forged.status_code == 403


def test_follow_up_refusals_are_shown_in_the_users_language(world) -> None:
    """The follow-up service's refusals reach a French coordinator in French, with the values
    they quote: a cycle that exists already (and its hint), a value a yes/no indicator cannot
    take, a cycle that does not exist."""
    from ctip.web.i18n import translations

    fr, client = translations("fr"), world["fr"]
    page = client.get("/followup")
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    form = {"csrf_token": csrf_from(page.text), "country": "MDA", "period_start": "2025-01-01",
            "period_end": "2028-12-31", "kind": "quadrennial"}
    assert client.post("/followup", data=form, follow_redirects=False).status_code == 303
    again = client.post("/followup", data=form)
    assert again.status_code == 409 and '<html lang="fr"' in again.text
    shown = html.unescape(again.text)
    exists = fr.gettext("cycle {cycle} exists already").format(cycle="'MDA-2025-2028'")
    hint = fr.gettext("give another id with --id, or use the existing cycle")
    assert exists == "le cycle 'MDA-2025-2028' existe déjà" and exists in shown
    assert hint in shown and "exists already" not in shown

    cycle = client.get("/followup/MDA-2025-2028")
    wrong = client.post("/followup/MDA-2025-2028/evidence", data={
        "csrf_token": csrf_from(cycle.text), "indicator": "NAP", "value": "maybe",
        "as_of": "2025-03-01", "citation": "NAP s. 4", "source_kind": "policy", "grade": "A1"})
    assert wrong.status_code == 422
    shown = html.unescape(wrong.text)
    assert fr.gettext("{code} is a yes/no indicator").format(code="NAP") in shown
    assert "NAP est un indicateur oui/non" in shown and "yes/no indicator" not in shown

    missing = client.get("/followup/ZZZ-1999-2000")
    assert missing.status_code == 404
    assert "aucun cycle de suivi 'ZZZ-1999-2000'" in html.unescape(missing.text)
