"""Email verification in Chromium: register with email on, see the banner, open the link from
the email that arrived, confirm, and the banner is gone."""

import re
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL, NAME
from tests.e2e.test_accessibility import BLOCKING_IMPACTS, WCAG_AA
from tests.live import serve
from tests.reminders.conftest import MAIL_FROM, SITE, Mailbox, mailbox  # noqa: F401


@pytest.fixture
def mail_server(make_settings: Callable[..., Settings], mailbox: Mailbox,  # noqa: F811
                database_url: str) -> Iterator[str]:
    """The app served with email on (and so verification), sending to the test's SMTP server."""
    app = create_app(make_settings(smtp_url=mailbox.url, mail_from=MAIL_FROM, public_url=SITE))
    try:
        with serve(app, "/api/v1/health") as base_url:
            yield base_url
    finally:
        app.state.engine.dispose()


def arrived(box: Mailbox, address: str, count: int) -> list[EmailMessage]:
    """The messages to ``address``, once there are ``count``: the app sends after its answer."""
    deadline = time.monotonic() + 10
    while len(box.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return box.to(address)


def test_a_new_account_confirms_its_address_from_the_emailed_link(
        page: Page, mail_server: str, mailbox: Mailbox) -> None:  # noqa: F811
    base_url = mail_server
    page.goto(f"{base_url}/register")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base_url}/")

    banner = page.get_by_role("region", name="Confirm your email address.")
    expect(banner).to_contain_text(f"We sent a link to {EMAIL}")
    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    assert not [v for v in violations if v["impact"] in BLOCKING_IMPACTS], violations
    banner.get_by_role("button", name="Send the link again").click()
    expect(banner.get_by_role("status")).to_contain_text(f"Sent again to {EMAIL}")

    first = arrived(mailbox, EMAIL, 2)[0].get_body(("plain",))
    assert first is not None
    link = re.search(re.escape(SITE) + r"(/verify-email\?token=[\w.=-]+)", first.get_content())
    assert link, first.get_content()
    page.goto(base_url + link.group(1))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.locator("main")).to_contain_text(EMAIL)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("status")).to_contain_text("Your email address is confirmed")

    page.get_by_role("link", name="Go to Rapport").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")
    expect(banner).to_have_count(0)
