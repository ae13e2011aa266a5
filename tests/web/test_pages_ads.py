"""The screened-ads pages: the ranked queue with the JIRN caveat, one ad with marked spans and
no identifier in clear, a decision through the form, networks of posters; roles and agencies."""

from __future__ import annotations

import csv
import re

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in

from ctip.ads.synthetic import rows

PHONE = "+855 96 777 1234"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adpages")
    app = build_app(make_settings(tmp / "home"))
    data = list(rows(120, seed=21))
    data[0].update(title="Typing job in Bavet", contact=f"WhatsApp {PHONE}", company="")
    data[1].update(title="Game Tester", contact=f"Call {PHONE}", company="Lucky Star")
    path = tmp / "ads.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    from ctip.services.ads import AdScreening

    AdScreening.of(app.state.casework).screen(path, agency="Agency A", actor="test")
    users = {"inv": add_user(app, "ines.inv", "investigator", "Agency A"),
             "other": add_user(app, "olga.inv", "investigator", "Agency B"),
             "cw": add_user(app, "carl.cw", "caseworker", "Agency A")}
    clients = {}
    for key, user in users.items():
        clients[key] = TestClient(app)
        sign_in(clients[key], user)
    return app, clients


def test_queue_is_ranked_with_the_caveat_and_in_the_menu(world) -> None:
    _, clients = world
    page = clients["inv"].get("/ads")
    assert page.status_code == 200
    assert "Indicators are hypotheses" in page.text and "JIRN" in page.text
    assert 'href="/ads"' in page.text  # in the navigation
    scores = [float(s) for s in re.findall(r"<td>(\d\.\d\d)<br>", page.text)]
    assert scores and scores == sorted(scores, reverse=True)
    assert "Typing job in Bavet" in page.text


def test_one_ad_marks_spans_hides_the_phone_and_takes_a_decision(world) -> None:
    _, clients = world
    client = clients["inv"]
    queue = client.get("/ads").text
    link = re.search(r'href="(/ads/[0-9a-f-]{36})">Typing job in Bavet', queue).group(1)
    page = client.get(link)
    assert page.status_code == 200
    assert '<mark class="hit"' in page.text and "R07" in page.text
    assert "777 1234" not in page.text and "[phone \u00b7" in page.text
    missing_reason = client.post(link + "/decide", data={"csrf_token": csrf_from(page.text),
                                                          "decision": "escalate"})
    assert missing_reason.status_code == 200 and "needs a written reason" in missing_reason.text
    no_csrf = client.post(link + "/decide", data={"decision": "risky"})
    assert no_csrf.status_code == 403
    done = client.post(link + "/decide", data={"csrf_token": csrf_from(page.text),
                                               "decision": "risky"}, follow_redirects=False)
    assert done.status_code == 303
    assert "risky" in client.get(link).text
    assert clients["other"].get(link).status_code == 404
    assert clients["cw"].get(link).status_code in (403, 404)


def test_networks_page_and_roles(world) -> None:
    _, clients = world
    page = clients["inv"].get("/ads/clusters")
    assert page.status_code == 200 and "Lucky Star" in page.text
    assert "777 1234" not in page.text
    assert clients["cw"].get("/ads").status_code == 403
    assert 'href="/ads"' not in clients["cw"].get("/cases").text
    french = clients["inv"].get("/ads", headers={"accept-language": "fr"})
    assert "Les indicateurs sont des hypothèses" in french.text
