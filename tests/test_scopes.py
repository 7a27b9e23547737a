"""An API key reaches a route only with the route's scope: reads need a :read scope, writes a
:write one, of the part of the API the route belongs to.

The walk covers every /api/v1 route of the app, so a route added later without a scope (or with
one of another part of the API) fails here until it gets the right one or is taught below."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts import service as accounts
from app.accounts.schemas import SCOPES
from app.models import User
from tests.conftest import api_key, signed_in
from tests.imports.helpers import make_staff
from tests.test_privacy import all_routes

NO_ID = "01nonexistent0000000000000"

# Routes anyone may call, and routes a key may never call (they manage credentials).
PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/register"),
          ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/oidc/link"),
          ("POST", "/api/v1/auth/password-reset"),
          ("POST", "/api/v1/auth/password-reset/confirm"), ("POST", "/api/v1/auth/verify-email")}
SESSION_ONLY = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/me/password"),
                ("DELETE", "/api/v1/me"),
                ("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys"),
                ("DELETE", "/api/v1/api-keys/{key_id}"),
                ("POST", "/api/v1/me/calendar-feed"), ("DELETE", "/api/v1/me/calendar-feed")}

# The part of the API each first path segment belongs to.
PARTS = {"me": "profile", "contacts": "contacts", "organizations": "contacts",
         "questions": "interviews", "interviews": "interviews", "tasks": "interviews",
         "templates": "messages", "messages": "messages", "directory": "directory"}

# Routes that need more than their own part's scope, or a reading scope for a POST.
NEEDS: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/export.json"): {"profile:read", "contacts:read", "interviews:read",
                                     "messages:read"},
    ("POST", "/api/v1/messages/preview"): {"messages:read"},  # drafts nothing, stores nothing
    ("POST", "/api/v1/auth/verify-email/resend"): {"profile:write"},
    ("POST", "/api/v1/interviews/{interview_id}/referrals"): {"interviews:write",
                                                              "contacts:write"},
    ("POST", "/api/v1/directory/{entry_id}/add-to-contacts"): {"directory:read",
                                                               "contacts:write"},
}
# Routes that take either scope (the import's target decides which one it then needs).
EITHER: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/v1/imports"): {"contacts:write", "directory:write"},
    ("GET", "/api/v1/imports"): {"contacts:read", "directory:read"},
    ("GET", "/api/v1/imports/{import_id}"): {"contacts:read", "directory:read"},
    ("GET", "/api/v1/imports/{import_id}/errors.csv"): {"contacts:read", "directory:read"},
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted({(method, re.sub(r"{(\w+):\w+}", r"{\1}", path))
                   for path, route in all_routes(app.routes) if path.startswith("/api/v1/")
                   for method in route.methods - {"HEAD"}})


def expected_scopes(method: str, path: str) -> set[str]:
    """What a key needs for a route: its part's :read for a GET, :write otherwise; stats,
    webhooks, account administration and the audit log have scopes of their own."""
    if (method, path) in NEEDS:
        return NEEDS[(method, path)]
    segments = path.removeprefix("/api/v1/").split("/")
    if any("stats" in s for s in segments):
        return {"stats:read"}
    if any("webhooks" in s for s in segments):
        return {"webhooks:manage"}
    if segments[:2] == ["admin", "audit"]:
        return {"audit:read"}
    if segments[:2] == ["admin", "users"]:
        return {"users:read" if method == "GET" else "users:write"}
    part = PARTS.get(segments[0])
    assert part is not None, f"teach tests/test_scopes.py the scope of {method} {path}"
    return {f"{part}:{'read' if method == 'GET' else 'write'}"}


@pytest.fixture
def keys(app: FastAPI, make_client: Callable[[], TestClient],
         monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A student's keys: one with no scope at all ("none"), and for each scope one with every
    scope but that one; and for the import routes, one with neither contacts nor directory
    (more than a person may hold: the cap is lifted here)."""
    monkeypatch.setattr(accounts, "MAX_API_KEYS", 100)
    student = make_client()
    user_id = signed_in(student)["id"]
    wanted = {"none": set(), **{scope: set(SCOPES) - {scope} for scope in SCOPES}}
    for scopes in EITHER.values():
        wanted[" or ".join(sorted(scopes))] = set(SCOPES) - scopes
    secrets = {}
    with Session(app.state.engine) as db:
        user = db.get(User, user_id)
        assert user is not None
        for name, scopes in wanted.items():
            _, secrets[name] = accounts.create_api_key(db, user, name, sorted(scopes))
        db.commit()
    return secrets


def _call(client: TestClient, key: str, method: str, path: str) -> dict[str, Any]:
    url = re.sub(r"{\w+}", NO_ID, path)
    response = client.request(method, url, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403, f"{method} {path} answered {response.status_code}"
    return dict(response.json())


def test_every_api_route_refuses_a_key_without_its_scope(
    app: FastAPI, client: TestClient, keys: dict[str, str]
) -> None:
    routes = api_routes(app)
    assert len(routes) > 60
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        refused = _call(client, keys["none"], method, path)
        if (method, path) in SESSION_ONLY:
            assert refused["error"] == "session_required", (method, path, refused)
            continue
        assert refused["error"] == "missing_scope", (method, path, refused)
        if (method, path) in EITHER:
            scopes = EITHER[(method, path)]
            assert any(s in refused["detail"] for s in scopes), (method, path, refused)
            lacking = _call(client, keys[" or ".join(sorted(scopes))], method, path)
            assert lacking["error"] == "missing_scope", (method, path, lacking)
            continue
        needed = expected_scopes(method, path)
        assert any(s in refused["detail"] for s in needed), (method, path, refused)
        for scope in needed:  # each one is needed: every other scope is not enough
            lacking = _call(client, keys[scope], method, path)
            assert lacking["error"] == "missing_scope", (method, path, lacking)
            assert scope in lacking["detail"], (method, path, scope, lacking)


def test_the_walk_knows_the_routes_that_take_no_key(app: FastAPI) -> None:
    routes = set(api_routes(app))
    assert routes >= PUBLIC | SESSION_ONLY
    assert set(NEEDS) | set(EITHER) <= routes


@pytest.fixture
def students_records(make_client: Callable[[], TestClient]) -> dict[str, str]:
    maya = make_client()
    signed_in(maya)
    contact = maya.post("/api/v1/contacts", json={"first_name": "Dr.", "last_name": "Jones"})
    interview = maya.post("/api/v1/interviews", json={"contact_id": contact.json()["id"]})
    message = maya.post("/api/v1/messages", json={"kind": "outreach",
                                                  "contact_id": contact.json()["id"]})
    assert {r.status_code for r in (contact, interview, message)} == {201}
    return {"contacts": contact.json()["id"], "interviews": interview.json()["id"],
            "messages": message.json()["id"]}


def test_a_staff_key_with_every_scope_reaches_the_directory_and_no_students_records(
    app: FastAPI, make_client: Callable[[], TestClient], students_records: dict[str, str]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    own = staff.post("/api/v1/contacts", json={"first_name": "Office", "last_name": "Contact"})
    script = make_client()
    script.headers["Authorization"] = f"Bearer {api_key(staff, list(SCOPES))}"
    made = script.post("/api/v1/directory", json={"first_name": "Kwame"})
    assert made.status_code == 201, made.text
    assert [e["first_name"] for e in script.get("/api/v1/directory").json()["items"]] == ["Kwame"]
    for kind, record_id in students_records.items():
        assert script.get(f"/api/v1/{kind}/{record_id}").status_code == 404, kind
        assert script.patch(f"/api/v1/{kind}/{record_id}", json={}).status_code == 404, kind
        listed = script.get(f"/api/v1/{kind}").json()["items"]
        assert record_id not in {item["id"] for item in listed}, kind
    # The contacts scope reaches the staff member's own contacts only.
    assert [c["id"] for c in script.get("/api/v1/contacts").json()["items"]] == [own.json()["id"]]


def test_a_students_key_with_every_scope_reaches_no_other_students_records(
    make_client: Callable[[], TestClient], students_records: dict[str, str]
) -> None:
    jon = make_client()
    signed_in(jon, email="jon@uni.edu", name="Jon Park")
    script = make_client()
    script.headers["Authorization"] = f"Bearer {api_key(jon, list(SCOPES))}"
    for kind, record_id in students_records.items():
        assert script.get(f"/api/v1/{kind}/{record_id}").status_code == 404, kind
        assert script.get(f"/api/v1/{kind}").json()["items"] == [], kind
