"""Deliveries to a real receiver on 127.0.0.1: signed so the receiver can tell, retried with a
growing delay when it fails, recorded, replayable by hand, and never sent to an address that
has become private. The worker is drained by hand: no test waits for a thread."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import DeliveryStatus, WebhookDelivery
from app.webhooks import signing
from app.webhooks.worker import Outcome, backoff
from tests.conftest import ROOT
from tests.imports.helpers import rows
from tests.webhooks.conftest import Receiver, alumna, subscribe, worker


def deliveries(app: FastAPI) -> list[WebhookDelivery]:
    return sorted(rows(app, WebhookDelivery), key=lambda d: d.id)


def test_the_receiver_gets_a_signed_delivery_it_can_verify(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    entry = alumna(staff)
    assert worker(private_app).drain() == 1

    [got] = receiver.requests
    header = got.headers["Rapport-Signature"]
    assert signing.verify(hook["secret"], header, got.body)
    assert not signing.verify(hook["secret"], header, got.body.replace(b"Laura", b"Lara"))
    assert not signing.verify("whsec_another", header, got.body)
    later = datetime.now(UTC).timestamp() + 301
    assert not signing.verify(hook["secret"], header, got.body, now=later)  # too old to trust
    assert got.headers["Rapport-Event"] == "directory.entry.created"
    assert got.headers["Content-Type"] == "application/json"
    [delivery] = deliveries(private_app)
    assert got.delivery == delivery.id

    body = got.json
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "directory.entry.created" and body["id"] == delivery.event_id
    assert body["data"]["id"] == entry["id"] and body["data"]["external_id"] == "CRM-1"
    assert body["data"]["updated_at"] == entry["updated_at"].replace("Z", "+00:00")
    assert body["data"]["organization_name"] == "Medtronic"
    assert delivery.status == DeliveryStatus.delivered and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.delivered_at is not None


def test_a_failed_delivery_is_retried_later_and_recorded(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    receiver.answers = [500, 200]
    now = datetime.now(UTC)
    assert worker(private_app, clock=lambda: now).drain() == 1
    [waiting] = deliveries(private_app)
    assert waiting.status == DeliveryStatus.pending and waiting.attempts == 1
    assert waiting.last_status_code == 500 and waiting.last_error == "Answered 500."
    assert waiting.next_attempt_at is not None
    first_delay = private_app.state.settings.webhooks_retry_seconds
    assert now + timedelta(seconds=first_delay) <= waiting.next_attempt_at
    assert waiting.next_attempt_at <= now + timedelta(seconds=first_delay * 1.5)

    assert worker(private_app, clock=lambda: now).drain() == 0  # not due yet
    assert len(receiver.requests) == 1
    later = now + timedelta(hours=1)
    assert worker(private_app, clock=lambda: later).drain() == 1
    [done] = deliveries(private_app)
    assert done.status == DeliveryStatus.delivered and done.attempts == 2
    assert done.last_status_code == 200 and done.last_error == ""
    assert [r.delivery for r in receiver.requests] == [done.id, done.id]  # one id to dedupe by
    assert receiver.requests[0].body == receiver.requests[1].body


def test_the_delay_doubles_with_jitter(private_app: FastAPI) -> None:
    settings = private_app.state.settings
    first = settings.webhooks_retry_seconds
    for attempts in range(1, 6):
        delay = backoff(settings, attempts).total_seconds()
        assert first * 2 ** (attempts - 1) <= delay <= first * 2 ** (attempts - 1) * 1.5


def test_after_the_last_attempt_it_fails_and_a_replay_sends_it_again(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    receiver.answers = [503, 503, 503]
    clock = [datetime.now(UTC)]
    for _ in range(3):
        worker(private_app, clock=lambda: clock[0], webhooks_max_attempts=3).drain()
        clock[0] += timedelta(days=1)
    [failed] = deliveries(private_app)
    assert failed.status == DeliveryStatus.failed and failed.attempts == 3
    assert failed.next_attempt_at is None and len(receiver.requests) == 3
    assert worker(private_app, clock=lambda: clock[0]).drain() == 0  # failed stays failed

    listed = staff.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"})
    assert [d["id"] for d in listed.json()["items"]] == [failed.id]
    assert listed.json()["items"][0]["last_status_code"] == 503
    replayed = staff.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{failed.id}/replay")
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "pending" and replayed.json()["attempts"] == 0
    assert worker(private_app).drain() == 1
    [done] = deliveries(private_app)
    assert done.status == DeliveryStatus.delivered and len(receiver.requests) == 4
    assert receiver.requests[-1].delivery == failed.id


def test_a_replay_made_while_a_worker_is_sending_stands(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url)
    alumna(staff)
    sending = worker(private_app)
    delivery_id = sending.claim()
    assert delivery_id is not None
    replayed = staff.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 202
    sending.record(delivery_id, 0, Outcome(503, "Answered 503."))  # its answer came late
    [delivery] = deliveries(private_app)
    assert delivery.status == DeliveryStatus.pending and delivery.attempts == 0
    assert worker(private_app).drain() == 1
    assert deliveries(private_app)[0].status == DeliveryStatus.delivered


def test_replay_resends_a_delivered_one(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url)
    alumna(staff)
    worker(private_app).drain()
    [delivery] = staff.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert delivery["status"] == "delivered"
    assert delivery["payload"]["type"] == "directory.entry.created"
    staff.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay")
    assert worker(private_app).drain() == 1
    assert [r.delivery for r in receiver.requests] == [delivery["id"], delivery["id"]]


def test_a_delivery_of_another_webhook_is_not_found(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    first = subscribe(staff, receiver.url)
    second = subscribe(staff, receiver.url + "/second")
    alumna(staff)
    [of_first] = staff.get(f"/api/v1/webhooks/{first['id']}/deliveries").json()["items"]
    response = staff.post(f"/api/v1/webhooks/{second['id']}/deliveries/{of_first['id']}/replay")
    assert response.status_code == 404


def test_redirects_are_not_followed(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    receiver.answers = [302]
    worker(private_app).drain()
    [delivery] = deliveries(private_app)
    assert len(receiver.requests) == 1  # /elsewhere never asked
    assert delivery.status == DeliveryStatus.pending and delivery.last_status_code == 302
    assert "redirects are not followed" in delivery.last_error


def test_the_address_is_checked_again_when_sending(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    """Saved while private addresses were allowed (or while the name pointed elsewhere): a
    worker that does not allow them sends nothing there."""
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    assert worker(private_app, webhooks_allow_private=False).drain() == 1
    [delivery] = deliveries(private_app)
    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.pending and delivery.attempts == 1
    assert delivery.last_status_code is None and "Use an address starting with https://" in (
        delivery.last_error)


def test_an_unreachable_receiver_is_an_error_to_retry(
    private_app: FastAPI, staff: TestClient
) -> None:
    subscribe(staff, "http://127.0.0.1:9/closed", ["directory.entry.created"])  # discard port
    alumna(staff)
    worker(private_app).drain()
    [delivery] = deliveries(private_app)
    assert delivery.status == DeliveryStatus.pending and delivery.last_error.startswith(
        "Could not send")


def test_a_paused_webhook_gets_nothing_new_and_keeps_what_was_queued(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    staff.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False})
    alumna(staff, first_name="Hana", external_id="CRM-2")
    assert worker(private_app).drain() == 0
    assert len(deliveries(private_app)) == 1
    staff.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True})
    assert worker(private_app).drain() == 1
    assert len(receiver.requests) == 1


def test_a_lease_keeps_a_delivery_from_a_second_worker_until_it_runs_out(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    now = datetime.now(UTC)
    first = worker(private_app, clock=lambda: now)
    delivery_id = first.claim()
    assert delivery_id is not None
    assert worker(private_app, clock=lambda: now).claim() is None
    after_the_lease = now + first.lease + timedelta(seconds=1)
    assert worker(private_app, clock=lambda: after_the_lease).claim() == delivery_id


def test_the_rotated_secret_signs_what_is_sent_next(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    secret = staff.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").json()["secret"]
    worker(private_app).drain()
    [got] = receiver.requests
    assert signing.verify(secret, got.headers["Rapport-Signature"], got.body)
    assert not signing.verify(hook["secret"], got.headers["Rapport-Signature"], got.body)


def test_deleting_a_webhook_deletes_its_deliveries(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    hook = subscribe(staff, receiver.url)
    alumna(staff)
    assert staff.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert deliveries(private_app) == []


def test_verify_reads_the_documented_header() -> None:
    body = json.dumps({"id": "e1", "type": "import.completed"}).encode()
    header = signing.header("whsec_test", body, timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert signing.verify("whsec_test", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_test", header, body, now=1_700_000_400)
    assert not signing.verify("whsec_test", "v1=" + header.split("v1=")[1], body)
    assert not signing.verify("whsec_test", "garbage", body)


def test_a_due_delivery_is_sent_even_when_its_clock_was_moved_by_hand(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    """next_attempt_at is the only thing that says when: set it back and it goes now."""
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    receiver.answers = [500]
    worker(private_app).drain()
    with Session(private_app.state.engine) as db, db.begin():
        db.execute(update(WebhookDelivery).values(
            next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert worker(private_app).drain() == 1
    assert deliveries(private_app)[0].status == DeliveryStatus.delivered


def test_the_guides_python_example_verifies_a_real_delivery(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    guide = (ROOT / "docs" / "integration.md").read_text()
    [example] = [block.split("```")[0] for block in guide.split("```python\n")[1:]
                 if "def verify(" in block]
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/integration.md", "exec"), namespace)  # noqa: S102 - our own docs
    hook = subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    worker(private_app).drain()
    [got] = receiver.requests
    assert namespace["verify"](hook["secret"], got.headers["Rapport-Signature"], got.body)
    assert not namespace["verify"](hook["secret"], got.headers["Rapport-Signature"],
                                   got.body + b" ")


def test_finished_deliveries_are_deleted_after_the_keeping_time(
    private_app: FastAPI, staff: TestClient, receiver: Receiver
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.created"])
    alumna(staff)
    alumna(staff, first_name="Hana", external_id="CRM-2")
    receiver.answers = [200, 500]
    worker(private_app).drain()
    statuses = sorted(d.status for d in deliveries(private_app))
    assert statuses == [DeliveryStatus.delivered, DeliveryStatus.pending]
    keep = private_app.state.settings.webhooks_keep_days
    much_later = datetime.now(UTC) + timedelta(days=keep, seconds=1)
    assert worker(private_app, clock=lambda: much_later).prune() == 1
    assert [d.status for d in deliveries(private_app)] == [DeliveryStatus.pending]
