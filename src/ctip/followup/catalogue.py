"""The Declaration's commitment catalogue and the scoring rules, loaded from versioned package data.

``data/declaration-2025.v<N>.json`` holds the 44 rows (31 paragraphs, 13 lettered items) with
kind, strength, pillar, capability, evidence kinds, indicators (unit, crosswalk to SDG / GSI /
treaty articles) and harm checks (written by ``scripts/followup_catalogue.py`` from the design
note). ``data/rules-gsi-style.v<N>.json`` holds the value rules (thresholds). A version, once
used in an assessment, is frozen: its SHA-256 is stored with the assessment, and a new version is
a new file. An indicator code that appears in several rows has one definition (its first).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ctip.errors import NotFoundError
from ctip.followup.model import Framework, Indicator, RuleSet, Unit

PILLARS = (
    ("context", "Context and reaffirmations"),
    ("legal", "Legal framework and ratification"),
    ("prevent", "Prevention"),
    ("protect", "Protection of victims"),
    ("prosecute", "Prosecution and cooperation"),
    ("partner", "Partnerships and coordination"),
    ("resources", "Resources"),
    ("data", "Data and research"),
    ("follow-up", "Follow-up and evaluation"),
)
DEFAULT_FRAMEWORK, DEFAULT_VERSION = "declaration-2025", "1"
DEFAULT_RULES, DEFAULT_RULES_VERSION = "gsi-style", "1"


def _data(name: str) -> dict[str, Any]:
    path = resources.files("ctip.followup").joinpath("data", name)
    if not path.is_file():
        raise NotFoundError("no follow-up data file {name} ships with this ctip",
                            hint="list the available versions with `ctip followup catalogue`",
                            params={"name": repr(name)})
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def available() -> list[str]:
    folder = resources.files("ctip.followup").joinpath("data")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".json"))


@cache
def catalogue_rows(version: str = DEFAULT_VERSION) -> tuple[dict[str, Any], ...]:
    return tuple(_data(f"{DEFAULT_FRAMEWORK}.v{version}.json")["commitments"])


@cache
def declaration(version: str = DEFAULT_VERSION) -> Framework:
    """The Declaration's catalogue as a framework (units = the 44 rows)."""
    data = _data(f"{DEFAULT_FRAMEWORK}.v{version}.json")
    indicators: dict[str, Indicator] = {}
    units = []
    for row in data["commitments"]:
        for item in (*row["indicators"], *row["harm_checks"]):
            indicators.setdefault(item["code"], Indicator(
                code=item["code"], definition=item["definition"], unit=item["unit"],
                harm=item["harm"], crosswalk=tuple(item["crosswalk"])))
        units.append(Unit(
            id=row["id"], title=row["title"], pillar=row["pillar"], scoring=row["scoring"],
            positive=tuple(dict.fromkeys(i["code"] for i in row["indicators"])),
            harm=tuple(dict.fromkeys(i["code"] for i in row["harm_checks"]))))
    return Framework(id=data["framework"], name=data["name"], version=data["version"],
                     pillars=PILLARS, units=tuple(units), indicators=indicators,
                     detail={"valid_from": data["valid_from"], "source": data["source"],
                             "rows": {r["id"]: r for r in data["commitments"]},
                             "harm_library": {h["code"]: h for h in data["harm_library"]}})


@cache
def rule_set(rules: str = DEFAULT_RULES, version: str = DEFAULT_RULES_VERSION) -> RuleSet:
    data = _data(f"rules-{rules}.v{version}.json")
    return RuleSet(id=data["rules"], version=data["version"], data=data)


def framework_for(framework_id: str, version: str) -> Framework:
    if framework_id != DEFAULT_FRAMEWORK:
        raise NotFoundError("framework {framework} is not shipped with ctip",
                            hint="cycles use {default}; the GSI is read from its "
                            "files with `ctip followup gsi`",
                            params={"framework": repr(framework_id),
                                    "default": repr(DEFAULT_FRAMEWORK)})
    return declaration(version)
