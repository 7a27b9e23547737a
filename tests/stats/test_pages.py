"""The staff page: charts with a table for each, the most engaged alumni, replies by template,
a month range, and an empty state; linked in the navigation for staff only."""

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import signed_in
from tests.imports.helpers import make_staff
from tests.stats.conftest import RANGE, World


def test_staff_see_charts_tables_alumni_and_templates(world: World) -> None:
    html = world.staff.get("/stats", params=RANGE).text
    assert "<h1>Student engagement</h1>" in html and "July 2026 to October 2026" in html
    assert html.count('<svg class="chart"') == 5
    for title in ["Students active", "Outreach sent, and replies", "Interviews held",
                  "Thank-you notes: on time, and later",
                  "Reminder emails, and those acted on within a day"]:
        assert f">{title}</h2>" in html and f"<summary>{title}, as a table</summary>" in html
    # September's row of the outreach table: sent, replied, rate.
    assert ('<th scope="row">Sep 2026</th><td>3</td><td>2</td><td>67%</td>') in html
    assert "<strong>75%</strong> replied" in html and "(3 of 4)" in html
    assert "<strong>50%</strong> thank-yous on time" in html
    assert html.index("José Martínez") < html.index("Hana Nováková")
    assert "Students&#39; own templates" in html
    assert 'href="/stats" aria-current="page"' in html


def test_the_month_range_is_checked(world: World) -> None:
    response = world.staff.get("/stats", params={"from": "2026-10", "to": "2026-07"})
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-from"' in response.text
    assert "The first month comes after the last one." in response.text
    assert "<svg class=\"chart\"" not in response.text


def test_no_activity_yet_says_so(app: FastAPI, make_client: Callable[[], TestClient]) -> None:
    staff = make_client()
    make_staff(app, staff)
    html = staff.get("/stats").text
    assert "No student activity in these months yet." in html
    assert "No student has reached anyone from the alumni directory" in html
    assert '<svg class="chart"' not in html


def test_only_staff_have_the_page_and_its_link(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    student = make_client()
    signed_in(student)
    assert 'href="/stats"' not in student.get("/").text
    assert student.get("/stats").status_code == 403
    staff = make_client()
    make_staff(app, staff)
    assert 'href="/stats"' in staff.get("/").text
    assert make_client().get("/stats", follow_redirects=False).status_code == 303
