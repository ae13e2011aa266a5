"""The National Referral Mechanism workflow as a state machine (CASE-MANAGEMENT.md section 5).

Why a table and not scattered ``if``s: who may act at each step, and what must be true first, is
policy that reviewers, trainers and auditors need to read in one place, and that a jurisdiction
may adjust. Every transition here names its actors (our roles), its guard and its effects; the
service layer applies the effects and audits the step (invariant I5).

Invariants the code enforces (tests/domain/test_nrm.py checks each):
- I1 non-conditionality: guards receive :class:`AssistanceFacts`, which has *no* justice-region
  or "cooperates with authorities" field, so no transition into assistance can depend on one;
- I3 child rules: a child (under 18, or age unknown / disputed: minority is presumed) is referred
  without consent once child protection is notified, and the child's views are recorded;
- I6 timers never stop support: :func:`due_reviews` only returns review tasks; nothing here moves
  a case because time passed.
A non-punishment review flag opens whenever a person becomes a presumed victim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ctip.errors import Code, PermissionDeniedError, Phrase, WorkflowError

CW, SUP, CA, SYS = "caseworker", "supervisor", "competent_authority", "system"

# Main lifecycle (section 5.1).
MAIN_STATES: tuple[str, ...] = (
    "signal",
    "screening",
    "presumed_victim",
    "not_indicated",
    "consent_pending",
    "anonymous_notification",
    "referred",
    "recovery_reflection",
    "rg_positive",
    "rg_negative",
    "rg_pending",
    "cg_pending",
    "identified_victim",
    "not_identified",
    "social_inclusion",
    "return_preparation",
    "resettlement",
    "returned_reintegration",
    "closed",
    "reopened",
    "withdrawn",
)
DURABLE_SOLUTIONS = ("social_inclusion", "return_preparation", "resettlement")
# States in which the person is entitled to assistance. ``not_identified`` keeps exit support and
# ``anonymous_notification`` keeps services outside the NRM: neither cuts help.
ENTITLED_STATES: frozenset[str] = frozenset(
    {
        "presumed_victim",
        "consent_pending",
        "anonymous_notification",
        "referred",
        "recovery_reflection",
        "rg_positive",
        "rg_negative",
        "rg_pending",
        "cg_pending",
        "identified_victim",
        "not_identified",
        *DURABLE_SOLUTIONS,
        "returned_reintegration",
        "reopened",
    }
)
FINAL_STATES = frozenset({"closed", "withdrawn"})

# Parallel regions (section 5.3). None of them may gate assistance.
JUSTICE_STATES: tuple[str, ...] = (
    "none",
    "informed_of_rights",
    "reported",
    "investigation",
    "prosecution",
    "trial",
    "verdict",
    "compensation_claimed",
    "compensation_awarded",
    "declined",
)
NON_PUNISHMENT_STATES: tuple[str, ...] = (
    "none",
    "offence_flagged",
    "evidence_letter_issued",
    "prosecutor_decision",
)
CHILD_STATES: tuple[str, ...] = (
    "not_applicable",
    "minor_presumed",
    "child_protection_notified",
    "age_assessed",
    "guardian_appointed",
    "bia_done",
    "bid_done",
    "turned_18",
)
# Residence (migrants; section 5.3): the permit track. The immigration authority decides; the
# case records its decisions (with the reason given) and never makes assistance wait for them.
RESIDENCE_STATES: tuple[str, ...] = (
    "not_applicable",
    "reflection_leave",
    "permit_requested",
    "permit_granted",
    "permit_refused",
    "permit_renewed",
    "permit_expired",
    "long_term_status",
)
ASSISTANCE_STATES: tuple[str, ...] = ("none", "active", "ended")
CHILD_PROTECTION_ENGAGED = frozenset(
    {
        "child_protection_notified",
        "age_assessed",
        "guardian_appointed",
        "bia_done",
        "bid_done",
    }
)


@dataclass(frozen=True)
class AssistanceFacts:
    """Everything a guard may look at. Deliberately has no justice or cooperation field (I1)."""

    status: str
    age: int | None
    age_disputed: bool
    child_state: str
    assistance_state: str
    live_consent_purposes: frozenset[str]
    open_safety_tasks: int = 0

    @property
    def is_child(self) -> bool:
        """Minority is presumed when age is unknown or disputed (I3)."""
        return self.age is None or self.age < 18 or self.age_disputed


@dataclass(frozen=True)
class Request:
    """What the person acting supplies: the reason, confirmations ticked, and the consent used."""

    reason: str = ""
    confirmations: frozenset[str] = frozenset()
    consent_id: str | None = None


# returns why not (a Phrase: its template is translated where it is shown), or None
Guard = Callable[[AssistanceFacts, Request], Phrase | None]


@dataclass(frozen=True)
class Transition:
    region: str
    source: frozenset[str]
    target: str
    actors: frozenset[str]
    guard: Guard | None = None
    effects: tuple[str, ...] = ()
    needs_reason: bool = False

    @property
    def confirmations(self) -> tuple[str, ...]:
        """What the person ticks for this step (its guard checks them; a form shows them)."""
        return tuple(getattr(self.guard, "confirmations", ()))


@dataclass(frozen=True)
class Outcome:
    region: str
    source: str
    target: str
    effects: tuple[str, ...]
    reason: str
    consent_id: str | None = None


def _need(*items: str) -> Guard:
    def guard(facts: AssistanceFacts, req: Request) -> Phrase | None:
        missing = [i for i in items if i not in req.confirmations]
        if not missing:
            return None
        return Phrase("confirm first: {missing}",
                      params={"missing": Code("confirmation", missing, quoted=False)})

    guard.confirmations = items  # type: ignore[attr-defined]  # read by Transition
    return guard


def _adult(facts: AssistanceFacts, req: Request) -> Phrase | None:
    if facts.is_child:
        return Phrase(
            "the person is, or may be, a child: refer them directly once child protection is "
            "notified; no consent step is needed"
        )
    return None


def _child_protection(facts: AssistanceFacts, req: Request) -> Phrase | None:
    if not facts.is_child:
        return Phrase("only a child is referred without consent; ask the adult for consent first")
    if facts.child_state not in CHILD_PROTECTION_ENGAGED:
        return Phrase("notify the child-protection authority or guardian before the referral")
    return None


def _consent(purpose: str) -> Guard:
    def guard(facts: AssistanceFacts, req: Request) -> Phrase | None:
        if purpose not in facts.live_consent_purposes:
            return Phrase("record the person's consent for the purpose {purpose} first",
                          params={"purpose": Code("purpose", purpose)})
        return None

    return guard


def _durable(facts: AssistanceFacts, req: Request) -> Phrase | None:
    if not facts.is_child and "durable_solution" not in facts.live_consent_purposes:
        return Phrase("record the person's consent for the purpose {purpose} first",
                      params={"purpose": Code("purpose", "durable_solution")})
    if facts.is_child and facts.child_state != "bid_done":
        return Phrase(
            "a child's durable solution needs a best-interests determination (BID) first")
    return None


_RISK_ASSESSED = _need("risk_assessment")


def _return(facts: AssistanceFacts, req: Request) -> Phrase | None:
    return _durable(facts, req) or _RISK_ASSESSED(facts, req)


_return.confirmations = _RISK_ASSESSED.confirmations  # type: ignore[attr-defined]


def _no_safety_task(facts: AssistanceFacts, req: Request) -> Phrase | None:
    if facts.open_safety_tasks:
        return Phrase("{count} safety task(s) still open: resolve them before closing",
                      params={"count": facts.open_safety_tasks})
    return None


def _entitled(facts: AssistanceFacts, req: Request) -> Phrase | None:
    if facts.status not in ENTITLED_STATES:
        return Phrase("assistance starts once the person is a presumed victim (now {status})",
                      params={"status": Code("status", facts.status)})
    return None


def _t(
    region: str,
    source: Iterable[str],
    target: str,
    actors: Iterable[str],
    guard: Guard | None = None,
    effects: Iterable[str] = (),
    needs_reason: bool = False,
) -> Transition:
    return Transition(
        region, frozenset(source), target, frozenset(actors), guard, tuple(effects), needs_reason
    )


_ACTIVE = ENTITLED_STATES
_OPEN = frozenset(MAIN_STATES) - FINAL_STATES

TRANSITIONS: tuple[Transition, ...] = (
    _t("main", {"signal"}, "screening", {CW, SUP}, _need("safe_setting", "interpreter_offered")),
    _t(
        "main",
        {"screening"},
        "presumed_victim",
        {CW, SUP},
        None,
        ("open_non_punishment_review", "enter_child_region", "start_assistance"),
        needs_reason=True,
    ),
    _t(
        "main",
        {"screening"},
        "not_indicated",
        {CW, SUP},
        None,
        ("signposting_task",),
        needs_reason=True,
    ),
    _t("main", {"not_indicated", "reopened"}, "screening", {CW, SUP}),
    _t("main", {"presumed_victim"}, "consent_pending", {CW, SUP}, _adult),
    _t(
        "main",
        {"presumed_victim"},
        "referred",
        {CW, SUP},
        _child_protection,
        ("record_child_views", "referral_timer"),
        needs_reason=True,
    ),
    _t(
        "main",
        {"consent_pending"},
        "referred",
        {CW, SUP},
        _consent("nrm_referral"),
        ("referral_timer",),
    ),
    _t(
        "main",
        {"consent_pending"},
        "anonymous_notification",
        {CW, SUP},
        None,
        ("strip_identifiers",),
    ),
    _t("main", {"anonymous_notification"}, "consent_pending", {CW, SUP}),
    _t("main", {"referred"}, "recovery_reflection", {CA, SYS}, None, ("reflection_timer",)),
    _t("main", {"recovery_reflection", "rg_pending"}, "rg_positive", {CA}, None, ("notify",), True),
    _t(
        "main",
        {"recovery_reflection", "rg_pending"},
        "rg_negative",
        {CA},
        None,
        ("notify", "reconsideration_task"),
        True,
    ),
    _t("main", {"rg_negative"}, "rg_pending", {CW, SUP}, None, (), needs_reason=True),
    _t("main", {"rg_positive"}, "cg_pending", {CA, SYS}, None, ("ca_task",)),
    _t(
        "main",
        {"cg_pending"},
        "identified_victim",
        {CA},
        None,
        ("notify", "compensation_information"),
        True,
    ),
    _t("main", {"cg_pending"}, "not_identified", {CA}, None, ("notify", "exit_support_task"), True),
    *(
        _t(
            "main",
            _ACTIVE - {d},
            d,
            {SUP},
            _return if d == "return_preparation" else _durable,
            (),
            True,
        )
        for d in DURABLE_SOLUTIONS
    ),
    _t(
        "main",
        {"return_preparation"},
        "returned_reintegration",
        {CW, SUP},
        _need("handover_acknowledged"),
    ),
    _t("main", _OPEN, "closed", {SUP}, _no_safety_task, ("retention_timer",), needs_reason=True),
    _t("main", {"closed"}, "reopened", {CW, SUP}, None, ("link_history",), needs_reason=True),
    _t(
        "main",
        _OPEN,
        "withdrawn",
        {CW, SUP},
        None,
        ("revoke_consents", "stop_sharing"),
        needs_reason=True,
    ),
    # Assistance region: the plan starts from any entitled state and ends only by a person's act.
    _t("assistance", {"none", "ended"}, "active", {CW, SUP}, _entitled),
    _t("assistance", {"active"}, "ended", {CW, SUP}, None, (), needs_reason=True),
    # Justice region: voluntary; entering it never gates anything above.
    _t("justice", {"none"}, "informed_of_rights", {CW, SUP}),
    _t(
        "justice",
        {"informed_of_rights"},
        "reported",
        {CW, SUP},
        _consent("law_enforcement_contact"),
    ),
    _t("justice", {"reported"}, "investigation", {CW, SUP}),
    _t("justice", {"investigation"}, "prosecution", {CW, SUP}),
    _t("justice", {"prosecution"}, "trial", {CW, SUP}),
    _t("justice", {"trial"}, "verdict", {CW, SUP}),
    _t("justice", {"verdict"}, "compensation_claimed", {CW, SUP}),
    _t("justice", {"compensation_claimed"}, "compensation_awarded", {CW, SUP}),
    _t("justice", set(JUSTICE_STATES) - {"declined"}, "declined", {CW, SUP}),
    _t("justice", {"declined"}, "informed_of_rights", {CW, SUP}),
    # Non-punishment review (opened automatically at presumed_victim).
    _t("non_punishment", {"none"}, "offence_flagged", {CW, SUP}, None, (), True),
    _t("non_punishment", {"offence_flagged"}, "evidence_letter_issued", {CW, SUP}, None, (), True),
    _t(
        "non_punishment",
        {"evidence_letter_issued"},
        "prosecutor_decision",
        {CW, SUP},
        None,
        (),
        True,
    ),
    # Child region.
    _t("child", {"minor_presumed"}, "child_protection_notified", {CW, SUP}),
    _t("child", {"child_protection_notified"}, "age_assessed", {CW, SUP}, None, (), True),
    _t("child", {"child_protection_notified", "age_assessed"}, "guardian_appointed", {CW, SUP}),
    _t("child", {"guardian_appointed"}, "bia_done", {CW, SUP}),
    _t("child", {"bia_done"}, "bid_done", {SUP}, None, (), True),
    _t("child", set(CHILD_STATES) - {"not_applicable", "turned_18"}, "turned_18", {CW, SUP}),
    # Residence region: decisions are the immigration authority's, recorded with its reasons.
    _t("residence", {"not_applicable"}, "reflection_leave", {CW, SUP}),
    _t("residence", {"not_applicable", "reflection_leave", "permit_refused", "permit_expired"},
       "permit_requested", {CW, SUP}),
    _t("residence", {"permit_requested"}, "permit_granted", {CW, SUP}, None, (), True),
    _t("residence", {"permit_requested"}, "permit_refused", {CW, SUP}, None, (), True),
    _t("residence", {"permit_granted", "permit_renewed"}, "permit_renewed", {CW, SUP}),
    _t("residence", {"permit_granted", "permit_renewed"}, "permit_expired", {CW, SUP}),
    _t("residence", {"permit_granted", "permit_renewed"}, "long_term_status", {CW, SUP},
       None, (), True),
    _t("residence", set(RESIDENCE_STATES) - {"not_applicable"}, "not_applicable", {SUP},
       None, (), True),
)
REGIONS = ("main", "assistance", "justice", "non_punishment", "child", "residence")


@dataclass(frozen=True)
class RegionStates:
    """The current state of every region of one case."""

    main: str = "signal"
    assistance: str = "none"
    justice: str = "none"
    non_punishment: str = "none"
    child: str = "not_applicable"
    residence: str = "not_applicable"
    extra: dict[str, str] = field(default_factory=dict)

    def get(self, region: str) -> str:
        return str(getattr(self, region))


def transitions_from(region: str, state: str) -> tuple[Transition, ...]:
    return tuple(t for t in TRANSITIONS if t.region == region and state in t.source)


def allowed_targets(region: str, state: str, role: str) -> tuple[str, ...]:
    """Targets a role may move to from here (the UI offers these; guards are checked on submit)."""
    return tuple(t.target for t in transitions_from(region, state) if role in t.actors)


def decide(
    region: str, current: str, target: str, *, role: str, facts: AssistanceFacts, request: Request
) -> Outcome:
    """Check one step. Raises WorkflowError (no such step, guard fails) or PermissionDeniedError.

    The guard sees only ``facts`` (AssistanceFacts) and the request: a justice-region state
    cannot reach it by construction (I1).
    """
    if region not in REGIONS:
        raise unknown_region(region)
    candidates = [t for t in transitions_from(region, current) if t.target == target]
    if not candidates:
        options = sorted({t.target for t in transitions_from(region, current)})
        raise WorkflowError(
            "a case cannot move from {current} to {target} in the {region} workflow",
            hint="possible next steps from {current}: {options}",
            params={"current": Code("status", current), "target": Code("status", target),
                    "region": Code("region", region, quoted=False),
                    "options": Code("status", options, quoted=False) if options
                    else Phrase("none")},
        )
    step = candidates[0]
    if role not in step.actors:
        raise PermissionDeniedError(
            "the role {role} may not move a case to {target}",
            hint="this step is taken by: {actors}",
            params={"role": Code("role", role), "target": Code("status", target),
                    "actors": Code("role", sorted(step.actors), quoted=False)},
        )
    if step.needs_reason and not request.reason.strip():
        raise WorkflowError(
            "moving to {target} needs a reason or rationale",
            hint="write why, in a sentence a reviewer can check",
            params={"target": Code("status", target)},
        )
    if step.guard is not None:
        why_not = step.guard(facts, request)
        if why_not:
            raise WorkflowError("cannot move to {target}: {why_not}",
                                params={"target": Code("status", target), "why_not": why_not})
    effects = list(step.effects)
    if region == "main" and target == "presumed_victim" and not facts.is_child:
        effects.remove("enter_child_region")
    return Outcome(region, current, target, tuple(effects), request.reason, request.consent_id)


def unknown_region(region: str) -> WorkflowError:
    """The refusal of a region the workflow does not have (the service checks it first too)."""
    return WorkflowError("unknown workflow region {region}", hint="use one of {regions}",
                         params={"region": repr(region), "regions": ", ".join(REGIONS)})


# ---- timers (I6): review tasks only, never a change of state ----


@dataclass(frozen=True)
class TimerRule:
    """A deadline per jurisdiction: being in ``state`` for ``days`` creates a review task."""

    name: str
    state: str
    days: int
    task: str


DEFAULT_TIMERS: tuple[TimerRule, ...] = (
    TimerRule("reflection_period", "recovery_reflection", 30, "review_reflection_period_end"),
    TimerRule("rg_decision", "recovery_reflection", 45, "chase_reasonable_grounds_decision"),
    TimerRule("cg_decision", "cg_pending", 90, "chase_conclusive_grounds_decision"),
    TimerRule("consent_followup", "consent_pending", 14, "follow_up_consent"),
    TimerRule("exit_support", "not_identified", 45, "review_exit_support"),
)


@dataclass(frozen=True)
class ReviewDue:
    rule: str
    task: str
    due_at: datetime


def due_reviews(
    status: str, entered_at: datetime, now: datetime, rules: Iterable[TimerRule] = DEFAULT_TIMERS
) -> tuple[ReviewDue, ...]:
    """Review tasks whose deadline has passed. Deliberately returns no new status (I6)."""
    out = []
    for rule in rules:
        if rule.state == status:
            due = entered_at + timedelta(days=rule.days)
            if due <= now:
                out.append(ReviewDue(rule.name, rule.task, due))
    return tuple(out)
