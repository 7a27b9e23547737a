"""Engagement figures for staff: a small known world built through the API (its moments moved
into past months in the database), and every figure checked exactly. Counts only — no student's
name, email, id, private template or note appears in any answer."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db import utcnow
from app.main import create_app
from app.models import Interview, ReminderEmail, Role, Task, User
from tests.conftest import api_key
from tests.imports.helpers import assert_error, make_staff
from tests.stats.conftest import RANGE, SECRETS, World, move, ok, when


def month(name: str, active: int, sent: int, replies: int, rate: float | None, held: int,
          thanks: int, on_time: int, reminders: int = 0, acted_on: int = 0) -> dict[str, Any]:
    return {"month": name, "students_active": active, "outreach_sent": sent, "replies": replies,
            "reply_rate": rate, "interviews_held": held, "thank_yous_sent": thanks,
            "thank_yous_on_time": on_time, "reminders_sent": reminders,
            "reminders_acted_on": acted_on}


def test_every_monthly_figure_is_exact(world: World) -> None:
    body = ok(world.staff.get("/api/v1/stats/engagement", params=RANGE))
    assert body["months"] == [
        month("2026-07", 0, 0, 0, None, 0, 0, 0),
        month("2026-08", 3, 1, 1, 1.0, 1, 1, 1),
        month("2026-09", 3, 3, 2, 0.6667, 1, 1, 0),
        month("2026-10", 2, 0, 0, None, 1, 2, 1),
    ]
    totals = month("", 3, 4, 3, 0.75, 3, 4, 2)
    del totals["month"]
    assert body["totals"] == totals


def test_reminder_emails_sent_and_acted_on_within_a_day(world: World) -> None:
    """Only emails the server took, only students', counted in the month sent; acted on when a
    task it listed was completed, or an interview it named held, within 24 hours."""
    maya, kim = world.ids[0], world.ids[1]

    def task(client: TestClient, done: str | None) -> str:
        made = ok(client.post("/api/v1/tasks", json={"title": "Write the thank-you"}), 201)
        if done:
            move(world.app, Task, Task.id == made["id"], status="done", completed_at=when(done))
        return str(made["id"])

    staff_id = ok(world.staff.get("/api/v1/me"))["id"]
    interview = ok(world.kim.get("/api/v1/interviews"))["items"][0]["id"]
    emails = [  # (whose, status, sent at, task ids, interview ids)
        (maya, "sent", "2026-09-10T08:00", [task(world.maya, "2026-09-10T15:00")], []),
        (maya, "sent", "2026-09-11T08:00", [task(world.maya, "2026-09-12T09:00")], []),
        (maya, "sent", "2026-09-12T08:00", [task(world.maya, None)], []),
        (kim, "sent", "2026-10-01T08:00", [], [interview]),
        (kim, "failed", None, [task(world.kim, "2026-10-01T09:00")], []),
        (staff_id, "sent", "2026-10-02T08:00", [task(world.staff, "2026-10-02T09:00")], []),
    ]
    move(world.app, Interview, Interview.id == interview, completed_at=when("2026-10-01T17:00"))
    with Session(world.app.state.engine) as db:
        for n, (user_id, status, sent_at, task_ids, interview_ids) in enumerate(emails):
            db.add(ReminderEmail(user_id=user_id, kind="digest", key=f"digest:{n}", status=status,
                                 sent_at=when(sent_at) if sent_at else None, task_ids=task_ids,
                                 interview_ids=interview_ids))
        db.commit()
    body = ok(world.staff.get("/api/v1/stats/engagement", params=RANGE))
    figures = {m["month"]: (m["reminders_sent"], m["reminders_acted_on"]) for m in body["months"]}
    assert figures == {"2026-07": (0, 0), "2026-08": (0, 0), "2026-09": (3, 1), "2026-10": (1, 1)}
    assert (body["totals"]["reminders_sent"], body["totals"]["reminders_acted_on"]) == (4, 2)
    page = world.staff.get("/stats", params=RANGE).text
    assert "reminder emails" in page and "2 acted on within a day" in page


def test_one_month_and_the_thank_you_window_setting(
    world: World, app: FastAPI, make_settings: Callable[..., Any]
) -> None:
    body = ok(world.staff.get("/api/v1/stats/engagement",
                              params={"from": "2026-09", "to": "2026-09"}))
    assert body["months"] == [month("2026-09", 3, 3, 2, 0.6667, 1, 1, 0)]
    assert body["totals"]["students_active"] == 3
    patient = create_app(make_settings(thank_you_hours=72))
    try:
        with TestClient(patient) as client:
            client.cookies.update(world.staff.cookies)
            late = ok(client.get("/api/v1/stats/engagement", params=RANGE))
    finally:
        patient.state.engine.dispose()
    assert [m["thank_yous_on_time"] for m in late["months"]] == [0, 1, 1, 1]


def test_the_default_range_is_the_last_twelve_months(world: World) -> None:
    body = ok(world.staff.get("/api/v1/stats/engagement"))
    now = utcnow()
    labels = [m["month"] for m in body["months"]]
    assert len(labels) == 12 and labels[-1] == now.strftime("%Y-%m")
    assert labels == sorted(labels) and len(set(labels)) == 12
    only_to = ok(world.staff.get("/api/v1/stats/engagement", params={"to": "2026-10"}))
    assert only_to["months"][0]["month"] == "2025-11"
    longest = ok(world.staff.get("/api/v1/stats/engagement",
                                 params={"from": "2024-01", "to": "2026-12"}))
    assert len(longest["months"]) == 36


@pytest.mark.parametrize(("params", "field"), [
    ({"from": "2026-13"}, "from"),
    ({"from": "26-01"}, "from"),
    ({"to": "november"}, "to"),
    ({"to": "1999-12"}, "to"),
    ({"from": "2026-10", "to": "2026-07"}, "from"),
    ({"from": "2023-12", "to": "2026-12"}, "from"),  # 37 months
])
def test_bad_months_are_refused_naming_the_parameter(
    world: World, params: dict[str, str], field: str
) -> None:
    body = assert_error(world.staff.get("/api/v1/stats/engagement", params=params), 422)
    assert [f["field"] for f in body["fields"]] == [field]


def test_directory_counts_distinct_students_most_engaged_first(world: World) -> None:
    jose, hana = world.entries["jose"], world.entries["hana"]

    def row(entry: dict[str, Any], added: int, contacted: int, interviewed: int
            ) -> dict[str, Any]:
        return {"entry_id": entry["id"], "external_id": entry["external_id"],
                "name": f"{entry['first_name']} {entry['last_name']}",
                "organization_name": entry["organization_name"], "added": added,
                "contacted": contacted, "interviewed": interviewed}

    body = ok(world.staff.get("/api/v1/stats/directory"))
    # Daniel was reached by the staff member only: not a student, not listed.
    assert body == {"items": [row(jose, 2, 2, 2), row(hana, 1, 1, 1)], "next_cursor": None}
    august = ok(world.staff.get("/api/v1/stats/directory", params={"until": "2026-08-31"}))
    assert august["items"] == [row(jose, 2, 1, 1), row(hana, 1, 0, 0)]
    october = ok(world.staff.get("/api/v1/stats/directory", params={"since": "2026-10-01"}))
    assert october["items"] == [row(hana, 0, 0, 1)]
    assert ok(world.staff.get("/api/v1/stats/directory", params={
        "since": "2026-11-01", "until": "2026-11-30"}))["items"] == []

    first = ok(world.staff.get("/api/v1/stats/directory", params={"limit": 1}))
    assert first["items"] == [row(jose, 2, 2, 2)] and first["next_cursor"]
    second = ok(world.staff.get("/api/v1/stats/directory",
                                params={"limit": 1, "cursor": first["next_cursor"]}))
    assert second == {"items": [row(hana, 1, 1, 1)], "next_cursor": None}


def test_directory_paging_checks_its_parameters(world: World) -> None:
    staff = world.staff
    for params, field in [({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                          ({"cursor": "not-a-cursor"}, "cursor"),
                          ({"since": "2026-10-02", "until": "2026-10-01"}, "since"),
                          ({"since": "1066-10-14"}, "since")]:
        body = assert_error(staff.get("/api/v1/stats/directory", params=params), 422)
        assert [f["field"] for f in body["fields"]] == [field], params


def test_directory_more_rows_for_the_staff_page(world: World) -> None:
    html = world.staff.get("/api/v1/stats/directory", params={"limit": 1},
                           headers={"HX-Request": "true"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "José Martínez" in html.text and "Hana" not in html.text
    assert 'hx-swap-oob="true"' in html.text and "Show more alumni" in html.text


def test_templates_reply_rates_never_name_a_students_template(world: World) -> None:
    items = ok(world.staff.get("/api/v1/stats/templates"))["items"]
    shared = {t["id"]: t["name"] for t in ok(world.maya.get(
        "/api/v1/templates", params={"limit": 200}))["items"] if t["is_default"]}
    expected = [
        ("template-outreach", "outreach", 1, 1, 1.0),
        (None, "outreach", 2, 1, 0.5),  # Maya's, and Kim's deleted one
        ("template-linkedin_note", "linkedin_note", 1, 1, 1.0),
        ("template-follow_up", "follow_up", 0, 0, None),
        ("template-thank_you", "thank_you", 4, 0, 0.0),
        ("template-referral_request", "referral_request", 0, 0, None),
        ("template-reconnect", "reconnect", 0, 0, None),
    ]
    assert items == [{"template_id": t, "name": shared[t] if t else "Students' own templates",
                      "kind": k, "sent": s, "replied": r, "reply_rate": rate}
                     for t, k, s, r, rate in expected]
    october = ok(world.staff.get("/api/v1/stats/templates", params={"since": "2026-10-01"}))
    assert [(t["template_id"], t["sent"]) for t in october["items"] if t["sent"]] == [
        ("template-thank_you", 2)]


def test_no_answer_names_a_student_or_shows_what_they_wrote(world: World, app: FastAPI) -> None:
    with Session(app.state.engine) as db:
        ids = [u.id for u in db.query(User).filter(User.role == Role.student)]
    assert len(ids) == 3
    texts = [world.staff.get(url, params=params).text for url, params in [
        ("/api/v1/stats/engagement", RANGE), ("/api/v1/stats/engagement", {}),
        ("/api/v1/stats/directory", {}), ("/api/v1/stats/directory", {"limit": 1}),
        ("/api/v1/stats/templates", {}), ("/stats", RANGE), ("/stats", {})]]
    texts.append(world.staff.get("/api/v1/stats/directory",
                                 headers={"HX-Request": "true"}).text)
    for text in texts:
        for secret in [*SECRETS, *ids]:
            assert secret not in text, secret


def test_students_are_refused(world: World, make_client: Callable[[], TestClient]) -> None:
    for url in ["/api/v1/stats/engagement", "/api/v1/stats/directory", "/api/v1/stats/templates"]:
        body = assert_error(world.maya.get(url), 403, "staff")
        assert body["error"] == "staff_only"
        assert_error(make_client().get(url), 401)
    assert world.maya.get("/stats").status_code == 403
    # A student's key with the scope is still a student's.
    key = api_key(world.kim, ["stats:read"])
    refused = make_client().get("/api/v1/stats/engagement",
                                headers={"Authorization": f"Bearer {key}"})
    assert assert_error(refused, 403, "staff")["error"] == "staff_only"


def test_a_staff_key_needs_stats_read(world: World, make_client: Callable[[], TestClient]
                                      ) -> None:
    without = api_key(world.staff, ["directory:read", "directory:write"])
    with_read = api_key(world.staff, ["stats:read"])
    keyed = make_client()
    for url in ["/api/v1/stats/engagement", "/api/v1/stats/directory", "/api/v1/stats/templates"]:
        refused = keyed.get(url, headers={"Authorization": f"Bearer {without}"})
        assert assert_error(refused, 403, "stats:read")["error"] == "missing_scope"
        allowed = keyed.get(url, params={"from": "2026-08", "to": "2026-08"} if "engagement" in url
                            else {}, headers={"Authorization": f"Bearer {with_read}",
                                              "HX-Request": "true"})
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["content-type"] == "application/json"  # a key always gets JSON
    engagement = keyed.get("/api/v1/stats/engagement", params=RANGE,
                           headers={"Authorization": f"Bearer {with_read}"}).json()
    assert engagement["totals"]["outreach_sent"] == 4


def test_admins_read_the_figures_too(world: World, app: FastAPI) -> None:
    move(app, User, User.email == "office@uni.edu", role=Role.admin)
    assert ok(world.staff.get("/api/v1/stats/engagement", params=RANGE))["totals"][
        "interviews_held"] == 3
    assert world.staff.get("/stats").status_code == 200


def test_months_without_any_activity_are_zeros(app: FastAPI, make_client: Callable[[], TestClient]
                                               ) -> None:
    staff = make_client()
    make_staff(app, staff)
    body = ok(staff.get("/api/v1/stats/engagement", params={"from": "2025-12", "to": "2026-02"}))
    assert body["months"] == [month(m, 0, 0, 0, None, 0, 0, 0)
                              for m in ("2025-12", "2026-01", "2026-02")]
    assert ok(staff.get("/api/v1/stats/directory")) == {"items": [], "next_cursor": None}
    assert all(t["sent"] == 0 and t["template_id"]
               for t in ok(staff.get("/api/v1/stats/templates"))["items"])
