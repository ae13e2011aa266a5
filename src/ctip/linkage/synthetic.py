"""Synthetic people and agency records with realistic corruption, for tests and benchmarks.

No real person is in here: names are drawn from short public first-name lists and syllable-
built family names. Each person is recorded 1-4 times (by one or more agencies) with the errors
seen in trafficking data: typing errors, Cyrillic spellings, swapped name order, aliases,
missing, partial or day/month-swapped dates of birth, and an approximate age instead of a date.
The true person id is returned so linkage quality can be measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GIVEN = (
    "anna",
    "maria",
    "olena",
    "irina",
    "natalia",
    "svetlana",
    "tatiana",
    "elena",
    "olga",
    "yulia",
    "ivan",
    "sergei",
    "dmitri",
    "andrei",
    "oleksandr",
    "mikhail",
    "pavel",
    "viktor",
    "amina",
    "fatima",
    "aisha",
    "mariam",
    "ngozi",
    "chioma",
    "blessing",
    "joy",
    "grace",
    "mark",
    "john",
    "paul",
    "omar",
    "ahmed",
    "ali",
    "hassan",
    "yusuf",
    "juan",
    "jose",
    "luis",
    "carlos",
    "ana",
    "rosa",
    "lucia",
    "mai",
    "linh",
    "thanh",
    "hoa",
    "minh",
    "nguyen",
    "priya",
    "anita",
    "ravi",
    "suresh",
    "kumar",
    "sunita",
    "rekha",
    "lakshmi",
    "maya",
)
_SYLLABLES = (
    "ko",
    "va",
    "len",
    "ro",
    "mi",
    "shen",
    "ta",
    "ne",
    "bo",
    "dar",
    "ser",
    "ka",
    "lo",
    "vich",
    "enko",
    "ova",
    "ez",
    "ri",
    "gu",
    "an",
    "to",
    "sa",
    "man",
    "de",
    "ok",
    "wu",
    "chi",
    "ba",
    "ye",
    "so",
    "li",
    "pe",
    "tr",
    "os",
    "ia",
    "mu",
    "ha",
)
_CYRILLIC = str.maketrans(
    {
        "a": "а",
        "b": "б",
        "v": "в",
        "g": "г",
        "d": "д",
        "e": "е",
        "z": "з",
        "i": "и",
        "k": "к",
        "l": "л",
        "m": "м",
        "n": "н",
        "o": "о",
        "p": "п",
        "r": "р",
        "s": "с",
        "t": "т",
        "u": "у",
        "f": "ф",
        "h": "х",
        "y": "ы",
    }
)
AGENCIES = ("police", "ngo", "labour", "shelter")


def family_names(count: int, rng: np.random.Generator) -> list[str]:
    # 2-4 syllables: about 1.9 million possible names, so large populations terminate quickly
    names: set[str] = set()
    while len(names) < count:
        lengths = rng.integers(2, 5, size=count)
        picks = rng.choice(_SYLLABLES, size=(count, 4))
        names.update("".join(row[:k]) for row, k in zip(picks, lengths, strict=True))
    return sorted(names)[:count] if len(names) > count else sorted(names)


def _typo(name: str, rng: np.random.Generator) -> str:
    if len(name) < 3:
        return name
    k = int(rng.integers(1, len(name) - 1))
    kind = rng.integers(0, 3)
    if kind == 0:  # substitution
        return name[:k] + "aeiounrst"[int(rng.integers(0, 9))] + name[k + 1 :]
    if kind == 1:  # deletion
        return name[:k] + name[k + 1 :]
    return name[: k - 1] + name[k] + name[k - 1] + name[k + 1 :]  # transposition


def people(n_people: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    families = family_names(max(50, n_people // 4), rng)
    birth = pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 45 * 365, n_people), "D")
    return pd.DataFrame(
        {
            "person_id": np.arange(n_people),
            "given_name": rng.choice(GIVEN, n_people),
            "family_name": rng.choice(families, n_people),
            "dob": birth.strftime("%Y-%m-%d"),
            "sex": rng.choice(["female", "male"], n_people, p=[0.7, 0.3]),
            "citizenship": rng.choice(
                ["UKR", "NGA", "VNM", "PHL", "ROU", "IND", "MEX", "SYR"], n_people
            ),
        }
    )


def records(
    population: pd.DataFrame,
    *,
    mean_records: float = 1.6,
    error_rate: float = 0.3,
    seed: int = 1,
    agencies: tuple[str, ...] = AGENCIES,
) -> pd.DataFrame:
    """Agency records of ``population``: columns of ``normalise.INPUT_COLUMNS`` + ``person_id``."""
    rng = np.random.default_rng(seed)
    copies = np.minimum(1 + rng.poisson(mean_records - 1, len(population)), 4)
    idx = np.repeat(np.arange(len(population)), copies)
    base = population.iloc[idx].reset_index(drop=True)
    n = len(base)
    given = base["given_name"].to_numpy(dtype=object).copy()
    family = base["family_name"].to_numpy(dtype=object).copy()
    dob = base["dob"].to_numpy(dtype=object).copy()
    aliases = np.full(n, None, dtype=object)
    age = np.full(n, np.nan)
    ref = 2020 + rng.integers(0, 5, n)
    u = rng.random((n, 8))
    first = np.r_[True, idx[1:] != idx[:-1]]  # the first record of a person stays clean
    dirty = (~first) & (u[:, 0] < error_rate * 3)
    for i in np.flatnonzero(dirty & (u[:, 1] < 0.25)):
        given[i] = _typo(given[i], rng)
    for i in np.flatnonzero(dirty & (u[:, 2] < 0.25)):
        family[i] = _typo(family[i], rng)
    swap = dirty & (u[:, 3] < 0.10)
    given[swap], family[swap] = family[swap], given[swap].copy()
    cyr = dirty & (u[:, 4] < 0.10)
    given[cyr] = [g.translate(_CYRILLIC).capitalize() for g in given[cyr]]
    family[cyr] = [f.translate(_CYRILLIC).capitalize() for f in family[cyr]]
    alias = dirty & (u[:, 5] < 0.05)
    aliases[alias] = [f"{g} {f}" for g, f in zip(given[alias], family[alias], strict=True)]
    given[alias] = rng.choice(GIVEN, int(alias.sum()))
    r = u[:, 6]
    missing = dirty & (r < 0.10)
    year_only = dirty & (r >= 0.10) & (r < 0.18)
    day_month = dirty & (r >= 0.18) & (r < 0.24)
    approx = dirty & (r >= 0.24) & (r < 0.34)
    typo_dob = dirty & (r >= 0.34) & (r < 0.40)
    dob[year_only] = [d[:4] for d in dob[year_only]]
    dob[day_month] = [
        f"{d[:4]}-{d[8:10]}-{d[5:7]}" if int(d[8:10]) <= 12 else d for d in dob[day_month]
    ]
    age[approx] = [
        ref[i] - int(dob[i][:4]) + int(rng.integers(-1, 2)) for i in np.flatnonzero(approx)
    ]
    dob[approx] = None
    dob[missing] = None
    dob[typo_dob] = [d[:-1] + str(int(rng.integers(0, 10))) for d in dob[typo_dob]]
    return pd.DataFrame(
        {
            "unique_id": [f"r{i}" for i in range(n)],
            "list": rng.choice(list(agencies), n),
            "given_name": given,
            "family_name": family,
            "aliases": aliases,
            "date_of_birth": dob,
            "age": age,
            "reference_year": ref,
            "sex": base["sex"].to_numpy(),
            "citizenship": base["citizenship"].to_numpy(),
            "person_id": base["person_id"].to_numpy(),
        }
    )


def true_pairs_of(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """Every pair of records of the same person (sorted ids)."""
    ids = frame[["person_id", "unique_id"]].astype({"unique_id": str})
    both = ids.merge(ids, on="person_id")
    both = both[both["unique_id_x"] < both["unique_id_y"]]
    return set(zip(both["unique_id_x"], both["unique_id_y"], strict=True))
