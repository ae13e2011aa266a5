"""The ratification tracker (para 4, para 5): treaty status per state, gaps, and cross-checks.

Two sources, read by the service and parsed here:
- a UN Treaty Collection status table the user saved (CSV or XLSX of the status page: columns
  Participant, Signature, and "Ratification, Acceptance(A), Approval(AA), Accession(a),
  Succession(d)"; dates like ``12 Dec 2000`` followed by the consent type letter);
- the GSI 2023 flags of ``shared/data/treaty-status-gsi-2022`` (0/1 as of 31 August 2022; no
  dates, no UNTOC itself), kept as a cross-check: every GSI 1 must have a consent date on or
  before 2022-08-31 in the UNTC table, every 0 none.
No network access: ctip never fetches the UNTC page itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ctip.domain.countries import normalise_country
from ctip.errors import ValidationError

TREATIES = {
    "XVIII-12": "UN Convention against Transnational Organized Crime (UNTOC)",
    "XVIII-12-a": "Protocol to Prevent, Suppress and Punish Trafficking in Persons",
    "XVIII-12-b": "Protocol against the Smuggling of Migrants",
    "IV-11-b": "CRC Optional Protocol on children in armed conflict",
    "IV-11-c": "CRC Optional Protocol on the sale of children",
    "ILO-P029": "ILO Protocol of 2014 to the Forced Labour Convention",
    "CETS-197": "Council of Europe Convention on Action against Trafficking",
}
# GSI 2023 flag column prefix -> treaty code; the other GSI flags keep their column name
GSI_FLAGS = {"M2121": "XVIII-12-a", "M2162": "XVIII-12-b", "M2152": "IV-11-b",
             "M2153": "IV-11-c", "M2132": "ILO-P029"}
GSI_AS_OF = date(2022, 8, 31)
CONSENT_TYPES = {"": "r", "r": "r", "A": "A", "AA": "AA", "a": "a", "d": "d"}
_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})\s*(AA|A|a|d)?\b")


@dataclass(frozen=True)
class TreatyStatus:
    treaty: str
    state: str  # ISO3 (XKX for Kosovo)
    party: bool
    signature_date: str = ""
    consent_date: str = ""
    consent_type: str = ""  # r, A, AA, a, d
    reservations: str = ""
    source: str = ""
    as_of: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def parse_untc_date(text: str) -> tuple[str, str]:
    """'29 Sep 2003 a' -> ('2003-09-29', 'a'); '' -> ('', '')."""
    cleaned = (text or "").strip()
    if not cleaned:
        return "", ""
    match = _DATE.search(cleaned)
    if not match:
        raise ValidationError("not a UN Treaty Collection date", value=text,
                              allowed="e.g. '12 Dec 2000' or '29 Sep 2003 a'")
    day, month, year, kind = match.groups()
    parsed = datetime.strptime(f"{day} {month[:3].title()} {year}", "%d %b %Y").date()
    return parsed.isoformat(), CONSENT_TYPES[kind or ""]


def from_untc(rows: Iterable[Mapping[str, str]], treaty: str, *, source: str, as_of: str,
              file: str = "") -> tuple[list[TreatyStatus], list[tuple[int, str]]]:
    """Status rows from a UNTC table (keys: participant, signature, consent). Returns the rows
    read and (row number, reason) for each row rejected; read = accepted + rejected."""
    out, rejected = [], []
    for number, row in enumerate(rows, start=2):
        name = re.sub(r"\s*\d+(,\s*\d+)*$", "", (row.get("participant") or "").strip())
        state = normalise_country(name)
        if state is None:
            rejected.append((number, f"participant {name!r} is not a country ctip knows"))
            continue
        try:
            signed, _ = parse_untc_date(row.get("signature", ""))
            consent, kind = parse_untc_date(row.get("consent", ""))
        except ValidationError as error:
            rejected.append((number, f"{file or 'file'} row {number}: {error.message}"))
            continue
        out.append(TreatyStatus(treaty=treaty, state=state, party=bool(consent),
                                signature_date=signed, consent_date=consent, consent_type=kind,
                                source=source, as_of=as_of))
    return out, rejected


def from_gsi_flags(rows: Iterable[Mapping[str, str]], *, source: str) -> list[TreatyStatus]:
    """Status rows from the GSI 2022 flags file (country, iso3, region, M21xx_name columns)."""
    out = []
    for row in rows:
        for column, value in row.items():
            if not column.startswith("M21"):
                continue
            treaty = GSI_FLAGS.get(column.split("_", 1)[0], f"GSI-{column}")
            out.append(TreatyStatus(treaty=treaty, state=row["iso3"], party=str(value) == "1",
                                    source=source, as_of=GSI_AS_OF.isoformat()))
    return out


def parties(statuses: Iterable[TreatyStatus], treaty: str) -> set[str]:
    return {s.state for s in statuses if s.treaty == treaty and s.party}


def cross_check(untc: Iterable[TreatyStatus], gsi: Iterable[TreatyStatus], treaty: str,
                ) -> dict[str, Any]:
    """Does the UNTC table agree with the GSI flags as of 31 August 2022?"""
    bound = {s.state: s.consent_date for s in untc if s.treaty == treaty and s.consent_date}
    agree, disagree = 0, []
    flags = [s for s in gsi if s.treaty == treaty]
    for flag in flags:
        date_ = bound.get(flag.state, "")
        by_then = bool(date_) and date_ <= GSI_AS_OF.isoformat()
        if by_then == flag.party:
            agree += 1
        else:
            disagree.append({"state": flag.state, "gsi": int(flag.party),
                             "untc_consent_date": date_ or None})
    return {"treaty": treaty, "states": len(flags), "agree": agree, "disagree": disagree}


def gaps(statuses: Iterable[TreatyStatus], treaty: str, states: Iterable[str],
         today: date) -> list[dict[str, Any]]:
    """States not party to ``treaty``, with the years since signature where signed."""
    by_state = {s.state: s for s in statuses if s.treaty == treaty}
    out = []
    for state in sorted(states):
        status = by_state.get(state)
        if status is not None and status.party:
            continue
        signed = status.signature_date if status else ""
        years = (today - date.fromisoformat(signed)).days / 365.25 if signed else None
        out.append({"state": state, "signed": signed or None,
                    "years_since_signature": None if years is None else round(years, 1)})
    return out
