"""Shared pieces for CLI commands: the settings object, consoles, JSON output, progress bars."""

from __future__ import annotations

import getpass
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


def os_user() -> str:
    """The operating-system account running the command (``cli`` when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def cli_investigator(agency: str) -> Any:
    """The command's operator as an investigator of ``agency`` (ads, supply chains)."""
    from ctip.domain.access import Principal, Role

    return Principal(f"cli:{os_user()}", os_user(), Role.INVESTIGATOR, agency)


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
