"""The `rapport` command."""

import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console

# `rapport --help` loads only typer: each command imports the settings, the app, the models and
# the database layer it needs when it runs.
if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy.orm import Session

    from app.config import Settings
    from app.errors import AppError

ROLES = ("student", "staff", "admin")  # app.models.Role, without loading the models

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


def _settings() -> "Settings":
    from app.config import get_settings

    return get_settings()


def _describe(exc: "AppError | ValidationError") -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return "; ".join([exc.detail, *(f"{f}: {m}" for f, m in exc.fields)])


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="App processes answering requests (RAPPORT_WORKERS, default 1).")
    ] = None,
) -> None:
    """Serve the web app and the API, from one process or several."""
    import uvicorn

    from app.webhooks.worker import start_in_background

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    workers = workers or settings.workers
    processes = f" by {workers} processes" if workers > 1 else ""
    out.print(f"Rapport is running at [bold]http://{host}:{port}[/bold]{processes} "
              "(Ctrl+C stops it)")
    # Webhook deliveries go out from this process, unless a separate `rapport worker` runs. With
    # several workers this is the parent that watches them: uvicorn starts each one as a fresh
    # interpreter (spawned, not forked), so the sender runs once, however many answer requests.
    stop = start_in_background(settings) if settings.webhooks_worker_in_app else None
    try:
        uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips,
                    log_level="info")
    finally:
        if stop is not None:
            stop.set()


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Purge and send what is due now, then "
                                       "stop.")] = False,
) -> None:
    """Send webhook deliveries and reminder emails: what is due, then whatever falls due, until
    stopped; and delete what has been kept long enough, at once and then hourly. Run as many as
    you like, on any machine: nothing is sent by two of them."""
    from app import purge
    from app.db import make_engine, make_sessionmaker, utcnow
    from app.reminders.worker import ReminderWorker
    from app.webhooks.worker import Worker

    settings = _settings()
    engine = make_engine(settings.database_url)
    sender = Worker(make_sessionmaker(engine), settings)
    reminders = ReminderWorker(make_sessionmaker(engine), settings)
    try:
        if once:
            with make_sessionmaker(engine)() as db:
                purged = purge.purge(db, settings, utcnow())
            out.print("Purged (rows past their retention): " + ", ".join(
                f"{kind.replace('_', ' ')} {n}" for kind, n in purged.items()) + ".")
            tried = sender.drain()
            out.print(f"{tried} webhook deliver{'y' if tried == 1 else 'ies'} tried.")
            if not settings.email_enabled:
                out.print("Reminder emails are off (RAPPORT_SMTP_URL and RAPPORT_MAIL_FROM).")
                return
            done = reminders.drain()
            out.print(f"{done.sent} reminder email{'' if done.sent == 1 else 's'} sent, "
                      f"{done.failed} not sent (to be tried again, or failed).")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        mail = " and reminder emails" if settings.email_enabled else ""
        out.print(f"Sending webhook deliveries{mail} (Ctrl+C stops it).")
        emails = threading.Thread(target=reminders.run, args=(stop,), name="reminder-worker")
        emails.start()
        purging = threading.Thread(target=purge.run, name="purge",
                                   args=(make_sessionmaker(engine), settings, stop))
        purging.start()
        try:
            sender.run(stop)
        except KeyboardInterrupt:
            stop.set()
        emails.join()
        purging.join()
    finally:
        engine.dispose()


@app.command()
def migrate() -> None:
    """Bring the database schema up to date. In development, the first run also writes a .env
    file here (a secret key of its own, the database URL) for the server and this command."""
    from app import migrate as migrations

    settings = _settings()
    migrations.upgrade(settings.database_url)
    out.print("The database is up to date.")
    _remember_development_settings(settings)


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(dir_okay=False, help="The file to write (never one "
                                         "that exists).")],
) -> None:
    """Copy a live SQLite database to PATH while the app keeps running, and check the copy.
    On PostgreSQL, prints the pg_dump command to use instead."""
    import os
    import shlex
    import sqlite3

    from sqlalchemy.engine import URL, make_url

    url = make_url(_settings().database_url)
    if url.get_backend_name() != "sqlite":
        target = URL.create(url.get_backend_name(), url.username, None, url.host, url.port,
                            url.database, url.query)
        err.print("[red]Error:[/red] rapport backup copies SQLite databases; on PostgreSQL "
                  "use pg_dump (it reads the password from PGPASSWORD or ~/.pgpass):\n"
                  f"  pg_dump --format=custom --file {shlex.quote(str(path))} "
                  f"{shlex.quote(target.render_as_string())}", soft_wrap=True, highlight=False)
        raise typer.Exit(code=1)
    source = Path(url.database or "")
    if not url.database or url.database == ":memory:" or not source.is_file():
        raise _fail(f"There is no database file at {source} to back up.")
    if path.exists():
        raise _fail(f"{path} exists: give a new file name.")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # One step: the copy is the database as it was when the backup began, while the app
        # goes on writing (WAL).
        with closing(sqlite3.connect(source, timeout=30)) as live, \
                closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)
            problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise _fail(f"The copy failed its integrity check: {'; '.join(problems[:5])}")
        if path.exists():
            raise _fail(f"{path} exists: give a new file name.")
        os.replace(partial, path)
    except (sqlite3.Error, OSError) as exc:
        raise _fail(f"The backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    out.print(f"Backed up {source} to {path} (integrity check: ok).", highlight=False)


def _remember_development_settings(settings: "Settings") -> None:
    from app.config import write_development_env

    if write_development_env(settings, Path(".env")):
        out.print("Wrote .env with a new secret key and this database: `rapport` commands run "
                  "here use them.")


@users.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[str, typer.Option(click_type=click.Choice(ROLES),
                                      help="student, staff or admin.")] = "student",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an account (any role; registration settings do not apply)."""
    from pydantic import ValidationError

    from app.accounts import service
    from app.accounts.schemas import RegisterIn
    from app.errors import AppError
    from app.models import Role

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    from app import audit
    from app.admin.service import ROLE_NAMES

    try:
        data = RegisterIn(email=email, password=password, name=name)
        with _db() as db:
            user = service.create_user(db, data.email, data.password, data.name, Role(role))
            audit.record(db, audit.CLI, audit.Action.user_created, target_type="user",
                         target_id=user.id,
                         summary=f"Created the {ROLE_NAMES[Role(role)]} account {user.name} "
                                 f"({user.email})",
                         details={"role": user.role})
            out.print(f"Created {user.role} {user.email} (id {user.id}).")
    except (ValidationError, AppError) as exc:
        raise _fail(_describe(exc)) from exc


@api_keys.command("create")
def api_keys_create(
    email: Annotated[str, typer.Option(help="Owner's email.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated, such as profile:read,"
                                             "contacts:read (a wrong one is refused with the "
                                             "list of scopes).")],
) -> None:
    """Create an API key and print its secret (shown once)."""
    from pydantic import ValidationError

    from app import audit
    from app.accounts import service
    from app.accounts.schemas import ApiKeyIn
    from app.errors import AppError

    try:
        data = ApiKeyIn(name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()])
        with _db() as db:
            user = service.get_user_by_email(db, email)
            if user is None:
                raise _fail(f"There is no account with the email {email}.")
            key, secret = service.create_api_key(db, user, data.name, list(data.scopes))
            audit.record(db, audit.CLI, audit.Action.api_key_created, target_type="api_key",
                         target_id=key.id,
                         summary=f"Created the API key “{key.name}” ({key.prefix}…) of "
                                 f"{user.email} with {', '.join(key.scopes)}",
                         details={"scopes": key.scopes})
    except (ValidationError, AppError) as exc:
        raise _fail(_describe(exc)) from exc
    err.print("Store this key now; it will not be shown again.")
    out.print(secret, highlight=False)


@users.command("list")
def users_list(
    role: Annotated[str | None, typer.Option(click_type=click.Choice(ROLES),
                                             help="Only accounts with this role.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array instead of a table.")
                       ] = False,
) -> None:
    """List accounts by name: email, role, status, created and last active."""
    import json

    from rich.table import Table

    from app.admin import service as admin
    from app.models import Role

    settings = _settings()
    filters = admin.UserFilters(role=Role(role) if role else None)
    found: list[dict[str, object]] = []
    with _db() as db:
        cursor = None
        while True:
            items, cursor = admin.list_users(db, settings, filters, 200, cursor, full=True)
            found += items
            if cursor is None:
                break
    if as_json:
        typer.echo(json.dumps([{k: v.isoformat() if hasattr(v, "isoformat") else v
                                for k, v in item.items()} for item in found], indent=2))
        return
    if not found:
        out.print("No accounts" + (f" with the role {role}." if role else "."))
        return
    table = Table("Name", "Email", "Role", "Status", "Created", "Last active")
    for item in found:
        created, seen = item["created_at"], item["last_active_at"]
        table.add_row(str(item["name"]), str(item["email"]), str(item["role"]),
                      str(item["status"]), f"{created:%Y-%m-%d}",
                      f"{seen:%Y-%m-%d %H:%M}" if seen else "not known")
    out.print(table)


def _change_user(email: str, change: str) -> None:
    """Run one administration action on the account with ``email``, recorded in the audit log
    as done by the command line; a clear message and exit code 1 when it cannot be done."""
    from app import audit
    from app.admin import service as admin
    from app.errors import AppError
    from app.models import Role

    try:
        with _db() as db:
            user = admin.find_by_email(db, email)
            if change == "deactivate":
                if user.deactivated_at is not None:
                    out.print(f"{user.email} was deactivated already.")
                    return
                admin.deactivate(db, audit.CLI, user)
                out.print(f"Deactivated {user.email}: every session and API key of it stopped "
                          "working, and it cannot log in.")
            elif change == "reactivate":
                if user.deactivated_at is None:
                    out.print(f"{user.email} is active already.")
                    return
                admin.reactivate(db, audit.CLI, user)
                out.print(f"Reactivated {user.email}: it can log in again.")
            else:
                before = user.role
                admin.change_role(db, audit.CLI, user, Role(change))
                out.print(f"{user.email} is {change} already." if before == change
                          else f"{user.email} is now {change} (was {before}).")
    except AppError as exc:
        raise _fail(_describe(exc)) from exc


@users.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Option(help="The account's email.")],
    role: Annotated[str, typer.Option(click_type=click.Choice(ROLES),
                                      help="student, staff or admin.")],
) -> None:
    """Change an account's role (never the last active administrator's)."""
    _change_user(email, role)


@users.command("deactivate")
def users_deactivate(email: Annotated[str, typer.Option(help="The account's email.")]) -> None:
    """Deactivate an account: its sessions and API keys stop at once, and it cannot log in."""
    _change_user(email, "deactivate")


@users.command("reactivate")
def users_reactivate(email: Annotated[str, typer.Option(help="The account's email.")]) -> None:
    """Let a deactivated account log in again (its API keys work again)."""
    _change_user(email, "reactivate")


@users.command("delete")
def users_delete(
    email: Annotated[str, typer.Option(help="The account's email.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account and everything it owns (the alumni directory stays)."""
    from app import audit
    from app.admin import service as admin
    from app.errors import AppError

    try:
        with _db() as db:
            user = admin.find_by_email(db, email)
            name, address = user.name, user.email
        # Asked with no transaction open: on SQLite, one would hold the write lock meanwhile.
        if not yes and not typer.confirm(f"Delete the account of {name} ({address}) and "
                                         "everything it owns? This cannot be undone."):
            raise _fail("Nothing was deleted.")
        with _db() as db:
            admin.delete_user(db, audit.CLI, admin.find_by_email(db, address))
    except AppError as exc:
        raise _fail(_describe(exc)) from exc
    out.print(f"Deleted {address} and everything it owned.")


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV, LinkedIn or Google CSV, vCard or JSON.")],
    target: Annotated[str, typer.Option(help="contacts (a student's) or directory (staff).")],
    user: Annotated[str, typer.Option(help="Email of the account importing: the student whose "
                                           "contacts, or the staff member writing the directory.")],
    format: Annotated[str, typer.Option(help="auto, csv, linkedin, google, vcard or json.")] = "auto",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")] = False,
    errors_csv: Annotated[Path | None, typer.Option(help="Write the rows that did not go in "
                                                         "here, with a reason column.")] = None,
) -> None:
    """Import a file, with a progress bar. Run it again after an interruption: it carries on."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from app import audit
    from app.accounts import service
    from app.db import make_engine, make_sessionmaker
    from app.errors import AppError
    from app.imports import service as imports
    from app.imports.reading import FileProblem

    if target not in imports.TARGETS:
        raise _fail(f"--target must be one of: {', '.join(imports.TARGETS)}.")
    started = time.monotonic()
    with _db() as db, path.open("rb") as binary:
        owner = service.get_user_by_email(db, user)
        if owner is None:
            raise _fail(f"There is no account with the email {user}.")
        size = max(path.stat().st_size, 1)
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.fields[lines]:,} lines · {task.fields[rate]:,.0f} rows/s"),
                      TimeElapsedColumn(), console=err, transient=False,
                      auto_refresh=False) as bar:  # drawn at each batch, by this thread
            task = bar.add_task(escape(path.name), total=size, lines=0, rate=0.0)

            def progress(line: int) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                bar.update(task, completed=min(binary.tell(), size), lines=line,
                           rate=line / elapsed, refresh=True)

            try:
                job = imports.run(db, owner, binary, target=target, fmt=format,
                                  filename=path.name, dry_run=dry_run, progress=progress,
                                  max_rows=_settings().import_max_contact_rows,
                                  actor=audit.CLI)
            except (AppError, FileProblem) as exc:
                raise _fail(exc.message if isinstance(exc, FileProblem) else _describe(exc)) from exc
            bar.update(task, completed=size)
        if errors_csv is not None:
            with errors_csv.open("w", encoding="utf-8", newline="") as file:
                engine = make_engine(_settings().database_url)
                file.writelines(imports.failed_rows_csv(make_sessionmaker(engine), job.id))
                engine.dispose()
        problems = imports.errors_of(db, job, 10)
    elapsed = time.monotonic() - started
    verb = "Would import" if dry_run else "Imported"
    out.print(f"{verb} {path.name} ({job.format}) into {target}: {job.created:,} created, "
              f"{job.updated:,} updated, {job.unchanged:,} unchanged, {job.skipped:,} skipped, "
              f"{job.conflicts:,} in conflict "
              f"in {elapsed:.1f} s ({job.lines_done / max(elapsed, 1e-6):,.0f} rows/s). "
              f"Import {job.id}.", highlight=False, markup=False)
    for problem in problems:
        field = f" {problem.field}:" if problem.field else ""
        out.print(f"  row {problem.row}:{field} {problem.message}", highlight=False, markup=False)
    if job.skipped > len(problems):
        out.print("  … and more: --errors-csv FILE writes every failed row.", highlight=False)
    if job.status == "failed":
        raise _fail(f"{job.problem} Everything before row {job.lines_done + 1} was imported.")


@contextmanager
def _db() -> Iterator["Session"]:
    """One committed unit of work against the configured database."""
    from app.db import make_engine, make_sessionmaker, session_scope

    engine = make_engine(_settings().database_url)
    try:
        yield from session_scope(make_sessionmaker(engine))
    finally:
        engine.dispose()


def main() -> None:
    app()
