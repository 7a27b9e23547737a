"""The contact list and a contact are sent as read from the database, without the response
model: the JSON must be, byte for byte, what ContactOut makes of the same contacts."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.accounts import service as accounts
from app.contacts import service
from app.contacts.schemas import ContactOut
from app.contacts.service import ContactFilters, Sort
from app.models import Contact
from app.pagination import Page
from tests.conftest import signed_in

# Tags whose order differs between a byte-wise and a language collation, and odd text.
TAGS = ["beta", "Alpha", "alpha", "Émile", "zeta", "data, science", "日本"]
NOTES = 'Line one\nline "two"\ttabbed \\ back\u2028slash \x01 😀 </script>'


def add(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json={"first_name": "Ana", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


@pytest.fixture
def file(me: TestClient) -> list[dict[str, Any]]:
    """Contacts with every field set, and ones with every field that may be empty left so."""
    referrer = add(me, first_name="Rosa", last_name="Reyes", email="rosa@uni.edu",
                   organization_name="Regions Hospital", tags=["mentor"], stage="contacted")
    full = add(me, first_name="Maya", last_name="Okafor", email="Maya.Okafor@Clinic.org",
               phone="+1 651 555 0100", title="Physician Assistant",
               organization_name="Regions Hospital", industry="Healthcare", location="St. Paul, MN",
               linkedin_url="https://www.linkedin.com/in/maya-okafor",
               website="https://okafor.example.org", source="referral",
               referred_by_id=referrer["id"], referrer_name="Dr. Jones", how_we_met="An advisor",
               tags=TAGS, notes=NOTES, stage="scheduled", external_id="crm-42",
               next_action="Email", next_action_at="2026-12-01T17:00:00+02:00")
    whole_second = add(me, first_name="Émile", last_name="Zola", source="alumni",
                       next_action="Call", next_action_at="2027-01-05T09:30:00Z", tags=["zeta"])
    bare = add(me, first_name="Kim")  # no last name, email, organization, tags or next action
    more = [add(me, first_name=f"P{i:02}", last_name="Park", tags=["data"] if i % 2 else [],
                stage="identified" if i % 3 else "closed",
                next_action_at=(datetime(2026, 12, 5, tzinfo=UTC) + timedelta(hours=i)).isoformat()
                if i % 4 else None)
            for i in range(9)]
    return [referrer, full, whole_second, bare, *more]


def modelled(app: FastAPI, filters: ContactFilters, sort: Sort, limit: int,
             cursor: str | None) -> bytes:
    """The page as the ORM loads it and the response model sends it."""
    with app.state.sessionmaker() as db:
        owner = accounts.get_user_by_email(db, "maya@uni.edu")
        assert owner is not None
        contacts, next_cursor = service.list_contacts(db, owner, filters, sort, limit, cursor)
        page = Page[ContactOut].model_validate({"items": contacts, "next_cursor": next_cursor})
        return page.model_dump_json().encode()


def pages(client: TestClient, params: dict[str, Any]) -> list[tuple[str | None, bytes]]:
    """Every page of the list, following next_cursor, with the cursor that asked for each."""
    got: list[tuple[str | None, bytes]] = []
    cursor = None
    while True:
        response = client.get("/api/v1/contacts", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        got.append((cursor, response.content))
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return got


def test_the_list_sends_the_bytes_the_response_model_would(
        me: TestClient, app: FastAPI, file: list[dict[str, Any]]) -> None:
    response = me.get("/api/v1/contacts")
    assert response.content == modelled(app, ContactFilters(), "name", 50, None)
    shown = {c["first_name"]: c for c in response.json()["items"]}
    maya, kim = shown["Maya"], shown["Kim"]
    assert maya["organization_name"] == "Regions Hospital" and maya["referred_by_id"]
    assert maya["notes"] == NOTES and sorted(maya["tags"]) == sorted(TAGS)
    assert maya["next_action_at"] == "2026-12-01T15:00:00Z"
    assert shown["Émile"]["next_action_at"] == "2027-01-05T09:30:00Z"
    assert {kim[f] for f in ("email", "organization_id", "organization_name", "referred_by_id",
                             "external_id", "next_action_at")} == {None}
    assert kim["tags"] == [] and kim["last_name"] == ""
    assert list(maya) == list(ContactOut.model_fields)


@pytest.mark.parametrize("sort", ["name", "updated", "next_action"])
def test_every_page_in_every_order_is_the_response_models(
        me: TestClient, app: FastAPI, file: list[dict[str, Any]], sort: Sort) -> None:
    walked = pages(me, {"sort": sort, "limit": 3})
    assert len(walked) == 5  # 13 contacts, 3 a page
    for cursor, body in walked:
        assert body == modelled(app, ContactFilters(), sort, 3, cursor)


@pytest.mark.parametrize("params", [
    {"q": "park"}, {"q": "reg hos"}, {"q": "par", "stage": "closed"}, {"stage": "identified"},
    {"source": "alumni"}, {"tag": "data"}, {"q": "nobody"},
])
def test_filtered_and_searched_pages_are_the_response_models(
        me: TestClient, app: FastAPI, file: list[dict[str, Any]], params: dict[str, Any]) -> None:
    for cursor, body in pages(me, {**params, "limit": 2}):
        assert body == modelled(app, ContactFilters(**params), "name", 2, cursor)


def test_the_organizations_and_the_recently_updated_contacts(
        me: TestClient, app: FastAPI, file: list[dict[str, Any]]) -> None:
    org = file[1]["organization_id"]
    since = file[3]["updated_at"]
    for params, filters in (({"organization_id": org}, ContactFilters(organization_id=org)),
                            ({"updated_since": since},
                             ContactFilters(updated_since=datetime.fromisoformat(since)))):
        for cursor, body in pages(me, {**params, "limit": 1}):
            assert body == modelled(app, filters, "name", 1, cursor)


def test_a_contact_is_sent_as_the_response_model_would_with_its_etag(
        me: TestClient, app: FastAPI, file: list[dict[str, Any]]) -> None:
    for contact in file[:4]:
        response = me.get(f"/api/v1/contacts/{contact['id']}")
        with app.state.sessionmaker() as db:
            stored = db.get(Contact, contact["id"])
            assert stored is not None
            assert response.content == ContactOut.model_validate(stored).model_dump_json().encode()
            assert response.headers["ETag"] == f'"v{stored.version}"'


def test_a_changed_contact_is_read_as_changed(me: TestClient, file: list[dict[str, Any]]) -> None:
    maya = file[1]
    before = me.get(f"/api/v1/contacts/{maya['id']}").headers["ETag"]
    saved = me.patch(f"/api/v1/contacts/{maya['id']}", json={"tags": ["new"], "organization_name": "",
                                                              "next_action_at": None})
    assert saved.status_code == 200, saved.text
    got = me.get(f"/api/v1/contacts/{maya['id']}")
    assert got.json() == saved.json()
    assert got.headers["ETag"] == saved.headers["ETag"] != before
    listed = [c for c in me.get("/api/v1/contacts").json()["items"] if c["id"] == maya["id"]]
    assert listed == [saved.json()]


def test_another_students_contacts_are_not_found(
        me: TestClient, make_client: Any, file: list[dict[str, Any]]) -> None:
    liam = make_client()
    signed_in(liam, email="liam@uni.edu", name="Liam Chen")
    missing = liam.get(f"/api/v1/contacts/{file[1]['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and file[1]["first_name"] not in missing.text
    assert liam.get("/api/v1/contacts").json() == {"items": [], "next_cursor": None}
    assert liam.get("/api/v1/contacts", params={"q": "maya"}).json()["items"] == []
    other_org = liam.get("/api/v1/contacts", params={"organization_id": file[1]["organization_id"]})
    assert other_org.status_code == 404


def test_a_forged_cursor_is_refused_naming_the_field(me: TestClient, file: list[dict[str, Any]]) -> None:
    response = me.get("/api/v1/contacts", params={"cursor": "bm90IGEgY3Vyc29y"})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["cursor"]
