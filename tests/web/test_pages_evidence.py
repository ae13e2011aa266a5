"""The evidence tab through the pages, in process: add a file, see it and its custody, download
it (always as an attachment), export a bundle that verifies, and the role and agency rules."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile

import pytest
from fastapi.testclient import TestClient
from pages_support import add_user, build_app, csrf_from, sign_in

from ctip.evidence.canonical import sha256_hex
from ctip.services.anchoring import init_notary
from ctip.services.evidence_bundle import verify_folder
from ctip.services.home import init_home
from ctip.services.timestamping import init_local_tsa
from ctip.settings import Settings

HTML_EVIDENCE = b"<html><script>alert('kept as evidence, never run here')</script></html>"


@pytest.fixture
def app(tmp_path, database_url):  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path / "home", database_url=database_url, tsa="local")
    init_home(settings)
    init_notary(settings)
    init_local_tsa(settings.resolved_tsa_dir)
    return build_app(settings)


def _new_case(client: TestClient) -> str:
    page = client.get("/cases/new")
    created = client.post("/cases/new", data={
        "csrf_token": csrf_from(page.text), "sex": "female", "age": "28", "nationality": "PHL",
        "exploitation_forms": ["forced_labour"], "given_name": "Maria", "languages": "tl"})
    match = re.search(r"/cases/([0-9a-f-]{36})", str(created.url))
    assert match, created.text[:300]
    return match.group(1)


def test_evidence_tab_add_download_export(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sup = add_user(app, "sara.sup", "supervisor", "Agency A")
    cw = add_user(app, "carl.cw", "caseworker", "Agency A")
    other = add_user(app, "olga.cw", "caseworker", "Agency B")
    analyst = add_user(app, "ana.an", "analyst", "Agency A")
    with TestClient(app) as cs, TestClient(app) as cc, TestClient(app) as co, \
            TestClient(app) as ca:
        for client, user in ((cs, sup), (cc, cw), (co, other), (ca, analyst)):
            sign_in(client, user)
        case_id = _new_case(cc)
        case_page = cc.get(f"/cases/{case_id}")
        assert f'href="/cases/{case_id}/evidence"' in case_page.text
        tab = cc.get(f"/cases/{case_id}/evidence")
        assert tab.status_code == 200 and "No evidence yet." in tab.text
        added = cc.post(f"/cases/{case_id}/evidence", data={
            "csrf_token": csrf_from(tab.text), "source": "shared by an NGO",
            "purpose": "investigation"}, files={"file": ("ad.html", HTML_EVIDENCE, "text/html")})
        assert added.status_code == 200 and "Evidence stored" in added.text
        digest = sha256_hex(HTML_EVIDENCE)
        assert digest[:16] in added.text and "ad.html" in added.text
        assert "Export for court" not in added.text  # a case worker does not export
        got = cc.post(f"/cases/{case_id}/evidence/{digest}/open",
                      data={"csrf_token": csrf_from(added.text), "purpose": "investigation"})
        assert got.status_code == 200 and got.content == HTML_EVIDENCE
        assert got.headers["content-disposition"].startswith("attachment")
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["x-content-type-options"] == "nosniff"
        no_csrf = cc.post(f"/cases/{case_id}/evidence/{digest}/open", data={"purpose": "other"})
        assert no_csrf.status_code == 403
        assert co.get(f"/cases/{case_id}/evidence").status_code == 404
        assert ca.get(f"/cases/{case_id}/evidence").status_code == 403
        tab = cs.get(f"/cases/{case_id}/evidence")
        assert ">view<" in tab.text and "Export for court" in tab.text
        exported = cs.post(f"/cases/{case_id}/evidence/export",
                           data={"csrf_token": csrf_from(tab.text), "purpose": "prosecution"})
        assert exported.status_code == 200, exported.text[:300]
        assert exported.headers["content-type"] == "application/zip"
        zipfile.ZipFile(io.BytesIO(exported.content)).extractall(tmp_path / "unzipped")
        bundle = next((tmp_path / "unzipped").iterdir())
        report = verify_folder(bundle)
        assert report.ok, report.problems
        actions = [json.loads(p.read_bytes())["action"]
                   for p in sorted((bundle / "custody").glob("*.json"))]
        assert actions == ["ingest", "view", "export"]
        held = cs.post(f"/cases/{case_id}/evidence/{digest}/hold",
                       data={"csrf_token": csrf_from(tab.text), "on": "1"})
        assert "Legal hold changed." in held.text and "Release hold" in held.text


def test_a_refused_disposal_is_shown_in_the_users_language(app) -> None:  # type: ignore[no-untyped-def]
    """An item under legal hold cannot be disposed of: the evidence page says so in French, with
    the item's hash filled in and the hint, and no English text of the refusal."""
    from ctip.web.i18n import translations

    sup = add_user(app, "sofia.sup", "supervisor", "Agency A")
    with TestClient(app) as client:
        sign_in(client, sup)
        client.get("/language/fr?next=/dashboard")
        case_id = _new_case(client)
        tab = client.get(f"/cases/{case_id}/evidence")
        added = client.post(f"/cases/{case_id}/evidence", data={
            "csrf_token": csrf_from(tab.text), "source": "shared by an NGO",
            "purpose": "investigation"}, files={"file": ("ad.html", HTML_EVIDENCE, "text/html")})
        assert added.status_code == 200 and '<html lang="fr"' in added.text
        digest = sha256_hex(HTML_EVIDENCE)
        held = client.post(f"/cases/{case_id}/evidence/{digest}/hold",
                           data={"csrf_token": csrf_from(added.text), "on": "1"})
        assert held.status_code == 200
        refused = client.post(f"/cases/{case_id}/evidence/{digest}/dispose",
                              data={"csrf_token": csrf_from(held.text)})
        assert refused.status_code == 409 and '<html lang="fr"' in refused.text
        fr = translations("fr")
        message = fr.gettext("item {item} is under legal hold and cannot be disposed of").format(
            item=digest[:16])
        hint = fr.gettext("release the hold first (a supervisor, with the legal basis), then "
                          "dispose")
        shown = html.unescape(refused.text)
        assert message == f"la pièce {digest[:16]} est sous conservation légale et ne peut pas " \
            "être détruite"
        assert message in shown and hint.startswith("levez d’abord") and hint in shown
        assert "legal hold and cannot" not in shown and "release the hold" not in shown
