"""Account flows end to end in headless Chromium, in English, French and Arabic (right to left).

An administrator of agency A signs in, creates a user (the QR code is shown once), deactivates
and reactivates them, unlocks them after repeated failures and changes their role; the new user
signs in with a code from the QR's secret, changes their password, re-enrols their authenticator
(a new QR code), then tries the code just used and gets the "wait for the next code" hint. Every
selector is an id, so the same steps run in every language; the texts checked are the
catalogue's. Screenshots go to ``$CTIP_SCREENSHOTS`` when set (else the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyotp
import pytest
from pages_support import PASSWORD, add_user
from test_browser_e2e import browser, server  # noqa: F401 - the fixtures

from ctip.errors import AuthenticationError
from ctip.services.account_changes import MIN_PASSWORD
from ctip.web import i18n

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NEW_PASSWORD = "four unrelated words here"
assert len(NEW_PASSWORD) >= MIN_PASSWORD


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CTIP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in(page, base: str, username: str, password: str, code: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#code", code)
    page.click("form[action='/login'] button[type=submit]")


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("header form[action='/logout'] button")


@pytest.mark.parametrize("code", ["en", "fr", "ar"])
def test_account_flows(server, browser, tmp_path, code):  # type: ignore[no-untyped-def]  # noqa: F811
    app, base = server
    tr = i18n.translations(code).gettext
    shots = _shots(tmp_path)
    admin = add_user(app, "adm.a", "admin", "Agency A")
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/language/{code}?next=/login")
    assert page.locator("html").get_attribute("lang") == code
    direction = "rtl" if code == "ar" else "ltr"
    assert page.locator("html").get_attribute("dir") == direction
    assert page.evaluate("getComputedStyle(document.body).direction") == direction

    _sign_in(page, base, admin.username, PASSWORD, admin.code())
    page.goto(f"{base}/users")
    assert page.locator("h1").inner_text() == tr("Users")
    # right to left: the brand sits at the right-hand end of the header bar
    brand = page.locator("header .brand").bounding_box()
    assert (brand["x"] > 550) is (code == "ar"), brand
    # and nothing widens the page sideways (an element placed off-screen at left: -999px does,
    # in a right-to-left page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.fill("#f-username", "new.worker")
    page.select_option("#f-role", "caseworker")
    page.fill("#f-password", PASSWORD)
    page.click("form[action='/users'] button[type=submit]")
    assert page.locator("h1").inner_text() == tr("User created")
    assert page.locator("#totp-qr svg").is_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "").strip()
    page.screenshot(path=str(shots / f"webaccounts-{code}-user-created.png"), full_page=True)

    page.goto(f"{base}/users")
    row = page.locator("#user-new\\.worker")
    row.locator("form[action$='/deactivate'] button").click()
    assert tr("The account is deactivated. Its sessions have ended.") in page.locator(
        ".flash").inner_text()
    assert tr("Account deactivated") in row.inner_text()
    row.locator("form[action$='/activate'] button").click()
    assert tr("Account active") in page.locator("#user-new\\.worker").inner_text()
    for _ in range(5):  # repeated failures lock the account
        with pytest.raises(AuthenticationError):
            app.state.accounts.login("new.worker", "wrong password", "000000")
    page.goto(f"{base}/users")
    row = page.locator("#user-new\\.worker")
    assert row.locator("form[action$='/unlock'] button").is_visible()
    page.screenshot(path=str(shots / f"webaccounts-{code}-users.png"), full_page=True)
    row.locator("form[action$='/unlock'] button").click()
    assert tr("The account is unlocked.") in page.locator(".flash").inner_text()
    row = page.locator("#user-new\\.worker")
    row.locator("select[name=role]").select_option("supervisor")
    row.locator("form[action$='/role'] button").click()
    assert tr("Supervisor") in page.locator("#user-new\\.worker").inner_text()
    _sign_out(page)

    # the new user: sign in, change the password, re-enrol the authenticator
    _sign_in(page, base, "new.worker", PASSWORD, pyotp.TOTP(secret).now())
    page.goto(f"{base}/account")
    page.fill("#f-current_password", PASSWORD)
    page.fill("#f-new_password", NEW_PASSWORD)
    page.fill("#f-new_password_again", NEW_PASSWORD)
    page.click("form[action='/account/password'] button")
    assert tr("Your password is changed. Your other sessions have ended.") in page.locator(
        ".flash").inner_text()
    page.fill("#t-password", NEW_PASSWORD)
    page.click("form[action='/account/totp'] button")
    assert page.locator("#totp-qr svg").is_visible()
    new_secret = page.locator("#totp-secret").inner_text().replace(" ", "").strip()
    assert new_secret != secret
    assert re.search(r"secret=" + new_secret, page.locator("#totp-uri").text_content() or "", re.I)
    page.screenshot(path=str(shots / f"webaccounts-{code}-totp-enrol.png"), full_page=True)
    used = pyotp.TOTP(new_secret).now()
    page.fill("#f-code", used)
    page.click("form[action='/account/totp/confirm'] button")
    assert tr("Your authenticator app is enrolled. Codes from the old one no longer work.") in (
        page.locator(".flash").inner_text())
    _sign_out(page)

    # the code that confirmed the enrolment is used: the page says to wait for the next one
    _sign_in(page, base, "new.worker", NEW_PASSWORD, used)
    alert = page.locator("#error-summary").inner_text()
    assert tr("This one-time code was already used. Wait until your authenticator app shows the "
              "next code, then type that one. (This attempt does not count towards the "
              "lockout.)") in alert
    assert page.locator("html").get_attribute("dir") == direction
    page.screenshot(path=str(shots / f"webaccounts-{code}-code-reused.png"), full_page=True)
    context.close()
