"""An Excel workbook imported through the import page: the student chooses the .xlsx a
spreadsheet saved, checks it, imports it, and finds the people in their contacts with their
values as the spreadsheet showed them (a phone typed as a number, a date)."""

import re

from playwright.sync_api import Page, expect

from tests.conftest import ROOT
from tests.e2e.test_imports import contacts_of, figures
from tests.e2e.test_messages import watch

WORKBOOK = ROOT / "tests" / "data" / "real" / "xlsx" / "contacts.xlsx"


def test_a_student_imports_an_excel_workbook_and_finds_the_people(
    signed_in_page: Page, base_url: str
) -> None:
    page = signed_in_page
    seen = watch(page)
    page.goto(f"{base_url}/imports")
    file_input = page.get_by_label("File", exact=True)
    expect(file_input).to_have_attribute("accept", re.compile(r"(^|,)\.xlsx(,|$)"))
    file_input.set_input_files(WORKBOOK)

    page.get_by_role("button", name="Check the file first").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Checked: nothing was written yet · contacts.xlsx")
    expect(report.locator("strong", has_text="Excel workbook")).to_be_visible()
    expect(figures(report)).to_have_text(["2 new", "0 updated", "0 unchanged", "0 not imported"])
    assert contacts_of(page, base_url) == []

    page.get_by_role("button", name="Import", exact=True).click()
    expect(report.get_by_role("heading", level=2)).to_have_text("Imported · contacts.xlsx")
    expect(figures(report)).to_have_text(["2 new", "0 updated", "0 unchanged", "0 not imported"])

    report.get_by_role("link", name="See your contacts").click()
    expect(page).to_have_url(f"{base_url}/contacts")
    results = page.locator("#results")
    expect(results.locator(".contact-row")).to_have_count(2)
    maya = results.locator(".contact-row", has=page.get_by_role("link", name="Maya Okafor"))
    expect(maya.locator(".contact-role")).to_have_text("Physician Assistant · Regions Hospital")
    results.get_by_role("link", name="Søren Kierkegaard-Ng", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Søren Kierkegaard-Ng")
    expect(page.locator("#section-about")).to_contain_text("soren.ng@example.dk")
    people = {f"{c['first_name']} {c['last_name']}": c for c in contacts_of(page, base_url)}
    assert people["Maya Okafor"]["phone"] == "6515550142"
    assert people["Maya Okafor"]["notes"] == "2026-03-14"
    assert sorted(people["Maya Okafor"]["tags"]) == ["PA", "fair"]
    assert seen.unexpected() == []
