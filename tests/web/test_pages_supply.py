"""The due-diligence pages: the ranked queue with the caveat and list versions, one item with
its reasons and the decision form; other agencies and roles see nothing."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in

LEDGER = ("supplier,country,product,hs_code,value,date\n"
          "Delta Polysilicon,CN,,280461,500,2024-02-01\n"
          "Cocoa Trading,GH,cocoa beans,,12,2024-03-01\n")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("supplypages")
    app = build_app(make_settings(tmp / "home"))
    (tmp / "p.csv").write_text(LEDGER)
    from ctip.services.supply import SupplyChains

    SupplyChains.of(app.state.casework).screen(tmp / "p.csv", agency="Agency A", actor="test")
    users = {"inv": add_user(app, "ines.inv", "investigator", "Agency A"),
             "other": add_user(app, "olga.inv", "investigator", "Agency B"),
             "cw": add_user(app, "carl.cw", "caseworker", "Agency A"),
             "fr": add_user(app, "flore.inv", "investigator", "Agency A")}
    clients = {}
    for key, user in users.items():
        clients[key] = TestClient(app)
        sign_in(clients[key], user)
    clients["fr"].get("/language/fr?next=/supply")  # an investigator reading in French
    return app, clients


def test_queue_shows_caveat_versions_and_decides(world) -> None:
    _, clients = world
    page = clients["inv"].get("/supply")
    assert page.status_code == 200
    assert "not an allegation" in page.text and "dol-2022:" in page.text
    assert 'href="/supply"' in page.text
    link = re.search(r'href="(/supply/[0-9a-f-]{36})">Delta Polysilicon', page.text).group(1)
    item = clients["inv"].get(link)
    assert "Polysilicon" in item.text and "SUPPLY-DOL" in item.text
    token = csrf_from(item.text)
    refused = clients["inv"].post(link + "/decide", data={"decision": "mitigated",
                                                          "csrf_token": token})
    assert refused.status_code == 200 and "reason" in refused.text
    done = clients["inv"].post(link + "/decide", data={"decision": "mitigated",
                                                       "reason": "audited in 2024",
                                                       "csrf_token": token},
                               follow_redirects=False)
    assert done.status_code == 303
    assert "Delta Polysilicon" not in clients["inv"].get("/supply").text


def test_other_agencies_and_roles_see_nothing(world) -> None:
    _, clients = world
    assert "Cocoa Trading" not in clients["other"].get("/supply").text
    assert clients["cw"].get("/supply").status_code == 403


def test_a_refusal_is_shown_in_the_users_language(world) -> None:
    """A screened-ad refusal (a supply-chain hit asked for on the ads page) reaches a French
    investigator in French, with the id it quotes, and no English."""
    import html

    _, clients = world
    page = clients["fr"].get("/supply")
    assert page.status_code == 200 and '<html lang="fr"' in page.text
    item_id = re.search(r'href="/supply/([0-9a-f-]{36})"', page.text).group(1)
    refused = clients["fr"].get(f"/ads/{item_id}")
    assert refused.status_code == 404 and '<html lang="fr"' in refused.text
    shown = html.unescape(refused.text)
    assert f"aucune annonce examinée '{item_id}' ne vous est visible" in shown
    assert "is visible to you" not in shown
