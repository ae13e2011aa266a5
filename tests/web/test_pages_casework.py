"""Issue 13 pages: case numbers, case edit and its conflict page, screening sections, who viewed
by user and day, referrals from the directory, the sent list, dashboard counts and empty state,
HTML error pages, and the linkage review queue with its audited reveal."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, linkage_run, make_settings, sign_in

from ctip import storage
from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service, case_number_prefix, format_case_number
from ctip.storage import linkage as ltables
from ctip.storage.casework import case_views, cases


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("casework-pages") / "home")
    app = build_app(settings)
    users = {
        "a": add_user(app, "ana.cw", "caseworker", "Agency A"),
        "a2": add_user(app, "alf.cw", "caseworker", "Agency A"),
        "b": add_user(app, "ben.cw", "caseworker", "Agency B"),
        "fresh": add_user(app, "fay.cw", "caseworker", "Agency F"),
        "analyst": add_user(app, "ali.analyst", "analyst", "Statistics Office"),
        "auditor": add_user(app, "aud.auditor", "auditor", "Agency A"),
    }
    admin = Principal("setup", "setup", Role.ADMIN, "Agency B")
    app.state.casework.add_service(
        admin, Service("", "Agency B", "Shelter B", "safe_accommodation"))
    clients = {}
    for key, user in users.items():
        client = TestClient(app)
        sign_in(client, user)
        clients[key] = client
    return app, settings, clients


def _new_case(client, **fields) -> str:
    page = client.get("/cases/new")
    created = client.post("/cases/new", data={"csrf_token": csrf_from(page.text), **fields})
    assert created.status_code == 200, created.text[:300]
    return re.search(r"/cases/([0-9a-f-]{36})", str(created.url)).group(1)


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def test_case_numbers_are_readable_unique_per_agency_and_searchable(world):
    app, _, clients = world
    first = _new_case(clients["a"], sex="male", age="30")
    second = _new_case(clients["a"], sex="female", age="22")
    other = _new_case(clients["b"], sex="female", age="40")
    numbers = {}
    with app.state.casework.engine.connect() as conn:
        for cid in (first, second, other):
            numbers[cid] = conn.execute(
                sa.select(cases.c.case_number).where(cases.c.case_id == cid)).scalar_one()
    year = int(numbers[first].split("-")[1])
    assert numbers[first].startswith("AA-") and numbers[other].startswith("AB-")
    seq = int(numbers[first].rsplit("-", 1)[1])
    assert numbers[second] == format_case_number("Agency A", year, seq + 1)  # next in sequence
    page = clients["a"].get(f"/cases/{first}")
    assert f'id="case-number">{numbers[first]}<' in page.text
    assert numbers[first] in clients["a"].get("/cases").text
    found = clients["a"].get("/cases", params={"q": numbers[second]})
    assert numbers[second] in found.text and numbers[first] not in found.text
    lower = clients["a"].get("/cases", params={"q": numbers[second].lower()})
    assert numbers[second] in lower.text
    assert numbers[other] not in clients["a"].get("/cases", params={"q": "AB-"}).text
    api = clients["a"].get(f"/api/cases?case_id={numbers[first]}",
                           headers={"Accept": "application/json"})
    assert api.status_code in (200, 401)  # the API takes a bearer token, not the page session
    with app.state.casework.engine.connect() as conn:
        dup = conn.execute(sa.select(cases.c.agency, cases.c.case_number, sa.func.count())
                           .group_by(cases.c.agency, cases.c.case_number)
                           .having(sa.func.count() > 1)).all()
    assert dup == []


def test_case_number_prefix():
    assert case_number_prefix("Agency A") == "AA"
    assert case_number_prefix("Caritas") == "CAR"
    assert case_number_prefix("Ministère de l'Intérieur") == "MDL"
    assert case_number_prefix("  ") == "CASE"
    assert format_case_number("Agency A", 2026, 123456) == "AA-2026-123456"


def test_edit_saves_and_a_stale_edit_shows_the_conflict_page(world):
    _, _, clients = world
    case_id = _new_case(clients["a"], sex="male", age="31", notes="first note")
    form = clients["a"].get(f"/cases/{case_id}/edit")
    assert form.status_code == 200 and 'value="31"' in form.text and "first note" in form.text
    token, version = csrf_from(form.text), _version(form.text)
    saved = clients["a"].post(f"/cases/{case_id}/edit", data={
        "csrf_token": token, "version": version, "sex": "male", "age": "32",
        "nationality": "POL", "languages": "pl, en", "notes": "second note"})
    assert saved.status_code == 200 and "Changes saved." in saved.text
    assert "Poland" in saved.text and "second note" in saved.text
    # a colleague opened the form at the same version before the save: theirs is stale now
    stale = clients["a2"].post(f"/cases/{case_id}/edit", data={
        "csrf_token": csrf_from(clients["a2"].get("/cases").text), "version": version,
        "sex": "male", "age": "45", "notes": "colleague note"})
    assert stale.status_code == 409
    assert "Someone else changed this case first" in stale.text and 'id="conflict"' in stale.text
    assert 'id="conflict-fields"' in stale.text and "45" in stale.text and "32" in stale.text
    assert f'name="version" value="{int(version) + 1}"' in stale.text  # starts from the latest
    after = clients["a"].get(f"/cases/{case_id}")
    assert "second note" in after.text and "colleague note" not in after.text  # not overwritten
    bad = clients["a"].post(f"/cases/{case_id}/edit", data={
        "csrf_token": token, "version": str(int(version) + 1), "age": "200"})
    assert bad.status_code == 422 and 'id="f-age-error"' in bad.text


def test_only_the_owning_agency_edits(world):
    _, _, clients = world
    case_id = _new_case(clients["a"], sex="male", age="50")
    assert clients["b"].get(f"/cases/{case_id}/edit").status_code == 404  # a stranger
    assert clients["auditor"].get(f"/cases/{case_id}/edit").status_code == 403
    token = csrf_from(clients["b"].get("/cases").text)
    posted = clients["b"].post(f"/cases/{case_id}/edit",
                               data={"csrf_token": token, "version": "1", "age": "20"})
    assert posted.status_code == 404


def test_screening_is_in_sections_one_per_dimension(world):
    _, _, clients = world
    case_id = _new_case(clients["a"], sex="female", age="25")
    page = clients["a"].get(f"/cases/{case_id}").text
    sections = re.findall(r'<details class="dimension" id="dim-([A-Z]+)"', page)
    assert len(sections) >= 6 and len(set(sections)) == len(sections)
    assert re.search(r'<details class="dimension" id="dim-[A-Z]+" open', page) is None
    screened = clients["a"].post(f"/cases/{case_id}/screen", data={
        "csrf_token": csrf_from(page), "ind-EX-01": "yes"})
    assert re.search(r'<details class="dimension" id="dim-EX" open', screened.text)


def test_who_viewed_groups_by_user_and_day_and_keeps_every_read(world):
    app, _, clients = world
    case_id = _new_case(clients["a"], sex="male", age="33")
    for _ in range(3):
        clients["a2"].get(f"/cases/{case_id}")
    page = clients["a"].get(f"/cases/{case_id}").text
    log = page.split('id="access-log"')[1]
    assert log.count("alf.cw") == 1 and "viewed the case 3 times" in log
    with app.state.casework.engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(case_views).where(
            case_views.c.case_id == case_id, case_views.c.username == "alf.cw")).scalar_one()
    assert rows == 3
    audited = [e for e in app.state.casework.audit_entries(
        Principal("x", "aud.auditor", Role.AUDITOR, "Agency A"), subject=case_id)
        if e["action"] == "case.view"]
    assert len(audited) >= 4  # three by alf, at least one by ana


def test_referral_agency_comes_from_the_directory(world):
    _, _, clients = world
    case_id = _new_case(clients["a"], sex="female", age="15")  # a child: no consent needed
    page = clients["a"].get(f"/cases/{case_id}").text
    refer = page.split('action="/cases/' + case_id + '/referrals#referrals"')[1].split("</form>")[0]
    assert '<select id="refer-to_agency" name="to_agency"' in refer
    assert '<option value="Agency B">' in refer and 'list="agency-list"' not in page
    shares = re.findall(r'<input type="checkbox" name="share" value="(\w+)"([^>]*)>', refer)
    assert shares and all("checked" not in extra for _, extra in shares)
    assert 'id="share-help-given_name"' in refer and "greet the person" in refer
    token = csrf_from(page)
    typo = clients["a"].post(f"/cases/{case_id}/referrals", data={
        "csrf_token": token, "to_agency": "Agency  B", "purpose": "service"})
    assert typo.status_code == 422 and "service directory" in typo.text
    assert clients["b"].get("/referrals").text.count(case_id) == 0
    sent = clients["a"].post(f"/cases/{case_id}/referrals", data={
        "csrf_token": token, "to_agency": "Agency B", "purpose": "service"})
    assert sent.status_code == 200 and "Referral sent" in sent.text
    listing = clients["a"].get("/referrals/sent")
    assert listing.status_code == 200 and 'id="sent-referrals"' in listing.text
    row = listing.text.split('id="sent-referrals"')[1]
    assert "Agency B" in row and "Waiting for an answer" in row or "Pending" in row
    board = clients["a"].get("/dashboard").text
    sent_n = int(re.search(r'id="stat-sent">.*?<p class="stat">(\d+)<', board, re.S).group(1))
    assert sent_n >= 1
    board_b = clients["b"].get("/dashboard").text
    got = int(re.search(r'id="stat-received">.*?<p class="stat">(\d+)<', board_b, re.S).group(1))
    assert got >= 1
    inbox = clients["b"].get("/referrals").text
    number = re.search(r"AA-\d{4}-\d{5}", inbox)
    assert number, "the inbox shows the readable case number"


def test_an_empty_dashboard_says_what_to_do_first(world):
    _, _, clients = world
    board = clients["fresh"].get("/dashboard")
    assert board.status_code == 200 and 'id="empty-state"' in board.text
    assert "/cases/new" in board.text.split('id="empty-state"')[1]
    assert 'id="empty-state"' not in clients["a"].get("/dashboard").text


def test_unknown_addresses_get_a_page_in_the_browser_and_json_on_the_api(world):
    _, _, clients = world
    html = clients["a"].get("/no/such/page", headers={"Accept": "text/html"})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")
    assert "There is no page at this address." in html.text and "<nav" in html.text
    anon = TestClient(world[0]).get("/nothing-here", headers={"Accept": "text/html,*/*"})
    assert anon.status_code == 404 and "<html" in anon.text
    api = clients["a"].get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
    bad_query = clients["a"].get("/cases?page=abc", headers={"Accept": "text/html"})
    assert bad_query.status_code == 422 and "<html" in bad_query.text
    assert clients["a"].get("/cases/new", follow_redirects=False).status_code == 200
    french = clients["a"].get("/nope", headers={"Accept": "text/html", "Accept-Language": "fr"})
    assert '<html lang="fr" dir="ltr">' in french.text


def test_linkage_review_queue_reasons_reveal_and_decision(world):
    app, settings, clients = world
    v = linkage_run(settings)
    c = clients["analyst"]
    assert clients["a"].get("/review/linkage.pairs").status_code == 403  # caseworkers do not
    empty = c.get("/review/linkage.pairs")
    assert empty.status_code == 200 and 'id="queue-empty"' in empty.text
    queued = c.post("/review/linkage.pairs/refresh", data={"csrf_token": csrf_from(empty.text)})
    assert queued.status_code == 200 and "2 new item(s)" in queued.text
    listing = queued.text
    assert "Score band" in listing and "0.9–1.0" in listing and "0.6–0.7" in listing
    assert "Dates of birth disagree" in listing  # the Petrov pair; the Voss dates agree
    assert listing.count("Dates of birth disagree") == 1
    for secret in ("Mara", "Voss", "Petrov", "1990-04"):
        assert secret not in listing
    item_id = re.findall(r"/review/linkage\.pairs/([0-9a-f-]{36})", listing)[0]
    item = c.get(f"/review/linkage.pairs/{item_id}")
    assert item.status_code == 200 and "Voss" not in item.text and "Mara" not in item.text
    token = csrf_from(item.text)
    no_reason = c.post(f"/review/linkage.pairs/{item_id}/reveal",
                       data={"csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422 and "Voss" not in no_reason.text
    shown = c.post(f"/review/linkage.pairs/{item_id}/reveal",
                   data={"csrf_token": token, "reason": "the names differ by one letter"})
    assert shown.status_code == 200 and "Voss" in shown.text and "Vos" in shown.text
    entries = app.state.casework.audit_entries(
        Principal("x", "aud.auditor", Role.AUDITOR, "Agency A"), action="identity.read")
    assert any("the names differ by one letter" in str(e["details"]) for e in entries)
    decided = c.post(f"/review/linkage.pairs/{item_id}/decide",
                     data={"csrf_token": token, "decision": "match"})
    assert decided.status_code == 200
    store = storage.open(settings)
    with store.engine.connect() as conn:
        run_id = ltables.latest_run(conn).run_id
        mapping = ltables.cluster_map(conn, run_id)
    store.close()
    assert mapping[v[0]] == mapping[v[1]]  # the match merged the two people
    assert mapping[v[2]] != mapping[v[3]]
    assert item_id not in c.get("/review/linkage.pairs").text  # no longer waiting
    assert item_id in c.get("/review/linkage.pairs?show=all").text
    index = c.get("/review")
    assert index.status_code == 200 and "/review/linkage.pairs" in index.text
    # anyone of another agency gets the answer for a missing item
    other = clients["b"].get(f"/review/linkage.pairs/{item_id}")
    ghost = clients["b"].get("/review/linkage.pairs/00000000-0000-0000-0000-000000000000")
    assert other.status_code == ghost.status_code == 404


def _french_caseworker_with_a_case(app, username: str):  # type: ignore[no-untyped-def]
    """A caseworker of Agency A reading in French, a new adult's case, and its page."""
    client = TestClient(app)
    sign_in(client, add_user(app, username, "caseworker", "Agency A"))
    client.get("/language/fr?next=/dashboard")
    case_id = _new_case(client, sex="female", age="30")
    return client, case_id, client.get(f"/cases/{case_id}").text


def test_a_service_message_is_shown_in_the_users_language(world):
    """The case page shows a refusal of the service (an adult's referral without consent) in the
    user's language, with the values the English message quotes filled in (the consent purpose
    as its French label, not its code), and its hint."""
    from ctip.web.i18n import translations
    from ctip.web.pages.labels import PURPOSE

    client, case_id, page = _french_caseworker_with_a_case(world[0], "fanny.cw")
    refused = client.post(f"/cases/{case_id}/referrals", data={
        "csrf_token": csrf_from(page), "to_agency": "Agency B", "purpose": "service"})
    assert refused.status_code == 409 and '<html lang="fr"' in refused.text
    fr = translations("fr")
    purpose = fr.gettext(PURPOSE["share_with_service_provider"])
    assert purpose.startswith("Partage")
    message = fr.gettext("an adult's referral needs their consent for {purpose} covering "
                         "{agency}").format(purpose=f"« {purpose} »", agency="'Agency B'")
    hint = fr.gettext("record the person's consent first (children are referred without "
                      "consent); in an emergency a supervisor may override it with a "
                      "justification")
    shown = html.unescape(refused.text)
    assert message.startswith("l’orientation d’un adulte") and message in shown
    assert hint.startswith("enregistrez d’abord") and hint in shown
    assert "needs their consent" not in shown and "share_with_service_provider'" not in shown


def test_a_workflow_refusal_is_shown_in_the_users_language(world):
    """A step the state machine refuses shows on the case page in the user's language: the
    refusal and the guard's reason inside it (a step needing confirmations), and a step needing
    a reason with its hint; the English texts do not appear, nor the codes of the steps and
    confirmations (their French labels do)."""
    from ctip.web.i18n import translations
    from ctip.web.pages.labels import CONFIRMATION, STATUS

    client, case_id, page = _french_caseworker_with_a_case(world[0], "flore.cw")
    fr = translations("fr")
    guarded = client.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_from(page), "target": "screening", "region": "main",
        "confirm": "safe_setting"})
    assert guarded.status_code == 409 and '<html lang="fr"' in guarded.text
    why_not = fr.gettext("confirm first: {missing}").format(
        missing=f"« {fr.gettext(CONFIRMATION['interpreter_offered'])} »")
    refusal = fr.gettext("cannot move to {target}: {why_not}").format(
        target=f"« {fr.gettext(STATUS['screening'])} »", why_not=why_not)
    shown = html.unescape(guarded.text)
    assert refusal.startswith("impossible de passer à « ") and "confirmez d’abord" in refusal
    assert refusal in shown and "cannot move" not in shown and "confirm first" not in shown
    assert "'screening'" not in shown and "interpreter_offered" not in refusal

    page = client.get(f"/cases/{case_id}").text
    moved = client.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_from(page), "target": "screening", "region": "main",
        "confirm": ["safe_setting", "interpreter_offered"]})
    assert moved.status_code == 200 and "/cases/" in str(moved.url)
    page = client.get(f"/cases/{case_id}").text
    unreasoned = client.post(f"/cases/{case_id}/transition", data={
        "csrf_token": csrf_from(page), "target": "presumed_victim", "region": "main"})
    assert unreasoned.status_code == 409
    shown = html.unescape(unreasoned.text)
    needs = fr.gettext("moving to {target} needs a reason or rationale").format(
        target=f"« {fr.gettext(STATUS['presumed_victim'])} »")
    hint = fr.gettext("write why, in a sentence a reviewer can check")
    assert needs.startswith("le passage à") and needs in shown
    assert hint.startswith("expliquez pourquoi") and hint in shown
    assert "needs a reason" not in shown and "'presumed_victim'" not in shown
