"""Case list and search, intake form, and emergency (break-glass) access.

Search never decrypts anything: a case is found by its number, its status, or the exact name
through the keyed hash that storage keeps (``Casework.search_cases``). Intake validates each field
and puts the message next to that field; the whole form comes back filled in, so nothing typed
is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from babel import Locale
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ctip.domain import nrm
from ctip.domain.access import Action
from ctip.domain.countries import all_countries
from ctip.domain.records import Identity
from ctip.errors import CtipError, ValidationError
from ctip.services.casework import CaseIntake
from ctip.web import i18n
from ctip.web.pages.common import (
    FormDep,
    PageUser,
    _,
    casework,
    check_csrf,
    error_page,
    redirect,
    require_user,
)
from ctip.web.pages.helpers import code_options
from ctip.web.pages.render import render
from ctip.web.pages.view import CaseData

router = APIRouter()
PAGE_SIZE = 50
DOB_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"


@router.get("/cases", name="pages_cases", include_in_schema=False)
def case_list(request: Request, q: str = "", status: str = "", page: int = 1) -> Response:
    """Case number and status come in the query string; a name never does (``case_search``)."""
    return _case_list(request, require_user(request, "cases"), q, "", status, page)


@router.post("/cases", include_in_schema=False)
def case_search(request: Request, form: FormDep) -> Response:
    """The search form posts, so a name searched for never lands in a URL: not in the browser's
    history, not in a proxy's or server's access log."""
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    return _case_list(request, user, str(form.get("q") or ""), str(form.get("name") or ""),
                      str(form.get("status") or ""), 1)


def _case_list(
    request: Request, user: PageUser, q: str, name: str, status: str, page: int
) -> Response:
    gettext = request.state.page_context["status_label"]
    page = max(page, 1)
    try:
        views = casework(request).search_cases(
            user.principal,
            status=status or None,
            name=name.strip() or None,
            case_id=q.strip() or None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
    except CtipError as error:
        return error_page(request, error)
    cases = [CaseData(v) for v in views[:PAGE_SIZE]]
    return render(
        request,
        "cases.html",
        {
            "title": _(request, "Cases"),
            "cases": cases,
            "q": q,
            "name": name,
            "status": status,
            "page": page,
            "more": len(views) > PAGE_SIZE,
            "statuses": [(s, gettext(s)) for s in nrm.MAIN_STATES],
            "can_create": user.may(Action.CASE_CREATE),
        },
    )


def _intake_context(
    request: Request, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    tr = _gettext(request)
    return {
        "title": _(request, "New case: intake"),
        "values": values,
        "errors": errors,
        "sex_options": code_options("sex", tr),
        "exploitation_options": code_options("exploitation_form", tr),
        "country_options": _country_options(request.state.locale),
    }


def _country_options(locale: str) -> list[tuple[str, str]]:
    """ISO3 codes with the country names of the page's language (CLDR, through Babel)."""
    names = Locale.parse(locale).territories
    return sorted(((c.iso3, str(names.get(c.iso2) or c.name)) for c in all_countries()),
                  key=lambda x: x[1])


def _gettext(request: Request) -> Callable[[str], str]:
    return i18n.translations(request.state.locale).gettext


@router.get("/cases/new", name="pages_case_new", include_in_schema=False)
def intake_form(request: Request) -> HTMLResponse:
    require_user(request, "cases")
    return render(request, "case_new.html", _intake_context(request, {}, {}))


def parse_intake(
    request: Request, form: Any
) -> tuple[dict[str, Any], dict[str, str], CaseIntake | None]:
    """Form -> (values to show again, errors by field, intake); each message names its field."""
    import re

    values: dict[str, Any] = {
        k: str(form.get(k) or "").strip()
        for k in (
            "sex",
            "age",
            "nationality",
            "languages",
            "given_name",
            "family_name",
            "date_of_birth",
            "document_number",
            "phone",
            "narrative",
            "notes",
        )
    }
    values["age_disputed"] = form.get("age_disputed") == "yes"
    values["interpreter_needed"] = form.get("interpreter_needed") == "yes"
    values["exploitation_forms"] = tuple(form.getlist("exploitation_forms"))
    errors: dict[str, str] = {}
    age: int | None = None
    if values["age"]:
        try:
            age = int(values["age"])
            if not 0 <= age <= 120:
                raise ValueError
        except ValueError:
            errors["age"] = _(
                request,
                "Enter the age as a whole number of years between 0 and 120, or leave it empty.",
            )
    if values["date_of_birth"] and not re.match(DOB_PATTERN, values["date_of_birth"]):
        try:  # a full date as typed in the user's locale: 12/2/26 is 12 February in en-GB
            values["date_of_birth"] = i18n.parse_user_date(
                values["date_of_birth"], getattr(request.state, "format_locale", "en")
            ).isoformat()
        except ValueError:
            errors["date_of_birth"] = _(
                request, "Enter the date of birth as YYYY, YYYY-MM or YYYY-MM-DD."
            )
    languages = tuple(x.strip().lower() for x in values["languages"].split(",") if x.strip())
    if any(len(x) > 20 for x in languages):
        errors["languages"] = _(request, "List language codes or names separated by commas.")
    if errors:
        return values, errors, None
    identity = Identity(
        given_name=values["given_name"] or None,
        family_name=values["family_name"] or None,
        date_of_birth=values["date_of_birth"] or None,
        document_number=values["document_number"] or None,
        phone=values["phone"] or None,
        narrative=values["narrative"] or None,
    )
    intake = CaseIntake(
        sex=values["sex"] or "unknown",
        age=age,
        age_disputed=values["age_disputed"],
        nationality=values["nationality"] or None,
        languages=languages,
        interpreter_needed=values["interpreter_needed"],
        exploitation_forms=values["exploitation_forms"],
        notes=values["notes"] or None,
        identity=identity,
    )
    return values, errors, intake


_COLUMN_FIELD = {
    "exploitation_forms": "exploitation_forms",
    "nationality": "nationality",
    "sex": "sex",
    "age": "age",
}


@router.post("/cases/new", include_in_schema=False)
def intake(request: Request, form: FormDep) -> Response:
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    values, errors, intake = parse_intake(request, form)
    if intake is not None:
        try:
            view = casework(request).create_case(user.principal, intake)
        except ValidationError as error:
            errors[_COLUMN_FIELD.get(error.column or "", "sex")] = error.message
        except CtipError as error:
            return error_page(request, error)
        else:
            return redirect(f"/cases/{view.case_id}?done=created")
    return render(
        request, "case_new.html", _intake_context(request, values, errors), status_code=422
    )


@router.get("/emergency", name="pages_emergency", include_in_schema=False)
def emergency_form(request: Request, case_id: str = "") -> HTMLResponse:
    require_user(request, "cases")
    return render(
        request,
        "emergency.html",
        {"title": _(request, "Emergency access"), "case_id": case_id, "errors": {}, "values": {}},
    )


@router.post("/emergency", include_in_schema=False)
def emergency(request: Request, form: FormDep) -> Response:
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    case_id = str(form.get("case_id") or "").strip()
    justification = str(form.get("justification") or "")
    try:
        casework(request).emergency_access(user.principal, case_id, justification=justification)
    except ValidationError as error:
        return render(
            request,
            "emergency.html",
            {
                "title": _(request, "Emergency access"),
                "case_id": case_id,
                "values": {"justification": justification},
                "errors": {
                    "justification": _(
                        request,
                        "Write a justification of at least 20 characters: "
                        "why this cannot wait, and what you will do.",
                    )
                }
                if error.column == "justification"
                else {"case_id": error.message},
            },
            status_code=422,
        )
    except CtipError as error:
        return error_page(request, error)
    return redirect(f"/cases/{case_id}?done=emergency")


@router.get("/emergency/reviews", name="pages_emergency_reviews", include_in_schema=False)
def emergency_reviews(request: Request) -> Response:
    user = require_user(request, "emergency")
    try:
        grants = casework(request).emergency_reviews(user.principal)
    except CtipError as error:
        return error_page(request, error)
    return render(
        request,
        "emergency_reviews.html",
        {"title": _(request, "Emergency access reviews"), "grants": grants},
    )


@router.post(
    "/emergency/reviews/{grant_id}", name="pages_emergency_review", include_in_schema=False
)
def emergency_review(request: Request, grant_id: str, form: FormDep) -> Response:
    user = require_user(request, "emergency")
    check_csrf(request, user, form)
    try:
        casework(request).review_emergency_access(
            user.principal, grant_id, outcome=str(form.get("outcome") or "")
        )
    except CtipError as error:
        return error_page(request, error)
    return redirect("/emergency/reviews")
