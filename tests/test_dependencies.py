"""Runtime dependencies are what the package imports: every library ``src/ctip`` imports is a
runtime dependency or in an extra, and every runtime dependency is imported (or is a named
plugin that a library loads by itself). Fast-moving majors have an upper bound."""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import grimp
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# runtime dependencies that no ctip module imports, because another library loads them
PLUGINS = {
    "httptools": "uvicorn's C HTTP parser",
    "uvloop": "uvicorn's event loop",
    "python-multipart": "FastAPI's form parser",
}
CAPPED = ("splink", "duckdb", "sqlalchemy", "numpy", "pandas", "altair", "numba")


def _name(requirement: str) -> str:
    return Requirement(requirement).name.lower().replace("_", "-")


def _imported_distributions() -> dict[str, set[str]]:
    """distribution name -> the ctip modules importing it."""
    graph = grimp.build_graph("ctip", include_external_packages=True)
    dists = packages_distributions()
    found: dict[str, set[str]] = {}
    for module in graph.modules:
        if not module.startswith("ctip"):
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            top = imported.split(".")[0]
            if top == "ctip" or top in sys.stdlib_module_names:
                continue
            for dist in dists.get(top, [top]):
                found.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    return found


def test_every_import_is_declared_and_every_dependency_imported() -> None:
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    extras = {_name(r) for extra, group in PROJECT["optional-dependencies"].items()
              if extra not in ("test", "bench") for r in group}  # optional features only
    imported = _imported_distributions()
    undeclared = {d: sorted(m)[:3] for d, m in imported.items() if d not in runtime | extras}
    assert not undeclared, f"imported but not a dependency: {undeclared}"
    unused = runtime - set(imported) - set(PLUGINS)
    assert not unused, (
        f"runtime dependencies no ctip module imports: {sorted(unused)}; move a test or script "
        "need to the 'test' extra, or name a plugin in PLUGINS with what loads it"
    )
    assert not set(PLUGINS) - runtime, "a plugin listed here is no longer a dependency"


def test_fast_moving_majors_are_capped() -> None:
    specs = {Requirement(r).name.lower(): Requirement(r).specifier for r in PROJECT["dependencies"]}
    uncapped = [name for name in CAPPED if not any(s.operator == "<" for s in specs[name])]
    assert not uncapped, f"give these an upper bound (the next major): {uncapped}"
