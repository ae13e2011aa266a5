"""The role x action x agency matrix for the investigation queues on the review pages: screened
job ads, financial-flow alerts and supply-chain hits, on the generic routes (``/review/{queue}``,
its item and decision) and on the modules' own pages (``/ads``, ``/supply`` and the old
``/finflows/alerts`` addresses, which redirect).

Each queue has one item of agency A. Every user of every role in A, B and C tries every action;
the expected answer of each cell is written out by hand: investigators and supervisors read and
decide their own agency's items and no other agency's; every other role (caseworkers included) is
refused. A refusal to someone who may not know the item exists must be identical to the answer for
an id that does not exist, and no refusal shows what the item is about.
"""

from __future__ import annotations

import csv
import re
import uuid

import pytest
from pages_support import build_app, csrf_from, make_settings, signed_in_clients

from ctip.domain.access import Principal, Role
from ctip.domain.review import Reason
from ctip.services.review import ReviewQueues

OK = "ok"
AGENCIES = ("A", "B", "C")
ROLES = tuple(r.value for r in Role)
READERS = ("supervisor", "investigator")
# action -> (A, B, C), written out by hand
READER = {"list": (OK, OK, OK), "item": (OK, 404, 404), "decide": (OK, 404, 404)}
NOT_READER = {"list": (403, 403, 403), "item": (403, 404, 404), "decide": (403, 404, 404)}
# queue -> (list, item, decide) of the module's own pages, a decision, and what the item is about
QUEUES = {
    "ads.screened": (("/ads", "/ads/{id}", "/ads/{id}/decide"), "risky", ""),  # its title
    "finflows.alerts": (("/finflows/alerts", "/finflows/alerts/{id}", "/finflows/alerts/{id}"),
                        "accept", "Cash deposits just below"),
    "supply.hits": (("/supply", "/supply/{id}", "/supply/{id}/decide"), "due_diligence",
                    "Delta Polysilicon"),
}
LEDGER = ("supplier,country,product,hs_code,value,date\n"
          "Delta Polysilicon,CN,,280461,500,2024-02-01\n")


def expected(role: str, agency: str, action: str):  # type: ignore[no-untyped-def]
    return (READER if role in READERS else NOT_READER)[action][AGENCIES.index(agency)]


def _seed(app, tmp) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """One item of agency A on each queue, made by each module's own screen."""
    from ctip.ads.synthetic import rows
    from ctip.services.ads import AdScreening
    from ctip.services.supply import SupplyChains

    data = list(rows(30, seed=21))
    with open(tmp / "ads.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    AdScreening.of(app.state.casework).screen(tmp / "ads.csv", agency="A", actor="test")
    (tmp / "p.csv").write_text(LEDGER)
    SupplyChains.of(app.state.casework).screen(tmp / "p.csv", agency="A", actor="test")
    queues = ReviewQueues.of(app.state.casework)
    reason = Reason("F14-06", "unverified paraphrase: Cash deposits just below the threshold",
                    {"threshold.min_count": 3}, ("T17", "T18"))
    queues.enqueue("finflows.alerts", "A", [("alert-abc-123456", 3.0, (reason,))], actor="rules")
    inv = Principal("x", "inv-a", Role.INVESTIGATOR, "A")
    items = {}
    for queue, (_own, _decision, about) in QUEUES.items():
        found = queues.items(inv, queue, limit=200)
        assert found, f"the {queue} screen queued nothing"
        items[queue] = (found[0].item_id, about)
    top = items["ads.screened"][0]  # the queue's top ad, whatever its title
    items["ads.screened"] = (top, AdScreening.of(app.state.casework).ad(inv, top).title)
    return items


@pytest.fixture(scope="module")
def world(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("queue-matrix")
    app = build_app(make_settings(tmp / "home"))
    items = _seed(app, tmp)
    clients = signed_in_clients(app, ROLES, AGENCIES)
    return app, clients, items


def call(c, queue: str, route: str, action: str, item_id: str):  # type: ignore[no-untyped-def]
    token = csrf_from(c.get("/no-such-page", headers={"Accept": "text/html"}).text)
    own, decision, _about = QUEUES[queue]
    generic = (f"/review/{queue}", f"/review/{queue}/{{id}}", f"/review/{queue}/{{id}}/decide")
    paths = dict(zip(("list", "item", "decide"), generic if route == "generic" else own,
                     strict=True))
    path = paths[action].format(id=item_id)
    if action == "decide":
        return c.post(path, data={"csrf_token": token, "decision": decision,
                                  "reason": "checked against the source"},
                      headers={"Accept": "text/html"})
    return c.get(path, headers={"Accept": "text/html"})


def _normalise(text: str, *ids: str) -> str:
    for value in ids:
        text = text.replace(value, "<id>")
    return re.sub(r'csrf_token" value="[^"]+"|"X-CSRF-Token": "[^"]+"', "", text)


@pytest.mark.parametrize("route", ["generic", "own"])
@pytest.mark.parametrize("queue", list(QUEUES))
@pytest.mark.parametrize("agency", AGENCIES)
@pytest.mark.parametrize("role", ROLES)
def test_queue_matrix(world, role, agency, queue, route):  # type: ignore[no-untyped-def]
    _app, clients, items = world
    c, (item_id, about) = clients[(role, agency)], items[queue]
    ghost = str(uuid.uuid4())
    for action in ("list", "item", "decide"):
        want = expected(role, agency, action)
        got = call(c, queue, route, action, item_id)
        cell = f"{role}@{agency} {route} {queue} {action}: {got.status_code}"
        if want == OK:
            assert got.status_code == 200, cell
            if action == "item" and route == "generic":
                assert "Record decision" in got.text, cell  # readers here also decide
            if action == "item" and route == "own" and queue != "finflows.alerts":
                assert about in got.text, cell  # the module's page of what is reviewed
            if action == "list" and agency != "A":
                assert about not in got.text and item_id not in got.text, cell
            continue
        assert got.status_code == want, cell
        assert about not in got.text and "T18" not in got.text, cell
        if want == 404:
            other = call(c, queue, route, action, ghost)
            assert other.status_code == 404, cell
            assert _normalise(other.text, ghost) == _normalise(got.text, item_id), cell


def test_items_wait_with_their_reasons_and_link_the_module_page(world):  # type: ignore[no-untyped-def]
    _app, clients, items = world
    c = clients[("investigator", "A")]
    index = c.get("/review").text
    for queue in QUEUES:
        assert f'href="/review/{queue}"' in index
    ads = c.get(f"/review/ads.screened/{items['ads.screened'][0]}").text
    assert f'href="/ads/{items["ads.screened"][0]}"' in ads and "Show both identities" not in ads
    supply = c.get(f"/review/supply.hits/{items['supply.hits'][0]}").text
    assert f'href="/supply/{items["supply.hits"][0]}"' in supply
    assert "Show both identities" not in supply
    listing = c.get("/review/finflows.alerts?show=all").text
    assert "Cash deposits just below the threshold" in listing  # why it waits, on the list
    refused = c.post(f"/review/supply.hits/{items['supply.hits'][0]}/decide",
                     data={"csrf_token": csrf_from(supply), "decision": "not_relevant"})
    assert refused.status_code == 422 and "reason" in refused.text  # the kind's rule
    c.get("/language/fr?next=/review")  # the queue's caveat in the reviewer's language
    french = c.get("/review/finflows.alerts").text
    assert "Les signaux d’alerte sont des hypothèses" in french
    assert "Red flags are hypotheses" not in french
    c.get("/language/en?next=/review")


def test_a_long_queue_is_shown_a_page_at_a_time(world):  # type: ignore[no-untyped-def]
    app, clients, _items = world
    reason = Reason("F01-01", "unverified paraphrase: many small transfers", {}, ())
    ReviewQueues.of(app.state.casework).enqueue(
        "finflows.alerts", "C", [(f"alert-page-{k:03d}", 1.0 + k / 100, (reason,))
                                 for k in range(60)], actor="rules")
    c = clients[("supervisor", "C")]
    first = c.get("/review/finflows.alerts").text
    second = c.get("/review/finflows.alerts?page=2").text
    link = re.compile(r'href="/review/finflows\.alerts/([0-9a-f-]{36})"')
    one, two = link.findall(first), link.findall(second)
    assert len(one) == 50 and len(two) == 10 and not set(one) & set(two)  # each item once
    assert 'rel="next" href="?show=open&amp;page=2"' in first and 'rel="prev"' not in first
    assert 'rel="prev" href="?show=open&amp;page=1"' in second and 'rel="next"' not in second
    assert "(60)" in first  # the count is the whole queue's, not the page's
