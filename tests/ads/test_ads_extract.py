"""Reading ads: profiles, rejects, saved pages; salaries, places, roles and normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.ads.extract import extract
from ctip.ads.normalise import clean, fold, joined_text
from ctip.ads.readers import EMSCAD_COLUMNS, ad_from_html, detect_profile, map_rows
from ctip.ads.records import Ad, RejectedAd


def _ext(text: str, section: str = "body"):
    cleaned = clean(text)
    return cleaned, extract(cleaned, {section: (0, len(cleaned))})


def test_emscad_columns_map_to_sections_and_label() -> None:
    header = list(EMSCAD_COLUMNS)
    row = dict.fromkeys(header, "")
    row.update(job_id="17", title="Data Entry", location="US, NY, New York",
               salary_range="40000-60000", company_profile="We are Acme.",
               description="<p>Type things.</p>", requirements="Typing", benefits="None",
               has_company_logo="0", fraudulent="1")
    bad = dict(row, fraudulent="maybe")
    empty = dict.fromkeys(header, "")
    empty["fraudulent"] = "0"
    assert detect_profile(header) == "emscad"
    out = list(map_rows(header, [(2, row), (3, bad), (4, empty)], "emscad"))
    ad, rejected, blank = out
    assert isinstance(ad, Ad) and ad.label == 1 and ad.source_ref == "17"
    assert ad.company_profile == "We are Acme." and ad.extra["has_company_logo"] == "0"
    assert "Type things." in ad.sections["body"] and "Typing" in ad.sections["body"]
    assert isinstance(rejected, RejectedAd) and "fraudulent" in rejected.reasons[0]
    assert isinstance(blank, RejectedAd) and "not an ad" in blank.reasons[0]


def test_generic_profile_finds_columns_by_common_names() -> None:
    header = ["Job Title", "Description", "Employer", "City", "Pay", "Phone", "Risky"]
    row = {"Job Title": "Typist", "Description": "Type", "Employer": "Acme", "City": "Manila",
           "Pay": "$900", "Phone": "0917 555 1234", "Risky": "no"}
    assert detect_profile(header) == "generic"
    (ad,) = map_rows(header, [(2, row)], "generic")
    assert isinstance(ad, Ad)
    assert ad.sections == {"title": "Typist", "body": "Type", "company": "Acme",
                           "location": "Manila", "salary": "$900", "contact": "0917 555 1234"}
    assert ad.label == 0


def test_saved_page_with_json_ld_job_posting() -> None:
    page = """<html><head><title>x</title><script type="application/ld+json">
    {"@context": "https://schema.org", "@type": "JobPosting", "title": "Chat Support",
     "description": "<p>Earn $3,000/month. No experience needed.</p>",
     "hiringOrganization": {"@type": "Organization", "name": "Star Group"},
     "jobLocation": {"@type": "Place", "address": {"addressLocality": "Sihanoukville",
     "addressCountry": "KH"}}, "identifier": "J-9"}</script></head>
    <body><a href="tel:+85512345678">Call us</a> <a href="https://t.me/star_hr">Chat</a></body>
    </html>"""
    ad = ad_from_html(page, 1, "a.html")
    assert isinstance(ad, Ad)
    assert ad.sections["title"] == "Chat Support" and ad.sections["company"] == "Star Group"
    assert "Sihanoukville" in ad.sections["location"] and ad.source_ref == "J-9"
    assert "+85512345678" in ad.sections["contact"] and "t.me/star_hr" in ad.sections["contact"]
    assert "<p>" not in ad.sections["body"]


def test_saved_page_without_markup_uses_title_and_main_text() -> None:
    ad = ad_from_html("<html><body><nav>Menu</nav><main><h1>Typist</h1><p>Type.</p></main>"
                      "<footer>(c)</footer></body></html>", 2, "b.html")
    assert isinstance(ad, Ad) and ad.sections["title"] == "Typist"
    assert "Menu" not in ad.sections["body"] and "Type." in ad.sections["body"]
    assert isinstance(ad_from_html("<html></html>", 3, "c.html"), RejectedAd)


@pytest.mark.parametrize(("text", "currency", "period", "monthly"), [
    ("Earn $1,500-3,000/month", "USD", "month", 3000),
    ("Salary USD 1500 - 2500 per month", "USD", "month", 2500),
    ("Lương 20 triệu/tháng", "VND", "month", 790),
    ("เงินเดือน 30,000 บาท/เดือน", "THB", "month", 840),
    ("€2.500 al mes", "EUR", "month", 2700),
    ("salary 40000-60000 per year USD", "USD", "year", 5000),
    ("₱25,000 per month", "PHP", "month", 438),
    ("RM 5k monthly", "MYR", "month", 1075),
    ("月薪 8000-15000 元", "CNY", "month", 2085),
])
def test_salary_currency_and_period(text: str, currency: str, period: str, monthly: int) -> None:
    _, ext = _ext(text)
    top = max(ext.salaries, key=lambda s: s.monthly_usd or 0)
    assert (top.currency, top.period) == (currency, period)
    assert top.monthly_usd == pytest.approx(monthly, rel=0.02)


def test_places_roles_and_country() -> None:
    text, spans = joined_text(Ad(2, {"title": "Customer Service", "location": "US, NY, New York",
                                     "body": "Work in 西港 or Myawaddy; Mae Sot pickup."}))
    ext = extract(text, spans)
    assert ext.country == "US"
    assert {f.term.key for f in ext.of("place")} >= {"kh-sihanoukville", "mm-myawaddy",
                                                      "th-mae-sot"}
    assert [f.term.key for f in ext.of("role")] == ["customer_service"]


def test_words_are_matched_whole() -> None:
    _, ext = _ext("Someone online from the hotline: a deadline.")
    assert not ext.identifiers
    assert not ext.of("role")


def test_company_domain_versus_free_mail_and_platforms() -> None:
    _, ext = _ext("Mail hr@acme-careers.com or jobs@gmail.com; chat t.me/acme; www.facebook.com")
    assert ext.company_hosts == ["acme-careers.com"]


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_extracts_without_error_and_spans_stay_inside(text: str) -> None:
    cleaned = clean(text)
    assert len(fold(cleaned)) == len(cleaned)
    ext = extract(cleaned, {"body": (0, len(cleaned))})
    for ident in ext.identifiers:
        assert 0 <= ident.start < ident.end <= len(cleaned)
    for salary in ext.salaries:
        assert 0 <= salary.start < salary.end <= len(cleaned)
