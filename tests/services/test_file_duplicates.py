"""The bounded-memory record of accepted ids answers exactly as a plain dict would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.services.file_duplicates import AcceptedInFile

keys = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(st.sampled_from([-(2**63), -1, 0, 7, 2**63 - 1]) | keys,
                            st.integers(0, 2**32 - 1)), max_size=300),
    cuts=st.lists(st.integers(1, 40), min_size=1, max_size=30),
)
def test_same_answers_as_a_dict_whatever_the_batches(rows, cuts):
    """Rows in file order, cut into batches of any sizes: each row is new (None) or names the
    first accepted row with its key, exactly as ``dict.setdefault`` over the whole file does."""
    reference: dict[int, int] = {}
    expected = []
    for number, (key, content) in enumerate(rows, start=2):
        prior = reference.get(key)
        expected.append(prior)
        if prior is None:
            reference[key] = number << 32 | content
    seen = AcceptedInFile()
    got: list[int | None] = []
    start, i = 0, 0
    while start < len(rows):
        size = cuts[i % len(cuts)]
        batch = rows[start:start + size]
        got += seen.classify([k for k, _ in batch], list(range(start + 2, start + 2 + len(batch))),
                             [c for _, c in batch])
        start, i = start + size, i + 1
    assert got == expected
    assert len(seen) == len(reference)


def test_memory_is_sixteen_bytes_a_record():
    seen = AcceptedInFile()
    for batch in range(200):
        ids = list(range(batch * 5000, (batch + 1) * 5000))
        seen.classify([hash(("agency", i)) for i in ids], ids, [0] * len(ids))
    assert len(seen) == 1_000_000
    assert sum(k.nbytes + v.nbytes for k, v in seen._runs) == 16_000_000
    assert len(seen._runs) <= 20  # log-structured: a few runs, not one per batch
