"""Issue 13 flows in headless Chromium: the empty dashboard, editing a case and the conflict page,
a referral chosen from the directory and followed on the sent list, the linkage review queue with
its audited reveal (in French), HTML error pages, and no sideways scrolling at 390 px.

Runs with the same uvicorn and Chromium fixtures as test_browser_e2e.py. Screenshots go to the
test's tmp dir, or to ``$CTIP_SCREENSHOT_DIR`` when set (to look at them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pages_support import add_user, linkage_run
from test_browser_e2e import _sign_in, browser, server  # noqa: F401 - fixtures

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


def _shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("CTIP_SCREENSHOT_DIR") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _no_sideways_scroll(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{what}: the page is {width} px wide on a {inner} px screen"


def test_case_work_referrals_and_review_in_chromium(server, browser, tmp_path):  # noqa: F811
    app, base = server
    shots = _shots(tmp_path)
    a = add_user(app, "amina.cw", "caseworker", "Agency A")
    a2 = add_user(app, "adel.cw", "caseworker", "Agency A")
    b = add_user(app, "bruno.cw", "caseworker", "Agency B")
    analyst = add_user(app, "sami.analyst", "analyst", "Statistics Office")
    admin = Principal("setup", "setup", Role.ADMIN, "Agency B")
    app.state.casework.add_service(
        admin, Service("", "Agency B", "Safe house Harbour", "safe_accommodation",
                       sexes=("female",), capacity=4))

    # --- an empty dashboard says what to do first (on a phone) ---
    ctx = browser.new_context(viewport=PHONE, locale="en-GB")
    page = ctx.new_page()
    _sign_in(page, base, a)
    assert page.locator("#empty-state").is_visible()
    page.screenshot(path=str(shots / "webcases-01-empty-dashboard-phone.png"), full_page=True)
    _no_sideways_scroll(page, "empty dashboard")
    page.locator("#empty-state").get_by_role("link", name="New case (intake)").click()
    page.get_by_label("Sex", exact=True).select_option("female")
    page.get_by_label("Age in years").fill("16")
    page.get_by_label("Given name").fill("Adaeze")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url("**/cases/*?done=created")
    case_url = page.url.split("?")[0]
    number = page.locator("#case-number").inner_text()
    assert number.startswith("AA-") and number in page.locator("h1").inner_text()
    _no_sideways_scroll(page, "case page")
    sections = page.locator("details.dimension")
    assert sections.count() >= 6 and page.locator("details.dimension[open]").count() == 0
    page.locator("#dim-EX summary").click()
    assert page.locator("#ind-EX-01").is_visible() and not page.locator("#ind-CD-01").is_visible()
    page.screenshot(path=str(shots / "webcases-02-case-phone.png"), full_page=True)

    # --- edit, and a colleague's stale edit gets the conflict page ---
    ctx2 = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    other = ctx2.new_page()
    _sign_in(other, base, a2)
    other.goto(case_url + "/edit")  # opened before the first save: it holds version 1
    page.locator("#edit-case").click()
    page.get_by_label("Age in years").fill("17")
    page.get_by_label("Caseworker notes").fill("Met at the bus station")
    _no_sideways_scroll(page, "case edit")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**done=edited*")
    assert "17" in page.locator("#h-summary + dl").inner_text()
    other.get_by_label("Age in years").fill("19")
    other.get_by_role("button", name="Save changes").click()
    assert other.locator("#conflict").is_visible()
    assert "Someone else changed this case first" in other.locator("h1").inner_text()
    assert "17" in other.locator("#conflict-fields").inner_text()
    other.screenshot(path=str(shots / "webcases-03-conflict.png"), full_page=True)
    other.goto(case_url)
    assert "17" in other.locator("#h-summary + dl").inner_text()  # nothing was overwritten

    # --- referral: the agency comes from the directory; the sent list shows its state ---
    page.goto(case_url)
    page.get_by_text("Refer this case", exact=True).click()
    refer = page.locator("form[action*='/referrals']")
    options = refer.locator("#refer-to_agency option").all_inner_texts()
    assert "Agency B" in options and refer.locator("input[name=to_agency][type=text]").count() == 0
    assert refer.locator("input[name=share]:checked").count() == 0
    assert refer.locator("#share-help-phone").is_visible()
    refer.get_by_label("Receiving agency").select_option("Agency B")
    refer.get_by_label("Given name").check()
    page.screenshot(path=str(shots / "webcases-04-refer-form-phone.png"), full_page=True)
    refer.get_by_role("button", name="Send referral").click()
    page.wait_for_url("**done=referred*")
    page.goto(f"{base}/referrals/sent")
    assert "Waiting for an answer" in page.locator("#sent-referrals").inner_text() or \
        "Pending" in page.locator("#sent-referrals").inner_text()
    assert number in page.locator("#sent-referrals").inner_text()
    _no_sideways_scroll(page, "sent referrals")

    ctx_b = browser.new_context(viewport=PHONE, locale="en-GB")
    page_b = ctx_b.new_page()
    _sign_in(page_b, base, b)
    assert page_b.locator("#stat-received .stat").inner_text() == "1"
    page_b.goto(f"{base}/referrals")
    assert number in page_b.content()
    page_b.get_by_role("button", name="Accept").click()
    page_b.wait_for_url(f"{base}/referrals*")
    page.goto(f"{base}/referrals/sent")
    assert "Accepted" in page.locator("#sent-referrals").inner_text()
    page.screenshot(path=str(shots / "webcases-05-sent-referrals-phone.png"), full_page=True)
    page.goto(f"{base}/dashboard")
    assert page.locator("#stat-sent .stat").inner_text() == "1"
    assert page.locator("#empty-state").count() == 0

    # --- who viewed: one line per person and day ---
    for _ in range(3):
        page_b.goto(case_url)
    page.goto(case_url)
    log = page.locator("#access-log").inner_text()
    assert log.count("bruno.cw") == 1 and "viewed the case" in log

    # --- errors: a page in the browser, JSON on the API ---
    page.goto(f"{base}/no/such/page")
    assert "There is no page at this address." in page.content()
    _no_sideways_scroll(page, "404 page")
    page.screenshot(path=str(shots / "webcases-06-not-found-phone.png"), full_page=True)
    api = page.request.get(f"{base}/api/no-such-thing", headers={"Accept": "text/html"})
    assert api.status == 404 and api.headers["content-type"].startswith("application/json")

    # --- linkage review, in French, on a phone: reasons, audited reveal, decision ---
    linkage_run(app.state.settings)
    ctx_c = browser.new_context(viewport=PHONE, locale="fr-FR")
    page_c = ctx_c.new_page()
    page_c.goto(f"{base}/language/fr?next=/login")
    _sign_in_any(page_c, base, analyst)
    page_c.goto(f"{base}/review/linkage.pairs")
    assert '<html lang="fr" dir="ltr">' in page_c.content()
    page_c.locator("#refresh-queue").click()
    page_c.wait_for_url("**added=2*")
    listing = page_c.locator("#review-items").inner_text()
    assert "Mara" not in listing and "Voss" not in listing
    page_c.screenshot(path=str(shots / "webcases-07-linkage-queue-fr-phone.png"), full_page=True)
    _no_sideways_scroll(page_c, "review queue")
    page_c.locator("#review-items a").first.click()
    assert "Voss" not in page_c.content()
    page_c.locator("#f-reason").fill("les noms diffèrent d'une lettre")
    page_c.locator("#identity button[type=submit]").click()
    assert "Voss" in page_c.locator("#pair-identities").inner_text()
    page_c.screenshot(path=str(shots / "webcases-08-linkage-reveal-fr-phone.png"), full_page=True)
    _no_sideways_scroll(page_c, "review item")
    page_c.locator("input[name=decision][value=match]").check()
    page_c.locator("#decide button[type=submit]").click()
    page_c.wait_for_url("**decided=*")

    # --- the rest of a caseworker's pages at 390 px ---
    for path in ("/dashboard", "/cases", "/cases/new", "/referrals/sent", "/directory",
                 case_url.removeprefix(base), case_url.removeprefix(base) + "/edit"):
        page.goto(base + path)
        _no_sideways_scroll(page, path)
    for path in ("/referrals", "/dashboard", case_url.removeprefix(base)):
        page_b.goto(base + path)
        _no_sideways_scroll(page_b, path)
    for context in (ctx, ctx2, ctx_b, ctx_c):
        context.close()
    print(f"screenshots in {shots}")


def _sign_in_any(page, base: str, user) -> None:
    """Sign in whatever the interface language (field order, not labels)."""
    from pages_support import PASSWORD

    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=code]").fill(user.code())
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(f"{base}/dashboard*")
