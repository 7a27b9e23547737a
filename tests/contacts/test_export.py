"""Exports: the contacts as CSV and vCard, everything a student owns as JSON, and the round trip
through the import into another account."""

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import vobject
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.contacts import export
from app.contacts.schemas import join_tags, split_tags
from app.db import session_scope
from app.models import Contact
from tests.conftest import api_key, signed_in

CSV_URL = "/api/v1/contacts/export.csv"
VCF_URL = "/api/v1/contacts/export.vcf"
JSON_URL = "/api/v1/export.json"
HEADER = ["first_name", "last_name", "email", "phone", "title", "organization_name", "industry",
          "location", "linkedin_url", "website", "source", "referrer_name", "how_we_met", "tags",
          "notes", "stage", "external_id", "next_action", "next_action_at"]
SECRET_WORD = "Quetzalcoatlus"


def add(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json={"first_name": "Ana", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def rows_of(response: Any) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def every_contact(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/contacts", params={"limit": 200})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return list(response.json()["items"])


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


# --- CSV ---


def test_csv_is_an_attachment_with_a_bom_our_header_and_crlf(me: TestClient) -> None:
    me.patch("/api/v1/me", json={"timezone": "America/Chicago"})
    referrer = add(me, first_name="Grace", last_name="Hopper")
    add(me, first_name="Maya", last_name="Okafor", email="maya@clinic.org", phone="651 555 0100",
        title="Physician Assistant", organization_name="Regions Hospital", industry="Healthcare",
        location="St. Paul, MN", linkedin_url="https://www.linkedin.com/in/maya",
        website="https://maya.example/about", source="referral", referred_by_id=referrer["id"],
        how_we_met="Career fair", tags=["pa", "healthcare"], notes="Works nights, \"mostly\".\nCall after 4.",
        stage="contacted", external_id="crm-42", next_action="Email her",
        next_action_at="2026-12-01T15:00:00Z")
    add(me, first_name="Kim", referrer_name="Dr. Jones")

    response = me.get(CSV_URL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="contacts.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n")
    assert response.content.endswith(b"\r\n") and response.content.count(b"\r\n") == 4  # header, 3 rows
    rows = rows_of(response)
    assert [r["first_name"] for r in rows] == ["Grace", "Kim", "Maya"]  # by last name, then first
    maya = rows[2]
    assert maya == {
        "first_name": "Maya", "last_name": "Okafor", "email": "maya@clinic.org",
        "phone": "651 555 0100", "title": "Physician Assistant",
        "organization_name": "Regions Hospital", "industry": "Healthcare", "location": "St. Paul, MN",
        "linkedin_url": "https://www.linkedin.com/in/maya", "website": "https://maya.example/about",
        "source": "referral",
        "referrer_name": "Grace Hopper", "how_we_met": "Career fair", "tags": "healthcare,pa",
        "notes": "Works nights, \"mostly\".\nCall after 4.", "stage": "contacted",
        "external_id": "crm-42", "next_action": "Email her",
        "next_action_at": "2026-12-01T09:00:00-06:00",  # in the student's zone, with its offset
    }
    assert datetime.fromisoformat(maya["next_action_at"]) == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert rows[1]["referrer_name"] == "Dr. Jones"  # no referring contact: the free text
    assert rows[1]["email"] == rows[1]["next_action_at"] == rows[1]["tags"] == ""


def test_csv_tags_escape_their_commas_and_backslashes(me: TestClient) -> None:
    add(me, tags=["data, science", "C:\\temp\\", "=sum", "plain"])
    cell = rows_of(me.get(CSV_URL))[0]["tags"]
    assert cell == "'=sum,C:\\\\temp\\\\,data\\, science,plain"  # the stored order: by tag
    assert split_tags(export.revive(cell)) == ["=sum", "C:\\temp\\", "data, science", "plain"]


@pytest.mark.parametrize("tags", [[], ["a"], ["a,b", "c"], ["\\"], ["\\,", ",\\"], ["x\\y,z", "w"],
                                  ["end\\"]])
def test_split_tags_gives_back_what_join_tags_joined(tags: list[str]) -> None:
    assert split_tags(join_tags(tags)) == tags


def test_split_tags_reads_what_a_person_types() -> None:
    assert split_tags(" biotech , alumni,,C:\\dir, ") == ["biotech", "alumni", "C:\\dir"]


def test_csv_of_no_contacts_is_the_header_alone(me: TestClient) -> None:
    response = me.get(CSV_URL)
    assert response.status_code == 200
    assert response.content == b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n"


def test_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe(
    me: TestClient, app: FastAPI
) -> None:
    contact = add(me, first_name='=HYPERLINK("x")', last_name="+cmd", phone="-1",
                  title="@SUM(1)", notes="=1+1 in the middle is fine", tags=["-x", "y"],
                  how_we_met="a=b", location="'quoted")
    # The API trims what it is sent; a tab or a return can still come from elsewhere.
    for db in session_scope(app.state.sessionmaker):
        row = db.get(Contact, contact["id"])
        assert row is not None
        row.industry = "\tTabbed"
        row.next_action = "\r=1"
    cells = rows_of(me.get(CSV_URL))[0]
    assert cells["first_name"] == "'=HYPERLINK(\"x\")"
    assert cells["last_name"] == "'+cmd"
    assert cells["phone"] == "'-1"
    assert cells["title"] == "'@SUM(1)"
    assert cells["industry"] == "'\tTabbed"
    assert cells["next_action"] == "'\r=1"
    assert cells["notes"] == "'=1+1 in the middle is fine"
    assert cells["tags"] == "'-x,y"
    assert cells["how_we_met"] == "a=b" and cells["location"] == "'quoted"  # nothing to run
    for value, cell in cells.items():
        assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, value


@pytest.mark.parametrize("value", ["", "plain", "=1", "+1", "-", "@x", "\tx", "\rx", "'x", "'=1",
                                   "''+1", "'", "a=b", "Ünïcode"])
def test_inert_and_revive_give_every_value_back(value: str) -> None:
    cell = export.inert(value)
    assert cell.lstrip("'")[:1] not in {"=", "+", "-", "@", "\t", "\r"} or cell.startswith("'")
    assert export.revive(cell) == value


def test_csv_and_vcard_are_made_a_page_at_a_time_and_keep_every_contact_once(
    me: TestClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PAGE", 2)
    referrer = add(me, first_name="Zed", last_name="Zulu")
    names = [f"Person{i:02d}" for i in range(7)]
    for name in names:
        add(me, first_name=name, referred_by_id=referrer["id"])
    owner_id = me.get("/api/v1/me").json()["id"]
    chunks = list(export.csv_chunks(app.state.sessionmaker, owner_id))
    assert len(chunks) == 4  # a chunk a page of two
    assert b"".join(chunks) == me.get(CSV_URL).content
    rows = rows_of(me.get(CSV_URL))
    assert [r["first_name"] for r in rows] == [*names, "Zed"]
    assert {r["referrer_name"] for r in rows[:-1]} == {"Zed Zulu"}  # referrers on other pages too
    cards = list(export.vcard_chunks(app.state.sessionmaker, owner_id))
    assert len(cards) == 4 and b"".join(cards) == me.get(VCF_URL).content
    assert [c.fn.value for c in vobject.readComponents(me.get(VCF_URL).text)] == [*names, "Zed Zulu"]


# --- vCard ---


def test_vcard_round_trips_through_vobject(me: TestClient) -> None:
    add(me, first_name="José", last_name="Núñez", email="jose@example.org",
        phone="+1 651 555 0100", title="Director, Research & Development",
        organization_name="Ünïcode; Ltd, Inc.", linkedin_url="https://www.linkedin.com/in/jose",
        website="https://jose.example/lab", location="Lyon, Auvergne-Rhône-Alpes, France",
        tags=["data, science", "é-tag", "pa"],
        notes='Line one, with "quotes"; and a semicolon\nLine two: ümlaut\\backslash',
        industry="Health; care", how_we_met="'=At the fair,\nbooth 12", referrer_name="Dr. Jones",
        source="event", stage="thanked", external_id="crm,42", next_action="-call",
        next_action_at="2026-12-01T15:00:00Z")
    add(me, first_name="Kim")

    response = me.get(VCF_URL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vcard; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="contacts.vcf"'
    text = response.content.decode("utf-8")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    cards = list(vobject.readComponents(text))
    assert len(cards) == 2
    kim, jose = cards
    assert jose.version.value == "3.0"
    assert jose.fn.value == "José Núñez"
    assert (jose.n.value.given, jose.n.value.family) == ("José", "Núñez")
    assert jose.email.value == "jose@example.org"
    assert jose.email.params["TYPE"] == ["INTERNET"]
    assert jose.tel.value == "+1 651 555 0100"
    assert jose.org.value == ["Ünïcode; Ltd, Inc."]
    assert jose.title.value == "Director, Research & Development"
    assert [u.value for u in jose.contents["url"]] == [
        "https://jose.example/lab", "https://www.linkedin.com/in/jose"]
    address = jose.adr.value
    assert (address.city, address.region, address.country) == ("Lyon", "Auvergne-Rhône-Alpes", "France")
    assert (address.street, address.code, address.box, address.extended) == ("", "", "", "")
    assert jose.note.value == 'Line one, with "quotes"; and a semicolon\nLine two: ümlaut\\backslash'
    assert sorted(jose.categories.value) == ["data, science", "pa", "é-tag"]
    # Written as vCard text, so that a reader other than vobject gets them back too.
    for line in ["TITLE:Director\\, Research & Development", "ORG:Ünïcode\\; Ltd\\, Inc.",
                 "CATEGORIES:data\\, science,pa,é-tag", "ADR:;;;Lyon;Auvergne-Rhône-Alpes;;France",
                 'NOTE:Line one\\, with "quotes"\\; and a semicolon\\nLine two: ümlaut\\\\backslash']:
        assert line + "\r\n" in text.replace("\r\n ", ""), line  # unfolded
    lines = response.content.split(b"\r\n")  # folded at 75 bytes, between two characters
    assert max(map(len, lines)) <= 75
    assert all(isinstance(line.decode("utf-8"), str) for line in lines)  # a cut one would raise
    extras = {name: jose.contents[name][0].value for name in jose.contents if name.startswith("x-")}
    assert extras == {  # as stored: no formula guard in a vCard
        "x-rapport-source": "event", "x-rapport-stage": "thanked",
        "x-rapport-how-we-met": "'=At the fair,\nbooth 12", "x-rapport-referrer-name": "Dr. Jones",
        "x-rapport-next-action": "-call", "x-rapport-next-action-at": "2026-12-01T15:00:00+00:00",
        "x-rapport-external-id": "crm,42", "x-rapport-industry": "Health; care"}
    assert "X-RAPPORT-HOW-WE-MET:'=At the fair\\,\\nbooth 12\r\n" in text
    assert kim.fn.value == "Kim" and kim.n.value.given == "Kim"
    for absent in ["email", "tel", "org", "title", "url", "note", "categories", "adr",
                   "x-rapport-how-we-met", "x-rapport-next-action-at", "x-rapport-external-id"]:
        assert absent not in kim.contents, absent
    assert (kim.x_rapport_source.value, kim.x_rapport_stage.value) == ("other", "identified")


@pytest.mark.parametrize(("location", "parts"), [
    ("St. Paul, MN", ("St. Paul", "MN", "")),
    ("Lyon, Auvergne-Rhône-Alpes, France", ("Lyon", "Auvergne-Rhône-Alpes", "France")),
    ("Remote", ("Remote", "", "")),
    ("A, B, C, D", ("A, B, C, D", "", "")),  # more parts than an address has: whole
    ("A,B", ("A,B", "", "")),
    ("A, , B", ("A, , B", "", "")),  # an empty part would be lost when joined again
    ("A,  B", ("A,  B", "", "")),
])
def test_a_location_becomes_an_address_that_joins_back_to_it(
    location: str, parts: tuple[str, str, str]
) -> None:
    address = export.vcard_address(location)
    assert (address.city, address.region, address.country) == parts
    assert ", ".join(p for p in (address.city, address.region, address.country) if p) == location


# --- JSON ---


def owns_everything(client: TestClient, word: str) -> dict[str, Any]:
    """A student with ``word`` in every field they can write."""
    assert client.patch("/api/v1/me", json={
        "name": f"{word} Student", "school": f"{word} U", "major": word, "career_goal": word,
        "signature": word}).status_code == 200
    org = client.post("/api/v1/organizations", json={
        "name": f"{word} Labs", "industry": word, "research_notes": word,
        "website": f"https://{word.lower()}.example"}).json()
    referrer = add(client, first_name=f"{word}Ref", last_name=word)
    contact = add(
        client, first_name=word, last_name=word, email=f"{word.lower()}@{word.lower()}.example",
        phone=word, title=word, organization_id=org["id"], industry=word, location=word,
        linkedin_url=f"https://www.linkedin.com/in/{word.lower()}", source="referral",
        referred_by_id=referrer["id"], referrer_name=word, how_we_met=word,
        tags=[word.lower(), word], notes=word, stage="contacted", external_id=word,
        next_action=word, next_action_at="2026-12-01T15:00:00Z")
    question = client.post("/api/v1/questions", json={
        "text": f"What does {word} mean?", "category": word}).json()
    interview = client.post("/api/v1/interviews", json={
        "contact_id": contact["id"], "notes": word, "takeaways": word, "location": word}).json()
    item = client.post(f"/api/v1/interviews/{interview['id']}/questions",
                       json={"question_id": question["id"]}).json()
    client.patch(f"/api/v1/interviews/{interview['id']}/questions/{item['id']}",
                 json={"answer": f"{word} is everything"})
    client.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    template = client.post("/api/v1/templates", json={
        "kind": "outreach", "name": f"{word} template", "subject": word, "body": f"{word}!"}).json()
    message = client.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": contact["id"], "template_id": template["id"]}).json()
    task = client.post("/api/v1/tasks", json={"title": f"Call {word}",
                                              "contact_id": contact["id"]}).json()
    return {"org": org, "referrer": referrer, "contact": contact, "question": question,
            "interview": interview, "item": item, "template": template, "message": message,
            "task": task}


def test_json_export_holds_everything_the_student_owns(me: TestClient) -> None:
    mine = owns_everything(me, "Maya")
    response = me.get(JSON_URL)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="rapport-export.json"'
    data = response.json()
    assert set(data) == {"exported_at", "profile", "organizations", "contacts", "questions",
                         "interviews", "tasks", "messages", "templates"}
    assert data["profile"] == me.get("/api/v1/me").json()
    assert [o["id"] for o in data["organizations"]] == [mine["org"]["id"]]
    assert data["organizations"][0]["research_notes"] == "Maya"
    contacts = {c["id"]: c for c in data["contacts"]}
    assert set(contacts) == {mine["contact"]["id"], mine["referrer"]["id"]}
    contact = contacts[mine["contact"]["id"]]
    api_view = me.get(f"/api/v1/contacts/{contact['id']}").json()
    assert {k: v for k, v in contact.items() if k in api_view} == api_view
    assert sorted(contact["tags"]) == ["Maya", "maya"]
    assert contact["referred_by_name"] == "MayaRef Maya" and contact["referrer_name"] == "Maya"
    timeline = me.get(f"/api/v1/contacts/{contact['id']}/timeline").json()["items"]
    assert contact["timeline"] == list(reversed(timeline))  # oldest first
    assert {e["kind"] for e in contact["timeline"]} >= {"created", "stage_changed"}
    assert contacts[mine["referrer"]["id"]]["referred_by_name"] is None
    assert [q["id"] for q in data["questions"]] == [mine["question"]["id"]]
    [interview] = data["interviews"]
    assert interview["id"] == mine["interview"]["id"] and interview["status"] == "completed"
    assert interview["takeaways"] == "Maya" and interview["contact_name"] == "Maya Maya"
    assert [(q["text"], q["answer"]) for q in interview["questions"]] == [
        ("What does Maya mean?", "Maya is everything")]
    assert {t["id"] for t in data["tasks"]} >= {mine["task"]["id"]}
    assert any(t["kind"] != "custom" for t in data["tasks"])  # the thank-you the workflow made
    [message] = data["messages"]
    assert message["id"] == mine["message"]["id"] and message["body"] == mine["message"]["body"]
    assert [t["id"] for t in data["templates"]] == [mine["template"]["id"]]


def test_no_export_shows_anything_of_another_student(
    me: TestClient, make_client: Callable[[], TestClient]
) -> None:
    other = make_client()
    signed_in(other, email="jon@uni.edu", name="Jon Park")
    owns_everything(other, SECRET_WORD)
    owns_everything(me, "Maya")
    for url in [CSV_URL, VCF_URL, JSON_URL]:
        response = me.get(url)
        assert response.status_code == 200, url
        assert "Maya" in response.content.decode("utf-8-sig"), url
        assert SECRET_WORD.lower() not in response.content.decode("utf-8-sig").lower(), url
        # and the other student's exports are theirs
        theirs = other.get(url)
        assert SECRET_WORD in theirs.text and "Maya" not in theirs.text, url


# --- who may export ---


def test_exports_need_a_login(client: TestClient) -> None:
    for url in [CSV_URL, VCF_URL, JSON_URL]:
        assert client.get(url).status_code == 401, url


def test_a_key_without_contacts_read_cannot_export_contacts(
    me: TestClient, make_client: Callable[[], TestClient]
) -> None:
    add(me, first_name="Maya")
    script = make_client()
    script.headers["Authorization"] = f"Bearer {api_key(me, ['profile:read', 'contacts:write'])}"
    for url in [CSV_URL, VCF_URL]:
        response = script.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"] == "missing_scope"
        assert "contacts:read" in response.json()["detail"]


@pytest.mark.parametrize(("scopes", "missing"), [
    (["contacts:read", "interviews:read", "messages:read"], "profile:read"),
    (["profile:read", "interviews:read", "messages:read"], "contacts:read"),
    (["profile:read", "contacts:read", "messages:read"], "interviews:read"),
    (["profile:read", "contacts:read", "interviews:read"], "messages:read"),
    (["contacts:write", "messages:write"], "profile:read"),  # the first one missing is named
])
def test_the_json_export_needs_every_read_scope(
    me: TestClient, make_client: Callable[[], TestClient], scopes: list[str], missing: str
) -> None:
    script = make_client()
    script.headers["Authorization"] = f"Bearer {api_key(me, scopes)}"
    response = script.get(JSON_URL)
    assert response.status_code == 403
    assert response.json()["error"] == "missing_scope"
    assert response.json()["detail"] == f"This API key lacks the scope {missing}."


def test_a_key_with_the_read_scopes_exports_everything(
    me: TestClient, make_client: Callable[[], TestClient]
) -> None:
    add(me, first_name="Maya", last_name="Okafor", tags=["pa"])
    script = make_client()
    script.headers["Authorization"] = "Bearer " + api_key(
        me, ["profile:read", "contacts:read", "interviews:read", "messages:read"])
    csv_rows = rows_of(script.get(CSV_URL))
    assert [(r["first_name"], r["tags"]) for r in csv_rows] == [("Maya", "pa")]
    assert "FN:Maya Okafor" in script.get(VCF_URL).text
    data = script.get(JSON_URL).json()
    assert [c["first_name"] for c in data["contacts"]] == ["Maya"]
    assert data["profile"]["email"] == "maya@uni.edu"
    only_contacts = make_client()
    only_contacts.headers["Authorization"] = f"Bearer {api_key(me, ['contacts:read'])}"
    assert only_contacts.get(CSV_URL).status_code == 200
    assert only_contacts.get(VCF_URL).status_code == 200


# --- the round trip ---


def upload(client: TestClient, content: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/imports", files={"file": ("contacts.csv", content, "text/csv")},
                           data={"target": "contacts", "format": "auto", "dry_run": "false"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_export_then_import_into_another_account_gives_every_field_back(
    me: TestClient, make_client: Callable[[], TestClient]
) -> None:
    me.patch("/api/v1/me", json={"timezone": "America/Chicago"})
    referrer = add(me, first_name="Grace", last_name="Hopper", email="grace@navy.example",
                   title="Rear Admiral", organization_name="US Navy", source="personal")
    add(me, first_name="José", last_name="Núñez-Ölçer", email="Jose.Nunez@Example.org",
        phone="+1 651 555 0100", title='=Chief "Data" Officer',
        organization_name="Ünïcode, Inc.", industry="Health care; research",
        location="St. Paul, MN", linkedin_url="https://www.linkedin.com/in/jose-nunez",
        source="referral", referred_by_id=referrer["id"], how_we_met='At the fair, "booth 12"',
        tags=["healthcare", "pa", "é-tag"],
        notes='Line one, with "quotes", commas\nLine two: café\n-dash line\n=not a formula',
        stage="contacted", external_id="crm-42", next_action="Email, then call",
        next_action_at="2026-12-01T15:00:00Z")
    add(me, first_name="Kim", last_name="Lee", referrer_name="Dr. Jones", source="event",
        notes="@mention me", phone="-5", stage="closed", location="'Twas the Loop",
        next_action_at="2027-01-15T09:30:00-05:00")
    add(me, first_name="Solo")  # nothing but a name: empty fields stay empty
    exported = me.get(CSV_URL)
    assert exported.status_code == 200

    other = make_client()
    signed_in(other, email="jon@uni.edu", name="Jon Park")
    report = upload(other, exported.content)
    assert report["errors"] == [] and report["skipped"] == 0, report
    assert report["created"] == 4, report

    fields = [f for f in HEADER if f not in {"referrer_name", "next_action_at"}]
    theirs = {(c["first_name"], c["last_name"]): c for c in every_contact(other)}
    mine = every_contact(me)
    names = {c["id"]: f"{c['first_name']} {c['last_name']}".strip() for c in mine}
    names_theirs = {c["id"]: f"{c['first_name']} {c['last_name']}".strip() for c in theirs.values()}
    assert len(theirs) == len(mine) == 4
    for original in mine:
        copy = theirs[(original["first_name"], original["last_name"])]
        for field in fields:
            assert copy[field] == original[field], (original["first_name"], field, copy[field])
        assert copy["next_action_at"] == original["next_action_at"] or (
            datetime.fromisoformat(copy["next_action_at"])
            == datetime.fromisoformat(original["next_action_at"]))
        referred_by = names[original["referred_by_id"]] if original["referred_by_id"] else None
        expected = referred_by or original["referrer_name"]
        # The referrer comes back as a name, or as a link to the other account's copy.
        got = copy["referrer_name"] if not copy["referred_by_id"] else names_theirs[copy["referred_by_id"]]
        assert got == expected, original["first_name"]

    again = upload(other, exported.content)
    assert again["created"] == 0, again
    assert again["errors"] == [] and again["updated"] == 0, again
    assert len(every_contact(other)) == 4


def test_a_value_that_starts_with_an_apostrophe_and_a_formula_character_comes_back(
    me: TestClient, make_client: Callable[[], TestClient]
) -> None:
    add(me, first_name="Ana", notes="'=already text in a spreadsheet", title="''+1")
    other = make_client()
    signed_in(other, email="jon@uni.edu", name="Jon Park")
    assert upload(other, me.get(CSV_URL).content)["created"] == 1
    [copy] = every_contact(other)
    assert (copy["notes"], copy["title"]) == ("'=already text in a spreadsheet", "''+1")
