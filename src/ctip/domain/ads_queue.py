"""The review queue of screened job ads (``ctip ads``): its decisions, roles and caveat.

Here, in the domain, so the web app can show the queue to the roles that read it without
loading the screener's science libraries."""

from __future__ import annotations

from ctip.domain.review import QueueKind, register_queue

QUEUE_NAME = "ads.screened"
DECISIONS = ("risky", "fine", "escalate")
CAVEAT = ("Indicators are hypotheses, not findings. The NIJ-funded JIRN study of 1,263 ads with "
          "known case outcomes found several popular indicators did not predict trafficking "
          "(movement language was even less common in trafficking ads). Read the ad; decide on "
          "what it says, not on the count of flags.")

ADS_QUEUE = register_queue(QueueKind(
    name=QUEUE_NAME,
    title="Screened job ads",
    decisions=DECISIONS,
    reason_required=frozenset({"escalate"}),
    caveat=CAVEAT,
))
