"""The `rapport` command."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.orm import Session

from app import migrate as migrations
from app.accounts import service
from app.accounts.schemas import SCOPES, ApiKeyIn, RegisterIn
from app.config import get_settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.errors import AppError
from app.models import Role

app = typer.Typer(help="Rapport: informational interviews for students.", no_args_is_help=True)
users = typer.Typer(help="Manage accounts.", no_args_is_help=True)
api_keys = typer.Typer(help="Manage API keys.", no_args_is_help=True)
app.add_typer(users, name="users")
app.add_typer(api_keys, name="api-keys")
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code=1)


def _describe(exc: AppError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return "; ".join([exc.detail, *(f"{f}: {m}" for f, m in exc.fields)])


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    out.print(f"Rapport is running at [bold]http://{host}:{port}[/bold] (Ctrl+C stops it)")
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port,
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
                log_level="info")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    url = get_settings().database_url
    migrations.upgrade(url)
    out.print("The database is up to date.")


@users.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[Role, typer.Option(help="student, staff or admin.")] = Role.student,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (any role; registration settings do not apply)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = RegisterIn(email=email, password=password, name=name)
        with _db() as db:
            user = service.create_user(db, data.email, data.password, data.name, role)
            out.print(f"Created {user.role} {user.email} (id {user.id}).")
    except (ValidationError, AppError) as exc:
        raise _fail(_describe(exc)) from exc


@api_keys.command("create")
def api_keys_create(
    email: Annotated[str, typer.Option(help="Owner's email.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scopes: Annotated[str, typer.Option(help=f"Comma-separated, from: {', '.join(SCOPES)}.")],
) -> None:
    """Create an API key and print its secret (shown once)."""
    try:
        data = ApiKeyIn(name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        with _db() as db:
            user = service.get_user_by_email(db, email)
            if user is None:
                raise _fail(f"There is no account with the email {email}.")
            _, secret = service.create_api_key(db, user, data.name, list(data.scopes))
    except (ValidationError, AppError) as exc:
        raise _fail(_describe(exc)) from exc
    err.print("Store this key now; it will not be shown again.")
    out.print(secret, highlight=False)


@contextmanager
def _db() -> Iterator[Session]:
    """One committed unit of work against the configured database."""
    engine = make_engine(get_settings().database_url)
    try:
        yield from session_scope(make_sessionmaker(engine))
    finally:
        engine.dispose()


def main() -> None:
    app()
