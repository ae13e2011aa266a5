"""The checks of issue 18: mapping coverage, CSV vs XML equal, name-matching precision/recall.

Precision and recall are measured on pairs built from an entity list with named perturbations
(legal form, typo, transliteration, word order, case and punctuation), plus as many names that
are on no list (negatives: any candidate for them is a false positive). Recall counts a pair
found when its true entity is among the candidates; precision is true candidates over all.
"""

from __future__ import annotations

from typing import Any

from ctip.supply import reference, synthetic
from ctip.supply.names import DEFAULT_THRESHOLD, NameMatcher


def matching(names: list[str] | None = None, *, pairs: int = 2000,
             threshold: float = DEFAULT_THRESHOLD, seed: int = 7) -> dict[str, Any]:
    names = names or synthetic.entity_names(1000)
    matcher = NameMatcher([[n] for n in names], threshold=threshold)
    positives = synthetic.perturbed_pairs(names, pairs, seed=seed)
    listed = set(names)
    negatives = [n for n in synthetic.entity_names(pairs * 2, seed=seed + 100)
                 if n not in listed][:pairs]
    truth = {q: i for q, i, _ in positives}
    candidates = matcher.match([q for q, _, _ in positives] + negatives)
    found: dict[str, set[int]] = {}
    for c in candidates:
        found.setdefault(c.query, set()).add(c.entity_index)
    true_pos = sum(1 for c in candidates if truth.get(c.query) == c.entity_index)
    by_kind: dict[str, list[bool]] = {}
    for q, i, kind in positives:
        by_kind.setdefault(kind, []).append(i in found.get(q, set()))
    hits = sum(sum(v) for v in by_kind.values())
    return {"entities": len(names), "pairs": len(positives), "negatives": len(negatives),
            "threshold": threshold, "candidates": len(candidates),
            "precision": true_pos / len(candidates) if candidates else 1.0,
            "recall": hits / len(positives) if positives else 1.0,
            "recall_by_perturbation": {k: sum(v) / len(v) for k, v in by_kind.items()}}


def checks(*, pairs: int = 2000) -> dict[str, Any]:
    from_csv, from_xml = reference.shipped_list("csv"), reference.shipped_list("xml")
    cov = reference.coverage(from_csv, reference.shipped_crosswalk())
    return {"version": from_csv.version, "csv_equals_xml": from_csv == from_xml,
            "coverage": {"entries": cov.entries, "iso_mapped": cov.iso_mapped,
                         "hs_mapped": cov.hs_mapped, "iso_share": cov.iso_share,
                         "hs_share": cov.hs_share,
                         "unmapped_countries": list(cov.unmapped_countries),
                         "unmapped_goods": [list(g) for g in cov.unmapped_goods]},
            "matching": matching(pairs=pairs)}
