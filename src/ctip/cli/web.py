"""CLI commands for the web area: ``ctip serve`` and ``ctip users add|list``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from ctip.cli.common import console, print_json, settings
from ctip.domain.access import Role

if TYPE_CHECKING:
    from ctip.services.accounts import Accounts

ROLES = ", ".join(r.value for r in Role)


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""

    @app.command(
        help="Run the web app (case management pages and the REST API under /api).\n\n"
        "Uses the SQLite file under CTIP_HOME by default; set CTIP_DATABASE_URL to a PostgreSQL "
        "URL (postgresql+psycopg://user@host/db) for a multi-user server.\n\n"
        "Beyond loopback, put a TLS-terminating reverse proxy in front: cookies are then marked "
        "Secure (X-Forwarded-Proto is trusted from 127.0.0.1 only)."
    )
    def serve(
        ctx: typer.Context,
        host: str = typer.Option(
            "127.0.0.1", "--host", help="Address to listen on (loopback by default)."
        ),
        port: int = typer.Option(8000, "--port", help="Port to listen on."),
        workers: int = typer.Option(
            1, "--workers", min=1, help="Worker processes (use >1 with PostgreSQL)."
        ),
    ) -> None:
        """Run the web app (help text above)."""
        import uvicorn

        from ctip.web.app import create_app

        common: dict[str, Any] = dict(
            host=host,
            port=port,
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            server_header=False,
            log_level="info",
            access_log=False,
        )
        if workers > 1:
            # each worker builds its own app (and Settings from the same environment) and
            # listens on its own socket, so connections spread evenly (ctip/web/serve.py)
            from ctip.web.serve import run

            run(**common, workers=workers)
        else:
            uvicorn.run(create_app(settings(ctx)), **common)

    users = typer.Typer(help="Manage user accounts (roles: " + ROLES + ").", no_args_is_help=True)

    @users.command("add")
    def users_add(
        ctx: typer.Context,
        username: str = typer.Argument(..., help="Login name (lower case)."),
        role: str = typer.Option(..., "--role", help=f"One of: {ROLES}."),
        agency: str = typer.Option(..., "--agency", help="The agency the user works for."),
        password: str = typer.Option(
            ...,
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters (prompted when not given).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    ) -> None:
        """Add a user. The TOTP secret is shown ONCE as an otpauth:// URI for an authenticator
        app."""
        from ctip.services.accounts import Accounts
        from ctip.services.casework import Casework

        s = settings(ctx)
        casework = Casework.open(s)
        new = Accounts.from_settings(s, casework.engine, casework.sealer, casework.audit).add_user(
            None, username.strip().lower(), password, role=role, agency=agency
        )
        if as_json:
            print_json(
                {
                    "user_id": new.user_id,
                    "username": new.username,
                    "role": new.role,
                    "agency": new.agency,
                    "otpauth_uri": new.otpauth_uri,
                }
            )
            return
        console.print(f"Added [bold]{new.username}[/] ({new.role}, {new.agency}).")
        console.print("Add this to the user's authenticator app now; it is not shown again:")
        console.print(new.otpauth_uri, highlight=False, soft_wrap=True)

    @users.command("list")
    def users_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
        """List user accounts (no secrets)."""
        from rich.table import Table

        from ctip.domain.access import Principal
        from ctip.services.accounts import Accounts
        from ctip.services.casework import Casework

        s = settings(ctx)
        casework = Casework.open(s)
        operator = Principal("cli", "cli", Role.NATIONAL_ADMIN, "-")  # the server operator
        accounts = Accounts.from_settings(s, casework.engine, casework.sealer, casework.audit)
        rows = accounts.users(operator)
        if as_json:
            print_json(rows)
            return
        table = Table("username", "role", "agency", "active", "locked until")
        for r in rows:
            table.add_row(
                r["username"],
                r["role"],
                r["agency"],
                str(r["active"]),
                str(r["locked_until"] or ""),
            )
        console.print(table)

    @users.command("unlock")
    def users_unlock(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
        """Lift a lockout after repeated failed logins."""
        _accounts(ctx).unlock(None, username)
        console.print(f"Unlocked {username}.")

    @users.command("deactivate")
    def users_deactivate(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
        """Deactivate an account (its sessions stop at once); the audit trail is kept."""
        _accounts(ctx).set_active(None, username, False)
        console.print(f"Deactivated {username}.")

    app.add_typer(users, name="users")


def _accounts(ctx: typer.Context) -> Accounts:
    from ctip.services.accounts import Accounts
    from ctip.services.casework import Casework

    s = settings(ctx)
    casework = Casework.open(s)
    return Accounts.from_settings(s, casework.engine, casework.sealer, casework.audit)
