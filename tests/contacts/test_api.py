"""Contacts and organizations through the JSON API."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import signed_in


def add(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json={"first_name": "Ana", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


def test_a_contact_keeps_every_field_of_the_contract(me: TestClient) -> None:
    sent = {
        "first_name": "Maya", "last_name": "Okafor", "email": "Maya.Okafor@Clinic.org",
        "phone": "+1 651 555 0100", "title": "Physician Assistant",
        "organization_name": "Regions Hospital", "industry": "Healthcare", "location": "St. Paul, MN",
        "linkedin_url": "https://www.linkedin.com/in/maya-okafor",
        "website": "https://okafor-lab.example.org/people/maya", "source": "referral",
        "referrer_name": "Dr. Jones", "how_we_met": "Introduced by my advisor",
        "tags": ["pa", "healthcare"], "notes": "Works nights.", "stage": "identified",
        "external_id": "crm-42", "next_action": "Email", "next_action_at": "2026-12-01T15:00:00+00:00",
    }
    response = me.post("/api/v1/contacts", json=sent)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/contacts/{response.json()['id']}"
    got = me.get(f"/api/v1/contacts/{response.json()['id']}").json()
    for field, value in sent.items():
        if field == "next_action_at":
            assert datetime.fromisoformat(got[field]) == datetime(2026, 12, 1, 15, tzinfo=UTC)
        elif field == "email":  # the domain part of an address is case-insensitive
            assert got[field] == "Maya.Okafor@clinic.org"
        elif field == "tags":  # a set, listed in order
            assert got[field] == ["healthcare", "pa"]
        else:
            assert got[field] == value, field
    assert got["organization_id"] and got["referred_by_id"] is None
    assert got["created_at"] and got["updated_at"]


def test_organization_name_finds_or_creates_one_organization(me: TestClient) -> None:
    a = add(me, organization_name="Acme")
    b = add(me, first_name="Ben", organization_name="ACME ")
    assert a["organization_id"] == b["organization_id"]
    orgs = me.get("/api/v1/organizations").json()["items"]
    assert [o["name"] for o in orgs] == ["Acme"]


def test_same_email_in_another_case_is_a_conflict_naming_the_contact(me: TestClient) -> None:
    first = add(me, first_name="Maya", last_name="Okafor", email="maya@clinic.org")
    response = me.post("/api/v1/contacts", json={"first_name": "M", "email": "MAYA@clinic.org"})
    assert response.status_code == 409
    assert "Maya Okafor" in response.json()["detail"] and first["id"] in response.json()["detail"]


def test_contact_validation_names_the_fields(me: TestClient) -> None:
    response = me.post("/api/v1/contacts", json={
        "first_name": "", "email": "nope", "linkedin_url": "javascript:alert(1)",
        "website": "ftp://files.example", "source": "magic", "stage": "hired", "tags": ["x" * 51]})
    assert response.status_code == 422
    fields = {f["field"].split(".")[0] for f in response.json()["fields"]}
    assert fields == {"first_name", "email", "linkedin_url", "website", "source", "stage", "tags"}


@pytest.mark.parametrize("address", ["javascript:alert(1)", "okafor.example", "https://",
                                     "https://a b.example", "mailto:maya@clinic.org",
                                     "https://" + "a" * 500 + ".example"])
def test_a_website_is_an_http_address(me: TestClient, address: str) -> None:
    response = me.post("/api/v1/contacts", json={"first_name": "Maya", "website": address})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["website"]


def test_a_website_is_set_changed_and_cleared_and_named_on_the_timeline(me: TestClient) -> None:
    c = add(me, website=None)
    assert c["website"] == ""
    changed = me.patch(f"/api/v1/contacts/{c['id']}", json={"website": "http://maya.example"})
    assert changed.status_code == 200 and changed.json()["website"] == "http://maya.example"
    cleared = me.patch(f"/api/v1/contacts/{c['id']}", json={"website": None})
    assert cleared.status_code == 200 and cleared.json()["website"] == ""
    events = me.get(f"/api/v1/contacts/{c['id']}/timeline").json()["items"]
    assert [(e["data"]["fields"], e["summary"]) for e in events if e["kind"] == "edited"] == [
        (["website"], "Edited website."), (["website"], "Edited website.")]


def test_tags_sent_as_text_keep_their_escaped_commas(me: TestClient) -> None:
    c = add(me, tags="data\\, science, C:\\\\temp, plain")
    assert me.get(f"/api/v1/contacts/{c['id']}").json()["tags"] == ["C:\\temp", "data, science", "plain"]


def test_unknown_and_server_owned_fields_are_refused(me: TestClient) -> None:
    for extra in [{"owner_id": "x"}, {"id": "x"}, {"created_at": "2020-01-01T00:00:00Z"},
                  {"nickname": "M"}]:
        response = me.post("/api/v1/contacts", json={"first_name": "A", **extra})
        assert response.status_code == 422, extra
    assert me.get("/api/v1/contacts").json()["items"] == []


def test_referral_must_be_your_own_contact_and_never_a_loop(me: TestClient) -> None:
    jones = add(me, first_name="Dr.", last_name="Jones")
    maya = add(me, first_name="Maya", referred_by_id=jones["id"], source="referral")
    kim = add(me, first_name="Kim", referred_by_id=maya["id"])
    loop = me.patch(f"/api/v1/contacts/{jones['id']}", json={"referred_by_id": kim["id"]})
    assert loop.status_code == 422 and loop.json()["fields"][0]["field"] == "referred_by_id"
    itself = me.patch(f"/api/v1/contacts/{maya['id']}", json={"referred_by_id": maya["id"]})
    assert itself.status_code == 422
    missing = me.post("/api/v1/contacts", json={"first_name": "X", "referred_by_id": "0" * 26})
    assert missing.status_code == 404


def test_patch_changes_only_what_was_sent_and_clears_with_empty(me: TestClient) -> None:
    c = add(me, title="Analyst", notes="n", email="ana@x.org", tags=["a"])
    response = me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "", "email": None,
                                                             "tags": "b, c"})
    assert response.status_code == 200
    got = response.json()
    assert got["title"] == "" and got["email"] is None and got["notes"] == "n"
    assert got["tags"] == ["b", "c"]
    assert me.patch(f"/api/v1/contacts/{c['id']}", json={"first_name": ""}).status_code == 422


def test_etag_and_if_match_refuse_a_stale_write(me: TestClient) -> None:
    c = add(me)
    first = me.get(f"/api/v1/contacts/{c['id']}")
    tag = first.headers["ETag"]
    assert me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "A"},
                    headers={"If-Match": tag}).status_code == 200
    stale = me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "B"}, headers={"If-Match": tag})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    assert me.delete(f"/api/v1/contacts/{c['id']}", headers={"If-Match": tag}).status_code == 412
    fresh = me.get(f"/api/v1/contacts/{c['id']}")
    assert fresh.headers["ETag"] != tag and fresh.json()["title"] == "A"
    assert me.delete(f"/api/v1/contacts/{c['id']}",
                     headers={"If-Match": fresh.headers["ETag"]}).status_code == 204
    assert me.get(f"/api/v1/contacts/{c['id']}").status_code == 404


def test_idempotency_key_replays_the_first_answer(me: TestClient) -> None:
    headers = {"Idempotency-Key": "retry-1"}
    first = me.post("/api/v1/contacts", json={"first_name": "Ana"}, headers=headers)
    again = me.post("/api/v1/contacts", json={"first_name": "Ana"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(me.get("/api/v1/contacts").json()["items"]) == 1
    other = me.post("/api/v1/contacts", json={"first_name": "Bo"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
    org = me.post("/api/v1/organizations", json={"name": "Acme"},
                  headers={"Idempotency-Key": "org-1"})
    assert me.post("/api/v1/organizations", json={"name": "Acme"},
                   headers={"Idempotency-Key": "org-1"}).json() == org.json()


def test_idempotency_keys_belong_to_their_caller(make_client: Any) -> None:
    maya, jon = make_client(), make_client()
    signed_in(maya)
    signed_in(jon, email="jon@uni.edu", name="Jon")
    a = maya.post("/api/v1/contacts", json={"first_name": "Ana"}, headers={"Idempotency-Key": "k"})
    b = jon.post("/api/v1/contacts", json={"first_name": "Ana"}, headers={"Idempotency-Key": "k"})
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_the_timeline_tells_what_happened_newest_first(me: TestClient) -> None:
    c = add(me)
    me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "Analyst", "notes": "Met at fair"})
    me.patch(f"/api/v1/contacts/{c['id']}", json={"stage": "contacted"})
    events = me.get(f"/api/v1/contacts/{c['id']}/timeline").json()["items"]
    assert [e["kind"] for e in events] == ["stage_changed", "edited", "created"]
    assert events[0]["data"] == {"from": "identified", "to": "contacted"}
    assert events[0]["summary"] == "Moved from identified to contacted."
    assert set(events[1]["data"]["fields"]) == {"title", "notes"}


def test_list_filters_by_stage_source_tag_organization_and_update_time(me: TestClient) -> None:
    a = add(me, first_name="A", stage="contacted", source="alumni", tags=["bio"],
            organization_name="Acme")
    add(me, first_name="B", stage="identified", source="cold", tags=["chem"])
    ids = lambda **p: [c["id"] for c in me.get("/api/v1/contacts", params=p).json()["items"]]  # noqa: E731
    assert ids(stage="contacted") == [a["id"]]
    assert ids(source="alumni") == [a["id"]]
    assert ids(tag="bio") == [a["id"]]
    assert ids(organization_id=a["organization_id"]) == [a["id"]]
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert ids(updated_since=future) == []
    assert len(ids(updated_since="2020-01-01T00:00:00")) == 2
    assert me.get("/api/v1/contacts", params={"stage": "hired"}).status_code == 422


def test_forged_cursors_are_refused(me: TestClient) -> None:
    import base64
    import json

    for values in ([123, "x"], ["2026-01-01T00:00:00", "x"], [{"a": 1}, "x"], [True, "x"]):
        cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        response = me.get("/api/v1/contacts", params={"sort": "updated", "cursor": cursor})
        assert response.status_code == 422, values


def test_sorting_by_name_updated_and_next_action(me: TestClient) -> None:
    c = add(me, first_name="Cy", last_name="Zed", next_action_at="2026-12-03T10:00:00Z")
    a = add(me, first_name="Al", last_name="Able")
    b = add(me, first_name="Bea", last_name="Moss", next_action_at="2026-12-01T10:00:00Z")
    ids = lambda sort: [x["id"] for x in me.get("/api/v1/contacts", params={"sort": sort}).json()["items"]]  # noqa: E731
    assert ids("name") == [a["id"], b["id"], c["id"]]
    assert ids("updated") == [b["id"], a["id"], c["id"]]
    assert ids("next_action") == [b["id"], c["id"], a["id"]]


@pytest.mark.parametrize("sort", ["name", "updated", "next_action"])
def test_pages_cover_every_contact_once_while_others_are_added(me: TestClient, sort: str) -> None:
    for i in range(7):
        add(me, first_name=f"P{i}", next_action_at=None if i % 2 else f"2026-12-0{i + 1}T10:00:00Z")
    first = me.get("/api/v1/contacts", params={"limit": 3, "sort": sort}).json()
    add(me, first_name="Late")
    seen = [c["first_name"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = me.get("/api/v1/contacts", params={"limit": 3, "sort": sort, "cursor": cursor}).json()
        seen += [c["first_name"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert {f"P{i}" for i in range(7)} <= set(seen)


def test_search_matches_word_prefixes_across_fields(me: TestClient) -> None:
    maya = add(me, first_name="Maya", last_name="Okafor", email="maya@clinic.org",
               organization_name="Regions Hospital", title="Physician Assistant",
               notes="Loves mentoring", tags=["healthcare"])
    add(me, first_name="Jon", organization_name="Acme Robotics", title="Engineer")
    found = lambda q: [c["id"] for c in me.get("/api/v1/contacts", params={"q": q}).json()["items"]]  # noqa: E731
    for q in ["may", "oka", "Reg", "hosp", "physician assis", "mentor", "health", "clinic"]:
        assert found(q) == [maya["id"]], q
    assert found("zzz") == []
    assert len(found("")) == 2


def test_search_follows_an_organization_rename(me: TestClient) -> None:
    c = add(me, organization_name="Acme")
    me.patch(f"/api/v1/organizations/{c['organization_id']}", json={"name": "Globex"})
    assert [x["id"] for x in me.get("/api/v1/contacts", params={"q": "glob"}).json()["items"]] == [c["id"]]
    assert me.get("/api/v1/contacts", params={"q": "acme"}).json()["items"] == []


def test_search_text_with_quotes_and_operators_is_just_text(me: TestClient) -> None:
    add(me, first_name="O'Brien")
    for q in ['"', "a AND", "NEAR(", "*", "o'b", "-x", "a:*|b"]:
        response = me.get("/api/v1/contacts", params={"q": q})
        assert response.status_code == 200, q


def test_organizations_crud_and_name_conflict(me: TestClient) -> None:
    created = me.post("/api/v1/organizations", json={
        "name": "Regions Hospital", "website": "https://regions.org", "industry": "Healthcare",
        "research_notes": "Level I trauma centre."})
    assert created.status_code == 201
    org = created.json()
    assert me.post("/api/v1/organizations", json={"name": "regions hospital"}).status_code == 409
    response = me.patch(f"/api/v1/organizations/{org['id']}", json={"research_notes": "Updated."})
    assert response.json()["research_notes"] == "Updated." and response.json()["industry"] == "Healthcare"
    c = add(me, organization_id=org["id"])
    assert me.delete(f"/api/v1/organizations/{org['id']}").status_code == 204
    assert me.get(f"/api/v1/contacts/{c['id']}").json()["organization_id"] is None


def test_organization_and_name_together_are_refused(me: TestClient) -> None:
    org = me.post("/api/v1/organizations", json={"name": "Acme"}).json()
    response = me.post("/api/v1/contacts", json={"first_name": "A", "organization_id": org["id"],
                                                 "organization_name": "Globex"})
    assert response.status_code == 422


def test_a_key_needs_contact_scopes(me: TestClient, make_client: Any) -> None:
    key = me.post("/api/v1/api-keys", json={"name": "r", "scopes": ["contacts:read"]}).json()["key"]
    script = make_client()
    script.headers["Authorization"] = f"Bearer {key}"
    assert script.get("/api/v1/contacts").status_code == 200
    refused = script.post("/api/v1/contacts", json={"first_name": "A"})
    assert refused.status_code == 403 and "contacts:write" in refused.json()["detail"]
