"""The webhooks page: for staff only, linked from their navigation; the form keeps what was
typed after an error and shows the secret once; deliveries show their status and a Replay
button that resends."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.webhooks.conftest import Receiver, alumna, subscribe, worker

HTMX = {"HX-Request": "true"}


def test_staff_see_the_page_in_their_navigation(staff: TestClient) -> None:
    page = staff.get("/webhooks")
    assert page.status_code == 200
    assert 'href="/webhooks" aria-current="page"' in page.text
    assert "No webhooks yet." in page.text and "Nothing sent yet." in page.text
    for event in ("directory.entry.created", "import.completed", "directory.entry.engaged"):
        assert f'value="{event}"' in page.text


def test_the_form_keeps_what_was_typed_after_an_error(staff: TestClient) -> None:
    response = staff.post("/api/v1/webhooks", headers=HTMX, json={
        "url": "ftp://files.example.edu/in", "events": "import.completed",
        "description": "Nightly sync"})
    assert response.status_code == 422
    assert 'value="ftp://files.example.edu/in"' in response.text
    assert 'value="Nightly sync"' in response.text
    assert 'value="import.completed" checked' in response.text
    assert 'id="e-url"' in response.text and 'aria-invalid="true"' in response.text


def test_adding_one_shows_its_secret_once_and_lists_it(
    staff: TestClient, receiver: Receiver
) -> None:
    response = staff.post("/api/v1/webhooks", headers=HTMX, json={
        "url": receiver.url, "events": ["directory.entry.created", "import.completed"]})
    assert response.status_code == 201
    assert "it will not be shown again" in response.text
    secret = response.text.split('id="new-webhook-secret" class="secret-value">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    assert 'id="webhook-list"' in response.text and 'hx-swap-oob="true"' in response.text
    page = staff.get("/webhooks").text
    assert receiver.url in page and secret not in page


def test_deliveries_show_their_status_and_replay_resends(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    receiver.answers = [500]
    worker(private_app, webhooks_max_attempts=1).drain()
    page = staff.get("/webhooks").text
    assert "Failed" in page and "Answered 500." in page
    delivery = staff.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"][0]
    button = f'hx-post="/api/v1/webhooks/{hook["id"]}/deliveries/{delivery["id"]}/replay"'
    assert button in page
    replayed = staff.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay",
                          headers=HTMX)
    assert replayed.status_code == 200 and "Waiting" in replayed.text
    worker(private_app).drain()
    assert "Delivered" in staff.get("/webhooks").text
    assert len(receiver.requests) == 2


def test_pause_and_delete_redraw_the_list(staff: TestClient, receiver: Receiver) -> None:
    hook = subscribe(staff, receiver.url)
    paused = staff.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=HTMX)
    assert paused.status_code == 200 and "Paused" in paused.text and ">Resume<" in paused.text
    gone = staff.delete(f"/api/v1/webhooks/{hook['id']}", headers=HTMX)
    assert gone.status_code == 200 and "No webhooks yet." in gone.text
