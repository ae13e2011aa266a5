"""Training that cannot fail: floors for levels EM finds no match on, fixed priors otherwise.

Splink's EM refuses an m-probability of 0 (``m_probability value 0.0 is below the minimum
allowed value of 1e-300``) and stops the whole run. EM gives a level m = 0 whenever every pair
of its training block on that level is, by the current weights, a sure non-match: a level of a
case fact that only non-matches reach in that block ("12 Mill Lane" against "13 Mill Lane"
among namesakes, a form of exploitation that matches never disagree on), which any population
can produce. A linkage run must still finish, and say what it did instead:

1. ``flooring_em``: while an EM pass runs, an m (or u) of exactly 0 for an observed level is
   replaced by ``EM_FLOOR`` before Splink validates it, and the level is named in a notice.
   This wraps one Splink function (``populate_m_u_from_lookup``, where EM writes its estimates
   back); Splink offers no hook for it. When that function is not there (another Splink), the
   wrapper does nothing and step 2 catches the failure.
2. ``guarded``: a training step that still fails is skipped, with a notice.
3. ``complete_with_priors``: every level left without a trained m or u (skipped, or never
   observed) gets a fixed prior, with a notice: m falling by half from the most to the least
   similar level, u from how often random pairs reach it when known, else a small default;
   lambda, when it could not be estimated, one match per record.

Then ``model.floor_m_probabilities`` keeps every level at or above the model's minimum m.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

#: what an m (or u) of exactly 0 from EM becomes: "almost never", still a finite weight
EM_FLOOR = 1e-6

_SPLINK_MIN = 1e-300  # Splink refuses smaller m and u (they underflow to 0)
_LIMIT = 200  # characters of a library message kept in a notice


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= _LIMIT else text[: _LIMIT - 3] + "..."


@contextlib.contextmanager
def flooring_em(notices: list[str]) -> Iterator[None]:
    """Within the block, EM's zero estimates are floored (and named in ``notices``)."""
    try:
        from splink.internals import expectation_maximisation as em
    except ImportError:  # pragma: no cover - a Splink without this module: step 2 applies
        yield
        return
    original = getattr(em, "populate_m_u_from_lookup", None)
    if original is None:  # pragma: no cover
        yield
        return

    seen: set[tuple[str, str, str]] = set()

    def floored(fixed: Any, level: Any, column: str, lookup: dict[str, Any]) -> Any:
        record = lookup.get(column, {}).get(getattr(level, "comparison_vector_value", None))
        if isinstance(record, dict):
            for key in ("m_probability", "u_probability"):
                value = record.get(key)
                if isinstance(value, (int, float)) and value < _SPLINK_MIN:
                    record[key] = EM_FLOOR
                    label = str(getattr(level, "label_for_charts", "?"))
                    if (column, label, key) in seen:
                        continue
                    seen.add((column, label, key))
                    notice = (
                        f"{column}: level '{label}' got {key[0]} = {value:.3g} in training "
                        f"(every pair on it looked like a non-match); floored at {EM_FLOOR:g}"
                    )
                    notices.append(notice)
        return original(fixed, level, column, lookup)

    em.populate_m_u_from_lookup = floored  # type: ignore[assignment]
    try:
        yield
    finally:
        em.populate_m_u_from_lookup = original


def guarded(step: str, run: Callable[[], Any], notices: list[str]) -> bool:
    """Run one training step; on failure keep what was learnt so far and say so."""
    try:
        with flooring_em(notices):
            run()
    except (ValueError, ZeroDivisionError, ArithmeticError, RuntimeError, KeyError) as error:
        notices.append(f"{step} could not be trained ({_short(error)}); fixed priors used instead")
        return False
    except Exception as error:  # noqa: BLE001 - Splink raises its own exception types too
        if type(error).__module__.split(".")[0] not in ("splink", "duckdb", "_duckdb"):
            raise
        notices.append(f"{step} could not be trained ({_short(error)}); fixed priors used instead")
        return False
    return True


def _prior_m(levels: list[dict[str, Any]]) -> list[float]:
    weights = [0.5**i for i in range(len(levels))]
    total = sum(weights)
    return [w / total for w in weights]


def complete_with_priors(model: dict[str, Any], records: int, notices: list[str]) -> dict[str, Any]:
    """``model`` (saved JSON, changed in place and returned) with every m, u and lambda set."""
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        priors = _prior_m(levels)
        filled = []
        for level, prior in zip(levels, priors, strict=True):
            if not isinstance(level.get("m_probability"), float):
                level["m_probability"] = prior
                filled.append(f"'{level.get('label_for_charts', '?')}' m={prior:.3g}")
            if not isinstance(level.get("u_probability"), float):
                u = 0.5 if level is levels[-1] else 0.01
                level["u_probability"] = u
                filled.append(f"'{level.get('label_for_charts', '?')}' u={u:g}")
        if filled:
            notices.append(
                f"{comparison['output_column_name']}: no trained value for "
                + ", ".join(filled[:6])
                + (" ..." if len(filled) > 6 else "")
                + "; fixed priors used"
            )
    lam = model.get("probability_two_random_records_match")
    if not isinstance(lam, float) or not 0 < lam < 1:
        model["probability_two_random_records_match"] = 1.0 / max(records, 2)
        notices.append(
            "the share of matching pairs could not be estimated; one match per record assumed"
        )
    return model
