"""Run the same Splink model on Apache Spark (the ``[spark]`` extra).

Splink generates Spark SQL from the very same settings; only the database API changes. Splink's
string-similarity functions (Jaro-Winkler, ...) are Scala UDFs shipped in a jar inside Splink,
which the session must load (``spark.jars``), or Spark fails with "Cannot resolve routine
JARO_WINKLER". On a cluster, pass your own session (``spark_api(session)``) built with that jar.
"""

from __future__ import annotations

from typing import Any

from ctip.errors import MissingDependencyError


def spark_session(
    master: str = "local[2]", *, app_name: str = "ctip-linkage", shuffle_partitions: int = 4
) -> Any:
    """A Spark session with Splink's UDF jar; small shuffle partitioning suits local mode."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingDependencyError("pyspark", "spark") from None
    from splink.backends.spark import similarity_jar_location

    return (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def spark_api(session: Any | None = None, *, checkpoint_dir: str | None = None) -> Any:
    """Splink's SparkAPI over ``session`` (a local one by default)."""
    try:
        from splink import SparkAPI
    except ImportError:
        raise MissingDependencyError("pyspark", "spark") from None
    session = session or spark_session()
    if checkpoint_dir:
        session.sparkContext.setCheckpointDir(checkpoint_dir)
    return SparkAPI(spark_session=session, break_lineage_method="persist")
