"""The review queue of financial-flow alerts (registered with the shared review queues)."""

from __future__ import annotations

from ctip.domain.review import QueueKind, register_queue

QUEUE_NAME = "finflows.alerts"
QUEUE = register_queue(QueueKind(
    name=QUEUE_NAME,
    title="Financial-flow alerts",
    decisions=("accept", "dismiss", "link_case"),
    reason_required=frozenset({"dismiss"}),
    links_case=frozenset({"link_case"}),
    caveat=("Red flags are hypotheses, not findings: an alert says which published indicators "
            "an account's transactions match, never that anyone trafficked. Rules marked "
            "'unverified paraphrase' have not been checked against the advisory."),
))
