"""Deleting one's account in Chromium: the page offers the export first; a wrong password keeps
the form with a message; the right one deletes the account and says so."""

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


# The refused form comes back with its 403, which Chromium notes as a failed resource.
@pytest.mark.console_errors(r"status of 403 \(Forbidden\)")
def test_a_student_deletes_their_account_after_a_wrong_password(
    signed_in_page: Page, base_url: str
) -> None:
    page = signed_in_page
    page.goto(f"{base_url}/settings")
    page.get_by_role("link", name="Delete my account…").click()
    expect(page).to_have_url(f"{base_url}/settings/delete-account")
    download = page.get_by_role("link", name="Download my data (export.json)")
    expect(download).to_be_visible()
    with page.expect_download() as got:
        download.click()
    assert got.value.suggested_filename == "rapport-export.json"

    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page.get_by_role("alert")).to_contain_text("This is not your password")
    expect(page.get_by_label("Your password")).to_have_value("")

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page).to_have_url(f"{base_url}/account-deleted")
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()
    assert page.request.get(f"{base_url}/api/v1/me").status == 401
