"""Standardise identities before linkage: names in any script, partial dates of birth, ages.

Every agency must apply exactly this cleaning before comparing or encoding, because Bloom
filters amplify any inconsistency (LINKAGE-AND-PRIVACY.md section 7). The functions here are
pure and deterministic; ``prepare_frame`` applies them column-wise to a pandas frame, normalising
each distinct value once (names repeat a lot, which keeps a million rows fast).

Transliteration uses ``anyascii`` (a maintained, table-driven any-script-to-ASCII library) so
Cyrillic, Greek, Arabic, Ethiopic, Thai, Vietnamese and Latin-with-diacritics all land in one
comparable alphabet ("Иван" -> "ivan", "Nguyễn" -> "nguyen", "Łukasz" -> "lukasz").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pandas as pd
from anyascii import anyascii

# Honorifics and titles carry no identity; they vary by who keyed the record.
_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "mme", "mlle", "sr", "sra", "srta", "herr", "frau"}
)
_NON_LETTERS = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")


def normalise_name(text: str | None) -> str | None:
    """Lower-case ASCII letters and single spaces; ``None`` when nothing is left.

    Why each step: ``anyascii`` maps every script to Latin; NFKD then strips any diacritic it
    left; apostrophes vanish ("O'Neil" = "ONeil") while hyphens and dots split tokens
    ("Anna-Maria" = "Anna Maria"); titles are dropped.
    """
    if text is None or (isinstance(text, float) and text != text):
        return None
    ascii_text = anyascii(unicodedata.normalize("NFKC", str(text)))
    ascii_text = unicodedata.normalize("NFKD", ascii_text).lower().replace("'", "").replace("`", "")
    cleaned = _SPACES.sub(" ", _NON_LETTERS.sub(" ", ascii_text)).strip()
    tokens = [t for t in cleaned.split(" ") if t and t not in _TITLES]
    return " ".join(tokens) or None


def name_tokens(*names: str | None) -> list[str]:
    """Sorted distinct tokens of several (already normalised) names and aliases.

    Sorting makes the token set independent of name order ("Petrov Ivan" = "Ivan Petrov"),
    which is how name-order conventions and aliases are compared.
    """
    tokens: set[str] = set()
    for name in names:
        if name:
            tokens.update(name.split(" "))
    return sorted(tokens)


_ISO_PARTIAL = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def normalise_dob(text: str | None) -> str | None:
    """A partial ISO date "YYYY", "YYYY-MM" or "YYYY-MM-DD"; ``None`` when unusable.

    Accepts ISO partial dates (what ``Identity.date_of_birth`` holds) and compact ``YYYYMMDD``
    (FEBRL and many registers). Impossible parts are dropped rather than guessed: 1990-02-31
    keeps "1990-02", since a wrong day would look like a disagreement.
    """
    if text is None or (isinstance(text, float) and text != text):
        return None
    value = str(text)
    match = _ISO_PARTIAL.match(value) or _COMPACT.match(value)
    if not match:
        return None
    year, month, day = (int(p) if p else None for p in match.groups())
    assert year is not None
    if not 1880 <= year <= 2100:
        return None
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day is not None:
        try:
            date(year, month, day)
        except ValueError:
            day = None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")


def normalise_address(text: str | None) -> str | None:
    """An address as lower-case ASCII letters, digits and single spaces (any script, as names);
    punctuation splits tokens ("12/3 O'Connell St." -> "12 3 oconnell st")."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    ascii_text = anyascii(unicodedata.normalize("NFKC", str(text)))
    ascii_text = unicodedata.normalize("NFKD", ascii_text).lower().replace("'", "").replace("`", "")
    cleaned = _SPACES.sub(" ", _NON_ALNUM.sub(" ", ascii_text)).strip()
    return cleaned or None


# Hand-written (no maintained library keys romanisations rather than English spelling; Metaphone
# and Soundex are for English): the sounds romanisation systems write differently are merged,
# vowels dropped, doubled letters collapsed. "Hussain"/"Hussein"/"Husayn" -> "sn",
# "Mohamed"/"Muhammad" -> "md", "Kravchuk"/"Krawtschuk" -> "krvck", "Xenia"/"Kseniya" -> "ksn".
_SOUNDS = (("tsch", "c"), ("sch", "s"), ("tch", "c"), ("dzh", "j"), ("kh", "k"), ("gh", "g"),
           ("sh", "s"), ("ch", "c"), ("zh", "c"), ("ts", "c"), ("tz", "c"), ("ph", "f"),
           ("th", "t"), ("dj", "j"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("w", "v"),
           ("z", "s"), ("c", "k"), ("h", ""))
_VOWELS = re.compile(r"[aeiouy]+")
_DOUBLES = re.compile(r"(.)\1+")


def skeleton(token: str) -> str:
    """The romanisation-free key of one name token (``_SOUNDS``); its first letter when only
    vowels are left ("ia")."""
    key = token
    for old, new in _SOUNDS:
        key = key.replace(old, new.upper())
    key = key.lower()
    # a leading vowel is kept as "a" (any vowel: "Olena"/"Elena"/"Yelena" -> "aln"), so that
    # "Oksana" ("aksn") and "Kseniya" ("ksn"), different names, do not share a key
    lead = "a" if _VOWELS.match(key) else ""
    key = lead + _DOUBLES.sub(r"\1", _VOWELS.sub("", key))
    return key or token[:1]


def skeleton_key(name: str | None) -> str | None:
    """``skeleton`` of each token of a normalised name, in the name's order."""
    if not name:
        return None
    return " ".join(skeleton(t) for t in name.split(" "))


# Coarser still, for blocking and for the loosest name level (its weight is learnt): the
# sibilants and affricates romanisations swap between ("Zhukov"/"Joukov"/"Shukow",
# "Yakovlev"/"Jakowlew", "Xu"/"Hsu"/"Tsui": "ks" too) become one letter; v and w, which are
# vowels in many romanisations ("Chow"/"Zhou", "Wedraogo"/"Ouedraogo"), are dropped, and so is
# the skeleton's leading-vowel mark; the voiced and voiceless stops that Wade-Giles writes alike
# ("Guo"/"Kuo", "De"/"Te", "Bai"/"Pai") merge.
_COARSE = str.maketrans({"j": "s", "c": "s", "z": "s", "x": "s", "y": None, "v": None, "w": None,
                         "g": "k", "d": "t", "b": "p"})


def coarse_key(token: str) -> str:
    """``skeleton`` with the classes of ``_COARSE`` merged (a function of the skeleton, so names
    with one skeleton share one coarse key)."""
    key = skeleton(token).replace("ks", "s")
    if len(key) > 1 and key[0] == "a":  # the leading-vowel mark (``skeleton`` drops vowels)
        key = key[1:]
    key = _DOUBLES.sub(r"\1", key.translate(_COARSE))
    return key or token[:1]


def coarse_name_key(name: str | None) -> str | None:
    """``coarse_key`` of each token of a normalised name, joined (tokens in the name's order)."""
    if not name:
        return None
    return "".join(coarse_key(t) for t in name.split(" "))


#: the most records that one name's key with the other's first letter, or with a birth year, may
#: gather into one block (``capped_block_key``)
NAME_BLOCK_CAP = 100


def capped_block_key(key: pd.Series, other: pd.Series, cap: int = NAME_BLOCK_CAP) -> pd.Series:
    """``key|other`` where at most ``cap`` records share it, else null.

    A name's key with only the other name's first letter ("Mohammed" + "A") gathers blocks the
    size of the commonest given names: 990 M candidate pairs on a million records (a given
    name's skeleton with a birth year: 196 M). The cap bounds such a rule to ``cap / 2`` pairs
    per record; a pair in a larger block must meet another rule (a date of birth, both names).
    Hand-written: Splink's blocking rules have no block-size limit
    (moj-analytical-services/splink#2222, open)."""
    both = key.notna() & other.notna()
    joined = (key.astype(object).where(both, "").astype(str) + "|"
              + other.astype(object).where(both, "").astype(str))
    size = joined.map(joined[both].value_counts())
    return joined.astype(object).where(both & (size <= cap), None)


def anagram_key(name: str | None) -> str | None:
    """The letters of each token sorted, tokens sorted: "satnos jennifer" -> "eefijnnr anoss".

    A blocking key only: two spellings that differ by transposed letters ("Santos"/"Satnos",
    the commonest keying error after a single wrong letter) or by name order share it, so they
    are compared even when neither name is spelt the same in both records and no date of birth
    is known. It is never a comparison (anagrams of different names are scored by the model).
    """
    if not name:
        return None
    return " ".join(sorted("".join(sorted(token)) for token in name.split(" ")))


def approximate_birth_year(
    dob: str | None, age: float | None, reference_year: float | None
) -> int | None:
    """Birth year from the date of birth, else from an approximate age ("about 17") at a year."""
    if dob:
        return int(dob[:4])
    if age is None or reference_year is None or age != age or reference_year != reference_year:
        return None
    return int(reference_year) - int(age)


#: Columns a caller provides (any may be missing or null except ``unique_id``).
INPUT_COLUMNS = (
    "unique_id",
    "list",
    "given_name",
    "family_name",
    "aliases",
    "date_of_birth",
    "age",
    "reference_year",
    "sex",
    "citizenship",
    "identification_date",
    "exploitation_forms",
    "address",
)


def _map_unique(series: pd.Series, func) -> pd.Series:
    uniques = series.dropna().unique()
    table = {value: func(value) for value in uniques}
    return series.map(table).astype(object).where(series.notna(), None)


def _aliases(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    items = value.split("|") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return [n for n in (normalise_name(i) for i in items) if n]


def _forms_key(value: object) -> str | None:
    """Forms of exploitation as one order-free key ("forced_labour;sexual_exploitation")."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    items = value.split(";") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    forms = sorted({str(i).strip() for i in items if str(i).strip() not in ("", "unknown")})
    return ";".join(forms) or None


def prepare_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The linkage frame: normalised names, token sets, partial DOB parts, birth year, codes.

    Output columns: ``unique_id``, ``source_dataset`` (the list), ``given_name``, ``family_name``,
    ``full_name`` (given + family), ``name_key`` (sorted tokens, order-free), ``name_tokens``
    (array, aliases included), ``given_prefix``/``family_prefix``, ``given_initial``/
    ``family_initial`` and ``given_anagram``/``family_anagram``/``name_anagram`` (blocking
    helpers: first letters, and letters sorted within tokens, see ``anagram_key``), the
    skeleton and coarse keys, ``given_coarse_family_initial`` and its five kin (a name's key
    with the other's initial or the birth year, ``capped_block_key``), ``dob``
    (partial ISO), ``dob_year``/``dob_month``/``dob_day``, ``birth_year`` (from DOB or age),
    ``sex``, ``citizenship``; when the input has them, ``identified_day`` (identification date
    as a day number), ``forms`` (forms of exploitation, sorted, ";"-joined) and ``address``
    (``normalise_address``) with ``address_tokens`` (its distinct tokens); plus any other
    input column unchanged (extra comparisons).
    """
    if "unique_id" not in frame.columns:
        raise ValueError("the linkage frame needs a unique_id column")
    n = len(frame)

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series([None] * n, index=frame.index)

    out = pd.DataFrame(index=frame.index)
    out["unique_id"] = frame["unique_id"].astype(str)
    out["source_dataset"] = col("list").astype(object).where(col("list").notna(), "all").astype(str)
    given = _map_unique(col("given_name"), normalise_name)
    family = _map_unique(col("family_name"), normalise_name)
    out["given_name"] = given
    out["family_name"] = family
    full = (given.fillna("") + " " + family.fillna("")).str.strip()
    out["full_name"] = full.where(full != "", None)
    aliases = col("aliases").map(_aliases)
    tokens = [
        name_tokens(g, f, *a)
        for g, f, a in zip(given.tolist(), family.tolist(), aliases.tolist(), strict=True)
    ]
    out["name_tokens"] = [t if t else None for t in tokens]
    core = [name_tokens(g, f) for g, f in zip(given.tolist(), family.tolist(), strict=True)]
    out["name_key"] = [" ".join(t) if t else None for t in core]
    out["given_prefix"] = given.str[:2]
    out["family_prefix"] = family.str[:2]
    out["given_initial"] = given.str[:1]
    out["family_initial"] = family.str[:1]
    out["given_anagram"] = _map_unique(given, anagram_key)
    out["family_anagram"] = _map_unique(family, anagram_key)
    out["name_anagram"] = _map_unique(out["full_name"], anagram_key)
    # romanisation-free keys (``skeleton``): compared, and blocked on in any name order
    out["given_skeleton"] = _map_unique(given, skeleton_key)
    out["family_skeleton"] = _map_unique(family, skeleton_key)
    skel = (out["given_skeleton"].fillna("") + " " + out["family_skeleton"].fillna("")).str.strip()
    out["name_skeleton"] = [" ".join(sorted(k.split(" "))) if k else None for k in skel]
    out["name_skeletons"] = [
        sorted({skeleton(t) for t in toks}) if toks else None for toks in out["name_tokens"]
    ]
    # blocking only (``coarse_key``): each name's coarse key, and both in either order
    out["given_coarse"] = _map_unique(given, coarse_name_key)
    out["family_coarse"] = _map_unique(family, coarse_name_key)
    out["name_coarse"] = [
        " ".join(sorted(k for k in (g, f) if k)) or None
        for g, f in zip(out["given_coarse"].tolist(), out["family_coarse"].tolist(), strict=True)
    ]
    dob = _map_unique(col("date_of_birth").astype(object), normalise_dob)
    out["dob"] = dob
    out["dob_year"] = pd.to_numeric(dob.str[:4], errors="coerce").astype("Int64")
    out["dob_month"] = pd.to_numeric(dob.str[5:7], errors="coerce").astype("Int64")
    out["dob_day"] = pd.to_numeric(dob.str[8:10], errors="coerce").astype("Int64")
    age = pd.to_numeric(col("age"), errors="coerce")
    ref = pd.to_numeric(col("reference_year"), errors="coerce")
    out["birth_year"] = out["dob_year"].astype("Float64").fillna(ref - age).round().astype("Int64")
    # one name's key and the other's first letter, or a birth year, in blocks of at most
    # ``NAME_BLOCK_CAP`` records
    for key, other in (("given_coarse", "family_initial"), ("family_coarse", "given_initial"),
                       ("given_skeleton", "family_initial"), ("family_skeleton", "given_initial"),
                       ("given_skeleton", "birth_year"), ("family_skeleton", "birth_year")):
        out[f"{key}_{other}"] = capped_block_key(out[key], out[other])
    out["sex"] = col("sex").astype(object).where(~col("sex").isin(["unknown", "", None]), None)
    out["citizenship"] = (
        col("citizenship")
        .astype(object)
        .where(~col("citizenship").isin(["unknown", "", None]), None)
    )
    # case facts, not identity: when and for what an agency identified the person (only when
    # given: a column of nulls has no type for engines that infer one, such as Spark)
    if "identification_date" in frame.columns:
        identified = pd.to_datetime(frame["identification_date"], errors="coerce")
        epoch = pd.Timestamp("1970-01-01")
        out["identified_day"] = ((identified - epoch).dt.days).astype("Int64")
    if "exploitation_forms" in frame.columns:
        out["forms"] = frame["exploitation_forms"].map(_forms_key).astype(object)
    # where the person was met or lives: one line, compared as a string and as a set of tokens
    # (street number, street, town, postcode in any order and with parts left out)
    if "address" in frame.columns:
        address = _map_unique(frame["address"].astype(object), normalise_address)
        out["address"] = address
        out["address_tokens"] = [sorted(set(a.split(" "))) if a else None for a in address]
        # its first number (house number, or postcode when no number): a blocking key only
        out["address_number"] = address.str.extract(r"(\d+)", expand=False).astype(object)
        out["address_number"] = out["address_number"].where(out["address_number"].notna(), None)
    for extra in frame.columns:
        if extra not in INPUT_COLUMNS and extra not in out.columns:
            out[extra] = frame[extra]
    return out.reset_index(drop=True)
