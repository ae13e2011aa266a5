"""Rows of a file (already read by ``ctip.ingest.readers``) and saved HTML pages, as ``Ad``s.

Two row profiles:
- ``emscad``: the Employment Scam Aegean Dataset as published on Kaggle ("fake job postings":
  job_id, title, location, department, salary_range, company_profile, description,
  requirements, benefits, telecommuting, has_company_logo, has_questions, employment_type,
  required_experience, required_education, industry, function, fraudulent). EMSCAD has no
  company name: the company profile stands for it when ads are grouped by company.
- ``generic``: title, body, company, location, salary, contact (plus id and label), under the
  common names listed in ``GENERIC_COLUMNS`` (case and spacing of headers do not matter).

A row that is not an ad (no title and no text, a label that is not 0/1, a row the reader could
not parse) is rejected with its reasons and kept, so read = accepted + rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from ctip.ads.normalise import strip_html
from ctip.ads.records import Ad, RejectedAd

PROFILES = ("emscad", "generic")
EMSCAD_COLUMNS = (
    "job_id", "title", "location", "department", "salary_range", "company_profile",
    "description", "requirements", "benefits", "telecommuting", "has_company_logo",
    "has_questions", "employment_type", "required_experience", "required_education",
    "industry", "function", "fraudulent",
)
GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "ad_id", "job_id", "post_id", "reference", "url"),
    "title": ("title", "job_title", "headline", "position", "subject"),
    "body": ("body", "text", "description", "content", "message", "post", "ad_text"),
    "company": ("company", "company_name", "employer", "advertiser", "organisation",
                "organization", "poster"),
    "location": ("location", "city", "place", "country", "job_location"),
    "salary": ("salary", "salary_range", "pay", "wage", "compensation"),
    "contact": ("contact", "contacts", "phone", "email", "contact_details"),
    "label": ("label", "fraudulent", "risky", "is_scam", "scam", "target"),
}
LABELS = {"1": 1, "0": 0, "true": 1, "false": 0, "t": 1, "f": 0, "yes": 1, "no": 0,
          "fraudulent": 1, "legitimate": 0, "risky": 1, "fine": 0}


def _key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def detect_profile(header: Iterable[str]) -> str:
    """``emscad`` when the Kaggle columns are there, else ``generic``."""
    keys = {_key(h) for h in header}
    return "emscad" if {"job_id", "company_profile", "description"} <= keys else "generic"


def _label(value: str | None) -> tuple[int | None, str | None]:
    if value is None or not str(value).strip():
        return None, None
    found = LABELS.get(str(value).strip().lower())
    if found is None:
        return None, f"label {str(value)[:20]!r} is not one of 0/1, true/false, yes/no"
    return found, None


def _emscad(row: dict[str, str]) -> tuple[dict[str, str], str | None, str, dict[str, str]]:
    parts = [row.get(c, "") or "" for c in ("description", "requirements", "benefits")]
    body = "\n\n".join(p for p in parts if p.strip())
    sections = {"title": row.get("title", "") or "", "location": row.get("location", "") or "",
                "salary": row.get("salary_range", "") or "", "body": body}
    extra = {c: row.get(c, "") or "" for c in ("telecommuting", "has_company_logo",
                                               "has_questions", "employment_type",
                                               "required_experience", "industry", "function")}
    return sections, row.get("job_id") or None, row.get("company_profile", "") or "", extra


def _generic(row: dict[str, str], names: dict[str, str]) -> tuple[dict[str, str], str | None]:
    sections: dict[str, str] = {part: row.get(names[part], "") or "" for part in
                ("title", "body", "company", "location", "salary", "contact") if part in names}
    ref = row.get(names["id"]) if "id" in names else None
    return sections, (ref or None)


def generic_names(header: Iterable[str]) -> dict[str, str]:
    """Which column of the file holds each part of an ad (the first known name found)."""
    by_key = {_key(h): h for h in header}
    names: dict[str, str] = {}
    for part, candidates in GENERIC_COLUMNS.items():
        for candidate in candidates:
            if candidate in by_key and by_key[candidate] not in names.values():
                names[part] = by_key[candidate]
                break
    return names


def map_rows(header: list[str], rows: Iterable[tuple[int, dict[str, str]]],
             profile: str) -> Iterator[Ad | RejectedAd]:
    """Each row as an ``Ad`` or a ``RejectedAd`` (with reasons), in file order."""
    if profile == "emscad":
        by_key = {_key(h): h for h in header}
        label_column = by_key.get("fraudulent")
    else:
        names = generic_names(header)
        label_column = names.get("label")
    for number, row in rows:
        problems = [str(p) for p in getattr(row, "problems", ())]
        if profile == "emscad":
            clean_row = {_key(k): v for k, v in row.items()}
            sections, ref, company_profile, extra = _emscad(clean_row)
        else:
            sections, ref = _generic(row, names)
            company_profile, extra = "", {}
        label, label_problem = _label(row.get(label_column) if label_column else None)
        if label_problem:
            problems.append(f"column {label_column!r}: {label_problem}")
        if not (sections.get("title", "").strip() or sections.get("body", "").strip()):
            problems.append("no title and no text: not an ad")
        if problems:
            yield RejectedAd(number, tuple(problems), dict(row))
            continue
        yield Ad(number, sections, source_ref=ref, label=label, company_profile=company_profile,
                 extra=extra)


# ---- saved HTML pages -----------------------------------------------------------------------
def _json_ld(tree: LexborHTMLParser) -> dict[str, Any] | None:
    """A schema.org JobPosting in the page's JSON-LD, if there is one."""
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text() or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if item.get("@type") == "JobPosting":
                    return item
                stack.extend(v for v in item.get("@graph", []) if isinstance(v, dict))
    return None


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return " ".join(_text(v) for k, v in value.items() if not str(k).startswith("@"))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def ad_from_html(page: str, number: int, name: str) -> Ad | RejectedAd:
    """One saved page as an ad: its JobPosting JSON-LD if any, else its title and main text.
    Links to phones, e-mail, Telegram and WhatsApp are kept as contact text (a page often shows
    "Chat with us" and hides the number in the link)."""
    tree = LexborHTMLParser(page)
    contacts = []
    for node in tree.css("a[href]"):
        href = (node.attributes.get("href") or "").strip()
        lowered = href.lower()
        if lowered.startswith(("tel:", "mailto:", "sms:")):
            contacts.append(href.split(":", 1)[1].split("?")[0])
        elif any(s in lowered for s in ("t.me/", "wa.me/", "whatsapp.com/", "line.me/")):
            contacts.append(href)
    posting = _json_ld(tree)
    if posting is not None:
        org = posting.get("hiringOrganization") or {}
        sections = {
            "title": _text(posting.get("title")),
            "company": _text(org.get("name") if isinstance(org, dict) else org),
            "location": _text(posting.get("jobLocation")),
            "salary": _text(posting.get("baseSalary")),
            "body": strip_html(_text(posting.get("description"))),
        }
        ref = _text(posting.get("identifier")) or name
    else:
        title_node = tree.css_first("h1") or tree.css_first("title")
        main = tree.css_first("main") or tree.css_first("article") or tree.body
        for node in (main.css("nav, footer, script, style, noscript") if main else []):
            node.decompose()
        sections = {"title": title_node.text(strip=True) if title_node else "",
                    "body": main.text(separator="\n") if main else ""}
        ref = name
    if contacts:
        sections["contact"] = "\n".join(dict.fromkeys(contacts))
    if not (sections["title"].strip() or sections["body"].strip()):
        return RejectedAd(number, (f"{name}: no title and no text found in the page",),
                          {"file": name})
    return Ad(number, sections, source_ref=ref)
