"""The linkage-error correction of a capture-history table (``estimate.linkage_error``).

Checked: with no estimated error it is the identity; the error process has the exact small-case
probabilities (a missed link between two lists; a triangle bridged by its third record); the
correction inverts the process; lists linked by a simulated linker that misses a known share of
links give back the true table's estimate; and the missed-link rate the run estimates from its
own clusters recovers the simulated one. No mocks: every table is drawn or computed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.estimate import estimate
from ctip.estimate.histories import CaptureHistory, pattern_grid
from ctip.estimate.linkage_error import (
    LinkageErrors,
    correct,
    errors_from_run,
    expected_observed,
    fragment_matrix,
    merge_effect,
)
from ctip.estimate.simulate import CaptureClass, simulate


def _errors(t: int, missed: float, within: float = 0.0, dup: float = 0.0,
            false: float = 0.0) -> LinkageErrors:
    m = np.full((t, t), missed)
    np.fill_diagonal(m, within)
    f = np.triu(np.full((t, t), false))
    return LinkageErrors(tuple("ABCDEF"[:t]), m, f, np.full(t, dup))


@settings(max_examples=60, deadline=None)
@given(t=st.integers(2, 5), data=st.data())
def test_no_estimated_error_is_the_identity(t: int, data: st.DataObject) -> None:
    counts = np.array(data.draw(st.lists(st.integers(0, 500), min_size=2**t - 1,
                                         max_size=2**t - 1)), dtype=np.int64)
    history = CaptureHistory(tuple("ABCDE"[:t]), counts)
    fixed = correct(history, LinkageErrors.none(history.lists))
    assert np.array_equal(fixed.history.counts, counts)
    # duplicates found with certainty change nothing either
    no_miss = _errors(t, 0.0, dup=0.1)
    assert np.allclose(fragment_matrix(t, no_miss.missed, no_miss.duplicated), np.eye(2**t - 1))


def test_missed_link_between_two_lists_splits_the_person() -> None:
    a = fragment_matrix(2, _errors(2, 0.2).missed, np.zeros(2))
    # columns: true A (code 1), B (2), AB (3); rows: observed units of those patterns
    assert a[:, 2] == pytest.approx([0.2, 0.2, 0.8])
    assert a[:, 0] == pytest.approx([1, 0, 0])


def test_a_third_record_bridges_a_missed_link() -> None:
    m = 0.3
    a = fragment_matrix(3, _errors(3, m).missed, np.zeros(3))
    q = 1 - m
    together = q**3 + 3 * m * q**2  # the triangle stays connected
    assert a[6, 6] == pytest.approx(together)  # code 7 = ABC
    assert a[0, 6] == pytest.approx(m**3 + m**2 * q)  # A alone: both of its links missed
    # expected units per person: 1 when connected, 2 for one record cut off, 3 all apart
    expected_units = together + 2 * (3 * m**2 * q) + 3 * m**3
    assert a[:, 6].sum() == pytest.approx(expected_units)


def test_false_links_merge_units() -> None:
    units = np.array([100.0, 100.0, 50.0])
    f = np.array([[0.0, 10.0], [0.0, 0.0]])
    delta = merge_effect(units, f, 2)
    assert delta.sum() == pytest.approx(-10.0)  # ten merges: ten fewer units
    assert (units + delta)[2] > units[2]  # and more people on both lists


@settings(max_examples=30, deadline=None)
@given(t=st.integers(2, 4), missed=st.floats(0.0, 0.3), false=st.floats(0.0, 5.0),
       seed=st.integers(0, 10_000))
def test_correction_inverts_the_error_process(t: int, missed: float, false: float,
                                              seed: int) -> None:
    rng = np.random.default_rng(seed)
    true = rng.integers(20, 400, size=2**t - 1).astype(float)
    errors = _errors(t, missed, within=missed / 2, dup=0.04, false=false)
    seen = expected_observed(true, errors)
    history = CaptureHistory(errors.lists, np.rint(seen).astype(np.int64))
    fixed = correct(history, errors)
    assert fixed.converged
    assert np.abs(fixed.counts - true).max() < 1.0 + 0.02 * true.max()


def _link(history: CaptureHistory, missed: float, rng: np.random.Generator):
    """A linker that misses each direct link with probability ``missed``: records per person,
    links drawn independently, clusters = connected components. Returns the linked table and
    the run's (records, direct links) for ``errors_from_run``."""
    grid = pattern_grid(history.t)
    counts = np.zeros_like(history.counts)
    records, links = [], []
    for cell, n in enumerate(history.counts):
        on = np.flatnonzero(grid[cell])
        for person in range(int(n)):
            ids = [f"{cell}-{person}-{j}" for j in on]
            parent = list(range(len(ids)))

            def find(x: int, parent: list[int] = parent) -> int:
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    if rng.random() >= missed:
                        parent[find(x)] = find(y)
                        links.append((ids[x], ids[y], 0.999))
            groups: dict[int, list[int]] = {}
            for x in range(len(ids)):
                groups.setdefault(find(x), []).append(x)
            for root, members in groups.items():
                code = sum(1 << int(on[x]) for x in members)
                counts[code - 1] += 1
                records += [(ids[x], history.lists[on[x]], f"{cell}-{person}-{root}")
                            for x in members]
    return history.with_counts(counts), records, links


@pytest.mark.parametrize("missed", [0.05, 0.12])
def test_simulated_missed_links_recover_the_true_estimate(missed: float) -> None:
    rng = np.random.default_rng(7)
    cls = CaptureClass(1.0, (0.35, 0.3, 0.25, 0.3), {(0, 1): 0.8})
    model = "A:B"
    true = simulate(4000, [cls], rng, names=("A", "B", "C", "D"))
    linked, records, links = _link(true, missed, rng)
    errors = errors_from_run(true.lists, records, links, threshold=0.95)
    # the run's own estimate of the missed-link rate, from unlinked pairs inside its clusters
    assert errors.basis["missed_two_lists"] == pytest.approx(missed, abs=0.025)
    n_true = estimate(true, model=model).estimate
    n_linked = estimate(linked, model=model).estimate
    n_fixed = estimate(correct(linked, errors).history, model=model).estimate
    assert n_linked > n_true * (1 + missed / 2)  # missed links inflate N
    assert abs(n_fixed - n_true) < 0.4 * abs(n_linked - n_true)
    assert abs(n_fixed / n_true - 1) < 0.05


def test_the_run_with_perfect_links_estimates_no_error() -> None:
    rng = np.random.default_rng(3)
    true = simulate(1500, [CaptureClass(1.0, (0.4, 0.3, 0.3))], rng, names=("A", "B", "C"))
    linked, records, links = _link(true, 0.0, rng)
    errors = errors_from_run(true.lists, records, links, threshold=0.95)
    assert np.array_equal(linked.counts, true.counts)
    assert errors.basis["missed_two_lists"] == 0.0
    assert np.array_equal(correct(linked, errors).history.counts, true.counts)


def test_lists_in_another_order_and_refusals() -> None:
    errors = _errors(3, 0.1)
    history = CaptureHistory(("C", "A", "B"), np.arange(1, 8, dtype=np.int64) * 10)
    moved = errors.for_lists(history.lists)
    assert moved.lists == ("C", "A", "B")
    assert correct(history, errors).converged
    from ctip.errors import ValidationError

    with pytest.raises(ValidationError):
        correct(CaptureHistory(("A", "B", "X"), history.counts), errors)
