"""The reminder choices through the API, the signed unsubscribe links, and the notices for
what cannot wait a day. Each student reaches only their own."""

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.reminders import service
from tests.reminders.conftest import (
    Clock,
    Mailbox,
    add_interview,
    add_task,
    contact,
    student,
    worker,
)

PARIS_8AM = datetime(2030, 3, 4, 7, 0, tzinfo=UTC)


def test_choices_default_on_and_change_for_the_caller_only(
        make_mail_client: Any) -> None:
    maya, jon = make_mail_client(), make_mail_client()
    student(maya, "maya@uni.edu", "Maya Okafor", "Europe/Paris")
    student(jon, "jon@uni.edu", "Jon Park", "UTC")
    assert maya.get("/api/v1/me/reminders").json() == {
        "digest": True, "notices": True, "email_available": True, "timezone": "Europe/Paris",
        "feed_active": False, "feed_created_at": None}
    changed = maya.patch("/api/v1/me/reminders", json={"digest": False})
    assert changed.status_code == 200
    assert (changed.json()["digest"], changed.json()["notices"]) == (False, True)
    assert maya.get("/api/v1/me/reminders").json()["digest"] is False
    assert jon.get("/api/v1/me/reminders").json()["digest"] is True


def test_bad_bodies_are_refused_with_the_field_named(mail_client: TestClient) -> None:
    student(mail_client, "maya@uni.edu", "Maya Okafor", "UTC")
    for body, name in [({"digest": None}, "digest"), ({"digest": "maybe"}, "digest"),
                       ({"owner": "x"}, "owner")]:
        response = mail_client.patch("/api/v1/me/reminders", json=body)
        assert response.status_code == 422, body
        assert response.json()["error"] == "validation_error"
        assert [f["field"] for f in response.json()["fields"]] == [name]


def test_nothing_without_logging_in(mail_client: TestClient) -> None:
    assert mail_client.get("/api/v1/me/reminders").status_code == 401
    assert mail_client.patch("/api/v1/me/reminders", json={"digest": False}).status_code == 401
    assert mail_client.post("/api/v1/me/calendar-feed").status_code == 401
    assert mail_client.delete("/api/v1/me/calendar-feed").status_code == 401
    page = mail_client.get("/settings/reminders", follow_redirects=False)
    assert page.status_code in {303, 401}


def test_an_unsubscribe_link_stops_only_its_own_student(
        mail_app: FastAPI, make_mail_client: Any) -> None:
    maya, jon = make_mail_client(), make_mail_client()
    maya_id = student(maya, "maya@uni.edu", "Maya Okafor", "UTC")["id"]
    jon_id = student(jon, "jon@uni.edu", "Jon Park", "UTC")["id"]
    settings = mail_app.state.settings
    jons = service.unsubscribe_token(settings, jon_id, "digest")
    signature = jons.rpartition(".")[2]
    with TestClient(mail_app) as anyone:
        for forged in [f"{maya_id}.digest.{signature}", f"{jon_id}.notices.{signature}",
                       f"{maya_id}.digest.", "nonsense"]:
            assert anyone.get(f"/reminders/unsubscribe/{forged}").status_code == 404
            assert anyone.post(f"/reminders/unsubscribe/{forged}").status_code == 404
        assert anyone.post(f"/reminders/unsubscribe/{jons}").status_code == 200
    assert jon.get("/api/v1/me/reminders").json()["digest"] is False
    assert maya.get("/api/v1/me/reminders").json()["digest"] is True


def test_a_thank_you_due_within_a_day_gets_one_notice(
        mail_app: FastAPI, mail_client: TestClient, mailbox: Mailbox) -> None:
    me = student(mail_client, "maya@uni.edu", "Maya Okafor", "Europe/Paris")
    laura = contact(mail_client, "Laura", "Haddad")
    clock = Clock(PARIS_8AM + timedelta(hours=7))  # 15:00 in Paris, after the morning's email
    add_task(mail_app, me["id"], "Thank Laura Haddad", clock.now + timedelta(hours=23),
             kind="thank_you", contact_id=laura["id"])
    sender = worker(mail_app, mailbox, clock)
    sender.drain()
    clock.now += timedelta(hours=2)
    sender.drain()
    [notice] = mailbox.messages
    assert notice["Subject"] == "Thank-you due: Thank Laura Haddad"
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Write the thank-you: " in text and "kind=thank_you" in text

    maya_off = mail_client.patch("/api/v1/me/reminders", json={"notices": False})
    assert maya_off.status_code == 200
    add_task(mail_app, me["id"], "Thank Sam Rivera", clock.now + timedelta(hours=20),
             kind="thank_you", contact_id=laura["id"])
    sender.drain()
    assert len(mailbox.messages) == 1


def test_an_interview_tomorrow_morning_gets_a_notice_unless_the_digest_named_it(
        mail_app: FastAPI, mail_client: TestClient, mailbox: Mailbox) -> None:
    me = student(mail_client, "maya@uni.edu", "Maya Okafor", "Europe/Paris")
    laura = contact(mail_client, "Laura", "Haddad")
    named = add_interview(mail_app, me["id"], laura["id"], PARIS_8AM + timedelta(days=1, hours=2))
    clock = Clock(PARIS_8AM)
    sender = worker(mail_app, mailbox, clock)
    sender.drain()
    [digest] = mailbox.messages
    assert "Informational interview with Laura Haddad" in str(digest.get_body(("plain",)))
    assert named

    # Set at noon for 09:00 tomorrow: that morning's email would come too late to prepare.
    sam = contact(mail_client, "Sam", "Rivera")
    add_interview(mail_app, me["id"], sam["id"], PARIS_8AM + timedelta(days=1, hours=1))
    clock.now += timedelta(hours=4)
    sender.drain()
    sender.drain()
    assert len(mailbox.messages) == 2
    assert mailbox.messages[1]["Subject"] == (
        "Tomorrow morning: Informational interview with Sam Rivera")
