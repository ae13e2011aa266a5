"""The review queue of record linkage (``ctip link``): borderline pairs a person decides on.

A pair waits because its match probability falls between the review and the match thresholds;
the reasons say in which band it falls and whether the two dates of birth agree (a code and
the figures, never the dates themselves). Here, in the domain, so the web app shows the queue
without loading the linkage model's libraries."""

from __future__ import annotations

from ctip.domain.access import Role
from ctip.domain.review import QueueKind, Reason, register_queue

QUEUE_NAME = "linkage.pairs"
DECISIONS = ("match", "non_match")
BAND_WIDTH = 0.1
CAVEAT = ("A pair is two records that may be the same person. Decide on the records, not on "
          "the score: a 'match' merges the two people in the statistics, a 'non match' keeps "
          "them apart. Open the identities only when the fields shown are not enough; each "
          "opening is recorded with your reason.")

LINKAGE_QUEUE = register_queue(QueueKind(
    name=QUEUE_NAME,
    title="Linkage review",
    decisions=DECISIONS,
    readers=frozenset({Role.ANALYST, Role.SUPERVISOR}),
    deciders=frozenset({Role.ANALYST, Role.SUPERVISOR}),
    caveat=CAVEAT,
))


def score_band(probability: float, width: float = BAND_WIDTH) -> tuple[float, float]:
    """The band of width ``width`` a probability falls in: 0.87 -> (0.8, 0.9)."""
    steps = round(1 / width)
    low = min(int(probability * steps), steps - 1) / steps
    return round(low, 6), round(low + 1 / steps, 6)


def dob_agreement(left: str | None, right: str | None) -> str:
    """'agree', 'disagree' or 'missing' for two dates of birth written YYYY[-MM[-DD]]: they
    agree when the shorter is a prefix of the longer (1990 and 1990-05-01 agree)."""
    if not left or not right:
        return "missing"
    a, b = left.strip(), right.strip()
    shorter, longer = sorted((a, b), key=len)
    return "agree" if longer.startswith(shorter) else "disagree"


def pair_reasons(probability: float, *, match_threshold: float, review_threshold: float,
                 dob: str) -> tuple[Reason, ...]:
    """Why a pair waits for a person: its score band, and what the dates of birth say."""
    low, high = score_band(probability)
    reasons = [Reason(
        code="score_band",
        text=f"match probability {probability:.3f} is in the band {low:.1f}-{high:.1f}: below "
             f"the automatic match threshold {match_threshold:.2f}, at or above the review "
             f"threshold {review_threshold:.2f}",
        figures={"probability": round(probability, 4), "band_low": low, "band_high": high,
                 "match_threshold": match_threshold, "review_threshold": review_threshold},
    )]
    if dob == "disagree":
        reasons.append(Reason(code="dob_disagree",
                              text="the two dates of birth disagree"))
    elif dob == "missing":
        reasons.append(Reason(code="dob_missing",
                              text="a date of birth is missing on one or both records"))
    return tuple(reasons)
