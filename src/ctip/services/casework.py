"""Case-management use cases: intake, screening, NRM steps, consent, referral, services, protection.

Four use-case classes over one ``CaseworkCore`` (the store's engine, keys, audit and the
access-checked loading): ``IntakeWork`` (services/case_intake.py), ``WorkflowWork``
(services/case_workflow.py), ``ReferralWork`` (services/referrals.py) and ``ProtectionWork``
(services/protection.py), each usable alone; ``Casework`` brings them together for the adapters
and adds the one-transaction case page.

Every public method takes the acting :class:`~ctip.domain.access.Principal` first, checks access in
the fixed order of ``domain/access.py`` (role, then relationship, then action), does its work and
writes an audit entry in the *same* transaction. Audit details carry ids, states and field names,
never identity or free text (free text is sealed in the case tables).

Method names are a stable interface for the web pages and the REST API:
``create_case``, ``get_case``, ``case_page``, ``search_cases``, ``edit_case``, ``screen_case``,
``latest_screening``, ``next_steps``, ``transition``, ``record_consent``, ``revoke_consent``,
``consents``, ``refer``,
``accept_referral``, ``decline_referral``, ``complete_referral``, ``revoke_referral``,
``referrals``, ``case_referrals``, ``record_service``, ``services_given``, ``add_service``,
``find_services``, ``reveal_identity``, ``emergency_access``, ``emergency_reviews``,
``review_emergency_access``, ``who_viewed``, ``run_timers``, ``tasks``, ``complete_task``,
``dashboard``, ``deidentified_cases``, ``audit_entries``, ``verify_audit``.
"""


from __future__ import annotations

import json
from dataclasses import dataclass

from ctip.domain import screening
from ctip.domain.access import (
    ROLE_ACTIONS,
    Action,
    Principal,
    Relation,
    authorize,
)
from ctip.domain.casework import (
    REGION_FIELD,
    ConsentRecord,
    Referral,
    Service,
    ServiceEntry,
)
from ctip.errors import PermissionDeniedError
from ctip.services.case_intake import CaseIntake, IntakeWork  # noqa: F401 - re-exported
from ctip.services.case_workflow import WorkflowWork
from ctip.services.casework_core import (  # noqa: F401 - re-exported for adapters
    DEFAULT_REFERRAL_DAYS,
    EMERGENCY_MINUTES,
    PURPOSE_CONSENT,
    CaseView,
    CaseworkCore,
    Dashboard,
    Step,
    ViewEntry,
    _id,
    allowed_steps,
    step_regions,
)
from ctip.services.protection import ProtectionWork, _views
from ctip.services.referrals import ReferralWork
from ctip.storage import casework as db
from ctip.storage import referrals as rdb


@dataclass(frozen=True)
class CasePage:
    """What the case page shows, each part as this user may see it (None: not theirs to see)."""

    view: CaseView
    screening: screening.ScreeningResult | None
    consents: list[ConsentRecord] | None
    referrals: list[Referral]
    services_given: list[ServiceEntry]
    views: list[ViewEntry] | None
    directory: list[Service] | None
    steps: tuple[Step, ...] = ()  # the NRM steps this user may take now
    may: frozenset[Action] = frozenset()  # of CASE_PAGE_ACTIONS, what this user may do here


# what the case page offers besides NRM steps; CasePage.may says which this user may do
CASE_PAGE_ACTIONS = (
    Action.CASE_EDIT,
    Action.IDENTITY_REVEAL,
    Action.CASE_SCREEN,
    Action.CONSENT_RECORD,
    Action.CASE_REFER,
    Action.SERVICE_RECORD,
)



class Casework(IntakeWork, WorkflowWork, ReferralWork, ProtectionWork):
    """The case-management service over one database, for the adapters: the four use cases
    and the case page. Build it with :meth:`of` (a store) or :meth:`open` (settings)."""

    def case_page(self, p: Principal, case_id: str) -> CasePage:
        """Everything a case page shows, read in one transaction (one connection, one commit).

        The same checks as the separate calls (``get_case``, ``latest_screening``,
        ``consents``, ``case_referrals``, ``services_given``, ``who_viewed``,
        ``find_services``): the case is read with CASE_READ, then each part is added only if
        this user's role and relation allow its own action; a part they may not see is None.
        The read is recorded for "who viewed" and audited (``case.view``) exactly as
        ``get_case`` does; the audit entry is the last statement before commit, so the audit
        chain's lock is held only for the append and the commit."""
        with self._tx() as conn:
            view, rel = self._read_case(conn, p, case_id)
            owner = rel is Relation.OWNER
            latest = db.latest_screening(conn, case_id) if owner else None
            page = CasePage(
                view=view,
                screening=screening.screen(json.loads(latest.observations), latest.profile)
                if latest
                else None,
                consents=rdb.case_consents(conn, case_id)
                if owner and _allowed(p, Action.CONSENT_RECORD, rel, case_id)
                else None,
                referrals=self._case_referrals(conn, p, case_id, rel),
                services_given=self._services_given(conn, p, case_id, rel),
                views=_views(conn, case_id)
                if owner and _allowed(p, Action.VIEW_LOG, rel, case_id)
                else None,
                directory=rdb.list_services(conn)
                if Action.DIRECTORY_READ in ROLE_ACTIONS.get(p.role, frozenset())
                else None,
                steps=allowed_steps(
                    p, rel, case_id,
                    {r: view.data.get(REGION_FIELD[r]) for r in step_regions(rel)},
                ),
                may=frozenset(a for a in CASE_PAGE_ACTIONS if _allowed(p, a, rel, case_id)),
            )
            self._audit(conn, p, "case.view", case_id, relation=rel.value)
            return page


def _allowed(p: Principal, action: Action, rel: Relation, case_id: str) -> bool:
    try:
        authorize(p, action, rel, case_id)
    except PermissionDeniedError:
        return False
    return True

