"""The `rapport` command."""

import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings, get_settings


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # a checkout of its own: `migrate` may write .env there
    monkeypatch.setenv("RAPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("RAPPORT_ENV", "development")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_users_create_reads_the_password_from_stdin(
    runner: CliRunner, client: TestClient
) -> None:
    result = runner.invoke(cli, ["users", "create", "--email", "Staff@Uni.edu", "--name",
                                 "Career Office", "--role", "staff", "--password-stdin"],
                           input="a long staff password\n")
    assert result.exit_code == 0, result.output
    assert "Created staff staff@uni.edu" in result.output
    response = client.post("/api/v1/auth/login",
                           json={"email": "staff@uni.edu", "password": "a long staff password"})
    assert response.status_code == 200 and response.json()["role"] == "staff"
    assert response.json()["email_verified"] is True  # whoever made it vouches for the address


def test_users_create_explains_bad_input(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["users", "create", "--email", "nope", "--name", "X",
                                 "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output


def test_api_keys_create_prints_a_working_secret(
    runner: CliRunner, make_client: Callable[[], TestClient]
) -> None:
    runner.invoke(cli, ["users", "create", "--email", "crm@uni.edu", "--name", "CRM",
                        "--role", "staff", "--password-stdin"], input="a long staff password\n")
    result = runner.invoke(cli, ["api-keys", "create", "--email", "crm@uni.edu", "--name",
                                 "Slate", "--scopes", "profile:read,contacts:read"])
    assert result.exit_code == 0, result.output
    secret = next(line for line in result.stdout.splitlines() if line.startswith("rpk_"))
    response = make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.json()["email"] == "crm@uni.edu"


def test_api_keys_create_for_an_unknown_user_fails(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["api-keys", "create", "--email", "ghost@uni.edu", "--name",
                                 "x", "--scopes", "profile:read"])
    assert result.exit_code == 1 and "no account" in result.output


def test_migrate_reports_success(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_migrate_in_development_writes_a_env_file_once(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0 and "Wrote .env" in result.output
    written = Path(".env").read_text()
    assert "RAPPORT_ENV=development" in written and "RAPPORT_DATABASE_URL=" in written
    secret = next(line for line in written.splitlines() if line.startswith("RAPPORT_SECRET_KEY="))
    assert len(secret.partition("=")[2]) >= 32
    assert Path(".env").stat().st_mode & 0o077 == 0  # the secret is the owner's alone

    Path(".env").write_text(written + "RAPPORT_REGISTRATION=closed\n")  # edited by hand
    again = runner.invoke(cli, ["migrate"])
    assert again.exit_code == 0 and "Wrote .env" not in again.output
    assert Path(".env").read_text() == written + "RAPPORT_REGISTRATION=closed\n"


def test_migrate_in_production_writes_no_env_file(runner: CliRunner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_ENV", "production")
    monkeypatch.setenv("RAPPORT_SECRET_KEY", "a-production-secret-of-at-least-32-characters")
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert not Path(".env").exists()


def test_users_create_needs_nothing_but_the_env_file_from_migrate(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, database_url: str, client: TestClient
) -> None:
    assert runner.invoke(cli, ["migrate"]).exit_code == 0  # what `make run` does first
    for name in ("RAPPORT_ENV", "RAPPORT_DATABASE_URL", "RAPPORT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()

    result = runner.invoke(cli, ["users", "create", "--email", "admin@uni.edu", "--name",
                                 "Admin", "--role", "admin", "--password-stdin"],
                           input="a long admin password\n")
    assert result.exit_code == 0, result.output
    settings = Settings()  # what the server started here reads
    assert settings.env == "development" and settings.database_url == database_url
    response = client.post("/api/v1/auth/login",
                           json={"email": "admin@uni.edu", "password": "a long admin password"})
    assert response.status_code == 200 and response.json()["role"] == "admin"


def test_users_create_offers_the_roles_there_are() -> None:
    from app.cli import ROLES
    from app.models import Role

    assert tuple(Role) == ROLES


def test_help_loads_neither_the_app_nor_the_database_layer() -> None:
    probe = ("import sys\n"
             "from typer.testing import CliRunner\n"
             "from app.cli import app\n"
             "result = CliRunner().invoke(app, ['--help'])\n"
             "assert result.exit_code == 0 and 'users' in result.output\n"
             "heavy = ('fastapi', 'sqlalchemy', 'pydantic', 'app.main', 'app.models', "
             "'app.imports', 'alembic')\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy "
             "or m.startswith(heavy)))\n")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `rapport serve` asked of uvicorn, and how many webhook senders it started here
    (uvicorn itself is not run: the real server is tests/test_availability.py's)."""
    seen: dict[str, Any] = {"senders": 0}

    def start_sender(settings: Settings) -> threading.Event:
        seen["senders"] += 1
        return threading.Event()

    monkeypatch.setattr("app.webhooks.worker.start_in_background", start_sender)
    monkeypatch.setattr("uvicorn.run", lambda app, **options: seen.update(app=app, **options))
    return seen


def test_serve_with_several_workers_starts_one_webhook_sender(
    runner: CliRunner, served: dict[str, Any]
) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "4", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "by 4 processes" in result.output
    # The workers are fresh interpreters that build the app from its name: none starts a sender.
    assert served["app"] == "app.main:create_app" and served["factory"] is True
    assert served["workers"] == 4 and served["port"] == 8123
    assert served["senders"] == 1


def test_serve_reads_the_workers_from_the_settings(
    runner: CliRunner, served: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_WORKERS", "3")
    monkeypatch.setenv("RAPPORT_WEBHOOKS_WORKER_IN_APP", "false")
    get_settings.cache_clear()
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    assert served["workers"] == 3
    assert served["senders"] == 0  # a separate `rapport worker` sends


def test_serve_serves_from_one_process_by_default(runner: CliRunner,
                                                  served: dict[str, Any]) -> None:
    assert runner.invoke(cli, ["serve"]).exit_code == 0
    assert served["workers"] == 1 and served["senders"] == 1


def test_serve_refuses_zero_workers(runner: CliRunner, served: dict[str, Any]) -> None:
    result = runner.invoke(cli, ["serve", "--workers", "0"])
    assert result.exit_code == 2 and "app" not in served


def _sqlite_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CliRunner, str]:
    """`rapport` on a SQLite database of its own, whichever database the other tests use."""
    from app import migrate

    url = f"sqlite:///{tmp_path / 'live.db'}"
    migrate.upgrade(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    monkeypatch.setenv("RAPPORT_ENV", "development")
    get_settings.cache_clear()
    return CliRunner(), url


def test_backup_copies_a_live_sqlite_database(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from sqlalchemy.orm import Session

    from app.db import make_engine
    from app.models import User

    runner, url = _sqlite_runner(tmp_path, monkeypatch)
    engine = make_engine(url)

    def add(db: Session, n: int) -> None:
        db.add(User(email=f"student{n}@uni.edu", password_hash="x", name=f"Student {n}"))
        db.commit()

    with Session(engine) as db:
        for n in range(50):
            add(db, n)
    stop, written = threading.Event(), [50]

    def keep_writing() -> None:
        with Session(engine) as db:
            while not stop.is_set():
                add(db, written[0])
                written[0] += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = runner.invoke(cli, ["backup", "copy.db"])
    finally:
        stop.set()
        writer.join()
        engine.dispose()
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "integrity check: ok" in result.output

    with closing(sqlite3.connect(tmp_path / "copy.db")) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        emails = {row[0] for row in copy.execute("SELECT email FROM users")}
    assert {f"student{n}@uni.edu" for n in range(50)} <= emails
    assert len(emails) <= written[0]
    assert not list(tmp_path.glob(".copy.db*"))  # nothing left half-written

    again = runner.invoke(cli, ["backup", "copy.db"])
    assert again.exit_code == 1 and "exists" in again.output


def test_backup_on_postgresql_points_to_pg_dump(runner: CliRunner,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL",
                       "postgresql+psycopg://rapport:s3cret-word@db.uni.edu:5433/rapport")
    get_settings.cache_clear()
    result = runner.invoke(cli, ["backup", "rapport.dump"])
    assert result.exit_code == 1
    assert ("pg_dump --format=custom --file rapport.dump "
            "postgresql://rapport@db.uni.edu:5433/rapport") in result.output
    assert "s3cret-word" not in result.output
    assert not Path("rapport.dump").exists()
