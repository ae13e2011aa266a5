"""The audit log as a page for auditors: the newest entries, filtered by subject or action,
and whether the hash chain verifies. Reading the log is itself audited (by the service)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.errors import CtipError
from ctip.web.pages.common import casework, error_page, require_user
from ctip.web.pages.render import render

router = APIRouter()
SHOWN = 200  # entries on the page; the API (/api/v1/audit) pages through the rest


@router.get("/audit-log", name="pages_audit", include_in_schema=False)
def audit_page(request: Request, subject: str = "", action: str = "") -> Response:
    user = require_user(request, "audit")
    cw = casework(request)
    subject, action = subject.strip()[:200], action.strip()[:100]
    try:
        entries = cw.audit_entries(user.principal, subject=subject or None,
                                   action=action or None, limit=SHOWN, newest_first=True)
        verified = cw.verify_audit(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "audit_log.html", {
        "entries": entries, "verified": verified, "subject": subject, "action": action,
        "shown": SHOWN,
    })
