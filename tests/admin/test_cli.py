"""`rapport users list / set-role / deactivate / reactivate / delete`: what an operator on the
server can do, each recorded in the audit log as done by the command line."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import get_settings
from tests.admin.helpers import Person, account, entries
from tests.conftest import PASSWORD, register


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
           ) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAPPORT_DATABASE_URL", database_url)
    monkeypatch.setenv("RAPPORT_ENV", "development")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_users_list_shows_a_table_or_json(runner: CliRunner, admin: Person, student: Person,
                                          client: TestClient) -> None:
    register(client, email="sam@uni.edu", name="Sam Staff")
    table = runner.invoke(cli, ["users", "list"])
    assert table.exit_code == 0, table.output
    assert "Ada Admin" in table.output and "maya@uni.edu" in table.output
    assert "Last active" in table.output
    as_json = runner.invoke(cli, ["users", "list", "--json"])
    listed = json.loads(as_json.stdout)
    assert [u["email"] for u in listed] == ["ada@uni.edu", "maya@uni.edu", "sam@uni.edu"]
    assert listed[0]["role"] == "admin" and listed[1]["status"] == "active"
    admins = json.loads(runner.invoke(cli, ["users", "list", "--role", "admin", "--json"]).stdout)
    assert [u["email"] for u in admins] == ["ada@uni.edu"]
    assert runner.invoke(cli, ["users", "list", "--role", "dean"]).exit_code != 0


def test_set_role_changes_it_and_records_the_command_line(
    app: FastAPI, runner: CliRunner, admin: Person, student: Person
) -> None:
    result = runner.invoke(cli, ["users", "set-role", "--email", "MAYA@uni.edu", "--role",
                                 "staff"])
    assert result.exit_code == 0, result.output
    assert "maya@uni.edu is now staff (was student)" in result.output
    assert student.client.get("/api/v1/me").json()["role"] == "staff"
    again = runner.invoke(cli, ["users", "set-role", "--email", "maya@uni.edu", "--role", "staff"])
    assert again.exit_code == 0 and "already" in again.output
    [entry] = entries(app)
    assert (entry.action, entry.actor_id, entry.actor_email, entry.actor_role) == \
        ("user.role_changed", None, "cli", None)
    assert entry.client_address is None and entry.target_id == student.id


def test_the_command_line_keeps_the_last_active_administrator(
    runner: CliRunner, admin: Person, app: FastAPI
) -> None:
    for args in (["set-role", "--email", admin.email, "--role", "staff"],
                 ["deactivate", "--email", admin.email],
                 ["delete", "--email", admin.email, "--yes"]):
        result = runner.invoke(cli, ["users", *args])
        assert result.exit_code == 1, args
        assert "last active administrator" in result.output
    assert admin.client.get("/api/v1/me").json()["role"] == "admin"
    assert entries(app) == []


def test_deactivate_and_reactivate(runner: CliRunner, student: Person,
                                   make_client: Callable[[], TestClient], app: FastAPI) -> None:
    result = runner.invoke(cli, ["users", "deactivate", "--email", student.email])
    assert result.exit_code == 0 and "Deactivated maya@uni.edu" in result.output
    assert student.client.get("/api/v1/me").status_code == 401
    login = {"email": student.email, "password": PASSWORD}
    assert make_client().post("/api/v1/auth/login", json=login).status_code == 403
    result = runner.invoke(cli, ["users", "reactivate", "--email", student.email])
    assert result.exit_code == 0 and "Reactivated maya@uni.edu" in result.output
    assert make_client().post("/api/v1/auth/login", json=login).status_code == 200
    assert [e.action for e in entries(app)] == ["user.deactivated", "user.reactivated"]


def test_delete_asks_first_unless_told_yes(runner: CliRunner, student: Person,
                                           app: FastAPI) -> None:
    kept = runner.invoke(cli, ["users", "delete", "--email", student.email], input="n\n")
    assert kept.exit_code == 1 and "Nothing was deleted" in kept.output
    assert "Delete the account of Maya Okafor (maya@uni.edu)" in kept.output
    assert student.client.get("/api/v1/me").status_code == 200
    gone = runner.invoke(cli, ["users", "delete", "--email", student.email], input="y\n")
    assert gone.exit_code == 0 and "Deleted maya@uni.edu" in gone.output
    assert student.client.get("/api/v1/me").status_code == 401
    [entry] = entries(app)
    assert entry.action == "user.deleted" and entry.actor_email == "cli"


def test_unknown_emails_fail_clearly(runner: CliRunner) -> None:
    for args in (["set-role", "--email", "ghost@uni.edu", "--role", "staff"],
                 ["deactivate", "--email", "ghost@uni.edu"],
                 ["reactivate", "--email", "ghost@uni.edu"],
                 ["delete", "--email", "ghost@uni.edu", "--yes"]):
        result = runner.invoke(cli, ["users", *args])
        assert result.exit_code == 1, args
        assert "There is no account with the email ghost@uni.edu" in result.output


def test_accounts_and_keys_made_on_the_command_line_are_recorded(
    runner: CliRunner, app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    runner.invoke(cli, ["users", "create", "--email", "crm@uni.edu", "--name", "CRM",
                        "--role", "staff", "--password-stdin"], input="a long staff password\n")
    runner.invoke(cli, ["api-keys", "create", "--email", "crm@uni.edu", "--name", "Slate",
                        "--scopes", "directory:write"])
    log = entries(app)
    assert [(e.action, e.actor_email) for e in log] == [("user.created", "cli"),
                                                        ("api_key.created", "cli")]
    assert log[0].summary == "Created the staff account CRM (crm@uni.edu)"


def test_an_administrator_made_on_the_command_line_administers_at_once(
    runner: CliRunner, app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    boss = account(app, make_client(), "boss@uni.edu", "Bo Boss")
    assert boss.client.get("/api/v1/admin/users").status_code == 403
    runner.invoke(cli, ["users", "set-role", "--email", boss.email, "--role", "admin"])
    assert boss.client.get("/api/v1/admin/users").status_code == 200
