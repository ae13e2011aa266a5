"""The report section's content: every candidate model, and a chart spec of estimates."""

from __future__ import annotations

import numpy as np

from ctip.estimate.report import method_table, model_chart, model_table
from ctip.estimate.simulate import scenario, simulate


def test_model_table_lists_every_two_way_model_and_marks_choices():
    hist = simulate(3000, scenario("dependent"), np.random.default_rng(4))
    table = model_table(hist)
    assert len(table) == 2**6  # 4 lists: 6 pairs, every subset
    assert {"model", "estimate", "ci_low", "ci_high", "aic", "bic", "terms", "selected_by"} <= set(
        table
    )
    chosen = ", ".join(table["selected_by"])
    for method in ("main", "stepwise", "aic", "bic"):
        assert method in chosen
    ok = table[table["estimable"]]
    assert (ok["ci_low"] <= ok["estimate"]).all() and (ok["estimate"] <= ok["ci_high"]).all()
    assert ok["delta_bic"].min() == 0
    best_bic = table.loc[table["bic"].idxmin()]
    assert "bic" in best_bic["selected_by"]


def test_chart_spec_is_vega_lite_with_the_models():
    hist = simulate(3000, scenario("dependent"), np.random.default_rng(4))
    spec = model_chart(model_table(hist), top=10)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "layer" in spec
    datasets = spec.get("datasets", {})
    values = next(iter(datasets.values()))
    assert len(values) == 10
    assert {"model", "estimate", "ci_low", "ci_high"} <= set(values[0])


def test_method_table_compares_methods():
    hist = simulate(3000, scenario("dependent"), np.random.default_rng(4))
    table = method_table(hist, methods=("stepwise", "main", "bic", "bayesthresh"))
    assert list(table["method"]) == ["stepwise", "main", "bic", "bayesthresh"]
    assert table["estimable"].all()
