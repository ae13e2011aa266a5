"""One case: summary, identity (hidden until a reason is given), screening, next steps, consent,
referrals, services given and who viewed the record. Each action posts to its own URL and comes
back to the case page (post/redirect/get); an action that cannot be done re-renders the page with
the reason, and a version conflict shows the latest version instead of overwriting it.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from ctip.domain import nrm, screening
from ctip.domain.access import Action
from ctip.domain.casework import CONSENT_PURPOSES, REGION_FIELD, SERVICE_TYPES
from ctip.domain.records import IDENTITY_FIELDS
from ctip.errors import ConflictError, CtipError, ValidationError
from ctip.services.casework import DEFAULT_REFERRAL_DAYS, PURPOSE_CONSENT
from ctip.services.casework_core import group_views
from ctip.web.pages import labels
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
from ctip.web.pages.helpers import options
from ctip.web.pages.render import render, templates
from ctip.web.pages.view import CaseData

router = APIRouter()

DONE_MESSAGES = {
    "created": labels.N_("Case created. Identity is sealed and hidden by default."),
    "edited": labels.N_("Changes saved."),
    "screened": labels.N_("Screening recorded. The suggestion is below; you decide the next step."),
    "moved": labels.N_("Status changed. The step is recorded with your reason."),
    "consent": labels.N_("Consent recorded."),
    "revoked": labels.N_("Consent revoked. Referrals that relied on it were revoked too."),
    "referred": labels.N_("Referral sent. The receiving agency sees only the fields you shared."),
    "service": labels.N_("Service recorded."),
    "emergency": labels.N_("Emergency access granted for 60 minutes. A supervisor will review it."),
}


# why a receiving agency might need each identity field: shown beside each box, none ticked
SHARE_HELP = {
    "given_name": labels.N_("To greet the person by name and recognise them on arrival."),
    "family_name": labels.N_("Only when the service must register the person officially."),
    "aliases": labels.N_("Rarely needed: other names can expose the person to those who "
                         "exploited them."),
    "date_of_birth": labels.N_("For age-based eligibility or a medical or legal file."),
    "document_number": labels.N_("Only for legal help or a residence or identity procedure."),
    "phone": labels.N_("To arrange the first contact, if the person agrees to be called."),
    "email": labels.N_("To arrange the first contact, if the person agrees to be written to."),
    "address": labels.N_("Rarely needed: where the person stays must be protected."),
    "narrative": labels.N_("Almost never: the person's account is theirs to tell again, or "
                           "not."),
}


def _dimensions(profile: str, gettext: Any) -> list[dict[str, Any]]:
    """Indicators by dimension, their texts in the page's language (the ILO texts and dimension
    names are in the catalogue: ``python -m ctip.web.i18n extract`` adds them)."""
    inds = screening.indicators(profile)
    dims = []
    for dim in screening.DIMENSIONS:
        items = [
            {"id": i.id, "text": gettext(i.text), "strength": i.strength[profile]}
            for i in inds
            if i.dimension == dim
        ]
        if items:
            name = gettext(labels.DIMENSION.get(dim, screening.dimension_name(dim)))
            dims.append({"code": dim, "name": name, "indicators": items})
    return dims


def _screening_form(
    case: CaseData, latest: screening.ScreeningResult | None, gettext: Any
) -> dict[str, Any]:
    profile = screening.profile_for(is_child=bool(case.is_child))
    yes = tuple(sorted(latest.indicators_yes)) if latest else ()
    return {
        "profile": profile,
        "profile_label": gettext("children, labour exploitation")
        if profile == "CL"
        else gettext("adults, labour exploitation"),
        "yes": yes,
    }


@functools.lru_cache(maxsize=256)
def screening_fields(locale: str, profile: str, yes: tuple[str, ...]) -> Markup:
    """The screening form's indicator fieldsets (some 67 rows: most of a case page's rendering
    time), rendered once per language, indicator list and observations, then reused. The rest
    of the form (CSRF token, version, the case's address) is rendered per request around it."""
    from ctip.web import i18n

    translations = i18n.translations(locale)
    html = templates.env.get_template("case_screening_fields.html").render(
        screening_form={"dimensions": _dimensions(profile, translations.gettext),
                        "observed": dict.fromkeys(yes, "yes")},
        observation_options=options(labels.OBSERVATION, translations.gettext),
        translations=translations,
    )
    return Markup(html)  # noqa: S704 - rendered by the autoescaping template above


def case_context(request: Request, user: PageUser, case_id: str) -> dict[str, Any]:
    """Everything the case page shows, each part limited by what this user may see."""
    svc, p = casework(request), user.principal
    from ctip.web import i18n

    tr = i18n.translations(request.state.locale).gettext
    # one service call, one transaction: the read is recorded and audited as get_case does
    page = svc.case_page(p, case_id)
    view = page.view
    case = CaseData(view)
    owner = view.relation == "owner"
    latest = page.screening
    # the steps the service says this user may take now (the same check as taking one)
    actions = [
        {"region": step.region, "target": step.target, "needs_reason": step.needs_reason,
         "confirmations": step.confirmations}
        for step in page.steps
    ]
    services = page.directory or []
    eligible = [s for s in services if s.eligible(sex=case.sex, age=case.age)]
    others = [s for s in services if s not in eligible]
    not_eligible = tr("not eligible")
    service_options = [(s.service_id, f"{s.name} · {s.agency}") for s in eligible] + [
        (s.service_id, f"{s.name} · {s.agency} ({not_eligible})") for s in others
    ]
    form = _screening_form(case, latest, tr) if owner else None
    today = date.today()
    done = request.query_params.get("done")
    flashes = [("ok", tr(DONE_MESSAGES[done]))] if done in DONE_MESSAGES else []
    return {
        "title": f"{tr('Case')} {case.short_id}",
        "case": case,
        "relation": view.relation,
        "evidence_tab": user.may(Action.EVIDENCE_READ) and view.relation != "emergency",
        "flashes": flashes,
        "regions": [
            r for r in nrm.REGIONS if r != "main" and case.__getattr__(REGION_FIELD[r]) is not None
        ],
        "region_state": lambda r: case.__getattr__(REGION_FIELD[r]),
        "show_notes": owner,
        "revealed": None,
        "reveal_errors": {},
        "revealable": view.revealable_identity,
        "can_reveal": Action.IDENTITY_REVEAL in page.may,
        "screening": latest,
        "screening_form": form,
        "screening_fields": screening_fields(request.state.locale, form["profile"], form["yes"])
        if form
        else "",
        "can_screen": Action.CASE_SCREEN in page.may,
        "can_edit": Action.CASE_EDIT in page.may,
        "actions": actions,
        "consents": page.consents,
        "can_consent": Action.CONSENT_RECORD in page.may,
        "purpose_options": options(labels.PURPOSE, tr, CONSENT_PURPOSES),
        "referral_purpose_options": options(labels.REFERRAL_PURPOSE, tr, tuple(PURPOSE_CONSENT)),
        "given_by_options": [("person", tr("The person")), ("guardian", tr("Guardian"))],
        # the receiving agency is chosen from the directory: never typed (a typo sent to nobody)
        "agencies": sorted({s.agency for s in services} - {case.agency}),
        "agency_options": [(a, a) for a in sorted({s.agency for s in services} - {case.agency})],
        "referrals": page.referrals,
        "can_refer": Action.CASE_REFER in page.may,
        "service_options": service_options,
        "identity_options": options(labels.IDENTITY_FIELD, tr, IDENTITY_FIELDS),
        "share_help": {k: tr(v) for k, v in SHARE_HELP.items()},
        "default_due": (today + timedelta(days=DEFAULT_REFERRAL_DAYS)).isoformat(),
        "today": today,
        "services_given": page.services_given,
        "can_record_service": Action.SERVICE_RECORD in page.may,
        "service_type_options": options(labels.SERVICE_TYPE, tr, SERVICE_TYPES),
        "access_log": group_views(page.views) if page.views is not None else None,
        "conflict": "",
        "action_error": "",
        "action_hint": "",
    }


def _page(
    request: Request, user: PageUser, case_id: str, *, status_code: int = 200, **extra: Any
) -> Response:
    try:
        ctx = case_context(request, user, case_id)
    except CtipError as error:
        return error_page(request, error)
    ctx.update(extra)
    return render(request, "case.html", ctx, status_code=status_code)


@router.get("/cases/{case_id}", name="pages_case", include_in_schema=False)
def case_page(request: Request, case_id: str) -> Response:
    user = require_user(request, "cases")
    return _page(request, user, case_id)


def _act(request: Request, case_id: str, form: Any, run: Any, done: str) -> Response:
    """Run one action from a posted form; show the case again with the outcome."""
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    try:
        run(user, form)
    except ConflictError as error:
        return _page(request, user, case_id, status_code=409, conflict=error.message)
    except (ValidationError, CtipError) as error:
        if error.http_status == 404:
            return error_page(request, error)
        message, hint = localised(request, error)
        return _page(request, user, case_id, status_code=error.http_status,
                     action_error=message, action_hint=hint)
    return redirect(f"/cases/{case_id}?done={done}")


def _version(form: Any) -> int | None:
    try:
        return int(str(form.get("version")))
    except ValueError:
        return None


@router.post("/cases/{case_id}/screen", name="pages_case_screen", include_in_schema=False)
def screen(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        observations = {
            k.removeprefix("ind-"): str(v) for k, v in form.items() if k.startswith("ind-") and v
        }
        casework(request).screen_case(user.principal, case_id, observations)

    return _act(request, case_id, form, run, "screened")


@router.post("/cases/{case_id}/transition", name="pages_case_transition", include_in_schema=False)
def transition(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        casework(request).transition(
            user.principal,
            case_id,
            to_state=str(form.get("target") or ""),
            region=str(form.get("region") or "main"),
            reason=str(form.get("reason") or ""),
            confirmations=[str(c) for c in form.getlist("confirm")],
            expected_version=_version(form),
        )

    return _act(request, case_id, form, run, "moved")


@router.post("/cases/{case_id}/reveal", name="pages_case_reveal", include_in_schema=False)
def reveal(request: Request, case_id: str, form: FormDep) -> Response:
    """The identity is shown in this response only: never stored in a URL or a cache."""
    user = require_user(request, "cases")
    check_csrf(request, user, form)
    reason = str(form.get("reason") or "")
    try:
        identity = casework(request).reveal_identity(user.principal, case_id, reason=reason)
    except ValidationError:
        return _page(
            request,
            user,
            case_id,
            status_code=422,
            reveal_errors={
                "reason": _(request, "Say why you need to see the identity (at least a few words).")
            },
        )
    except CtipError as error:
        return error_page(request, error)
    shown = [(k, ", ".join(v) if isinstance(v, list) else v) for k, v in identity.items()]
    return _page(request, user, case_id, revealed=shown)


@router.post("/cases/{case_id}/consents", name="pages_consent_add", include_in_schema=False)
def consent_add(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        casework(request).record_consent(
            user.principal,
            case_id,
            purpose=str(form.get("purpose") or ""),
            recipient=str(form.get("recipient") or "").strip() or None,
            given_by=str(form.get("given_by") or "person"),
        )

    return _act(request, case_id, form, run, "consent")


@router.post(
    "/cases/{case_id}/consents/{consent_id}/revoke",
    name="pages_consent_revoke",
    include_in_schema=False,
)
def consent_revoke(request: Request, case_id: str, consent_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        casework(request).revoke_consent(user.principal, case_id, consent_id)

    return _act(request, case_id, form, run, "revoked")


@router.post("/cases/{case_id}/referrals", name="pages_case_refer", include_in_schema=False)
def refer(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        svc = casework(request)
        service_id = str(form.get("service_id") or "") or None
        to_agency = str(form.get("to_agency") or "").strip()
        directory = svc.find_services(user.principal)
        if service_id:
            match = [s for s in directory if s.service_id == service_id]
            if match and to_agency and match[0].agency != to_agency:
                raise ValidationError(
                    _(request, "The service chosen belongs to another agency than the one "
                               "chosen. Choose one of them, or both of the same agency."),
                    column="to_agency", value=to_agency,
                )
            to_agency = match[0].agency if match else to_agency
        if to_agency not in {s.agency for s in directory}:
            raise ValidationError(
                _(request, "Choose the receiving agency from the service directory."),
                column="to_agency", value=to_agency,
            )
        due = str(form.get("due_date") or "")
        try:
            due_date = date.fromisoformat(due) if due else None
        except ValueError:
            raise ValidationError(
                "enter the due date as YYYY-MM-DD", column="due_date", value=due
            ) from None
        svc.refer(
            user.principal,
            case_id,
            to_agency=to_agency,
            purpose=str(form.get("purpose") or "service"),
            shared_fields=[str(x) for x in form.getlist("share")],
            service_id=service_id,
            due_date=due_date,
        )

    return _act(request, case_id, form, run, "referred")


@router.post("/cases/{case_id}/services", name="pages_service_add", include_in_schema=False)
def service_add(request: Request, case_id: str, form: FormDep) -> Response:
    def run(user: PageUser, form: Any) -> None:
        given = str(form.get("given_on") or "")
        try:
            given_on = date.fromisoformat(given) if given else None
        except ValueError:
            raise ValidationError(
                "enter the date as YYYY-MM-DD", column="given_on", value=given
            ) from None
        casework(request).record_service(
            user.principal,
            case_id,
            service_type=str(form.get("service_type") or ""),
            given_on=given_on,
            note=str(form.get("note") or "") or None,
        )

    return _act(request, case_id, form, run, "service")
