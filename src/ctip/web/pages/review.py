"""Review queues as pages: one pattern for every queue of the generic review queue.

``/review`` lists the queues the user's role reads, with their open counts. ``/review/{queue}``
lists one queue's items (highest score first) with the reasons each waits, ``/review/{queue}/
{item}`` shows one item, its decision history and the decision form (the queue kind says which
decisions exist, which need a reason, which link a case). Any registered queue works here as it
is (``ReviewQueues``); a queue whose decisions have effects elsewhere plugs in a ``QueuePage``
with its own reader and decider, as linkage does: a decision also merges or splits the run's
clusters, and the two records' identities are shown only after an audited reveal with a reason.

The investigation queues use the same pages: financial-flow alerts as they are, screened job ads
and supply-chain hits with their module's decider (which checks the ad or the hit group is the
agency's) and a link to the module's page of what is reviewed (the ad's text with its marked
phrases; the hit group with its list versions). Who reads and decides is the queue kind's roles
(investigators and supervisors, never caseworkers), checked by the services on every call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain import ads_queue, linkage_queue, supply
from ctip.domain.review import QUEUES, QueueKind, ReviewItem, queue_kind
from ctip.errors import CtipError, PermissionDeniedError, ValidationError
from ctip.services.linkage_review import LinkageReviews
from ctip.services.review import ReviewQueues
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
from ctip.web.pages.labels import DECISION, N_, QUEUE_TITLE
from ctip.web.pages.render import render

router = APIRouter()

TITLES = QUEUE_TITLE  # queue titles, marked for translation in labels
DECISION_LABELS = DECISION
REASON_LABELS = {  # reason codes of the linkage queue; other queues' texts are shown as stored
    "score_band": N_("Score band"),
    "dob_disagree": N_("Dates of birth disagree"),
    "dob_missing": N_("Date of birth missing"),
}
SUBJECT_LABELS = {  # the link from an item to the module's page of what it reviews
    ads_queue.QUEUE_NAME: N_("Read the ad, its marked phrases and its poster network"),
    supply.QUEUE_NAME: N_("See the hit group and the list versions behind it"),
}


@dataclass(frozen=True)
class QueuePage:
    """How the pages read and decide one queue, when the generic ``ReviewQueues`` is not all."""

    items: Callable[[Request, PageUser, bool, int, int], list[ReviewItem]]  # open only, limit,
    # offset
    item: Callable[[Request, PageUser, str], tuple[ReviewItem, dict[str, Any]]]
    decide: Callable[[Request, PageUser, str, str, str | None, str | None], object]
    refresh: Callable[[Request, PageUser], Any] | None = None  # "fetch new items" button


def _queues(request: Request) -> ReviewQueues:
    return ReviewQueues.of(casework(request))


def _linkage(request: Request) -> LinkageReviews:
    state = request.app.state
    found = getattr(state, "linkage_reviews", None)
    if found is None:
        cw = casework(request)
        found = state.linkage_reviews = LinkageReviews.over(
            cw.engine, cw.sealer, cw.pseudonymiser, cw.audit, state.settings)
    return found


def _generic() -> QueuePage:
    return QueuePage(
        items=lambda request, user, open_only, limit, offset: [],  # replaced per queue below
        item=lambda request, user, item_id: (_queues(request).item(user.principal, item_id), {}),
        decide=lambda request, user, item_id, decision, reason, case: _queues(request).decide(
            user.principal, item_id, decision, reason=reason, linked_case=case),
    )


def _linkage_item(request: Request, user: PageUser, item_id: str
                  ) -> tuple[ReviewItem, dict[str, Any]]:
    item, pair = _linkage(request).item(user.principal, item_id)
    return item, {"pair": pair}


LINKAGE_PAGE = QueuePage(
    items=lambda request, user, open_only, limit, offset: _linkage(request).items(
        user.principal, open_only=open_only, limit=limit, offset=offset),
    item=_linkage_item,
    decide=lambda request, user, item_id, decision, reason, case: _linkage(request).decide(
        user.principal, item_id, decision, reason=reason),
    refresh=lambda request, user: _linkage(request).queue_latest_run(user.principal),
)


def _ads(request: Request) -> Any:
    from ctip.services.ads import AdScreening  # the screener's libraries load on first use

    return AdScreening.of(casework(request))


def _supply(request: Request) -> Any:
    from ctip.services.supply import SupplyChains

    return SupplyChains.of(casework(request))


def _module_page(queue: str, subject_url: str, decider: Callable[[Request], Any]) -> QueuePage:
    """A queue read as it is, decided through its module's service, linking to its own page."""

    def item(request: Request, user: PageUser, item_id: str) -> tuple[ReviewItem, dict[str, Any]]:
        found = _queues(request).item(user.principal, item_id)
        return found, {"subject_url": subject_url.format(item_id=found.item_id),
                       "subject_label": _(request, SUBJECT_LABELS[queue])}

    return QueuePage(
        items=lambda request, user, open_only, limit, offset: _queues(request).items(
            user.principal, queue, open_only=open_only, limit=limit, offset=offset),
        item=item,
        decide=lambda request, user, item_id, decision, reason, case: decider(request).decide(
            user.principal, item_id, decision, reason=reason),
    )


PAGES: dict[str, QueuePage] = {
    linkage_queue.QUEUE_NAME: LINKAGE_PAGE,
    ads_queue.QUEUE_NAME: _module_page(ads_queue.QUEUE_NAME, "/ads/{item_id}", _ads),
    supply.QUEUE_NAME: _module_page(supply.QUEUE_NAME, "/supply/{item_id}", _supply),
}


def _page_of(queue: str) -> tuple[QueueKind, QueuePage]:
    kind = queue_kind(queue)  # an unknown queue: ValidationError (422), named
    return kind, PAGES.get(queue, _generic())


def _labels(request: Request) -> dict[str, Any]:
    return {
        "decision_labels": {k: _(request, v) for k, v in DECISION_LABELS.items()},
        "reason_labels": {k: _(request, v) for k, v in REASON_LABELS.items()},
    }


@router.get("/review", name="pages_review", include_in_schema=False)
def index(request: Request) -> Response:
    user = require_user(request, "review")
    queues = []
    for name, kind in sorted(QUEUES.items()):
        if user.principal.role not in kind.readers:
            continue
        try:
            counts = _queues(request).counts(user.principal, name)
        except CtipError:
            continue
        queues.append({"name": name, "title": _(request, TITLES.get(name, kind.title)),
                       "open": counts.get("open", 0),
                       "decided": sum(n for k, n in counts.items() if k != "open"),
                       "url": f"/review/{name}"})
    if not queues:
        return error_page(request, PermissionDeniedError(
            _(request, "Your role reads no review queue."),
            hint=_(request, "Ask a supervisor if your work needs it.")))
    return render(request, "review_index.html",
                  {"title": _(request, "Review queues"), "queues": queues})


QUEUE_PAGE_SIZE = 50


@router.get("/review/{queue}", name="pages_review_queue", include_in_schema=False)
def queue_page(request: Request, queue: str, show: str = "open", page: int = 1) -> Response:
    """One queue, highest score first, a page at a time (every item reachable, each page the
    same size however long the queue)."""
    user = require_user(request, "review")
    number = max(page, 1)
    try:
        kind, queue_page_of = _page_of(queue)
        open_only = show != "all"
        limit, offset = QUEUE_PAGE_SIZE + 1, (number - 1) * QUEUE_PAGE_SIZE
        items = (queue_page_of.items(request, user, open_only, limit, offset) if queue in PAGES
                 else _queues(request).items(user.principal, queue, open_only=open_only,
                                             limit=limit, offset=offset))
        counts = _queues(request).counts(user.principal, queue)
    except CtipError as error:
        return error_page(request, error)
    done = request.query_params.get("added")
    return render(request, "review_queue.html", {
        "title": _(request, TITLES.get(queue, kind.title)),
        "kind": kind, "items": items[:QUEUE_PAGE_SIZE], "counts": counts,
        "show": "all" if show == "all" else "open", "page": number,
        "more": len(items) > QUEUE_PAGE_SIZE,
        "can_refresh": queue_page_of.refresh is not None, "added": done,
        "caveat": _(request, kind.caveat) if kind.caveat else "",
        **_labels(request),
    })


@router.post("/review/{queue}/refresh", name="pages_review_refresh", include_in_schema=False)
def refresh(request: Request, queue: str, form: FormDep) -> Response:
    user = require_user(request, "review")
    check_csrf(request, user, form)
    try:
        _kind, page = _page_of(queue)
        if page.refresh is None:
            raise ValidationError(_(request, "This queue is filled by its own module."),
                                  column="queue", value=queue)
        added = page.refresh(request, user)
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/review/{queue}?added={getattr(added, 'added', 0)}")


def _item_page(request: Request, user: PageUser, queue: str, item_id: str, *,
               status_code: int = 200, **extra: Any) -> Response:
    try:
        kind, page = _page_of(queue)
        item, more = page.item(request, user, item_id)
        if item.queue != queue:
            raise queue_mismatch(item_id)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "review_item.html", {
        "title": _(request, TITLES.get(queue, kind.title)),
        "kind": kind, "item": item, "may_decide": user.principal.role in kind.deciders,
        "caveat": _(request, kind.caveat) if kind.caveat else "",
        "revealed": None, "errors": {}, "action_error": "",
        "can_reveal": queue == linkage_queue.QUEUE_NAME, "subject_url": "",
        **_labels(request), **more, **extra,
    }, status_code=status_code)


def queue_mismatch(item_id: str) -> CtipError:
    from ctip.errors import NotFoundError

    return NotFoundError("no review item {item} is visible to you",
                         params={"item": repr(item_id)})


@router.get("/review/{queue}/{item_id}", name="pages_review_item", include_in_schema=False)
def item_page(request: Request, queue: str, item_id: str) -> Response:
    user = require_user(request, "review")
    return _item_page(request, user, queue, item_id)


@router.post("/review/{queue}/{item_id}/decide", name="pages_review_decide",
             include_in_schema=False)
def decide(request: Request, queue: str, item_id: str, form: FormDep) -> Response:
    user = require_user(request, "review")
    check_csrf(request, user, form)
    try:
        _kind, page = _page_of(queue)
        item, _more = page.item(request, user, item_id)
        if item.queue != queue:
            raise queue_mismatch(item_id)
        page.decide(request, user, item_id, str(form.get("decision") or ""),
                    str(form.get("reason") or "").strip() or None,
                    str(form.get("case") or "").strip() or None)
    except ValidationError as error:
        return _item_page(request, user, queue, item_id, status_code=422,
                          action_error=localised(request, error)[0])
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/review/{queue}?decided={item_id}")


@router.post("/review/linkage.pairs/{item_id}/reveal", name="pages_review_reveal",
             include_in_schema=False)
def reveal(request: Request, item_id: str, form: FormDep) -> Response:
    """The two identities, in this response only (never a URL or a cache); audited."""
    user = require_user(request, "review")
    check_csrf(request, user, form)
    queue = linkage_queue.QUEUE_NAME
    try:
        identities = _linkage(request).reveal(user.principal, item_id,
                                              reason=str(form.get("reason") or ""))
    except ValidationError:
        return _item_page(request, user, queue, item_id, status_code=422, errors={
            "reason": _(request, "Say why you need to see the two identities (a sentence).")})
    except CtipError as error:
        return error_page(request, error)
    pair = _linkage(request).item(user.principal, item_id)[1]
    shown = []
    for side, victim_id in (("left", pair.left), ("right", pair.right)):
        ident = identities.get(victim_id)
        fields = [(k, ", ".join(v) if isinstance(v, (list, tuple)) else v)
                  for k, v in (dataclasses.asdict(ident).items() if ident else ())]
        shown.append({"side": side, "victim_id": victim_id, "fields": fields})
    return _item_page(request, user, queue, item_id, revealed=shown)
