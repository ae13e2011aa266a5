"""Case work in Arabic, right to left, in headless Chromium: intake, screening, consent, referral
chosen from the directory, acceptance by the receiving agency, its audited reveal of the shared
field only, and a case edit, all on pages laid out right to left.

The controls are found by their Arabic labels (taken from the Arabic catalogue), so the test also
fails when a label of the flow is untranslated or no longer tied to its field. Screenshots go to
the test's tmp dir, or to ``$CTIP_SCREENSHOT_DIR`` when set (to look at them).
"""

from __future__ import annotations

import pytest
from pages_support import add_user
from test_browser_casework import PHONE, _no_sideways_scroll, _shots, _sign_in_any
from test_browser_e2e import browser, server  # noqa: F401 - fixtures

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service
from ctip.web.i18n import translations

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AR = translations("ar")


def t(text: str) -> str:
    """The Arabic of an interface string; a string the catalogue lacks fails here, by name."""
    arabic = AR.gettext(text)
    assert arabic != text, f"no Arabic for {text!r}"
    return arabic


def _right_to_left(page, what: str) -> None:
    """The page says it is Arabic and right to left, and Chromium lays it out so: the heading's
    text hugs the right edge of its box, not the left."""
    assert '<html lang="ar" dir="rtl">' in page.content(), what
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl", what
    left_gap, right_gap = page.evaluate("""() => {
        const h = document.querySelector('h1'); const r = document.createRange();
        r.selectNodeContents(h); const text = r.getBoundingClientRect();
        const box = h.getBoundingClientRect();
        return [text.left - box.left, box.right - text.right]; }""")
    assert right_gap < 2 <= left_gap, f"{what}: heading text {left_gap:.0f} px from the left, " \
        f"{right_gap:.0f} px from the right"


def test_case_work_in_arabic_right_to_left(server, browser, tmp_path):  # noqa: F811
    app, base = server
    shots = _shots(tmp_path)
    a = add_user(app, "amina.cw", "caseworker", "Agency A")
    b = add_user(app, "bruno.cw", "caseworker", "Agency B")
    app.state.casework.add_service(
        Principal("setup", "setup", Role.ADMIN, "Agency B"),
        Service("", "Agency B", "Safe house Harbour", "safe_accommodation", capacity=4))

    # --- agency A, in Arabic (from the browser's language), on a desktop screen ---
    ctx_a = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ar-EG")
    page = ctx_a.new_page()
    _sign_in_any(page, base, a)
    _right_to_left(page, "dashboard")
    page.goto(f"{base}/cases/new")
    _right_to_left(page, "intake")
    page.get_by_label(t("Sex"), exact=True).select_option("female")
    page.get_by_label(t("Age in years")).fill("24")
    page.get_by_label(t("Nationality")).select_option("NGA")
    page.get_by_label(t("Given name")).fill("Adaeze")
    page.get_by_label(t("Family name")).fill("Hiddenfamily")
    page.get_by_label(t("Phone")).fill("+2348011122233")
    page.screenshot(path=str(shots / "ar-01-intake.png"), full_page=True)
    page.get_by_role("button", name=t("Create case")).click()
    page.wait_for_url("**/cases/*?done=created")
    case_url = page.url.split("?")[0]
    number = page.locator("#case-number").inner_text()
    assert number.startswith("AA-") and "Adaeze" not in page.content()
    _right_to_left(page, "case page")

    form = page.locator("form", has=page.locator("input[name=target][value=screening]"))
    form.get_by_label(t("The interview takes place in a safe setting")).check()
    form.get_by_label(t("An interpreter was offered")).check()
    form.get_by_role("button").click()
    page.wait_for_url("**done=moved*")
    for indicator in ("DR-01", "EX-01", "EX-04", "CD-01", "CD-03"):
        section = page.locator(f"#dim-{indicator.split('-')[0]}")
        if section.get_attribute("open") is None:
            section.locator("summary").click()
        page.locator(f"#ind-{indicator}").select_option("yes")
    page.get_by_role("button", name=t("Screen"), exact=True).click()
    page.wait_for_url("**done=screened*")
    assert t("Presumed victim") in page.locator("#suggested-status").inner_text()
    page.screenshot(path=str(shots / "ar-02-screened.png"), full_page=True)
    form = page.locator("form", has=page.locator("input[name=target][value=presumed_victim]"))
    form.locator("textarea[name=reason]").fill("خدعوها بشأن العمل واحتجزوا وثائقها")
    form.get_by_role("button").click()
    page.wait_for_url("**done=moved*")

    page.get_by_text(t("Record consent"), exact=True).first.click()
    consent = page.locator("form[action*='/consents']")
    consent.get_by_label(t("Purpose")).select_option("share_with_service_provider")
    consent.get_by_label(t("Recipient agency")).select_option("Agency B")
    consent.get_by_role("button", name=t("Record consent")).click()
    page.wait_for_url("**done=consent*")

    page.get_by_text(t("Refer this case"), exact=True).click()
    refer = page.locator("form[action*='/referrals']")
    refer.get_by_label(t("Receiving agency")).select_option("Agency B")
    share = refer.locator("input[name=share][value=given_name]")
    assert not share.is_checked()  # nothing shared by default
    share.check()
    page.screenshot(path=str(shots / "ar-03-refer-form.png"), full_page=True)
    refer.get_by_role("button", name=t("Send referral")).click()
    page.wait_for_url("**done=referred*")
    assert "Agency B" in page.locator("#referrals").inner_text()

    # --- agency B, in Arabic chosen on the language page, on a phone ---
    ctx_b = browser.new_context(viewport=PHONE, locale="en-GB")
    page_b = ctx_b.new_page()
    page_b.goto(f"{base}/language/ar?next=/login")
    _sign_in_any(page_b, base, b)
    page_b.goto(f"{base}/referrals")
    _right_to_left(page_b, "referral inbox")
    assert number in page_b.content()
    _no_sideways_scroll(page_b, "referral inbox (ar)")
    page_b.get_by_role("button", name=t("Accept")).click()
    page_b.wait_for_url(f"{base}/referrals*")
    page_b.goto(case_url)
    _no_sideways_scroll(page_b, "recipient's case page (ar)")
    assert "Adaeze" not in page_b.content()
    page_b.get_by_label(t("Why do you need to see the identity now?")).fill("ترتيب الإيواء")
    page_b.get_by_role("button", name=t("Reveal identity")).click()
    assert "Adaeze" in page_b.locator("#identity-fields").inner_text()  # the shared field
    body = page_b.content()
    assert "Hiddenfamily" not in body and "2348011122233" not in body  # never shared with B
    _right_to_left(page_b, "revealed identity")
    page_b.screenshot(path=str(shots / "ar-04-recipient-reveal-phone.png"), full_page=True)

    # --- back to A: the reveal is in the access log; edit the intake ---
    page.goto(case_url)
    assert "bruno.cw" in page.locator("#access-log").inner_text()
    page.locator("#edit-case").click()
    _right_to_left(page, "case edit")
    page.get_by_label(t("Age in years")).fill("25")
    page.get_by_label(t("Caseworker notes")).fill("التقينا في محطة الحافلات")
    page.get_by_role("button", name=t("Save changes")).click()
    page.wait_for_url("**done=edited*")
    summary = page.locator("#h-summary + dl").inner_text()
    assert "25" in summary or "٢٥" in summary
    page.screenshot(path=str(shots / "ar-05-case-edited.png"), full_page=True)
    ctx_a.close()
    ctx_b.close()
    print(f"screenshots in {shots}")
