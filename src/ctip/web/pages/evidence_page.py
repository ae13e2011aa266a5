"""The evidence tab of a case (issue 14): items, the custody log, and what the user may do.

Every open, hold, disposal and export goes through ``services.evidence`` (role and agency checks,
a signed custody event, an audit entry). Evidence is always served as a download
(``attachment``, ``nosniff``, no inline rendering): an HTML page or an SVG kept as evidence must
never run in this site's origin. A bundle downloads as a zip of the folder ``ctip evidence
export`` writes; it holds the evidence in plaintext, as the page says.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ctip.domain.access import Action
from ctip.errors import CtipError, InputFileError
from ctip.services.evidence import Locker
from ctip.services.evidence_bundle import export_bundle
from ctip.web.pages import labels
from ctip.web.pages.common import (
    FormDep,
    PageUser,
    _,
    casework,
    check_csrf,
    error_page,
    localised,
    redirect,
    require_user,
)
from ctip.web.pages.render import render

router = APIRouter()

PURPOSE_LABELS = {
    "investigation": labels.N_("Investigation"),
    "prosecution": labels.N_("Prosecution"),
    "disclosure": labels.N_("Disclosure to the defence or a partner"),
    "court-order": labels.N_("Court order"),
    "identification": labels.N_("Identification decision"),
    "quality-check": labels.N_("Quality check"),
    "retention": labels.N_("End of retention"),
    "victim-request": labels.N_("Request by the survivor"),
    "other": labels.N_("Other (say why in the note)"),
}
DONE = {
    "added": labels.N_("Evidence stored: hashed, encrypted and time-stamped."),
    "hold": labels.N_("Legal hold changed."),
    "disposed": labels.N_("Item disposed of. Its hash and custody record remain."),
}


def locker(request: Request) -> Locker:
    """One locker per app, over the app's casework service and settings."""
    state = request.app.state
    found = getattr(state, "locker", None)
    if found is None:
        found = state.locker = Locker.over(casework(request), state.settings)
    return found


def _page(request: Request, user: PageUser, case_id: str, *, status_code: int = 200,
          action_error: CtipError | None = None) -> Response:
    """The case's evidence page; ``action_error``: a refused action, shown with its hint in the
    user's language."""
    p = user.principal
    lk = locker(request)
    items, events = lk.items(p, case_id), lk.custody(p, case_id)
    done = request.query_params.get("done")
    ctx: dict[str, Any] = {
        "title": f"{_(request, 'Evidence')} · {case_id[:8]}",
        "case_id": case_id, "short_id": case_id[:8], "items": items, "events": events,
        "purposes": [(code, _(request, text)) for code, text in PURPOSE_LABELS.items()],
        "may_add": user.may(Action.EVIDENCE_ADD), "may_export": user.may(Action.EVIDENCE_EXPORT),
        "may_dispose": user.may(Action.EVIDENCE_DISPOSE),
        "flashes": [("ok", _(request, DONE[done]))] if done in DONE else [],
    }
    ctx["action_error"], ctx["action_hint"] = (
        localised(request, action_error) if action_error is not None else ("", ""))
    return render(request, "evidence.html", ctx, status_code=status_code)


@router.get("/cases/{case_id}/evidence", name="pages_evidence", include_in_schema=False)
def evidence_page(request: Request, case_id: str) -> Response:
    user = require_user(request, "cases")
    try:
        return _page(request, user, case_id)
    except CtipError as error:
        return error_page(request, error)


def _act(request: Request, case_id: str, form: Any, run: Any, done: str) -> Response:
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    try:
        run(user, form)
    except CtipError as error:
        if error.http_status in (403, 404):
            return error_page(request, error)
        return _page(request, user, case_id, status_code=error.http_status,
                     action_error=error)
    return redirect(f"/cases/{case_id}/evidence?done={done}")


def _text(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


@router.post("/cases/{case_id}/evidence", name="pages_evidence_add", include_in_schema=False)
def add(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        upload = form.get("file")
        if upload is None or not getattr(upload, "filename", ""):
            raise InputFileError(_(request, "Choose a file to add."))
        locker(request).ingest(user.principal, case_id, upload.file, name=upload.filename,
                               origin=_text(form, "source"),
                               purpose=_text(form, "purpose") or "investigation",
                               note=_text(form, "note"))

    return _act(request, case_id, form, run, "added")


@router.post("/cases/{case_id}/evidence/{sha256}/hold", name="pages_evidence_hold",
             include_in_schema=False)
def hold(request: Request, case_id: str, sha256: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        locker(request).hold(user.principal, case_id, sha256, on=form.get("on") == "1",
                             purpose=_text(form, "purpose") or "court-order",
                             note=_text(form, "note"))

    return _act(request, case_id, form, run, "hold")


@router.post("/cases/{case_id}/evidence/{sha256}/dispose", name="pages_evidence_dispose",
             include_in_schema=False)
def dispose(request: Request, case_id: str, sha256: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        locker(request).dispose(user.principal, case_id, sha256, note=_text(form, "note"))

    return _act(request, case_id, form, run, "disposed")


def _download(chunks: Iterator[bytes], filename: str, media_type: str) -> StreamingResponse:
    return StreamingResponse(chunks, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.post("/cases/{case_id}/evidence/{sha256}/open", name="pages_evidence_open",
             include_in_schema=False)
def open_item(request: Request, case_id: str, sha256: str, form: FormDep) -> Response:
    """Download an item; the view is a custody event committed before the first byte."""
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    try:
        item, chunks = locker(request).view(user.principal, case_id, sha256,
                                            purpose=_text(form, "purpose") or "investigation",
                                            note=_text(form, "note"))
    except CtipError as error:
        return error_page(request, error)
    suffix = Path(item.name).suffix.lower()
    safe = suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""
    return _download(chunks, f"{item.sha256[:16]}{safe}", "application/octet-stream")


@router.post("/cases/{case_id}/evidence/export", name="pages_evidence_export",
             include_in_schema=False)
def export(request: Request, case_id: str, form: FormDep) -> Response:
    """The case's bundle as a zip (its README says how to check it without ctip)."""
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    work = Path(tempfile.mkdtemp(prefix="ctip-bundle-"))
    try:
        folder = export_bundle(locker(request), user.principal, case_id, work / "bundle",
                               purpose=_text(form, "purpose") or "prosecution",
                               note=_text(form, "note"))
        archive = work / "bundle.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    out.write(path, f"evidence-{case_id[:8]}/{path.relative_to(folder)}")
        shutil.rmtree(folder)
    except CtipError as error:
        shutil.rmtree(work, ignore_errors=True)
        if error.http_status in (403, 404):
            return error_page(request, error)
        return _page(request, user, case_id, status_code=error.http_status,
                     action_error=error)

    def stream() -> Iterator[bytes]:
        try:
            with archive.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    yield chunk
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return _download(stream(), f"evidence-{case_id[:8]}.zip", "application/zip")
