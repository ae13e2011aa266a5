"""Constrained clustering: strongest links first, no merge of records that clearly disagree."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from ctip.linkage.clustering import clearly_disagree, constrained_clusters, dates_compatible
from ctip.linkage.normalise import anagram_key

dates = st.dates(min_value=date(1940, 1, 1), max_value=date(2024, 12, 31)).map(date.isoformat)
years = st.one_of(st.none(), st.integers(1940, 2024))
maybe_dates = st.one_of(st.none(), dates, dates.map(lambda d: d[:4]), dates.map(lambda d: d[:7]))


def _frame(rows: list[tuple[str, str | None, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": [r[0] for r in rows],
            "source_dataset": ["a"] * len(rows),
            "dob": [r[1] for r in rows],
            "birth_year": pd.array([r[2] for r in rows], dtype="Int64"),
        }
    )


def _pairs(links: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(links, columns=["unique_id_l", "unique_id_r", "match_probability"])


@given(dates)
def test_a_date_is_compatible_with_itself_its_typos_and_its_day_month_swap(d: str) -> None:
    assert dates_compatible(d, d)
    typo = d[:-1] + ("0" if d[-1] != "0" else "1")
    assert dates_compatible(d, typo) and dates_compatible(typo, d)
    transposed = d[:8] + d[9] + d[8]
    assert dates_compatible(d, transposed)
    swapped = f"{d[:4]}-{d[8:10]}-{d[5:7]}"
    assert dates_compatible(d, swapped) and dates_compatible(swapped, d)


@given(dates, st.integers(40, 3000))
def test_dates_weeks_apart_in_two_or_more_digits_clearly_disagree(d: str, days: int) -> None:
    other = (date.fromisoformat(d) + timedelta(days=days)).isoformat()
    differing = sum(a != b for a, b in zip(d, other, strict=True))
    swapped = d[:4] == other[:4] and d[5:7] == other[8:10] and d[8:10] == other[5:7]
    if differing >= 3 and not swapped:
        assert clearly_disagree(d, int(d[:4]), other, int(other[:4]))


@given(maybe_dates, years, maybe_dates, years)
def test_disagreement_is_symmetric_and_missing_values_never_disagree(
    dob_a: str | None, year_a: int | None, dob_b: str | None, year_b: int | None
) -> None:
    assert clearly_disagree(dob_a, year_a, dob_b, year_b) == clearly_disagree(
        dob_b, year_b, dob_a, year_a
    )
    assert not clearly_disagree(None, None, dob_b, year_b)
    if dob_a is None or dob_b is None or len(dob_a) < 10 or len(dob_b) < 10:
        # partial dates contradict only through birth years more than 3 years apart
        far = year_a is not None and year_b is not None and abs(year_a - year_b) > 3
        assert clearly_disagree(dob_a, year_a, dob_b, year_b) == far


def test_a_chain_through_a_record_without_a_date_stops_at_the_contradiction() -> None:
    # b (no date) links strongly to a and to c; a and c were born 12 years apart
    frame = _frame([("a", "1990-04-12", 1990), ("b", None, None), ("c", "2002-09-30", 2002)])
    result = constrained_clusters(frame, _pairs([("a", "b", 0.99), ("b", "c", 0.97)]), 0.95)
    cluster = dict(zip(result.clusters["unique_id"], result.clusters["cluster_id"], strict=True))
    assert cluster["a"] == cluster["b"] != cluster["c"]  # the stronger link won
    assert list(result.refused["unique_id_l"]) == ["b"] and list(result.refused["unique_id_r"]) == [
        "c"
    ]


def test_records_both_near_certain_links_of_one_dated_record_are_one_person() -> None:
    # b and c each link with near certainty to a; their dates disagree (one was keyed wrong)
    frame = _frame(
        [("a", "1984-03-12", 1984), ("b", "1984-03-21", 1984), ("c", "1919-08-12", 1919)]
    )
    assert clearly_disagree("1984-03-21", 1984, "1919-08-12", 1919)
    certain = constrained_clusters(frame, _pairs([("a", "b", 0.9995), ("a", "c", 0.9992)]), 0.95)
    assert set(certain.clusters["cluster_id"]) == {"a"} and certain.refused.empty
    # the same links merely above the threshold: c stays apart, its link waits for review
    probable = constrained_clusters(frame, _pairs([("a", "b", 0.99), ("a", "c", 0.98)]), 0.95)
    found = probable.clusters
    cluster = dict(zip(found["unique_id"], found["cluster_id"], strict=True))
    assert cluster["a"] == cluster["b"] != cluster["c"]
    assert list(probable.refused["unique_id_r"]) == ["c"]


def test_two_dated_records_linked_to_both_vouch_at_the_threshold_and_one_does_not() -> None:
    # d and e were keyed with dates that disagree; a and b (full dates) each link to both
    rows = [("a", "1984-03-12", 1984), ("b", "1984-03-12", 1984), ("d", "1984-03-21", 1984),
            ("e", "1919-08-12", 1919)]
    links = [("a", "b", 0.999), ("a", "d", 0.99), ("b", "d", 0.99), ("a", "e", 0.98),
             ("b", "e", 0.97)]
    two = constrained_clusters(_frame(rows), _pairs(links), 0.95)
    assert set(two.clusters["cluster_id"]) == {"a"} and two.refused.empty
    # with b gone, a alone links to d and e at the threshold: e stays apart for review
    one = constrained_clusters(
        _frame([r for r in rows if r[0] != "b"]),
        _pairs([lk for lk in links if "b" not in lk[:2]]), 0.95,
    )
    cluster = dict(zip(one.clusters["unique_id"], one.clusters["cluster_id"], strict=True))
    assert cluster["a"] == cluster["d"] != cluster["e"]
    assert list(one.refused["unique_id_r"]) == ["e"]


def test_a_record_without_a_date_vouches_for_nothing_however_certain() -> None:
    frame = _frame([("a", "1990-04-12", 1990), ("b", None, None), ("c", "2002-09-30", 2002)])
    result = constrained_clusters(frame, _pairs([("a", "b", 0.9999), ("b", "c", 0.9998)]), 0.95)
    cluster = dict(zip(result.clusters["unique_id"], result.clusters["cluster_id"], strict=True))
    assert cluster["a"] == cluster["b"] != cluster["c"]


def test_links_below_the_threshold_do_not_join_and_every_record_gets_a_cluster() -> None:
    frame = _frame([("a", "1990-04-12", 1990), ("b", "1990-04-12", 1990), ("c", None, 1991)])
    result = constrained_clusters(frame, _pairs([("a", "b", 0.96), ("b", "c", 0.90)]), 0.95)
    assert list(result.clusters["unique_id"]) == ["a", "b", "c"]
    assert list(result.clusters["cluster_id"]) == ["a", "a", "c"]
    assert result.refused.empty


@given(st.permutations([("a", "b", 0.99), ("b", "c", 0.98), ("c", "d", 0.97), ("a", "d", 0.96)]))
def test_clusters_do_not_depend_on_the_order_of_the_pairs(links: list) -> None:  # type: ignore[type-arg]
    frame = _frame(
        [("a", "1990-04-12", 1990), ("b", None, 1990), ("c", None, None), ("d", "1975-01-01", 1975)]
    )
    result = constrained_clusters(frame, _pairs(links), 0.95)
    assert list(result.clusters["cluster_id"]) == ["a", "a", "a", "d"]
    assert len(result.refused) == 2


names = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9), min_size=1, max_size=3
)


@given(names, st.data())
def test_anagram_key_ignores_token_order_and_transposed_letters(
    tokens: list[str], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(tokens))
    i = data.draw(st.integers(0, len(tokens) - 1))
    word = tokens[i]
    j = data.draw(st.integers(0, len(word) - 2))
    typo = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    changed = [typo if k == i else t for k, t in enumerate(tokens)]
    assert anagram_key(" ".join(tokens)) == anagram_key(" ".join(shuffled))
    assert anagram_key(" ".join(tokens)) == anagram_key(" ".join(changed))
    assert anagram_key(None) is None and anagram_key("") is None
