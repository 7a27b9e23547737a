"""The alumni directory's API: staff write it, every student searches it, a student copies an
entry into their contacts once, and an alumna who does not accept requests is never offered to a
student."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import Contact, DirectoryEngagement, DirectoryEntry
from tests.conftest import api_key, signed_in
from tests.imports.helpers import assert_error, count, make_staff

ALUMNI: list[dict[str, Any]] = [
    {"first_name": "José", "last_name": "Martínez", "email": "jose@example.org",
     "title": "Regulatory Affairs Specialist", "organization_name": "Medtronic",
     "industry": "Medical Devices", "location": "Minneapolis, MN", "graduation_year": 2012,
     "degree": "B.S.", "major": "Biology", "external_id": "C1",
     "linkedin_url": "https://www.linkedin.com/in/jose-martinez-example"},
    {"first_name": "Hana", "last_name": "Nováková", "email": "hana@example.org",
     "title": "Quality Engineer", "organization_name": "Boston Scientific",
     "industry": "Medical Devices", "location": "Saint Paul, MN", "graduation_year": 2018,
     "degree": "B.S.", "major": "Chemistry", "external_id": "C2"},
    {"first_name": "Daniel", "last_name": "Lindqvist", "title": "Clinical Research Coordinator",
     "organization_name": "Mayo Clinic", "industry": "Health Care", "location": "Rochester, MN",
     "graduation_year": 2005, "major": "Psychology", "external_id": "C3"},
    {"first_name": "Priya", "last_name": "Raman", "email": "priya@example.org",
     "title": "Data Analyst", "organization_name": "Target Corporation", "industry": "Retail",
     "location": "Minneapolis, MN", "graduation_year": 2021, "major": "Computer Science",
     "external_id": "C4"},
    {"first_name": "Wei", "last_name": "Zhang", "email": "wei@example.org",
     "title": "Physician Assistant", "organization_name": "Regions Hospital",
     "industry": "Health Care", "location": "Saint Paul, MN", "graduation_year": 1999,
     "major": "Biology", "external_id": "C5", "accepts_requests": False},
]
HIDDEN = "Wei Zhang"  # does not accept requests
EVERYONE = {f"{a['first_name']} {a['last_name']}" for a in ALUMNI}
OFFERED = EVERYONE - {HIDDEN}


def _create(staff: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = staff.post("/api/v1/directory", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def people(app: FastAPI, make_client: Callable[[], TestClient]
           ) -> tuple[TestClient, TestClient, dict[str, dict[str, Any]]]:
    """Staff, a student, and the directory's entries by full name."""
    staff, student = make_client(), make_client()
    make_staff(app, staff)
    signed_in(student, email="maya@uni.edu", name="Maya Okafor")
    entries = {}
    for alum in ALUMNI:
        entry = _create(staff, alum)
        entries[f"{entry['first_name']} {entry['last_name']}"] = entry
    return staff, student, entries


def _names(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/directory", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return [f"{e['first_name']} {e['last_name']}" for e in response.json()["items"]]


# --- writing: staff only ---------------------------------------------------------------------

def test_staff_create_patch_and_delete_entries(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    response = staff.post("/api/v1/directory", json=ALUMNI[0])
    assert response.status_code == 201, response.text
    entry = response.json()
    assert response.headers["Location"] == f"/api/v1/directory/{entry['id']}"
    assert {k: entry[k] for k in ALUMNI[0]} == ALUMNI[0]
    assert entry["accepts_requests"] is True
    etag = response.headers["ETag"]

    patched = staff.patch(f"/api/v1/directory/{entry['id']}",
                          json={"organization_name": "Ecolab", "title": "Director"},
                          headers={"If-Match": etag})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["organization_name"], patched.json()["title"]) == ("Ecolab", "Director")
    assert patched.json()["first_name"] == "José"  # what was not sent stays
    assert patched.headers["ETag"] != etag
    stale = staff.patch(f"/api/v1/directory/{entry['id']}", json={"title": "CEO"},
                        headers={"If-Match": etag})
    assert_error(stale, 412)
    # The search follows the change.
    assert _names(staff, q="ecolab") == ["José Martínez"]
    assert _names(staff, q="medtronic") == []

    deleted = staff.delete(f"/api/v1/directory/{entry['id']}")
    assert deleted.status_code == 204
    assert_error(staff.get(f"/api/v1/directory/{entry['id']}"), 404)
    assert _names(staff, q="ecolab") == [] and _names(staff) == []


def test_students_cannot_write_the_directory(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI
) -> None:
    staff, student, entries = people
    jose = entries["José Martínez"]
    attempts = [
        student.post("/api/v1/directory", json={"first_name": "Sneaky"}),
        student.patch(f"/api/v1/directory/{jose['id']}", json={"title": "Hacked"}),
        student.delete(f"/api/v1/directory/{jose['id']}"),
    ]
    for response in attempts:
        assert assert_error(response, 403, "staff")["error"] == "staff_only"
    assert count(app, DirectoryEntry) == len(ALUMNI)
    assert staff.get(f"/api/v1/directory/{jose['id']}").json()["title"] == jose["title"]


def test_a_staff_key_needs_directory_write(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI,
    make_client: Callable[[], TestClient],
) -> None:
    staff, student, _ = people
    reader = api_key(staff, ["directory:read"])
    writer = api_key(staff, ["directory:write"])
    keyed = make_client()
    body = {"first_name": "Kwame", "last_name": "Mensah"}
    refused = keyed.post("/api/v1/directory", json=body,
                         headers={"Authorization": f"Bearer {reader}"})
    assert assert_error(refused, 403, "directory:write")["error"] == "missing_scope"
    made = keyed.post("/api/v1/directory", json=body,
                      headers={"Authorization": f"Bearer {writer}"})
    assert made.status_code == 201, made.text
    # A student's key with the scope is still a student's.
    student_writer = api_key(student, ["directory:write"])
    assert_error(keyed.post("/api/v1/directory", json=body,
                            headers={"Authorization": f"Bearer {student_writer}"}), 403, "staff")
    assert count(app, DirectoryEntry) == len(ALUMNI) + 1


INVALID: list[tuple[str, Any]] = [
    ("email", "not-an-email"),
    ("email", "two@example.com; three@example.com"),
    ("graduation_year", "1800"),
    ("graduation_year", 1800),
    ("graduation_year", "nineteen"),
    ("linkedin_url", "linkedin.com/in/someone"),
    ("linkedin_url", "javascript:alert(1)"),
    ("first_name", ""),
]


def test_validation_errors_name_the_field(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    entry = _create(staff, {"first_name": "Ada"})
    for field, value in INVALID:
        response = staff.post("/api/v1/directory", json={**ALUMNI[0], field: value})
        errors = assert_error(response, 422)
        assert errors["error"] == "validation_error"
        assert [f["field"] for f in errors["fields"]] == [field], (value, errors)
        patched = staff.patch(f"/api/v1/directory/{entry['id']}", json={field: value})
        assert [f["field"] for f in assert_error(patched, 422)["fields"]] == [field], value
    assert count(app, DirectoryEntry) == 1
    assert staff.get(f"/api/v1/directory/{entry['id']}").json()["first_name"] == "Ada"


def test_unknown_fields_and_a_taken_external_id_are_refused(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI
) -> None:
    staff, _, entries = people
    unknown = staff.post("/api/v1/directory", json={"first_name": "Ada", "salary": 1})
    assert [f["field"] for f in assert_error(unknown, 422)["fields"]] == ["salary"]
    taken = staff.post("/api/v1/directory", json={"first_name": "Ada", "external_id": "C1"})
    assert [f["field"] for f in assert_error(taken, 422)["fields"]] == ["external_id"]
    hana = entries["Hana Nováková"]
    moved = staff.patch(f"/api/v1/directory/{hana['id']}", json={"external_id": "C1"})
    assert [f["field"] for f in assert_error(moved, 422)["fields"]] == ["external_id"]
    assert count(app, DirectoryEntry) == len(ALUMNI)


# --- searching ---------------------------------------------------------------------------------

SEARCHES: list[tuple[str, list[str]]] = [
    ("lind", ["Daniel Lindqvist"]),  # a prefix of a name
    ("Lindqvist", ["Daniel Lindqvist"]),
    ("medtr", ["José Martínez"]),  # an employer
    ("boston sci", ["Hana Nováková"]),
    ("chem", ["Hana Nováková"]),  # a major
    ("comput", ["Priya Raman"]),
    ("clinical research", ["Daniel Lindqvist"]),  # a title
    ("hana quality", ["Hana Nováková"]),  # every word must match
    ("hana medtronic", []),
    ("josé", ["José Martínez"]),
    ("NOVÁK", ["Hana Nováková"]),
    ("minneapolis", ["José Martínez", "Priya Raman"]),  # a location
    ("nonexistentword", []),
    ("%", ["Daniel Lindqvist", "Hana Nováková", "José Martínez", "Priya Raman"]),  # no words
]


def test_full_text_search(people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]]
                          ) -> None:
    _, student, _ = people
    for q, found in SEARCHES:
        assert sorted(_names(student, q=q)) == found, q


def test_search_ignores_accents(people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]]
                                ) -> None:
    _, student, _ = people
    for q, found in [("jose", ["José Martínez"]), ("martinez", ["José Martínez"]),
                     ("novakova", ["Hana Nováková"]), ("Jose Martinez", ["José Martínez"])]:
        assert sorted(_names(student, q=q)) == found, q


def test_filters(people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]]) -> None:
    staff, student, _ = people
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"industry": "Health Care"}, {"Daniel Lindqvist", "Wei Zhang"}),
        ({"industry": "medical devices"}, {"José Martínez", "Hana Nováková"}),
        ({"organization": "Medtronic"}, {"José Martínez"}),
        ({"organization": "Regions"}, {"Wei Zhang"}),
        ({"major": "Biology"}, {"José Martínez", "Wei Zhang"}),
        ({"location": "Saint Paul"}, {"Hana Nováková", "Wei Zhang"}),
        ({"location": "Minneapolis"}, {"José Martínez", "Priya Raman"}),
        ({"graduated_from": 2012}, {"José Martínez", "Hana Nováková", "Priya Raman"}),
        ({"graduated_to": 2005}, {"Daniel Lindqvist", "Wei Zhang"}),
        ({"graduated_from": 2005, "graduated_to": 2018},
         {"Daniel Lindqvist", "José Martínez", "Hana Nováková"}),
        ({"graduated_from": 2019, "graduated_to": 2020}, set()),
        ({"industry": "Medical Devices", "q": "quality"}, {"Hana Nováková"}),
        ({"industry": "Medical Devices", "graduated_to": 2015}, {"José Martínez"}),
    ]
    for params, expected in cases:
        assert set(_names(staff, **params)) == expected, params
        assert set(_names(student, **params)) == expected - {HIDDEN}, params
    assert set(_names(staff, accepts_requests="false")) == {HIDDEN}
    assert set(_names(staff, accepts_requests="true")) == OFFERED
    # A student asking for those who do not accept requests still sees none of them.
    assert HIDDEN not in _names(student, accepts_requests="false")
    bad = student.get("/api/v1/directory", params={"graduated_from": "1800"})
    assert [f["field"] for f in assert_error(bad, 422)["fields"]] == ["graduated_from"]


def test_the_list_is_in_name_order(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]]
) -> None:
    staff, student, _ = people
    assert _names(student) == ["Daniel Lindqvist", "José Martínez", "Hana Nováková",
                               "Priya Raman"]
    assert _names(staff)[-1] == HIDDEN


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.usefixtures("no_settle_delay")
def test_updated_since_pages_oldest_first_and_stable_while_entries_are_added(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]]
) -> None:
    staff, student, entries = people
    since = "2000-01-01T00:00:00Z"
    seen: list[dict[str, Any]] = []
    cursor = None
    added = False
    for _ in range(10):
        params: dict[str, Any] = {"updated_since": since, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = staff.get("/api/v1/directory", params=params)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 2
        seen.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if not added:  # someone adds an entry between two pages
            _create(staff, {"first_name": "Kwame", "last_name": "Mensah", "external_id": "C6"})
            added = True
        if cursor is None:
            break
    names = [f"{e['first_name']} {e['last_name']}" for e in seen]
    assert len(names) == len(set(names)), names  # nothing twice
    assert set(names) == EVERYONE | {"Kwame Mensah"}  # nothing missed, the new one last
    assert names[-1] == "Kwame Mensah"
    stamps = [e["updated_at"] for e in seen]
    assert stamps == sorted(stamps)  # oldest first

    # Only what changed since a moment; the student sees only the offered ones.
    time.sleep(0.05)
    moment = datetime.now(UTC)
    time.sleep(0.05)
    hana, wei = entries["Hana Nováková"], entries[HIDDEN]
    for entry in (hana, wei):
        assert staff.patch(f"/api/v1/directory/{entry['id']}",
                           json={"title": "Senior " + entry["title"]}).status_code == 200
    assert _names(staff, updated_since=_utc(moment)) == ["Hana Nováková", HIDDEN]
    assert _names(student, updated_since=_utc(moment)) == ["Hana Nováková"]


# --- those who do not accept requests, and adding to contacts ----------------------------------

def test_alumni_who_do_not_accept_requests_are_never_offered_to_students(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI
) -> None:
    staff, student, entries = people
    wei = entries[HIDDEN]
    assert set(_names(student)) == OFFERED
    assert _names(student, q="zhang") == [] and _names(student, q="regions") == []
    assert_error(student.get(f"/api/v1/directory/{wei['id']}"), 404)
    assert_error(student.post(f"/api/v1/directory/{wei['id']}/add-to-contacts"), 404)
    assert count(app, Contact) == 0
    # Staff see and manage them.
    assert set(_names(staff)) == EVERYONE
    assert _names(staff, q="zhang") == [HIDDEN]
    assert staff.get(f"/api/v1/directory/{wei['id']}").status_code == 200
    # Turned off later: gone for students at once; turned back on: offered again.
    priya = entries["Priya Raman"]
    off = staff.patch(f"/api/v1/directory/{priya['id']}", json={"accepts_requests": False})
    assert off.status_code == 200, off.text
    assert "Priya Raman" not in _names(student)
    assert_error(student.get(f"/api/v1/directory/{priya['id']}"), 404)
    staff.patch(f"/api/v1/directory/{wei['id']}", json={"accepts_requests": True})
    assert HIDDEN in _names(student, q="zhang")


def test_add_to_contacts_once(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI,
    make_client: Callable[[], TestClient],
) -> None:
    _, student, entries = people
    jose = entries["José Martínez"]
    first = student.post(f"/api/v1/directory/{jose['id']}/add-to-contacts")
    assert first.status_code == 201, first.text
    contact = first.json()
    assert first.headers["Location"] == f"/api/v1/contacts/{contact['id']}"
    assert contact["source"] == "alumni"
    for field in ("first_name", "last_name", "email", "title", "organization_name",
                  "linkedin_url", "industry", "location"):
        assert contact[field] == jose[field], field
    assert student.get(f"/api/v1/contacts/{contact['id']}").status_code == 200

    again = student.post(f"/api/v1/directory/{jose['id']}/add-to-contacts")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == contact["id"]
    listed = student.get("/api/v1/contacts", params={"limit": 200}).json()["items"]
    assert [c["id"] for c in listed] == [contact["id"]]

    # Another student gets a contact of their own.
    other = make_client()
    signed_in(other, email="kim@uni.edu", name="Kim Lee")
    theirs = other.post(f"/api/v1/directory/{jose['id']}/add-to-contacts")
    assert theirs.status_code == 201 and theirs.json()["id"] != contact["id"]
    assert count(app, Contact) == 2
    assert_error(other.post("/api/v1/directory/01nonexistent0000000000000/add-to-contacts"), 404)


def test_adding_contacting_and_interviewing_an_alumnus_is_counted_once_each(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI,
) -> None:
    _, student, entries = people
    jose = entries["José Martínez"]
    contact = student.post(f"/api/v1/directory/{jose['id']}/add-to-contacts").json()
    student.post(f"/api/v1/directory/{jose['id']}/add-to-contacts")
    for _ in range(2):
        draft = student.post("/api/v1/messages", json={"kind": "outreach",
                                                       "contact_id": contact["id"]}).json()
        sent = student.patch(f"/api/v1/messages/{draft['id']}", json={"status": "sent"})
        assert sent.status_code == 200, sent.text
    interview = student.post("/api/v1/interviews", json={
        "contact_id": contact["id"], "scheduled_at": "2026-03-02T15:00:00Z"}).json()
    held = student.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    assert held.status_code == 200, held.text
    # A contact of the student's own (not from the directory) counts for nothing.
    own = student.post("/api/v1/contacts", json={"first_name": "Ana"}).json()
    draft = student.post("/api/v1/messages", json={"kind": "outreach", "contact_id": own["id"]})
    student.patch(f"/api/v1/messages/{draft.json()['id']}", json={"status": "sent"})

    with app.state.sessionmaker() as db:
        kinds = sorted((e.entry_id, e.kind) for e in db.query(DirectoryEngagement))
    assert kinds == [(jose["id"], "added"), (jose["id"], "contacted"), (jose["id"], "interviewed")]


def test_engagement_is_counted_only_with_an_entry_added_from_the_directory_and_still_there(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]], app: FastAPI,
) -> None:
    staff, student, entries = people
    hana, priya = entries["Hana Nováková"], entries["Priya Raman"]
    # A contact given a directory marker by hand, without adding the entry, counts for nothing.
    forged = student.post("/api/v1/contacts", json={
        "first_name": "Hana", "external_id": f"directory:{hana['id']}"}).json()
    draft = student.post("/api/v1/messages", json={"kind": "outreach",
                                                   "contact_id": forged["id"]}).json()
    student.patch(f"/api/v1/messages/{draft['id']}", json={"status": "sent"})
    # Nor does writing to one that has since been deleted.
    added = student.post(f"/api/v1/directory/{priya['id']}/add-to-contacts").json()
    assert staff.delete(f"/api/v1/directory/{priya['id']}").status_code == 204
    draft = student.post("/api/v1/messages", json={"kind": "outreach",
                                                   "contact_id": added["id"]}).json()
    student.patch(f"/api/v1/messages/{draft['id']}", json={"status": "sent"})
    with app.state.sessionmaker() as db:
        kinds = sorted((e.entry_id, e.kind) for e in db.query(DirectoryEngagement))
    assert kinds == [(priya["id"], "added")]
    # And the staff figures leave the deleted entry out.
    assert staff.get("/api/v1/stats/directory").json()["items"] == []


def test_a_students_key_needs_directory_read(
    people: tuple[TestClient, TestClient, dict[str, dict[str, Any]]],
    make_client: Callable[[], TestClient],
) -> None:
    _, student, entries = people
    without = api_key(student, ["contacts:read", "contacts:write"])
    with_read = api_key(student, ["directory:read"])
    keyed = make_client()
    refused = keyed.get("/api/v1/directory", headers={"Authorization": f"Bearer {without}"})
    assert assert_error(refused, 403, "directory:read")["error"] == "missing_scope"
    entry = entries["Hana Nováková"]
    assert_error(keyed.get(f"/api/v1/directory/{entry['id']}",
                           headers={"Authorization": f"Bearer {without}"}), 403, "directory:read")
    allowed = keyed.get("/api/v1/directory", headers={"Authorization": f"Bearer {with_read}"})
    assert allowed.status_code == 200
    assert {f"{e['first_name']} {e['last_name']}" for e in allowed.json()["items"]} == OFFERED
    # Adding to contacts writes contacts: directory:read alone is not enough.
    add = keyed.post(f"/api/v1/directory/{entry['id']}/add-to-contacts",
                     headers={"Authorization": f"Bearer {with_read}"})
    assert_error(add, 403, "contacts:write")
