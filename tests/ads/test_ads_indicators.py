"""R01-R14: each fires on the wording it names, with the span of that wording, and not on an
ordinary ad; R13/R14 come from clustering; notes never repeat an identifier."""

from __future__ import annotations

import numpy as np

from ctip.ads.cluster import Posting, cluster, signature
from ctip.ads.indicators import CODES, INDICATORS
from ctip.ads.pipeline import analyse
from ctip.ads.records import Ad

LURE = Ad(2, {
    "title": "Customer Service Representative (Chinese speaker)",
    "location": "Sihanoukville, Cambodia", "salary": "$1500-3000/month",
    "body": "Urgent hiring! No experience needed. Free flight and accommodation. Tourist visa "
            "ok. Processing fee 200 USD. Send passport copy. Interview via Telegram: "
            "t.me/hr_fast88 or WhatsApp +855 96 123 4567"})
ORDINARY = Ad(3, {
    "title": "Senior Accountant", "company": "Acme Ltd", "location": "GB, LND, London",
    "salary": "£55,000 per year", "contact": "Apply at careers@acme.co.uk",
    "body": "You will prepare the monthly accounts and support the annual audit. "
            "Five years of experience in a similar role."})


def test_every_text_indicator_fires_on_the_lure_with_its_span() -> None:
    a = analyse(LURE)
    hits = {h.code: h for h in a.hits}
    assert set(hits) == set(CODES[:12])
    expected = {"R01": "$1500-3000", "R02": "No experience", "R03": "Customer Service",
                "R04": "Free flight", "R05": "Sihanoukville", "R06": "Tourist visa",
                "R07": "t.me/hr_fast88", "R08": "Urgent hiring", "R09": "Processing fee",
                "R10": "passport copy", "R12": "Chinese speaker"}
    for code, wording in expected.items():
        assert a.text[hits[code].start:hits[code].end] == wording, code
    assert hits["R01"].figures["monthly_usd"] == 3000
    for hit in a.hits:  # a note points at an identifier by span, never quotes it
        assert "hr_fast88" not in hit.note and "4567" not in hit.note


def test_nothing_fires_on_an_ordinary_ad() -> None:
    assert analyse(ORDINARY).hits == []


def test_r01_needs_pay_far_above_the_role_and_country_norm() -> None:
    us = analyse(Ad(2, {"title": "Software Engineer", "location": "US, CA, San Francisco",
                        "salary": "$150,000 per year", "body": "Build things."}))
    lure = analyse(Ad(2, {"title": "Typing job", "location": "Phnom Penh, Cambodia",
                          "salary": "$2,500 per month", "body": "Type."}))
    assert "R01" not in {h.code for h in us.hits}
    assert "R01" in {h.code for h in lure.hits}


def test_r07_needs_messaging_without_a_company_domain() -> None:
    only_chat = analyse(Ad(2, {"title": "Driver", "body": "WhatsApp +63 917 555 1234"}))
    with_mail = analyse(Ad(2, {"title": "Driver", "body": "WhatsApp +63 917 555 1234 or "
                                                         "jobs@acme-logistics.com"}))
    assert "R07" in {h.code for h in only_chat.hits}
    assert "R07" not in {h.code for h in with_mail.hits}


def test_r11_uses_emscad_logo_and_profile_fields() -> None:
    bare = analyse(Ad(2, {"title": "Clerk", "body": "Apply now."}, extra={"has_company_logo": "0"}))
    profiled = analyse(Ad(2, {"title": "Clerk", "body": "Apply now."},
                          company_profile="Acme has served Ohio since 1950.",
                          extra={"has_company_logo": "1"}))
    assert "R11" in {h.code for h in bare.hits}
    assert "R11" not in {h.code for h in profiled.hits}


def _posting(ad_id: str, ids: list[str], company: str, city: str, text: str) -> Posting:
    return Posting(ad_id, [(k, 0, 5) for k in ids], company, city, signature(text), (0, 10))


def test_r14_shared_phone_across_names_and_r13_template_across_names() -> None:
    template = ("Join our fast growing team in a modern office, with free meals, training in "
                "the first week, a monthly bonus and a friendly manager who helps you learn.")
    other = "Our bakery needs a patient person to knead dough at dawn and greet customers."
    postings = [
        _posting("a", ["phone:1"], "star group", "bavet", template),
        _posting("b", ["phone:1"], "moon group", "poipet", template + " Apply today."),
        _posting("c", ["phone:2"], "acme", "london", other),
        _posting("d", ["phone:2"], "acme", "paris", other + " Also weekends."),
    ]
    found = cluster(postings)
    codes = {k: {h.code for h in v} for k, v in found.hits.items()}
    assert codes["a"] == codes["b"] == {"R13", "R14"}
    assert "c" not in codes and "d" not in codes  # one company, its own phone: ordinary
    assert found.cluster_of["a"] == found.cluster_of["b"] != found.cluster_of["c"]
    shared = next(c for c in found.clusters if "a" in c.ad_ids)
    assert shared.shared == {"phone:1": 2} and shared.companies == 2


def test_signature_is_stable_and_near_duplicates_agree() -> None:
    text = " ".join(f"word{i}" for i in range(80))
    a, b = signature(text), signature(text + " extra")
    assert np.array_equal(a, signature(text)) and a.dtype == np.uint32
    assert float(np.mean(a == b)) > 0.8
    assert float(np.mean(a == signature("something else entirely here now"))) < 0.2


def test_indicator_table_names_a_source_for_each() -> None:
    assert list(INDICATORS) == [f"R{n:02d}" for n in range(1, 15)]
    assert all(i.source and i.title for i in INDICATORS.values())
