"""A hand-made analytic view: a dozen victim rows and a few perpetrator rows in DuckDB.

The tables built from it are checked against counts worked out by hand in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from ctip.domain.derive import age_group, primary_form, victim_group


def victim(
    n: int,
    *,
    year: int | None = 2022,
    sex: str = "female",
    age: int | None = 25,
    forms: tuple[str, ...] | None = ("sexual_exploitation",),
    citizenship: str = "MLT",
    detection: str = "MLT",
    disability: str = "no_disability",
    agency: str = "police",
    status: str = "identified",
    withdrawn: bool = False,
) -> dict:
    detected = status in {"identified", "presumed"}
    return {
        "victim_id": f"v{n}",
        "pseudonym": None,
        "agency": agency,
        "agency_type": "police",
        "source_record_id": str(n),
        "identification_date": None if year is None else f"{year}-06-01",
        "identification_year": year,
        "identification_status": status,
        "detected": detected,
        "sex": sex,
        "gender_identity": None,
        "age": age,
        "age_group": age_group(age),
        "victim_group": victim_group(sex, age),
        "disability_status": disability,
        "citizenships": [citizenship] if citizenship != "unknown" else None,
        "citizenship": citizenship,
        "country_of_detection": detection,
        "countries_of_exploitation": [detection],
        "country_of_recruitment": None,
        "exploitation_forms": list(forms) if forms is not None else None,
        "primary_form": primary_form(forms),
        "labour_sector_isic": None,
        "sexual_exploitation_type": None,
        "means_of_control": None,
        "recruiter_relationship": None,
        "consent_statistical_use": True,
        "consent_withdrawn": withdrawn,
        "import_batch": "b1",
    }


def load(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, str], rows: Iterable[dict]
) -> None:
    con.execute(f"CREATE TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
    marks = ", ".join("?" for _ in columns)
    values = [[r[c] for c in columns] for r in rows]
    if values:
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)


FIXTURE_VICTIMS = [
    victim(1, sex="female", age=25),
    victim(2, sex="female", age=30, forms=("forced_labour",), citizenship="ROU"),
    victim(3, sex="female", age=15, citizenship="ITA"),
    victim(
        4, sex="male", age=40, forms=("forced_labour", "sexual_exploitation"), citizenship="NGA"
    ),
    victim(
        5, sex="male", age=16, forms=("forced_begging",), citizenship="ROU", disability="disability"
    ),
    victim(6, sex="male", age=None, forms=None, citizenship="unknown", disability="unknown"),
    victim(
        7, sex="unknown", age=33, forms=("forced_criminality",), citizenship="NGA", agency="ngo"
    ),
    victim(8, year=2023, sex="female", age=22, agency="ngo"),
    victim(
        9,
        year=2023,
        sex="female",
        age=17,
        forms=("organ_removal",),
        citizenship="MLT",
        agency="ngo",
    ),
    victim(10, year=2023, sex="male", age=50, forms=("forced_labour",), citizenship="PHL"),
    victim(11, year=2023, sex="female", age=28, status="possible"),  # not detected
    victim(12, year=2023, sex="female", age=28, withdrawn=True),  # consent withdrawn
    victim(13, year=None, sex="female", age=19, forms=("forced_marriage",), citizenship="SYR"),
]

FIXTURE_PERPETRATORS = [
    {
        "perpetrator_id": "p1",
        "agency": "police",
        "sex": "male",
        "age": 40,
        "age_group": "18+",
        "citizenships": ["MLT"],
        "citizenship": "MLT",
        "roles": ["exploiter"],
        "stage": "suspected",
        "stage_year": 2022,
        "exploitation_forms": ["sexual_exploitation"],
    },
    {
        "perpetrator_id": "p1",
        "agency": "court",
        "sex": "male",
        "age": 41,
        "age_group": "18+",
        "citizenships": ["MLT"],
        "citizenship": "MLT",
        "roles": ["exploiter"],
        "stage": "convicted",
        "stage_year": 2023,
        "exploitation_forms": ["sexual_exploitation"],
    },
    {
        "perpetrator_id": "p2",
        "agency": "police",
        "sex": "female",
        "age": 35,
        "age_group": "18+",
        "citizenships": ["ROU"],
        "citizenship": "ROU",
        "roles": ["recruiter"],
        "stage": "suspected",
        "stage_year": 2022,
        "exploitation_forms": ["forced_labour"],
    },
    {
        "perpetrator_id": "p3",
        "agency": "police",
        "sex": "unknown",
        "age": None,
        "age_group": "unknown",
        "citizenships": None,
        "citizenship": "unknown",
        "roles": None,
        "stage": "prosecuted",
        "stage_year": 2023,
        "exploitation_forms": None,
    },
]
