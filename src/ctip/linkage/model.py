"""The Splink 5 model for victim records: comparisons, blocking, training, prediction, clustering.

One model, any Splink backend: callers pass a database API (``DuckDBAPI()`` by default, or
``SparkAPI(spark_session=...)`` on a cluster) and the SQL is generated for that engine. Nothing
here opens a file or a store: frames in (``prepare_frame`` output), frames out.

Comparisons made for trafficking data (why each level exists):
- given and family name: exact (term-frequency adjusted: a match on a rare name says more),
  the two swapped (name-order conventions differ between agencies; weighed once, in the given
  name's comparison), Jaro-Winkler for spelling
  and transliteration variants, and "this name is one of the other record's names or aliases";
- date of birth: exact full date, one-character typo, day/month transposed, partial dates that
  agree as far as both go ("1990-04" vs "1990-04-12"), then birth years within 1 and within 3,
  where a birth year may come from an approximate age ("about 17") at identification;
- citizenship (term-frequency adjusted) and sex;
- case facts when given: identification dates within a month, six months, a year (agencies
  that meet the same person mostly do so around the same time: referrals), and the forms of
  exploitation. They matter where names are few and dates of birth missing: namesakes.

Training (``train``) learns dates of birth on namesake blocks, names on date blocks, and
lambda from a near-certain rule whose recall the trained model estimates. Clustering
(``clustering.constrained_clusters``) takes links strongest first and never merges records
whose dates of birth clearly disagree. docs/methods/linkage.md says why, with the figures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule
from splink.internals.comparison_level_creator import ComparisonLevelCreator

from ctip.linkage.clustering import constrained_clusters
from ctip.linkage.training import complete_with_priors, guarded

#: Pairs at or above this match probability are the same person (clusters are built from them).
DEFAULT_MATCH_THRESHOLD = 0.95
#: Pairs between this and the match threshold go to a person for review.
DEFAULT_REVIEW_THRESHOLD = 0.80

_DUCK = "duckdb"  # custom SQL below is written in DuckDB's dialect; Splink transpiles it.


class _SwappedLikeLevel(ComparisonLevelCreator):
    """Both names swapped, each up to spelling (Jaro-Winkler >= 0.80) or romanisation (skeleton).

    Written against Splink's level interface rather than as a ``CustomLevel``: the Jaro-Winkler
    function has a different name on each engine (DuckDB ``jaro_winkler_similarity``, Spark's
    similarity jar ``jaro_winkler``), which transpiling DuckDB SQL does not translate.
    """

    def __init__(self, label: str) -> None:
        self.label = label

    def create_sql(self, sql_dialect: Any) -> str:
        jw = sql_dialect.jaro_winkler_function_name

        def like(a: str, b: str) -> str:
            sa = a.replace("_name", "_skeleton")
            sb = b.replace("_name", "_skeleton")
            return f"({jw}({a}, {b}) >= 0.8 OR {sa} = {sb})"

        given_as_family = like("given_name_l", "family_name_r")
        family_as_given = like("family_name_l", "given_name_r")
        return f"{given_as_family} AND {family_as_given}"

    def create_label_for_charts(self) -> str:
        return self.label


def _name_comparison(col: str) -> cl.CustomComparison:
    """One name (given or family), compared with the other record's same name.

    Swapped order is weighed once, in the given-name comparison: when the two names are
    swapped, the family-name comparison lands on a level whose weight is fixed at zero (m = u),
    otherwise the same evidence would be counted twice (once per name) and a swapped full name
    would outweigh a flatly contradicting date of birth.
    """
    l_, r_ = f"{col}_l", f"{col}_r"
    sk = "given_skeleton" if col == "given_name" else "family_skeleton"
    ck = "given_coarse" if col == "given_name" else "family_coarse"
    # skeletons of one or two letters collide ("Toure"/"Traore" -> "tr"): they count only for
    # names that are short themselves ("Li"/"Lee", "Wu"/"Woo"), where nothing longer is written
    long_l = f"(length({sk}_l) >= 3 OR length({l_}) <= 3)"
    long_r = f"(length({sk}_r) >= 3 OR length({r_}) <= 3)"
    # the skeleton of the pair's other name
    osk = "family_skeleton" if col == "given_name" else "given_skeleton"
    # both names swapped, each up to spelling or romanisation ("Kuznetsov Oleg" / "Oleh
    # Kuznetsov"): weighed once, in given_name, like ``swapped``. One name alone found in the
    # other's place is no level of its own: sisters share a family name, and "Camara Awa" /
    # "Adaeze Camara" scored as a swapped match when that counted as "among the other's names".
    cross: Any = _SwappedLikeLevel(
        "swapped, up to spelling or romanisation"
        + ("" if col == "given_name" else " (weighed in given_name)")
    )
    if col != "given_name":
        cross = cross.configure(
            m_probability=0.05, u_probability=0.05, fix_m_probability=True, fix_u_probability=True
        )
    swapped: Any = cll.ColumnsReversedLevel("given_name", "family_name", symmetrical=True)
    swapped = swapped.configure(
        label_for_charts="swapped with the other name"
        if col == "given_name"
        else "swapped (weighed in given_name)"
    )
    if col != "given_name":
        swapped = swapped.configure(
            m_probability=0.05, u_probability=0.05, fix_m_probability=True, fix_u_probability=True
        )
    return cl.CustomComparison(
        output_column_name=col,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col).configure(tf_adjustment_column=col),
            swapped,
            cll.JaroWinklerLevel(col, 0.92),
            cll.CustomLevel(
                f"{sk}_l = {sk}_r AND ({long_l} OR length({r_}) <= 3)",
                "another romanisation of the same name (same skeleton)",
                base_dialect_str=_DUCK,
            ),
            cross,
            cll.CustomLevel(
                f"{ck}_l = {ck}_r AND length({ck}_l) >= 2",
                "a coarser romanisation key agrees (sibilants merged, v and w dropped)",
                base_dialect_str=_DUCK,
            ),
            cll.CustomLevel(
                f"list_contains(name_tokens_r, {l_}) OR list_contains(name_tokens_l, {r_})"
                f" OR (list_contains(name_skeletons_r, {sk}_l) AND {long_l}"
                f" AND {sk}_l IS DISTINCT FROM {osk}_r)"
                f" OR (list_contains(name_skeletons_l, {sk}_r) AND {long_r}"
                f" AND {sk}_r IS DISTINCT FROM {osk}_l)",
                "among the other record's names or aliases (or their romanisations)",
                base_dialect_str=_DUCK,
            ),
            cll.JaroWinklerLevel(col, 0.80),
            cll.ElseLevel(),
        ],
    )


def _dob_comparison() -> cl.CustomComparison:
    full = "length(dob_l) = 10 AND length(dob_r) = 10"
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.CustomLevel("birth_year_l IS NULL OR birth_year_r IS NULL", "null").configure(
                is_null_level=True
            ),
            cll.CustomLevel(f"dob_l = dob_r AND {full}", "exact date", base_dialect_str=_DUCK),
            cll.CustomLevel(
                f"{full} AND (levenshtein(dob_l, dob_r) <= 1 OR (dob_year_l = dob_year_r"
                " AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r))",
                "one typo or day/month swapped",
                base_dialect_str=_DUCK,
            ),
            cll.CustomLevel(
                "dob_l IS NOT NULL AND dob_r IS NOT NULL AND (starts_with(dob_l, dob_r)"
                " OR starts_with(dob_r, dob_l))",
                "partial dates agree",
                base_dialect_str=_DUCK,
            ),
            # two full dates further apart than one keying error: weighed apart from birth years
            # near each other by an approximate age, which says far less against a match
            cll.CustomLevel(
                f"{full} AND abs(birth_year_l - birth_year_r) <= 3",
                "two full dates, otherwise different, years within 3",
                base_dialect_str=_DUCK,
            ),
            cll.AbsoluteDifferenceLevel("birth_year", 1),
            cll.AbsoluteDifferenceLevel("birth_year", 3),
            cll.ElseLevel(),
        ],
    )


def core_comparisons(columns: Sequence[str]) -> list[Any]:
    """The victim-record comparisons for the columns present in a prepared frame."""
    comps: list[Any] = [
        _name_comparison("given_name"),
        _name_comparison("family_name"),
        _dob_comparison(),
    ]
    if "citizenship" in columns:
        comps.append(cl.ExactMatch("citizenship").configure(term_frequency_adjustments=True))
    if "sex" in columns:
        comps.append(cl.ExactMatch("sex"))
    if "identified_day" in columns:
        comps.append(
            cl.CustomComparison(
                output_column_name="identified",
                comparison_levels=[
                    cll.NullLevel("identified_day"),
                    cll.AbsoluteDifferenceLevel("identified_day", 31),
                    cll.AbsoluteDifferenceLevel("identified_day", 183),
                    cll.AbsoluteDifferenceLevel("identified_day", 366),
                    cll.ElseLevel(),
                ],
            )
        )
    if "forms" in columns:
        comps.append(cl.ExactMatch("forms"))
    if "address" in columns:
        comps.append(_address_comparison())
    return comps


def _address_comparison() -> cl.CustomComparison:
    """Where the person lives or was met: the same line, the same line up to a typo, or sharing
    three or two of its tokens (street number, street, town, postcode: parts are often left
    out or keyed in another order). Common tokens ("street", a state) make random pairs share
    two now and then; u, learnt from random pairs, says how often."""
    return cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("address"),
            cll.ExactMatchLevel("address"),
            cll.JaroWinklerLevel("address", 0.92),
            cll.ArrayIntersectLevel("address_tokens", 5),
            cll.ArrayIntersectLevel("address_tokens", 4),
            cll.ArrayIntersectLevel("address_tokens", 3),
            cll.ArrayIntersectLevel("address_tokens", 2),
            cll.ElseLevel(),
        ],
    )


def core_blocking_rules(columns: Sequence[str] = ()) -> list[Any]:
    """Candidate pairs: any one of these agreeing (each catches errors the others miss)."""
    extra = []
    if "address" in columns:
        # the same address line, or its house number with one of the names: a family name
        # replaced (marriage, an alias) or a date of birth keyed wrong still meets its pair
        extra = [block_on("address")]
        if "address_number" in columns:
            extra += [
                block_on("address_number", "family_name"),
                block_on("address_number", "given_name"),
                block_on("address_number", "dob"),
            ]
    return extra + [
        block_on("dob"),
        block_on("name_key"),  # same name tokens in any order
        block_on("family_name", "birth_year"),
        block_on("family_name", "given_prefix"),
        block_on("given_name", "family_prefix", "birth_year"),
        block_on("given_name", "birth_year", "dob_month"),
        # letters transposed in one or both names, or the names swapped, and no date known
        block_on("name_anagram"),
        block_on("family_anagram", "given_initial"),
        # the same names in another romanisation ("Hussein Bakir" / "Hussain Bakr"), any order
        block_on("name_skeleton"),
        block_on("family_skeleton_birth_year"),  # blocks of at most NAME_BLOCK_CAP records
        block_on("given_skeleton_birth_year"),
        # ... and when no date is known: one name as a skeleton or coarse key, the other's first
        # letter (blocks of at most ``normalise.NAME_BLOCK_CAP`` records: "Mohammed A" is left
        # to the rules with a date)
        block_on("given_skeleton_family_initial"),
        block_on("family_skeleton_given_initial"),
        # coarser keys (``normalise.coarse_key``: sibilants merged, v/w dropped) of both names in
        # either order ("Oksana Shukow" / "Zhukov Oksana"), guarded against short-key collisions
        CustomRule("l.name_coarse = r.name_coarse AND length(l.name_coarse) >= 6", _DUCK),
        # one name's coarse key swapped into the other's place, the other's first letter: two
        # rules, as an OR of two equalities is no hash join (DuckDB compares every pair)
        CustomRule(
            "l.given_coarse_family_initial = r.family_coarse_given_initial"
            " AND length(l.given_coarse) >= 3", _DUCK,
        ),
        CustomRule(
            "l.family_coarse_given_initial = r.given_coarse_family_initial"
            " AND length(l.family_coarse) >= 3", _DUCK,
        ),
        block_on("family_coarse_given_initial"),
        block_on("given_coarse_family_initial"),
    ] + (
        # both names' coarse keys in either order, however short ("Xu Ling" / "Ling Hsu"),
        # among people of one citizenship
        [block_on("name_coarse", "citizenship")] if "citizenship" in columns else []
    )


@dataclass
class ModelOptions:
    """What a caller may add or change: extra comparisons and blocking for extra columns."""

    link_type: str = "link_and_dedupe"
    extra_comparisons: list[Any] = field(default_factory=list)
    extra_blocking_rules: list[Any] = field(default_factory=list)
    #: replaces the core blocking rules when given (e.g. a lighter set for a quick check)
    blocking_rules: list[Any] | None = None
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    u_max_pairs: float = 2e6
    em_max_pairs: float | None = 2e6
    seed: int = 42
    #: recall of the near-certain rules that set lambda; None = estimated by the trained model
    #: (``estimated_recall``), since it depends on how often dates of birth are missing
    recall_of_deterministic_rules: float | None = None
    #: smallest m-probability of any level after training (see ``floor_m_probabilities``)
    min_m_probability: float = 0.005


#: compared columns that must take two values at least to say anything (one identification date
#: for every record, or one sex, puts every pair on one level: nothing to learn, and EM on such a
#: level is where Splink's training used to fail with m = 0)
_NEEDS_TWO_VALUES = ("sex", "citizenship", "identified_day", "forms", "address")


def informative_columns(frame: pd.DataFrame) -> list[str]:
    """Columns with at least one value (an all-null column cannot be trained or compared); the
    compared case facts need two distinct values (``_NEEDS_TWO_VALUES``)."""
    out = []
    for c in frame.columns:
        values = frame[c].dropna()
        if values.empty:
            continue
        if c in _NEEDS_TWO_VALUES and values.nunique() < 2:
            continue
        out.append(c)
    return out


def settings_for(columns: Sequence[str], options: ModelOptions) -> SettingsCreator:
    return SettingsCreator(
        link_type=options.link_type,  # type: ignore[arg-type]
        unique_id_column_name="unique_id",
        comparisons=core_comparisons(columns) + list(options.extra_comparisons),
        blocking_rules_to_generate_predictions=(
            core_blocking_rules(columns)
            if options.blocking_rules is None
            else list(options.blocking_rules)
        )
        + list(options.extra_blocking_rules),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def _register(db_api: Any, frame: pd.DataFrame, link_type: str) -> Any:
    """One table for dedupe; one table per list otherwise (Splink compares across tables)."""
    if link_type == "dedupe_only":
        return db_api.register(frame)
    tables = []
    for _name, part in frame.groupby("source_dataset", sort=True):
        tables.append(db_api.register(part.reset_index(drop=True)))
    return tables if len(tables) > 1 else tables[0]


def model_for_engine(
    columns: Sequence[str], options: ModelOptions, trained: dict[str, Any], dialect: str
) -> dict[str, Any]:
    """A trained model re-expressed for another engine's SQL dialect.

    Splink saves comparison SQL in the dialect it was trained on (DuckDB's double-quoted names
    are string literals to Spark), so the settings are regenerated for ``dialect`` and the
    trained m and u probabilities and lambda are copied over level by level.
    """
    fresh = settings_for(columns, options).create_settings_dict(dialect)
    by_name = {c["output_column_name"]: c for c in trained["comparisons"]}
    for comparison in fresh["comparisons"]:
        old_levels = by_name[comparison["output_column_name"]]["comparison_levels"]
        if len(old_levels) != len(comparison["comparison_levels"]):
            raise ValueError(f"model and settings differ on {comparison['output_column_name']}")
        for new, old in zip(comparison["comparison_levels"], old_levels, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in old:
                    new[key] = old[key]
    fresh["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
    fresh["sql_dialect"] = dialect
    return fresh


def build_linker(
    frame: pd.DataFrame, db_api: Any, options: ModelOptions, model: dict[str, Any] | None = None
) -> Linker:
    """A Linker over a prepared frame; with ``model`` (saved JSON) the trained weights are reused
    (on any engine: the model is re-expressed in that engine's SQL dialect)."""
    columns = informative_columns(frame)
    settings: Any = settings_for(columns, options)
    if model is not None:
        settings = model_for_engine(columns, options, model, db_api.sql_dialect.sql_dialect_str)
    return Linker(_register(db_api, frame, options.link_type), settings, log_level=logging.ERROR)


#: The near-certain rule whose recall the trained model can estimate level by level.
_CERTAIN_RULE = (
    "l.given_name = r.given_name AND l.family_name = r.family_name AND l.dob = r.dob"
    " AND length(l.dob) = 10"
)


def _share(frame: pd.DataFrame, column: str) -> float:
    return float(frame[column].notna().mean()) if column in frame.columns and len(frame) else 0.0


def estimated_recall(model: dict[str, Any], frame: pd.DataFrame) -> float | None:
    """How many true matches ``_CERTAIN_RULE`` finds, by the trained model: the chance that a
    match agrees exactly on given name, family name and full date of birth (the m-probabilities
    of those levels, which are conditional on both values being known) times the chance that
    both records have the three values (missingness taken as unrelated to matching).

    ``None`` when the model lacks one of those levels.
    """
    wanted = {
        "given_name": "Exact match on given_name",
        "family_name": "Exact match on family_name",
        "dob": "exact date",
    }
    recall = 1.0
    for comparison in model["comparisons"]:
        label = wanted.pop(comparison["output_column_name"], None)
        if label is None:
            continue
        level = next(
            (lv for lv in comparison["comparison_levels"] if lv.get("label_for_charts") == label),
            None,
        )
        m = level.get("m_probability") if level else None
        if not isinstance(m, float):
            return None
        recall *= m
    if wanted:
        return None
    recall *= (
        _share(frame, "given_name") ** 2
        * _share(frame, "family_name") ** 2
        * _share(frame, "birth_year") ** 2
    )
    return recall if recall > 0 else None


def train(
    linker: Linker,
    options: ModelOptions,
    frame: pd.DataFrame | None = None,
    rebuild: Callable[[dict[str, Any]], Linker] | None = None,
) -> tuple[Linker, list[str]]:
    """Unsupervised training: lambda from near-certain rules, u by sampling, m by EM.

    EM runs twice, each time on a block that fixes the comparisons it cannot learn:

    1. on pairs that share a date of birth: names, citizenship, sex and the case facts are
       learnt (a shared date says little about names, so matches and non-matches both occur);
    2. on pairs that share given name, family name, citizenship and sex (those of the four that
       are compared): only the date of birth
       and the case facts are learnt. Every comparison of the block's columns is left out, so
       the block's non-matches (namesakes: frequent where a few names are very common) can only
       be told from matches by their dates, whose distribution among non-matches (u, from
       random pairs) is known. A looser name block (the name tokens alone) let namesakes pass
       for matches, because their names, citizenship and sex all agree far more often than
       independent u-probabilities predict; EM then learnt that true matches disagree on the
       date of birth 30% of the time and the date lost almost all its weight.

    Each pass is capped at ``em_max_pairs`` so a million records train quickly.
    Every step is ``training.guarded``: a level EM finds no match on is floored, a step that
    fails is skipped (the linker rebuilt by ``rebuild`` from the model as it was before), and
    the linker is returned with notices of what was done (``training`` says why).
    """
    notices: list[str] = []
    state = {"linker": linker}

    def step(name: str, run: Callable[[Any], Any]) -> None:
        # a failed EM pass leaves the linker holding only that pass's comparisons: start again
        # from the model as it was before the step
        before = state["linker"].misc.save_model_to_json()
        if not guarded(name, lambda: run(state["linker"].training), notices) and rebuild:
            state["linker"] = rebuild(before)

    step(
        "the share of matching pairs (near-certain rules)",
        lambda t: t.estimate_probability_two_random_records_match(
            [block_on("given_name", "family_name", "dob"), block_on("name_key", "dob")],
            recall=options.recall_of_deterministic_rules or 0.7,
        ),
    )
    step(
        "u-probabilities (random pairs)",
        lambda t: t.estimate_u_using_random_sampling(
            max_pairs=options.u_max_pairs, seed=options.seed
        ),
    )
    step(
        "EM on pairs sharing a date of birth",
        lambda t: t.estimate_parameters_using_expectation_maximisation(
            block_on("dob"), max_pairs=options.em_max_pairs
        ),
    )
    saved = state["linker"].misc.save_model_to_json()
    compared = {c["output_column_name"] for c in saved["comparisons"]}
    namesakes = ["given_name", "family_name"] + [c for c in ("citizenship", "sex") if c in compared]
    step(
        "EM on pairs sharing names (namesakes)",
        lambda t: t.estimate_parameters_using_expectation_maximisation(
            block_on(*namesakes), max_pairs=options.em_max_pairs
        ),
    )
    if frame is not None and options.recall_of_deterministic_rules is None:
        recall = estimated_recall(state["linker"].misc.save_model_to_json(), frame)
        if recall is not None:
            step(
                "the share of matching pairs (estimated recall)",
                lambda t: t.estimate_probability_two_random_records_match(
                    [CustomRule(_CERTAIN_RULE, _DUCK)], recall=min(1.0, recall)
                ),
            )
    return state["linker"], notices


def floor_m_probabilities(model: dict[str, Any], floor: float) -> dict[str, Any]:
    """A copy of a trained model where no level's m-probability is below ``floor``.

    EM on clean data learns that matches never disagree on, say, sex or the form of
    exploitation (m = 1e-30), and one disagreement then vetoes a match however strong the
    rest. Real records carry keying errors in every field, so each level keeps at least
    ``floor`` (the m-probabilities of a comparison are then rescaled to sum to 1).
    """
    import copy

    out = copy.deepcopy(model)
    for comparison in out["comparisons"]:
        levels = [
            lv
            for lv in comparison["comparison_levels"]
            if not lv.get("is_null_level")
            and isinstance(lv.get("m_probability"), float)
            and not lv.get("fix_m_probability")
        ]
        if not levels:
            continue
        for lv in levels:
            lv["m_probability"] = max(lv["m_probability"], floor)
        total = sum(lv["m_probability"] for lv in levels)
        for lv in levels:
            lv["m_probability"] /= total
    return out


def u_without_matches(model: dict[str, Any], pairs_sampled: float) -> dict[str, Any]:
    """A copy of a trained model whose u-probabilities leave out the matches among the random
    pairs they were counted on.

    Splink counts u on random pairs, and some random pairs are matches: a share lambda of them,
    which reach each level as matches do (m). So what was counted is
    ``lambda * m + (1 - lambda) * u``, not u. Where records have many duplicates (lambda large)
    and matches often agree exactly on a field that non-matches almost never share (a full
    address line), those few matches are most of what was counted, and the level's weight is
    capped far below what it says: FEBRL1's exact address weighed 9 bits against FEBRL4's 12.
    Here u is solved for: ``(counted - lambda * m) / (1 - lambda)``, kept at least half a pair
    in ``pairs_sampled`` (a level random pairs never reached is rare, not impossible) unless
    less was counted, and the
    u-probabilities of each comparison rescaled to sum to 1. Hand-written: Splink has no such
    step.
    """
    import copy

    out = copy.deepcopy(model)
    lam = float(out.get("probability_two_random_records_match") or 0.0)
    if not 0.0 < lam < 1.0 or pairs_sampled <= 0:
        return out
    floor = 0.5 / pairs_sampled
    for comparison in out["comparisons"]:
        levels = [
            lv
            for lv in comparison["comparison_levels"]
            if not lv.get("is_null_level")
            and isinstance(lv.get("u_probability"), float)
            and isinstance(lv.get("m_probability"), float)
            and not lv.get("fix_u_probability")
        ]
        if not levels:
            continue
        total_before = sum(lv["u_probability"] for lv in levels)
        for lv in levels:
            counted = lv["u_probability"]
            u = (counted - lam * lv["m_probability"]) / (1.0 - lam)
            lv["u_probability"] = max(u, min(floor, counted))
        total = sum(lv["u_probability"] for lv in levels)
        for lv in levels:
            lv["u_probability"] *= total_before / total
    return out


def sampled_pairs(n_records: int, options: ModelOptions) -> float:
    """How many random pairs ``estimate_u_using_random_sampling`` counted on (at most all)."""
    return min(float(options.u_max_pairs), n_records * (n_records - 1) / 2)


PAIR_COLUMNS = ["unique_id_l", "unique_id_r", "match_probability", "match_weight"]


@dataclass
class SplinkRun:
    """Scored pairs above the review threshold, clusters at the match threshold, the model."""

    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_probability, match_weight
    clusters: pd.DataFrame  # unique_id, source_dataset, cluster_id
    model: dict[str, Any]
    #: links at the match threshold kept apart because their records clearly disagree
    refused: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PAIR_COLUMNS[:3]))
    #: what training could not learn and what was used instead (``training``), for the user
    notices: list[str] = field(default_factory=list)


def predict_pairs(linker: Linker, options: ModelOptions) -> pd.DataFrame:
    """Scored pairs at or above the review threshold (the links, before clustering)."""
    predictions = linker.inference.predict(
        threshold_match_probability=options.review_threshold, warning_mode="never"
    )
    return predictions.as_pandas_dataframe()[PAIR_COLUMNS]


def predict_and_cluster(
    linker: Linker, options: ModelOptions, frame: pd.DataFrame | None = None
) -> SplinkRun:
    """Score the candidate pairs, then cluster the links at the match threshold.

    With the prepared ``frame`` (what ``run_splink`` passes), clusters are built strongest link
    first and never join records whose dates of birth clearly disagree
    (``clustering.constrained_clusters``); the links so refused are returned for review.
    Without it, Splink's connected components on the engine itself.
    """
    predictions = linker.inference.predict(
        threshold_match_probability=options.review_threshold, warning_mode="never"
    )
    pairs = predictions.as_pandas_dataframe()[PAIR_COLUMNS]
    model = linker.misc.save_model_to_json()
    if frame is not None:
        done = constrained_clusters(frame, pairs, options.match_threshold)
        return SplinkRun(pairs=pairs, clusters=done.clusters, model=model, refused=done.refused)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=options.match_threshold
    )
    clusters = clustered.as_pandas_dataframe()[["unique_id", "source_dataset", "cluster_id"]]
    return SplinkRun(pairs=pairs, clusters=clusters, model=model)


def run_splink(
    frame: pd.DataFrame,
    db_api: Any,
    options: ModelOptions | None = None,
    model: dict[str, Any] | None = None,
) -> SplinkRun:
    """Train (unless a saved ``model`` is given), predict and cluster on any Splink backend."""
    options = options or ModelOptions()
    linker = build_linker(frame, db_api, options, model)
    notices: list[str] = []
    if model is None:
        linker, notices = train(
            linker, options, frame, rebuild=lambda m: build_linker(frame, db_api, options, m)
        )
        learnt = complete_with_priors(linker.misc.save_model_to_json(), len(frame), notices)
        trained = floor_m_probabilities(learnt, options.min_m_probability)
        trained = u_without_matches(trained, sampled_pairs(len(frame), options))
        linker = build_linker(frame, db_api, options, trained)
    run = predict_and_cluster(linker, options, frame)
    run.notices = notices
    return run


def review_pairs(pairs: pd.DataFrame, options: ModelOptions) -> pd.DataFrame:
    """Pairs a person should look at: probable but below the match threshold, and links at or
    above it (kept only when the clustering refused them, see ``link_store``)."""
    keep = pairs["match_probability"] >= options.review_threshold
    return pairs.loc[keep].sort_values("match_probability", ascending=False).reset_index(drop=True)
