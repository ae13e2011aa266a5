"""Who may do what to which case (CASE-MANAGEMENT.md section 7): roles, actions, agency scoping.

Why checks come in a fixed order: a refusal must leak nothing. First the *role* is checked
against the action, which does not depend on any case, so an analyst asking for case 42 gets the
same 403 whether or not case 42 exists. Then the *relationship* of the user's agency to the case
is worked out; no relationship is answered exactly like a case that does not exist (404). Only a
user who legitimately sees the case can learn that a further action is forbidden (403).

Roles (least privilege; admins administer but see no case data, separation of duties):
- ``admin``: users of their own agency and the service directory;
- ``national_admin``: an administrator for every agency (the national coordinator's office):
  the only role that manages users of other agencies or grants ``national_admin``;
- ``supervisor``: everything on their agency's cases, closure and durable solutions, reviews of
  emergency access;
- ``caseworker``: intake, screening, consent, referrals, services, identity with a reason;
- ``competent_authority``: identification decisions (reasonable / conclusive grounds) on cases of
  their agency or referred to it;
- ``analyst``: de-identified data only;
- ``auditor``: the audit log only;
- ``investigator``: the investigation modules' review queues of their agency (financial-flow
  alerts, screened ads, supply-chain hits); no victim case data;
- ``coordinator``: the national follow-up of commitments (para 31): cycles, evidence, scores;
  no case data;
- ``reviewer``: reviews (accepts or rejects) follow-up evidence someone else entered; no case
  data.
Evidence (CASE-MANAGEMENT.md 7.1; the locker of INVESTIGATIONS.md 3): the owning agency's
case workers add and view items; supervisors and investigators also export bundles; only
supervisors place legal holds and dispose; a competent authority of the owning agency, or of one
the case is referred to, views items (the identification dossier). Every view is a custody event.
A case is visible to its owning agency, to agencies it was referred to while the referral is live
(they see the operational fields plus the identity fields the referral shares), and to a user
holding a time-boxed emergency-access grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ctip.domain.records import IDENTITY_FIELDS
from ctip.errors import Code, NotFoundError, PermissionDeniedError


class Role(StrEnum):
    ADMIN = "admin"
    NATIONAL_ADMIN = "national_admin"
    SUPERVISOR = "supervisor"
    CASEWORKER = "caseworker"
    COMPETENT_AUTHORITY = "competent_authority"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"


class Action(StrEnum):
    CASE_CREATE = "case.create"
    CASE_LIST = "case.list"
    CASE_READ = "case.read"
    CASE_EDIT = "case.edit"
    CASE_SCREEN = "case.screen"
    CASE_TRANSITION = "case.transition"
    CASE_REFER = "case.refer"
    CONSENT_RECORD = "consent.record"
    REFERRAL_RESPOND = "referral.respond"
    SERVICE_RECORD = "service.record"
    IDENTITY_REVEAL = "identity.reveal"
    EMERGENCY_ACCESS = "emergency.access"
    EMERGENCY_REVIEW = "emergency.review"
    VIEW_LOG = "case.view_log"
    TASKS_READ = "tasks.read"
    DASHBOARD_READ = "dashboard.read"
    DIRECTORY_READ = "directory.read"
    DIRECTORY_MANAGE = "directory.manage"
    USERS_MANAGE = "users.manage"
    USERS_MANAGE_ALL = "users.manage_all"  # users of any agency, and granting national_admin
    DEIDENTIFIED_READ = "deidentified.read"
    AUDIT_READ = "audit.read"
    FOLLOWUP_READ = "followup.read"
    FOLLOWUP_EDIT = "followup.edit"
    FOLLOWUP_REVIEW = "followup.review"
    EVIDENCE_READ = "evidence.read"
    EVIDENCE_ADD = "evidence.add"
    EVIDENCE_EXPORT = "evidence.export"
    EVIDENCE_DISPOSE = "evidence.dispose"  # disposal, legal hold and its release


class Relation(StrEnum):
    OWNER = "owner"
    RECIPIENT = "recipient"  # a live referral to the user's agency
    EMERGENCY = "emergency"  # a live break-glass grant to the user


_CASEWORK = {
    Action.CASE_CREATE,
    Action.CASE_LIST,
    Action.CASE_READ,
    Action.CASE_EDIT,
    Action.CASE_SCREEN,
    Action.CASE_TRANSITION,
    Action.CASE_REFER,
    Action.CONSENT_RECORD,
    Action.REFERRAL_RESPOND,
    Action.SERVICE_RECORD,
    Action.IDENTITY_REVEAL,
    Action.EMERGENCY_ACCESS,
    Action.VIEW_LOG,
    Action.TASKS_READ,
    Action.DASHBOARD_READ,
    Action.DIRECTORY_READ,
}
_EVIDENCE = {Action.EVIDENCE_READ, Action.EVIDENCE_ADD, Action.EVIDENCE_EXPORT,
             Action.EVIDENCE_DISPOSE}
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset({Action.USERS_MANAGE, Action.DIRECTORY_MANAGE, Action.DIRECTORY_READ}),
    Role.NATIONAL_ADMIN: frozenset({Action.USERS_MANAGE, Action.USERS_MANAGE_ALL,
                                    Action.DIRECTORY_MANAGE, Action.DIRECTORY_READ}),
    Role.SUPERVISOR: frozenset(_CASEWORK | _EVIDENCE
                               | {Action.EMERGENCY_REVIEW, Action.DIRECTORY_MANAGE}),
    Role.CASEWORKER: frozenset(_CASEWORK | {Action.EVIDENCE_READ, Action.EVIDENCE_ADD}),
    Role.COMPETENT_AUTHORITY: frozenset(
        {
            Action.CASE_LIST,
            Action.CASE_READ,
            Action.CASE_TRANSITION,
            Action.REFERRAL_RESPOND,
            Action.IDENTITY_REVEAL,
            Action.TASKS_READ,
            Action.DASHBOARD_READ,
            Action.DIRECTORY_READ,
            Action.EVIDENCE_READ,
        }
    ),
    Role.ANALYST: frozenset({Action.DEIDENTIFIED_READ, Action.DASHBOARD_READ}),
    Role.AUDITOR: frozenset({Action.AUDIT_READ}),
    Role.INVESTIGATOR: frozenset({Action.DIRECTORY_READ, Action.EVIDENCE_READ,
                                  Action.EVIDENCE_ADD, Action.EVIDENCE_EXPORT}),
    Role.COORDINATOR: frozenset({Action.FOLLOWUP_READ, Action.FOLLOWUP_EDIT}),
    Role.REVIEWER: frozenset({Action.FOLLOWUP_READ, Action.FOLLOWUP_REVIEW}),
}

# What each relationship to a case allows (on top of the role's grant).
RELATION_ACTIONS: dict[Relation, frozenset[Action]] = {
    Relation.OWNER: frozenset(
        _CASEWORK - {Action.CASE_CREATE, Action.EMERGENCY_ACCESS}
        | {Action.EMERGENCY_REVIEW} | _EVIDENCE
    ),
    Relation.RECIPIENT: frozenset(
        {
            Action.CASE_LIST,
            Action.CASE_READ,
            Action.REFERRAL_RESPOND,
            Action.SERVICE_RECORD,
            Action.IDENTITY_REVEAL,
            Action.CASE_TRANSITION,
            Action.EVIDENCE_READ,
        }
    ),
    Relation.EMERGENCY: frozenset({Action.CASE_READ, Action.IDENTITY_REVEAL}),
}
# A recipient's transitions are limited to the competent authority's decisions.
RECIPIENT_TRANSITION_ROLES = frozenset({Role.COMPETENT_AUTHORITY})

# Operational (tier 0-1) case fields every party to the case may see; identity is tier 2 and is
# shown only through an audited reveal, to a recipient only for the fields its referral shares.
OPERATIONAL_FIELDS: tuple[str, ...] = (
    "case_id",
    "case_number",
    "agency",
    "status",
    "sex",
    "age",
    "age_disputed",
    "is_child",
    "languages",
    "interpreter_needed",
    "exploitation_forms",
    "nationality",
    "assistance_state",
    "child_state",
    "non_punishment_flag",
    "non_punishment_state",
    "created_at",
    "updated_at",
    "version",
)
# immigration status is tier 3 (CASE-MANAGEMENT.md 7.2): never part of what a referral shares
OWNER_ONLY_FIELDS: tuple[str, ...] = ("justice_state", "residence_state", "notes")
SHAREABLE_IDENTITY_FIELDS: tuple[str, ...] = IDENTITY_FIELDS
# Break-glass shows the least that recognises the person (CASE-MANAGEMENT.md 7.3): any other
# field is opened one request at a time, naming it, each with its own reason and audited, and
# the supervisor's review lists what was opened.
EMERGENCY_MINIMUM: tuple[str, ...] = ("given_name", "family_name", "date_of_birth")


@dataclass(frozen=True)
class Principal:
    """The person acting: who, with which role, for which agency."""

    user_id: str
    username: str
    role: Role
    agency: str


def require_role(principal: Principal, action: Action) -> None:
    """Step 1: the role may take this action at all (independent of any case: leaks nothing)."""
    if action not in ROLE_ACTIONS.get(principal.role, frozenset()):
        raise PermissionDeniedError(
            "the role {role} may not do {action}",
            hint="ask a supervisor or administrator if your work needs it",
            params={"role": Code("role", principal.role.value), "action": repr(action.value)},
        )


def may_manage_user(actor: Principal, agency: str) -> bool:
    """An administrator manages the users of their own agency; a national one, of every agency.
    (Role first: ``require_role(actor, Action.USERS_MANAGE)``.)"""
    allowed = ROLE_ACTIONS.get(actor.role, frozenset())
    if Action.USERS_MANAGE not in allowed:
        return False
    return Action.USERS_MANAGE_ALL in allowed or actor.agency == agency


def may_grant_role(actor: Principal, role: Role) -> bool:
    """Nobody grants more than they hold: only a national administrator makes another one."""
    allowed = ROLE_ACTIONS.get(actor.role, frozenset())
    if Action.USERS_MANAGE not in allowed:
        return False
    return role is not Role.NATIONAL_ADMIN or Action.USERS_MANAGE_ALL in allowed


def relation_to(
    principal: Principal,
    *,
    owner_agency: str,
    live_referral_agencies: frozenset[str],
    emergency_grant: bool,
) -> Relation | None:
    """Step 2: how the user's agency stands to the case, or None (then the case is 'not found')."""
    if principal.agency == owner_agency:
        return Relation.OWNER
    if principal.agency in live_referral_agencies:
        return Relation.RECIPIENT
    if emergency_grant:
        return Relation.EMERGENCY
    return None


def not_found(case_id: str) -> NotFoundError:
    """The one answer for a missing case and for a case the user may not know exists."""
    return NotFoundError(
        "no case {case} is visible to you",
        hint="check the case number, or ask the owning agency to refer the case",
        params={"case": repr(case_id)},
    )


def authorize(
    principal: Principal, action: Action, relation: Relation | None, case_id: str
) -> Relation:
    """Steps 1-3 together; returns the relation that allowed the action."""
    require_role(principal, action)
    if relation is None:
        raise not_found(case_id)
    if action not in RELATION_ACTIONS[relation]:
        raise PermissionDeniedError(
            "your agency's access to case {case} ({relation}) does not allow {action}",
            hint="the owning agency can do this, or refer the case for this purpose",
            params={"case": repr(case_id), "relation": relation.value,
                    "action": repr(action.value)},
        )
    if (
        relation is Relation.RECIPIENT
        and action is Action.CASE_TRANSITION
        and principal.role not in RECIPIENT_TRANSITION_ROLES
    ):
        raise PermissionDeniedError(
            "only the competent authority of a receiving agency takes workflow decisions",
            hint="the owning agency moves the case through the other steps",
        )
    return relation


def visible_fields(relation: Relation) -> tuple[str, ...]:
    """Case fields (excluding identity) shown to a party in this relation."""
    if relation is Relation.OWNER:
        return OPERATIONAL_FIELDS + OWNER_ONLY_FIELDS
    return OPERATIONAL_FIELDS


def revealable_identity_fields(relation: Relation, shared: frozenset[str]) -> tuple[str, ...]:
    """Identity fields a reveal may open: all for owner/emergency, only shared ones for a
    recipient."""
    if relation is Relation.RECIPIENT:
        return tuple(f for f in SHAREABLE_IDENTITY_FIELDS if f in shared)
    return SHAREABLE_IDENTITY_FIELDS


def fields_to_reveal(relation: Relation, allowed: tuple[str, ...],
                     requested: tuple[str, ...] | None) -> tuple[str, ...]:
    """What one reveal opens: the fields asked for (each must be allowed), else every allowed
    field, except under break-glass, where it is ``EMERGENCY_MINIMUM`` unless fields are named.
    Raises ``ValueError`` naming a field that may not be opened."""
    if requested:
        wrong = [f for f in requested if f not in allowed]
        if wrong:
            raise ValueError(", ".join(wrong))
        return tuple(f for f in allowed if f in requested)
    if relation is Relation.EMERGENCY:
        return tuple(f for f in EMERGENCY_MINIMUM if f in allowed)
    return allowed
