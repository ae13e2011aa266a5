"""Write the README's command reference from the real ``--help`` of every command (as datasette
does with cog), so the reference never goes stale. ``tests/test_docs.py`` fails when it has.

    python scripts/cli_reference.py          # rewrite the README section
    python scripts/cli_reference.py --check  # exit 1 if the README is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer.main

from ctip.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def _commands(group: Any, prefix: str = "ctip") -> list[tuple[str, Any]]:
    out = []
    for name in sorted(group.commands):
        command = group.commands[name]
        path = f"{prefix} {name}"
        if hasattr(command, "commands"):
            out += _commands(command, path)
        else:
            out.append((path, command))
    return out


def reference() -> str:
    root = typer.main.get_command(app)
    lines = []
    for path, command in _commands(root):
        summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        with command.context_class(command, info_name=path) as ctx:
            usage = command.collect_usage_pieces(ctx)
        lines.append(f"- `{path} {' '.join(usage)}`".rstrip() + f": {summary}")
    return "\n".join(lines)


def render(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{reference()}\n{END}{tail}"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README command reference is out of date: run python scripts/cli_reference.py")
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
