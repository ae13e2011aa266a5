"""The financial-flow alerts on the generic review pages: an investigator lists the agency's
alerts, reads one alert's reasons with their figures and evidence ids (no account number or name),
records decisions (dismiss needs a reason); another agency and a caseworker see nothing; the old
addresses redirect there."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, make_settings, sign_in

from ctip.domain.review import Reason
from ctip.finflows.review import QUEUE_NAME
from ctip.services.review import ReviewQueues


def test_investigator_reviews_alerts_on_the_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = build_app(make_settings(tmp_path / "home"))
    inv = add_user(app, "ines.inv", "investigator", "FIU")
    other = add_user(app, "otto.inv", "investigator", "Other FIU")
    cw = add_user(app, "cara.cw", "caseworker", "FIU")
    queues = ReviewQueues.of(app.state.casework)
    reason = Reason("F14-06", "unverified paraphrase: Cash deposits just below the threshold",
                    {"rule_version": 1, "window": "2024-01-01/2024-02-01",
                     "threshold.min_count": 3}, ("T17", "T18", "T19"))
    queues.enqueue(QUEUE_NAME, "FIU", [("alert-abc-123456", 3.0, (reason,))], actor="rules")
    client = TestClient(app)
    sign_in(client, inv)
    listing = client.get("/review/finflows.alerts")
    assert listing.status_code == 200 and "F14-06" in listing.text
    assert "Cash deposits just below the threshold" in listing.text  # the reason it waits
    home = client.get("/").text  # in the navigation, and among the review queues
    assert 'href="/review/finflows.alerts"' in home and 'href="/review"' in home
    assert 'href="/review/finflows.alerts"' in client.get("/review").text
    moved = client.get("/finflows/alerts", follow_redirects=False)  # the old address
    assert moved.status_code == 303 and moved.headers["location"] == "/review/finflows.alerts"
    item_id = queues.items(app.state.accounts.principal_for("ines.inv"), QUEUE_NAME)[0].item_id
    page = client.get(f"/finflows/alerts/{item_id}")
    assert page.url.path == f"/review/finflows.alerts/{item_id}"
    assert "F14-06" in page.text and "T18" in page.text and "threshold.min_count" in page.text
    assert "Victim case it concerns" in page.text  # link_case names a case
    token = csrf_from(page.text)
    url = f"/review/finflows.alerts/{item_id}/decide"
    refused = client.post(url, data={"csrf_token": token, "decision": "dismiss"})
    assert refused.status_code == 422 and "reason" in refused.text
    done = client.post(f"/finflows/alerts/{item_id}",  # the old form's address: 307, same post
                       data={"csrf_token": token, "decision": "dismiss",
                             "reason": "a restaurant's normal takings"})
    assert done.status_code == 200 and done.url.path == "/review/finflows.alerts"
    shown = client.get(f"/review/finflows.alerts/{item_id}").text
    assert "Dismiss" in shown and "ines.inv" in shown and "normal takings" in shown
    stranger = TestClient(app)
    sign_in(stranger, other)
    assert "F14-06" not in stranger.get("/review/finflows.alerts").text
    assert stranger.get(f"/review/finflows.alerts/{item_id}").status_code == 404
    caseworker = TestClient(app)
    sign_in(caseworker, cw)
    assert caseworker.get("/review/finflows.alerts").status_code == 403
    assert 'href="/review"' not in caseworker.get("/").text
