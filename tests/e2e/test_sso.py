"""Signing in through the university, in Chromium, against a real OpenID provider on
127.0.0.1: a student and a staff member land where they belong, an account made with a
password is linked, a refusal is a page a person can read, and logging out offers the
provider's sign-out."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD
from tests.live import serve
from tests.oidc_provider import Provider, running, sso_settings


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running() as p:
        yield p


def _server(make_settings: Callable[..., Settings], provider: Provider, **overrides: bool
            ) -> Iterator[str]:
    app = create_app(make_settings(**sso_settings(provider, **overrides)))
    try:
        with serve(app, "/api/v1/health") as base_url:
            yield base_url
    finally:
        app.state.engine.dispose()


@pytest.fixture(scope="module")
def sso_server(make_settings: Callable[..., Settings], provider: Provider) -> Iterator[str]:
    yield from _server(make_settings, provider)


@pytest.fixture(scope="module")
def sso_only_server(make_settings: Callable[..., Settings], provider: Provider
                    ) -> Iterator[str]:
    yield from _server(make_settings, provider, oidc_password_login_admins_only=True)


@pytest.fixture
def site(sso_server: str, provider: Provider, database_url: str) -> str:
    """The app with single sign-on; every table is emptied after the test."""
    provider.reset()
    return sso_server


def new_page(browser: Browser) -> Page:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    return context.new_page()


def sign_in(page: Page, site: str) -> None:
    page.goto(f"{site}/login")
    page.get_by_role("link", name="Sign in with Example University").click()


def test_a_student_and_a_staff_member_sign_in_and_land_in_their_place(
        browser: Browser, site: str, provider: Provider, tmp_path: Path) -> None:
    student = new_page(browser)
    student.goto(f"{site}/login")
    student.screenshot(path=tmp_path / "login-sso-and-password.png", full_page=True)
    sign_in(student, site)
    expect(student).to_have_url(f"{site}/")
    expect(student.locator(".nav-name")).to_have_text("Maya Okafor")
    expect(student.get_by_role("link", name="Stats")).to_have_count(0)

    provider.user.sub, provider.user.email, provider.user.name = "u-2002", "lee@uni.edu", "Lee Park"
    provider.user.groups = ["career-staff"]
    staff = new_page(browser)
    sign_in(staff, site)
    expect(staff).to_have_url(f"{site}/stats")
    expect(staff.get_by_role("link", name="Stats")).to_be_visible()
    expect(staff.locator(".nav-name")).to_have_text("Lee Park")


def test_an_account_made_with_a_password_is_linked_in_the_browser(
        browser: Browser, site: str) -> None:
    page = new_page(browser)
    made = page.request.post(f"{site}/api/v1/auth/register", data={
        "email": "maya@uni.edu", "password": PASSWORD, "name": "Maya Okafor"})
    assert made.status == 201
    page.context.clear_cookies()  # registering signed in; the owner comes back another day
    sign_in(page, site)
    expect(page).to_have_url(f"{site}/auth/oidc/link")
    expect(page.get_by_text("maya@uni.edu")).to_be_visible()
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Link and sign in").click()
    expect(page.get_by_text("The email or password is not right.")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Link and sign in").click()
    expect(page).to_have_url(f"{site}/")
    assert page.request.get(f"{site}/api/v1/me").json()["id"] == made.json()["id"]


def test_a_refused_sign_in_is_a_page_that_says_why(browser: Browser, site: str,
                                                   provider: Provider) -> None:
    provider.user.email = "maya@gmail.com"
    page = new_page(browser)
    sign_in(page, site)
    expect(page.get_by_role("heading", name="This did not work")).to_be_visible()
    expect(page.get_by_text("Rapport is open to addresses ending in @uni.edu")).to_be_visible()
    assert page.request.get(f"{site}/api/v1/me").status == 401


def test_logging_out_offers_to_sign_out_of_the_university_too(
        browser: Browser, site: str, provider: Provider) -> None:
    page = new_page(browser)
    sign_in(page, site)
    expect(page).to_have_url(f"{site}/")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{site}/login?signed_out=1")
    page.get_by_role("link", name="Also sign out of Example University").click()
    expect(page).to_have_url(f"{site}/login")
    assert page.request.get(f"{site}/api/v1/me").status == 401


def test_with_password_login_off_the_page_offers_only_the_university(
        browser: Browser, sso_only_server: str, provider: Provider, database_url: str,
        tmp_path: Path) -> None:
    provider.reset()
    page = new_page(browser)
    page.goto(f"{sso_only_server}/login")
    expect(page.get_by_role("link", name="Sign in with Example University")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    page.screenshot(path=tmp_path / "login-sso-only.png", full_page=True)
    page.get_by_role("link", name="Log in with a password").click()
    expect(page.get_by_label("Password")).to_be_visible()
    sign_in(page, sso_only_server)
    expect(page).to_have_url(f"{sso_only_server}/")
