"""CSRF, security headers and the error shape, whatever the route."""

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import signed_in


def test_cookie_write_without_the_csrf_token_is_refused(client: TestClient) -> None:
    signed_in(client)
    del client.headers["X-CSRF-Token"]
    response = client.patch("/api/v1/me", json={"major": "history"})
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    assert client.get("/api/v1/me").json()["major"] == ""


def test_cookie_write_with_a_wrong_csrf_token_is_refused(client: TestClient) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", json={"major": "history"},
                            headers={"X-CSRF-Token": "0" * 64})
    assert response.status_code == 403


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
def test_cookie_write_from_another_site_is_refused_even_with_the_token(
    client: TestClient, headers: dict[str, str]
) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", json={"major": "history"}, headers=headers)
    assert response.status_code == 403
    assert client.get("/api/v1/me").json()["major"] == ""


def test_same_origin_browser_write_is_accepted(client: TestClient) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", json={"major": "history"},
                            headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200


def test_login_from_another_site_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_security_headers_and_a_fresh_nonce_on_every_page(client: TestClient) -> None:
    first, second = client.get("/login"), client.get("/login")
    csp = first.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "unsafe-inline" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce and nonce.group(1) not in second.headers["Content-Security-Policy"]
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    assert first.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in first.headers["Vary"]
    assert "HX-Request" in client.get("/api/v1/health").headers["Vary"]


def test_pages_have_no_inline_scripts_or_handlers(client: TestClient) -> None:
    html = client.get("/register").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "style=" not in html


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("GET", "/api/v1/nothing-here", 404, "not_found"),
    ("DELETE", "/api/v1/health", 405, "method_not_allowed"),
    ("GET", "/api/v1/me", 401, "not_authenticated"),
])
def test_every_error_has_the_documented_shape(
    client: TestClient, method: str, path: str, status: int, code: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json() == {"error": code, "detail": response.json()["detail"]}
    assert response.json()["detail"].endswith(".")


def test_malformed_json_is_a_422_naming_the_body(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["fields"]


def test_an_oversized_body_is_413_before_it_is_read(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(max_request_bytes=2048))) as c:
        declared = c.post("/api/v1/auth/register", content=b"x" * 5000,
                          headers={"Content-Type": "application/json"})

        def chunks():  # no Content-Length: the limit applies while streaming
            for _ in range(10):
                yield b"x" * 1000

        streamed = c.post("/api/v1/auth/register", content=chunks(),
                          headers={"Content-Type": "application/json"})
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"


def test_a_server_error_shows_no_trace(make_settings: Callable[..., Settings]) -> None:
    app: FastAPI = create_app(make_settings())

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret database password is hunter2")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/api/v1/boom")
        fragment = c.get("/api/v1/boom", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert fragment.status_code == 500 and "hunter2" not in fragment.text
    assert "Something went wrong" in fragment.text
    for answer in (response, fragment):  # as guarded and as final as any other answer
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Connection"] == "close"


def test_htmx_errors_come_back_as_a_readable_fragment(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["HX-Retarget"] == "#flash"
    assert "There is nothing here." in response.text


def test_an_unknown_page_is_an_html_page_for_a_browser(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "This page does not exist" in response.text


def test_text_a_database_cannot_keep_is_refused_by_name(client: TestClient) -> None:
    for name in [r"A\u0000B", r"half \ud800 pair"]:  # as JSON escapes, the way clients send them
        body = '{"email": "a@uni.edu", "password": "long enough", "name": "' + name + '"}'
        response = client.post("/api/v1/auth/register", content=body.encode(),
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "name"


def test_a_nul_in_the_path_or_query_never_breaks_the_server(client: TestClient) -> None:
    signed_in(client)
    for url in ["/api/v1/contacts/a%00b", "/api/v1/contacts?tag=a%00b",
                "/api/v1/organizations/a%00b"]:
        response = client.get(url)
        assert response.status_code in {200, 404, 422}, url
        assert "items" in response.json() or response.json()["error"]
