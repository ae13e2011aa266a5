"""`ctip keys rotate` re-seals the ad module's columns: ads, identifiers, rejects and models
open under the new key only, and the old key is retired."""

from __future__ import annotations

import csv
from pathlib import Path

from ctip.ads.synthetic import rows
from ctip.domain.access import Principal, Role
from ctip.services.ads import AdScreening
from ctip.services.ads_export import train_file
from ctip.services.home import init_home
from ctip.services.keys import rotate_keys
from ctip.settings import Settings


def test_rotation_reseals_every_ad_column(ctip_home: Path, tmp_path: Path) -> None:
    settings = Settings(home=ctip_home)
    init_home(settings)
    data = list(rows(120, seed=1))
    data[5] = dict(data[5], title="", body="")
    path = tmp_path / "ads.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    screening = AdScreening.open(settings)
    screening.screen(path, agency="A", actor="t")
    train_file(screening, path, agency="A", actor="t", evaluate=False)
    screening.close()
    report = rotate_keys(settings, actor="t")
    for label in ("ads.content_sealed", "ad_identifiers.value_sealed", "ad_rejects.raw_sealed",
                  "ad_models.model_sealed"):
        assert report.resealed[label] > 0, label
    assert report.retired_key_ids
    after = AdScreening.open(settings)
    try:
        inv = Principal("u", "ines", Role.INVESTIGATOR, "A")
        item = after.review(inv, limit=1)[0]
        assert after.ad(inv, item.item.item_id).pieces
        assert after.active_model("A") is not None
    finally:
        after.close()
