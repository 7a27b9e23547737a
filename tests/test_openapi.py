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
