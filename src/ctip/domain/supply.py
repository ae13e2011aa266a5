"""Supply-chain screening (``ctip supply``): the review queue, the caveat, the ILO 11 indicators.

Here, in the domain, so the web app can show the due-diligence queue and record worker-level
findings without loading the screener's libraries. The ILO 11 indicators of forced labour (ILO,
2012) are the fields an audit or a grievance is recorded against (CASE-MANAGEMENT.md section
6.4); each finding says how it is known (``said`` by a worker, ``observed`` by the auditor, read
in a ``document``), the distinction labour inspectors keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ctip.domain.review import QueueKind, register_queue
from ctip.errors import Phrase, ValidationError

QUEUE_NAME = "supply.hits"
DECISIONS = ("due_diligence", "mitigated", "not_relevant", "escalate")
CAVEAT = ("A hit is sector and geography risk, not an allegation. The DOL List names goods and "
          "countries, never companies; an entity-list match is a candidate until a person has "
          "compared the supplier with the listed entity (name, address, identifiers).")

SUPPLY_QUEUE = register_queue(QueueKind(
    name=QUEUE_NAME,
    title="Supply-chain due diligence",
    decisions=DECISIONS,
    reason_required=frozenset({"mitigated", "not_relevant", "escalate"}),
    caveat=CAVEAT,
))

# ILO Indicators of Forced Labour (ILO Special Action Programme to Combat Forced Labour, 2012).
ILO_INDICATORS: dict[str, str] = {
    "abuse_of_vulnerability": "Abuse of vulnerability",
    "deception": "Deception",
    "restriction_of_movement": "Restriction of movement",
    "isolation": "Isolation",
    "physical_sexual_violence": "Physical and sexual violence",
    "intimidation_threats": "Intimidation and threats",
    "retention_of_documents": "Retention of identity documents",
    "withholding_of_wages": "Withholding of wages",
    "debt_bondage": "Debt bondage",
    "abusive_conditions": "Abusive working and living conditions",
    "excessive_overtime": "Excessive overtime",
}
EVIDENCE_TYPES = ("said", "observed", "document")
SOURCES = ("audit", "grievance", "interview", "inspection")


@dataclass(frozen=True)
class Finding:
    """One worker-level indicator at one supplier site, as an audit or grievance recorded it.

    ``note`` may name workers: it is sealed at rest and shown only to those who read findings."""

    finding_id: str
    agency: str
    supplier: str
    source: str  # audit | grievance | interview | inspection
    indicator: str  # a key of ILO_INDICATORS
    evidence_type: str  # said | observed | document
    observed_on: date
    site: str | None = None
    case_id: str | None = None  # a victim case this finding concerns
    evidence_item: str | None = None  # an evidence locker item id
    note: str | None = None
    recorded_by: str = ""


# what each checked column is called in the refusal (a Phrase, so pages translate it)
_COLUMNS = {"source": Phrase("source"), "indicator": Phrase("indicator"),
            "evidence_type": Phrase("evidence type")}


def check_finding(source: str, indicator: str, evidence_type: str) -> None:
    for column, value, allowed in (("source", source, SOURCES),
                                   ("indicator", indicator, tuple(ILO_INDICATORS)),
                                   ("evidence_type", evidence_type, EVIDENCE_TYPES)):
        if value not in allowed:
            raise ValidationError("{value} is not a known {what}",
                                  column=column, value=value, allowed=", ".join(allowed),
                                  params={"value": repr(value), "what": _COLUMNS[column]})


def indicator_profile(findings: list[Finding]) -> dict[str, dict[str, int]]:
    """Per ILO indicator, how many findings of each evidence type (every indicator listed)."""
    profile = {key: dict.fromkeys(EVIDENCE_TYPES, 0) for key in ILO_INDICATORS}
    for f in findings:
        profile[f.indicator][f.evidence_type] += 1
    return profile
