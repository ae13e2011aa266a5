"""Helpers shared by the storage tests (a uniquely named module, so imports never collide)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ctip.domain.records import Consent, Identity, Provenance, VictimRecord
from ctip.settings import Settings


def make_settings(home: Path, database_url: str | None = None) -> Settings:
    return Settings(home=home, database_url=database_url, seal_key=None, pseudonym_key=None,
                    key_file=None, pseudonym_key_file=None)


def victim(i: int, *, agency: str = "ngo-a", **changes: object) -> VictimRecord:
    """A record whose identity strings are unusual enough to search for in raw bytes."""
    fields: dict[str, object] = dict(
        source_record_id=f"R{i:05d}", agency=agency, identification_status="identified",
        identification_date=date(2023, 1 + i % 12, 1 + i % 28), sex="female" if i % 2 else "male",
        age_at_identification=10 + i % 50, disability_status="no_disability", citizenships=("NGA",),
        country_of_detection="ITA", countries_of_exploitation=("ITA", "LBY"),
        exploitation_forms=("sexual_exploitation",) if i % 3 else ("forced_labour",),
        means_of_control=(), recruiter_relationship=None,
        identity=Identity(given_name=f"Zorbanella{i}", family_name="Quistwhorp",
                          aliases=(f"Qalias{i}",), date_of_birth="1991-07-14",
                          document_number=f"PX{9988770 + i}", phone=f"+39 555 01{i:04d}",
                          email=f"zorbanella{i}@quistwhorp.example", address=f"{i} Via Segreta",
                          narrative=f"Story told by Zorbanella{i} about Quistwhorp farm"),
        consent=Consent(case_management=True, statistical_use=True),
        provenance=Provenance(source_system="canonical", source_file="a.csv", source_row=i + 2,
                              source_record_hash="ab" * 32),
    )
    fields.update(changes)
    return VictimRecord(**fields)  # type: ignore[arg-type]
