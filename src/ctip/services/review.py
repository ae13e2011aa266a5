"""Review-queue use cases: put detector output before a person, list it, record decisions.

Shared by every module whose output needs a human decision (financial-flow alerts, screened job
ads, supply-chain hits, and any later one). Each queue is scoped to an agency: an item of another
agency is answered exactly like a missing one. Every list, read and decision is audited in the
same transaction as the work; audit details carry ids, queue names and decisions, never a
reviewer's words (those are sealed) and never identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ctip.domain.access import Principal
from ctip.domain.review import (
    Decision,
    Reason,
    ReviewItem,
    check_decision,
    may_read,
    queue_kind,
)
from ctip.errors import NotFoundError
from ctip.services.store_service import StoreService
from ctip.storage import review as db
from ctip.storage.casework import get_case_row


def _actor(p: Principal) -> str:
    return f"{p.username}@{p.agency}"


@dataclass(frozen=True)
class Enqueued:
    queue: str
    added: int
    already_queued: int


def _not_found(item_id: str) -> NotFoundError:
    return NotFoundError("no review item {item} is visible to you",
                         hint="check the id, or ask the agency whose queue it is on",
                         params={"item": repr(item_id)})


class ReviewQueues(StoreService):
    """The review queues of one store (its engine, sealing key ring and audit log)."""

    def _audit(self, conn: sa.Connection, actor: str, action: str, subject: str,
               **details: Any) -> None:
        self.audit.append(conn, actor=actor, action=action, subject=subject, details=details)

    def enqueue(self, queue: str, agency: str,
                items: Iterable[tuple[str, float, Sequence[Reason]]], *,
                actor: str) -> Enqueued:
        """Add (subject, score, reasons) items; ones already on the queue are left as they are."""
        queue_kind(queue)
        with self.engine.begin() as conn:
            new_ids, skipped = db.enqueue(conn, queue, agency, self.clock(), items)
            self._audit(conn, actor, "review.enqueue", queue, agency=agency,
                        added=len(new_ids), already_queued=skipped)
        return Enqueued(queue=queue, added=len(new_ids), already_queued=skipped)

    def items(self, p: Principal, queue: str, *, open_only: bool = True, limit: int = 50,
              offset: int = 0) -> list[ReviewItem]:
        """The principal's agency's items, highest score first."""
        kind = queue_kind(queue)
        may_read(p, kind)
        with self.engine.begin() as conn:
            found = db.items(conn, queue, p.agency, open_only=open_only, limit=limit,
                             offset=offset)
            self._audit(conn, _actor(p), "review.list", queue, role=p.role.value,
                        shown=len(found), open_only=open_only)
        return found

    def counts(self, p: Principal, queue: str) -> dict[str, int]:
        kind = queue_kind(queue)
        may_read(p, kind)
        with self.engine.connect() as conn:
            return db.counts(conn, queue, p.agency)

    def _load(self, conn: sa.Connection, p: Principal, item_id: str) -> Any:
        row = db.item_row(conn, item_id)
        if row is None or row.agency != p.agency:
            raise _not_found(item_id)
        return row

    def _decisions(self, conn: sa.Connection, item_id: str) -> tuple[Decision, ...]:
        return tuple(
            Decision(decision=r.decision, actor=r.actor, at=r.at, linked_case=r.linked_case,
                     reason=self.sealer.open(r.reason_sealed,
                                             context=db.decision_reason_context(r.decision_id))
                     if r.reason_sealed else None)
            for r in db.decision_rows(conn, item_id)
        )

    def item(self, p: Principal, item_id: str) -> ReviewItem:
        """One item with every decision taken on it (reviewers' reasons opened; audited)."""
        with self.engine.begin() as conn:
            row = self._load(conn, p, item_id)
            may_read(p, queue_kind(row.queue))
            found = db.with_decisions(row, self._decisions(conn, item_id))
            self._audit(conn, _actor(p), "review.read", item_id, role=p.role.value,
                        queue=row.queue)
        return found

    def decide(self, p: Principal, item_id: str, decision: str, *, reason: str | None = None,
               linked_case: str | None = None) -> ReviewItem:
        """Record a decision (a later one supersedes, the earlier stays in the history).

        A linked victim case must belong to the reviewer's agency; any other is 'not found'."""
        with self.engine.begin() as conn:
            row = self._load(conn, p, item_id)
            kind = queue_kind(row.queue)
            may_read(p, kind)
            check_decision(p, kind, decision, reason=reason, linked_case=linked_case)
            if linked_case is not None:
                case = get_case_row(conn, linked_case)
                if case is None or case.agency != p.agency:
                    raise NotFoundError("no case {case} is visible to you",
                                        hint="link a case of your own agency",
                                        params={"case": repr(linked_case)})
            decision_id = str(uuid.uuid4())
            text = reason.strip() if reason and reason.strip() else None
            sealed = (self.sealer.seal(text, context=db.decision_reason_context(decision_id))
                      if text else None)
            db.add_decision(conn, item_id, decision=decision, actor=_actor(p), at=self.clock(),
                            reason_sealed=sealed, linked_case=linked_case,
                            decision_id=decision_id)
            self._audit(conn, _actor(p), "review.decide", item_id, role=p.role.value,
                        queue=row.queue, decision=decision, linked_case=linked_case,
                        with_reason=text is not None)
            return db.with_decisions(row, self._decisions(conn, item_id))
