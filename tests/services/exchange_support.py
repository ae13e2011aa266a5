"""Two ctip homes for the exchange tests: each its own database, keys and national anchor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ctip.domain.access import Principal, Role
from ctip.domain.records import Identity
from ctip.exchange.directory import ooband_fingerprint
from ctip.services.case_intake import CaseIntake
from ctip.services.exchange_referrals import ExchangeReferrals
from ctip.services.home import init_home
from ctip.settings import Settings


@dataclass
class Instance:
    x: ExchangeReferrals
    sup: Principal
    home: Path

    def move(self, data: bytes, name: str) -> bytes:
        """Write a package to a file and read it back: the only transport between homes."""
        path = self.home / "outbox" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path.read_bytes()


def instance(home: Path, url: str, agency: str, country: str,
             cls: type[ExchangeReferrals] = ExchangeReferrals) -> Instance:
    settings = Settings(home=home, database_url=url)
    init_home(settings)
    x = cls.open(settings)
    sup = Principal(f"u-{agency}", f"sup.{agency.lower()}", Role.SUPERVISOR, agency)
    x.init_agency(sup, agency=agency, name=f"{agency} unit", country=country)
    x.init_anchor(sup, anchor_id=f"ANCHOR-{country}", country=country, name="anchor")
    x.countersign(sup, x.card(sup))
    x.publish(sup)
    return Instance(x, sup, home)


def new_case(a: Instance, *, consent: bool = True) -> str:
    view = a.x.casework.create_case(a.sup, CaseIntake(
        sex="female", age=24, nationality="ROU", languages=("ro",),
        exploitation_forms=("sexual_exploitation",), notes="shelter address: secret",
        identity=Identity(given_name="Ana", family_name="Popescu", date_of_birth="2002-04-01",
                          phone="+40 700 000 000", narrative="long private story")))
    if consent:
        a.x.casework.record_consent(a.sup, view.case_id, purpose="durable_solution",
                                    recipient="NRM-XB")
    return view.case_id


def cross_sign(a: Instance, b: Instance) -> None:
    """The fingerprints are read out on a call; each anchor cross-signs the other, and each
    home imports the other's directory."""
    anchor_a = json.loads((a.home / "exchange" / "anchor.json").read_text())
    anchor_b = json.loads((b.home / "exchange" / "anchor.json").read_text())
    a.x.cross_sign(a.sup, anchor_b, fingerprint_given=ooband_fingerprint(anchor_b),
                   agreement="MoU XA-XB 2026/17")
    b.x.cross_sign(b.sup, anchor_a, fingerprint_given=ooband_fingerprint(anchor_a),
                   agreement="MoU XA-XB 2026/17")
    a.x.import_directory(a.sup, b.x.publish(b.sup))
    b.x.import_directory(b.sup, a.x.publish(a.sup))
