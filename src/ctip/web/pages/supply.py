"""The supply-chain due-diligence queue (``ctip supply``): ranked hit groups with the list
version behind each, one item with its reasons and the decision form.

The screen itself runs from the command line (``ctip supply screen``); these pages show its
queue to the roles that read it. A hit is sector and geography risk, not an allegation: the
caveat heads every page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain.supply import DECISIONS
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
DECISION_LABELS = {"due_diligence": N_("Needs due diligence"), "mitigated": N_("Mitigated"),
                   "not_relevant": N_("Not relevant"), "escalate": N_("Escalate")}


def _chains(request: Request) -> Any:
    from ctip.services.supply import SupplyChains

    return SupplyChains.of(casework(request))


@router.get("/supply", name="pages_supply", include_in_schema=False)
def queue(request: Request, show: str = "open") -> Response:
    user = require_user(request, "supply")
    try:
        chains = _chains(request)
        items = chains.queue(user.principal, open_only=show != "all", limit=100)
        counts = chains.counts(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "supply.html", {
        "title": _(request, "Supply-chain due diligence"), "items": items, "counts": counts,
        "show": show})


@router.get("/supply/{item_id}", name="pages_supply_item", include_in_schema=False)
def item(request: Request, item_id: str, error: str = "") -> Response:
    user = require_user(request, "supply")
    try:
        found = _chains(request).item(user.principal, item_id)
    except CtipError as failure:
        return error_page(request, failure)
    return render(request, "supply_item.html", {
        "title": _(request, "Supply-chain hit"), "d": found, "decisions": [
            (code, _(request, DECISION_LABELS[code])) for code in DECISIONS],
        "form_error": error})


@router.post("/supply/{item_id}/decide", name="pages_supply_decide", include_in_schema=False)
def decide(request: Request, item_id: str, form: FormDep) -> Response:
    user = require_user(request, "supply")
    check_csrf(request, user, form)
    try:
        _chains(request).decide(user.principal, item_id, str(form.get("decision") or ""),
                                reason=str(form.get("reason") or "") or None)
    except CtipError as failure:
        if failure.http_status == 422:
            return item(request, item_id, error=localised(request, failure)[0])
        return error_page(request, failure)
    return redirect("/supply")
