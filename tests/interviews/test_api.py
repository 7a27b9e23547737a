"""Interviews, their question lists, the workflow around them, and tasks, through the API."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import signed_in

REFERRAL = "Could you suggest one or two other people I might contact for further information?"


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


@pytest.fixture
def maya(me: TestClient) -> dict[str, Any]:
    return dict(me.post("/api/v1/contacts", json={
        "first_name": "Maya", "last_name": "Okafor", "email": "maya@regions.org",
        "title": "Physician Assistant", "organization_name": "Regions Hospital"}).json())


def plan(me: TestClient, contact: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = me.post("/api/v1/interviews", json={"contact_id": contact["id"], **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def items(me: TestClient, interview: dict[str, Any]) -> list[dict[str, Any]]:
    page = me.get(f"/api/v1/interviews/{interview['id']}/questions").json()
    assert page["next_cursor"] is None
    return list(page["items"])


def test_a_new_interview_has_the_handouts_defaults(me: TestClient, maya: dict[str, Any]) -> None:
    interview = plan(me, maya)
    assert interview["duration_minutes"] == 30 and interview["status"] == "planned"
    assert interview["format"] == "in_person" and interview["contact_name"] == "Maya Okafor"
    assert interview["checklist"] == dict.fromkeys([
        "research_organization", "questions_prepared", "resume_copy", "dress_professionally",
        "arrive_early", "note_taking", "business_card", "thank_you_note"], False)


def test_scheduling_moves_the_contact_and_goes_on_the_timeline(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya)
    me.patch(f"/api/v1/interviews/{interview['id']}",
             json={"status": "scheduled", "scheduled_at": "2026-12-02T15:00:00Z"})
    assert me.get(f"/api/v1/contacts/{maya['id']}").json()["stage"] == "scheduled"
    events = me.get(f"/api/v1/contacts/{maya['id']}/timeline").json()["items"]
    assert [e["kind"] for e in events[:2]] == ["stage_changed", "interview_scheduled"]
    assert events[1]["summary"].startswith("Interview scheduled for Dec 2, 2026")


def test_completing_moves_the_contact_and_asks_for_a_thank_you_within_a_day(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya, status="scheduled", scheduled_at="2025-12-02T15:00:00Z",
                     duration_minutes=45)
    done = me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"}).json()
    assert done["completed_at"]
    assert me.get(f"/api/v1/contacts/{maya['id']}").json()["stage"] == "interviewed"
    tasks = me.get("/api/v1/tasks", params={"status": "open"}).json()["items"]
    assert len(tasks) == 1
    task = tasks[0]
    assert task["title"] == "Send a thank-you note to Maya Okafor" and task["kind"] == "thank_you"
    assert datetime.fromisoformat(task["due_at"]) == datetime(2025, 12, 3, 15, 45, tzinfo=UTC)
    assert task["contact_id"] == maya["id"] and task["interview_id"] == interview["id"]
    kinds = [e["kind"] for e in me.get(f"/api/v1/contacts/{maya['id']}/timeline").json()["items"]]
    assert "interview_completed" in kinds


def test_held_before_its_planned_end_the_thank_you_counts_from_now(
    me: TestClient, maya: dict[str, Any]
) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    interview = plan(me, maya, scheduled_at=later)
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    due = datetime.fromisoformat(me.get("/api/v1/tasks").json()["items"][0]["due_at"])
    assert timedelta(hours=23) < due - datetime.now(UTC) <= timedelta(hours=24)


def test_stages_only_move_forward(me: TestClient, maya: dict[str, Any]) -> None:
    me.patch(f"/api/v1/contacts/{maya['id']}", json={"stage": "thanked"})
    plan(me, maya, status="completed")
    assert me.get(f"/api/v1/contacts/{maya['id']}").json()["stage"] == "thanked"


def test_a_closed_contact_stays_closed(me: TestClient, maya: dict[str, Any]) -> None:
    me.patch(f"/api/v1/contacts/{maya['id']}", json={"stage": "closed"})
    plan(me, maya, status="scheduled")
    assert me.get(f"/api/v1/contacts/{maya['id']}").json()["stage"] == "closed"


def test_holding_an_interview_twice_asks_for_one_thank_you(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya, status="completed")
    reopened = me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "scheduled"})
    assert reopened.json()["completed_at"] is None
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    assert len(me.get("/api/v1/tasks").json()["items"]) == 1


def test_a_time_without_offset_is_the_students_own(me: TestClient, maya: dict[str, Any]) -> None:
    me.patch("/api/v1/me", json={"timezone": "America/Chicago"})
    interview = plan(me, maya, scheduled_at="2026-12-02T09:00")
    assert datetime.fromisoformat(interview["scheduled_at"]) == datetime(2026, 12, 2, 15, tzinfo=UTC)


def test_interview_validation(me: TestClient, maya: dict[str, Any]) -> None:
    response = me.post("/api/v1/interviews", json={
        "contact_id": maya["id"], "duration_minutes": 0, "format": "carrier pigeon",
        "status": "maybe", "checklist": {"bring_flowers": True}})
    assert response.status_code == 422
    assert {f["field"].split(".")[0] for f in response.json()["fields"]} == {
        "duration_minutes", "format", "status", "checklist"}
    assert me.post("/api/v1/interviews", json={"contact_id": "0" * 26}).status_code == 404


def test_checklist_items_change_one_at_a_time(me: TestClient, maya: dict[str, Any]) -> None:
    interview = plan(me, maya)
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"checklist": {"resume_copy": True}})
    got = me.patch(f"/api/v1/interviews/{interview['id']}",
                   json={"checklist": {"arrive_early": True}}).json()["checklist"]
    assert got["resume_copy"] and got["arrive_early"] and not got["business_card"]


def test_suggest_fits_the_meeting_and_ends_asking_for_referrals(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya)
    suggested = me.post(f"/api/v1/interviews/{interview['id']}/questions/suggest").json()
    assert len(suggested) == 10  # 30 minutes, about one question every three
    assert suggested[-1]["text"] == REFERRAL
    bank = {q["id"]: q["category"] for q in
            me.get("/api/v1/questions", params={"limit": 200}).json()["items"]}
    assert {bank[i["question_id"]] for i in suggested} == {
        "Position/Career Path", "Organization/Industry", "Next Steps"}
    again = me.post(f"/api/v1/interviews/{interview['id']}/questions/suggest").json()
    assert len({i["text"] for i in again}) == len(again)  # nothing twice
    assert again[-1]["text"] == REFERRAL
    longer = plan(me, maya, duration_minutes=60)
    assert len(me.post(f"/api/v1/interviews/{longer['id']}/questions/suggest").json()) == 20


def test_the_question_list_adds_reorders_answers_and_removes(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya)
    base = f"/api/v1/interviews/{interview['id']}/questions"
    first = me.get("/api/v1/questions").json()["items"][0]
    assert me.post(base, json={"question_id": first["id"]}).json()["text"] == first["text"]
    me.post(base, json={"text": "What surprised you in your first year?"})
    third = me.post(base, json={"text": "What would you do differently?"}).json()
    for bad in [{}, {"question_id": first["id"], "text": "both"}]:
        assert me.post(base, json=bad).status_code == 422
    assert me.post(base, json={"question_id": "0" * 26}).status_code == 404
    me.patch(f"{base}/{third['id']}", json={"position": 1})
    assert [i["text"] for i in items(me, interview)][:2] == [
        "What would you do differently?", first["text"]]
    me.patch(f"{base}/{third['id']}", json={"answer": "Start networking earlier."})
    assert items(me, interview)[0]["answer"] == "Start networking earlier."
    assert me.delete(f"{base}/{third['id']}").status_code == 204
    assert [i["position"] for i in items(me, interview)] == [1, 2]


def test_referrals_become_contacts_linked_to_the_interviewee(
    me: TestClient, maya: dict[str, Any]
) -> None:
    interview = plan(me, maya)
    response = me.post(f"/api/v1/interviews/{interview['id']}/referrals", json={
        "first_name": "Kim", "last_name": "Nguyen", "title": "Nurse Practitioner",
        "organization_name": "Mayo Clinic"})
    assert response.status_code == 201
    kim = response.json()
    assert kim["source"] == "referral" and kim["referred_by_id"] == maya["id"]
    assert kim["organization_name"] == "Mayo Clinic"
    for bad in [{"first_name": ""}, {"first_name": "Bo", "email": "not-an-email"}]:
        response = me.post(f"/api/v1/interviews/{interview['id']}/referrals", json=bad)
        assert response.status_code == 422, bad


def test_adding_a_referral_needs_the_contacts_scope_too(
    me: TestClient, maya: dict[str, Any], make_client: Any
) -> None:
    interview = plan(me, maya)
    key = me.post("/api/v1/api-keys", json={"name": "k", "scopes": ["interviews:write"]}).json()
    script = make_client()
    script.headers["Authorization"] = f"Bearer {key['key']}"
    refused = script.post(f"/api/v1/interviews/{interview['id']}/referrals", json={"first_name": "K"})
    assert refused.status_code == 403 and "contacts:write" in refused.json()["detail"]


def test_the_calendar_file_parses_back(me: TestClient, maya: dict[str, Any]) -> None:
    interview = plan(me, maya, scheduled_at="2026-12-02T15:00:00Z", location="Regions Hospital, 3rd floor")
    me.post(f"/api/v1/interviews/{interview['id']}/questions/suggest")
    response = me.get(f"/api/v1/interviews/{interview['id']}/calendar.ics")
    assert response.headers["content-type"].startswith("text/calendar")
    event = next(c for c in Calendar.from_ical(response.content).walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=30)
    assert "Maya Okafor" in str(event["summary"])
    assert str(event["location"]) == "Regions Hospital, 3rd floor"
    assert str(event["organizer"]) == "mailto:maya@uni.edu"
    assert str(event["attendee"]) == "mailto:maya@regions.org"
    assert REFERRAL in str(event["description"])
    again = Calendar.from_ical(me.get(f"/api/v1/interviews/{interview['id']}/calendar.ics").content)
    assert next(c for c in again.walk() if c.name == "VEVENT")["uid"] == event["uid"]
    undated = plan(me, maya)
    assert me.get(f"/api/v1/interviews/{undated['id']}/calendar.ics").status_code == 409


def test_answers_across_interviews(me: TestClient, maya: dict[str, Any]) -> None:
    jon = me.post("/api/v1/contacts", json={"first_name": "Jon", "last_name": "Park"}).json()
    question = me.get("/api/v1/questions").json()["items"][0]
    for contact, answer in [(maya, "Rounds at seven, then clinic."), (jon, ""),]:
        interview = plan(me, contact)
        item = me.post(f"/api/v1/interviews/{interview['id']}/questions",
                       json={"question_id": question["id"]}).json()
        me.patch(f"/api/v1/interviews/{interview['id']}/questions/{item['id']}",
                 json={"answer": answer})
    answers = me.get(f"/api/v1/questions/{question['id']}/answers").json()["items"]
    assert [(a["contact_name"], a["answer"]) for a in answers] == [
        ("Maya Okafor", "Rounds at seven, then clinic.")]
    page = me.get(f"/questions/{question['id']}/answers").text
    assert "Rounds at seven, then clinic." in page and "Maya Okafor" in page


def test_tasks_by_hand_done_and_snoozed(me: TestClient, maya: dict[str, Any]) -> None:
    created = me.post("/api/v1/tasks", json={
        "title": "Read Regions Hospital's annual report", "due_at": "2026-12-01T12:00:00Z",
        "contact_id": maya["id"]})
    assert created.status_code == 201
    task = created.json()
    assert task["status"] == "open" and task["kind"] == "custom"
    me.post("/api/v1/tasks", json={"title": "Later", "due_at": "2027-01-10T12:00:00Z"})
    due = me.get("/api/v1/tasks", params={"due_before": "2026-12-31T00:00:00Z"}).json()["items"]
    assert [t["id"] for t in due] == [task["id"]]
    done = me.patch(f"/api/v1/tasks/{task['id']}", json={"status": "done"}).json()
    assert done["status"] == "done" and done["completed_at"]
    snoozed = me.patch(f"/api/v1/tasks/{task['id']}",
                       json={"status": "snoozed", "due_at": "2026-12-08T12:00:00Z"}).json()
    assert snoozed["status"] == "snoozed" and snoozed["completed_at"] is None
    assert me.get(f"/api/v1/tasks/{task['id']}").headers["ETag"]
    assert me.get("/api/v1/tasks", params={"status": "open"}).json()["items"][0]["title"] == "Later"
    assert me.post("/api/v1/tasks", json={"title": ""}).status_code == 422


def test_suggest_tops_up_what_is_already_on_the_list(me: TestClient, maya: dict[str, Any]) -> None:
    interview = plan(me, maya)
    base = f"/api/v1/interviews/{interview['id']}/questions"
    mine = me.post(base, json={"text": "What surprised you in your first year?"}).json()
    suggested = me.post(f"{base}/suggest").json()
    assert len(suggested) == 10 and suggested[0]["id"] == mine["id"]
    assert suggested[-1]["text"] == REFERRAL
