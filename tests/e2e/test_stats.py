"""Career-services staff open the engagement page in a real browser: five charts of the month's
activity with their tables, the alumni students reached, replies by template, another range of
months, and more alumni loaded in place."""

import re
from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.e2e.test_accessibility import student_engagement


def test_staff_see_the_charts_and_figures(page: Page, base_url: str, database_url: str) -> None:
    student_engagement(page, base_url, database_url)
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Stats").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Student engagement")
    figures = page.locator(".key-figures")
    for text in ["1 students active", "2 outreach sent", "50% replied (1 of 2)",
                 "1 interviews held", "100% thank-yous on time (1 of 1)"]:
        expect(figures).to_contain_text(text)
    for name in ["Students active", "Outreach sent, and replies", "Interviews held",
                 "Thank-you notes: on time, and later"]:
        chart = page.get_by_role("img", name=re.compile(f"^{re.escape(name)}"))
        expect(chart).to_be_visible()
        expect(chart.locator("rect")).not_to_have_count(0)
    # The outreach chart's table, opened: this month, 2 sent, 1 replied, 50%.
    this_month = datetime.now(UTC).strftime("%b %Y")
    page.get_by_text("Outreach sent, and replies, as a table").click()
    row = page.get_by_role("row", name=re.compile(f"^{this_month}"))
    expect(row.filter(has=page.get_by_role("cell", name="50%"))).to_be_visible()

    alumni = page.locator("section", has=page.get_by_role("heading", name="Most engaged alumni"))
    expect(alumni.get_by_role("row")).to_have_count(3)  # the heading and two alumni
    templates = page.locator("section", has=page.get_by_role("heading", name="Replies by template"))
    expect(templates.get_by_role("row", name=re.compile("^Outreach email"))).to_contain_text("50%")


def test_another_range_of_months(page: Page, base_url: str, database_url: str) -> None:
    student_engagement(page, base_url, database_url)
    page.goto(f"{base_url}/stats")
    page.get_by_role("textbox", name="From (month, YYYY-MM)").fill("2024-01")
    page.get_by_role("textbox", name="To (month, YYYY-MM)").fill("2024-03")
    page.get_by_role("button", name="Show these months").click()
    expect(page.get_by_role("heading", name="January 2024 to March 2024")).to_be_visible()
    expect(page.get_by_text("No student activity in these months yet.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/stats\?from=2024-01&to=2024-03$"))


def test_more_alumni_load_in_place(page: Page, base_url: str, database_url: str) -> None:
    student_engagement(page, base_url, database_url, more_alumni=10)
    page.goto(f"{base_url}/stats")
    rows = page.locator("#alumni-rows tr")
    expect(rows).to_have_count(10)  # ten to a page, the most engaged first
    expect(rows.first.get_by_role("cell").nth(2)).to_have_text("1")  # interviewed
    page.get_by_role("button", name="Show more alumni").click()
    expect(rows).to_have_count(12)
    expect(page.get_by_role("button", name="Show more alumni")).to_have_count(0)


def test_staff_land_on_their_own_page_with_the_directory_imports_and_figures(
    page: Page, base_url: str, database_url: str
) -> None:
    student_engagement(page, base_url, database_url)
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Career services")
    expect(page.get_by_role("heading", name="Getting started")).to_have_count(0)
    expect(page.get_by_role("heading", name="The four steps")).to_have_count(0)
    figures = page.locator(".staff-figures")
    for text in ["1 students active", "2 outreach sent", "50% replied (1 of 2)",
                 "1 interviews held"]:
        expect(figures).to_contain_text(text)
    page.get_by_role("link", name="Import alumni").click()
    expect(page).to_have_url(f"{base_url}/imports?target=directory")
    page.go_back()
    page.get_by_role("link", name="Open the directory").click()
    expect(page).to_have_url(f"{base_url}/directory")
