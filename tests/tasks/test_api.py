"""Tasks in full use: made by hand, done, snoozed, and listed as overdue, today or upcoming by the
student's own day."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.tasks.service import add_business_days, add_months
from tests.conftest import signed_in

ZONE = ZoneInfo("Asia/Tokyo")  # far from UTC, so "today" differs from the server's


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    client.patch("/api/v1/me", json={"timezone": "Asia/Tokyo"})
    return client


def add(me: TestClient, title: str, due: datetime | None) -> str:
    response = me.post("/api/v1/tasks", json={"title": title,
                                              "due_at": due.isoformat() if due else None})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def titles(me: TestClient, **params: str) -> list[str]:
    return [t["title"] for t in me.get("/api/v1/tasks", params=params).json()["items"]]


def test_due_lists_follow_the_students_day(me: TestClient) -> None:
    now = datetime.now(ZONE)
    midnight = datetime.combine(now.date(), datetime.min.time(), ZONE)
    add(me, "yesterday", midnight - timedelta(hours=1))
    add(me, "this morning", midnight + timedelta(minutes=1))
    add(me, "tonight", midnight + timedelta(hours=23, minutes=59))
    add(me, "tomorrow", midnight + timedelta(days=1))
    add(me, "someday", None)
    done = add(me, "done long ago", midnight - timedelta(days=3))
    me.patch(f"/api/v1/tasks/{done}", json={"status": "done"})
    assert titles(me, due="overdue") == ["yesterday"]
    assert titles(me, due="today") == ["this morning", "tonight"]
    assert titles(me, due="upcoming") == ["tomorrow"]
    assert titles(me, status="open") == ["yesterday", "this morning", "tonight", "tomorrow", "someday"]
    assert me.get("/api/v1/tasks", params={"due": "soon"}).status_code == 422


def test_snooze_moves_a_task_to_the_next_business_day_or_a_chosen_time(me: TestClient) -> None:
    task = add(me, "Write to Sam", datetime.now(UTC) - timedelta(days=1))
    snoozed = me.patch(f"/api/v1/tasks/{task}", json={"status": "snoozed"}).json()
    due = datetime.fromisoformat(snoozed["due_at"]).astimezone(ZONE)
    expected = datetime.now(ZONE).date() + timedelta(days=1)
    while expected.weekday() >= 5:
        expected += timedelta(days=1)
    assert snoozed["status"] == "snoozed" and due.date() == expected and due.hour == 9
    assert titles(me, due="overdue") == [] and titles(me, due="upcoming") == ["Write to Sam"]
    later = me.patch(f"/api/v1/tasks/{task}", json={"status": "snoozed",
                                                    "due_at": "2030-01-07T08:00"}).json()
    assert later["due_at"] == "2030-01-06T23:00:00Z"  # 08:00 in Tokyo
    done = me.patch(f"/api/v1/tasks/{task}", json={"status": "done"}).json()
    assert done["status"] == "done" and done["completed_at"] is not None
    assert titles(me, due="upcoming") == []


def test_a_task_by_hand_needs_a_title(me: TestClient) -> None:
    response = me.post("/api/v1/tasks", json={"title": " "})
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "title"


def test_business_days_skip_weekends_and_holidays() -> None:
    wednesday = date(2026, 11, 25)
    assert add_business_days(wednesday, 1, set()) == date(2026, 11, 26)
    assert add_business_days(wednesday, 1, {date(2026, 11, 26)}) == date(2026, 11, 27)
    assert add_business_days(wednesday, 3, {date(2026, 11, 26)}) == date(2026, 12, 1)
    assert add_business_days(date(2026, 11, 27), 1, set()) == date(2026, 11, 30)  # Friday → Monday
    assert add_business_days(wednesday, 7, set()) == date(2026, 12, 4)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 5), 3) == date(2027, 3, 5)


@pytest.mark.parametrize("name", ["due_before", "due_after"])
@pytest.mark.parametrize("value", ["0.5", "1700000000", "20260501", "-1", "tomorrow", ""])
def test_a_moment_in_the_filter_must_be_written_as_one(me: TestClient, name: str,
                                                       value: str) -> None:
    response = me.get("/api/v1/tasks", params={name: value})
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [name]


@pytest.mark.parametrize("value", [1700000000, 0.5, "1700000000", "20260501"])
def test_a_tasks_due_moment_is_written_never_a_number(me: TestClient, value: object) -> None:
    response = me.post("/api/v1/tasks", json={"title": "Call Ana", "due_at": value})
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["due_at"]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00",
                                   "1899-12-31", "2201-01-01T00:00:00Z"])
def test_a_moment_no_one_could_mean_is_refused_naming_it(me: TestClient, value: str) -> None:
    """Far-off years would break every list, email and calendar that shows the task in the
    student's own zone."""
    me.patch("/api/v1/me", json={"timezone": "America/New_York"})
    made = me.post("/api/v1/tasks", json={"title": "Call Ana", "due_at": value})
    listed = me.get("/api/v1/tasks", params={"due_before": value})
    for response, field in ((made, "due_at"), (listed, "due_before")):
        assert response.status_code == 422, response.text
        assert [f["field"] for f in response.json()["fields"]] == [field]
        assert "between the years 1900 and 2200" in response.json()["fields"][0]["message"]


def test_due_before_and_after_filter_by_an_iso_8601_moment(me: TestClient) -> None:
    add(me, "early", datetime(2026, 5, 1, 8, 0, tzinfo=UTC))
    add(me, "late", datetime(2026, 5, 1, 10, 0, tzinfo=UTC))
    assert titles(me, due_before="2026-05-01T09:00:00Z") == ["early"]
    assert titles(me, due_before="2026-05-01T11:00:00+02:00") == ["early"]
    assert titles(me, due_after="2026-05-01T09:00") == ["late"]  # no offset: UTC
    assert titles(me, due_after="2026-05-01 09:00:00.5+00:00") == ["late"]
    assert sorted(titles(me, due_after="2026-05-01")) == ["early", "late"]  # a day: its midnight
