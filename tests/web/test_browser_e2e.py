"""End to end in headless Chromium (Debian ``chromium``, driven by Playwright for Python).

A caseworker of agency A signs in, creates a case, screens it, refers it to agency B; a caseworker
of B signs in, accepts it, and sees only what the referral shared. The app runs under uvicorn on
a free loopback port over a temporary SQLite home. Screenshots are saved in the test's tmp dir.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from pages_support import PASSWORD, add_user, build_app, make_settings

from ctip.domain.access import Principal, Role
from ctip.domain.casework import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path):
    import uvicorn

    app = build_app(make_settings(tmp_path / "home"))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _sign_in(page, base: str, user) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Six-digit code from your authenticator app").fill(user.code())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/dashboard")


def test_intake_screen_refer_accept_in_chromium(server, browser, tmp_path):
    app, base = server
    a = add_user(app, "amina.cw", "caseworker", "Agency A")
    b = add_user(app, "bruno.cw", "caseworker", "Agency B")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    admin = Principal("setup", "setup", Role.ADMIN, "Agency B")
    for name, kind, sexes, children in (
        ("Safe house Harbour", "safe_accommodation", ("female",), False),
        ("Men's shelter North", "safe_accommodation", ("male",), False),
        ("Legal clinic", "legal", (), True),
    ):
        app.state.casework.add_service(
            admin,
            Service(
                "",
                "Agency B",
                name,
                kind,
                location="Port City",
                languages=("en", "yo"),
                sexes=sexes,
                accepts_children=children,
                capacity=4,
            ),
        )

    # --- agency A: intake, screening, presumed victim, consent, referral ---
    ctx_a = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = ctx_a.new_page()
    _sign_in(page, base, a)
    page.screenshot(path=str(shots / "01-dashboard-empty.png"), full_page=True)
    page.get_by_role("link", name="Cases").first.click()
    page.get_by_role("link", name="New case (intake)").click()
    page.get_by_label("Age in years").fill("200")
    page.get_by_role("button", name="Create case").click()
    assert page.locator(".error-message").first.is_visible()  # message next to the field
    page.screenshot(path=str(shots / "02-intake-error.png"), full_page=True)
    page.get_by_label("Sex", exact=True).select_option("female")
    page.get_by_label("Age in years").fill("24")
    page.get_by_label("Nationality").select_option("NGA")
    page.get_by_label("Languages spoken").fill("en, yo")
    page.get_by_label("Forced labour").check()
    page.get_by_label("Given name").fill("Adaeze")
    page.get_by_label("Family name").fill("Hiddenfamily")
    page.get_by_label("Phone").fill("+2348011122233")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url("**/cases/*?done=created")
    case_id = page.url.split("/cases/")[1].split("?")[0]
    number = page.locator("#case-number").inner_text()  # readable: "AA-2026-00001"
    assert number.startswith("AA-")
    assert "Adaeze" not in page.content()  # identity hidden by default
    page.screenshot(path=str(shots / "03-case-new.png"), full_page=True)

    form = page.locator("form", has=page.locator("input[name=target][value=screening]"))
    form.get_by_label("The interview takes place in a safe setting").check()
    form.get_by_label("An interpreter was offered").check()
    form.get_by_role("button").click()
    page.wait_for_url("**done=moved*")
    for indicator in ("DR-01", "EX-01", "EX-04", "CD-01", "CD-03"):
        section = page.locator(f"#dim-{indicator.split('-')[0]}")
        if section.get_attribute("open") is None:  # one collapsible section per dimension
            section.locator("summary").click()
        page.locator(f"#ind-{indicator}").select_option("yes")
    page.get_by_role("button", name="Screen", exact=True).click()
    page.wait_for_url("**done=screened*")
    assert "Presumed victim" in page.locator("#suggested-status").inner_text()
    page.screenshot(path=str(shots / "04-screening-result.png"), full_page=True)

    form = page.locator("form", has=page.locator("input[name=target][value=presumed_victim]"))
    form.get_by_label("Reason or rationale").fill(
        "Deceived about the job, documents withheld, excessive hours"
    )
    form.get_by_role("button").click()
    page.wait_for_url("**done=moved*")

    page.get_by_text("Record consent", exact=True).first.click()
    consent = page.locator("form[action*='/consents']")
    consent.get_by_label("Purpose").select_option("share_with_service_provider")
    consent.get_by_label("Recipient agency").select_option("Agency B")
    consent.get_by_role("button", name="Record consent").click()
    page.wait_for_url("**done=consent*")

    page.get_by_text("Refer this case", exact=True).click()
    refer = page.locator("form[action*='/referrals']")
    refer.get_by_label("Service (from the directory)").select_option(
        label="Safe house Harbour · Agency B"
    )
    assert not refer.get_by_label("Given name").is_checked()  # nothing shared by default
    refer.get_by_label("Given name").check()  # share the given name only
    refer.get_by_role("button", name="Send referral").click()
    page.wait_for_url("**done=referred*")
    assert "Agency B" in page.locator("#referrals").inner_text()
    page.screenshot(path=str(shots / "05-case-referred.png"), full_page=True)

    page.goto(f"{base}/cases?status=signal")  # a search that does not show the case
    assert number not in page.locator("#case-results").inner_text()
    page.get_by_label("Status").select_option("")
    page.get_by_label("Case number").fill(number[:-2])  # htmx updates the results as you type
    from playwright.sync_api import expect

    expect(page.locator("#case-results")).to_contain_text(number)
    assert "q=" not in page.url  # the search posts: nothing searched for lands in the URL
    page.goto(f"{base}/directory?sex=female&age=24")
    assert "Safe house Harbour" in page.content() and "Men's shelter North" not in page.content()
    page.screenshot(path=str(shots / "05b-directory-eligible.png"), full_page=True)

    # --- agency B: inbox, accept, limited view ---
    ctx_b = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="fr-FR"
    )  # a phone, in French
    page_b = ctx_b.new_page()
    page_b.goto(f"{base}/language/en?next=/login")  # B chooses English explicitly
    _sign_in(page_b, base, b)
    page_b.goto(f"{base}/referrals")
    page_b.screenshot(path=str(shots / "06-inbox-phone.png"), full_page=True)
    page_b.get_by_role("button", name="Accept").click()
    page_b.wait_for_url(f"{base}/referrals*")
    assert "Accepted" in page_b.content()
    page_b.goto(f"{base}/cases/{case_id}")
    body = page_b.content()
    assert "Adaeze" not in body and "Hiddenfamily" not in body
    page_b.get_by_label("Why do you need to see the identity now?").fill(
        "Arranging the shelter admission"
    )
    page_b.get_by_role("button", name="Reveal identity").click()
    shown = page_b.locator("#identity-fields").inner_text()
    assert "Adaeze" in shown  # the shared field
    body = page_b.content()
    assert "Hiddenfamily" not in body and "2348011122233" not in body  # never shared with B
    page_b.screenshot(path=str(shots / "07-recipient-view-phone.png"), full_page=True)

    # --- back to A: who viewed, dashboard chart ---
    page.goto(f"{base}/cases/{case_id}")
    assert "bruno.cw" in page.locator("#access-log").inner_text()
    page.goto(f"{base}/dashboard")
    assert page.locator("figure.chart svg[role=img]").count() >= 1
    page.screenshot(path=str(shots / "08-dashboard.png"), full_page=True)
    ctx_a.close()
    ctx_b.close()
    print(f"screenshots in {shots}")
