import pandas as pd

from ctip.estimate.api import estimate
from ctip.estimate.histories import from_frame
from ctip.services.report_estimation import estimation_section


def _uk4_like():
    # a 3-list table with clear overlaps, written out so the test is self-contained
    rows = [
        (0, 0, 1, 40),
        (0, 1, 0, 35),
        (0, 1, 1, 12),
        (1, 0, 0, 50),
        (1, 0, 1, 15),
        (1, 1, 0, 14),
        (1, 1, 1, 6),
    ]
    return pd.DataFrame(rows, columns=["police", "ngo", "shelter", "count"])


def test_section_states_the_chosen_estimate_and_draws_every_model():
    frame = _uk4_like()
    section = estimation_section(frame)
    chosen = estimate(from_frame(frame), method="stepwise")
    assert f"{chosen.estimate:,.0f}" in section["title"]
    assert f"{chosen.observed:,}" in section["title"]
    assert section["svg"].startswith("<svg") and "<path" in section["svg"]
    assert section["table_html"].count("<tr>") >= 2
    assert "police, ngo, shelter" in section["note"]


def test_no_section_without_two_lists_or_anyone_on_them():
    assert estimation_section(pd.DataFrame({"police": [1], "count": [5]})) is None
    empty = _uk4_like().assign(count=0)
    assert estimation_section(empty) is None
