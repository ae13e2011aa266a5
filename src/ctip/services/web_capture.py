"""Web captures (INVESTIGATIONS.md 3.3 item 9): a page kept as WACZ plus a screenshot.

The HTTP exchange is recorded as it happens into a WARC by ``warcio`` (``capture_http`` records
every request and response made through ``http.client``), packaged as a WACZ by ``wacz`` (the
Webrecorder format replay tools open), and a full-page screenshot is taken by headless Chromium
(Playwright driving the system's ``chromium``). Both files are then ingested like any evidence:
hashed first, encrypted, time-stamped, and logged; the screenshot's event names the capture's
hash. The URL may identify people (an advertisement, a profile), so it is kept sealed as the
items' source; the events carry its SHA-256.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from ctip.domain.access import Action, Principal
from ctip.errors import MissingDependencyError, ValidationError
from ctip.evidence.canonical import sha256_hex
from ctip.services.evidence import Ingested, Locker

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def record_warc(url: str, warc: Path) -> None:
    """Fetch ``url`` once, recording the request and response into ``warc``."""
    try:
        from warcio.capture_http import capture_http
    except ImportError:
        raise MissingDependencyError("warcio", "capture") from None
    with capture_http(str(warc)):
        request = urllib.request.Request(  # noqa: S310 - capture_page checks the scheme
            url, headers={"User-Agent": "ctip-evidence-capture"})
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - checked
            answer.read()


def package_wacz(warc: Path, wacz: Path, url: str, at: datetime) -> None:
    try:
        from wacz.main import main as wacz_main
    except ImportError:
        raise MissingDependencyError("wacz", "capture") from None
    pages = wacz.with_name("pages.jsonl")  # the page list replay tools open first
    pages.write_text(json.dumps({"format": "json-pages-1.0", "id": "pages",
                                 "title": "All Pages"}) + "\n"
                     + json.dumps({"url": url, "ts": at.isoformat().replace("+00:00", "Z"),
                                   "title": "ctip evidence capture"}) + "\n", encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()):  # wacz prints its progress
        code = wacz_main(["create", "-o", str(wacz), str(warc), "-p", str(pages), "--url", url,
                          "--ts", at.strftime("%Y%m%d%H%M%S"), "--title",
                          "ctip evidence capture"])
    if code not in (0, None) or not wacz.exists():
        raise ValidationError("the captured page could not be packaged as WACZ", value=url)


def screenshot(url: str) -> bytes:
    """A full-page PNG of ``url`` in headless Chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise MissingDependencyError("playwright", "capture") from None
    chromium = _chromium()
    if chromium is None:
        raise MissingDependencyError("chromium (the browser, e.g. apt-get install chromium)",
                                     "capture")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url, wait_until="networkidle", timeout=60_000)
            return page.screenshot(full_page=True, type="png")
        finally:
            browser.close()


def capture_page(locker: Locker, p: Principal, case_id: str, url: str, *,
                 purpose: str = "investigation", note: str | None = None) -> list[Ingested]:
    """Capture ``url`` as WACZ + screenshot and ingest both into the case's evidence."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError("only http and https pages can be captured", value=url)
    with locker.engine.begin() as conn:  # refuse before fetching anything
        locker.check_access(conn, p, case_id, Action.EVIDENCE_ADD)
    at = datetime.now(UTC)
    url_hash = sha256_hex(url.encode())
    with tempfile.TemporaryDirectory(prefix="ctip-capture-") as work:
        warc, wacz = Path(work) / "page.warc.gz", Path(work) / "page.wacz"
        record_warc(url, warc)
        package_wacz(warc, wacz, url, at)
        png = screenshot(url)
        stem = f"capture-{parsed.netloc.replace(':', '_')}-{at:%Y%m%dT%H%M%SZ}"
        details = {"url_sha256": url_hash, "captured_at": at.isoformat()}
        with wacz.open("rb") as handle:
            archive = locker.ingest(p, case_id, handle, name=f"{stem}.wacz", origin=url,
                                    purpose=purpose, note=note, kind="web-capture",
                                    details=details, mime="application/zip")
    shot = locker.ingest(p, case_id, io.BytesIO(png), name=f"{stem}.png", origin=url,
                         purpose=purpose, note=note, kind="screenshot",
                         details={**details, "capture": archive.item.sha256}, mime="image/png")
    return [archive, shot]
