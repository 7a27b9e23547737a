"""The known world the engagement figures are checked against: three students and a staff
member, August to October 2026, built through the API with its moments moved into those months."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Contact, ContactEvent, DirectoryEngagement, Interview, Message
from tests.conftest import signed_in
from tests.imports.helpers import make_staff

SECRETS = ["Maya Okafor", "maya@uni.edu", "Kim Lee", "kim@uni.edu", "Lee Chen", "lee@uni.edu",
           "Maya's secret pitch", "Kim's own words", "Quietly confidential body",
           "Ana Privatecontact", "private note about Ana", "interview notes nobody sees"]
RANGE = {"from": "2026-07", "to": "2026-10"}


def when(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def move(app: FastAPI, model: Any, *where: Any, **values: Any) -> None:
    """Set rows' moments directly: the API records "now", the world happened in past months."""
    with Session(app.state.engine) as db:
        db.execute(update(model).where(*where).values(**values))
        db.commit()


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


class World:
    def __init__(self, app: FastAPI, make_client: Callable[[], TestClient]) -> None:
        self.app = app
        self.staff, self.maya, self.kim, self.lee = (make_client() for _ in range(4))
        make_staff(app, self.staff)
        self.ids = [signed_in(self.maya, "maya@uni.edu", "Maya Okafor")["id"],
                    signed_in(self.kim, "kim@uni.edu", "Kim Lee")["id"],
                    signed_in(self.lee, "lee@uni.edu", "Lee Chen")["id"]]
        self.entries = {name: ok(self.staff.post("/api/v1/directory", json={
            "first_name": first, "last_name": last, "organization_name": org,
            "external_id": external}), 201)
            for name, first, last, org, external in [
                ("jose", "José", "Martínez", "Medtronic", "C1"),
                ("hana", "Hana", "Nováková", "Boston Scientific", "C2"),
                ("daniel", "Daniel", "Lindqvist", "Mayo Clinic", "C3")]}

    def add(self, client: TestClient, entry: str, moment: str) -> str:
        """Copy a directory entry into the client's contacts, at ``moment``."""
        contact = ok(client.post(f"/api/v1/directory/{self.entries[entry]['id']}/add-to-contacts"),
                     201)
        self.added(contact["id"], moment)
        self.engaged(client, entry, "added", moment)
        return str(contact["id"])

    def added(self, contact_id: str, moment: str) -> None:
        """The contact and everything on its timeline so far, moved to ``moment``."""
        move(self.app, Contact, Contact.id == contact_id, created_at=when(moment))
        move(self.app, ContactEvent, ContactEvent.contact_id == contact_id, at=when(moment))

    def engaged(self, client: TestClient, entry: str, kind: str, moment: str) -> None:
        move(self.app, DirectoryEngagement,
             DirectoryEngagement.entry_id == self.entries[entry]["id"],
             DirectoryEngagement.kind == kind,
             DirectoryEngagement.student_id == ok(client.get("/api/v1/me"))["id"],
             at=when(moment))

    def send(self, client: TestClient, kind: str, contact_id: str, moment: str,
             template_id: str | None = None) -> str:
        body = {"kind": kind, "contact_id": contact_id, "status": "sent"}
        if template_id:
            body["template_id"] = template_id
        message = ok(client.post("/api/v1/messages", json=body), 201)
        move(self.app, Message, Message.id == message["id"], sent_at=when(moment))
        return str(message["id"])

    def reply(self, client: TestClient, message_id: str, moment: str) -> None:
        ok(client.patch(f"/api/v1/messages/{message_id}", json={"status": "replied"}))
        move(self.app, Message, Message.id == message_id, replied_at=when(moment))

    def hold(self, client: TestClient, contact_id: str, start: str, minutes: int,
             held: str) -> str:
        interview = ok(client.post("/api/v1/interviews", json={
            "contact_id": contact_id, "scheduled_at": start + "Z", "duration_minutes": minutes,
            "notes": "interview notes nobody sees"}), 201)
        ok(client.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"}))
        move(self.app, Interview, Interview.id == interview["id"], completed_at=when(held))
        return str(interview["id"])


@pytest.fixture
def world(app: FastAPI, make_client: Callable[[], TestClient]) -> World:
    """Three students and a staff member, from August to October 2026.

    August: Maya adds José from the directory and an own contact, writes to José (he replies in
    September), meets him and thanks him the next morning (on time). Kim adds José and Hana; Lee
    adds a contact of her own.
    September: Maya sends outreach from her own template (no reply). Kim sends José a LinkedIn
    note (replied) and Hana an outreach from her own template (replied; the template is deleted
    afterwards), meets José and thanks him three days later (late). Lee edits her contact.
    October: Kim meets Hana and thanks her that evening (on time; the note is not linked to the
    interview, so the last one held with Hana is found). Lee sends a thank-you that follows no
    interview. The staff member's own outreach counts nowhere.
    """
    w = World(app, make_client)
    maya, kim, lee, staff = w.maya, w.kim, w.lee, w.staff
    # Maya
    m1 = w.add(maya, "jose", "2026-08-10T09:00")
    ana = ok(maya.post("/api/v1/contacts", json={
        "first_name": "Ana", "last_name": "Privatecontact", "notes": "private note about Ana"}), 201)
    w.added(ana["id"], "2026-08-11T09:00")
    pitch = ok(maya.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Maya's secret pitch",
        "body": "Quietly confidential body {{ contact.first_name }}"}), 201)
    first = w.send(maya, "outreach", m1, "2026-08-12T10:00")
    w.engaged(maya, "jose", "contacted", "2026-08-12T10:00")
    w.reply(maya, first, "2026-09-02T08:00")
    w.hold(maya, m1, "2026-08-20T15:00", 30, "2026-08-20T15:40")
    w.engaged(maya, "jose", "interviewed", "2026-08-20T15:40")
    w.send(maya, "thank_you", m1, "2026-08-21T10:00")  # 18.5 hours after 15:30
    w.send(maya, "outreach", ana["id"], "2026-09-05T10:00", pitch["id"])
    ok(maya.post("/api/v1/messages", json={"kind": "outreach", "contact_id": ana["id"]}), 201)
    w.added(m1, "2026-08-10T09:00")
    w.added(ana["id"], "2026-08-11T09:00")
    # Kim
    k1 = w.add(kim, "jose", "2026-08-15T09:00")
    k2 = w.add(kim, "hana", "2026-08-16T09:00")
    own = ok(kim.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Kim's own words", "body": "Hello {{ contact.first_name }}"}),
        201)
    note = w.send(kim, "linkedin_note", k1, "2026-09-03T10:00")
    w.engaged(kim, "jose", "contacted", "2026-09-03T10:00")
    w.reply(kim, note, "2026-09-04T10:00")
    outreach = w.send(kim, "outreach", k2, "2026-09-10T10:00", own["id"])
    w.engaged(kim, "hana", "contacted", "2026-09-10T10:00")
    w.reply(kim, outreach, "2026-09-12T10:00")
    assert kim.delete(f"/api/v1/templates/{own['id']}").status_code == 204
    w.hold(kim, k1, "2026-09-20T14:00", 60, "2026-09-20T15:10")
    w.engaged(kim, "jose", "interviewed", "2026-09-20T15:10")
    w.send(kim, "thank_you", k1, "2026-09-23T09:00")  # 66 hours after 15:00
    w.hold(kim, k2, "2026-10-01T10:00", 30, "2026-10-01T10:30")
    w.engaged(kim, "hana", "interviewed", "2026-10-01T10:30")
    unlinked = w.send(kim, "thank_you", k2, "2026-10-01T18:00")
    move(app, Message, Message.id == unlinked, interview_id=None)
    w.added(k1, "2026-08-15T09:00")
    w.added(k2, "2026-08-16T09:00")
    # Lee
    l1 = ok(lee.post("/api/v1/contacts", json={"first_name": "Sam", "last_name": "Rivera"}), 201)
    w.send(lee, "thank_you", l1["id"], "2026-10-05T12:00")
    w.added(l1["id"], "2026-08-20T09:00")
    ok(lee.patch(f"/api/v1/contacts/{l1['id']}", json={"title": "Nurse"}))
    move(app, ContactEvent, ContactEvent.contact_id == l1["id"], ContactEvent.kind == "edited",
         at=when("2026-09-25T09:00"))
    # Staff, trying the app: never counted.
    s1 = w.add(staff, "daniel", "2026-09-01T09:00")
    w.send(staff, "outreach", s1, "2026-09-08T10:00")
    w.engaged(staff, "daniel", "contacted", "2026-09-08T10:00")
    return w
