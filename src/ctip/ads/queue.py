"""Review-queue reasons of a screened ad (the queue kind itself is ``domain/ads_queue.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ctip.domain.ads_queue import ADS_QUEUE, CAVEAT, DECISIONS, QUEUE_NAME
from ctip.domain.review import Reason

__all__ = ["ADS_QUEUE", "CAVEAT", "DECISIONS", "QUEUE_NAME", "reasons"]


def reasons(ad_id: str, hits: Sequence[Mapping[str, Any]], score: float, score_kind: str,
            model_version: str | None, cluster: tuple[str, int] | None) -> list[Reason]:
    """One reason per indicator (its id, note and span offsets; never an identifier), then the
    model's score and the cluster, if any."""
    evidence = (f"ad:{ad_id}",)
    out = []
    for hit in hits:
        figures: dict[str, str | int | float] = {"start": int(hit["start"]),
                                                 "end": int(hit["end"])}
        figures.update(hit.get("figures") or {})
        out.append(Reason(str(hit["code"]), str(hit["note"]), figures, evidence))
    if score_kind == "model":
        out.append(Reason("MODEL", "calibrated probability from the agency's trained model",
                          {"probability": round(score, 4), "model": model_version or ""},
                          evidence))
    else:
        out.append(Reason("COUNT", "no trained model yet: ranked by the number of indicators",
                          {"indicators": len(hits)}, evidence))
    if cluster is not None:
        out.append(Reason("CLUSTER", "posted by a network of ads sharing identifiers or text",
                          {"cluster": cluster[0], "ads": cluster[1]}, evidence))
    return out
