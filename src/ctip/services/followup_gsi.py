"""Use case: score the Walk Free GSI 2023 government response from its published indicator ratings.

Reads the long-form files of ``shared/data/gsi-2023-govt-response`` (or the same files anywhere
else; they are Walk Free's copyright and are not shipped with ctip), builds the framework and
scores every country through the same engine as a national self-assessment, then compares the
result with the published activity ratings and percentages.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ctip.errors import InputFileError
from ctip.followup import gsi
from ctip.followup.model import Framework

GSI_FOLDER = "gsi-2023-govt-response"
FILES = {
    "framework": "gsi2023_govt_response_framework.csv",
    "indicators": "gsi2023_govt_response_indicator_ratings.csv",
    "activities": "gsi2023_govt_response_activity_ratings.csv",
    "milestones": "gsi2023_govt_response_milestone_scores.csv",
}
REQUIRED = {
    "framework": {"indicator_code", "milestone", "milestone_name", "activity", "activity_name",
                  "indicator_name", "negative"},
    "indicators": {"country", "indicator_code", "rating"},
    "activities": {"country", "milestone", "activity", "rating"},
    "milestones": {"country", "total_pct", "m1_pct", "m5_pct"},
}


@dataclass
class GsiData:
    framework: Framework
    ratings: dict[str, dict[str, int]]
    activities: list[dict[str, str]]
    milestones: list[dict[str, str]]


def _rows(folder: Path, part: str) -> list[dict[str, str]]:
    path = folder / FILES[part]
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = REQUIRED[part] - set(reader.fieldnames or ())
            if missing:
                raise InputFileError("file {path}: columns missing: {columns}",
                                     hint="use the long-form GSI 2023 files unchanged",
                                     params={"path": path, "columns": ", ".join(sorted(missing))})
            rows = list(reader)
    except FileNotFoundError as error:
        raise InputFileError("{path} not found",
                             hint="point --data at the folder holding the four GSI 2023 "
                             "long-form files ({files})",
                             params={"path": path, "files": ", ".join(FILES.values())}) from error
    except UnicodeDecodeError as error:
        raise InputFileError("file {path} is not UTF-8 text", params={"path": path}) from error
    for number, row in enumerate(rows, start=2):
        if part == "indicators" and row["rating"] not in {"1", "0", "-1"}:
            raise InputFileError("file {path}, row {row}, column 'rating': {value} is not 1, "
                                 "0 or -1",
                                 params={"path": path, "row": number,
                                         "value": repr(row["rating"])})
    return rows


def load(folder: Path) -> GsiData:
    return GsiData(framework=gsi.framework(_rows(folder, "framework")),
                   ratings=gsi.ratings_by_country(_rows(folder, "indicators")),
                   activities=_rows(folder, "activities"),
                   milestones=_rows(folder, "milestones"))


def reproduce(folder: Path, *, recode: bool = True, explain: bool = True,
              data: GsiData | None = None) -> tuple[dict[str, dict[str, Any]], gsi.Reproduction]:
    """Every country scored (with explanations) and the comparison with the published ratings."""
    data = data or load(folder)
    results = gsi.score_all(data.framework, gsi.rules(recode), data.ratings, explain=explain)
    return results, gsi.compare(results, data.activities, data.milestones)


def country_result(results: Mapping[str, dict[str, Any]], name: str) -> dict[str, Any]:
    from ctip.errors import NotFoundError

    for country, result in results.items():
        if country.casefold() == name.casefold():
            return result
    raise NotFoundError("no GSI country named {name}",
                        hint="use the name as the GSI files spell it, e.g. 'United Kingdom'",
                        params={"name": repr(name)})
