"""Pages for the follow-up of commitments (para 31): cycles, evidence entry and review, the score.

A coordinator opens cycles, enters evidence (with an optional file: only its SHA-256 is kept)
and stores snapshots; a reviewer accepts or rejects evidence someone else entered. Both read
the assessment, computed from the accepted evidence with every step shown. No case data here.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from ctip.domain.access import Action
from ctip.errors import CtipError, ValidationError
from ctip.services.followup import GRADES, KINDS, SOURCE_KINDS, FollowUp
from ctip.web.pages.common import (
    FormDep,
    _,
    casework,
    check_csrf,
    error_page,
    redirect,
    require_user,
)
from ctip.web.pages.render import render

router = APIRouter()


def service(request: Request) -> FollowUp:
    state = request.app.state
    if getattr(state, "followup", None) is None:
        cw = casework(request)
        state.followup = FollowUp(cw.engine, cw.audit)
    return cast(FollowUp, state.followup)


def _date(text: str, field: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError("dates are YYYY-MM-DD", column=field, value=text) from None


@router.get("/followup", name="pages_followup", include_in_schema=False)
def cycles_page(request: Request) -> Response:
    user = require_user(request, "followup")
    try:
        rows = service(request).cycles(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "followup.html", {
        "title": _(request, "Follow-up of commitments"), "cycles": rows,
        "kinds": KINDS, "can_edit": user.may(Action.FOLLOWUP_EDIT)})


@router.post("/followup", name="pages_followup_new", include_in_schema=False)
def new_cycle(request: Request, form: FormDep) -> Response:
    user = require_user(request, "followup")
    check_csrf(request, user, form)
    try:
        start = _date(str(form.get("period_start") or ""), "period_start")
        end = _date(str(form.get("period_end") or ""), "period_end")
        if start is None or end is None:
            raise ValidationError("give the period's first and last day", column="period")
        row = service(request).new_cycle(user.principal, country=str(form.get("country") or ""),
                                         period_start=start, period_end=end,
                                         kind=str(form.get("kind") or "quadrennial"))
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/followup/{row.cycle_id}")


@router.get("/followup/{cycle_id}", name="pages_followup_cycle", include_in_schema=False)
def cycle_page(request: Request, cycle_id: str) -> Response:
    user = require_user(request, "followup")
    svc, p = service(request), user.principal
    try:
        row = svc.cycle(p, cycle_id)
        framework, _rules = svc.framework_of(row)
        evidence = svc.evidence(p, cycle_id)
        result = svc.score(p, cycle_id, save=False).result
        snapshots = svc.snapshots(p, cycle_id)
    except CtipError as error:
        return error_page(request, error)
    me = f"{p.username}@{p.agency}"
    return render(request, "followup_cycle.html", {
        "title": cycle_id, "cycle": row, "result": result, "evidence": evidence,
        "snapshots": snapshots, "titles": {u.id: u.title for u in framework.units},
        "indicators": sorted(framework.indicators.items()),
        "source_kinds": [(k, k) for k in SOURCE_KINDS],
        "grades": [(g, g) for g in GRADES],
        "can_edit": user.may(Action.FOLLOWUP_EDIT) and row.status == "open",
        "can_review": user.may(Action.FOLLOWUP_REVIEW) and row.status == "open", "me": me})


@router.post("/followup/{cycle_id}/evidence", name="pages_followup_evidence",
             include_in_schema=False)
def add_evidence(request: Request, cycle_id: str, form: FormDep) -> Response:
    user = require_user(request, "followup")
    check_csrf(request, user, form)
    grade = str(form.get("grade") or "B2")
    upload = form.get("file")
    try:
        with tempfile.TemporaryDirectory(prefix="ctip-evidence-") as folder:
            path = None
            if isinstance(upload, UploadFile) and upload.filename:
                # the attachment keeps its own name; only its hash is stored (no copy yet)
                path = Path(folder) / Path(upload.filename).name
                path.write_bytes(upload.file.read())
            service(request).add_evidence(
                user.principal, cycle_id, indicator=str(form.get("indicator") or ""),
                value=str(form.get("value") or ""),
                as_of=_date(str(form.get("as_of") or ""), "as_of"),
                citation=str(form.get("citation") or ""),
                source_kind=str(form.get("source_kind") or "report"),
                reliability=grade[:1], credibility=grade[1:2], file=path)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/followup/{cycle_id}#evidence")


@router.post("/followup/{cycle_id}/review/{evidence_id}", name="pages_followup_review",
             include_in_schema=False)
def review(request: Request, cycle_id: str, evidence_id: str, form: FormDep) -> Response:
    user = require_user(request, "followup")
    check_csrf(request, user, form)
    try:
        service(request).review(user.principal, evidence_id,
                                accept=str(form.get("decision")) == "accept",
                                note=str(form.get("note") or "") or None)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/followup/{cycle_id}#evidence")


@router.post("/followup/{cycle_id}/score", name="pages_followup_score", include_in_schema=False)
def store_score(request: Request, cycle_id: str, form: FormDep) -> Response:
    user = require_user(request, "followup")
    check_csrf(request, user, form)
    try:
        service(request).score(user.principal, cycle_id)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/followup/{cycle_id}#snapshots")
