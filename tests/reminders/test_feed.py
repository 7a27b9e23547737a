"""The private calendar feed: shown once, read by calendar apps without a session, parsed by
two parsers, stable UIDs across edits, and gone (404) once revoked or replaced."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import vobject
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import PASSWORD, api_key
from tests.reminders.conftest import SITE, add_task, contact, student

MEETING = datetime(2030, 3, 5, 14, 0, tzinfo=UTC)


def feed_path(client: TestClient) -> str:
    response = client.post("/api/v1/me/calendar-feed")
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert url.startswith(f"{SITE}/calendar/rcal_")
    return urlsplit(url).path


def schedule(client: TestClient, contact_id: str) -> dict[str, object]:
    response = client.post("/api/v1/interviews", json={
        "contact_id": contact_id, "scheduled_at": MEETING.isoformat(), "status": "scheduled"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def events(body: bytes) -> dict[str, dict[str, object]]:
    calendar = Calendar.from_ical(body)
    return {str(e["uid"]): {"summary": str(e["summary"]), "sequence": int(e["sequence"]),
                            "start": e.decoded("dtstart"), "location": str(e.get("location", ""))}
            for e in calendar.walk("VEVENT")}


def test_the_feed_lists_interviews_and_open_tasks_for_any_calendar_app(
        mail_app: FastAPI, make_mail_client: object) -> None:
    owner, other = make_mail_client(), make_mail_client()  # type: ignore[operator]
    me = student(owner, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    laura = contact(owner, "Laura", "Haddad")
    interview = schedule(owner, laura["id"])
    task_id = add_task(mail_app, me["id"], "Thank Laura Haddad",
                       datetime(2030, 3, 6, 23, 30, tzinfo=UTC))  # 7 March in Paris
    them = student(other, "jo@uni.edu", "Jo Park", "America/Los_Angeles")
    add_task(mail_app, them["id"], "Jo's own task", MEETING)
    path = feed_path(owner)

    with TestClient(mail_app) as calendar_app:  # no cookie
        response = calendar_app.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.content
    found = events(body)
    assert set(found) == {f"interview-{interview['id']}@rapport", f"task-{task_id}@rapport"}
    assert found[f"interview-{interview['id']}@rapport"]["start"] == MEETING
    assert found[f"task-{task_id}@rapport"]["start"] == datetime(2030, 3, 7).date()
    assert b"Jo's own task" not in body
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"\r\nX-PUBLISHED-TTL:PT1H\r\n" in body

    # A second parser reads the same events.
    parsed = vobject.readOne(body.decode())
    assert sorted(e.uid.value for e in parsed.vevent_list) == sorted(found)


def test_an_edited_interview_keeps_its_uid_and_its_sequence_grows(
        mail_app: FastAPI, mail_client: TestClient) -> None:
    student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    interview = schedule(mail_client, contact(mail_client, "Laura", "Haddad")["id"])
    path = feed_path(mail_client)
    uid = f"interview-{interview['id']}@rapport"
    before = events(mail_client.get(path).content)[uid]

    moved = MEETING + timedelta(days=1)
    response = mail_client.patch(f"/api/v1/interviews/{interview['id']}", json={
        "scheduled_at": moved.isoformat(), "location": "Café Lumen"})
    assert response.status_code == 200, response.text
    after = events(mail_client.get(path).content)
    assert list(after) == [uid]
    assert after[uid]["start"] == moved and after[uid]["location"] == "Café Lumen"
    assert int(after[uid]["sequence"]) > int(before["sequence"])  # type: ignore[call-overload]


def test_a_revoked_or_replaced_address_answers_404(mail_client: TestClient) -> None:
    student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    first = feed_path(mail_client)
    second = feed_path(mail_client)  # a new address: the first one ends
    assert mail_client.get(first).status_code == 404
    assert mail_client.get(second).status_code == 200
    assert mail_client.get("/api/v1/me/reminders").json()["feed_active"] is True

    assert mail_client.delete("/api/v1/me/calendar-feed").status_code == 204
    assert mail_client.get(second).status_code == 404
    assert mail_client.get("/api/v1/me/reminders").json()["feed_active"] is False
    assert mail_client.get("/calendar/rcal_guessed.ics").status_code == 404
    assert mail_client.get("/calendar/anything.ics").status_code == 404


def test_a_password_change_ends_the_address_when_api_keys_are_revoked_too(
        mail_client: TestClient) -> None:
    student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    path = feed_path(mail_client)

    def change(current: str, new: str, revoke: bool) -> None:
        response = mail_client.post("/api/v1/me/password", json={
            "current_password": current, "new_password": new, "revoke_api_keys": revoke})
        assert response.status_code == 204, response.text
        mail_client.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]

    change(PASSWORD, "another passphrase", revoke=False)
    assert mail_client.get(path).status_code == 200
    change("another passphrase", "a third passphrase", revoke=True)
    assert mail_client.get(path).status_code == 404
    assert mail_client.get("/api/v1/me/reminders").json()["feed_active"] is False
    assert mail_client.get(feed_path(mail_client)).status_code == 200  # a new one works


def test_an_api_key_cannot_make_a_feed_address(mail_client: TestClient) -> None:
    student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    key = api_key(mail_client, ["profile:read", "profile:write"])
    with TestClient(mail_client.app) as script:
        response = script.post("/api/v1/me/calendar-feed",
                               headers={"Authorization": f"Bearer {key}"})
        assert response.status_code in {401, 403}
        assert set(response.json()) >= {"error", "detail"}
