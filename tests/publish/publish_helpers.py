"""Synthetic analytic-view rows for the publish tests (a uniquely named helper module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip.domain.derive import age_group, primary_form, victim_group

COUNTRIES = ["NGA", "GHA", "ITA", "ESP", "ROU", "BGR", "VNM", "CHN", "BRA", "unknown"]
FORMS = [
    "sexual_exploitation",
    "forced_labour",
    "forced_criminality",
    "forced_begging",
    "forced_marriage",
]
MEANS = [
    "debt_bondage",
    "false_promises",
    "physical_abuse",
    "withholds_documents",
    "restricts_movement",
]


def analytic_victims(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = str(rng.choice(["female", "male", "unknown"], p=[0.6, 0.37, 0.03]))
        age = None if rng.random() < 0.05 else int(rng.integers(3, 70))
        forms = tuple(
            sorted(
                set(
                    rng.choice(FORMS, size=int(rng.integers(1, 3)), p=[0.45, 0.35, 0.1, 0.05, 0.05])
                )
            )
        )
        means = (
            None
            if rng.random() < 0.2
            else tuple(sorted(set(rng.choice(MEANS, size=int(rng.integers(0, 3))))))
        )
        cit = str(rng.choice(COUNTRIES, p=[0.25, 0.1, 0.15, 0.05, 0.1, 0.05, 0.1, 0.05, 0.05, 0.1]))
        year = int(rng.integers(2019, 2024))
        rows.append(
            {
                "victim_id": f"v{i}",
                "pseudonym": f"p{i}",
                "agency": str(rng.choice(["police", "ngo-a"])),
                "agency_type": "ngo",
                "source_record_id": f"R{i}",
                "identification_date": None,
                "identification_year": year,
                "identification_status": "identified",
                "detected": True,
                "sex": sex,
                "gender_identity": None,
                "age": age,
                "age_group": age_group(age),
                "victim_group": victim_group(sex, age),
                "disability_status": str(rng.choice(["no_disability", "disability", "unknown"])),
                "citizenships": [cit],
                "citizenship": cit,
                "country_of_detection": "ITA",
                "countries_of_exploitation": ["ITA"] if rng.random() < 0.8 else ["LBY"],
                "country_of_recruitment": cit,
                "exploitation_forms": list(forms),
                "primary_form": primary_form(forms),
                "labour_sector_isic": ["A"] if "forced_labour" in forms else [],
                "sexual_exploitation_type": ["prostitution"]
                if "sexual_exploitation" in forms
                else [],
                "means_of_control": None if means is None else list(means),
                "recruiter_relationship": ["family"],
                "consent_statistical_use": True,
                "consent_withdrawn": False,
                "import_batch": "b1",
            }
        )
    return pd.DataFrame(rows)


def victim_records(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """VictimRecords with unusual identity strings (searched for in every export)."""
    from datetime import date

    from ctip.domain.records import Consent, Identity, Provenance, VictimRecord

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        forms = tuple(
            sorted(
                set(
                    rng.choice(FORMS, size=int(rng.integers(1, 3)), p=[0.45, 0.35, 0.1, 0.05, 0.05])
                )
            )
        )
        cit = str(rng.choice(["NGA", "ITA", "ROU", "ALB", "CHN"], p=[0.4, 0.3, 0.15, 0.1, 0.05]))
        out.append(
            VictimRecord(
                source_record_id=f"R{i:05d}",
                agency=str(rng.choice(["police", "ngo-a"])),
                identification_status="identified",
                identification_date=date(int(rng.integers(2021, 2024)), 1 + i % 12, 1 + i % 28),
                sex=str(rng.choice(["female", "male", "unknown"], p=[0.6, 0.37, 0.03])),
                age_at_identification=int(rng.integers(5, 60)),
                disability_status="no_disability",
                citizenships=("ITA",) if i % 25 == 0 else (cit,),
                country_of_detection="FRA" if i % 25 == 0 else "ITA",
                countries_of_exploitation=("ITA",),
                exploitation_forms=forms,
                means_of_control=("debt_bondage",) if i % 3 else (),
                identity=Identity(
                    given_name=f"Zorbanella{i}",
                    family_name="Quistwhorp",
                    date_of_birth="1991-07-14",
                    document_number=f"PX{9988770 + i}",
                    narrative=f"Story told by Zorbanella{i}",
                ),
                consent=Consent(case_management=True, statistical_use=True),
                provenance=Provenance(
                    source_system="canonical", source_file="a.csv", source_row=i + 2
                ),
            )
        )
    return out


def perpetrators(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    from datetime import date

    from ctip.domain.records import JusticeStage, Perpetrator

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        year = int(rng.integers(2021, 2024))
        stages = [JusticeStage(stage="suspected", stage_date=date(year, 3, 1))]
        if rng.random() < 0.6:
            stages.append(JusticeStage(stage="prosecuted", stage_date=date(year, 6, 1)))
        if rng.random() < 0.3:
            stages.append(JusticeStage(stage="convicted", stage_date=date(year, 9, 1)))
        out.append(
            Perpetrator(
                perpetrator_id=f"P{i:04d}",
                agency="police",
                sex=str(rng.choice(["female", "male"], p=[0.3, 0.7])),
                age=int(rng.integers(16, 60)),
                citizenships=(str(rng.choice(["ITA", "NGA"])),),
                stages=tuple(stages),
            )
        )
    return out
