"""Versioned code lists (vocabularies) loaded from the JSON data shipped in ``codelists/``.

Code lists are data, not literals in the code: each entry has a ``code`` (our canonical
snake_case value), a ``label`` and its crosswalk to other standards (``htcds``, ``ctdc``,
``glotip``, ``sdg``, ``iccs``...). ``CODE_LIST_VERSION`` is stored with every imported record's
provenance so a figure can always be traced to the lists it was coded with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class CodeList:
    name: str
    entries: tuple[dict[str, Any], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e["code"] for e in self.entries)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def entry(self, code: str) -> dict[str, Any]:
        for e in self.entries:
            if e["code"] == code:
                return e
        raise LookupError(f"{code!r} is not in code list {self.name!r}")

    def crosswalk(self, standard: str) -> dict[str, str]:
        """Canonical code -> the code in another standard (entries without one are left out)."""
        return {e["code"]: e[standard] for e in self.entries if e.get(standard) is not None}

    def from_standard(self, standard: str) -> dict[str, str]:
        """Code in another standard (case-folded) -> canonical code; first canonical code wins."""
        out: dict[str, str] = {}
        for e in self.entries:
            value = e.get(standard)
            if value is not None:
                out.setdefault(str(value).casefold(), e["code"])
        return out

    def allowed_text(self) -> str:
        return ", ".join(self.codes)


@cache
def _document() -> dict[str, Any]:
    text = resources.files("ctip.domain").joinpath("codelists/case_record.json").read_text("utf-8")
    return json.loads(text)


def code_list_version() -> str:
    return str(_document()["version"])


@cache
def code_list(name: str) -> CodeList:
    lists = _document()["lists"]
    if name not in lists:
        raise LookupError(f"no code list named {name!r}; known: {', '.join(sorted(lists))}")
    return CodeList(name, tuple(lists[name]))


def code_list_names() -> tuple[str, ...]:
    return tuple(sorted(_document()["lists"]))
