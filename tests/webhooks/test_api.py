"""Subscriptions: staff manage them (all of them: they are the career office's), students and
keys without the scope are refused, the secret is shown once, and an address that is not on
the public internet is refused unless the deployment allows it."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import Webhook
from tests.conftest import api_key, signed_in
from tests.imports.helpers import count, make_staff
from tests.webhooks.conftest import ALL_EVENTS, subscribe

PUBLIC = "https://93.184.215.14/rapport"  # an address literal: no DNS needed


@pytest.fixture
def office(app: FastAPI, make_client: Callable[[], TestClient]) -> TestClient:
    """A staff member of the app as deployed by default (private addresses refused)."""
    client = make_client()
    make_staff(app, client)
    return client


def test_staff_create_read_change_and_delete_a_webhook(office: TestClient) -> None:
    response = office.post("/api/v1/webhooks", json={
        "url": PUBLIC, "events": ["import.completed", "directory.entry.created"],
        "description": "Slate sync"})
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["secret"].startswith("whsec_") and len(made["secret"]) > 40
    assert made["events"] == ["directory.entry.created", "import.completed"]  # in a fixed order
    assert made["active"] is True
    assert response.headers["Location"] == f"/api/v1/webhooks/{made['id']}"

    read = office.get(f"/api/v1/webhooks/{made['id']}")
    assert read.status_code == 200 and "secret" not in read.json()  # shown once only
    assert all("secret" not in h for h in office.get("/api/v1/webhooks").json()["items"])

    stale = office.patch(f"/api/v1/webhooks/{made['id']}", json={"active": False},
                         headers={"If-Match": '"v99"'})
    assert stale.status_code == 412
    changed = office.patch(f"/api/v1/webhooks/{made['id']}", json={"active": False},
                           headers={"If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert office.delete(f"/api/v1/webhooks/{made['id']}").status_code == 204
    assert office.get(f"/api/v1/webhooks/{made['id']}").status_code == 404


def test_rotating_the_secret_shows_a_new_one_once(office: TestClient) -> None:
    made = subscribe(office, PUBLIC)
    rotated = office.post(f"/api/v1/webhooks/{made['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made["secret"]


def test_the_same_idempotency_key_creates_one_webhook(app: FastAPI, office: TestClient) -> None:
    body = {"url": PUBLIC, "events": ["import.completed"]}
    first = office.post("/api/v1/webhooks", json=body, headers={"Idempotency-Key": "k1"})
    again = office.post("/api/v1/webhooks", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert count(app, Webhook) == 1


def test_any_staff_member_manages_the_offices_webhooks(
    app: FastAPI, office: TestClient, make_client: Callable[[], TestClient]
) -> None:
    made = subscribe(office, PUBLIC)
    colleague = make_client()
    make_staff(app, colleague, email="dana@uni.edu", name="Dana Whitfield")
    assert [h["id"] for h in colleague.get("/api/v1/webhooks").json()["items"]] == [made["id"]]
    assert colleague.patch(f"/api/v1/webhooks/{made['id']}",
                           json={"description": "Dana's now"}).status_code == 200


def test_students_are_refused_every_webhook_route(
    office: TestClient, make_client: Callable[[], TestClient]
) -> None:
    made = subscribe(office, PUBLIC)
    student = make_client()
    signed_in(student, email="jon@uni.edu", name="Jon Park")
    hook = f"/api/v1/webhooks/{made['id']}"
    for method, path, body in [
        ("GET", "/api/v1/webhooks", None), ("POST", "/api/v1/webhooks", {"url": PUBLIC,
                                                                        "events": ALL_EVENTS}),
        ("GET", hook, None), ("PATCH", hook, {"active": False}), ("DELETE", hook, None),
        ("POST", f"{hook}/rotate-secret", None), ("GET", f"{hook}/deliveries", None),
        ("POST", f"{hook}/deliveries/x/replay", None),
    ]:
        response = student.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "staff_only"
        assert made["secret"] not in response.text
    assert student.get("/webhooks").status_code == 403
    assert 'href="/webhooks"' not in student.get("/settings").text  # not in the navigation


def test_keys_need_the_webhooks_scope_and_a_staff_owner(
    office: TestClient, make_client: Callable[[], TestClient]
) -> None:
    without = api_key(office, ["directory:read"])
    refused = office.get("/api/v1/webhooks", headers={"Authorization": f"Bearer {without}"})
    assert refused.status_code == 403 and refused.json()["error"] == "missing_scope"
    key = api_key(office, ["webhooks:manage"])
    made = office.post("/api/v1/webhooks", json={"url": PUBLIC, "events": ["import.completed"]},
                       headers={"Authorization": f"Bearer {key}"})
    assert made.status_code == 201, made.text
    student = make_client()
    signed_in(student, email="jon@uni.edu", name="Jon Park")
    students_key = api_key(student, ["webhooks:manage"])
    assert student.get("/api/v1/webhooks", headers={
        "Authorization": f"Bearer {students_key}"}).status_code == 403


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook",  # loopback
    "https://localhost/hook",  # a name for loopback
    "https://10.1.2.3/hook", "https://172.16.0.1/", "https://192.168.1.10/",  # private
    "https://169.254.169.254/latest/meta-data/",  # link-local: the cloud's metadata service
    "https://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "https://0.0.0.0/", "https://224.0.0.1/", "https://240.0.0.1/",
    "https://[::1]/hook", "https://[fe80::1]/hook", "https://[fc00::1]/hook", "https://[::]/",
    "https://[fec0::1]/hook",  # site-local (deprecated, never public)
    "https://[::ffff:127.0.0.1]/hook", "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped IPv6
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://93.184.215.14/hook",  # plain http
    "https://user:password@93.184.215.14/hook",
    "ftp://93.184.215.14/", "https://", "not a url",
])
def test_addresses_off_the_public_internet_are_refused(office: TestClient, url: str) -> None:
    response = office.post("/api/v1/webhooks", json={"url": url, "events": ["import.completed"]})
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["url"]


@pytest.mark.parametrize("url", ["https://93.184.215.14:0/hook", "https://crm.example.edu:0/",
                                 "https://[2606:4700::1111]:0/hook"])
def test_port_0_is_refused(office: TestClient, url: str) -> None:
    response = office.post("/api/v1/webhooks", json={"url": url, "events": ["import.completed"]})
    assert response.status_code == 422, response.text
    assert response.json()["fields"] == [
        {"field": "url", "message": "Port 0 cannot receive requests: leave the port out, or give "
                                    "the receiver's own."}]


def test_port_0_is_refused_on_a_private_network_too(staff: TestClient) -> None:
    response = staff.post("/api/v1/webhooks",
                          json={"url": "http://127.0.0.1:0/hook", "events": ["import.completed"]})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "url"


def test_changing_the_address_is_checked_too(office: TestClient) -> None:
    made = subscribe(office, PUBLIC)
    response = office.patch(f"/api/v1/webhooks/{made['id']}",
                            json={"url": "https://[::ffff:192.168.0.1]/"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "url"


def test_public_ipv6_addresses_are_accepted(office: TestClient) -> None:
    assert subscribe(office, "https://[2606:4700::1111]/hook")["url"].startswith("https://[")


def test_private_addresses_are_accepted_when_the_setting_allows_them(staff: TestClient) -> None:
    for url in ["http://127.0.0.1:9/hook", "https://10.1.2.3/hook", "http://localhost:8080/"]:
        assert subscribe(staff, url)["url"] == url


@pytest.mark.parametrize("body", [
    {"url": PUBLIC, "events": ["contact.created"]},
    {"url": PUBLIC, "events": []},
    {"url": PUBLIC},
    {"url": PUBLIC, "events": ["import.completed"], "secret": "mine"},
    {"url": PUBLIC, "events": ["import.completed"], "id": "x"},
])
def test_unknown_events_and_fields_are_refused(office: TestClient, body: dict[str, Any]) -> None:
    assert office.post("/api/v1/webhooks", json=body).status_code == 422


def test_events_are_an_enum_in_the_contract(app: FastAPI) -> None:
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["WebhookEvent"]["enum"] == ALL_EVENTS
