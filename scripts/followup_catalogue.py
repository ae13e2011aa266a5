"""Write the Declaration's commitment catalogue (44 rows) as versioned JSON data.

Reads the catalogue table (A0.2) and the harm-check library (A0.3) of the design note
``../shared/design/FOLLOW-UP-AND-EXCHANGE.md`` (ctip's own paraphrases, not the text of the
Declaration) and writes ``src/ctip/followup/data/declaration-2025.v1.json``. Run it again only to
make a *new* version: a published version is frozen (its SHA-256 is stored with every assessment).

    python scripts/followup_catalogue.py [--note PATH] [--version 1]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (REPO.parent / "shared", REPO.parents[1] / "shared")
               if (p / "design").is_dir()), REPO.parent / "shared")
NOTE = SHARED / "design" / "FOLLOW-UP-AND-EXCHANGE.md"
OUT = REPO / "src" / "ctip" / "followup" / "data"
COLUMNS = ("id", "title", "commitment", "kind", "strength", "actor", "pillar", "capability",
           "also", "scoring", "evidence", "indicators", "harm_check")
HARM_COLUMNS = ("code", "meaning", "computed_from", "crosswalk", "rows")
INDICATOR = re.compile(r"^(?P<code>[A-Z0-9][A-Z0-9-]*)(?::\s*(?P<text>.*?))?\s*$")


def _table(lines: list[str], header_first: str) -> list[list[str]]:
    rows, inside = [], False
    for line in lines:
        if line.startswith(f"| {header_first} |"):
            inside = True
            continue
        if inside:
            if not line.startswith("|"):
                break
            if line.startswith("|---"):
                continue
            rows.append([c.strip() for c in line.strip().strip("|").split(" | ")])
    return rows


def _list(cell: str) -> list[str]:
    return [] if cell in ("-", "n/a", "") else [p.strip() for p in cell.split(" ; ")]


def _crosswalk(text: str) -> tuple[str, list[str]]:
    match = re.search(r"\s*\[([^\]]*)\]\s*$", text)
    if not match:
        return text, []
    return text[: match.start()], [c.strip() for c in match.group(1).split(", ") if c.strip()]


def _unit(text: str) -> tuple[str, str]:
    """The definition and its trailing '(unit)', if any."""
    match = re.search(r"\s*\(([^()]*)\)\s*$", text)
    if not match:
        return text, ""
    return text[: match.start()], match.group(1).strip()


def indicator(cell: str, *, harm: bool, library: dict[str, dict[str, object]]) -> dict[str, object]:
    body, crosswalk = _crosswalk(cell.strip())
    head = INDICATOR.match(body.split(":", 1)[0] if ":" in body else body.split(" (", 1)[0])
    if head is None:
        raise SystemExit(f"cannot read indicator {cell!r}")
    code = head.group("code")
    rest = body[len(code):].lstrip(":").strip()
    note = ""
    if rest.startswith("(") and harm:  # 'NEG-X (row-specific note)': the library's definition
        note, rest = rest.strip("()"), ""
    definition, unit = _unit(rest) if rest else ("", "")
    if harm and code in library and not definition:
        definition = str(library[code]["meaning"])
    if harm and not unit:
        unit = "count"
    return {"code": code, "definition": definition.strip(), "unit": unit,
            "crosswalk": crosswalk, "harm": harm, "note": note}


def build(note: Path, version: str) -> dict[str, object]:
    lines = note.read_text(encoding="utf-8").splitlines()
    library_rows = _table(lines, "code")
    library = {r[0].strip("`"): dict(zip(HARM_COLUMNS, [r[0].strip("`"), *r[1:]], strict=True))
               for r in library_rows}
    rows = []
    for cells in _table(lines, "id"):
        if len(cells) != len(COLUMNS):
            raise SystemExit(f"row {cells[0]}: {len(cells)} cells, expected {len(COLUMNS)}")
        row = dict(zip(COLUMNS, cells, strict=True))
        rows.append({
            "id": row["id"], "title": row["title"], "commitment": row["commitment"],
            "kind": row["kind"], "strength": row["strength"], "actor": _list(row["actor"]),
            "pillar": row["pillar"], "capability": row["capability"], "also":
            [] if row["also"] == "-" else [a.strip() for a in row["also"].split(",")],
            "scoring": row["scoring"], "evidence": _list(row["evidence"]),
            "indicators": [indicator(c, harm=False, library=library)
                           for c in _list(row["indicators"])],
            "harm_checks": [indicator(c, harm=True, library=library)
                            for c in _list(row["harm_check"])],
        })
    harm = [{"code": code, "meaning": r["meaning"], "computed_from": r["computed_from"],
             "crosswalk": [] if r["crosswalk"] == "-" else
             [c.strip() for c in str(r["crosswalk"]).split(",")],
             "rows": [x.strip() for x in str(r["rows"]).split(",")]}
            for code, r in library.items()]
    return {"framework": "declaration-2025", "name": "Political Declaration on trafficking in "
            "persons (2025 appraisal, A/RES/80/9): commitment catalogue",
            "version": version, "valid_from": "2025-11-25",
            "source": "ctip design note FOLLOW-UP-AND-EXCHANGE.md, part A0 (paraphrases)",
            "commitments": rows, "harm_library": harm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--note", type=Path, default=NOTE)
    parser.add_argument("--version", default="1")
    args = parser.parse_args()
    data = build(args.note, args.version)
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"declaration-2025.v{args.version}.json"
    target.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target} ({len(data['commitments'])} commitments)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
