"""The same Splink model gives the same links on DuckDB and on Apache Spark (local mode).

Trained once on DuckDB; the saved model then scores the pairs on both engines (Spark gets the
model re-expressed in its SQL dialect), so any difference would come from the SQL each engine
runs, which is what this test guards. Clustering is left out: Splink's iterative connected
components take minutes on a one-core local Spark, and they consume exactly these links.
"""

from __future__ import annotations

import shutil

import pytest
from splink import DuckDBAPI, block_on

from ctip.linkage import synthetic
from ctip.linkage.model import ModelOptions, build_linker, predict_pairs, train
from ctip.linkage.normalise import prepare_frame

pytestmark = pytest.mark.spark


def _spark_or_skip():  # type: ignore[no-untyped-def]
    # pyspark is a test dependency; Java is the outside resource it needs
    if shutil.which("java") is None:
        pytest.skip("Java is not on PATH (Spark needs Java 17); it runs in CI")
    from ctip.linkage.spark import spark_api, spark_session

    session = spark_session("local[1]", shuffle_partitions=1)
    session.sparkContext.setLogLevel("ERROR")
    return session, spark_api(session)


def _links(pairs, threshold: float) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    strong = pairs[pairs["match_probability"] >= threshold]
    return {
        tuple(sorted(p)) for p in zip(strong["unique_id_l"], strong["unique_id_r"], strict=True)
    }


def test_duckdb_and_spark_give_the_same_links() -> None:
    frame = prepare_frame(synthetic.records(synthetic.people(40, seed=5), seed=6))
    # the full comparison set; two blocking rules keep the number of Spark jobs small
    options = ModelOptions(
        u_max_pairs=1e5,
        em_max_pairs=None,
        review_threshold=0.01,
        blocking_rules=[block_on("birth_year"), block_on("name_key")],
    )
    duck_linker = build_linker(frame, DuckDBAPI(), options)
    train(duck_linker, options)
    model = duck_linker.misc.save_model_to_json()
    on_duckdb = predict_pairs(duck_linker, options)
    session, spark = _spark_or_skip()
    try:
        on_spark = predict_pairs(build_linker(frame, spark, options, model=model), options)
    finally:
        session.stop()

    assert len(_links(on_duckdb, options.match_threshold)) > 10  # real duplicates to find
    assert _links(on_duckdb, options.match_threshold) == _links(on_spark, options.match_threshold)
    merged = on_duckdb.merge(on_spark, on=["unique_id_l", "unique_id_r"], suffixes=("_d", "_s"))
    assert len(merged) == len(on_duckdb) == len(on_spark)
    assert (merged["match_probability_d"] - merged["match_probability_s"]).abs().max() < 1e-6
