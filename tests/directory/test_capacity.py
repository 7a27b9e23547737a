"""An alumna may take only so many requests a month: once that many students have added her,
students no longer find her until the next month (UTC)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.directory.service import month_start
from app.models import DirectoryEngagement
from tests.conftest import api_key, signed_in
from tests.imports.helpers import assert_error, make_staff

NAMES = ("ana", "ben", "cleo")


def _found(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/directory", params=params)
    assert response.status_code == 200, response.text
    return [e["first_name"] for e in response.json()["items"]]


@pytest.mark.usefixtures("no_settle_delay")
def test_capacity_hides_an_entry_once_reached_and_it_comes_back_next_month(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    made = staff.post("/api/v1/directory", json={"first_name": "Hana", "monthly_capacity": 2})
    assert made.status_code == 201, made.text
    entry = made.json()
    assert (entry["monthly_capacity"], entry["requests_this_month"]) == (2, 0)
    ana, ben, cleo = students = [make_client() for _ in NAMES]
    for client, name in zip(students, NAMES, strict=True):
        signed_in(client, email=f"{name}@uni.edu", name=name.title())
    # Students are not told the capacity, nor how many asked.
    seen = ana.get(f"/api/v1/directory/{entry['id']}").json()
    assert "monthly_capacity" not in seen and "requests_this_month" not in seen
    # Staff adding her to their own contacts takes no student's place.
    assert staff.post(f"/api/v1/directory/{entry['id']}/add-to-contacts").status_code == 201

    added = {c: c.post(f"/api/v1/directory/{entry['id']}/add-to-contacts") for c in (ana, ben)}
    assert {r.status_code for r in added.values()} == {201}
    assert staff.get(f"/api/v1/directory/{entry['id']}").json()["requests_this_month"] == 2

    # Full: hidden from Cleo everywhere.
    assert _found(cleo) == [] and _found(cleo, q="hana") == []
    assert _found(cleo, updated_since="2000-01-01T00:00:00Z") == []
    assert_error(cleo.get(f"/api/v1/directory/{entry['id']}"), 404)
    assert_error(cleo.post(f"/api/v1/directory/{entry['id']}/add-to-contacts"), 404)
    assert "Hana" not in cleo.get("/directory").text
    # Ana, who added her, gets her own contact back; staff still see and count the entry.
    again = ana.post(f"/api/v1/directory/{entry['id']}/add-to-contacts")
    assert again.status_code == 200 and again.json()["id"] == added[ana].json()["id"]
    listed = staff.get("/api/v1/directory").json()["items"]
    assert [(e["first_name"], e["requests_this_month"]) for e in listed] == [("Hana", 2)]
    page = staff.get(f"/directory/{entry['id']}").text
    assert "Requests this month: 2 of 2" in page and "until next month" in page
    assert "2 of 2 requests this month" in staff.get("/directory").text

    # A month later (the same requests, made last month): she is offered again.
    with Session(app.state.engine) as db:
        db.execute(update(DirectoryEngagement).values(at=month_start() - timedelta(days=3)))
        db.commit()
    assert _found(cleo) == ["Hana"]
    assert _found(cleo, updated_since="2000-01-01T00:00:00Z") == ["Hana"]
    assert cleo.post(f"/api/v1/directory/{entry['id']}/add-to-contacts").status_code == 201
    assert staff.get(f"/api/v1/directory/{entry['id']}").json()["requests_this_month"] == 1


def test_capacity_is_a_whole_number_of_at_least_one_or_none(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    entry = staff.post("/api/v1/directory", json={"first_name": "Wei"}).json()
    assert entry["monthly_capacity"] is None  # no limit
    for value in (0, -1, "many", 1.5, 100_000):
        response = staff.patch(f"/api/v1/directory/{entry['id']}",
                               json={"monthly_capacity": value})
        assert [f["field"] for f in assert_error(response, 422)["fields"]] == ["monthly_capacity"]
    set_ = staff.patch(f"/api/v1/directory/{entry['id']}", json={"monthly_capacity": 3})
    assert set_.json()["monthly_capacity"] == 3
    cleared = staff.patch(f"/api/v1/directory/{entry['id']}", json={"monthly_capacity": None})
    assert cleared.json()["monthly_capacity"] is None
    # Students cannot set it, not even through a key with the scope.
    student = make_client()
    signed_in(student)
    keyed = make_client()
    keyed.headers["Authorization"] = f"Bearer {api_key(student, ['directory:write'])}"
    refused = keyed.patch(f"/api/v1/directory/{entry['id']}", json={"monthly_capacity": 1})
    assert assert_error(refused, 403)["error"] == "staff_only"
