"""Words shown for the codes of the workflow, roles and code lists, marked for translation.

Codes stay in the data (``presumed_victim``); people read labels ("Presumed victim", "Victime
présumée"). ``N_`` only marks a string for extraction; the page translates it when rendering.
Code-list labels come from the shipped code lists and are added to the catalogue by
``python -m ctip.web.i18n extract``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ctip.domain.vocabulary import code_list, code_list_names
from ctip.errors import Code


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    return message


STATUS: dict[str, str] = {
    "signal": N_("Signal received"),
    "screening": N_("Screening"),
    "presumed_victim": N_("Presumed victim"),
    "not_indicated": N_("No indication of trafficking"),
    "consent_pending": N_("Waiting for consent"),
    "anonymous_notification": N_("Anonymous notification"),
    "referred": N_("Referred into the NRM"),
    "recovery_reflection": N_("Recovery and reflection period"),
    "rg_positive": N_("Reasonable grounds: positive"),
    "rg_negative": N_("Reasonable grounds: negative"),
    "rg_pending": N_("Reasonable grounds: reconsideration"),
    "cg_pending": N_("Conclusive grounds pending"),
    "identified_victim": N_("Identified victim"),
    "not_identified": N_("Not identified"),
    "social_inclusion": N_("Durable solution: social inclusion"),
    "return_preparation": N_("Durable solution: return preparation"),
    "resettlement": N_("Durable solution: resettlement"),
    "returned_reintegration": N_("Returned: reintegration"),
    "closed": N_("Closed"),
    "reopened": N_("Reopened"),
    "withdrawn": N_("Withdrawn"),
    # other regions
    "none": N_("Not started"),
    "active": N_("Active"),
    "ended": N_("Ended"),
    "informed_of_rights": N_("Informed of rights"),
    "reported": N_("Reported to the police"),
    "investigation": N_("Investigation"),
    "prosecution": N_("Prosecution"),
    "trial": N_("Trial"),
    "verdict": N_("Verdict"),
    "compensation_claimed": N_("Compensation claimed"),
    "compensation_awarded": N_("Compensation awarded"),
    "declined": N_("Declined"),
    "offence_flagged": N_("Offence flagged (committed under compulsion)"),
    "evidence_letter_issued": N_("Evidence letter issued"),
    "prosecutor_decision": N_("Prosecutor's decision"),
    "not_applicable": N_("Not applicable"),
    "minor_presumed": N_("Minor presumed"),
    "child_protection_notified": N_("Child protection notified"),
    "age_assessed": N_("Age assessed"),
    "guardian_appointed": N_("Guardian appointed"),
    "bia_done": N_("Best-interests assessment done"),
    "bid_done": N_("Best-interests determination done"),
    "turned_18": N_("Turned 18"),
    "reflection_leave": N_("Reflection leave (no removal)"),
    "permit_requested": N_("Residence permit requested"),
    "permit_granted": N_("Residence permit granted"),
    "permit_refused": N_("Residence permit refused"),
    "permit_renewed": N_("Residence permit renewed"),
    "permit_expired": N_("Residence permit expired"),
    "long_term_status": N_("Long-term residence status"),
}

REGION: dict[str, str] = {
    "main": N_("NRM status"),
    "assistance": N_("Assistance"),
    "justice": N_("Justice (voluntary)"),
    "non_punishment": N_("Non-punishment review"),
    "child": N_("Child safeguards"),
    "residence": N_("Residence (migrants)"),
}

ROLE: dict[str, str] = {
    "admin": N_("Administrator"),
    "national_admin": N_("National administrator"),
    "investigator": N_("Investigator"),
    "supervisor": N_("Supervisor"),
    "caseworker": N_("Caseworker"),
    "competent_authority": N_("Competent authority"),
    "analyst": N_("Analyst"),
    "auditor": N_("Auditor"),
    "coordinator": N_("Follow-up coordinator"),
    "reviewer": N_("Evidence reviewer"),
}

REFERRAL_STATUS: dict[str, str] = {
    "pending": N_("Waiting for an answer"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "completed": N_("Completed"),
    "revoked": N_("Revoked"),
}

PURPOSE: dict[str, str] = {
    "nrm_referral": N_("Referral into the NRM"),
    "share_with_service_provider": N_("Sharing with a service provider"),
    "law_enforcement_contact": N_("Contact with law enforcement"),
    "durable_solution": N_("Durable solution"),
    "statistical_use": N_("Statistical use (de-identified)"),
    "case_management": N_("Case management"),
}

REFERRAL_PURPOSE: dict[str, str] = {
    "nrm_referral": N_("Referral into the NRM (competent authority)"),
    "service": N_("A service for the person"),
    "law_enforcement": N_("Contact with law enforcement"),
}

SERVICE_TYPE: dict[str, str] = {
    "safe_accommodation": N_("Safe accommodation"),
    "medical": N_("Medical care"),
    "psychological": N_("Psychological support"),
    "legal": N_("Legal aid"),
    "material": N_("Material assistance"),
    "interpretation": N_("Interpretation"),
    "education": N_("Education"),
    "employment": N_("Employment support"),
    "child_protection": N_("Child protection"),
    "identification": N_("Identification (competent authority)"),
    "other": N_("Other"),
}

IDENTITY_FIELD: dict[str, str] = {
    "given_name": N_("Given name"),
    "family_name": N_("Family name"),
    "aliases": N_("Other names"),
    "date_of_birth": N_("Date of birth"),
    "document_number": N_("Document number"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "address": N_("Address"),
    "narrative": N_("Account in the person's words"),
}

CLASSIFICATION: dict[str, str] = {
    "ilo_case_rule_met": N_("ILO case rule met"),
    "deceived_and_exploited": N_("Deceived and exploited (not the full case rule)"),
    "exploited": N_("Exploitative conditions only"),
    "some_indicators": N_("Some indicators"),
    "no_indicators": N_("No indicators"),
}

CONFIRMATION: dict[str, str] = {
    "safe_setting": N_("The interview takes place in a safe setting"),
    "interpreter_offered": N_("An interpreter was offered"),
    "risk_assessment": N_("A return risk assessment was done"),
    "handover_acknowledged": N_("The receiving partner acknowledged the hand-over"),
}

OBSERVATION: dict[str, str] = {
    "yes": N_("Yes"),
    "no": N_("No"),
    "unknown": N_("Not known"),
    "declined": N_("Declined to answer"),
}


QUEUE_TITLE: dict[str, str] = {  # review queue titles (the kinds carry English titles)
    "linkage.pairs": N_("Linkage review"),
    "ads.screened": N_("Screened job ads"),
    "finflows.alerts": N_("Financial-flow alerts"),
    "supply.hits": N_("Supply-chain due diligence"),
}

DECISION: dict[str, str] = {  # the decisions of the review queues
    "match": N_("Same person (match)"),
    "non_match": N_("Different people (no match)"),
    "accept": N_("Accept"),
    "dismiss": N_("Dismiss"),
    "risky": N_("Risky"),
    "fine": N_("Fine"),
    "escalate": N_("Escalate"),
    "link_case": N_("Link to a victim case"),
    "due_diligence": N_("Needs due diligence"),
    "mitigated": N_("Mitigated"),
    "not_relevant": N_("Not relevant"),
}

# The label table of each kind of ``Code`` a message quotes (``errors.Code``); a kind named after
# a shipped code list (``exploitation_form``) takes that list's labels.
CODE_KINDS: dict[str, dict[str, str]] = {
    "status": STATUS,
    "region": REGION,
    "role": ROLE,
    "referral_status": REFERRAL_STATUS,
    "purpose": PURPOSE,
    "referral_purpose": REFERRAL_PURPOSE,
    "confirmation": CONFIRMATION,
    "queue": QUEUE_TITLE,
    "decision": DECISION,
}
# quotation marks around a code's label, by language (others: English typographic quotes)
QUOTES: dict[str, tuple[str, str]] = {
    "fr": ("« ", " »"), "es": ("«", "»"), "ru": ("«", "»"), "ar": ("«", "»"),
    "zh": ("“", "”"),
}
LIST_SEPARATOR: dict[str, str] = {"ar": "، ", "zh": "、"}


def code_text(code: Code, gettext: Callable[[str], str], locale: str) -> str:
    """A code a message quotes, as its label in the page's language, in quotation marks (a label
    is often several words inside a sentence). A code without a label is shown as the English
    text shows it, never dropped."""
    table = CODE_KINDS.get(code.kind)
    in_list = table is None and code.kind in code_list_names()

    def one(value: str) -> str | None:
        text = table.get(value) if table is not None else None
        if in_list:
            try:
                text = str(code_list(code.kind).entry(value)["label"])
            except LookupError:
                text = None
        return gettext(text) if text else None

    shown = [one(value) for value in code.codes()]
    if not all(shown):
        return str(code)
    opening, closing = QUOTES.get(locale, ("‘", "’"))
    return LIST_SEPARATOR.get(locale, ", ").join(f"{opening}{text}{closing}" for text in shown)


def label(table: dict[str, str], code: str | None, gettext: Callable[[str], str]) -> str:
    """Translated label for a code; an unlabelled code is shown as itself, never dropped."""
    if code is None:
        return ""
    text = table.get(str(code))
    return gettext(text) if text else str(code).replace("_", " ")


# The six dimensions of the ILO/EC operational indicators (domain/screening.py).
DIMENSION: dict[str, str] = {
    "DR": N_("deceptive recruitment"),
    "CR": N_("coercive recruitment"),
    "VR": N_("recruitment by abuse of vulnerability"),
    "EX": N_("exploitative conditions of work"),
    "CD": N_("coercion at destination"),
    "VD": N_("abuse of vulnerability at destination"),
}

# The reasons ``domain.screening.screen`` gives, as patterns (English, as the domain writes them)
# and the translatable message each becomes. Why patterns: the domain is stdlib-only and writes
# its reasons in English for the audit trail and the CLI; the page shows them in the user's
# language. A reason no pattern matches is shown as written, never dropped.
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<dim>[A-Z]{2}) \(.*\) positive: (?P<strong>\d+) strong, (?P<medium>\d+) "
                r"medium, (?P<weak>\d+) weak indicator\(s\)$"),
     N_("%(dim)s (%(name)s) positive: %(strong)s strong, %(medium)s medium, %(weak)s weak "
        "indicator(s)")),
    (re.compile(r"^child: exploitative conditions suffice"),
     N_("child: exploitative conditions suffice, no means is required (Palermo Protocol, "
        "art. 3(c))")),
    (re.compile(r"^adult: recruitment means, exploitation and coercion"),
     N_("adult: recruitment means, exploitation and coercion or vulnerability at destination "
        "are all positive (ILO case rule)")),
    (re.compile(r"^deceived and exploited without coercion"),
     N_("deceived and exploited without coercion: not the full case rule")),
    (re.compile(r"^exploitative conditions only"),
     N_("exploitative conditions only: consider labour-rights services")),
    (re.compile(r"^no indicator observed$"), N_("no indicator observed")),
    (re.compile(r"^strong indicator\(s\) observed: (?P<ids>.+)$"),
     N_("strong indicator(s) observed: %(ids)s")),
    (re.compile(r"^the NRM presumption is generous"),
     N_("the NRM presumption is generous: assistance should start now")),
    (re.compile(r"^(?P<n>\d+) indicator\(s\) observed but no dimension is positive$"),
     N_("%(n)s indicator(s) observed but no dimension is positive")),
    (re.compile(r"^this is a suggestion"),
     N_("this is a suggestion: the person screening decides and records why")),
)


def screening_reason(text: str, gettext: Callable[[str], str]) -> str:
    """One reason of a screening result in the page's language."""
    for pattern, message in _REASONS:
        found = pattern.match(text)
        if found:
            values = found.groupdict()
            if "dim" in values:
                values["name"] = gettext(DIMENSION.get(values["dim"], values["dim"]))
            return gettext(message) % values if values else gettext(message)
    return text
