"""A Frictionless data package (datapackage.json) describing every file of a release.

Written by hand (a JSON document) so core does not depend on the frictionless library; the tests
and CI check it with ``frictionless validate``. Tabular files get a schema (field types from the
column names we know, "string"/"any" otherwise); other files (the HTML report) are "file"
resources with their size and SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

INTEGER_COLUMNS = {"count", "UNIT_MULT", "yearOfRegistration_count"}
NUMBER_COLUMNS = {"OBS_VALUE", "rate"}
MEDIA = {
    ".csv": "text/csv",
    ".html": "text/html",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def _name(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "resource"


def _digest(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"bytes": len(data), "hash": "sha256:" + hashlib.sha256(data).hexdigest()}


def csv_resource(
    path: Path, *, title: str, description: str = "", types: Mapping[str, str] | None = None
) -> dict[str, Any]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    types = dict(types or {})
    fields = []
    for column in header:
        kind = types.get(column) or (
            "integer"
            if column in INTEGER_COLUMNS
            else "number"
            if column in NUMBER_COLUMNS
            else "string"
        )
        fields.append({"name": column, "type": kind})
    return {
        "name": _name(path.stem),
        "path": path.name,
        "type": "table",
        "title": title,
        "description": description,
        "format": "csv",
        "mediatype": MEDIA[".csv"],
        "encoding": "utf-8-sig",
        "schema": {"fields": fields, "missingValues": [""]},
        **_digest(path),
    }


def xlsx_resources(
    path: Path, sheets: Mapping[str, Sequence[str]], *, title: str
) -> list[dict[str, Any]]:
    """One resource per sheet (sheet name -> header); grid cells are numbers or the hidden mark."""
    out = []
    for sheet, header in sheets.items():
        fields = [{"name": h, "type": "any"} for h in header]
        out.append(
            {
                "name": _name(f"{path.stem}-{sheet}"),
                "path": path.name,
                "type": "table",
                "title": f"{title}: {sheet}",
                "format": "xlsx",
                "mediatype": MEDIA[".xlsx"],
                "dialect": {"excel": {"sheet": sheet[:31]}},
                "schema": {"fields": fields},
            }
        )
    return out


def file_resource(path: Path, *, title: str) -> dict[str, Any]:
    return {
        "name": _name(path.name),
        "path": path.name,
        "type": "file",
        "title": title,
        "format": path.suffix.lstrip("."),
        "mediatype": MEDIA.get(path.suffix, "application/octet-stream"),
        **_digest(path),
    }


def write_datapackage(
    out_dir: Path,
    resources: list[dict[str, Any]],
    *,
    name: str,
    title: str,
    description: str,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``datapackage.json`` in ``out_dir``; resource names are made unique."""
    seen: dict[str, int] = {}
    for resource in resources:
        base = resource["name"]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            resource["name"] = f"{base}-{seen[base]}"
    descriptor = {
        "name": _name(name),
        "title": title,
        "description": description,
        "profile": "data-package",
        "resources": resources,
        **(extra or {}),
    }
    path = out_dir / "datapackage.json"
    path.write_text(
        json.dumps(descriptor, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    return path
