"""A second synthetic population, written apart from ``synthetic.py`` and the demo's generator.

Why a second one: linkage tuned on one generator learns that generator's habits. This one shares
no name list, no error model and no code with the others, so linkage quality measured on it is
quality on data the model was not tuned to (issue 11 item 3).

What it draws (nobody here exists; names are common given and family names combined at random):
- people of five origins (Arabic, Russian/Ukrainian, Chinese, West African, South Asian), each
  name carried with its real romanisation variants ("Muhammad"/"Mohamed"/"Mohammed",
  "Yuliya"/"Yulia"/"Iuliia", "Zhang"/"Chang"/"Cheung", "Chowdhury"/"Choudhury"/"Chaudhry") and,
  for Cyrillic names, the name in Cyrillic script as an agency abroad may key it;
- families (two to five people sharing a family name, a citizenship and an address, siblings a
  few years apart), and namesakes (a small pool of names makes the same full name common);
- four agencies meeting people with heterogeneous visibility and a police-NGO referral
  dependence, sometimes twice (a re-identification: a duplicate inside one list);
- per record: a romanisation variant, a typing error, names swapped (often for Chinese names,
  written family name first), the date of birth missing, only its year, an approximate age
  instead (one year off at times), day and month swapped, one digit mistyped, sex unrecorded.

``generate`` returns canonical-profile rows per agency (ready for ``ctip import``) and the true
person of every record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Each entry: variants of one name (the first is the commonest romanisation).
_ARABIC_F = (("Fatima", "Fatma", "Fatimah"), ("Aisha", "Aicha", "Ayesha", "Aysha"),
             ("Maryam", "Mariam", "Meriem"), ("Layla", "Leila", "Laila"), ("Nour", "Noor", "Nur"),
             ("Zainab", "Zaynab", "Zeinab"), ("Samira", "Sameera"), ("Huda", "Hoda"),
             ("Rania", "Raniya"), ("Amal", "Amel"))
_ARABIC_M = (("Muhammad", "Mohamed", "Mohammed", "Mohammad"), ("Ahmed", "Ahmad"),
             ("Hussein", "Husain", "Hussain", "Husayn"), ("Youssef", "Yusuf", "Yousef"),
             ("Khaled", "Khalid"), ("Omar", "Umar"), ("Abdullah", "Abdallah", "Abdulla"),
             ("Ibrahim", "Ebrahim"), ("Hassan", "Hasan"), ("Mustafa", "Mostafa"))
_ARABIC_FAM = (("Haddad", "Hadad"), ("Mansour", "Mansur"), ("Khalil", "Khaleel"),
               ("Saleh", "Salih"), ("Nasser", "Nasir", "Naser"), ("Darwish", "Darwich"),
               ("Othman", "Uthman", "Osman"), ("Saeed", "Said", "Sayed"), ("Hamdan", "Hamdane"),
               ("Bakr", "Bakir"), ("Shalabi", "Chalabi"), ("Qasim", "Kassem", "Qassim"),
               ("Yassin", "Yasin", "Yaseen"), ("Abbas", "Abas"), ("Jaber", "Jabir"),
               ("Rashid", "Rachid", "Rasheed"), ("Aziz", "Azeez"), ("Najjar", "Nagar"))
# Cyrillic: (romanisations..., Cyrillic spelling last, marked by a leading "=")
_CYR_F = (("Yuliya", "Yulia", "Iuliia", "Julia", "=Юлия"), ("Natalya", "Natalia", "Nataliya",
          "=Наталья"), ("Olena", "Elena", "Yelena", "=Елена"), ("Tetiana", "Tatiana", "Tatyana",
          "=Татьяна"), ("Kseniya", "Ksenia", "Xenia", "=Ксения"), ("Svitlana", "Svetlana",
          "=Светлана"), ("Oksana", "Oxana", "=Оксана"), ("Iryna", "Irina", "=Ирина"),
          ("Anastasiya", "Anastasia", "=Анастасия"), ("Daria", "Darya", "Dariia", "=Дарья"))
_CYR_M = (("Oleksandr", "Aleksandr", "Alexander", "Olexandr", "=Александр"),
          ("Serhiy", "Sergei", "Sergey", "=Сергей"), ("Dmytro", "Dmitry", "Dmitri", "=Дмитрий"),
          ("Andriy", "Andrei", "Andrey", "=Андрей"), ("Yevhen", "Evgeny", "Yevgeniy", "=Евгений"),
          ("Mykola", "Nikolai", "Nikolay", "=Николай"), ("Vasyl", "Vasily", "Vasiliy", "=Василий"),
          ("Yuriy", "Yuri", "Iurii", "=Юрий"), ("Oleh", "Oleg", "=Олег"),
          ("Maksym", "Maxim", "Maksim", "=Максим"))
_CYR_FAM = (("Shevchenko", "Shevtchenko", "Schewtschenko", "=Шевченко"),
            ("Kovalenko", "Kowalenko", "=Коваленко"), ("Tkachenko", "Tkatchenko", "=Ткаченко"),
            ("Kuznetsov", "Kouznetsov", "Kuznetsow", "=Кузнецов"), ("Zhukov", "Joukov",
            "Shukow", "=Жуков"), ("Sokolov", "Sokolow", "=Соколов"), ("Volkov", "Wolkow",
            "=Волков"), ("Bondarenko", "Bondarenka", "=Бондаренко"), ("Kravchuk",
            "Krawtschuk", "=Кравчук"), ("Melnyk", "Melnik", "=Мельник"), ("Yakovlev", "Iakovlev",
            "Jakowlew", "=Яковлев"), ("Moroz", "Moros", "=Мороз"), ("Lysenko", "Lissenko",
            "=Лысенко"), ("Marchenko", "Martchenko", "=Марченко"), ("Popov", "Popow", "=Попов"))
_CHN_F = (("Xiuying", "Hsiu-ying", "Xiu Ying"), ("Fang",), ("Na",), ("Min",), ("Jing", "Ching"),
          ("Li", "Lee"), ("Yan", "Yen"), ("Xiaomei", "Hsiao-mei"), ("Hui", "Hwei"), ("Ling",))
_CHN_M = (("Wei",), ("Qiang", "Chiang"), ("Jun", "Chun"), ("Jie", "Chieh"), ("Tao",),
          ("Ming",), ("Yong", "Yung"), ("Jian", "Chien"), ("Hao",), ("Zhiwei", "Chih-wei"))
_CHN_FAM = (("Zhang", "Chang", "Cheung"), ("Wang", "Wong"), ("Li", "Lee", "Lei"),
            ("Liu", "Lau", "Lao"), ("Chen", "Chan", "Tan"), ("Huang", "Hwang"),
            ("Zhao", "Chao", "Chiu"), ("Wu", "Woo", "Ng"), ("Zhou", "Chou", "Chow"),
            ("Xu", "Hsu", "Tsui"), ("Sun", "Suen"), ("Ma",), ("Zhu", "Chu"), ("Hu", "Woo"),
            ("Guo", "Kuo", "Kwok"), ("Lin", "Lam"))
_WAF_F = (("Aminata", "Aminatta"), ("Fatoumata", "Fatumata", "Fatimata"), ("Ngozi",),
          ("Adaeze", "Ada-Eze"), ("Abena", "Abenaa"), ("Oluwaseun", "Oluwaseyi"),
          ("Mariama", "Mariame"), ("Blessing",), ("Chiamaka", "Chiamaka"), ("Awa", "Awa"))
_WAF_M = (("Mamadou", "Mamadu", "Mohamadou"), ("Ousmane", "Usman", "Usmane"),
          ("Ibrahima", "Ibrahim"), ("Kwame", "Kwami"), ("Kofi",), ("Chukwuemeka", "Chukwuemeka"),
          ("Oumar", "Umaru"), ("Abdoulaye", "Abdulai", "Abdoulay"), ("Seydou", "Saidu"),
          ("Babajide",))
_WAF_FAM = (("Diallo", "Jallow", "Djalo"), ("Traore", "Traoré", "Trawally"), ("Kone", "Koné",
            "Konneh"), ("Ouedraogo", "Ouédraogo", "Wedraogo"), ("Mensah", "Mensa"),
            ("Boateng", "Boatin"), ("Okafor", "Okafo"), ("Adeyemi", "Adeyemy"),
            ("Camara", "Kamara"), ("Toure", "Touré", "Ture"), ("Coulibaly", "Kulibali",
            "Kulibaly"), ("Sesay", "Sisay"), ("Bangura",), ("Nwosu", "Nwoso"),
            ("Keita", "Keïta", "Kaita"), ("Sow", "Sowe"))
_SAS_F = (("Priya", "Preeya"), ("Lakshmi", "Laxmi", "Lakshmy"), ("Sunita", "Suneeta"),
          ("Anjali", "Anjalee"), ("Farzana", "Farzanah"), ("Nasrin", "Nasreen"),
          ("Rekha",), ("Shabnam", "Shabnum"), ("Pooja", "Puja"), ("Roksana", "Rukhsana"))
_SAS_M = (("Mohammad", "Mohammed", "Muhammad"), ("Deepak", "Dipak"), ("Sanjay", "Sanjai"),
          ("Rahim", "Raheem"), ("Shahid", "Shaheed"), ("Krishna", "Krisna"),
          ("Gurpreet", "Gurprit"), ("Rajesh", "Rajesch"), ("Abdul",), ("Imran", "Imraan"))
_SAS_FAM = (("Sharma", "Sarma"), ("Singh", "Sing"), ("Chowdhury", "Choudhury", "Chaudhry",
            "Choudhary"), ("Rahman", "Rehman"), ("Hossain", "Hussain", "Hosain"),
            ("Begum", "Begam"), ("Akter", "Akhtar", "Aktar"), ("Mukherjee", "Mukherji",
            "Mukerjee"), ("Srivastava", "Shrivastava"), ("Reddy", "Reddi"), ("Khan",),
            ("Islam",), ("Das",), ("Yadav", "Jadav"), ("Miah", "Mia"), ("Ahmed", "Ahmad"))

#: origin -> (female names, male names, family names, citizenships, writes family name first)
ORIGINS = {
    "arabic": (_ARABIC_F, _ARABIC_M, _ARABIC_FAM, ("SYR", "IRQ", "SDN", "EGY", "MAR"), False),
    "cyrillic": (_CYR_F, _CYR_M, _CYR_FAM, ("UKR", "RUS", "BLR", "MDA"), False),
    "chinese": (_CHN_F, _CHN_M, _CHN_FAM, ("CHN", "TWN"), True),
    "west_african": (_WAF_F, _WAF_M, _WAF_FAM, ("NGA", "GHA", "GIN", "MLI", "SLE"), False),
    "south_asian": (_SAS_F, _SAS_M, _SAS_FAM, ("IND", "BGD", "PAK", "NPL"), False),
}

#: agency name -> (agency type, base rate of meeting a person of average visibility)
AGENCIES = {
    "border-police": ("police", 0.32),
    "migrant-ngo": ("ngo", 0.28),
    "labour-office": ("labour_inspection", 0.14),
    "health-service": ("social_services", 0.18),
}
FORMS = ("forced_labour", "sexual_exploitation", "forced_criminality", "slavery_or_servitude")
STREETS = ("Harbour Road", "Station Street", "Mill Lane", "Canal Walk", "Market Square",
           "Church Street", "Victoria Road", "Park Avenue", "High Street", "Bridge Road")


@dataclass(frozen=True)
class Rates:
    """How dirty each record is (shares of records; the first record of a person is as dirty
    as the others: no clean master copy exists in real lists)."""

    variant: float = 0.30  # another romanisation of a name (or Cyrillic script when it has one)
    typo: float = 0.06  # one letter substituted, dropped or transposed, per name
    swapped: float = 0.08  # given and family name swapped (Chinese names: ``swapped_chinese``)
    swapped_chinese: float = 0.45
    dob_missing: float = 0.22
    dob_year_only: float = 0.08
    dob_approx_age: float = 0.12  # an age at identification instead of a date (25% a year off)
    dob_day_month: float = 0.04
    dob_digit: float = 0.03
    sex_missing: float = 0.05
    address: float = 0.35  # an address is recorded
    reidentified: float = 0.04  # met twice by the same agency


@dataclass(frozen=True)
class Population:
    rows: dict[str, list[dict[str, str]]]  # agency -> canonical rows
    truth: dict[tuple[str, str], int]  # (agency, source_record_id) -> person id
    people: int  # people drawn (met by an agency or not)


def _typo(name: str, rng: np.random.Generator) -> str:
    if len(name) < 4:
        return name
    k = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return name[:k] + "aeioulnrst"[int(rng.integers(0, 10))] + name[k + 1:]
    if kind == 1:
        return name[:k] + name[k + 1:]
    return name[:k - 1] + name[k] + name[k - 1] + name[k + 1:]


def _spell(variants: tuple[str, ...], rates: Rates, rng: np.random.Generator) -> str:
    """One record's spelling of a name: usually the commonest, else a variant or the script."""
    if len(variants) > 1 and rng.random() < rates.variant:
        name = variants[int(rng.integers(1, len(variants)))]
    else:
        name = variants[0]
    name = name.lstrip("=")
    if not name.isascii():
        return name  # keyed in Cyrillic script: no typo on top
    return _typo(name, rng) if rng.random() < rates.typo else name


def _draw_people(n: int, rng: np.random.Generator) -> list[dict[str, object]]:
    origins = list(ORIGINS)
    weights = np.array([0.22, 0.24, 0.14, 0.24, 0.16])
    people: list[dict[str, object]] = []
    while len(people) < n:
        origin = origins[int(rng.choice(len(origins), p=weights))]
        female, male, families, countries, _ = ORIGINS[origin]
        family = families[int(rng.integers(0, len(families)))]
        country = countries[int(rng.integers(0, len(countries)))]
        size = 1 if rng.random() < 0.75 else int(rng.integers(2, 6))  # a family met together
        address = (f"{int(rng.integers(1, 200))} {STREETS[int(rng.integers(0, len(STREETS)))]}"
                   if rng.random() < 0.8 else None)
        eldest = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 35 * 365)))
        for k in range(min(size, n - len(people))):
            sex = "female" if rng.random() < 0.62 else "male"
            pool = female if sex == "female" else male
            born = eldest + timedelta(days=int(k * rng.integers(500, 2200)))
            people.append({
                "origin": origin, "given": pool[int(rng.integers(0, len(pool)))],
                "family": family, "sex": sex, "dob": born, "citizenship": country,
                "address": address, "visibility": float(rng.lognormal(0.0, 0.6)),
                "form": FORMS[int(rng.choice(4, p=[0.45, 0.35, 0.1, 0.1]))],
            })
    return people


def _dob_cell(born: date, seen: date, rates: Rates, rng: np.random.Generator) -> tuple[str, str]:
    """(date_of_birth, age_at_identification) cells of one record."""
    iso = born.isoformat()
    r = rng.random()
    cut = np.cumsum([rates.dob_missing, rates.dob_year_only, rates.dob_approx_age,
                     rates.dob_day_month, rates.dob_digit])
    if r < cut[0]:
        return "", ""
    if r < cut[1]:
        return iso[:4], ""
    if r < cut[2]:
        age = seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
        if rng.random() < 0.25:
            age += 1 if rng.random() < 0.5 else -1
        return "", str(max(age, 0))
    if r < cut[3] and born.day <= 12:
        return f"{iso[:4]}-{iso[8:10]}-{iso[5:7]}", ""
    if r < cut[4]:
        digit = str((int(iso[-1]) + int(rng.integers(1, 9))) % 10)
        candidate = iso[:-1] + digit
        try:
            date.fromisoformat(candidate)
        except ValueError:
            return iso, ""
        return candidate, ""
    return iso, ""


def generate(n_people: int, *, seed: int = 0, rates: Rates | None = None) -> Population:
    """``n_people`` people, the agencies' records of those met, and the truth."""
    rates = rates or Rates()
    rng = np.random.default_rng(seed)
    people = _draw_people(n_people, rng)
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in AGENCIES}
    truth: dict[tuple[str, str], int] = {}
    start = date(2019, 1, 1)
    for pid, person in enumerate(people):
        met_police = False
        first_seen = start + timedelta(days=int(rng.integers(0, 5 * 365 - 200)))
        for agency, (agency_type, base) in AGENCIES.items():
            p = min(0.95, base * float(person["visibility"]))  # type: ignore[arg-type]
            if agency == "migrant-ngo" and met_police:
                p = min(0.95, p * 1.6)  # referrals between police and NGOs
            if rng.random() >= p:
                continue
            met_police = met_police or agency == "border-police"
            times = 2 if rng.random() < rates.reidentified else 1
            for _ in range(times):
                seen = first_seen + timedelta(days=int(rng.integers(0, 200)))
                ref = f"{agency[:3].upper()}-{len(rows[agency]) + 1:05d}"
                rows[agency].append(_record(person, agency, agency_type, ref, seen, rates, rng))
                truth[(agency, ref)] = pid
    return Population(rows=rows, truth=truth, people=len(people))


def _record(person: dict[str, object], agency: str, agency_type: str, ref: str, seen: date,
            rates: Rates, rng: np.random.Generator) -> dict[str, str]:
    family_first = ORIGINS[str(person["origin"])][4]
    given = _spell(person["given"], rates, rng)  # type: ignore[arg-type]
    family = _spell(person["family"], rates, rng)  # type: ignore[arg-type]
    swap = rates.swapped_chinese if family_first else rates.swapped
    if rng.random() < swap:
        given, family = family, given
    dob, age = _dob_cell(person["dob"], seen, rates, rng)  # type: ignore[arg-type]
    address = person["address"] if rng.random() < rates.address else None
    return {
        "source_record_id": ref,
        "agency": agency,
        "agency_type": agency_type,
        "identification_date": seen.isoformat(),
        "sex": "" if rng.random() < rates.sex_missing else str(person["sex"]),
        "age_at_identification": age,
        "citizenships": str(person["citizenship"]),
        "country_of_detection": "DEU",
        "exploitation_forms": str(person["form"]),
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob,
        "address": str(address) if address else "",
    }


COLUMNS = ("source_record_id", "agency", "agency_type", "identification_date", "sex",
           "age_at_identification", "citizenships", "country_of_detection", "exploitation_forms",
           "given_name", "family_name", "date_of_birth", "address")
