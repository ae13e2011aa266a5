"""Clusters from scored pairs, refusing merges whose members clearly disagree.

Connected components of all links at a threshold chain errors: one false link between two
people (the same common name, no date of birth on one side) joins everybody either of them is
linked to, however flatly their dates of birth contradict each other. Here links are taken
strongest first and two clusters merge only when no member of one clearly disagrees with a
member of the other (``clearly_disagree``), the "cannot-link" rule of constrained clustering.
A link that the rule refuses is kept apart and returned, so a person can review it.

The rule is for pairs the model did not score: a pair of records that is itself a link at the
threshold was weighed by the model *with* its dates of birth (a contradicting date is a large
negative weight), and everything else about the two records outweighed it, so that pair never
counts as a contradiction. Refusing such direct links cost FEBRL4 3.3% of its true pairs (dates
of birth keyed wrong in more than one digit, names and address the same); the chains the rule
exists for are never scored as one pair, and stay refused. Nor does a pair count when both of its
records are linked, each with near certainty, to one third record with a full date of birth: the
model weighed that record's date against both and linked them anyway, so one of the three dates
was keyed wrong (FEBRL's duplicates replace whole dates; 152 of FEBRL3's 365 missed true pairs
were kept apart that way before). A record without a date vouches for nothing.

Runs in memory on the linked pairs (about as many as records), whatever engine scored them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

#: Approximate ages ("about 17", ages a year off) put a birth year up to 3 years from the truth
#: (the year of identification minus an age that may itself be a year off): a larger gap is a
#: contradiction, not noise.
MAX_BIRTH_YEAR_GAP = 3

#: A link this certain vouches for the pairs of records it joins through a third record
#: (``_vouched_by_a_third``). At 0.99 a second, independent population (namesakes, families,
#: approximate ages: ``linkage.population``) lost precision; at 0.999 it lost none and FEBRL3
#: kept most of what the rule had cost it (recall 0.944 -> 0.964, precision 1.000).
CERTAIN_LINK = 0.999


def _one_edit_apart(a: str, b: str) -> bool:
    """Equal up to one substituted character or one pair of adjacent characters transposed."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) <= 1:
        return True
    i, j = diff[0], diff[-1]
    return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]


def dates_compatible(a: str, b: str) -> bool:
    """Two full ISO dates that could be the same date of birth keyed by different people:
    equal, one typo (a digit or two adjacent digits transposed), or day and month swapped."""
    if a == b or _one_edit_apart(a, b):
        return True
    return a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]


def clearly_disagree(
    dob_a: str | None, year_a: int | None, dob_b: str | None, year_b: int | None
) -> bool:
    """Two records that cannot be one person: full dates of birth that are not one keying error
    apart, or birth years (from a date or an approximate age) more than 3 years apart.

    Partial dates ("1990", "1990-04") and missing values never contradict anything.
    """
    full = bool(dob_a and dob_b and len(dob_a) == 10 and len(dob_b) == 10)
    if full and not dates_compatible(str(dob_a), str(dob_b)):
        return True
    if year_a is not None and year_b is not None:
        return abs(year_a - year_b) > MAX_BIRTH_YEAR_GAP
    return False


@dataclass(frozen=True)
class Thirds:
    """Records linked to each record: with near certainty, and at the match threshold."""

    certain: dict[str, set[str]]
    linked: dict[str, set[str]]


@dataclass
class Clustering:
    clusters: pd.DataFrame  # unique_id, source_dataset, cluster_id
    refused: pd.DataFrame  # links at the threshold that the cannot-link rule kept apart


def _value(v: object) -> object:
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v


def constrained_clusters(frame: pd.DataFrame, pairs: pd.DataFrame, threshold: float) -> Clustering:
    """Cluster ``frame``'s records (prepared frame: ``unique_id``, ``source_dataset``, ``dob``,
    ``birth_year``) from ``pairs`` (``unique_id_l``, ``unique_id_r``, ``match_probability``)
    at ``threshold``, strongest links first, with the cannot-link rule.

    The order is fixed (probability, then ids), so the same input gives the same clusters. The
    cluster id is the smallest ``unique_id`` among the cluster's records.
    """
    ids = frame["unique_id"].astype(str).tolist()
    facts: dict[str, tuple[str | None, int | None]] = {}
    dobs = frame["dob"] if "dob" in frame.columns else pd.Series([None] * len(frame))
    years = frame["birth_year"] if "birth_year" in frame.columns else pd.Series([None] * len(frame))
    for uid, dob, year in zip(ids, dobs.tolist(), years.tolist(), strict=True):
        dob_v, year_v = _value(dob), _value(year)
        facts[uid] = (
            str(dob_v) if dob_v is not None else None,
            int(year_v) if year_v is not None else None,  # type: ignore[call-overload]
        )
    parent = {uid: uid for uid in ids}
    members: dict[str, list[str]] = {uid: [uid] for uid in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    strong = pairs.loc[pairs["match_probability"] >= threshold]
    links = sorted(
        zip(
            strong["match_probability"].astype(float).tolist(),
            strong["unique_id_l"].astype(str).tolist(),
            strong["unique_id_r"].astype(str).tolist(),
            strict=True,
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    refused: list[tuple[str, str, float]] = []
    certain: dict[str, set[str]] = {}
    linked: dict[str, set[str]] = {}
    for probability, left, right in links:
        linked.setdefault(left, set()).add(right)
        linked.setdefault(right, set()).add(left)
        if probability >= CERTAIN_LINK:
            certain.setdefault(left, set()).add(right)
            certain.setdefault(right, set()).add(left)
    thirds = Thirds(certain=certain, linked=linked)
    for probability, left, right in links:
        a, b = root(left), root(right)
        if a == b:
            continue
        if _conflict(members[a], members[b], facts, thirds):
            refused.append((left, right, probability))
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a].extend(members.pop(b))
    cluster_of: dict[str, str] = {}
    for group in members.values():
        label = min(group)
        for uid in group:
            cluster_of[uid] = label
    clusters = pd.DataFrame(
        {
            "unique_id": ids,
            "source_dataset": frame["source_dataset"].astype(str).tolist(),
            "cluster_id": [cluster_of[uid] for uid in ids],
        }
    )
    return Clustering(
        clusters=clusters,
        refused=pd.DataFrame(refused, columns=["unique_id_l", "unique_id_r", "match_probability"]),
    )


def _conflict(
    left: Sequence[str],
    right: Iterable[str],
    facts: dict[str, tuple[str | None, int | None]],
    thirds: Thirds | None = None,
) -> bool:
    """Some member of ``left`` clearly disagrees with some member of ``right``, leaving out the
    pairs the model itself linked (``thirds.linked``) and the pairs other records vouch for
    (``_vouched_by_a_third``)."""
    right = list(right)
    for x in left:
        dob_x, year_x = facts[x]
        if dob_x is None and year_x is None:
            continue
        for y in right:
            dob_y, year_y = facts[y]
            if (
                clearly_disagree(dob_x, year_x, dob_y, year_y)
                and not (thirds and y in thirds.linked.get(x, ()))
                and not _vouched_by_a_third(x, y, facts, thirds)
            ):
                return True
    return False


def _vouched_by_a_third(
    x: str, y: str, facts: dict[str, tuple[str | None, int | None]], thirds: Thirds | None
) -> bool:
    """Records with a full date of birth vouch for ``x`` and ``y`` being one person: one record
    linked to both with near certainty (``CERTAIN_LINK``), or two linked to both at the match
    threshold. Either way the model weighed those records' dates against both of theirs (which
    disagree, so at least one contradicts) and linked them anyway.

    Two vouching records at the threshold, not one: in a chain of namesakes or relatives (same
    family name and address, different dates) one record without a telling date often links to
    both; two records that each carry a full date and each link to both did not occur there
    (``linkage.population``, seeds 1-3), while FEBRL3's duplicates with a replaced date mostly
    have two or more such records.
    """
    if thirds is None:
        return False

    def dated(z: str) -> bool:
        return facts[z][0] is not None and len(str(facts[z][0])) == 10

    certain = thirds.certain.get(x, set()) & thirds.certain.get(y, set())
    if any(dated(z) for z in certain):
        return True
    both = thirds.linked.get(x, set()) & thirds.linked.get(y, set())
    return sum(1 for z in both if dated(z)) >= 2
