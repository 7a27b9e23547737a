"""A student's whole account story, driven through Chromium, and cross-site forgery attempts."""

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL, NAME, sign_up


def field(page: Page, input_id: str):  # noqa: ANN201 - a Playwright Locator
    """The .field wrapper of an input: its label, hint and error live inside it."""
    return page.locator(".field", has=page.locator(f"#{input_id}"))


def test_student_registers_logs_in_edits_profile_and_manages_an_api_key(
    page: Page, base_url: str
) -> None:
    # Register, with a mistake in the email first.
    page.goto(f"{base_url}/register")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill("maya-at-uni.edu")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    email_error = field(page, "f-email").locator(".field-error")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("email")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your name")).to_have_value(NAME)
    expect(page.get_by_label("Email")).to_have_value("maya-at-uni.edu")
    expect(page.get_by_label("Your name")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Log in.
    expect(page).to_have_url(f"{base_url}/login?registered=1")
    expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")

    # The profile: an impossible graduation year first.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page).to_have_url(f"{base_url}/settings")
    page.get_by_label("School").fill("Concordia University, St. Paul")
    page.get_by_label("Graduation year").fill("1800")
    page.get_by_role("button", name="Save profile").click()

    year_error = field(page, "f-graduation_year").locator(".field-error")
    expect(year_error).to_be_visible()
    expect(year_error).to_contain_text("1900")
    expect(page.get_by_label("Graduation year")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("School")).to_have_value("Concordia University, St. Paul")
    expect(page.get_by_role("status")).to_have_count(0)

    page.get_by_label("Graduation year").fill("2027")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"Saved"))
    expect(page.locator(".field-error")).to_have_count(0)

    page.reload()
    expect(page.get_by_label("School")).to_have_value("Concordia University, St. Paul")
    expect(page.get_by_label("Graduation year")).to_have_value("2027")

    # An API key: created, used from a script, revoked.
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    expect(page).to_have_url(f"{base_url}/settings/api-keys")
    page.get_by_label("Key name").fill("Laptop script")
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    assert secret
    key_list = page.locator("#key-list")
    expect(key_list.get_by_role("row", name=re.compile("Laptop script"))).to_be_visible()

    bearer = {"Authorization": f"Bearer {secret}"}
    response = httpx.get(f"{base_url}/api/v1/me", headers=bearer)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == EMAIL

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    key_list.get_by_role("button", name="Revoke Laptop script").click()
    expect(key_list.get_by_role("row", name=re.compile("Laptop script"))).to_have_count(0)
    expect(key_list).to_contain_text("You have no API keys")
    assert len(dialogs) == 1 and "Laptop script" in dialogs[0]

    response = httpx.get(f"{base_url}/api/v1/me", headers=bearer)
    assert response.status_code == 401, response.text

    # Log out from the navigation bar.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{base_url}/login")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert page.request.get(f"{base_url}/api/v1/me").status == 401
