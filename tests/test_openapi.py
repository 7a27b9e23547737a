"""The committed openapi.json is the contract: it must match what the app serves."""

import json
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import ROOT


def test_committed_openapi_matches_the_app(app: FastAPI) -> None:
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert committed == app.openapi(), "openapi.json is stale: run `make openapi` and commit it"


def test_pages_stay_out_of_the_contract(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)
    for path in ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/logout",
                 "/api/v1/me", "/api/v1/api-keys", "/api/v1/api-keys/{key_id}", "/api/v1/health"]:
        assert path in paths


def test_each_operation_has_its_own_name_and_says_how_to_authenticate(app: FastAPI) -> None:
    schema = app.openapi()
    operations = [(path, method, operation) for path, methods in schema["paths"].items()
                  for method, operation in methods.items()]
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids))
    assert set(schema["components"]["securitySchemes"]) == {"apiKey", "session"}
    security = {(path, method): operation["security"] for path, method, operation in operations}
    assert security["/api/v1/health", "get"] == []
    assert security["/api/v1/auth/login", "post"] == []
    assert security["/api/v1/api-keys", "post"] == [{"session": []}]
    assert security["/api/v1/contacts", "get"] == [{"apiKey": []}, {"session": []}]
    scopes = {(path, method): operation.get("x-scopes") for path, method, operation in operations}
    assert scopes["/api/v1/contacts", "get"] == ["contacts:read"]
    assert scopes["/api/v1/directory", "post"] == ["directory:write"]
    assert "`contacts:write`" in schema["paths"]["/api/v1/contacts"]["post"]["description"]


def _operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method): operation for path, methods in app.openapi()["paths"].items()
            for method, operation in methods.items()}


def test_a_body_that_cannot_be_read_is_documented_wherever_a_body_is_sent(app: FastAPI) -> None:
    operations = _operations(app)
    with_body = [key for key, operation in operations.items() if "requestBody" in operation]
    assert ("/api/v1/contacts", "post") in with_body and ("/api/v1/imports", "post") in with_body
    for key in with_body:
        assert operations[key]["responses"]["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}, key
    assert "400" not in operations["/api/v1/contacts", "get"]["responses"]


def test_a_busy_database_is_documented_wherever_the_database_is_used(app: FastAPI) -> None:
    operations = _operations(app)
    for key, operation in operations.items():
        if key == ("/api/v1/health", "get"):  # answers without the database
            assert "503" not in operation["responses"]
            continue
        busy = operation["responses"]["503"]
        assert "database_busy" in busy["description"], key
        assert "Retry-After" in busy["headers"], key


def test_the_directorys_conflicts_are_documented(app: FastAPI) -> None:
    operations = _operations(app)
    writes = [("/api/v1/directory", "post"), ("/api/v1/directory/batch", "post"),
              ("/api/v1/directory/by-external-id/{external_id}", "put"),
              ("/api/v1/directory/by-external-id/{external_id}", "delete"),
              ("/api/v1/directory/{entry_id}", "patch"), ("/api/v1/directory/{entry_id}", "delete"),
              ("/api/v1/directory/{entry_id}/add-to-contacts", "post")]
    for key in writes:
        assert "409" in operations[key]["responses"], key
    assert "idempotency_key_in_use" in operations[writes[1]]["responses"]["409"]["description"]
    assert "409" not in operations["/api/v1/directory", "get"]["responses"]


# Each conflict a route can answer (its service raises it), with the code its description names.
CONFLICTS = [
    (("/api/v1/interviews/{interview_id}/questions", "post"), "already_on_the_list"),
    (("/api/v1/interviews/{interview_id}/calendar.ics", "get"), "not_scheduled"),
    (("/api/v1/interviews", "post"), "idempotency_key_in_use"),
    (("/api/v1/messages", "post"), "idempotency_key_in_use"),
    (("/api/v1/templates", "post"), "idempotency_key_in_use"),
    (("/api/v1/messages/{message_id}", "patch"), "already_sent"),
    (("/api/v1/messages/{message_id}", "patch"), "invalid_status"),
    (("/api/v1/imports", "post"), "import_running"),
    (("/api/v1/auth/register", "post"), "email_taken"),
    (("/api/v1/me", "patch"), "email_taken"),
    (("/api/v1/api-keys", "post"), "too_many_keys"),
    (("/api/v1/contacts", "post"), "contact_exists"),
    (("/api/v1/contacts", "post"), "idempotency_key_in_use"),
    (("/api/v1/contacts/{contact_id}", "patch"), "external_id_taken"),
    (("/api/v1/organizations", "post"), "organization_exists"),
    (("/api/v1/organizations/{organization_id}", "patch"), "organization_exists"),
]


@pytest.mark.parametrize(("operation", "code"), CONFLICTS)
def test_every_conflict_a_route_can_answer_is_documented(app: FastAPI, operation: tuple[str, str],
                                                         code: str) -> None:
    assert code in _operations(app)[operation]["responses"]["409"]["description"]
