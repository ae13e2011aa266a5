"""Screened job ads (``ctip ads``): the agency's ranked queue, one ad with its marked spans and
the decision form, and the networks of posters.

The screener is loaded on first use (its science libraries are heavy; most users never open
these pages). Identifiers are shown as labels of their kind and pseudonym, never in clear.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain.ads_queue import DECISIONS
from ctip.errors import CtipError
from ctip.web.pages.common import (
    FormDep,
    _,
    casework,
    check_csrf,
    error_page,
    localised,
    redirect,
    require_user,
)
from ctip.web.pages.labels import N_
from ctip.web.pages.render import render

router = APIRouter()
DECISION_LABELS = {"risky": N_("Risky"), "fine": N_("Fine"), "escalate": N_("Escalate")}


def _screening(request: Request) -> Any:
    from ctip.services.ads import AdScreening

    return AdScreening.of(casework(request))


@router.get("/ads", name="pages_ads", include_in_schema=False)
def queue(request: Request, show: str = "open") -> Response:
    user = require_user(request, "ads")
    try:
        svc = _screening(request)
        items = svc.review(user.principal, open_only=show != "all", limit=100)
        counts = svc.counts(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "ads.html", {
        "title": _(request, "Screened job ads"), "items": items, "counts": counts,
        "show": show})


@router.get("/ads/clusters", name="pages_ad_clusters", include_in_schema=False)
def clusters(request: Request) -> Response:
    user = require_user(request, "ads")
    try:
        found = _screening(request).clusters(user.principal, limit=50)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "ad_clusters.html", {
        "title": _(request, "Networks of posters"), "clusters": found})


@router.get("/ads/{item_id}", name="pages_ad", include_in_schema=False)
def ad(request: Request, item_id: str, error: str = "") -> Response:
    user = require_user(request, "ads")
    try:
        view = _screening(request).ad(user.principal, item_id)
    except CtipError as failure:
        return error_page(request, failure)
    from ctip.services.ads import indicator_titles

    return render(request, "ad.html", {
        "title": view.title or _(request, "Screened job ad"), "ad": view,
        "indicators": indicator_titles(), "decisions": [
            (d, _(request, DECISION_LABELS[d])) for d in DECISIONS],
        "form_error": error})


@router.post("/ads/{item_id}/decide", name="pages_ad_decide", include_in_schema=False)
def decide(request: Request, item_id: str, form: FormDep) -> Response:
    user = require_user(request, "ads")
    check_csrf(request, user, form)
    try:
        _screening(request).decide(user.principal, item_id, str(form.get("decision") or ""),
                                   reason=str(form.get("reason") or "") or None)
    except CtipError as failure:
        if failure.http_status == 422:
            return ad(request, item_id, error=localised(request, failure)[0])
        return error_page(request, failure)
    return redirect("/ads")
