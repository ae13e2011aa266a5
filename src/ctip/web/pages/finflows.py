"""The financial-flow alerts are a review queue read and decided on the generic review pages
(``/review/finflows.alerts``: the agency's alerts with the reasons each waits, one alert's rule,
version, window, thresholds and evidence transaction ids, never an account number or a name, and
the decision form: accept, dismiss with a reason, link to a victim case).

The addresses of the page this queue had before stay, as redirects, for bookmarks and links in
messages already sent."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from ctip.services.finflows import QUEUE_NAME

router = APIRouter()
HOME = f"/review/{QUEUE_NAME}"


@router.get("/finflows/alerts", name="pages_finflows_alerts", include_in_schema=False)
def alerts() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/finflows/alerts/{item_id}", name="pages_finflows_alert", include_in_schema=False)
def alert(item_id: str) -> Response:
    return RedirectResponse(f"{HOME}/{item_id}", status_code=303)


@router.post("/finflows/alerts/{item_id}", name="pages_finflows_decide",
             include_in_schema=False)
def decide(item_id: str) -> Response:
    """307: the browser posts the same form (and its CSRF token) to the review page's decision."""
    return RedirectResponse(f"{HOME}/{item_id}/decide", status_code=307)
