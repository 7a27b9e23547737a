"""The Reminders settings page in Chromium: the daily email turned off and on again, and the
calendar feed turned on (its address shown once, and readable) and off (the address gone)."""

from playwright.sync_api import Dialog, Page, expect


def test_turning_the_digest_and_the_feed_on_and_off(signed_in_page: Page, base_url: str) -> None:
    page = signed_in_page
    page.goto(f"{base_url}/settings")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Reminders").click()
    expect(page.get_by_role("heading", name="Reminders by email")).to_be_visible()
    expect(page.get_by_role("link", name="Reminders")).to_have_attribute("aria-current", "page")

    digest = page.get_by_label("Send me a daily email at 08:00 when something is due")
    expect(digest).to_be_checked()
    with page.expect_response("**/api/v1/me/reminders"):
        digest.uncheck()
    expect(page.get_by_label("Send me a daily email at 08:00 when something is due")
           ).not_to_be_checked()
    assert page.request.get(f"{base_url}/api/v1/me/reminders").json()["digest"] is False
    page.reload()
    expect(page.get_by_label("Send me a daily email at 08:00 when something is due")
           ).not_to_be_checked()
    with page.expect_response("**/api/v1/me/reminders"):
        page.get_by_label("Send me a daily email at 08:00 when something is due").check()
    assert page.request.get(f"{base_url}/api/v1/me/reminders").json()["digest"] is True

    page.get_by_role("button", name="Turn the calendar feed on").click()
    address = page.locator("#feed-url")
    expect(address).to_contain_text("/calendar/rcal_")
    url = address.inner_text()
    feed = page.request.get(url)
    assert feed.status == 200 and feed.text().startswith("BEGIN:VCALENDAR")

    page.reload()  # the address is shown once
    expect(page.locator("#feed-url")).to_have_count(0)
    expect(page.get_by_text("The address was shown once")).to_be_visible()

    def accept(dialog: Dialog) -> None:
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="Turn the feed off").click()
    expect(page.get_by_text("The feed is off.")).to_be_visible()
    assert page.request.get(url).status == 404
