"""Review queues: work that a person must look at before anything follows from it.

A detector never decides. Linkage leaves borderline pairs, the financial-flow rules leave alerts,
the ad screener leaves risky ads, supply-chain screening leaves candidate hits: each becomes an
item on a named queue with a score and the *reasons* it waits (rule or indicator ids, thresholds,
counts; never identity), and a person records a decision. Every decision is kept (a later one
supersedes an earlier one without erasing it), and the queue's kind says which decisions exist,
which need a written reason, and which roles may read or decide.

This module is the pure part: the queue kinds, the item and decision values, and the check that
a decision is allowed. Storage (``storage/review.py``) and the audited use cases
(``services/review.py``) are built on it; a module adds its queue by registering a
:class:`QueueKind`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ctip.domain.access import Principal, Role
from ctip.errors import Code, PermissionDeniedError, ValidationError


@dataclass(frozen=True)
class QueueKind:
    """What one queue is: its name, its decisions, and who may read and decide."""

    name: str
    title: str  # shown to people: "Financial-flow alerts"
    decisions: tuple[str, ...]
    reason_required: frozenset[str] = frozenset()  # decisions that need a written reason
    links_case: frozenset[str] = frozenset()  # decisions that name a victim case
    readers: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.INVESTIGATOR})
    deciders: frozenset[Role] = frozenset({Role.SUPERVISOR, Role.INVESTIGATOR})
    caveat: str = ""  # what a reviewer must keep in mind (e.g. indicators are hypotheses)


@dataclass(frozen=True)
class Reason:
    """Why an item waits: a code a person can look up, a plain sentence, the figures behind it.

    ``evidence`` names records by id (transaction ids, ad ids, line numbers), never by content."""

    code: str
    text: str
    figures: dict[str, str | int | float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    decision: str
    actor: str
    at: datetime
    reason: str | None = None  # sealed at rest: a reviewer's words may name people
    linked_case: str | None = None


@dataclass(frozen=True)
class ReviewItem:
    item_id: str
    queue: str
    agency: str
    subject: str  # the module's own id of what is reviewed (alert id, ad id, pair id)
    score: float
    reasons: tuple[Reason, ...]
    created_at: datetime
    decisions: tuple[Decision, ...] = ()

    @property
    def current(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def is_open(self) -> bool:
        return not self.decisions


QUEUES: dict[str, QueueKind] = {}


def register_queue(kind: QueueKind) -> QueueKind:
    """Modules register their queue kind at import; a name can be registered once."""
    existing = QUEUES.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"review queue {kind.name!r} is registered twice, differently")
    QUEUES[kind.name] = kind
    return kind


def queue_kind(name: str) -> QueueKind:
    try:
        return QUEUES[name]
    except KeyError:
        raise ValidationError(
            "there is no review queue {name}",
            params={"name": repr(name)},
            column="queue",
            value=name,
            allowed=", ".join(sorted(QUEUES)) or "none registered",
        ) from None


def may_read(principal: Principal, kind: QueueKind) -> None:
    if principal.role not in kind.readers:
        raise PermissionDeniedError(
            "the role {role} may not read the queue {queue}",
            hint="ask a supervisor if your work needs it",
            params={"role": Code("role", principal.role.value),
                    "queue": Code("queue", kind.name, text=kind.title)},
        )


def check_decision(
    principal: Principal,
    kind: QueueKind,
    decision: str,
    *,
    reason: str | None,
    linked_case: str | None,
) -> None:
    """Refuse a decision the queue does not know, a missing reason, or a role that may not
    decide. The item's agency is checked by the service (a stranger's item is 'not found')."""
    if principal.role not in kind.deciders:
        raise PermissionDeniedError(
            "the role {role} may not decide on {queue}",
            hint="a supervisor or an investigator of the agency decides",
            params={"role": Code("role", principal.role.value),
                    "queue": Code("queue", kind.name, text=kind.title)},
        )
    if decision not in kind.decisions:
        raise ValidationError(
            "{decision} is not a decision of the queue {queue}",
            params={"decision": repr(decision), "queue": Code("queue", kind.name, text=kind.title)},
            column="decision",
            value=decision,
            allowed=", ".join(kind.decisions),
        )
    if decision in kind.reason_required and not (reason and reason.strip()):
        raise ValidationError(
            "the decision {decision} needs a written reason",
            params={"decision": Code("decision", decision)},
            column="reason",
            hint="say why, in a sentence another reviewer can follow",
        )
    if decision in kind.links_case and not linked_case:
        raise ValidationError(
            "the decision {decision} needs the victim case it concerns",
            params={"decision": Code("decision", decision)},
            column="case",
            hint="give the case number",
        )
    if linked_case and decision not in kind.links_case:
        raise ValidationError(
            "the decision {decision} does not link a case",
            params={"decision": Code("decision", decision)},
            column="case",
            allowed=", ".join(sorted(kind.links_case)) or "no decision of this queue",
        )


def rank(items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """Highest score first, then oldest first, then by id: the same order every time."""
    return sorted(items, key=lambda i: (-i.score, i.created_at, i.item_id))
