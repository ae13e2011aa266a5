"""The one dependency rule of ARCHITECTURE.md, guarded by import-linter contracts.

The contracts live in pyproject.toml (``[tool.importlinter]``): the layers (adapters > services >
storage > maths > domain > base), "adapters import services and the domain's types only", and
the third-party libraries each layer may import. ``tests/ctip_contracts.py`` adds what
import-linter lacks: dynamic imports (``importlib.import_module``) count as imports, and a
per-layer allow-list. These tests run the contracts on the source tree, and show that each
form of a forbidden import breaks them when it is written into a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "ctip"
MODULES = sorted(PACKAGE.rglob("*.py"))
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]


def lint_imports(src: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the package found in ``src`` (the source tree, not an installed
    copy), as a developer runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(ROOT / "tests")])}
    args = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
            str(ROOT / "pyproject.toml"), "--no-cache"]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(args, cwd=src, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_contracts_are_kept() -> None:
    run = lint_imports(ROOT / "src")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in run.stdout, run.stdout


def test_every_package_directory_is_a_regular_package() -> None:
    """A directory without ``__init__.py`` is a namespace package, which grimp does not walk:
    its imports would escape every contract."""
    missing = sorted(
        str(d.relative_to(PACKAGE))
        for d in {p.parent for p in MODULES}
        if not (d / "__init__.py").is_file()
    )
    assert not missing, f"add an __init__.py to: {missing}"


def test_every_top_level_part_has_a_layer() -> None:
    """Also enforced by the layers contract (``exhaustive``); this says which line to edit."""
    layers = next(c for c in CONTRACTS if c["id"] == "layers")["layers"]
    named = {name.strip() for line in layers for name in line.replace("|", ":").split(":")}
    parts = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file()) and p.name != "__init__.py"}
    assert parts - named == set(), (
        "add the new package to its line of the layers contract in pyproject.toml "
        "(a maths package: the line 'ingest : stats : ...')"
    )


# Each forbidden form, written into one module of a copy of the package, and the contract that
# must then break. (module to edit, line to add, contract id)
FORBIDDEN = {
    "absolute": ("domain/records.py", "from ctip.storage import tables", "layers"),
    "relative": ("domain/records.py", "from ..storage import tables", "layers"),
    "package import": ("domain/records.py", "from ctip import storage", "layers"),
    "plain import": ("stats/tables.py", "import ctip.services.statistics", "layers"),
    "function-local": ("estimate/api.py",
                       "def _later():\n    from ctip.storage.repository import CaseStore\n"
                       "    return CaseStore", "layers"),
    "type-checking only": ("publish/kanon.py",
                           "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                           "    from ctip.services import publishing", "layers"),
    "importlib": ("domain/records.py",
                  "import importlib\n_store = importlib.import_module('ctip.storage.tables')",
                  "layers"),
    "importlib f-string": ("ingest/readers.py",
                           "import importlib\n\ndef _load(name):\n"
                           "    return importlib.import_module(f'ctip.services.{name}')",
                           "layers"),
    "importlib computed name": ("ingest/readers.py",
                                "import importlib\n\ndef _load(name):\n"
                                "    return importlib.import_module(name)", "layers"),
    "__import__": ("domain/records.py", "_s = __import__('ctip.storage.engine')", "layers"),
    "adapter skips services": ("cli/store.py", "from ctip.storage import engine", "adapters"),
    "adapter imports maths": ("web/app.py", "from ctip.stats import tables", "adapters"),
    "adapter relative maths": ("cli/store.py", "from ..estimate import api", "adapters"),
    "storage imports maths": ("storage/audit.py", "from ctip.ingest import writers", "storage"),
    "fastapi in storage": ("storage/engine.py", "import fastapi", "storage"),
    "typer in services": ("services/home.py", "import typer", "services"),
    "rich in maths": ("stats/tables.py", "from rich.console import Console", "maths"),
    "sqlalchemy in maths": ("linkage/dice.py", "import sqlalchemy", "maths"),
    "sqlalchemy in domain": ("domain/nrm.py", "import sqlalchemy as sa", "domain"),
    "third party in domain": ("domain/access.py", "import numpy", "domain"),
    "domain reads settings": ("domain/access.py", "from ctip.settings import Settings",
                              "domain"),
}


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(PACKAGE, src / "ctip", ignore=shutil.ignore_patterns("__pycache__"))
    kept = lint_imports(src)  # the copy as it is keeps every contract: each edit alone breaks one
    assert kept.returncode == 0, kept.stdout + kept.stderr
    return src


@pytest.mark.parametrize("form", sorted(FORBIDDEN))
def test_a_forbidden_import_breaks_the_contract(package_copy: Path, form: str) -> None:
    module, line, contract = FORBIDDEN[form]
    path = package_copy / "ctip" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\n\n" + line + "\n", encoding="utf-8")
    try:
        broken = lint_imports(package_copy, contract)
    finally:
        path.write_text(original, encoding="utf-8")
    assert broken.returncode == 1, f"{form}: {line!r} did not break '{contract}'\n{broken.stdout}"
    assert "0 kept, 1 broken" in broken.stdout, broken.stdout + broken.stderr
    dotted = "ctip." + module.removesuffix(".py").replace("/", ".")
    assert dotted in broken.stdout, broken.stdout  # the message names the offending module


def test_no_sql_outside_storage() -> None:
    """SQL text lives in storage/ (and analytics functions that take a DuckDB connection)."""
    offenders = []
    for path in MODULES:
        part = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if part in {"storage", "stats", "linkage", "estimate", "publish", "finflows", "supply"}:
            continue
        text = path.read_text(encoding="utf-8")
        for keyword in ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE"):
            for line in text.splitlines():
                quoted = '"' in line or "'" in line
                if keyword in line and quoted and not line.strip().startswith("#"):
                    offenders.append(f"{path.relative_to(PACKAGE)}: {line.strip()[:80]}")
    assert not offenders, "SQL outside storage/:\n" + "\n".join(offenders)
