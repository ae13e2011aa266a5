"""Synthetic labelled job ads, for tests and benchmarks only.

NEVER for accuracy claims: the generator decides what a risky ad looks like, so a model trained
and tested on its output measures the generator, not the world. It exists so tests and the
benchmark can run without a dataset: varied templates (English, Spanish, Vietnamese, Thai,
Indonesian, Chinese fragments), companies posting several ads each (grouped cross-validation
matters), recruiter networks reusing phones and handles across company names and cities,
obfuscated numbers, and deliberate overlap (legitimate ads that are urgent or use WhatsApp,
risky ads that look clean), so no single indicator separates the classes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ctip.ads.records import Ad

SPELL = {"en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
         "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"],
         "vi": ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]}
LURE_ROLES = ["Customer Service Representative", "Typing Job (work from office)", "Data Encoder",
              "Call Center Agent", "Online Marketing Staff", "Game Tester", "Chinese Translator",
              "Chat Support Agent", "Tech Support (Crypto platform)",
              "Nhân viên chăm sóc khách hàng",
              "พนักงานแอดมินตอบแชท", "客服专员", "Atención al cliente (bilingüe)"]
REAL_ROLES = ["Software Engineer", "Registered Nurse", "Accountant", "Warehouse Worker",
              "Project Manager", "Customer Service Representative", "Sales Associate",
              "Hotel Receptionist", "Data Entry Clerk", "Marketing Manager", "Driver",
              "Translator (legal documents)", "Teacher of English"]
RISKY_PLACES = ["Sihanoukville, Cambodia", "Bavet, Cambodia", "Myawaddy, Myanmar",
                "Phnom Penh, Cambodia", "Golden Triangle SEZ, Laos", "Mae Sot, Thailand",
                "Dubai, UAE", "Bangkok, Thailand"]
REAL_PLACES = ["US, NY, New York", "GB, LND, London", "Manila, Philippines",
               "Ho Chi Minh City, Vietnam", "Bangkok, Thailand", "Jakarta, Indonesia",
               "Kuala Lumpur, Malaysia", "Phnom Penh, Cambodia", "US, CA, San Francisco",
               "Dubai, UAE", "Singapore", "DE, BE, Berlin"]
OPENERS = ["Our team", "The successful candidate", "Every new colleague", "The department",
           "Our company", "This role", "The position", "Our office", "The manager", "Each shift",
           "The project group", "Our client"]
MIDDLES = ["works closely with", "is responsible for", "regularly supports", "helps to improve",
           "reports weekly on", "takes care of", "contributes to", "coordinates",
           "keeps accurate records of", "learns quickly about", "communicates clearly about",
           "plans and reviews", "answers questions about", "prepares reports on",
           "maintains good relations with"]
ENDINGS = ["customer accounts", "the quarterly budget", "our suppliers in the region",
           "daily operations", "new product launches", "the warehouse inventory",
           "patient records and schedules", "software releases", "marketing campaigns",
           "training sessions for staff", "quality checks", "the booking system",
           "safety procedures", "invoices and payments", "local partners", "the help desk",
           "field visits", "translation of contracts", "the annual audit", "team meetings"]


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)} {rng.choice(ENDINGS)}."


RISKY_LINES = {
    "pay": ["Salary {cur}{lo:,}-{hi:,}/month, plus commission!", "Earn up to {cur}{hi:,} per month",
            "Lương {lo_m} - {hi_m} triệu/tháng", "เงินเดือน {thb:,} บาท/เดือน"],
    "noexp": ["No experience needed, we will train you.", "Không cần kinh nghiệm.",
              "Sin experiencia, te enseñamos todo.", "无需经验，包教包会。"],
    "perks": ["Free flight ticket and free accommodation provided.", "Bao vé máy bay, bao ăn ở.",
              "Visa provided by the company, all expenses paid.", "包吃包住，包机票。"],
    "visa": ["No visa needed, you can travel as a tourist first.", "Tourist visa is ok.",
             "Không cần visa, đi du lịch rồi làm."],
    "urgent": ["Urgent hiring, limited slots!", "Interview via Telegram only, start immediately.",
               "Tuyển gấp, đi làm ngay.", "急招，马上上班。"],
    "fee": ["A small processing fee of {cur}150 is required.", "Training fee will be deducted.",
            "Phí hồ sơ 3 triệu.", "Refundable deposit required before departure."],
    "docs": ["Send your passport copy to reserve your slot.", "Gửi ảnh hộ chiếu để giữ chỗ.",
             "Please send a photo of your passport and bank account details."],
    "target": ["Chinese speakers preferred, age 18-35.", "Good typing skills (40 wpm).",
               "Biết tiếng Trung là lợi thế."],
}
COMPANY_WORDS = ["Global", "Asia", "Star", "Golden", "Bright", "Pacific", "Lucky", "Prime",
                 "Mekong", "Lotus", "Dragon", "Ocean", "Summit", "Harbor", "Nova", "Unity"]
COMPANY_KINDS = ["Solutions", "Group", "Trading", "Technology", "Services", "Holdings",
                 "Consulting", "Logistics", "Media", "Partners"]


def _phone(rng: random.Random, country_code: str) -> tuple[str, str]:
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    return digits, f"+{country_code} {digits[:2]} {digits[2:5]} {digits[5:]}"


def _obfuscate(rng: random.Random, country_code: str, digits: str) -> str:
    style = rng.randrange(5)
    if style == 0:
        lang = rng.choice(list(SPELL))
        return " ".join(SPELL[lang][int(d)] for d in "0" + digits)
    if style == 1:
        return " ".join("0" + digits)
    if style == 2:
        return "+" + country_code + " " + "-".join(digits[i:i + 2] for i in range(0, 8, 2))
    if style == 3:
        return "０" + "".join(chr(0xFF10 + int(d)) for d in digits)
    return "0" + digits.replace("0", "O")


class Recruiter:
    """A risky network: a few phones and handles used across many company names and cities."""

    def __init__(self, rng: random.Random, n: int) -> None:
        self.phones = [_phone(rng, rng.choice(["855", "95", "66", "84"])) for _ in range(2)]
        self.handle = f"hr_{rng.choice(COMPANY_WORDS).lower()}{n}{rng.randrange(100, 999)}"
        self.template = [_sentence(rng) for _ in range(6)] + [
            rng.choice(RISKY_LINES[k]).format(cur="$", lo=1000, hi=3000, lo_m=25, hi_m=75,
                                              thb=90000)
            for k in rng.sample(list(RISKY_LINES), 3)]
        self.names = [f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} {n}"
                      for _ in range(rng.randint(2, 4))]


def generate(n: int = 1000, *, fraud_rate: float = 0.1, seed: int = 0,
             body_sentences: tuple[int, int] = (8, 20)) -> Iterator[Ad]:
    """``n`` labelled ads (label 1 = risky), about ``fraud_rate`` of them risky."""
    rng = random.Random(seed)
    recruiters = [Recruiter(rng, i) for i in range(max(2, int(n * fraud_rate / 12)))]
    companies = [f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)} Ltd {i}"
                 for i in range(max(3, n // 8))]
    for row in range(2, n + 2):
        risky = rng.random() < fraud_rate
        filler = [_sentence(rng) for _ in range(rng.randint(*body_sentences))]
        if risky:
            rec = rng.choice(recruiters)
            lines = []
            kinds = rng.sample(list(RISKY_LINES), rng.randint(2, 6))
            lo = rng.choice([800, 1000, 1200, 1500])
            hi = lo * rng.choice([2, 3])
            for kind in kinds:
                line = rng.choice(RISKY_LINES[kind])
                lines.append(line.format(cur="$", lo=lo, hi=hi, lo_m=lo // 40, hi_m=hi // 40,
                                         thb=hi * 30))
            lines += filler[: rng.randint(0, 3)]
            digits, pretty = rng.choice(rec.phones)
            contact = rng.choice([f"Telegram: @{rec.handle}", f"t.me/{rec.handle}",
                                  f"WhatsApp {pretty}", f"Call {_obfuscate(rng, '855', digits)}",
                                  f"wa.me/{pretty.replace(' ', '').lstrip('+')}"])
            if rng.random() < 0.15:  # some risky ads look clean
                contact = f"Apply at careers@{rec.names[0].split()[0].lower()}-jobs.com"
            company = rng.choice(rec.names + [""])
            title = rng.choice(LURE_ROLES if rng.random() < 0.85 else REAL_ROLES)
            location = rng.choice(RISKY_PLACES if rng.random() < 0.7 else REAL_PLACES)
            salary = "" if rng.random() < 0.5 else f"${lo}-{hi}"
        else:
            company = rng.choice(companies)
            domain = company.split()[0].lower() + company.split()[-1] + ".com"
            lines = filler
            if rng.random() < 0.1:
                lines = lines + ["Urgent hiring: start immediately."]
            if rng.random() < 0.15:
                lines = lines + ["Relocation package and visa sponsorship for the right person."]
            title = rng.choice(REAL_ROLES)
            location = rng.choice(REAL_PLACES)
            contact = rng.choice([f"Send your CV to jobs@{domain}", f"Apply at www.{domain}",
                                  f"Questions: WhatsApp +63 917 {rng.randrange(100, 999)} "
                                  f"{rng.randrange(1000, 9999)} or hr@{domain}", ""])
            salary = "" if rng.random() < 0.6 else f"${rng.randrange(25, 90) * 1000}/year"
        rng.shuffle(lines)
        if risky and rng.random() < 0.5:  # the network's template, pasted as it is
            lines = rec.template + lines[:1]
        yield Ad(row, {"title": title, "company": company, "location": location,
                       "salary": salary, "contact": contact, "body": " ".join(lines)},
                 source_ref=f"syn-{row}", label=int(risky))


def rows(n: int = 1000, **options: object) -> Iterator[dict[str, str]]:
    """The same ads as rows of the generic profile (for writing a CSV a command can read)."""
    for ad in generate(n, **options):  # type: ignore[arg-type]
        yield {"id": ad.source_ref or "", **ad.sections, "label": str(ad.label)}
