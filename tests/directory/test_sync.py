"""Keeping the directory in step with a CRM: batches and PUTs by external id, deletions kept as
tombstones, and sync reads that page through every change once."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.contacts.service import prefix_match
from app.models import DirectoryEntry
from tests.conftest import api_key, signed_in
from tests.imports.helpers import assert_error, count, csv_bytes, make_staff, upload

EPOCH = "2000-01-01T00:00:00Z"


@pytest.fixture
def crm(app: FastAPI, make_client: Callable[[], TestClient]) -> TestClient:
    """The university CRM: a staff member's key that reads and writes the directory."""
    staff = make_client()
    make_staff(app, staff)
    client = make_client()
    client.headers["Authorization"] = f"Bearer {api_key(staff, ['directory:read', 'directory:write'])}"
    return client


def person(n: int, **changes: Any) -> dict[str, Any]:
    return {"external_id": f"CRM-{n:04d}", "first_name": f"Alum{n}", "last_name": "Example",
            "email": f"alum{n}@example.org", "title": "Engineer",
            "organization_name": "Medtronic", "graduation_year": 2010, **changes}


def changes_since(client: TestClient, since: str, limit: int = 200,
                  **params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every page of a sync read: the items, and where the next run starts."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"updated_since": since, "limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        page = client.get("/api/v1/directory", params=query)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items, page.json()["next_updated_since"]


def stamp(app: FastAPI, external_id: str, moment: datetime) -> None:
    """Set when a row was last changed, as a transaction that stamped it then would have."""
    with Session(app.state.engine) as db:
        db.execute(update(DirectoryEntry).where(DirectoryEntry.external_id == external_id)
                   .values(updated_at=moment))
        db.commit()


# --- the integrator's round trip ---------------------------------------------------------------

@pytest.mark.usefixtures("no_settle_delay")
def test_push_a_thousand_change_ten_delete_two_and_read_back_exactly_twelve(
    app: FastAPI, crm: TestClient
) -> None:
    pushed = crm.post("/api/v1/directory/batch",
                      json={"items": [person(n) for n in range(1000)]})
    assert pushed.status_code == 200, pushed.text
    report = pushed.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1000, 0, 0)
    assert [i["external_id"] for i in report["items"]] == [f"CRM-{n:04d}" for n in range(1000)]
    assert {i["result"] for i in report["items"]} == {"created"}
    assert count(app, DirectoryEntry) == 1000

    everything, since = changes_since(crm, EPOCH)
    assert len(everything) == 1000 and len({e["id"] for e in everything}) == 1000

    changed = crm.post("/api/v1/directory/batch", json={"items": [
        person(n, title="Director") for n in range(10)] + [person(n) for n in range(10, 20)]})
    assert (changed.json()["updated"], changed.json()["unchanged"]) == (10, 10)
    for n in (500, 501):
        assert crm.delete(f"/api/v1/directory/by-external-id/CRM-{n:04d}").status_code == 204

    news, _ = changes_since(crm, since, include_deleted="true")
    assert len(news) == 12
    assert [e["title"] for e in news[:10]] == ["Director"] * 10
    gone = news[10:]
    assert [e["external_id"] for e in gone] == ["CRM-0500", "CRM-0501"]
    for tombstone in gone:
        assert tombstone["deleted_at"] is not None
        assert (tombstone["first_name"], tombstone["email"], tombstone["title"]) == ("", None, "")
    assert all(e["deleted_at"] is None for e in news[:10])
    # Without include_deleted, the deletions are not there.
    assert len(changes_since(crm, since)[0]) == 10

    # The same thousand again: the deleted two come back, the ten changed go back.
    again = crm.post("/api/v1/directory/batch", json={"items": [person(n) for n in range(1000)]})
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (
        2, 10, 988)


def test_the_same_batch_twice_changes_nothing_the_second_time(
    app: FastAPI, crm: TestClient
) -> None:
    body = {"items": [person(n) for n in range(5)]}
    first = crm.post("/api/v1/directory/batch", json=body).json()
    before = {e["id"]: (e["version"], e["updated_at"]) for e in _rows(app)}
    second = crm.post("/api/v1/directory/batch", json=body)
    assert second.status_code == 200
    assert (second.json()["created"], second.json()["unchanged"]) == (0, 5)
    assert [i["id"] for i in second.json()["items"]] == [i["id"] for i in first["items"]]
    assert {e["id"]: (e["version"], e["updated_at"]) for e in _rows(app)} == before


def _rows(app: FastAPI) -> list[dict[str, Any]]:
    with Session(app.state.engine) as db:
        return [{"id": e.id, "version": e.version, "updated_at": e.updated_at}
                for e in db.scalars(select(DirectoryEntry))]


def test_an_invalid_item_refuses_the_whole_batch_and_names_it(
    app: FastAPI, crm: TestClient
) -> None:
    items = [person(n) for n in range(5)]
    cases: list[tuple[list[dict[str, Any]], list[str]]] = [
        ([*items[:3], person(3, email="not-an-email"), items[4]], ["items.3.email"]),
        ([*items[:3], person(3, graduation_year=1800), items[4]], ["items.3.graduation_year"]),
        ([*items[:3], person(3, monthly_capacity=0), items[4]], ["items.3.monthly_capacity"]),
        ([items[0], {**items[1], "salary": 1}], ["items.1.salary"]),
        ([items[0], {"external_id": "CRM-NEW", "title": "No name"}], ["items.1.first_name"]),
        ([items[0], items[1], person(0)], ["items.2.external_id"]),  # the same person twice
        ([{k: v for k, v in items[0].items() if k != "external_id"}], ["items.0.external_id"]),
        ([person(n) for n in range(1001)], ["items"]),
        ([], ["items"]),
    ]
    for batch, fields in cases:
        response = crm.post("/api/v1/directory/batch", json={"items": batch})
        assert [f["field"] for f in assert_error(response, 422)["fields"]] == fields, fields
    assert count(app, DirectoryEntry) == 0


def test_a_batch_honours_an_idempotency_key(app: FastAPI, crm: TestClient) -> None:
    body = {"items": [person(n) for n in range(3)]}
    key = {"Idempotency-Key": "crm-run-42"}
    first = crm.post("/api/v1/directory/batch", json=body, headers=key)
    replay = crm.post("/api/v1/directory/batch", json=body, headers=key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == first.json() and first.json()["created"] == 3
    other = crm.post("/api/v1/directory/batch", json={"items": [person(9)]}, headers=key)
    assert assert_error(other, 422)["error"] == "idempotency_key_reused"
    assert count(app, DirectoryEntry) == 3


# --- PUT and DELETE by external id -------------------------------------------------------------

def test_put_by_external_id_creates_then_updates_and_twice_is_once(crm: TestClient) -> None:
    url = "/api/v1/directory/by-external-id/CRM-0001"
    body = {k: v for k, v in person(1).items() if k != "external_id"}
    created = crm.put(url, json=body)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert created.headers["Location"] == f"/api/v1/directory/{entry['id']}"
    assert entry["external_id"] == "CRM-0001" and entry["first_name"] == "Alum1"

    again = crm.put(url, json=body)
    assert again.status_code == 200
    assert again.headers["ETag"] == created.headers["ETag"]
    assert again.json()["updated_at"] == entry["updated_at"]

    # A field left out keeps its value; one sent as null is cleared.
    changed = crm.put(url, json={"title": "Director", "email": None},
                      headers={"If-Match": created.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["email"]) == ("Director", None)
    assert changed.json()["organization_name"] == "Medtronic"
    assert changed.headers["ETag"] != created.headers["ETag"]
    assert_error(crm.put(url, json={"title": "CEO"}, headers={"If-Match": created.headers["ETag"]}),
                 412)
    assert crm.get(f"/api/v1/directory/{entry['id']}").json()["title"] == "Director"

    assert_error(crm.put("/api/v1/directory/by-external-id/CRM-0002", json=body,
                         headers={"If-Match": '"v1"'}), 412)
    named = crm.put(url, json={"external_id": "CRM-0009"})
    assert [f["field"] for f in assert_error(named, 422)["fields"]] == ["external_id"]
    nameless = crm.put("/api/v1/directory/by-external-id/CRM-0003", json={"title": "X"})
    assert [f["field"] for f in assert_error(nameless, 422)["fields"]] == ["first_name"]
    # An external id with a slash, as some CRMs make them.
    slashed = crm.put("/api/v1/directory/by-external-id/alumni/7", json={"first_name": "Ada"})
    assert slashed.status_code == 201 and slashed.json()["external_id"] == "alumni/7"
    assert crm.delete("/api/v1/directory/by-external-id/alumni/7").status_code == 204


@pytest.mark.usefixtures("no_settle_delay")
def test_a_deleted_entry_leaves_a_tombstone_only_sync_shows_and_a_put_brings_it_back(
    app: FastAPI, crm: TestClient, make_client: Callable[[], TestClient]
) -> None:
    student = make_client()
    signed_in(student)
    entry = crm.put("/api/v1/directory/by-external-id/CRM-0001",
                    json={"first_name": "José", "last_name": "Martínez", "major": "Biology",
                          "linkedin_url": "https://www.linkedin.com/in/jose"}).json()
    assert crm.delete(f"/api/v1/directory/{entry['id']}").status_code == 204

    for client in (crm, student):
        assert_error(client.get(f"/api/v1/directory/{entry['id']}"), 404)
        assert client.get("/api/v1/directory").json()["items"] == []
        assert client.get("/api/v1/directory", params={"q": "martinez"}).json()["items"] == []
    with Session(app.state.engine) as db:
        row = db.get(DirectoryEntry, entry["id"])
        assert row is not None and row.deleted_at is not None
        assert (row.first_name, row.last_name, row.major, row.linkedin_url, row.search_text,
                row.external_id) == ("", "", "", "", "", "CRM-0001")
        # Nothing of the person is left in the full-text index.
        found = db.scalars(select(DirectoryEntry.id).where(
            prefix_match(db, "directory_entries", ["martinez"])))
        assert list(found) == []

    # Gone for every other write too; deleting again by external id is fine, an unknown one is not.
    assert_error(crm.delete(f"/api/v1/directory/{entry['id']}"), 404)
    assert_error(crm.patch(f"/api/v1/directory/{entry['id']}", json={"title": "X"}), 404)
    assert crm.delete("/api/v1/directory/by-external-id/CRM-0001").status_code == 204
    assert_error(crm.delete("/api/v1/directory/by-external-id/CRM-9999"), 404)

    synced, _ = changes_since(crm, EPOCH, include_deleted="true")
    assert [(e["id"], e["first_name"]) for e in synced] == [(entry["id"], "")]
    assert synced[0]["deleted_at"] is not None

    back = crm.put("/api/v1/directory/by-external-id/CRM-0001", json={"first_name": "José"})
    assert back.status_code == 201 and back.json()["id"] == entry["id"]
    assert back.json()["deleted_at"] is None and back.json()["last_name"] == ""
    assert [e["first_name"] for e in student.get(
        "/api/v1/directory", params={"q": "jose"}).json()["items"]] == ["José"]


def test_an_import_row_brings_a_deleted_entry_back(
    app: FastAPI, crm: TestClient, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff, email="imports@uni.edu")
    crm.put("/api/v1/directory/by-external-id/CRM-0001", json={"first_name": "Old"})
    crm.delete("/api/v1/directory/by-external-id/CRM-0001")
    report = upload(staff, "alumni.csv", csv_bytes(["First Name,External Id", "Hana,CRM-0001"]),
                    target="directory")
    assert report.status_code == 201, report.text
    listed = staff.get("/api/v1/directory").json()["items"]
    assert [(e["first_name"], e["external_id"], e["deleted_at"]) for e in listed] == [
        ("Hana", "CRM-0001", None)]


def test_students_cannot_write_by_external_id_nor_see_tombstones(
    app: FastAPI, crm: TestClient, make_client: Callable[[], TestClient]
) -> None:
    crm.put("/api/v1/directory/by-external-id/CRM-0001", json={"first_name": "Ada"})
    crm.put("/api/v1/directory/by-external-id/CRM-0002", json={"first_name": "Gone"})
    crm.delete("/api/v1/directory/by-external-id/CRM-0002")
    student = make_client()
    signed_in(student)
    keyed = make_client()
    keyed.headers["Authorization"] = (
        f"Bearer {api_key(student, ['directory:read', 'directory:write'])}")
    for client in (student, keyed):
        attempts = [
            client.put("/api/v1/directory/by-external-id/CRM-0001", json={"first_name": "X"}),
            client.put("/api/v1/directory/by-external-id/CRM-0003", json={"first_name": "X"}),
            client.delete("/api/v1/directory/by-external-id/CRM-0001"),
            client.post("/api/v1/directory/batch", json={"items": [person(1)]}),
            client.get("/api/v1/directory", params={"updated_since": EPOCH,
                                                    "include_deleted": "true"}),
        ]
        for response in attempts:
            assert assert_error(response, 403)["error"] == "staff_only"
        listed = client.get("/api/v1/directory", params={"updated_since": EPOCH}).json()
        assert all(e["deleted_at"] is None for e in listed["items"])
        assert "CRM-0002" not in {e["external_id"] for e in listed["items"]}
    with Session(app.state.engine) as db:
        names = sorted(e.first_name for e in db.scalars(select(DirectoryEntry)))
    assert names == ["", "Ada"]
    # A staff key that only reads may not ask for tombstones either.
    reader = TestClient(app)
    staff = make_client()
    make_staff(app, staff, email="reader@uni.edu")
    reader.headers["Authorization"] = f"Bearer {api_key(staff, ['directory:read'])}"
    refused = reader.get("/api/v1/directory", params={"include_deleted": "true"})
    assert assert_error(refused, 403, "directory:write")["error"] == "missing_scope"
    reader.close()


# --- sync reads while others write -------------------------------------------------------------

@pytest.mark.usefixtures("no_settle_delay")
def test_paging_while_entries_change_neither_misses_nor_repeats(
    app: FastAPI, crm: TestClient
) -> None:
    crm.post("/api/v1/directory/batch", json={"items": [person(n) for n in range(30)]})
    seen: list[tuple[str, int]] = []  # (id, version) of every item read
    cursor, n = None, 100
    while True:
        params: dict[str, Any] = {"updated_since": EPOCH, "limit": 7, "include_deleted": "true"}
        if cursor:
            params["cursor"] = cursor
        page = crm.get("/api/v1/directory", params=params).json()
        seen += [(e["id"], e["version"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Between two pages: one entry already read changes, one not yet read changes, one is
        # deleted, one is added.
        read = len(seen)
        crm.put(f"/api/v1/directory/by-external-id/CRM-{read - 1:04d}", json={"title": f"T{n}"})
        crm.put(f"/api/v1/directory/by-external-id/CRM-{29 - read // 7:04d}",
                json={"title": f"U{n}"})
        crm.delete(f"/api/v1/directory/by-external-id/CRM-{read - 2:04d}")
        crm.put(f"/api/v1/directory/by-external-id/CRM-{n:04d}", json={"first_name": f"New{n}"})
        n += 1
    assert len(seen) == len(set(seen)), "an item was read twice"
    last_seen = {entry_id: version for entry_id, version in seen}  # the latest read of each
    with Session(app.state.engine) as db:
        now = {e.id: e.version for e in db.scalars(select(DirectoryEntry))}
    assert last_seen == now, "a change was missed"


def test_the_settle_delay_keeps_a_late_commit_from_being_missed(
    app: FastAPI, crm: TestClient
) -> None:
    """A transaction stamps its rows when it writes them and commits later. A reader that went
    past that stamp in the meantime would never see the row, unless it stops short of the last
    few seconds (RAPPORT_SYNC_SETTLE_SECONDS) and takes them on its next run."""
    now = datetime.now(UTC)
    settings = app.state.settings
    missed = {}
    for settle in (60, 0):
        with Session(app.state.engine) as db:
            db.query(DirectoryEntry).delete()
            db.commit()
        settings.sync_settle_seconds = settle
        for key, age in (("A", 120), ("B", 30)):
            crm.put(f"/api/v1/directory/by-external-id/{key}", json={"first_name": key})
            stamp(app, key, now - timedelta(seconds=age))
        first, since = changes_since(crm, EPOCH)
        # Meanwhile a transaction that stamped its row 45 seconds ago commits.
        crm.put("/api/v1/directory/by-external-id/L", json={"first_name": "L"})
        stamp(app, "L", now - timedelta(seconds=45))
        settings.sync_settle_seconds = 0  # the next run, a minute later
        second, _ = changes_since(crm, since)
        read = [e["external_id"] for e in first + second]
        if settle:
            assert [e["external_id"] for e in first] == ["A"]  # B waits: it is too recent
            assert datetime.fromisoformat(since) < now - timedelta(seconds=45)  # before L
            assert read == ["A", "L", "B"]
        missed[settle] = {"A", "B", "L"} - set(read)
    settings.sync_settle_seconds = 5
    assert missed == {60: set(), 0: {"L"}}  # without the delay, L is never read


def test_a_sync_read_leaves_out_the_last_seconds_and_says_where_to_start_next(
    app: FastAPI, crm: TestClient
) -> None:
    app.state.settings.sync_settle_seconds = 60
    try:
        crm.put("/api/v1/directory/by-external-id/CRM-1", json={"first_name": "Fresh"})
        page = crm.get("/api/v1/directory", params={"updated_since": EPOCH}).json()
        assert page["items"] == []
        since = datetime.fromisoformat(page["next_updated_since"])
        assert datetime.now(UTC) - since >= timedelta(seconds=59)
        # Once the row is older than the delay, it is read.
        stamp(app, "CRM-1", datetime.now(UTC) - timedelta(seconds=61))
        assert [e["first_name"] for e in changes_since(crm, EPOCH)[0]] == ["Fresh"]
        # An ordinary list (no updated_since) shows it at once, and says nothing of syncing.
        plain = crm.get("/api/v1/directory").json()
        assert [e["first_name"] for e in plain["items"]] == ["Fresh"]
        assert "next_updated_since" not in plain
    finally:
        app.state.settings.sync_settle_seconds = 5
