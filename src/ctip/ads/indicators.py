"""Indicators R01-R14 (INVESTIGATIONS.md section 2.2): each firing names the span of text behind it.

R01-R12 are read from one ad (``text_hits``); R13 and R14 need the other ads and are worked out
by ``ctip.ads.cluster``. A hit's ``note`` explains it in plain words and never repeats an
identifier (a phone or handle is pointed at by its span, not quoted). An absence (R11: no company
name, site or profile) points at the title, where a reviewer starts reading.

Every indicator is a hypothesis to be measured on labelled ads (``ctip ads evaluate``): the
NIJ-funded JIRN study found "movement" language *less* common in trafficking ads, and several
other popular indicators not predictive at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctip.ads.extract import Extraction
from ctip.ads.lexicon import Found, money, places, roles


@dataclass(frozen=True)
class Indicator:
    code: str
    title: str
    source: str


INDICATORS: dict[str, Indicator] = {i.code: i for i in (
    Indicator("R01", "Pay far above the norm for the role",
              "DMW advisories; HK government red flags; OHCHR 2023"),
    Indicator("R02", "No experience needed, yet high pay", "DMW advisories; HK red flags"),
    Indicator("R03", "Vague lure role (customer service, typing, call centre, game tester...)",
              "Philippine DMW advisories on scam-hub recruitment"),
    Indicator("R04", "Overseas placement with flights, visa or housing paid",
              "DMW advisories; INTERPOL Orange Notice 2023"),
    Indicator("R05", "Destination or transit in a reported scam-centre area",
              "OHCHR 2023; INTERPOL; UNODC (gazetteer, needs curation)"),
    Indicator("R06", "No visa needed, or a tourist visa for work", "DMW advisories"),
    Indicator("R07", "Contact only through messaging apps or handles; no company e-mail",
              "DMW advisories; HK red flags"),
    Indicator("R08", "Chat-only interview, instant hiring, urgency", "DMW advisories"),
    Indicator("R09", "Upfront fees (processing, training, medical, visa, deposit)",
              "ILO General principles on fair recruitment (no fees to workers)"),
    Indicator("R10", "Early request for passport scan or bank details", "HK red flags"),
    Indicator("R11", "Employer cannot be verified (no name, site or profile)",
              "HK red flags; EMSCAD (Vidros et al. 2017)"),
    Indicator("R12", "Targeting by language, nationality, age or looks",
              "JIRN (ethnicity specified was predictive in escort ads); DMW advisories"),
    Indicator("R13", "Templated text reused by posts under different company names",
              "DIG / Memex practice (Kejriwal & Szekely)"),
    Indicator("R14", "Same phone or handle across many ads, companies or cities",
              "Ibanez & Suthers 2014; DIG; links to F20-06"),
)}
CODES = tuple(INDICATORS)


@dataclass(frozen=True)
class Hit:
    code: str
    start: int
    end: int
    note: str
    figures: dict[str, float | int | str] = field(default_factory=dict)


def _first(found: list[Found]) -> Found | None:
    return min(found, key=lambda f: f.start) if found else None


def _term_hit(code: str, found: list[Found], text: str, what: str) -> Hit | None:
    first = _first(found)
    if first is None:
        return None
    return Hit(code, first.start, first.end, f"{what}: \u201c{text[first.start:first.end]}\u201d",
               {"matches": len(found)})


def _role(ext: Extraction, spans: dict[str, tuple[int, int]]) -> Found | None:
    found = ext.of("role")
    if not found:
        return None
    title = spans.get("title")
    in_title = [f for f in found if title and title[0] <= f.start < title[1]]
    return _first(in_title) or _first(found)


def baseline(role_id: str | None, country: str | None) -> float:
    """Monthly US dollars above which pay is "far above the norm" for R01."""
    rule = money()["r01"]
    base = rule["baseline_monthly_usd"].get(role_id or "unknown",
                                            rule["baseline_monthly_usd"]["unknown"])
    factor = rule["country_factor"].get(country or "unknown", rule["country_factor"]["unknown"])
    return float(max(rule["minimum_monthly_usd"], rule["ratio"] * base * factor))


def text_hits(text: str, spans: dict[str, tuple[int, int]], ext: Extraction, *,
              company_profile: str = "", extra: dict[str, str] | None = None) -> list[Hit]:
    """R01-R12 for one ad (normalised ``text`` with its section ``spans``)."""
    extra = extra or {}
    hits: list[Hit | None] = []
    groups: dict[str, list[Found]] = {}
    for f in ext.of("group"):
        groups.setdefault(f.term.key, []).append(f)
    role = _role(ext, spans)
    role_id = role.term.key if role else None
    # R01: pay far above the role's baseline
    paid = [s for s in ext.salaries if s.monthly_usd is not None]
    top = max(paid, key=lambda s: s.monthly_usd or 0.0) if paid else None
    limit = baseline(role_id, ext.country)
    r01 = None
    if top is not None and (top.monthly_usd or 0.0) >= limit:
        r01 = Hit("R01", top.start, top.end,
                  f"about {top.monthly_usd:,.0f} USD a month; the norm used for "
                  f"{role_id or 'this role'} is below {limit:,.0f}",
                  {"monthly_usd": round(top.monthly_usd or 0.0), "threshold_usd": round(limit)})
    hits.append(r01)
    # R02: no experience, yet high pay
    no_exp = groups.get("no_experience", [])
    high_pay = r01 is not None or (top is not None and (top.monthly_usd or 0.0)
                                   >= money()["r01"]["minimum_monthly_usd"])
    if no_exp and high_pay:
        hits.append(_term_hit("R02", no_exp, text, "no experience asked, with high pay"))
    # R03: vague lure role
    if role is not None and roles()[role_id or ""].get("vague"):
        hits.append(Hit("R03", role.start, role.end,
                        f"vague role ({role_id}): \u201c{text[role.start:role.end]}\u201d"))
    # R04: overseas, employer pays travel, visa or housing
    hits.append(_term_hit("R04", groups.get("employer_pays", []) + groups.get("overseas", []),
                          text, "overseas or paid travel"))
    # R05: reported scam-centre area
    risky = [f for f in ext.of("place") if places()[f.term.key]["kind"] in {"scam_hub", "transit"}]
    first = _first(risky)
    if first is not None:
        place = places()[first.term.key]
        hits.append(Hit("R05", first.start, first.end,
                        f"{place['kind'].replace('_', ' ')} named: "
                        f"\u201c{text[first.start:first.end]}\u201d ({place['country']})",
                        {"place": place["id"], "places": len({f.term.key for f in risky})}))
    for code, group, what in (("R06", "visa", "visa wording"),
                              ("R08", "chat_interview", "chat interview or urgency"),
                              ("R09", "fee", "fee asked"), ("R10", "documents", "documents asked"),
                              ("R12", "targeting", "targeting")):
        hits.append(_term_hit(code, groups.get(group, []), text, what))
    # R07: messaging only, no company e-mail or site
    messaging = [i for i in ext.identifiers if i.messaging]
    if messaging and not ext.company_hosts:
        apps = sorted({i.app or i.kind for i in messaging})
        m = messaging[0]
        hits.append(Hit("R07", m.start, m.end,
                        f"contact through {', '.join(apps)}; no e-mail or site at a company "
                        "domain", {"messaging": len(messaging)}))
    # R11: employer unverifiable offline
    company = text[slice(*spans["company"])].strip() if "company" in spans else ""
    no_logo = extra.get("has_company_logo", "").strip() in {"0", "f", "false", "no"}
    if not ext.company_hosts and not company and (not company_profile.strip() or no_logo):
        at = spans.get("title") or spans.get("body") or (0, 0)
        hits.append(Hit("R11", at[0], at[1],
                        "no company name, no company web site or e-mail"
                        + (", no company profile" if not company_profile.strip() else "")
                        + (", no logo" if no_logo else "")))
    order = {c: n for n, c in enumerate(CODES)}
    return sorted((h for h in hits if h is not None), key=lambda h: order[h.code])
