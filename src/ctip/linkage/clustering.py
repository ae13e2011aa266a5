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
exists for are never scored as one pair, and stay refused. Nor does a pair count when a third
record of the two clusters has a full date of birth compatible with both of theirs: each is one
keying error from it (FEBRL3: 155 of 360 missed true pairs were kept apart that way).

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
    vouched = {(left, right) for _, left, right in links} | {(r, lf) for _, lf, r in links}
    for probability, left, right in links:
        a, b = root(left), root(right)
        if a == b:
            continue
        if _conflict(members[a], members[b], facts, vouched):
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
    vouched: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> bool:
    """Some member of ``left`` clearly disagrees with some member of ``right``, leaving out the
    pairs the model itself linked (``vouched``) and the pairs a third record bridges
    (``_bridged``)."""
    right = list(right)
    for x in left:
        dob_x, year_x = facts[x]
        if dob_x is None and year_x is None:
            continue
        for y in right:
            dob_y, year_y = facts[y]
            if (
                clearly_disagree(dob_x, year_x, dob_y, year_y)
                and (x, y) not in vouched
                and not _bridged(x, y, left, right, facts)
            ):
                return True
    return False


def _bridged(
    x: str,
    y: str,
    left: Sequence[str],
    right: Sequence[str],
    facts: dict[str, tuple[str | None, int | None]],
) -> bool:
    """A record of either cluster whose full date of birth is compatible with both ``x``'s and
    ``y``'s full dates: one true date keyed wrong once on each side ("1984-03-12" typed as
    "1984-03-21" by one agency and "1984-08-12" by another), not two people.

    Only full dates bridge: a record without a date contradicts nothing and so vouches for
    nothing (the namesake chains the cannot-link rule exists for run through such records),
    and birth years alone are too coarse to say two dates are one.
    """
    dob_x, dob_y = facts[x][0], facts[y][0]
    if not (dob_x and dob_y and len(dob_x) == 10 and len(dob_y) == 10):
        return False
    for z in (*left, *right):
        dob_z, year_z = facts[z]
        if z in (x, y) or not dob_z or len(dob_z) != 10:
            continue
        if not clearly_disagree(dob_z, year_z, dob_x, facts[x][1]) and not clearly_disagree(
            dob_z, year_z, dob_y, facts[y][1]
        ):
            return True
    return False
