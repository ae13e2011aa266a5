"""The one dependency rule of ARCHITECTURE.md: adapters -> services -> (storage, maths) -> domain.

Every module of the package is parsed (not imported) and each ``ctip.*`` import is checked against
the layer table below. The domain core may import only the standard library.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ctip"

# layer of each top-level part of the package
LAYER = {
    "errors": "base",
    "settings": "base",
    "domain": "core",
    "ingest": "maths",
    "stats": "maths",
    "estimate": "maths",
    "linkage": "maths",
    "publish": "maths",
    "reference": "maths",
    "ads": "maths",
    "storage": "storage",
    "services": "services",
    "cli": "adapters",
    "web": "adapters",
    "demo": "adapters",
    "demo_data": "adapters",
    "__init__": "base",
    "__main__": "adapters",
}

# which layers each layer may import from
MAY_IMPORT = {
    "base": {"base"},
    "core": {"base", "core"},
    "maths": {"base", "core", "maths"},
    "storage": {"base", "core", "storage"},
    "services": {"base", "core", "maths", "storage", "services"},
    "adapters": {"base", "core", "maths", "storage", "services", "adapters"},
}


def _part_of(module_path: Path) -> str:
    rel = module_path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _ctip_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layering(path: Path) -> None:
    part = _part_of(path)
    assert part in LAYER, f"{part} is not in the layer table of tests/test_architecture.py"
    layer = LAYER[part]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for lineno, name in _ctip_imports(tree):
        top = name.split(".")[0]
        if top == "ctip":
            target = name.split(".")[1] if "." in name else "__init__"
            target_layer = LAYER.get(target)
            assert target_layer in MAY_IMPORT[layer], (
                f"{path.relative_to(PACKAGE)}:{lineno} imports {name}: "
                f"the {layer} layer may not import the {target_layer} layer"
            )
        elif layer == "core":
            assert top in sys.stdlib_module_names or top == "__future__", (
                f"{path.relative_to(PACKAGE)}:{lineno} imports {name}: the domain core may "
                "import the standard library only"
            )


def test_no_sql_outside_storage() -> None:
    """SQL text lives in storage/ (and analytics functions that take a DuckDB connection)."""
    offenders = []
    for path in MODULES:
        part = _part_of(path)
        if part in {"storage", "stats", "linkage", "estimate", "publish"}:
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE"):
            for line in text.splitlines():
                quoted = '"' in line or "'" in line
                if keyword in line and quoted and not line.strip().startswith("#"):
                    offenders.append(f"{path.relative_to(PACKAGE)}: {line.strip()[:80]}")
    assert not offenders, "SQL outside storage/:\n" + "\n".join(offenders)
