"""The key-level screen equals the line-by-line one it replaced (``supply_screen_v1``) on
generated ledgers: the same hits (row for row, schema included), rejects with their reasons,
counts, paths and review groups."""

from __future__ import annotations

import csv
import io

import pytest
from supply_screen_v1 import screen_v1

from ctip.supply import reference, synthetic
from ctip.supply.entities import EntityList, ListedEntity
from ctip.supply.purchases import read_purchases
from ctip.supply.screen import hit_groups, screen


def _ledger(n: int, header: tuple[str, ...] = synthetic.HEADER, *, seed: int = 5,
            extra: list[list[str]] | None = None) -> bytes:
    listed = synthetic.entity_names(300, seed=1801)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    keep = [synthetic.HEADER.index(c) for c in header]
    for row in synthetic.ledger_rows(n, suppliers=400, listed=listed[:60], seed=seed,
                                     text_share=0.5, bad_share=0.02, listed_share=0.1):
        w.writerow([row[i] for i in keep])
    for row in extra or []:
        w.writerow(row)
    return out.getvalue().encode()


# lines the generator does not write: codes with dots and spaces, padded and odd names, codes
# that are not codes, a code no good has with a text that has one, words a longer phrase holds
ODD = [["X1", "  Hotan Silicon Co ", " China ", "", "2804.61", " 12.5 ", "2024-01-01", " Pa "],
       ["X2", "Acme", "cn", "Polysilicon", "9999", "3", "2024-01-02", ""],
       ["X3", "Acme", "VNM", "crude palm oil", "", "1e3", "2024-01-03", ""],
       ["X4", "Acme", "Vietnam", "", "85 41 43", "4", "2024-01-04", ""],
       ["X5", "Acme", "CHN", "", "8x", "4", "2024-01-04", ""],
       ["X6", "Acme", "CHN", "", "", "4", "2024-01-04", ""],
       ["X7", "Acme", "", "Solar panels", "", "-4", "", ""],
       ["X8", "", "Atlantis", "Cocoa", "1801.00", "", "01/02/2024", ""],
       ["X9", "Acme", "Ghana", "cocoa beans", "180100", "5", "2024-02-30", "Acme Holdings"],
       ["X10", "Acme", "GH", "Cocoa beans", "", "5"],  # a short row
       ["X11", " Acme ", "CHN", "Solar modules", "", "6", "2024-03-01", ""]]


def _same(data: bytes, entity_lists: list[EntityList]) -> None:
    risk, cw = reference.shipped_list(), reference.shipped_crosswalk()
    new = screen(read_purchases(data, source_name="l.csv"), risk, cw, entity_lists)
    old = screen_v1(read_purchases(data, source_name="l.csv"), risk, cw, entity_lists)
    assert new.hits.schema == old.hits.schema
    order = [(c, "ascending") for c in old.hits.column_names]
    assert new.hits.sort_by(order).to_pylist() == old.hits.sort_by(order).to_pylist()
    assert new.hits.num_rows > 0 or not entity_lists
    for attr in ("source_name", "read", "accepted", "rejects", "lists", "edition",
                 "unmatched_goods", "paths"):
        assert getattr(new, attr) == getattr(old, attr), attr
    assert hit_groups(new) == hit_groups(old)


def _entities() -> list[EntityList]:
    names = synthetic.entity_names(300, seed=1801)
    return [EntityList("bench list", "uflpa", tuple(
        ListedEntity(f"e{i}", n, country="CHN" if i % 3 else None)
        for i, n in enumerate(names)), "bench", "csv")]


@pytest.mark.parametrize("seed", [5, 6])
def test_same_as_the_line_by_line_screen(seed: int) -> None:
    _same(_ledger(3000, seed=seed, extra=ODD), _entities())


@pytest.mark.parametrize("drop", ["hs_code", "product", "parent"])
def test_same_without_an_optional_column(drop: str) -> None:
    header = tuple(c for c in synthetic.HEADER if c != drop)
    _same(_ledger(1500, header), _entities())


def test_same_without_entity_lists() -> None:
    _same(_ledger(1500, extra=ODD), [])
