"""HTTP as a client library expects it: a 405 names every method the address answers, and a
server error tells the client not to reuse the connection."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.testclient import TestClient
from starlette.routing import Route, compile_path

from app.config import Settings
from app.main import create_app
from tests.imports.helpers import make_staff

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
    """Every route's path and methods, in the routers the app includes too."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)
        elif isinstance(route, Route) and route.methods:
            yield route.path, set(route.methods)


def _addresses(app: FastAPI) -> dict[str, set[str]]:
    """Each route's path with its parameters filled in → every method that some route answers
    at that address (``/api/v1/contacts/export.csv`` is also ``/api/v1/contacts/{contact_id}``)."""
    routes = list(_routes(app.routes))
    patterns = [(compile_path(path)[0], methods) for path, methods in routes]
    addresses: dict[str, set[str]] = {}
    for path, _ in routes:
        address = re.sub(r"\{[^}]+\}", "x1", path)
        addresses[address] = set().union(*(methods for pattern, methods in patterns
                                           if pattern.match(address)))
    return addresses


def _allowed(response: Any) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def test_a_refused_method_is_told_every_method_the_address_answers(
    app: FastAPI, client: TestClient
) -> None:
    addresses = _addresses(app)
    assert len(addresses) > 50
    assert addresses["/api/v1/contacts"] == {"GET", "POST"}
    refused = 0
    for address, methods in addresses.items():
        for method in METHODS:
            response = client.request(method, address)
            if method in methods:
                assert response.status_code != 405, (method, address)
                continue
            refused += 1
            assert response.status_code == 405, (method, address, response.status_code)
            assert _allowed(response) == methods, (method, address)
            if address.startswith("/api/") and method != "HEAD":
                assert response.json()["error"] == "method_not_allowed"
    assert refused > 200


def test_put_on_the_contacts_list_names_get_and_post(client: TestClient) -> None:
    response = client.put("/api/v1/contacts", json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.json() == {"error": "method_not_allowed",
                               "detail": "This address does not accept that method."}


def test_a_page_refusing_a_method_names_the_ones_it_takes(client: TestClient) -> None:
    response = client.delete("/contacts")
    assert response.status_code == 405
    assert _allowed(response) == {"GET"}
    assert response.headers["Content-Type"].startswith("text/html")


def test_static_files_are_get_and_head_only(client: TestClient) -> None:
    assert client.head("/static/app.css").status_code == 200
    response = client.post("/static/app.css")
    assert response.status_code == 405
    assert _allowed(response) == {"GET", "HEAD"}


@pytest.fixture(scope="module")
def failing(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """The app with two routes that fail on the server's side, as a bug would."""
    application = create_app(make_settings())

    @application.get("/api/v1/failing")
    def raise_an_error() -> None:
        raise RuntimeError("a bug, on purpose")

    @application.get("/api/v1/upstream")
    def answer_502() -> Response:
        return Response("upstream away", status_code=502)

    with TestClient(application, raise_server_exceptions=False) as client:
        yield client
    application.state.engine.dispose()


def test_a_server_error_closes_the_connection(failing: TestClient) -> None:
    response = failing.get("/api/v1/failing")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert response.headers["Connection"] == "close"


def test_any_5xx_closes_the_connection(failing: TestClient) -> None:
    response = failing.get("/api/v1/upstream")
    assert response.status_code == 502
    assert response.headers["Connection"] == "close"


def test_other_answers_keep_the_connection(failing: TestClient) -> None:
    for path in ["/api/v1/health", "/api/v1/nowhere", "/api/v1/me"]:
        assert "Connection" not in failing.get(path).headers


def test_a_body_that_is_not_json_names_the_body(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", content=b'{"email": ',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"field": "body", "message": "The body is not valid JSON at character 10: "
                                     "Expecting value."}]


def test_a_body_that_is_not_utf8_is_a_400(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", content=b'{"email": "\xff"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.parametrize(("path", "name", "value"), [
    ("/api/v1/contacts", "updated_since", "0.5"),
    ("/api/v1/directory", "updated_since", "0.5"),
    ("/api/v1/directory", "updated_since", "1700000000"),
    ("/api/v1/stats/directory", "since", "0"),
    ("/api/v1/stats/templates", "until", "20260501"),
])
def test_a_moment_or_a_day_in_a_query_is_written_never_a_number(
        app: FastAPI, client: TestClient, path: str, name: str, value: str) -> None:
    make_staff(app, client)
    response = client.get(path, params={name: value})
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == [name]
    assert client.get(path, params={name: "2026-05-01"}).status_code == 200
