"""The ``ctip`` command line: a thin adapter that builds ``Settings``, calls services and presents.

Each area registers its commands from its own module (``register(app)``), so the command set
grows without one huge file. One handler turns every ``CtipError`` into a message and exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer

from ctip.cli.common import err_console
from ctip.errors import CtipError

app = typer.Typer(
    name="ctip",
    help="ctip: victim case records, national trafficking statistics, prevalence estimates and "
    "privacy-safe publication. Start with `ctip demo`.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

# Areas, each a module of ctip.cli with a ``register(app)`` function.
AREAS = ("store", "imports", "stats", "estimate", "link", "web", "demo", "publish", "followup",
         "finflows", "evidence", "ads", "supply")


@app.callback()
def _root(ctx: typer.Context) -> None:
    """Build the one Settings object lazily; commands fetch it with ``common.settings(ctx)``."""
    ctx.obj = ctx.obj or {}


for _area in AREAS:
    importlib.import_module(f"ctip.cli.{_area}").register(app)


def main() -> None:
    try:
        app()
    except CtipError as error:
        err_console.print(f"[bold red]Error:[/] {error}", highlight=False, markup=True)
        sys.exit(error.exit_code)
