"""A forgotten password in Chromium: the login page's link, the email, the reset page, and a
login with the new password. The two reset pages are used with JavaScript turned off."""

import re
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from app.config import Settings
from app.main import create_app
from tests.e2e.conftest import EMAIL, NAME
from tests.live import serve
from tests.reminders.conftest import MAIL_FROM, SITE, Mailbox, mailbox  # noqa: F401

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def mail_server(make_settings: Callable[..., Settings], mailbox: Mailbox,  # noqa: F811
                database_url: str) -> Iterator[str]:
    """The app served with email on, sending to the test's SMTP server on loopback."""
    app = create_app(make_settings(smtp_url=mailbox.url, mail_from=MAIL_FROM, public_url=SITE,
                                   email_verification=False))
    try:
        with serve(app, "/api/v1/health") as base_url:
            yield base_url
    finally:
        app.state.engine.dispose()


def arrived(box: Mailbox, address: str) -> list[EmailMessage]:
    """The messages to ``address``, once there is one: the app sends after its answer."""
    deadline = time.monotonic() + 10
    while not box.to(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    return box.to(address)


def test_a_forgotten_password_is_reset_by_the_emailed_link(
    browser: Browser, page: Page, mail_server: str, mailbox: Mailbox,  # noqa: F811
) -> None:
    base_url = mail_server
    registered = httpx.post(f"{base_url}/api/v1/auth/register",
                            json={"email": EMAIL, "password": "the forgotten one", "name": NAME})
    assert registered.status_code == 201, registered.text

    page.goto(f"{base_url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page).to_have_url(f"{base_url}/forgot-password")

    # Without JavaScript: plain forms, posted and answered with pages.
    no_js = browser.new_context(java_script_enabled=False)
    try:
        plain = no_js.new_page()
        plain.goto(f"{base_url}/forgot-password")
        plain.get_by_label("Email").fill(EMAIL)
        plain.get_by_role("button", name="Send me a link").click()
        expect(plain.get_by_role("status")).to_contain_text(f"If an account uses {EMAIL}")

        [message] = arrived(mailbox, EMAIL)
        body = message.get_body(("plain",))
        assert body is not None
        link = re.search(re.escape(SITE) + r"(/reset-password\?token=[\w-]+)", body.get_content())
        assert link, body.get_content()
        plain.goto(base_url + link.group(1))
        expect(plain.get_by_role("heading", name="Choose a new password")).to_be_visible()
        expect(plain.get_by_label("Also revoke all my API keys")).to_be_checked()
        plain.get_by_label("New password").fill("short")
        plain.get_by_role("button", name="Set my new password").click()
        expect(plain.locator(".field-error")).to_contain_text("at least 8")
        plain.get_by_label("New password").fill(NEW_PASSWORD)
        plain.get_by_role("button", name="Set my new password").click()
        expect(plain).to_have_url(f"{base_url}/login?password_reset=1")
        expect(plain.get_by_role("status")).to_contain_text("Your new password is set")

        # The link worked once.
        plain.goto(base_url + link.group(1))
        plain.get_by_label("New password").fill("yet another passphrase")
        plain.get_by_role("button", name="Set my new password").click()
        expect(plain.get_by_role("alert")).to_contain_text("Ask for a new one")
    finally:
        no_js.close()

    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")
