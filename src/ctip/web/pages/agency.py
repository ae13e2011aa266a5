"""Pages for an agency's work as a whole: referral inbox, service directory, dashboard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain.access import Action
from ctip.domain.casework import SERVICE_TYPES, Service
from ctip.errors import CtipError, PermissionDeniedError, ValidationError
from ctip.web import i18n
from ctip.web.pages import labels
from ctip.web.pages.charts import bar_chart, line_chart
from ctip.web.pages.common import (
    FormDep,
    _,
    casework,
    check_csrf,
    error_page,
    redirect,
    require_user,
)
from ctip.web.pages.helpers import code_options, options
from ctip.web.pages.render import render

router = APIRouter()


def _tr(request: Request) -> Callable[[str], str]:
    return i18n.translations(request.state.locale).gettext


# ---- referral inbox ----


@router.get("/referrals", name="pages_referrals", include_in_schema=False)
def inbox(request: Request, show: str = "open") -> Response:
    user = require_user(request, "referrals")
    svc, p = casework(request), user.principal
    try:
        incoming = svc.referrals(p, incoming=True)
        overdue = svc.referrals(p, incoming=True, overdue_only=True)
    except CtipError as error:
        return error_page(request, error)
    wanted = {
        "open": ("pending", "accepted"),
        "pending": ("pending",),
        "accepted": ("accepted",),
        "closed": ("declined", "completed", "revoked"),
    }.get(show, ("pending", "accepted"))
    shown = sorted(
        (r for r in incoming if r.status in wanted),
        key=lambda r: (r.due_date or date.max, r.created_at or date.min),
    )
    tr = _tr(request)
    return render(
        request,
        "referrals.html",
        {
            "title": _(request, "Referral inbox"),
            "numbers": svc.case_numbers(p, [r.case_id for r in (*shown, *overdue)]),
            "referrals": shown,
            "overdue": overdue,
            "show": show,
            "filters": [
                ("open", tr("Open")),
                ("pending", tr("Waiting for an answer")),
                ("accepted", tr("Accepted")),
                ("closed", tr("Closed")),
            ],
            "can_respond": user.may(Action.REFERRAL_RESPOND),
            "today": date.today(),
            "action_error": request.query_params.get("error")
            and tr("That referral could not be updated: it may have been answered already."),
        },
    )


SENT_FILTERS = {
    "all": ("pending", "accepted", "declined", "completed", "revoked"),
    "open": ("pending", "accepted"),
    "pending": ("pending",),
    "accepted": ("accepted",),
    "declined": ("declined",),
    "closed": ("completed", "revoked"),
}


SENT_PAGE_SIZE = 50


@router.get("/referrals/sent", name="pages_referrals_sent", include_in_schema=False)
def sent(request: Request, show: str = "all", page: int = 1) -> Response:
    """The referrals the agency sent, each with its state (and the recipient's answer date),
    newest first, a page at a time."""
    user = require_user(request, "referrals_sent")
    svc, p = casework(request), user.principal
    show = show if show in SENT_FILTERS else "all"
    page = max(page, 1)
    try:
        found = svc.sent_referrals(p, statuses=SENT_FILTERS[show], limit=SENT_PAGE_SIZE,
                                   offset=(page - 1) * SENT_PAGE_SIZE)
    except CtipError as error:
        return error_page(request, error)
    counts = {k: sum(found.counts.get(s, 0) for s in v) for k, v in SENT_FILTERS.items()}
    tr = _tr(request)
    return render(
        request,
        "referrals_sent.html",
        {
            "title": _(request, "Sent referrals"),
            "referrals": found.referrals,
            "numbers": found.numbers,
            "show": show,
            "page": page,
            "more": found.more,
            "counts": counts,
            "filters": [
                ("all", tr("All")),
                ("open", tr("Open")),
                ("pending", tr("Waiting for an answer")),
                ("accepted", tr("Accepted")),
                ("declined", tr("Declined")),
                ("closed", tr("Closed")),
            ],
            "today": date.today(),
        },
    )


@router.post("/referrals/{referral_id}", name="pages_referral_respond", include_in_schema=False)
def respond(request: Request, referral_id: str, form: FormDep) -> Response:
    user = require_user(request, "referrals")
    check_csrf(request, user, form)
    svc, p = casework(request), user.principal
    decision, reason = str(form.get("decision") or ""), str(form.get("reason") or "")
    try:
        if decision == "accept":
            svc.accept_referral(p, referral_id)
        elif decision == "decline":
            svc.decline_referral(p, referral_id, reason=reason)
        elif decision == "complete":
            svc.complete_referral(p, referral_id)
        else:
            raise ValidationError(
                "choose accept, decline or complete", column="decision", value=decision
            )
    except (ValidationError, PermissionDeniedError) as error:
        return error_page(request, error)
    except CtipError as error:
        if error.http_status == 404:
            return error_page(request, error)
        return redirect("/referrals?error=1")
    return redirect(f"/referrals#ref-{referral_id}")


# ---- service directory ----


def _int(text: str) -> int | None:
    try:
        return int(text) if text.strip() else None
    except ValueError:
        return None


def _directory(
    request: Request, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Response:
    user = require_user(request, "services")
    q = request.query_params
    filters = {k: q.get(k, "") for k in ("service_type", "sex", "age", "language", "location")}
    try:
        found = casework(request).find_services(
            user.principal,
            service_type=filters["service_type"] or None,
            location=filters["location"] or None,
            sex=filters["sex"] or None,
            age=_int(filters["age"]),
            language=filters["language"] or None,
            eligible_only=any(filters[k] for k in ("sex", "age", "language")),
        )
    except CtipError as error:
        return error_page(request, error)
    tr = _tr(request)
    return render(
        request,
        "services.html",
        {
            "title": _(request, "Service directory"),
            "services": found,
            "filters": filters,
            "service_type_options": options(labels.SERVICE_TYPE, tr, SERVICE_TYPES),
            "sex_options": code_options("sex", tr),
            "can_manage": user.may(Action.DIRECTORY_MANAGE),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/directory", name="pages_services", include_in_schema=False)
def directory(request: Request) -> Response:
    return _directory(request, {}, {})


@router.post("/directory", include_in_schema=False)
def add_service(request: Request, form: FormDep) -> Response:
    user = require_user(request, "services")
    check_csrf(request, user, form)
    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip()
        for k in ("name", "service_type", "location", "languages", "min_age", "max_age", "capacity")
    }
    values["sexes"] = tuple(form.getlist("sexes"))
    values["accepts_children"] = form.get("accepts_children") == "yes"
    errors = {
        k: _(request, "Enter a whole number, or leave it empty.")
        for k in ("min_age", "max_age", "capacity")
        if values[k] and _int(values[k]) is None
    }
    if not values["name"]:
        errors["name"] = _(request, "Give the service a name.")
    if not errors:
        try:
            casework(request).add_service(
                user.principal,
                Service(
                    service_id="",
                    agency=user.principal.agency,
                    name=values["name"],
                    service_type=values["service_type"],
                    location=values["location"] or None,
                    languages=tuple(x.strip() for x in values["languages"].split(",") if x.strip()),
                    sexes=values["sexes"],
                    min_age=_int(values["min_age"]),
                    max_age=_int(values["max_age"]),
                    accepts_children=values["accepts_children"],
                    capacity=_int(values["capacity"]),
                ),
            )
        except ValidationError as error:
            errors[error.column if error.column in values else "name"] = error.message
        except CtipError as error:
            return error_page(request, error)
        else:
            return redirect("/directory")
    return _directory(request, values, errors, status_code=422)


# ---- dashboard ----


@router.get("/dashboard", name="pages_dashboard", include_in_schema=False)
def dashboard(request: Request) -> Response:
    user = require_user(request, "dashboard")
    svc, p = casework(request), user.principal
    try:
        board = svc.dashboard(p)
    except CtipError as error:
        return error_page(request, error)
    tr = _tr(request)
    status_label = request.state.page_context["status_label"]
    by_status = sorted(
        ((status_label(s), n) for s, n in board.status_counts.items() if n), key=lambda x: -x[1]
    )
    caseload = [
        (date.fromisoformat(f"{month}-01"), open_n)
        for month, _new, open_n in board.caseload_by_month
    ]
    overdue = (
        svc.referrals(p, incoming=True, overdue_only=True)
        if user.may(Action.REFERRAL_RESPOND)
        else []
    )
    if user.may(Action.CASE_REFER):
        overdue += svc.referrals(p, incoming=False, overdue_only=True)
    tasks = svc.tasks(p) if user.may(Action.TASKS_READ) else []
    pending = (
        len([r for r in svc.referrals(p, incoming=True) if r.status == "pending"])
        if user.may(Action.REFERRAL_RESPOND)
        else 0
    )
    open_cases = sum(n for s, n in board.status_counts.items() if s not in ("closed", "withdrawn"))
    numbers = svc.case_numbers(p, [r.case_id for r in overdue] + [t.case_id for t in tasks])
    return render(
        request,
        "dashboard.html",
        {
            "title": _(request, "Dashboard"),
            "by_status": by_status,
            "caseload": caseload,
            "status_chart": bar_chart(
                by_status, label=tr("Cases by status"), value_title=tr("Cases")
            ),
            "caseload_chart": line_chart(
                caseload,
                label=tr("Open cases at the end of each month"),
                value_title=tr("Open cases"),
                time_title=tr("Month"),
            ),
            "overdue": overdue,
            "tasks": tasks,
            "pending_referrals": pending,
            "open_cases": open_cases,
            "numbers": numbers,
            "total_cases": sum(board.status_counts.values()),
            "referrals_sent": sum(board.referrals_sent.values()),
            "referrals_received": sum(board.referrals_received.values()),
            "sent_open": sum(board.referrals_sent.get(s, 0) for s in ("pending", "accepted")),
            "received_open": sum(
                board.referrals_received.get(s, 0) for s in ("pending", "accepted")
            ),
            "can_create": user.may(Action.CASE_CREATE),
            "can_manage_directory": user.may(Action.DIRECTORY_MANAGE),
            "can_refer": user.may(Action.CASE_REFER),
            "can_respond": user.may(Action.REFERRAL_RESPOND),
        },
    )
