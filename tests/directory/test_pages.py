"""The directory page: what it says when there is nothing, and that deleted entries stay away."""

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import signed_in
from tests.imports.helpers import make_staff


def test_an_empty_directory_says_what_to_do_and_a_deleted_entry_is_not_shown(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff, student = make_client(), make_client()
    make_staff(app, staff)
    signed_in(student)
    assert "Import the alumni office's export to fill it." in staff.get("/directory").text
    assert "career services has not loaded it yet" in student.get("/directory").text
    entry = staff.post("/api/v1/directory", json={"first_name": "Zelda", "external_id": "Z1"})
    assert "Zelda" in student.get("/directory").text
    assert staff.delete("/api/v1/directory/by-external-id/Z1").status_code == 204
    for client in (staff, student):
        assert "Zelda" not in client.get("/directory").text
        assert client.get(f"/directory/{entry.json()['id']}").status_code == 404
