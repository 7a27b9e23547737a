"""Changing the password in Chromium: the page says what a change ends, and lets the student
choose whether their API keys end with it."""

import re

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL


def _create_key(page: Page, base_url: str, name: str) -> str:
    page.goto(f"{base_url}/settings/api-keys")
    page.get_by_label("Key name").fill(name)
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create key").click()
    secret_box = page.locator("#new-key-secret")
    expect(secret_box).to_be_visible()
    return secret_box.inner_text().strip()


def _change_password(page: Page, current: str, new: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password").fill(new)
    page.get_by_role("button", name="Change password").click()


def _key_works(base_url: str, secret: str) -> bool:
    response = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    return response.status_code == 200


def test_a_password_change_revokes_the_api_keys_unless_the_box_is_unticked(
    signed_in_page: Page, base_url: str
) -> None:
    page = signed_in_page
    kept = _create_key(page, base_url, "Laptop script")
    page.goto(f"{base_url}/settings")
    password = page.locator("#password-form")
    expect(page.get_by_role("region", name="Password")).to_contain_text(
        "signs you out of Rapport in every other browser")
    revoke = password.get_by_label("Also revoke all my API keys")
    expect(revoke).to_be_checked()

    # Unticked: the key lives on.
    revoke.uncheck()
    _change_password(page, PASSWORD, "a new password")
    expect(page).to_have_url(f"{base_url}/settings?password_changed=1")
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Password changed\. You were signed out everywhere else\.$"))
    assert _key_works(base_url, kept)

    # Ticked, as the page offers it: every key ends with the change.
    expect(page.locator("#password-form").get_by_label("Also revoke all my API keys")) \
        .to_be_checked()
    _change_password(page, "a new password", "a third password")
    expect(page).to_have_url(f"{base_url}/settings?password_changed=1&keys_revoked=1")
    expect(page.get_by_role("status")).to_contain_text("1 API key was revoked")
    assert not _key_works(base_url, kept)
    me = page.request.get(f"{base_url}/api/v1/me")  # this browser stays logged in
    assert me.status == 200 and me.json()["email"] == EMAIL
