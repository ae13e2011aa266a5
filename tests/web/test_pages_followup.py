"""Follow-up pages: a coordinator opens a cycle and enters evidence (with a file: its SHA-256 is
kept), a reviewer accepts it (never their own), both read the score; others are refused."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = build_app(make_settings(tmp_path_factory.mktemp("followup") / "home"))
    users = {"coord": add_user(app, "cora.coord", "coordinator", "Rapporteur"),
             "rev": add_user(app, "rita.rev", "reviewer", "Rapporteur"),
             "cw": add_user(app, "carl.cw", "caseworker", "Agency A")}
    clients = {}
    for key, user in users.items():
        client = TestClient(app)
        sign_in(client, user)
        clients[key] = client
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
