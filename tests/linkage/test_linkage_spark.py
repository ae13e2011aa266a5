"""The same Splink model gives the same links on DuckDB and on Apache Spark (local mode).

Trained once on DuckDB; the saved model then predicts and clusters on both engines, so any
difference would come from the SQL each engine runs, which is what this test guards.
"""

from __future__ import annotations

import shutil

import pytest
from splink import DuckDBAPI

from ctip.linkage import synthetic
from ctip.linkage.model import ModelOptions, build_linker, predict_and_cluster, train
from ctip.linkage.normalise import prepare_frame

pytestmark = pytest.mark.spark


def _spark_or_skip():  # type: ignore[no-untyped-def]
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark is not installed (pip install 'ctip[spark]'); it runs in CI")
    if shutil.which("java") is None:
        pytest.skip("Java is not on PATH (Spark needs Java 17); it runs in CI")
    from ctip.linkage.spark import spark_api, spark_session

    session = spark_session("local[1]", shuffle_partitions=1)
    return session, spark_api(session)


def test_duckdb_and_spark_give_the_same_links() -> None:
    session, spark = _spark_or_skip()
    try:
        frame = prepare_frame(synthetic.records(synthetic.people(60, seed=5), seed=6))
        options = ModelOptions(u_max_pairs=1e5, em_max_pairs=None)
        duck_linker = build_linker(frame, DuckDBAPI(), options)
        train(duck_linker, options)
        duck = predict_and_cluster(duck_linker, options)
        on_spark = predict_and_cluster(
            build_linker(frame, spark, options, model=duck.model), options
        )
    finally:
        session.stop()

    def links(run):  # type: ignore[no-untyped-def]
        strong = run.pairs[run.pairs["match_probability"] >= options.match_threshold]
        return {
            tuple(sorted(p)) for p in zip(strong["unique_id_l"], strong["unique_id_r"], strict=True)
        }

    assert len(links(duck)) > 10  # the data has real duplicates to find
    assert links(duck) == links(on_spark)
    merged = duck.pairs.merge(
        on_spark.pairs, on=["unique_id_l", "unique_id_r"], suffixes=("_d", "_s")
    )
    assert len(merged) == len(duck.pairs) == len(on_spark.pairs)
    assert (merged["match_probability_d"] - merged["match_probability_s"]).abs().max() < 1e-6

    def partition(run):  # type: ignore[no-untyped-def]
        return {frozenset(g) for _, g in run.clusters.groupby("cluster_id")["unique_id"]}

    assert partition(duck) == partition(on_spark)
