"""API keys: shown once, stored hashed, scoped, revocable, and never confused with a session."""

import base64
import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from app.models import ApiKey
from tests.conftest import api_key, signed_in


def test_the_secret_is_shown_once_and_stored_only_as_a_hash(
    client: TestClient, database_url: str
) -> None:
    signed_in(client)
    response = client.post("/api/v1/api-keys",
                           json={"name": "Slate sync", "scopes": ["profile:read"]})
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith("rpk_") and created["key"].startswith(created["prefix"])
    assert created["scopes"] == ["profile:read"] and created["last_used_at"] is None

    listed = client.get("/api/v1/api-keys").json()
    assert listed["items"][0]["id"] == created["id"]
    assert "key" not in listed["items"][0]
    assert created["key"] not in client.get("/api/v1/api-keys").text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(select(ApiKey.key_hash, ApiKey.prefix)).one()
    engine.dispose()
    assert created["key"] not in stored.key_hash and len(stored.key_hash) == 64


def test_a_bearer_key_reaches_the_api_and_records_its_use(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    user = signed_in(client)
    secret = api_key(client)
    script = make_client()
    me = script.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    assert client.get("/api/v1/api-keys").json()["items"][0]["last_used_at"] is not None


def test_a_bearer_write_needs_no_csrf_token(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    signed_in(client)
    secret = api_key(client, ["profile:read", "profile:write"])
    response = make_client().patch("/api/v1/me", json={"major": "biology"},
                                   headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.json()["major"] == "biology"


def test_a_key_without_the_scope_is_refused_naming_it(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    signed_in(client)
    secret = api_key(client, ["profile:read"])
    response = make_client().patch("/api/v1/me", json={"major": "biology"},
                                   headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    assert "profile:write" in response.json()["detail"]


def test_unknown_scopes_and_empty_scopes_are_refused(client: TestClient) -> None:
    signed_in(client)
    unknown = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["root"]})
    empty = client.post("/api/v1/api-keys", json={"name": "x", "scopes": []})
    assert unknown.status_code == empty.status_code == 422
    assert unknown.json()["fields"][0]["field"].startswith("scopes")
    assert client.get("/api/v1/api-keys").json()["items"] == []


def test_a_revoked_key_stops_working_at_once(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    signed_in(client)
    secret = api_key(client)
    key_id = client.get("/api/v1/api-keys").json()["items"][0]["id"]
    assert client.delete(f"/api/v1/api-keys/{key_id}").status_code == 204
    response = make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"


def test_another_students_key_is_not_found(make_client: Callable[[], TestClient]) -> None:
    maya, jon = make_client(), make_client()
    signed_in(maya)
    api_key(maya)
    key_id = maya.get("/api/v1/api-keys").json()["items"][0]["id"]
    signed_in(jon, email="jon@uni.edu", name="Jon")
    assert jon.get("/api/v1/api-keys").json()["items"] == []
    response = jon.delete(f"/api/v1/api-keys/{key_id}")
    assert response.status_code == 404
    assert len(maya.get("/api/v1/api-keys").json()["items"]) == 1


def test_a_key_cannot_manage_keys(client: TestClient, make_client: Callable[[], TestClient]) -> None:
    signed_in(client)
    secret = api_key(client, ["profile:read", "profile:write"])
    script = make_client()
    script.headers["Authorization"] = f"Bearer {secret}"
    assert script.get("/api/v1/api-keys").status_code == 403
    created = script.post("/api/v1/api-keys", json={"name": "more", "scopes": ["profile:read"]})
    assert created.status_code == 403
    assert created.json()["error"] == "session_required"


def test_a_key_is_not_a_session_and_a_session_is_not_a_key(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    signed_in(client)
    secret = api_key(client)
    session_token = client.cookies["rapport_session"]
    stranger = make_client()
    stranger.cookies["rapport_session"] = secret
    assert stranger.get("/api/v1/me").status_code == 401
    as_bearer = make_client().get("/api/v1/me",
                                  headers={"Authorization": f"Bearer {session_token}"})
    assert as_bearer.status_code == 401


def test_malformed_authorization_is_401(make_client: Callable[[], TestClient]) -> None:
    for header in ["Basic abc", "Bearer", "Bearer rpk_nonsense", "rpk_x"]:
        response = make_client().get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_the_key_list_pages_with_a_cursor(client: TestClient) -> None:
    signed_in(client)
    made = [client.post("/api/v1/api-keys", json={"name": f"k{i}", "scopes": "profile:read"})
            .json()["id"] for i in range(5)]
    first = client.get("/api/v1/api-keys", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    client.post("/api/v1/api-keys", json={"name": "late", "scopes": ["profile:read"]})
    seen = [k["id"] for k in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/api/v1/api-keys", params={"limit": 2, "cursor": cursor}).json()
        seen += [k["id"] for k in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))  # newest first; the key added meanwhile is not repeated


def test_list_limits_and_cursors_are_validated(client: TestClient) -> None:
    signed_in(client)
    forged = [base64.urlsafe_b64encode(json.dumps(v).encode()).decode()
              for v in ([123], [{"a": 1}], [True], ["x", "y"])]
    for params in [{"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"cursor": "not-a-cursor"},
                   *({"cursor": c} for c in forged)]:
        response = client.get("/api/v1/api-keys", params=params)
        assert response.status_code == 422, params
        assert response.json()["fields"][0]["field"] in {"limit", "cursor"}


def test_a_key_opens_no_page_and_gets_no_html(
    client: TestClient, make_client: Callable[[], TestClient]
) -> None:
    signed_in(client)
    client.post("/api/v1/contacts", json={"first_name": "Secretive", "notes": "private"})
    secret = api_key(client, ["profile:read"])
    script = make_client()
    script.headers["Authorization"] = f"Bearer {secret}"
    for page in ["/contacts", "/settings", "/settings/api-keys", "/questions", "/interviews"]:
        response = script.get(page, follow_redirects=False)
        assert response.status_code == 303, page
        assert "Secretive" not in response.text
    assert "Hello" not in script.get("/").text
    as_htmx = script.get("/api/v1/me", headers={"HX-Request": "true"})
    assert as_htmx.headers["content-type"].startswith("application/json")


def test_one_person_holds_at_most_ten_keys(client: TestClient) -> None:
    signed_in(client)
    made = [client.post("/api/v1/api-keys", json={"name": f"k{i}", "scopes": ["profile:read"]})
            for i in range(11)]
    assert [r.status_code for r in made] == [201] * 10 + [409]
    assert made[-1].json()["error"] == "too_many_keys"
    assert client.delete(f"/api/v1/api-keys/{made[0].json()['id']}").status_code == 204
    again = client.post("/api/v1/api-keys", json={"name": "again", "scopes": ["profile:read"]})
    assert again.status_code == 201
