"""CLI commands for the stats area (filled in by the work on that area)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
