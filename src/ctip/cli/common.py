"""Shared pieces for CLI commands: the settings object, consoles, JSON output, progress bars."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ctip.settings import Settings

console = Console()
err_console = Console(stderr=True)


def settings(ctx: typer.Context) -> Settings:
    """The one Settings object for this invocation (created on first use, from the environment)."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "settings" not in root.obj:
        root.obj["settings"] = Settings()
    return root.obj["settings"]


def print_json(data: Any) -> None:
    """Machine-readable output: one JSON document on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def progress(transient: bool = True) -> Progress:
    """A progress bar for long work; written to stderr so ``--json`` output stays clean."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
