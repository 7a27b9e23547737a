"""Which changes become events, what they carry, and what they never carry: a directory entry
created, changed (only when something changed) or deleted; a directory import as one event,
not one per row; a student's engagement with no trace of who, unless they chose to share."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import WebhookDelivery
from app.webhooks import signing
from tests.conftest import signed_in
from tests.imports.helpers import rows, sample, upload
from tests.webhooks.conftest import ALL_EVENTS, Receiver, alumna, subscribe, worker


def sent(app: FastAPI) -> list[dict[str, Any]]:
    """The bodies queued so far, oldest first."""
    return [d.payload for d in sorted(rows(app, WebhookDelivery), key=lambda d: d.id)]


def test_directory_changes_become_events(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url)
    entry = alumna(staff)
    path = f"/api/v1/directory/{entry['id']}"
    assert staff.patch(path, json={"title": "Director"}).status_code == 200
    assert staff.patch(path, json={"title": "Director"}).status_code == 200  # no change
    assert staff.delete(path).status_code == 204
    worker(private_app).drain()
    assert receiver.events() == ["directory.entry.created", "directory.entry.updated",
                                 "directory.entry.deleted"]
    created, updated, deleted = (r.json["data"] for r in receiver.requests)
    assert created["title"] == "Regulatory Affairs" and updated["title"] == "Director"
    assert updated["updated_at"] >= created["updated_at"]
    assert deleted == {"id": entry["id"], "external_id": "CRM-1",
                       "deleted_at": deleted["deleted_at"]}


def test_only_subscribed_events_of_active_webhooks_are_queued(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.deleted"])
    paused = subscribe(staff, receiver.url + "/paused", ALL_EVENTS, active=False)
    entry = alumna(staff)
    staff.delete(f"/api/v1/directory/{entry['id']}")
    queued = rows(private_app, WebhookDelivery)
    assert [d.event for d in queued] == ["directory.entry.deleted"]
    assert all(d.webhook_id != paused["id"] for d in queued)


def test_nothing_is_queued_when_nobody_listens(private_app: FastAPI, staff: TestClient) -> None:
    alumna(staff)
    assert rows(private_app, WebhookDelivery) == []


def test_a_directory_import_is_one_event_not_one_per_row(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url)
    dry = upload(staff, "alumni-export.csv", sample("alumni-export.csv"), "directory",
                 dry_run=True)
    assert dry.status_code == 201 and sent(private_app) == []  # a dry run changes nothing
    report = upload(staff, "alumni-export.csv", sample("alumni-export.csv"), "directory")
    assert report.status_code == 201, report.text
    job = report.json()
    [event] = sent(private_app)
    assert event["type"] == "import.completed"
    assert event["data"] | {"finished_at": None} == {
        "id": job["id"], "target": "directory", "status": "completed",
        "created": job["created"], "updated": job["updated"], "unchanged": job["unchanged"],
        "skipped": job["skipped"], "rows": event["data"]["rows"], "finished_at": None}
    assert job["created"] > 100
    worker(private_app).drain()
    assert receiver.events() == ["import.completed"]


def test_a_students_contacts_import_tells_career_services_nothing(
    private_app: FastAPI, staff: TestClient, receiver: Receiver,
    make_client: Callable[[], TestClient],
) -> None:
    subscribe(staff, receiver.url)
    student = make_client()
    signed_in(student, email="jon@uni.edu", name="Jon Park")
    assert upload(student, "mine.csv", b"First Name,Email\nKim,kim@example.org\n").status_code == 201
    assert sent(private_app) == []


def _reach_out(student: TestClient, entry_id: str) -> None:
    added = student.post(f"/api/v1/directory/{entry_id}/add-to-contacts")
    assert added.status_code == 201, added.text
    message = student.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": added.json()["id"], "status": "sent"})
    assert message.status_code == 201, message.text


def test_engagement_events_say_nothing_of_the_student(
    private_app: FastAPI, staff: TestClient, receiver: Receiver,
    make_client: Callable[[], TestClient],
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.engaged"])
    entry = alumna(staff)
    student = make_client()
    me = signed_in(student, email="jon.park@uni.edu", name="Jon Park")
    assert me["share_engagement_with_career_office"] is False
    _reach_out(student, entry["id"])
    worker(private_app).drain()
    assert [r.json["data"]["kind"] for r in receiver.requests] == ["added", "contacted"]
    for request in receiver.requests:
        data = request.json["data"]
        assert set(data) == {"entry_id", "external_id", "kind", "at"}
        assert data["entry_id"] == entry["id"] and data["external_id"] == "CRM-1"
        for trace in (me["id"], "Jon", "Park", "jon.park"):
            assert trace not in request.body.decode(), trace


def test_a_student_who_opted_in_is_named(
    private_app: FastAPI, staff: TestClient, receiver: Receiver,
    make_client: Callable[[], TestClient],
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.engaged"])
    entry = alumna(staff)
    student = make_client()
    signed_in(student, email="ana@uni.edu", name="Ana Díaz")
    shared = student.patch("/api/v1/me", json={"share_engagement_with_career_office": True})
    assert shared.status_code == 200 and shared.json()["share_engagement_with_career_office"]
    _reach_out(student, entry["id"])
    worker(private_app).drain()
    assert [r.json["data"]["student"] for r in receiver.requests] == [
        {"name": "Ana Díaz", "email": "ana@uni.edu"}] * 2
    assert set(receiver.requests[0].json["data"]["student"]) == {"name", "email"}  # no more


def test_a_student_who_stops_sharing_is_taken_out_of_events_not_yet_delivered(
    private_app: FastAPI, staff: TestClient, receiver: Receiver,
    make_client: Callable[[], TestClient],
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.engaged"])
    entry = alumna(staff)
    student = make_client()
    signed_in(student, email="ana@uni.edu", name="Ana Díaz")
    student.patch("/api/v1/me", json={"share_engagement_with_career_office": True})
    _reach_out(student, entry["id"])
    student.patch("/api/v1/me", json={"share_engagement_with_career_office": False})
    worker(private_app).drain()
    assert [r.json["data"]["kind"] for r in receiver.requests] == ["added", "contacted"]
    for request in receiver.requests:
        assert "student" not in request.json["data"]
        assert "ana@uni.edu" not in request.body.decode()
        assert signing.verify(hook["secret"], request.headers[signing.SIGNATURE_HEADER],
                              request.body)


def test_the_settings_page_offers_the_choice_in_plain_words(
    make_client: Callable[[], TestClient], private_app: FastAPI
) -> None:
    student = make_client()
    signed_in(student)
    page = student.get("/settings").text
    assert "Share my name and email with career services" in page
    assert "Your contacts, messages and notes are never shared." in page
    toggled = student.patch("/api/v1/me", json={"share_engagement_with_career_office": True},
                            headers={"HX-Request": "true", "HX-Target": "sharing"})
    assert toggled.status_code == 200
    assert 'id="sharing"' in toggled.text and "checked" in toggled.text
    assert "Save profile" not in toggled.text  # only the checkbox is redrawn
    assert student.get("/api/v1/me").json()["share_engagement_with_career_office"] is True
    assert student.patch("/api/v1/me", json={
        "share_engagement_with_career_office": None}).status_code == 422
