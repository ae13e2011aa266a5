"""Editing a case's intake fields after creation, with optimistic concurrency.

The form carries the version the user started from. If someone else saved the case meanwhile,
``Casework.edit_case`` raises ``ConflictError``: nothing is overwritten, and the user gets a page
that says so plainly, shows what they typed beside what is stored now, and offers to start again
from the latest version. Identity stays sealed: it is not part of this form (changing it needs an
audited reveal first, as everywhere else).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ctip.domain.access import Action
from ctip.domain.countries import all_countries
from ctip.errors import ConflictError, CtipError, PermissionDeniedError, ValidationError
from ctip.services.casework import CaseView
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
from ctip.web.pages.labels import N_
from ctip.web.pages.render import render
from ctip.web.pages.view import CaseData

router = APIRouter()
FIELD_LABELS = {
    "sex": N_("Sex"),
    "age": N_("Age in years"),
    "age_disputed": N_("Age is uncertain or disputed"),
    "nationality": N_("Nationality"),
    "languages": N_("Languages spoken"),
    "interpreter_needed": N_("Needs an interpreter"),
    "exploitation_forms": N_("Forms of exploitation (as far as known)"),
    "notes": N_("Caseworker notes"),
}
FIELDS = ("sex", "age", "age_disputed", "nationality", "languages", "interpreter_needed",
          "exploitation_forms", "notes")


def _values_of(case: CaseData) -> dict[str, Any]:
    return {
        "sex": case.sex or "unknown",
        "age": "" if case.age is None else str(case.age),
        "age_disputed": bool(case.age_disputed),
        "nationality": case.nationality or "",
        "languages": ", ".join(case.languages or ()),
        "interpreter_needed": bool(case.interpreter_needed),
        "exploitation_forms": tuple(case.exploitation_forms or ()),
        "notes": case.notes or "",
    }


def _editable(request: Request, user: PageUser, case_id: str) -> CaseView:
    """The case, read as get_case does (audited), if this user may edit it; else the same
    refusal as the API gives (403 for a role or relation without the right, 404 for a stranger)."""
    if not user.may(Action.CASE_EDIT):
        raise PermissionDeniedError(
            _(request, "Your role may not edit cases."),
            hint=_(request, "Ask a caseworker or a supervisor of the owning agency."),
        )
    view = casework(request).get_case(user.principal, case_id)
    if view.relation != "owner":
        raise PermissionDeniedError(
            _(request, "Only the owning agency edits a case."),
            hint=_(request, "Ask the owning agency to make the change."),
        )
    return view


def _context(request: Request, case: CaseData, values: dict[str, Any], errors: dict[str, str],
             version: int) -> dict[str, Any]:
    tr = i18n.translations(request.state.locale).gettext
    return {
        "title": f"{tr('Edit case')} {case.short_id}",
        "field_labels": {k: tr(v) for k, v in FIELD_LABELS.items()},
        "case": case,
        "values": values,
        "errors": errors,
        "version": version,
        "sex_options": code_options("sex", tr),
        "exploitation_options": code_options("exploitation_form", tr),
        "country_options": sorted(((c.iso3, c.name) for c in all_countries()), key=lambda x: x[1]),
    }


@router.get("/cases/{case_id}/edit", name="pages_case_edit", include_in_schema=False)
def edit_form(request: Request, case_id: str) -> Response:
    user = require_user(request, "cases")
    try:
        case = CaseData(_editable(request, user, case_id))
    except CtipError as error:
        return error_page(request, error)
    return render(request, "case_edit.html",
                  _context(request, case, _values_of(case), {}, case.version))


def parse_edit(request: Request, form: Any) -> tuple[dict[str, Any], dict[str, str],
                                                      dict[str, Any]]:
    """Form -> (values to show again, errors by field, changes for ``edit_case``)."""
    values: dict[str, Any] = {k: str(form.get(k) or "").strip()
                              for k in ("sex", "age", "nationality", "languages", "notes")}
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
    languages = tuple(x.strip().lower() for x in values["languages"].split(",") if x.strip())
    if any(len(x) > 20 for x in languages):
        errors["languages"] = _(request, "List language codes or names separated by commas.")
    changes = {
        "sex": values["sex"] or "unknown",
        "age": age,
        "age_disputed": values["age_disputed"],
        "nationality": values["nationality"] or None,
        "languages": languages,
        "interpreter_needed": values["interpreter_needed"],
        "exploitation_forms": values["exploitation_forms"],
        "notes": values["notes"] or None,
    }
    return values, errors, changes


@router.post("/cases/{case_id}/edit", include_in_schema=False)
def edit(request: Request, case_id: str, form: FormDep) -> Response:
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    values, errors, changes = parse_edit(request, form)
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        version = -1  # a form without its version cannot be applied safely: a conflict
    svc = casework(request)
    try:
        if not errors:
            svc.edit_case(user.principal, case_id, changes, expected_version=version)
            return redirect(f"/cases/{case_id}?done=edited")
        case = CaseData(_editable(request, user, case_id))
    except ConflictError:
        return _conflict(request, user, case_id, values)
    except ValidationError as error:
        errors[error.column if error.column in FIELDS else "sex"] = error.message
        try:
            case = CaseData(_editable(request, user, case_id))
        except CtipError as again:
            return error_page(request, again)
    except CtipError as error:
        return error_page(request, error)
    return render(request, "case_edit.html", _context(request, case, values, errors, version),
                  status_code=422)


def _conflict(request: Request, user: PageUser, case_id: str, mine: dict[str, Any]) -> Response:
    """The "changed by someone else" page: the stored case now, what the user typed, and a form
    that starts from the latest version (their values kept in it, to re-apply deliberately)."""
    try:
        case = CaseData(_editable(request, user, case_id))
    except CtipError as error:
        return error_page(request, error)
    theirs = _values_of(case)
    differs = [k for k in FIELDS if str(theirs.get(k)) != str(mine.get(k))]
    ctx = _context(request, case, mine, {}, case.version)
    ctx.update(conflict=True, stored=theirs, differs=differs,
               title=_(request, "Someone else changed this case first"))
    return render(request, "case_edit.html", ctx, status_code=409)
