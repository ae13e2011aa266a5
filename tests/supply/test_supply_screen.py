"""The screen: country x good, input paths, entity names, the list version on every hit, and
read = accepted + rejected with file, row and column reasons."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.supply import reference
from ctip.supply.entities import read_entities
from ctip.supply.purchases import read_purchases
from ctip.supply.screen import hit_groups, screen

LEDGER = b"""supplier,country,product,hs_code,value,date
Sunny PV Ltd,Vietnam,Solar panels 450W,,1000,2024-01-02
HOSHINE SILICON INDUSTRY CO LTD,CN,,2804.61,500,2024-02-01
Cocoa Trading,Cote d'Ivoire,cocoa beans,,12,2024-03-01
,Atlantis,,,abc,2024-13-01
Short row,FR,toys,,1
Acme,FR,widgets,,5,2024-01-01
"""
ENTITIES = b'name,aliases,country\n"Hoshine Silicon Industry Co., Ltd.",,CN\n,,\n'


def _run(data: bytes = LEDGER):
    ents = read_entities(ENTITIES, source_name="uflpa.csv", label="UFLPA Entity List",
                         kind="uflpa")
    return ents, screen(read_purchases(data, source_name="p.csv"), reference.shipped_list(),
                        reference.shipped_crosswalk(), [ents.entity_list])


def test_hits_and_paths_with_the_list_version() -> None:
    ents, result = _run()
    hits = result.hit_rows()
    by_row: dict[int, list[dict]] = {}
    for h in hits:
        by_row.setdefault(h["row"], []).append(h)
    solar = by_row[2]
    assert [h["rule"] for h in solar] == ["dol.upstream"]
    assert solar[0]["path"].startswith("Solar Modules <- Solar Cells")
    assert solar[0]["path"].endswith("Polysilicon (China)") and solar[0]["hit_country"] == "CHN"
    poly = {h["rule"]: h for h in by_row[3]}
    assert poly["dol.country_good"]["good"] == "Polysilicon"
    assert poly["dol.country_good"]["matched_by"] == "hs"
    assert poly["entity_list"]["list_version"] == ents.entity_list.version
    cocoa = by_row[4][0]
    assert cocoa["good"] == "Cocoa" and "forced_child_labor" in cocoa["flags"]
    assert 7 not in by_row  # widgets from France: nothing
    dol = reference.shipped_list()
    for h in hits:
        assert h["list_version"] in (dol.version, ents.entity_list.version)
        assert h["edition"] == 2022


def test_read_is_accepted_plus_rejected_with_reasons() -> None:
    ents, result = _run()
    assert ents.read == 2 and ents.accepted == 1 and len(ents.rejects) == 1
    assert result.read == 6 and result.accepted == 4 and result.rejected == 2
    assert result.read == result.accepted + result.rejected
    bad = {r["row"]: " ".join(r["reasons"]) for r in result.rejects}
    assert set(bad) == {5, 6}
    for column in ("supplier", "country", "value", "date"):
        assert f"column '{column}'" in bad[5]
    assert "file p.csv, row 5" in bad[5] and "5 cells where the header has 6" in bad[6]


def test_groups_rank_by_score() -> None:
    _, result = _run()
    groups = hit_groups(result)
    assert [g["score"] for g in groups] == sorted((g["score"] for g in groups), reverse=True)
    assert groups[0]["rule"] == "entity_list"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=8), st.sampled_from(["CN", "GH", "??", ""]),
                          st.text(max_size=10), st.sampled_from(["854143", "12", "x", ""]),
                          st.sampled_from(["1", "-2", "a", ""]),
                          st.sampled_from(["2024-01-01", "2024-02-30", ""])), max_size=15))
def test_every_row_is_accepted_or_rejected(rows) -> None:
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["supplier", "country", "product", "hs_code", "value", "date"])
    clean = [[c.replace("\n", " ").replace("\r", " ").replace("\0", "") for c in r] for r in rows]
    w.writerows(clean)
    data = out.getvalue().encode()
    result = screen(read_purchases(data, source_name="f.csv"), reference.shipped_list(),
                    reference.shipped_crosswalk())
    assert result.read == len(rows) == result.accepted + result.rejected
