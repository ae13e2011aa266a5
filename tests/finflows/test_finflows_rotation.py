"""Key rotation covers the financial-flow columns: after `ctip keys rotate` every sealed account
number, name, contact and rejected row opens under the new key and the old key is retired."""

from __future__ import annotations

import csv
from pathlib import Path

from ctip.domain.access import Principal, Role
from ctip.finflows import synthetic
from ctip.services.finflows import FinFlows
from ctip.services.home import init_home
from ctip.services.keys import rotate_keys
from ctip.settings import Settings


def test_rotation_reseals_finflows_columns(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    bank = synthetic.generate(250, seed=9, instances=3, months=2)
    rows = list(bank.canonical_rows())
    tx, kyc = tmp_path / "tx.csv", tmp_path / "kyc.csv"
    with tx.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        f.write("broken,row\n")
    parties = list(bank.party_rows())
    with kyc.open("w", newline="") as f:
        w2 = csv.DictWriter(f, fieldnames=list(parties[0]))
        w2.writeheader()
        w2.writerows(parties)
    flows = FinFlows.open(settings)
    assert flows.import_file(tx, agency="FIU", actor="t").rejected == 1
    flows.import_file(kyc, agency="FIU", actor="t", kind="parties")
    flows.run("FIU", actor="t")
    flows.engine.dispose()
    report = rotate_keys(settings, actor="t")
    assert report.retired_key_ids
    for label in ("finflows_accounts.number_sealed", "finflows_accounts.name_sealed",
                  "finflows_parties.name_sealed", "finflows_parties.identifiers_sealed",
                  "finflows_rejects.sealed"):
        assert report.resealed[label] > 0, label
    flows = FinFlows.open(settings)
    inv = Principal("u", "ines", Role.INVESTIGATOR, "FIU")
    out = tmp_path / "named.ftm.json"
    flows.export_ftm(inv, out, identities=True, reason="after rotation")
    assert bank.account_number(0)[:6] in out.read_text()
