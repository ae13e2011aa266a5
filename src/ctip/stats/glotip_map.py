"""Map GLOTIP's free-text citizenship categories to ISO3 or a special code, with a reviewed table.

UNODC's export carries the citizenship ``Category`` as each country typed it: names in several
languages, demonyms ("Nigerians", "Ghanean"), typos, lost accents (U+FFFD), "Abroad",
"Nationals", and questionnaire cell ids. The mapping is built semi-automatically and shipped as
data (data/glotip_citizenship_map.csv), so a reviewer can read and correct it:

1. ``domain.countries.normalise_country`` (ISO codes, English names, aliases)   -> method 'iso'
2. the hand table below: demonyms, Spanish/French/Italian/other names, typos,
   special codes                                                                  -> method 'hand'
3. anything else                                                                 -> unmapped
   (reported by ``unmapped_report``; never guessed)

Special codes (not countries): NATIONALS (the reporting country's own nationals), ABROAD (own
nationals detected abroad, country not given), UNKNOWN, STATELESS, FOREIGN (foreigners, country
not given), OTHER (other or several countries), FORMER (a state that no longer exists),
REGION:<UN M49 region or subregion>, and INVALID (not a citizenship at all: totals, cell ids,
numbers; those rows are rejected by the parser with this reason).

Rebuild after editing the hand table: ``python -m ctip.stats.glotip_map data_glotip.csv``.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from ctip.domain.countries import normalise_country

SPECIAL = ("NATIONALS", "ABROAD", "UNKNOWN", "STATELESS", "FOREIGN", "OTHER", "FORMER", "INVALID")
MAP_COLUMNS = ["category", "code", "method", "note"]


def key(text: str) -> str:
    """Comparison key: accents and U+FFFD dropped, case folded, punctuation to spaces."""
    text = unicodedata.normalize("NFKD", text.replace("\ufffd", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-z]+", " ", text.casefold())
    return " ".join(text.split())


# key -> ISO3, a country name normalise_country knows, or a special code. Reviewed by hand.
HAND: dict[str, str] = {
    # special codes
    "abroad": "ABROAD", "nationals": "NATIONALS", "ciudadanos de su pas": "NATIONALS",
    "own country": "NATIONALS", "nationality": "OTHER", "": "UNKNOWN", "unknown": "UNKNOWN",
    "n a": "UNKNOWN", "sin determinar": "UNKNOWN", "no determinada": "UNKNOWN",
    "no determinadas": "UNKNOWN", "no determinado": "UNKNOWN", "desconocida": "UNKNOWN",
    "desconocido": "UNKNOWN", "no registra": "UNKNOWN", "no information": "UNKNOWN",
    "nationality not stated": "UNKNOWN", "disputed": "UNKNOWN", "stateless": "STATELESS",
    "without": "STATELESS", "rohingya": "STATELESS", "foreigners": "FOREIGN",
    "personnes de nationalit trangre": "FOREIGN", "otros": "OTHER",
    "specify the country": "OTHER", "especifique otras nacionalidades": "OTHER",
    "especifique el pas": "OTHER", "3 nigriens et 1 tunisien": "OTHER",
    "other countries dominica panama french guiana brazil etc": "OTHER",
    "africa and middle east": "OTHER", "former yugoslavia": "FORMER",
    "former czechoslovakia": "FORMER", "the former netherlands antilles": "FORMER",
    "africa": "REGION:Africa", "africa others": "REGION:Africa", "asia": "REGION:Asia",
    "other asia": "REGION:Asia", "americas": "REGION:Americas", "amercias": "REGION:Americas",
    "european economic area": "REGION:Europe", "eu 28 others": "REGION:Europe",
    "europe others": "REGION:Europe", "other europe": "REGION:Europe",
    "other central america and car": "REGION:Latin America and the Caribbean",
    "other central america and caribbean": "REGION:Latin America and the Caribbean",
    "caribbean trinidad and tobago barbados etc": "REGION:Latin America and the Caribbean",
    "total": "INVALID", "total por ano": "INVALID", "total por ao": "INVALID",
    # English demonyms and typos
    "romanian": "ROU", "nigerians": "NGA", "nigerian": "NGA", "chinese": "CHN", "chines": "CHN",
    "chiness": "CHN", "bulgarian": "BGR", "indian": "IND", "pakistani": "PAK", "moroccan": "MAR",
    "vietnamese": "VNM", "ukraineans": "UKR", "ukrainian": "UKR", "ukranian": "UKR",
    "the ukraine": "UKR", "russian": "RUS", "thai": "THA", "afghani": "AFG", "filippino": "PHL",
    "filipino": "PHL", "philippine": "PHL", "phillipines": "PHL", "venezuelan": "VEN",
    "venezuelans": "VEN", "brazilian": "BRA", "cameroonian": "CMR", "turkish": "TUR",
    "moldavian": "MDA", "moldovan": "MDA", "moldovian": "MDA", "colombian": "COL",
    "columbia": "COL", "ghanean": "GHA", "ghanaian": "GHA",
    "the former yugoslav republic of macedonia": "MKD", "macedonian": "MKD",
    "hungarians": "HUN", "hungarian": "HUN", "albanians": "ALB", "albanian": "ALB",
    "abania": "ALB", "algerians": "DZA", "congolese drc": "COD", "dr kongo": "COD",
    "democratic kongo": "COD", "rdc": "COD", "guinean": "GIN", "guinea conakry": "GIN",
    "poles": "POL", "polish": "POL", "indonesian": "IDN", "iranian": "IRN", "spanish": "ESP",
    "germans": "DEU", "german": "DEU", "serbians": "SRB", "serbian": "SRB", "slovaks": "SVK",
    "slovak": "SVK", "egyptian": "EGY", "egybt": "EGY", "gambian": "GMB", "nepalese": "NPL",
    "tanzanian": "TZA", "tanzanians": "TZA", "tanzanianans": "TZA", "tazanians": "TZA",
    "dominican rep": "DOM", "dominican rebublic": "DOM", "italian": "ITA", "ugandean": "UGA",
    "ugandan": "UGA", "eritrean": "ERI", "erithera": "ERI", "eritreja": "ERI",
    "senegalese": "SEN", "uzbecki": "UZB", "ethiopian": "ETH", "ethopia": "ETH",
    "malaysian": "MYS", "peruvian": "PER", "portuguese": "PRT", "greek": "GRC",
    "cambodian": "KHM", "kenyan": "KEN", "kosovar": "XKX", "malian": "MLI", "dutch": "NLD",
    "latvian": "LVA", "sierra leonean": "SLE", "french": "FRA", "bosnian": "BIH",
    "bosnia": "BIH", "b h": "BIH", "bosnia and herzegowina": "BIH",
    "bosnia i herzegovinia": "BIH", "czech rep": "CZE", "czech": "CZE",
    "czeck republic": "CZE", "somali": "SOM", "nigerin": "NER", "niger rep": "NER",
    "georgian": "GEO", "angolan": "AGO", "angolans": "AGO", "sudanese": "SDN",
    "beninoise": "BEN", "benin rep": "BEN", "kazaki": "KAZ", "kazakhistan": "KAZ",
    "kazalhstan": "KAZ", "kazahstan": "KAZ", "lithuanian": "LTU", "togolese": "TGO",
    "sri lankan": "LKA", "cuban": "CUB", "cubans": "CUB", "burkinabe": "BFA",
    "hondureans": "HND", "honduranian": "HND", "hodruanian": "HND", "tajiki": "TJK",
    "south african": "ZAF", "zimbabwean": "ZWE", "laotian": "LAO", "mongolian": "MNG",
    "ecuadorean": "ECU", "argentinian": "ARG", "paraguayian": "PRY", "estonians": "EST",
    "lebanese": "LBN", "libanon": "LBN", "austrians": "AUT", "mexican": "MEX",
    "australians": "AUS", "australian": "AUS", "burundean": "BDI", "burundians": "BDI",
    "croatian": "HRV", "japanese": "JPN", "nicaraguarean": "NIC",
    "china taiwan province of china": "TWN", "taiwanese": "TWN", "burmese": "MMR",
    "myanmar nation": "MMR", "domestic myanmar": "MMR", "fijian": "FJI", "yemeni": "YEM",
    "kyrgysi": "KGZ", "slovenian": "SVN", "lybians": "LBY", "libyan": "LBY", "lybia": "LBY",
    "swedesh": "SWE", "sweeden": "SWE", "chadian": "TCD", "zambian": "ZMB",
    "rwandean": "RWA", "finns": "FIN", "south korean": "KOR", "north korean": "PRK",
    "saudi": "SAU", "bangladeshi": "BGD", "danish": "DNK", "uruguayan": "URY",
    "salvadorean": "SLV", "jamaican": "JAM", "jamaicans": "JAM", "haitian": "HTI",
    "haitians": "HTI", "mauritanian": "MRT", "jordanian": "JOR", "armenians": "ARM",
    "liberian": "LBR", "botzwana": "BWA", "canadians": "CAN", "cape ver": "CPV",
    "rohingya people": "STATELESS", "syrian": "SYR", "british": "GBR", "azerbaijani": "AZE",
    "guatemalean": "GTM", "guayanean": "GUY", "bhutanese": "BTN", "bhuatnese": "BTN",
    "norvegian": "NOR", "palestinian authority": "PSE", "singaporean": "SGP",
    "maltese": "MLT", "chilean": "CHL", "new zealander": "NZL", "comorian islands": "COM",
    "israelian": "ISR", "st vincent": "VCT", "turkmeni": "TKM", "rmi": "MHL",
    "netherlands own country": "NLD", "belizean": "BLZ", "belizeean": "BLZ",
    "emirati uae": "ARE", "dubai": "ARE", "qatari": "QAT", "car": "CAF",
    "centrel african republic": "CAF", "omani": "OMN", "american": "USA", "sao tome": "STP",
    "cypriot": "CYP", "byelorussian": "BLR", "swasiland": "SWZ", "djiboutean": "DJI",
    "solomon islanders": "SLB", "solomon isands": "SLB", "surinam": "SUR",
    "kurdistan iraq": "IRQ", "mumbai india": "IND", "china hong kong sar": "HKG",
    "ukrainian national repatriated from slovakia to ukraine": "UKR",
    "3 maliens": "MLI", "2 maliens": "MLI", "bolivians": "BOL", "tunisa": "TUN",
    # Spanish
    "venezolana": "VEN", "venezolano": "VEN", "brasil": "BRA", "brasilero": "BRA",
    "brasilera": "BRA", "barsil": "BRA", "boliviana": "BOL", "nicaraguense": "NIC",
    "estados unidos": "USA", "argentino": "ARG", "belga": "BEL", "chino": "CHN",
    "colombiano": "COL", "colombiana": "COL", "cubano": "CUB", "cubana": "CUB",
    "haitiano": "HTI", "haitiana": "HTI", "hait": "HTI", "keniano": "KEN",
    "paraguayo": "PRY", "paraguaya": "PRY", "peruano": "PER", "peruana": "PER", "pero": "PER",
    "republica dominicana": "DOM", "repblica dominicana": "DOM", "r dominicana": "DOM",
    "rep dominicana": "DOM", "dominicana": "DOM", "mexicana": "MEX", "mxico": "MEX",
    "italia": "ITA", "alemania": "DEU", "guineana": "GIN", "nigeriana": "NGA",
    "corea del sur": "KOR", "rumania": "ROU", "ecuatoriana": "ECU", "rusia": "RUS",
    "espaa": "ESP", "espana": "ESP", "suiza": "CHE", "tailandia": "THA", "panam": "PAN",
    "bielorrusia": "BLR", "marruecos": "MAR", "marroquie": "MAR", "polonia": "POL",
    "guatemalteca": "GTM", "timor este": "TLS", "camboya": "KHM", "salvadoreas": "SLV",
    "salvadoreos": "SLV", "salvadorena": "SLV", "salvadorea": "SLV", "gana": "GHA",
    "sudafrica": "ZAF", "siria": "SYR", "hungaria": "HUN", "hungria": "HUN",
    "tailandesa": "THA", "vietnamita": "VNM", "filipinas": "PHL", "francia": "FRA",
    "holanda": "NLD", "noruega": "NOR", "singapur": "SGP", "turqua": "TUR",
    "republica checa": "CZE", "ucrania": "UKR", "moldavia": "MDA", "camerun": "CMR",
    "belicena": "BLZ", "belicea": "BLZ", "belice": "BLZ", "hondurena": "HND",
    "hondurea": "HND", "etiopia": "ETH", "afganistan": "AFG", "spania": "ESP",
    # French, Italian, Dutch, Turkish
    "guinee": "GIN", "guinee conakry": "GIN", "cameroun": "CMR", "roumain": "ROU",
    "roumanie": "ROU", "thailande": "THA", "cte divoire": "CIV",
    "cte d ivoire": "CIV", "c te d ivoire": "CIV",
    "albanie": "ALB", "colombie": "COL", "francais": "FRA", "italien": "ITA",
    "luxembourgeois": "LUX", "portugais": "PRT", "ukrainien": "UKR", "bresil": "BRA",
    "bresilien": "BRA", "hongrie": "HUN", "inde": "IND", "republique de moldavie": "MDA",
    "republique tcheque": "CZE", "tunisie": "TUN", "indien": "IND", "cina popolare": "CHN",
    "costa d avorio": "CIV", "marocco": "MAR", "chine": "CHN", "bosnia erzegovina": "BIH",
    "croazia": "HRV", "egitto": "EGY", "filippine": "PHL", "nederland": "NLD", "trkiye": "TUR",
}

INVALID_PATTERNS = (re.compile(r"^q\d"), re.compile(r"^\d+$"))


def classify(category: str) -> tuple[str | None, str, str]:
    """(code, method, note) for one category; code None when unmapped."""
    k = key(category)
    if any(p.match(k.replace(" ", "")) for p in INVALID_PATTERNS) or k.startswith("q6 "):
        return "INVALID", "hand", "questionnaire cell id or a number, not a citizenship"
    iso = normalise_country(category.strip()) if category.strip() else None
    if iso:
        return iso, "iso", ""
    hand = HAND.get(k)
    if hand is not None:
        if hand in SPECIAL or hand.startswith("REGION:") or len(hand) == 3 and hand.isupper():
            return hand, "hand", ""
        resolved = normalise_country(hand)
        return (resolved, "hand", "") if resolved else (None, "unmapped", f"hand entry {hand!r}")
    return None, "unmapped", ""


def build_mapping(categories: Iterable[str]) -> pd.DataFrame:
    rows = []
    for category in sorted(set(categories)):
        code, method, note = classify(category)
        rows.append({"category": category, "code": code or "", "method": method, "note": note})
    return pd.DataFrame(rows, columns=MAP_COLUMNS)


@cache
def shipped_mapping() -> pd.DataFrame:
    """The reviewed mapping shipped with ctip (category -> code; '' where unmapped)."""
    path = resources.files("ctip.stats").joinpath("data/glotip_citizenship_map.csv")
    with path.open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


def unmapped_report(rows: pd.DataFrame, mapping: pd.DataFrame | None = None) -> pd.DataFrame:
    """Categories left without a code: rows and the known count they carry, largest first."""
    mapping = shipped_mapping() if mapping is None else mapping
    codes = dict(zip(mapping["category"], mapping["code"], strict=True))
    missing = rows[rows["category"].map(lambda c: not codes.get(c))]
    if missing.empty:
        return pd.DataFrame(columns=["category", "rows", "known_count"])
    out = missing.groupby("category").agg(rows=("category", "size"),
                                          known_count=("value", "sum")).reset_index()
    return out.sort_values(["rows", "category"], ascending=[False, True]).reset_index(drop=True)


def write_mapping(source: Path, target: Path) -> pd.DataFrame:
    with source.open(encoding="utf-8", newline="") as f:
        cats = [r["Category"] for r in csv.DictReader(f)
                if r["Dimension"] in ("by citizenship", "by country of repatriation")]
    mapping = build_mapping(cats)
    mapping.to_csv(target, index=False, encoding="utf-8")
    return mapping


if __name__ == "__main__":  # pragma: no cover - maintenance script
    out = Path(__file__).with_name("data") / "glotip_citizenship_map.csv"
    m = write_mapping(Path(sys.argv[1]), out)
    print(m["method"].value_counts().to_string())
    print(m[m["method"] == "unmapped"].to_string())
