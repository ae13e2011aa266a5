"""Keyed balanced Bloom-filter encodings and the vectorised Dice matcher."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.linkage.dice import dice_pairs, greedy_one_to_one, match_encodings
from ctip.linkage.histories import capture_histories
from ctip.linkage.normalise import prepare_frame
from ctip.linkage.pprl import VICTIM_SCHEMA, encode, from_document, to_document

SECRET = b"a shared secret of 32 bytes....."


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return prepare_frame(pd.DataFrame(rows))


PEOPLE = [
    {
        "unique_id": "a1",
        "given_name": "Olena",
        "family_name": "Kovalenko",
        "date_of_birth": "1995-03-14",
        "sex": "female",
        "citizenship": "UKR",
    },
    {
        "unique_id": "a2",
        "given_name": "Ngozi",
        "family_name": "Okafor",
        "date_of_birth": "2004-11-02",
        "sex": "female",
        "citizenship": "NGA",
    },
    {
        "unique_id": "a3",
        "given_name": "Minh",
        "family_name": "Tran",
        "date_of_birth": "1999",
        "sex": "male",
        "citizenship": "VNM",
    },
]
SAME_PEOPLE_OTHER_AGENCY = [
    {
        "unique_id": "b1",
        "given_name": "Олена",
        "family_name": "Коваленко",
        "date_of_birth": "1995-03-14",
        "sex": "female",
        "citizenship": "UKR",
    },  # Cyrillic
    {
        "unique_id": "b2",
        "given_name": "Okafor",
        "family_name": "Ngozi",
        "date_of_birth": "2004-11-02",
        "sex": "female",
        "citizenship": "NGA",
    },  # name order swapped
    {
        "unique_id": "b3",
        "given_name": "Minh",
        "family_name": "Trann",
        "age": 22,
        "reference_year": 2021,
        "sex": "male",
        "citizenship": "VNM",
    },  # typo, approximate age only
    {
        "unique_id": "b4",
        "given_name": "Grace",
        "family_name": "Mensah",
        "date_of_birth": "1988-07-30",
        "sex": "female",
        "citizenship": "GHA",
    },
]


def test_document_holds_no_identifying_value_and_is_balanced() -> None:
    encoded = encode(_frame(PEOPLE), SECRET, list_name="police")
    text = json.dumps(to_document(encoded)).lower()
    for person in PEOPLE:
        for field in ("given_name", "family_name", "date_of_birth", "citizenship"):
            assert str(person[field]).lower() not in text
    weights = np.bitwise_count(encoded.clks).sum(axis=1)
    assert (weights == VICTIM_SCHEMA.filter_bits).all()  # exactly half of the 2L bits set
    again = from_document(json.loads(json.dumps(to_document(encoded))))
    assert (again.clks == encoded.clks).all() and list(again.ids) == ["a1", "a2", "a3"]


def test_same_people_match_across_scripts_order_and_partial_dates() -> None:
    left = encode(_frame(PEOPLE), SECRET, list_name="police")
    right = encode(_frame(SAME_PEOPLE_OTHER_AGENCY), SECRET, list_name="ngo")
    result = match_encodings([left, right])
    linked = {(a, b) for a, b in zip(result.pairs["id_l"], result.pairs["id_r"], strict=True)}
    assert linked == {("a1", "b1"), ("a2", "b2"), ("a3", "b3")}
    hist = capture_histories(result.clusters)
    assert hist.to_dict(orient="records") == [
        {"ngo": 1, "police": 1, "count": 3},
        {"ngo": 1, "police": 0, "count": 1},
    ]


def test_another_key_gives_unlinkable_encodings() -> None:
    left = encode(_frame(PEOPLE), SECRET, list_name="police")
    other = encode(_frame(PEOPLE), b"some other secret of 32 bytes...", list_name="ngo")
    i, _, _ = dice_pairs(left.clks, other.clks, 0.75)
    assert len(i) == 0  # the very same records do not match without the key
    with pytest.raises(ValueError, match="different secrets"):
        match_encodings([left, other])


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        encode(_frame(PEOPLE), b"short")


def _brute_dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = np.array([[np.bitwise_count(x & y).sum() for y in b] for x in a], dtype=float)
    ca = np.bitwise_count(a).sum(axis=1)[:, None]
    cb = np.bitwise_count(b).sum(axis=1)[None, :]
    return 2 * inter / np.maximum(ca + cb, 1)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.floats(0.3, 0.9),
    st.booleans(),
)
def test_dice_matcher_equals_brute_force_popcount(
    n: int, m: int, seed: int, threshold: float, balanced: bool
) -> None:
    rng = np.random.default_rng(seed)
    base_a = rng.random((n, 64)) < rng.uniform(0.2, 0.6)
    base_b = np.vstack(
        [
            base_a[: m // 2] ^ (rng.random((min(m // 2, n), 64)) < 0.1),
            rng.random((m - min(m // 2, n), 64)) < 0.4,
        ]
    )
    if balanced:
        base_a, base_b = np.hstack([base_a, ~base_a]), np.hstack([base_b, ~base_b])
    a, b = np.packbits(base_a, axis=1), np.packbits(base_b, axis=1)
    i, j, s = dice_pairs(a, b, threshold)
    truth = _brute_dice(a, b)
    ti, tj = np.nonzero(truth >= threshold - 1e-6)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == set(
        zip(ti.tolist(), tj.tolist(), strict=True)
    )
    assert np.allclose(s, truth[i, j], atol=1e-5)


def test_dice_within_one_list_keeps_each_pair_once() -> None:
    bits = np.packbits(np.random.default_rng(3).random((30, 128)) < 0.5, axis=1)
    bits[7] = bits[2]
    i, j, s = dice_pairs(bits, bits, 0.99, same=True)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(2, 7)] and s[0] == pytest.approx(1.0)


def test_greedy_one_to_one_takes_best_pairs_first() -> None:
    i = np.array([0, 0, 1, 1, 2])
    j = np.array([0, 1, 0, 1, 2])
    s = np.array([0.9, 0.8, 0.95, 0.7, 0.85])
    keep = greedy_one_to_one(i, j, s)
    assert sorted(zip(i[keep].tolist(), j[keep].tolist(), strict=True)) == [(0, 1), (1, 0), (2, 2)]
