"""A file in the EMSCAD / Kaggle "fake job postings" column set, made here from synthetic ads
(EMSCAD itself is not shipped: a user brings it), goes through `evaluate` grouped by company
profile, since EMSCAD has no company name."""

from __future__ import annotations

import csv
from pathlib import Path

from ctip.ads.readers import EMSCAD_COLUMNS
from ctip.ads.synthetic import generate
from ctip.services.ads_export import evaluate_file, read_labelled


def _emscad(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(EMSCAD_COLUMNS))
        writer.writeheader()
        for i, ad in enumerate(generate(n, seed=31, fraud_rate=0.1)):
            row = dict.fromkeys(EMSCAD_COLUMNS, "")
            company = ad.sections["company"]
            row.update(job_id=str(i + 1), title=ad.sections["title"],
                       location=ad.sections["location"], salary_range="",
                       company_profile=f"{company} is a company we like." if company else "",
                       description=ad.sections["body"] + " " + ad.sections["contact"],
                       has_company_logo="1" if company else "0", fraudulent=str(ad.label))
            writer.writerow(row)
    return path


def test_emscad_file_is_read_and_grouped_by_company_profile(tmp_path: Path) -> None:
    path = _emscad(tmp_path / "fake_job_postings.csv", 400)
    data = read_labelled(path)
    assert data.profile == "emscad" and len(data.labels) == 400 and data.rejected == 0
    assert all(a.ad.company_profile or a.ad.extra.get("has_company_logo") == "0"
               for a in data.analyses)
    _, result = evaluate_file(path, folds=3)
    companies = {a.ad.company_profile for a in data.analyses if a.ad.company_profile}
    assert result.groups >= len(companies)  # one group per profile, plus text clusters
    assert result.ads == 400 and 0 <= result.precision_at_base_rate <= 1
