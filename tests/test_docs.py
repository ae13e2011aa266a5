"""Documentation cannot go stale: the README's command reference is generated from the real
``--help`` and every setting is documented (datasette's tests/test_docs.py idea)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ctip.settings import Settings

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _reference_module():
    spec = importlib.util.spec_from_file_location(
        "cli_reference", REPO / "scripts/cli_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_command_reference_matches_the_real_help():
    module = _reference_module()
    assert module.render(README) == README, "run: python scripts/cli_reference.py"


def test_every_setting_is_documented_in_the_readme():
    missing = [
        f"CTIP_{name.upper()}"
        for name in Settings.model_fields
        if f"CTIP_{name.upper()}" not in README
    ]
    assert not missing, f"undocumented settings: {missing}"


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in quick.splitlines() if line.startswith("python3 -m pip")]
    assert len(commands) == 2 and "ctip demo" in commands[0]
    ci = (REPO / ".ci/run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines()
