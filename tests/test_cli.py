"""The `rapport` command."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings, get_settings


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
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


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `rapport serve` asked of uvicorn, and how many webhook senders it started here
    (uvicorn itself is not run: the real server is tests/test_availability.py's)."""
    seen: dict[str, Any] = {"senders": 0}

    def start_sender(settings: Settings) -> threading.Event:
        seen["senders"] += 1
        return threading.Event()

    monkeypatch.setattr("app.cli.start_in_background", start_sender)
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
