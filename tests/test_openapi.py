"""The committed openapi.json is the contract: it must match what the app serves."""

import json

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
