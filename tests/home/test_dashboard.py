"""The dashboard: a guided start for a new student; then what is due, the pipeline as a chart,
and outreach this month."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import signed_in
from tests.imports.helpers import make_staff, upload


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


def test_a_new_student_sees_a_guided_start_not_empty_boxes(me: TestClient) -> None:
    html = me.get("/").text
    assert "Getting started" in html
    for step in ["Set up your profile", "Add the first person you&#39;d like to talk to",
                 "Write your first message"]:
        assert step in html
    assert "Your pipeline" not in html and "Due now" not in html and "<svg" not in html


def test_the_guided_start_ticks_off_and_goes(me: TestClient) -> None:
    me.patch("/api/v1/me", json={"school": "Hamline", "major": "biology", "career_goal": "PA"})
    contact = me.post("/api/v1/contacts", json={"first_name": "Ana", "email": "a@x.org"}).json()
    html = me.get("/").text
    assert html.count('class="start-done"') == 2
    me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": contact["id"]})
    assert "Getting started" not in me.get("/").text


def test_the_pipeline_chart_counts_each_stage(me: TestClient) -> None:
    for name, stage in [("A", "identified"), ("B", "identified"), ("C", "contacted"),
                        ("D", "thanked")]:
        me.post("/api/v1/contacts", json={"first_name": name, "stage": stage})
    html = me.get("/").text
    assert "Your pipeline" in html and '<svg class="pipeline"' in html
    assert "Identified: 2; Contacted: 1; Scheduled: 0; Interviewed: 0; Thanked: 1;" in html
    assert html.count('class="bar bar-') == 3  # stages with nobody draw no bar


def test_overdue_and_today_come_first_and_the_next_ones_follow(me: TestClient) -> None:
    now = datetime.now(UTC)
    me.post("/api/v1/tasks", json={"title": "Late one", "due_at": (now - timedelta(days=2)).isoformat()})
    for day in range(3, 10):
        me.post("/api/v1/tasks", json={"title": f"In {day} days",
                                       "due_at": (now + timedelta(days=day)).isoformat()})
    html = me.get("/").text
    assert "Due now" in html and "Overdue" in html
    assert html.index("Late one") < html.index("Coming up") < html.index("In 3 days")
    assert "In 8 days" in html and "In 9 days" not in html  # the next six, then "All tasks"


def test_upcoming_interviews_are_the_ones_still_to_come(me: TestClient) -> None:
    contact = me.post("/api/v1/contacts", json={"first_name": "Ana"}).json()
    for when in ["2020-01-01T15:00:00Z", "2099-01-01T15:00:00Z"]:
        me.post("/api/v1/interviews", json={"contact_id": contact["id"], "scheduled_at": when})
    html = me.get("/").text
    assert "Jan 1, 2099" in html and "Jan 1, 2020" not in html


def test_outreach_sent_and_replied_this_month(me: TestClient) -> None:
    for name in ["A", "B"]:
        contact = me.post("/api/v1/contacts", json={"first_name": name, "email": f"{name}@x.org"}).json()
        sent = me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": contact["id"],
                                                 "status": "sent"}).json()
    me.patch(f"/api/v1/messages/{sent['id']}", json={"status": "replied"})
    html = me.get("/").text
    assert "<strong>2</strong> sent" in html and "<strong>1</strong> replied" in html
    assert "50% reply rate" in html


def test_staff_land_on_a_page_for_staff_not_the_student_guide(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    student = make_client()
    signed_in(student, email="maya@uni.edu")
    student.post("/api/v1/contacts", json={"first_name": "Ana"})
    staff = make_client()
    make_staff(app, staff)
    upload(staff, "alumni.csv", b"first_name,last_name,email\nLee,Park,lee@alumni.org\n",
           target="directory")
    html = staff.get("/").text
    assert "<h1>Career services</h1>" in html
    assert "Getting started" not in html and "The four steps" not in html
    assert "<strong>1</strong> students active" in html
    assert "<strong>1</strong> alumni" in html
    assert "alumni.csv" in html
    for link in ('href="/directory"', 'href="/imports?target=directory"', 'href="/stats"'):
        assert link in html
