"""Workflow use cases: the NRM steps a user may take, and taking one with its effects.

Over ``CaseworkCore``; one of the four use-case classes ``Casework`` brings together."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ctip.domain import nrm
from ctip.domain.access import (
    Action,
    Principal,
    Relation,
)
from ctip.domain.casework import (
    REGION_FIELD,
    Case,
)
from ctip.errors import PermissionDeniedError
from ctip.services.casework_core import (
    CaseView,
    CaseworkCore,
    _id,
    allowed_steps,
    step_regions,
)
from ctip.storage import casework as db
from ctip.storage import casework_sealing as sdb
from ctip.storage import referrals as rdb


class WorkflowWork(CaseworkCore):
    """The NRM state machine applied to stored cases (steps, guards, effects, audit)."""

    def next_steps(self, p: Principal, case_id: str) -> dict[str, tuple[str, ...]]:
        """Per region, the states this user may move the case to now (``allowed_steps``: the
        permission ``transition`` checks, then the state machine; guards checked on submit)."""
        with self._tx() as conn:
            row, rel, _ = self._load(conn, p, case_id, Action.CASE_READ)
        case = db.case_from_row(row)
        states = {r: getattr(case, REGION_FIELD[r]) for r in step_regions(rel)}
        steps = allowed_steps(p, rel, case_id, states)
        return {r: tuple(s.target for s in steps if s.region == r) for r in states}

    def transition(
        self,
        p: Principal,
        case_id: str,
        *,
        to_state: str,
        region: str = "main",
        reason: str = "",
        confirmations: Iterable[str] = (),
        consent_id: str | None = None,
        expected_version: int | None = None,
    ) -> CaseView:
        """One NRM step, checked by the state machine, applied with its effects and audited (I5)."""
        with self._tx() as conn:
            row, rel, live = self._load(conn, p, case_id, Action.CASE_TRANSITION)
            if rel is Relation.RECIPIENT and region != "main":
                raise PermissionDeniedError(
                    "a receiving agency takes only identification decisions",
                    hint="the owning agency manages the other regions",
                )
            case = db.case_from_row(row)
            if region not in REGION_FIELD:
                raise nrm.unknown_region(region)
            current = getattr(case, REGION_FIELD[region])
            outcome = nrm.decide(
                region,
                current,
                to_state,
                role=p.role.value,
                facts=self._facts(conn, case),
                request=nrm.Request(
                    reason=reason, confirmations=frozenset(confirmations), consent_id=consent_id
                ),
            )
            values = self._apply(conn, case, outcome, p)
            db.update_case(
                conn, case_id, expected_version=expected_version or case.version, values=values
            )
            event_id = _id()
            db.insert_event(
                conn,
                event_id=event_id,
                case_id=case_id,
                region=region,
                from_state=current,
                to_state=to_state,
                actor=p.user_id,
                role=p.role.value,
                at=self.clock(),
                consent_id=consent_id,
                reason_sealed=self._seal(reason, sdb.event_reason_context(event_id)),
            )
            self._audit(
                conn,
                p,
                "case.transition",
                case_id,
                region=region,
                source=current,
                target=to_state,
                consent_id=consent_id,
                event_id=event_id,
                effects=list(outcome.effects),
            )
            updated = db.get_case_row(conn, case_id)
            assert updated is not None  # updated above, in this transaction
            return self._view(updated, rel, live, p)

    def _apply(
        self, conn: sa.Connection, case: Case, outcome: nrm.Outcome, p: Principal
    ) -> dict[str, Any]:
        values: dict[str, Any] = {REGION_FIELD[outcome.region]: outcome.target}
        if outcome.region == "main":
            values["status_since"] = self.clock()
        for effect in outcome.effects:
            if effect == "open_non_punishment_review":
                values["non_punishment_flag"] = True
            elif effect == "enter_child_region" and case.child_state == "not_applicable":
                values["child_state"] = "minor_presumed"
            elif effect == "start_assistance" and case.assistance_state == "none":
                values["assistance_state"] = "active"
            elif effect == "revoke_consents":
                rdb.revoke_consent(conn, case.case_id, None, by=p.user_id)
            elif effect == "stop_sharing":
                self._revoke_live_referrals(conn, p, case.case_id)
            elif effect.endswith("_task"):
                self._task(conn, case, effect.removesuffix("_task"))
        return values

