"""Forgotten passwords: a link by email (through a real SMTP server on loopback), used once,
for 30 minutes; the same answer for an address with or without an account; throttled."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.accounts import password_reset
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from tests.conftest import PASSWORD, api_key, login, signed_in
from tests.reminders.conftest import MAIL_FROM, SITE, Mailbox, mailbox  # noqa: F401

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(re.escape(SITE) + r"/reset-password\?token=([\w-]+)")


@pytest.fixture
def make_app(make_settings: Callable[..., Settings],
             mailbox: Mailbox) -> Iterator[Callable[..., FastAPI]]:  # noqa: F811
    """The app with email on, sending to the test's own SMTP server."""
    apps: list[FastAPI] = []

    def make(**overrides: Any) -> FastAPI:
        apps.append(create_app(make_settings(
            smtp_url=mailbox.url, mail_from=MAIL_FROM, public_url=SITE,
            **({"email_verification": False} | overrides))))
        return apps[-1]

    yield make
    for application in apps:
        application.state.engine.dispose()


@pytest.fixture
def mail_client(make_app: Callable[..., FastAPI], database_url: str) -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        yield client


def link_token(box: Mailbox, address: str) -> str:
    [message] = box.to(address)
    body = message.get_body(("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match, body.get_content()
    return match.group(1)


def ask(client: TestClient, email: str) -> Any:
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def confirm(client: TestClient, token: str, password: str = NEW_PASSWORD,
            revoke_api_keys: bool = False) -> Any:
    return client.post("/api/v1/auth/password-reset/confirm", json={
        "token": token, "password": password, "revoke_api_keys": revoke_api_keys})


def can_log_in(client: TestClient, email: str, password: str) -> bool:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code in {200, 401}, response.text
    return response.status_code == 200


def token_refused(response: Any) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_reset_token"
    assert [f["field"] for f in body["fields"]] == ["token"]
    assert "Ask for a new one" in body["detail"]


def test_the_emailed_link_sets_a_new_password_once(
    mail_client: TestClient, make_app: Callable[..., FastAPI], mailbox: Mailbox,  # noqa: F811
) -> None:
    signed_in(mail_client)
    key = api_key(mail_client)
    feed = urlsplit(mail_client.post("/api/v1/me/calendar-feed").json()["url"]).path
    other_browser = TestClient(mail_client.app)
    login(other_browser)

    response = ask(mail_client, "Maya@Uni.edu")
    assert response.status_code == 202 and response.content == b""
    [message] = mailbox.to("maya@uni.edu")
    assert message["Subject"] == "Reset your Rapport password"
    assert message["From"] == MAIL_FROM
    token = link_token(mailbox, "maya@uni.edu")
    page = mail_client.get(f"/reset-password?token={token}")
    assert page.status_code == 200 and 'name="token"' in page.text

    assert confirm(mail_client, token, revoke_api_keys=True).status_code == 204
    # Every session ended, this browser's and the other one's; the key is revoked, and the
    # calendar feed's address.
    assert mail_client.get(feed).status_code == 404
    assert mail_client.get("/api/v1/me").status_code == 401
    assert other_browser.get("/api/v1/me").status_code == 401
    assert mail_client.get("/api/v1/me",
                           headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert can_log_in(mail_client, "maya@uni.edu", NEW_PASSWORD)
    assert not can_log_in(mail_client, "maya@uni.edu", PASSWORD)

    token_refused(confirm(mail_client, token, "yet another passphrase"))  # used once
    assert can_log_in(mail_client, "maya@uni.edu", NEW_PASSWORD)


def test_api_keys_keep_working_unless_asked(mail_client: TestClient,
                                            mailbox: Mailbox) -> None:  # noqa: F811
    signed_in(mail_client)
    key = api_key(mail_client)
    feed = urlsplit(mail_client.post("/api/v1/me/calendar-feed").json()["url"]).path
    ask(mail_client, "maya@uni.edu")
    assert confirm(mail_client, link_token(mailbox, "maya@uni.edu")).status_code == 204
    assert mail_client.get("/api/v1/me",
                           headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert mail_client.get(feed).status_code == 200


def test_an_unknown_address_gets_the_same_answer_and_no_email(
    mail_client: TestClient, mailbox: Mailbox  # noqa: F811
) -> None:
    signed_in(mail_client)
    known = ask(mail_client, "maya@uni.edu")
    unknown = ask(mail_client, "nobody@uni.edu")
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert set(known.headers) == set(unknown.headers)
    assert len(mailbox.messages) == 1 and not mailbox.to("nobody@uni.edu")


def test_a_link_expires_after_30_minutes(mail_client: TestClient, mailbox: Mailbox,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    signed_in(mail_client)
    ask(mail_client, "maya@uni.edu")
    token = link_token(mailbox, "maya@uni.edu")
    later = utcnow() + timedelta(minutes=30, seconds=1)
    monkeypatch.setattr(password_reset, "utcnow", lambda: later)
    token_refused(confirm(mail_client, token))
    assert can_log_in(mail_client, "maya@uni.edu", PASSWORD)


def test_a_forged_or_missing_token_is_refused(mail_client: TestClient) -> None:
    signed_in(mail_client)
    token_refused(confirm(mail_client, "made-up-token"))
    response = mail_client.post("/api/v1/auth/password-reset/confirm",
                                json={"password": NEW_PASSWORD})
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["fields"]] == ["token"]
    short = confirm(mail_client, "made-up-token", "short")
    assert short.status_code == 422 and "password" in short.text


def test_asking_is_throttled_per_account_whether_it_exists_or_not(
    mail_client: TestClient, mailbox: Mailbox  # noqa: F811
) -> None:
    signed_in(mail_client)
    for email in ("maya@uni.edu", "nobody@uni.edu"):
        for _ in range(3):
            assert ask(mail_client, email).status_code == 202
        refused = ask(mail_client, email)
        assert refused.status_code == 429 and refused.json()["error"] == "reset_throttled"
        assert int(refused.headers["Retry-After"]) > 0
    assert len(mailbox.to("maya@uni.edu")) == 3


def test_asking_is_throttled_per_address(make_app: Callable[..., FastAPI],
                                         database_url: str) -> None:
    with TestClient(make_app(password_reset_max_per_address=2)) as client:
        assert ask(client, "a@uni.edu").status_code == 202
        assert ask(client, "b@uni.edu").status_code == 202
        refused = ask(client, "c@uni.edu")
        assert refused.status_code == 429 and "your network" in refused.json()["detail"]


def test_another_site_cannot_ask_or_confirm(mail_client: TestClient) -> None:
    evil = {"Origin": "https://evil.example"}
    assert mail_client.post("/api/v1/auth/password-reset", json={"email": "maya@uni.edu"},
                            headers=evil).status_code == 403
    assert mail_client.post("/api/v1/auth/password-reset/confirm", headers=evil, json={
        "token": "x", "password": NEW_PASSWORD}).status_code == 403


def test_without_email_nothing_is_sent_and_the_page_says_whom_to_ask(
    client: TestClient, mailbox: Mailbox  # noqa: F811
) -> None:
    signed_in(client)
    assert ask(client, "maya@uni.edu").status_code == 202
    assert mailbox.messages == []
    page = client.get("/forgot-password")
    assert "career-services office" in page.text and 'action="/forgot-password"' not in page.text


def test_the_pages_work_as_plain_html_forms(mail_client: TestClient,
                                            mailbox: Mailbox) -> None:  # noqa: F811
    login_page = mail_client.get("/login")
    assert 'href="/forgot-password"' in login_page.text
    signed_in(mail_client)

    sent = mail_client.post("/forgot-password", data={"email": "maya@uni.edu"})
    assert sent.status_code == 200 and "If an account uses" in sent.text
    nobody = mail_client.post("/forgot-password", data={"email": "nobody@uni.edu"})
    assert nobody.status_code == 200 and "If an account uses" in nobody.text
    token = link_token(mailbox, "maya@uni.edu")

    short = mail_client.post("/reset-password", data={"token": token, "password": "short"})
    assert short.status_code == 422 and "at least 8" in short.text
    done = mail_client.post("/reset-password", follow_redirects=False,
                            data={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/login?password_reset=1"
    again = mail_client.post("/reset-password", data={"token": token, "password": NEW_PASSWORD})
    assert again.status_code == 422 and "Ask for a new one" in again.text
    assert can_log_in(mail_client, "maya@uni.edu", NEW_PASSWORD)
