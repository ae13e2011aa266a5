"""Hierarchical log-linear models: their interaction terms, enumeration, names and parsing.

A term is a set of two or more lists (sorted indices), e.g. (0, 1) for A:B or (0, 1, 2) for A:B:C;
a model is main effects plus a set of terms closed downwards (hierarchical: A:B:C brings A:B, A:C,
B:C). Terms are ordered pairs first in R's ``combn`` order (the stepwise tie-break order), then
triples, and so on, so a model's pairs keep the indices the pair-only code uses.

``hierarchical_models(t, maxorder)`` lists every such model with terms of at most ``maxorder``
lists, as MultipleSystemsEstimation's ``hiermodels`` catalogue: 8 for 3 lists (order 2), 113 for
4 (order 3), 6,893 for 5 (order 4), 32,768 for 6 (order 2). The t-way term is never included (it
is confounded with the unobserved cell).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache
from itertools import combinations

from ctip.errors import EstimationError

Term = tuple[int, ...]
Model = tuple[Term, ...]

# MultipleSystemsEstimation's automatic maxorder: 1, 2, 3, 3, 2 for 2 to 6 lists
DEFAULT_MAXORDER = {2: 1, 3: 2, 4: 3, 5: 3, 6: 2}
HIGHER_ORDER_MAX_LISTS = 6  # beyond this only two-list terms (as the R catalogue)


def default_maxorder(t: int) -> int:
    return DEFAULT_MAXORDER.get(t, 2)


def check_maxorder(t: int, maxorder: int) -> int:
    if maxorder < 1 or maxorder > t - 1:
        raise EstimationError(
            f"the highest interaction order must be between 1 and {t - 1} for {t} lists; "
            f"got {maxorder}",
            hint=f"the {t}-list term is confounded with the people on no list",
        )
    if maxorder > 2 and t > HIGHER_ORDER_MAX_LISTS:
        raise EstimationError(
            f"interactions of more than two lists are available for up to "
            f"{HIGHER_ORDER_MAX_LISTS} lists; got {t}",
            hint="use --maxorder 2, or merge lists",
        )
    return maxorder


@lru_cache(maxsize=32)
def all_terms(t: int, maxorder: int = 2) -> tuple[Term, ...]:
    """Every term of 2..maxorder lists: pairs in combn order first, then triples..."""
    return tuple(term for k in range(2, maxorder + 1) for term in combinations(range(t), k))


def order_of(model: Model) -> int:
    return max((len(term) for term in model), default=1)


def sort_model(terms: Sequence[Term]) -> Model:
    return tuple(sorted({tuple(sorted(term)) for term in terms}, key=lambda x: (len(x), x)))


def closure(terms: Sequence[Term]) -> Model:
    """The smallest hierarchical model holding ``terms``."""
    out: set[Term] = set()
    for term in terms:
        term = tuple(sorted(term))
        for k in range(2, len(term) + 1):
            out.update(combinations(term, k))
    return sort_model(list(out))


def is_hierarchical(model: Sequence[Term]) -> bool:
    present = set(model)
    return all(
        sub in present
        for term in model
        for sub in combinations(term, len(term) - 1)
        if len(sub) >= 2
    )


def _extend(t: int, model: Model, size: int, maxorder: int) -> Iterator[Model]:
    """All hierarchical extensions of ``model`` by terms of ``size`` lists and above."""
    if size > maxorder:
        yield model
        return
    present = set(model)
    eligible = (
        [
            term
            for term in combinations(range(t), size)
            if all(sub in present for sub in combinations(term, size - 1))
        ]
        if size > 2
        else list(combinations(range(t), 2))
    )
    for r in range(len(eligible) + 1):
        for chosen in combinations(eligible, r):
            if size > 2 and not chosen:
                yield model  # nothing of this size: nothing larger is eligible either
                continue
            yield from _extend(t, (*model, *chosen), size + 1, maxorder)


@lru_cache(maxsize=16)
def hierarchical_models(t: int, maxorder: int = 2) -> tuple[Model, ...]:
    """Every hierarchical model with main effects and terms of at most ``maxorder`` lists."""
    maxorder = min(maxorder, t - 1)
    if maxorder < 2:
        return ((),)
    if maxorder == 2:  # every set of pairs, by size (fast path: 32,768 models for 6 lists)
        pairs = list(combinations(range(t), 2))
        return tuple(m for k in range(len(pairs) + 1) for m in combinations(pairs, k))
    models = [sort_model(m) for m in _extend(t, (), 2, maxorder)]
    return tuple(sorted(set(models), key=lambda m: (len(m), [(len(x), x) for x in m])))


def name(lists: Sequence[str], term: Term) -> str:
    return ":".join(lists[k] for k in term)


def model_name(lists: Sequence[str], model: Model) -> str:
    return " ".join(name(lists, term) for term in model) or "main effects"


def generators(model: Model) -> Model:
    """The maximal terms of a hierarchical model (what a user writes: "A:B:C,C:D")."""
    present = set(model)
    return tuple(
        term
        for term in model
        if not any(set(term) < set(other) for other in present if len(other) > len(term))
    )


def parse_model(lists: Sequence[str], text: str | Sequence[str]) -> tuple[Model, list[Term]]:
    """ "A:B,B:C:D" -> (hierarchical closure, the terms added to make it hierarchical).

    Names are matched exactly first, then ignoring case; an unknown name is a clear error.
    """
    items = [text] if isinstance(text, str) else list(text)
    parts = [p.strip() for item in items for p in str(item).replace(";", ",").split(",")]
    parts = [p for p in parts if p and p.lower() not in ("main", "main effects", "independence")]
    exact = {n: k for k, n in enumerate(lists)}
    folded = {n.lower(): k for k, n in enumerate(lists)}
    given: list[Term] = []
    for part in parts:
        names = [x.strip() for x in part.replace("*", ":").split(":")]
        idx = []
        for n in names:
            k = exact.get(n, folded.get(n.lower()))
            if k is None:
                raise EstimationError(
                    f"unknown list {n!r} in the model term {part!r}",
                    hint=f"the lists are {', '.join(lists)}; write terms as A:B or A:B:C, "
                    "separated by commas",
                )
            idx.append(k)
        if len(set(idx)) < 2:
            raise EstimationError(
                f"the model term {part!r} needs two or more different lists",
                hint="main effects are always in the model; write interactions as A:B",
            )
        if len(set(idx)) == len(lists):
            raise EstimationError(
                f"the term {part!r} joins every list: it is confounded with the people on no "
                "list and cannot be estimated",
                hint="leave out the highest-order term",
            )
        given.append(tuple(sorted(set(idx))))
    model = closure(given)
    added = [term for term in model if term not in set(given)]
    return model, added
