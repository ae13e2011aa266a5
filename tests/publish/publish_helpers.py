"""Synthetic analytic-view rows for the publish tests (a uniquely named helper module)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctip.domain.derive import age_group, primary_form, victim_group

COUNTRIES = ["NGA", "GHA", "ITA", "ESP", "ROU", "BGR", "VNM", "CHN", "BRA", "unknown"]
FORMS = ["sexual_exploitation", "forced_labour", "forced_criminality", "forced_begging", "forced_marriage"]
MEANS = ["debt_bondage", "false_promises", "physical_abuse", "withholds_documents", "restricts_movement"]


def analytic_victims(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        sex = str(rng.choice(["female", "male", "unknown"], p=[0.6, 0.37, 0.03]))
        age = None if rng.random() < 0.05 else int(rng.integers(3, 70))
        forms = tuple(sorted(set(rng.choice(FORMS, size=int(rng.integers(1, 3)), p=[0.45, 0.35, 0.1, 0.05, 0.05]))))
        means = None if rng.random() < 0.2 else tuple(sorted(set(rng.choice(MEANS, size=int(rng.integers(0, 3))))))
        cit = str(rng.choice(COUNTRIES, p=[0.25, 0.1, 0.15, 0.05, 0.1, 0.05, 0.1, 0.05, 0.05, 0.1]))
        year = int(rng.integers(2019, 2024))
        rows.append({
            "victim_id": f"v{i}", "pseudonym": f"p{i}", "agency": str(rng.choice(["police", "ngo-a"])),
            "agency_type": "ngo", "source_record_id": f"R{i}", "identification_date": None,
            "identification_year": year, "identification_status": "identified", "detected": True,
            "sex": sex, "gender_identity": None, "age": age, "age_group": age_group(age),
            "victim_group": victim_group(sex, age), "disability_status": str(rng.choice(["no_disability", "disability", "unknown"])),
            "citizenships": [cit], "citizenship": cit, "country_of_detection": "ITA",
            "countries_of_exploitation": ["ITA"] if rng.random() < 0.8 else ["LBY"],
            "country_of_recruitment": cit, "exploitation_forms": list(forms), "primary_form": primary_form(forms),
            "labour_sector_isic": ["A"] if "forced_labour" in forms else [],
            "sexual_exploitation_type": ["prostitution"] if "sexual_exploitation" in forms else [],
            "means_of_control": None if means is None else list(means), "recruiter_relationship": ["family"],
            "consent_statistical_use": True, "consent_withdrawn": False, "import_batch": "b1",
        })
    return pd.DataFrame(rows)
