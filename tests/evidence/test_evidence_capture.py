"""Web captures (issue 14 item 5): a page served on localhost is kept as WACZ (its WARC holds the
real HTTP exchange) plus a headless-Chromium screenshot, both hashed, time-stamped and logged."""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence_support import SUP, new_case

from ctip.services.evidence import Locker
from ctip.services.evidence_bundle import verify_locker

PAGE = "<html><head><title>Work abroad</title></head><body><h1>Factory jobs in Dubai, " \
       "3000 USD a month, no experience</h1><p>Passport held by agent for safety</p></body></html>"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "ad.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ad.html"
    server.shutdown()
    thread.join(5)


@pytest.mark.browser
def test_capture_keeps_wacz_and_screenshot_as_evidence(sqlite_locker: Locker,
                                                       site: str) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    locker = sqlite_locker
    from warcio.archiveiterator import ArchiveIterator

    from ctip.services.web_capture import capture_page

    case = new_case(locker.core)
    archive, shot = capture_page(locker, SUP, case, site)
    assert (archive.item.kind, shot.item.kind) == ("web-capture", "screenshot")
    assert archive.item.mime == "application/zip" and shot.item.mime == "image/png"
    info, chunks = locker.view(SUP, case, archive.item.sha256, purpose="quality-check")
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as wacz:
        names = wacz.namelist()
        assert "datapackage.json" in names and "pages/pages.jsonl" in names
        warc = next(n for n in names if n.startswith("archive/"))
        responses = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                     for r in ArchiveIterator(io.BytesIO(wacz.read(warc)))
                     if r.rec_type == "response"]
    assert responses and responses[0][0] == site
    assert b"Passport held by agent" in responses[0][1]
    _info, png = locker.view(SUP, case, shot.item.sha256, purpose="quality-check")
    data = b"".join(png)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    width = int.from_bytes(data[16:20], "big")
    assert width == 1280
    events = locker.custody(SUP, case)
    assert [e["action"] for e in events[:2]] == ["ingest", "ingest"]
    assert events[1]["details"]["capture"] == archive.item.sha256
    assert site not in str(events)  # the URL is sealed; events carry its hash
    assert verify_locker(locker, [case]).ok
