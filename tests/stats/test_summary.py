import duckdb

from ctip.domain.analytic import ANALYTIC_COLUMNS
from ctip.stats.summary import counts_by, demo_summary


def _victims(rows):
    con = duckdb.connect()
    cols = ", ".join(f"{c} {t}" for c, t in ANALYTIC_COLUMNS.items())
    con.execute(f"CREATE TABLE victims ({cols})")
    for sex, age_group, form in rows:
        con.execute("INSERT INTO victims (sex, age_group, primary_form, agency, victim_group) "
                    "VALUES (?, ?, ?, 'a', 'unknown')", [sex, age_group, form])
    return con


def test_counts_keep_unknowns_and_sort_largest_first():
    con = _victims([("female", "18+", "sexual_exploitation"), ("female", "0-17", None),
                    ("male", "18+", "forced_labour"), ("female", "18+", "forced_labour")])
    assert counts_by(con, "sex") == [("female", 3), ("male", 1)]
    assert counts_by(con, "primary_form") == [("forced_labour", 2), ("sexual_exploitation", 1),
                                             ("unknown", 1)]
    summary = demo_summary(con)
    assert summary["records"] == 4
    assert sum(n for _, n in summary["age group"]) == 4
