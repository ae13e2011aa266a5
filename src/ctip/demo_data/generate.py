"""The demo dataset: several agencies' files about one synthetic population of victims.

Nobody in these files exists. A hidden population is drawn with the sex x age x form profile
and the citizenship mix of the CTDC Global Dataset (``calibration.json``: rounded shares only);
then four agencies each "identify" some of them, with capture probabilities that differ by form
of exploitation and person (heterogeneity) and with police and NGO lists positively dependent
(they refer to each other). Each agency writes the people it met in its own file format, with the
spelling drift real lists have (typos, name order, transliteration, aliases, missing dates of
birth, an age given one year off). A few malformed rows show how rejects are kept.

So the demo exercises everything downstream: import (CSV, XLSX, JSON Lines), linkage across
agencies, multiple systems estimation (the true population size is known: ``TRUE_POPULATION``),
statistics and safe publication.

Regenerate the shipped files with ``python -m ctip.demo_data.generate``.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from ctip.services.importing import CANONICAL_COLUMNS as RECORD_COLUMNS

SEED = 2025
TRUE_POPULATION = 2400
DETECTION_COUNTRY = "GBR"
DOMESTIC_SHARE = 0.30

CANONICAL_COLUMNS = RECORD_COLUMNS  # the canonical profile's columns (no consent columns)


@dataclass(frozen=True)
class Agency:
    name: str
    agency_type: str
    file_name: str
    base_rate: float  # probability of meeting a victim of average visibility


AGENCIES = (
    Agency("police-national", "police", "police-national.csv", 0.30),
    Agency("ngo-safehouse", "ngo", "ngo-safehouse.csv", 0.26),
    Agency("labour-inspectorate", "labour_inspection", "labour-inspectorate.xlsx", 0.12),
    Agency("social-services", "social_services", "social-services.jsonl", 0.16),
)

# Name pools by citizenship (synthetic combinations of common names; nobody real).
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "GBR": (
        (
            "Emma",
            "Olivia",
            "Sophie",
            "Chloe",
            "Jessica",
            "Amy",
            "Lauren",
            "Hannah",
            "Megan",
            "Charlotte",
            "Rebecca",
            "Bethany",
            "Holly",
            "Georgia",
            "Abigail",
            "Katie",
            "Leah",
            "Paige",
            "Ellie",
            "Zoe",
        ),
        (
            "James",
            "Daniel",
            "Liam",
            "Connor",
            "Ryan",
            "Jack",
            "Thomas",
            "Callum",
            "Jordan",
            "Kieran",
            "Lewis",
            "Nathan",
            "Owen",
            "Reece",
            "Tyler",
            "Joshua",
            "Ben",
            "Harry",
            "Adam",
            "Luke",
        ),
        (
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Wilson",
            "Evans",
            "Walker",
            "Hughes",
            "Roberts",
            "Wright",
            "Thompson",
            "White",
            "Edwards",
            "Green",
            "Hall",
            "Wood",
            "Harris",
            "Clarke",
            "Jackson",
            "Turner",
            "Hill",
            "Cooper",
            "Ward",
            "Morris",
            "Moore",
            "Bennett",
            "Shaw",
            "Mason",
            "Kelly",
            "Murphy",
        ),
    ),
    "UKR": (
        (
            "Olena",
            "Iryna",
            "Natalia",
            "Oksana",
            "Yulia",
            "Tetiana",
            "Halyna",
            "Svitlana",
            "Kateryna",
            "Mariia",
            "Liudmyla",
            "Nadiia",
            "Viktoriia",
            "Anastasiia",
            "Alina",
        ),
        (
            "Oleksandr",
            "Andriy",
            "Serhiy",
            "Dmytro",
            "Mykola",
            "Ivan",
            "Volodymyr",
            "Yuriy",
            "Vasyl",
            "Petro",
            "Bohdan",
            "Taras",
            "Roman",
            "Maksym",
            "Oleh",
        ),
        (
            "Shevchenko",
            "Kovalenko",
            "Bondarenko",
            "Tkachenko",
            "Kravchenko",
            "Melnyk",
            "Boyko",
            "Kovalchuk",
            "Oliynyk",
            "Lysenko",
            "Marchenko",
            "Rudenko",
            "Savchenko",
            "Petrenko",
            "Moroz",
            "Pavlenko",
            "Levchenko",
            "Kharchenko",
            "Karpenko",
            "Ponomarenko",
        ),
    ),
    "MDA": (
        (
            "Elena",
            "Natalia",
            "Tatiana",
            "Svetlana",
            "Ana",
            "Cristina",
            "Maria",
            "Olga",
            "Irina",
            "Ludmila",
            "Galina",
            "Victoria",
            "Doina",
            "Angela",
            "Veronica",
        ),
        (
            "Ion",
            "Vasile",
            "Sergiu",
            "Andrei",
            "Victor",
            "Mihai",
            "Gheorghe",
            "Nicolae",
            "Dumitru",
            "Vladimir",
            "Igor",
            "Alexandru",
            "Pavel",
            "Valeriu",
            "Oleg",
        ),
        (
            "Rusu",
            "Ceban",
            "Ciobanu",
            "Munteanu",
            "Lungu",
            "Cojocaru",
            "Turcan",
            "Rotaru",
            "Sandu",
            "Popa",
            "Bivol",
            "Guțu",
            "Moraru",
            "Cebotari",
            "Croitoru",
            "Plamadeala",
            "Melnic",
            "Ursu",
            "Bejenaru",
            "Grosu",
        ),
    ),
    "ROU": (
        (
            "Maria",
            "Ioana",
            "Andreea",
            "Elena",
            "Alexandra",
            "Mihaela",
            "Gabriela",
            "Ramona",
            "Simona",
            "Daniela",
            "Florentina",
            "Roxana",
            "Alina",
            "Denisa",
            "Bianca",
        ),
        (
            "Ion",
            "Gheorghe",
            "Constantin",
            "Florin",
            "Marian",
            "Adrian",
            "Ionut",
            "Cosmin",
            "Razvan",
            "Bogdan",
            "Catalin",
            "Sorin",
            "Stefan",
            "Cristian",
            "Vlad",
        ),
        (
            "Popescu",
            "Ionescu",
            "Popa",
            "Dumitru",
            "Stan",
            "Stoica",
            "Gheorghe",
            "Matei",
            "Ciobanu",
            "Rusu",
            "Munteanu",
            "Constantin",
            "Marin",
            "Tudor",
            "Dobre",
            "Barbu",
            "Nistor",
            "Florea",
            "Ene",
            "Dinu",
        ),
    ),
    "PHL": (
        (
            "Maria",
            "Jocelyn",
            "Rowena",
            "Mary Grace",
            "Marites",
            "Liza",
            "Rosalie",
            "Analyn",
            "Jennifer",
            "Cristina",
            "Lorna",
            "Divina",
            "Marilou",
            "Arlene",
            "Rhea",
        ),
        (
            "Jose",
            "Mark",
            "John Paul",
            "Romeo",
            "Jun",
            "Rommel",
            "Reynaldo",
            "Eduardo",
            "Ramon",
            "Danilo",
            "Arnel",
            "Rodel",
            "Jerome",
            "Noel",
            "Rey",
        ),
        (
            "Santos",
            "Reyes",
            "Cruz",
            "Bautista",
            "Garcia",
            "Mendoza",
            "Dela Cruz",
            "Ramos",
            "Aquino",
            "Villanueva",
            "Castillo",
            "Fernandez",
            "Domingo",
            "Soriano",
            "Navarro",
            "Tolentino",
            "Manalo",
            "Pascual",
            "Salazar",
            "Gonzales",
        ),
    ),
    "VNM": (
        (
            "Thi Lan",
            "Thi Hoa",
            "Thi Mai",
            "Ngoc Anh",
            "Thu Trang",
            "Thi Huong",
            "Thanh Thuy",
            "Thi Nga",
            "Minh Chau",
            "Thi Hanh",
            "Phuong Linh",
            "Thi Dung",
        ),
        (
            "Van Minh",
            "Duc Anh",
            "Van Hung",
            "Quang Huy",
            "Minh Tuan",
            "Van Nam",
            "Thanh Long",
            "Van Thanh",
            "Hoang Nam",
            "Quoc Bao",
            "Van Duc",
            "Tien Dung",
        ),
        (
            "Nguyen",
            "Tran",
            "Le",
            "Pham",
            "Hoang",
            "Vu",
            "Dang",
            "Bui",
            "Do",
            "Ho",
            "Ngo",
            "Duong",
            "Ly",
            "Phan",
            "Vo",
            "Trinh",
        ),
    ),
    "NGA": (
        (
            "Blessing",
            "Precious",
            "Joy",
            "Favour",
            "Gift",
            "Esther",
            "Ngozi",
            "Chioma",
            "Adaeze",
            "Funmilayo",
            "Aisha",
            "Comfort",
            "Patience",
            "Mercy",
            "Grace",
        ),
        (
            "Emeka",
            "Chinedu",
            "Tunde",
            "Ibrahim",
            "Samuel",
            "Uche",
            "Oluwaseun",
            "Babatunde",
            "Ikenna",
            "Musa",
            "Yusuf",
            "Godwin",
            "Sunday",
            "Friday",
            "Kelechi",
        ),
        (
            "Okafor",
            "Adeyemi",
            "Okonkwo",
            "Eze",
            "Bello",
            "Ogunleye",
            "Nwosu",
            "Balogun",
            "Obi",
            "Afolabi",
            "Ibekwe",
            "Olawale",
            "Chukwu",
            "Abubakar",
            "Edet",
            "Udoh",
            "Nnamdi",
            "Adebayo",
            "Onyeka",
            "Ekwueme",
        ),
    ),
    "ALB": (
        (
            "Ermira",
            "Elona",
            "Anisa",
            "Klea",
            "Blerina",
            "Arta",
            "Denada",
            "Eriona",
            "Jonida",
            "Mirela",
            "Valbona",
            "Xhesika",
        ),
        (
            "Arben",
            "Ermal",
            "Besnik",
            "Gentian",
            "Ardit",
            "Artan",
            "Dritan",
            "Fatmir",
            "Ilir",
            "Klodian",
            "Sokol",
            "Edmond",
        ),
        (
            "Hoxha",
            "Shehu",
            "Leka",
            "Gashi",
            "Krasniqi",
            "Berisha",
            "Dervishi",
            "Kola",
            "Marku",
            "Rama",
            "Cela",
            "Hysa",
            "Basha",
            "Dedja",
            "Muca",
            "Prifti",
        ),
    ),
}
GENERIC = (
    (
        "Amina",
        "Fatima",
        "Sara",
        "Leila",
        "Nadia",
        "Rosa",
        "Ana",
        "Mariam",
        "Aylin",
        "Zainab",
        "Yasmin",
        "Noor",
        "Hawa",
        "Selam",
        "Lucia",
        "Carmen",
        "Priya",
        "Sunita",
        "Mei",
        "Linh",
    ),
    (
        "Ali",
        "Omar",
        "Juan",
        "Ahmed",
        "Samir",
        "Carlos",
        "Hassan",
        "David",
        "Karim",
        "Tariq",
        "Abdi",
        "Yonas",
        "Miguel",
        "Luis",
        "Ravi",
        "Arjun",
        "Wei",
        "Bilal",
        "Idris",
        "Kwame",
    ),
    (
        "Khan",
        "Hussain",
        "Lopez",
        "Diallo",
        "Traore",
        "Ahmadi",
        "Haile",
        "Mensah",
        "Rahman",
        "Begum",
        "Sharma",
        "Singh",
        "Hernandez",
        "Martinez",
        "Kamara",
        "Conteh",
        "Abebe",
        "Tesfaye",
        "Osman",
        "Yilmaz",
        "Demir",
        "Karimi",
        "Chen",
        "Wang",
        "Ali",
        "Mohamed",
        "Ibrahim",
        "Suleiman",
        "Bangura",
        "Sesay",
    ),
)

# Spelling variants an agency might write for the same name (transliteration, anglicisation).
VARIANTS = {
    "Olena": "Elena",
    "Oleksandr": "Aleksandr",
    "Andriy": "Andrei",
    "Serhiy": "Sergei",
    "Yulia": "Iuliia",
    "Tetiana": "Tatiana",
    "Mykola": "Nikolai",
    "Shevchenko": "Shevchenco",
    "Kovalenko": "Kovalenco",
    "Tkachenko": "Tkacenko",
    "Ceban": "Cheban",
    "Ciobanu": "Chiobanu",
    "Mohammed": "Muhammad",
    "Ahmed": "Ahmad",
    "Hussain": "Husain",
    "Nguyen": "Nguyễn",
    "Tran": "Trần",
    "Le": "Lê",
    "Hoxha": "Hodja",
    "Krasniqi": "Krasniki",
    "Dela Cruz": "De la Cruz",
}

SECTORS = (("A", 0.30), ("F", 0.18), ("T", 0.17), ("I", 0.15), ("C", 0.12), ("G", 0.08))
MEANS = (
    ("debt_bondage", 0.28),
    ("withholds_documents", 0.22),
    ("false_promises", 0.35),
    ("psychological_abuse", 0.30),
    ("physical_abuse", 0.18),
    ("takes_earnings", 0.25),
    ("restricts_movement", 0.20),
    ("physical_threats", 0.22),
    ("sexual_abuse", 0.10),
    ("excessive_working_hours", 0.15),
    ("threats_law_enforcement", 0.08),
)
RECRUITERS = (
    ("stranger", 0.25),
    ("friend_acquaintance", 0.25),
    ("intimate_partner", 0.12),
    ("family", 0.10),
    ("labour_broker_or_recruiter", 0.18),
    ("employer", 0.10),
)
EXPLOITATION_ABROAD = ("FRA", "DEU", "ESP", "ITA", "NLD", "BEL", "IRL")


@dataclass
class Person:
    """One member of the hidden population (the truth the agencies see parts of)."""

    person_id: int
    sex: str
    age: int | None
    forms: tuple[str, ...]
    citizenship: str | None
    given_name: str
    family_name: str
    alias: str | None
    birth_date: date | None
    disability: str
    sector: str | None
    sexual_type: str | None
    means: tuple[str, ...] | None
    recruiter: str | None
    visibility: float  # heterogeneity: some people are far more likely to be met by anyone
    first_seen: date


def _calibration() -> dict[str, Any]:
    text = resources.files("ctip.demo_data").joinpath("calibration.json").read_text("utf-8")
    return json.loads(text)


def _pick(rng: random.Random, weighted: dict[str, float] | tuple[tuple[str, float], ...]) -> str:
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _age_in_band(rng: random.Random, band: str) -> int | None:
    if band == "unknown":
        return None
    if band.endswith("+"):
        return rng.randint(int(band[:-1]), 62)
    low, high = (int(x) for x in band.split("--"))
    return rng.randint(max(low, 4), high)


def _forms(rng: random.Random, kind: str, age: int | None) -> tuple[str, ...]:
    if kind == "sexual":
        return ("sexual_exploitation",)
    if kind == "both":
        return ("sexual_exploitation", "forced_labour")
    if kind == "labour":
        roll = rng.random()
        if roll < 0.10:
            return ("forced_criminality",)
        if roll < 0.15:
            return ("forced_begging",)
        if roll < 0.22:
            return ("slavery_or_servitude",)
        return ("forced_labour",)
    roll = rng.random()
    if roll < 0.05:
        return ("forced_marriage",)
    if roll < 0.07 and age is not None and age >= 18:
        return ("organ_removal",)
    return ()  # form not known


def draw_population(seed: int = SEED, size: int = TRUE_POPULATION) -> list[Person]:
    rng = random.Random(seed)
    cal = _calibration()
    people = []
    for pid in range(size):
        sex_age_form = _pick(rng, cal["sex_age_form"])
        gender, band, kind = sex_age_form.split("|")
        sex = "female" if gender == "Female" else "male"
        age = _age_in_band(rng, band)
        forms = _forms(rng, kind, age)
        if rng.random() < DOMESTIC_SHARE:
            citizenship: str | None = DETECTION_COUNTRY
        elif rng.random() < cal["citizenship_unknown_share"] * 0.4:
            citizenship = None
        else:
            citizenship = _pick(rng, cal["citizenship"])
        givens_f, givens_m, families = NAMES.get(citizenship or "", GENERIC)
        given = rng.choice(givens_f if sex == "female" else givens_m)
        family = rng.choice(families)
        first_seen = date(2021, 1, 1) + timedelta(days=int(1460 * rng.random() ** 0.8))
        birth = None
        if age is not None:
            birth = first_seen - timedelta(days=365 * age + rng.randint(0, 364))
        labourish = any(
            f in forms for f in ("forced_labour", "slavery_or_servitude", "forced_criminality")
        )
        people.append(
            Person(
                person_id=pid,
                sex=sex,
                age=age,
                forms=forms,
                citizenship=citizenship,
                given_name=given,
                family_name=family,
                alias=rng.choice(("Mimi", "Lina", "Tina", "Sasha", "Nika", "Rico", "Max"))
                if rng.random() < 0.12
                else None,
                birth_date=birth,
                disability=_pick(rng, {"disability": 0.07, "no_disability": 0.45, "unknown": 0.48}),
                sector=_pick(rng, SECTORS) if labourish else None,
                sexual_type=("prostitution" if rng.random() < 0.85 else "pornography")
                if "sexual_exploitation" in forms
                else None,
                means=None
                if rng.random() < 0.3
                else tuple(sorted(m for m, p in MEANS if rng.random() < p)),
                recruiter=None if rng.random() < 0.35 else _pick(rng, RECRUITERS),
                visibility=rng.lognormvariate(0, 0.6),
                first_seen=first_seen,
            )
        )
    return people


def _capture_probability(agency: Agency, person: Person, on_police: bool) -> float:
    p = agency.base_rate * person.visibility
    labour = any(f in person.forms for f in ("forced_labour", "slavery_or_servitude"))
    if agency.agency_type == "labour_inspection":
        p *= 2.2 if labour else 0.25
    if agency.agency_type == "social_services" and person.age is not None and person.age < 18:
        p *= 2.5
    if agency.agency_type == "ngo" and on_police:
        p *= 1.6  # police refer to the NGO shelter: positive list dependence
    return min(p, 0.95)


def _drift_name(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.15 and name in VARIANTS:
        return VARIANTS[name]
    if roll < 0.22 and len(name) > 4:  # one typo
        i = rng.randrange(1, len(name) - 1)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if roll < 0.26:
        return name.upper()
    return name


def _record(rng: random.Random, agency: Agency, person: Person, number: int) -> dict[str, str]:
    ident_date = person.first_seen + timedelta(days=rng.randint(0, 120))
    ident_date = min(ident_date, date(2024, 12, 31))
    age = person.age
    if age is not None and rng.random() < 0.08:
        age = max(0, age + rng.choice((-1, 1)))
    if age is not None and rng.random() < 0.05:
        age = None
    given, family = _drift_name(rng, person.given_name), _drift_name(rng, person.family_name)
    if rng.random() < 0.06:
        given, family = family, given  # name order swapped
    dob = ""
    if person.birth_date and rng.random() < 0.75:
        dob = person.birth_date.isoformat() if rng.random() < 0.85 else str(person.birth_date.year)
    citizenship = person.citizenship or "unknown"
    exploitation_abroad = person.citizenship == DETECTION_COUNTRY and rng.random() < 0.1
    status = _pick(rng, {"identified": 0.72, "presumed": 0.18, "possible": 0.10})
    if agency.agency_type == "social_services":
        status = _pick(rng, {"identified": 0.55, "presumed": 0.25, "possible": 0.20})
    return {
        "source_record_id": f"{agency.name[:3].upper()}-{2021 + number % 4}-{number:05d}",
        "agency": agency.name,
        "agency_type": agency.agency_type,
        "identification_date": ident_date.isoformat(),
        "identification_status": status,
        "sex": person.sex if rng.random() > 0.01 else "unknown",
        "gender_identity": "",
        "age_at_identification": "" if age is None else str(age),
        "birth_year": "",
        "disability_status": person.disability,
        "citizenships": citizenship,
        "country_of_detection": DETECTION_COUNTRY,
        "countries_of_exploitation": (
            rng.choice(EXPLOITATION_ABROAD) if exploitation_abroad else DETECTION_COUNTRY
        ),
        "country_of_recruitment": person.citizenship or "",
        "exploitation_forms": ";".join(person.forms),
        "labour_sector_isic": person.sector or "",
        "sexual_exploitation_type": person.sexual_type or "",
        "means_of_control": "" if person.means is None else (";".join(person.means) or "none"),
        "recruiter_relationship": person.recruiter or "",
        "given_name": given,
        "family_name": family,
        "aliases": person.alias or "",
        "date_of_birth": dob,
        "document_number": f"X{rng.randrange(10**7, 10**8)}" if rng.random() < 0.4 else "",
        "phone": f"+44 7{rng.randrange(10**8, 10**9)}" if rng.random() < 0.3 else "",
        "email": "",
        "address": "",
        "narrative": "",
    }


# A few rows an agency really might send, each wrong in a different way.
def _malformed(agency: Agency, number: int) -> list[dict[str, str]]:
    base = {c: "" for c in CANONICAL_COLUMNS}
    base.update(
        agency=agency.name,
        agency_type=agency.agency_type,
        country_of_detection="GBR",
        identification_status="identified",
        sex="female",
        citizenships="GBR",
    )
    bad = []
    if agency.agency_type == "police":
        bad.append(
            {
                **base,
                "source_record_id": f"POL-BAD-{number}",
                "identification_date": "2023-02-30",
                "age_at_identification": "250",
                "given_name": "Test",
                "family_name": "Row",
            }
        )
        bad.append(
            {
                **base,
                "source_record_id": f"POL-BAD-{number + 1}",
                "identification_date": "2022-05-01",
                "citizenships": "Atlantis",
                "age_at_identification": "-1",
            }
        )
    if agency.agency_type == "ngo":
        bad.append(
            {
                **base,
                "source_record_id": "",
                "identification_date": "2022-07-14",
                "sex": "F?",
                "age_at_identification": "about 17",
            }
        )
        bad.append(
            {
                **base,
                "source_record_id": f"NGO-BAD-{number}",
                "identification_date": "14/07/2022",
                "exploitation_forms": "sexual_exploitation;kidnapping",
                "narrative": '=HYPERLINK("http://example.invalid","click")',
            }
        )
    if agency.agency_type == "social_services":
        bad.append(
            {
                **base,
                "source_record_id": f"SOC-BAD-{number}",
                "identification_date": "2031-01-01",
                "disability_status": "maybe",
            }
        )
    return bad


def generate(seed: int = SEED, size: int = TRUE_POPULATION) -> dict[str, list[dict[str, str]]]:
    """Rows per agency file name (canonical columns), including the malformed ones."""
    rng = random.Random(seed + 1)
    people = draw_population(seed, size)
    on_police: set[int] = set()
    files: dict[str, list[dict[str, str]]] = {}
    for agency in AGENCIES:
        rows: list[dict[str, str]] = []
        for person in people:
            if rng.random() < _capture_probability(agency, person, person.person_id in on_police):
                if agency.agency_type == "police":
                    on_police.add(person.person_id)
                rows.append(_record(rng, agency, person, len(rows) + 1))
        rows += _malformed(agency, len(rows) + 1)
        rng.shuffle(rows)
        files[agency.file_name] = rows
    return files


def truth(seed: int = SEED, size: int = TRUE_POPULATION) -> dict[tuple[str, str], int]:
    """(agency, source_record_id) -> the person behind it: ground truth for linkage checks."""
    rng = random.Random(seed + 1)
    people = draw_population(seed, size)
    on_police: set[int] = set()
    out: dict[tuple[str, str], int] = {}
    for agency in AGENCIES:
        number = 0
        for person in people:
            if rng.random() < _capture_probability(agency, person, person.person_id in on_police):
                if agency.agency_type == "police":
                    on_police.add(person.person_id)
                number += 1
                out[(agency.name, _record(rng, agency, person, number)["source_record_id"])] = (
                    person.person_id
                )
        rng.shuffle([None] * (number + len(_malformed(agency, number + 1))))
    return out


def write_files(directory: Path, seed: int = SEED, size: int = TRUE_POPULATION) -> list[Path]:
    """Write each agency's file in its own format (CSV, XLSX, JSON Lines)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in generate(seed, size).items():
        path = directory / name
        if name.endswith(".csv"):
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=CANONICAL_COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
        elif name.endswith(".jsonl"):
            with path.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(
                        json.dumps({k: v for k, v in row.items() if v != ""}, ensure_ascii=False)
                        + "\n"
                    )
        else:
            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            sheet.title = "cases"
            sheet.append(list(CANONICAL_COLUMNS))
            for row in rows:
                sheet.append([row[c] for c in CANONICAL_COLUMNS])
            book.save(path)
        written.append(path)
    return written


def shipped_files() -> list[Path]:
    """The demo files shipped in the package, in import order."""
    base = resources.files("ctip.demo_data").joinpath("files")
    return [Path(str(base.joinpath(a.file_name))) for a in AGENCIES]


if __name__ == "__main__":
    out = Path(__file__).resolve().parent / "files"
    for p in write_files(out):
        print(p)
