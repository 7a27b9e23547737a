"""Real-browser fixtures: the app served by uvicorn in a thread, and Debian's Chromium.

Every test in this folder is marked ``e2e``. Run them alone with ``pytest -m e2e``. When
Chromium is missing they are skipped, unless RAPPORT_REQUIRE_BROWSER=1 makes that a failure.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from app.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD
from tests.live import serve

# What a page shows after an answer may take a while on a busy machine: wait up to 10 s, as
# actions do (each context's default timeout), rather than Playwright's 5 s.
expect.set_options(timeout=10_000)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
HERE = Path(__file__).resolve().parent

EMAIL = "maya@uni.edu"
NAME = "Maya Okafor"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_server(make_settings: Callable[..., Settings]) -> Iterator[str]:
    """The app on a free port of 127.0.0.1; yields its base URL, such as http://127.0.0.1:4711."""
    app = create_app(make_settings())
    try:
        with serve(app, "/api/v1/health") as base_url:
            yield base_url
    finally:
        app.state.engine.dispose()


@pytest.fixture
def base_url(live_server: str, database_url: str) -> str:
    """The live server's URL. Asking for ``database_url`` here makes the autouse fixture of
    tests/conftest.py empty every table after each browser test."""
    return live_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("RAPPORT_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium not found at /usr/bin/chromium; the browser tests must run "
                        "(apt-get install -y chromium)")
        pytest.skip("Chromium not found at /usr/bin/chromium (apt-get install -y chromium); "
                    "set RAPPORT_REQUIRE_BROWSER=1 to make this a failure")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# An answer the page shows in place (a 4xx from the API: a form's errors, a conflict) is logged
# by Chromium as a failed resource; that is the app working, not an error on the page.
API_ANSWER = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


def console_errors(ctx: BrowserContext, base_url: str, expected: str | None = None) -> list[str]:
    """Every error the app's pages in ``ctx`` write to the console (a CSP refusal included) or
    throw; pages a test serves from another origin, as an attacker would, are not the app's.
    ``expected``: a pattern of the errors a test provokes on purpose."""
    errors: list[str] = []
    origin = urlsplit(base_url).netloc

    def on_console(message: ConsoleMessage) -> None:
        where = urlsplit(message.location.get("url", ""))
        page = urlsplit(message.page.url if message.page else "")
        if (message.type != "error" or (message.page and page.netloc != origin)
                or where.netloc not in ("", origin)
                or (API_ANSWER.match(message.text) and where.path.startswith("/api/"))
                or (expected and re.search(expected, message.text))):
            return
        errors.append(f"{message.text} ({message.location.get('url', '')})")

    ctx.on("console", on_console)
    ctx.on("weberror", lambda error: errors.append(f"uncaught: {error.error}"))
    return errors


@pytest.fixture
def context(
    browser: Browser, base_url: str, request: pytest.FixtureRequest
) -> Iterator[BrowserContext]:
    """A fresh browser profile for each test: no cookies, no storage. Every test also proves
    the console stayed free of errors on every page it opened (a test that provokes one on
    purpose names it with ``@pytest.mark.console_errors("pattern")``)."""
    ctx = browser.new_context()
    ctx.set_default_timeout(10_000)
    marker = request.node.get_closest_marker("console_errors")
    errors = console_errors(ctx, base_url, marker.args[0] if marker else None)
    yield ctx
    ctx.close()
    assert errors == [], "the browser console reported errors:\n" + "\n".join(errors)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_up(page: Page, base_url: str, email: str = EMAIL, name: str = NAME) -> None:
    """Create an account through the API and log this page's browser context in with it.

    For tests whose subject is not the sign-up form itself; the cookie lands in the context.
    """
    response = page.request.post(f"{base_url}/api/v1/auth/register",
                                 data={"email": email, "password": PASSWORD, "name": name})
    assert response.status == 201, response.text()
    response = page.request.post(f"{base_url}/api/v1/auth/login",
                                 data={"email": email, "password": PASSWORD})
    assert response.status == 200, response.text()


@pytest.fixture
def signed_in_page(page: Page, base_url: str) -> Page:
    """A page whose browser context is logged in as Maya Okafor."""
    sign_up(page, base_url)
    return page
