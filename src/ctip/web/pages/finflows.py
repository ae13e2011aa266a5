"""The review page of financial-flow alerts: the agency's open alerts, one alert's reasons
(rule, version, window, thresholds, evidence transaction ids; never an account number or a
name) and the decision form (accept, dismiss with a reason, link to a victim case)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.errors import CtipError
from ctip.services.finflows import QUEUE, QUEUE_NAME
from ctip.services.review import ReviewQueues
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


def _queues(request: Request) -> ReviewQueues:
    return ReviewQueues.of(casework(request))


@router.get("/finflows/alerts", name="pages_finflows_alerts", include_in_schema=False)
def alerts(request: Request) -> Response:
    user = require_user(request, "finflows")
    try:
        queues = _queues(request)
        items = queues.items(user.principal, QUEUE_NAME, limit=200)
        counts = queues.counts(user.principal, QUEUE_NAME)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "finflows_alerts.html", {
        "title": _(request, "Financial-flow alerts"), "items": items, "counts": counts,
        "caveat": QUEUE.caveat, "item": None})


@router.get("/finflows/alerts/{item_id}", name="pages_finflows_alert", include_in_schema=False)
def alert(request: Request, item_id: str) -> Response:
    user = require_user(request, "finflows")
    try:
        item = _queues(request).item(user.principal, item_id)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "finflows_alerts.html", {
        "title": _(request, "Financial-flow alerts"), "items": [], "counts": {},
        "caveat": QUEUE.caveat, "item": item, "decisions": QUEUE.decisions})


@router.post("/finflows/alerts/{item_id}", name="pages_finflows_decide",
             include_in_schema=False)
def decide(request: Request, item_id: str, form: FormDep) -> Response:
    user = require_user(request, "finflows")
    check_csrf(request, user, form)
    try:
        _queues(request).decide(user.principal, item_id, str(form.get("decision") or ""),
                                reason=str(form.get("reason") or "") or None,
                                linked_case=str(form.get("case") or "").strip() or None)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/finflows/alerts/{item_id}")
