"""Each wrong nudge a student once saw, and what Rapport says instead."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import signed_in
from tests.imports.helpers import make_staff

STUDENT = {"school": "Concordia University, St. Paul", "major": "biology",
           "career_goal": "physician assistant", "timezone": "America/Chicago"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    ok(client.patch("/api/v1/me", json=STUDENT))
    return client


@pytest.fixture
def sam(me: TestClient) -> dict[str, Any]:
    return dict(ok(me.post("/api/v1/contacts", json={
        "first_name": "Sam", "last_name": "Rivera", "email": "sam@regions.org",
        "organization_name": "Regions Hospital"}), 201))


def send(me: TestClient, contact: dict[str, Any], kind: str, **extra: Any) -> dict[str, Any]:
    return dict(ok(me.post("/api/v1/messages", json={"kind": kind, "contact_id": contact["id"],
                                                     "status": "sent", **extra}), 201))


def open_tasks(me: TestClient, contact: dict[str, Any]) -> list[str]:
    items = ok(me.get("/api/v1/tasks", params={"contact_id": contact["id"], "status": "open"}))
    return sorted(t["kind"] for t in items["items"])


def stage(me: TestClient, contact: dict[str, Any]) -> str:
    return str(ok(me.get(f"/api/v1/contacts/{contact['id']}"))["stage"])


def test_a_meeting_held_and_thanked_for_leaves_no_follow_up_and_counts_the_reply(
    app: FastAPI, me: TestClient, sam: dict[str, Any], make_client: Any,
) -> None:
    outreach = send(me, sam, "outreach")
    assert open_tasks(me, sam) == ["follow_up", "second_contact"]
    interview = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"]}), 201)
    assert interview["status"] == "planned"
    ok(me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"}))
    send(me, sam, "thank_you")

    assert "follow_up" not in open_tasks(me, sam)
    assert ok(me.get(f"/api/v1/messages/{outreach['id']}"))["status"] == "replied"
    assert stage(me, sam) == "thanked"
    assert "Follow up with Sam Rivera" not in me.get("/").text
    to_do = me.get("/tasks").text.split('id="done-heading"')[0]  # "Done lately" may list it
    assert "Follow up with Sam Rivera" not in to_do
    home = me.get("/").text
    assert "<strong>1</strong> sent" in home and "<strong>1</strong> replied" in home
    assert "(100% reply rate)" in home

    staff = make_client()
    make_staff(app, staff)
    month = datetime.now(UTC).strftime("%Y-%m")
    figures = ok(staff.get("/api/v1/stats/engagement", params={"from": month, "to": month}))
    total = figures["totals"]
    assert total["outreach_sent"] == 1 and total["replies"] == 1
    assert total["interviews_held"] == 1


def test_they_replied_past_that_stage_does_not_suggest_going_back(
    me: TestClient, sam: dict[str, Any],
) -> None:
    outreach = send(me, sam, "outreach")
    ok(me.patch(f"/api/v1/contacts/{sam['id']}", json={"stage": "thanked"}))
    assert "follow_up" not in open_tasks(me, sam)  # a stage past the reply rules it out
    ok(me.patch(f"/api/v1/messages/{outreach['id']}", json={"status": "replied"}))
    assert stage(me, sam) == "thanked"
    page = me.get(f"/messages/{outreach['id']}").text
    assert "plan the interview" not in page
    assert "Next: <a" in page and "send them an update in a few months" in page


def test_they_replied_before_any_meeting_suggests_planning_it(
    me: TestClient, sam: dict[str, Any],
) -> None:
    outreach = send(me, sam, "outreach")
    ok(me.patch(f"/api/v1/messages/{outreach['id']}", json={"status": "replied"}))
    assert stage(me, sam) == "contacted"
    assert open_tasks(me, sam) == ["second_contact"]
    assert "plan the interview" in me.get(f"/messages/{outreach['id']}").text


def test_held_means_when_it_was_held_everywhere_after(
    me: TestClient, sam: dict[str, Any],
) -> None:
    zone = ZoneInfo("America/Chicago")
    planned = (datetime.now(zone) + timedelta(days=7)).replace(hour=10, minute=0, second=0,
                                                                microsecond=0)
    held = (datetime.now(zone) - timedelta(days=1)).replace(hour=15, minute=0, second=0,
                                                             microsecond=0)
    interview = ok(me.post("/api/v1/interviews", json={
        "contact_id": sam["id"], "scheduled_at": planned.isoformat()}), 201)
    question = ok(me.get("/api/v1/questions", params={"limit": 1}))["items"][0]
    item = ok(me.post(f"/api/v1/interviews/{interview['id']}/questions",
                      json={"question_id": question["id"]}), 201)
    ok(me.patch(f"/api/v1/interviews/{interview['id']}/questions/{item['id']}",
                json={"answer": "Shadow someone first."}))
    done = ok(me.patch(f"/api/v1/interviews/{interview['id']}",
                       json={"status": "completed", "completed_at": held.isoformat()}))
    assert datetime.fromisoformat(done["completed_at"]) == held
    thank_you = ok(me.get("/api/v1/tasks", params={"contact_id": sam["id"], "status": "open"}))
    due = next(t["due_at"] for t in thank_you["items"] if t["kind"] == "thank_you")
    assert datetime.fromisoformat(due) == held + timedelta(minutes=30, hours=24)

    draft = ok(me.post("/api/v1/messages", json={"kind": "thank_you", "contact_id": sam["id"]}),
               201)
    day = held.strftime("%A, %B %-d")
    assert f"our conversation on {day}" in draft["subject"]
    assert planned.strftime("%B %-d") not in draft["subject"] + draft["body"]
    short = held.strftime("%b %-d, %Y")
    assert f"held {short}" in me.get("/interviews").text
    assert short in me.get(f"/questions/{question['id']}/answers").text
    answers = ok(me.get(f"/api/v1/questions/{question['id']}/answers"))["items"]
    assert datetime.fromisoformat(answers[0]["completed_at"]) == held


def test_held_without_a_time_is_the_planned_time_when_past_and_now_otherwise(
    me: TestClient, sam: dict[str, Any],
) -> None:
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    first = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"],
                                                   "scheduled_at": past.isoformat()}), 201)
    held = ok(me.patch(f"/api/v1/interviews/{first['id']}", json={"status": "completed"}))
    assert datetime.fromisoformat(held["completed_at"]) == past
    future = datetime.now(UTC) + timedelta(days=2)
    second = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"],
                                                    "scheduled_at": future.isoformat()}), 201)
    before = datetime.now(UTC)
    held = ok(me.patch(f"/api/v1/interviews/{second['id']}", json={"status": "completed"}))
    assert before <= datetime.fromisoformat(held["completed_at"]) < future


def test_a_time_held_still_to_come_or_without_holding_it_is_refused(
    me: TestClient, sam: dict[str, Any],
) -> None:
    interview = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"]}), 201)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for body in ({"status": "completed", "completed_at": later},
                 {"completed_at": datetime.now(UTC).isoformat()}):
        response = me.patch(f"/api/v1/interviews/{interview['id']}", json=body)
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "completed_at"
    assert ok(me.get(f"/api/v1/interviews/{interview['id']}"))["status"] == "planned"


def test_giving_a_planned_interview_its_date_schedules_it(
    me: TestClient, sam: dict[str, Any],
) -> None:
    send(me, sam, "outreach")
    interview = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"]}), 201)
    assert stage(me, sam) == "contacted"
    when = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    dated = ok(me.patch(f"/api/v1/interviews/{interview['id']}",
                        json={"scheduled_at": when.isoformat()}))
    assert dated["status"] == "scheduled"
    assert stage(me, sam) == "scheduled"
    assert open_tasks(me, sam) == ["second_contact"]
    kinds = [e["kind"] for e in ok(me.get(f"/api/v1/contacts/{sam['id']}/timeline"))["items"]]
    assert kinds[:3] == ["stage_changed", "message_replied", "interview_scheduled"]
    desc = re.search(r'<desc id="pipeline-desc">(.*?)</desc>', me.get("/").text)
    assert desc is not None and "Scheduled: 1" in desc.group(1)


def test_a_cancelled_meeting_steps_scheduled_back_to_contacted(
    me: TestClient, sam: dict[str, Any],
) -> None:
    when = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    interview = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"],
                                                       "scheduled_at": when}), 201)
    assert interview["status"] == "scheduled" and stage(me, sam) == "scheduled"
    ok(me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "cancelled"}))
    assert stage(me, sam) == "contacted"


def test_a_students_own_question_comes_before_the_closing_referral_question(
    me: TestClient, sam: dict[str, Any],
) -> None:
    interview = ok(me.post("/api/v1/interviews", json={"contact_id": sam["id"]}), 201)
    ok(me.post(f"/api/v1/interviews/{interview['id']}/questions/suggest"))
    ok(me.post(f"/api/v1/interviews/{interview['id']}/questions",
               json={"text": "What surprised you most in your first year?"}), 201)
    items = ok(me.get(f"/api/v1/interviews/{interview['id']}/questions"))["items"]
    texts = [i["text"] for i in items]
    assert texts[-1].startswith("Could you suggest one or two other people")
    assert texts[-2] == "What surprised you most in your first year?"
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
