"""Imports and the alumni directory in a real browser: a student checks and imports LinkedIn's
Connections.csv and finds the people in their contacts; the same file again changes nothing; a
row that cannot go in is reported by line and can be downloaded; career services fill the
directory from the alumni office's export, and a student searches it as they type and adds an
alumna to their contacts, never seeing those who do not accept requests."""

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.e2e.conftest import EMAIL, NAME
from tests.e2e.test_accessibility import (
    ONE_BAD_ROW,
    SAMPLES,
    STAFF_EMAIL,
    STAFF_NAME,
    failed_rows,
    fill_the_directory,
    log_in,
    make_staff,
)
from tests.e2e.test_messages import watch

LINKEDIN = SAMPLES / "linkedin-Connections.csv"
ALUMNI = SAMPLES / "alumni-export.csv"
# Who the LinkedIn file brings in, as the contacts list sorts them (by name).
CONNECTIONS = ["Aisha Bello", "Daniel Lindqvist", "Hana Nováková", "José Martínez Ruiz",
               "Maya Okafor", "O'Neil Thomas", "Priya Raman", "Samuel Kim", "Wei Zhang",
               "Zoë Brennan-Hughes"]
# LinkedIn's columns, and the field each one fills.
LINKEDIN_COLUMNS = [["First Name", "first name"], ["Last Name", "last name"],
                    ["URL", "linkedin url"], ["Email Address", "email"],
                    ["Company", "organization name"], ["Position", "title"],
                    ["Connected On", "notes"]]
# The alumni office's Medtronic people: those who accept requests, and those who said N or false.
MEDTRONIC_OPEN = ["José García", "Laura Haddad", "Lucas Kim", "Emma Lindqvist",
                  "Samuel Nováková", "Olga Okafor", "Ravi Brennan", "Samuel Feldman", "Sofia Zhang"]
MEDTRONIC_CLOSED = ["Yuki Jones", "Chidi Patel", "Fatima van der Berg", "Wei García",
                    "Priya Brennan"]


def choose(page: Page, file: Path) -> None:
    page.get_by_label("File", exact=True).set_input_files(file)


def figures(report: Locator) -> Locator:
    return report.locator(".figures .figure")


def rows_of(table: Locator) -> list[list[str]]:
    return [[cell.strip() for cell in row] for row in table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))")]


def contacts_of(page: Page, base_url: str) -> list[dict[str, Any]]:
    response = page.request.get(f"{base_url}/api/v1/contacts?limit=100")
    assert response.status == 200, response.text()
    return list(response.json()["items"])


@pytest.fixture
def student_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A second person's browser, beside ``page``."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# --- 1. the acceptance story -------------------------------------------------------------


def test_a_student_checks_then_imports_linkedin_connections_and_finds_them(
    signed_in_page: Page, base_url: str
) -> None:
    page = signed_in_page
    seen = watch(page)
    page.goto(f"{base_url}/contacts")
    # The contacts page leads to the import page.
    page.locator("main .page-header").get_by_role("link", name=re.compile(r"^Import\b")).click()
    expect(page).to_have_url(f"{base_url}/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bring in the contacts you already have")
    expect(page.locator(".breadcrumb").get_by_role("link", name="Contacts")).to_have_attribute(
        "href", "/contacts")
    expect(page.locator("#import-progress")).to_be_hidden()
    page.evaluate("window.__sameDocument = true")

    # Checked first: what the file is, where each column goes, and nothing written.
    choose(page, LINKEDIN)
    page.get_by_role("button", name="Check the file first").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Checked: nothing was written yet · linkedin-Connections.csv")
    expect(report.locator("strong", has_text="LinkedIn connections")).to_be_visible()
    expect(report).to_contain_text("Recognised as LinkedIn connections in UTF-8, into your contacts.")
    expect(figures(report)).to_have_text(["10 new", "0 updated", "0 unchanged", "0 not imported"])
    columns = report.locator("details")
    expect(columns.locator("summary")).to_have_text("Columns (7 of 7 used)")
    expect(columns.get_by_role("table")).to_be_hidden()
    columns.locator("summary").click()
    expect(columns.get_by_role("table")).to_be_visible()
    expect(columns.get_by_role("columnheader")).to_have_text(["Column in the file", "Goes into"])
    assert rows_of(columns) == LINKEDIN_COLUMNS
    expect(report.get_by_text("Looks right? Choose Import.")).to_be_visible()
    expect(report.get_by_text("Rows that did not go in")).to_have_count(0)
    assert contacts_of(page, base_url) == []

    # Imported: the same file, still chosen.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Imported · linkedin-Connections.csv")
    expect(figures(report)).to_have_text(["10 new", "0 updated", "0 unchanged", "0 not imported"])
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    # The people are in the contacts list, and a search finds one of them.
    report.get_by_role("link", name="See your contacts").click()
    expect(page).to_have_url(f"{base_url}/contacts")
    results = page.locator("#results")
    expect(results.locator(".contact-row")).to_have_count(10)
    for name in CONNECTIONS:
        expect(results.get_by_role("link", name=name, exact=True)).to_be_visible()
    maya = results.locator(".contact-row", has=page.get_by_role("link", name="Maya Okafor"))
    expect(maya.locator(".contact-role")).to_have_text("Physician Assistant · Regions Hospital")
    page.locator("#q").press_sequentially("Martín")
    expect(results.locator(".contact-row")).to_have_count(1)
    jose = results.get_by_role("link", name="José Martínez Ruiz")
    expect(jose).to_be_visible()
    jose.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("José Martínez Ruiz")
    expect(page.locator(".lede")).to_have_text("Senior Regulatory Affairs Specialist at Medtronic")
    about, progress = page.locator("#section-about"), page.locator("#section-progress")
    expect(about).to_contain_text("jmr@example.org")
    expect(about.get_by_role("link", name="linkedin.com/in/jose-martinez-ruiz-example")
           ).to_have_attribute("href", "https://www.linkedin.com/in/jose-martinez-ruiz-example")
    expect(progress).to_contain_text("How you found them Personal network", use_inner_text=True)
    assert seen.unexpected() == []


def test_progress_is_shown_and_asked_for_while_the_file_uploads(
    signed_in_page: Page, base_url: str
) -> None:
    page = signed_in_page
    seen = watch(page)
    held: list[Route] = []
    # The upload waits at the browser's door until the page has asked how far it has got.
    page.route("**/api/v1/imports", lambda route: held.append(route))
    page.goto(f"{base_url}/imports")
    choose(page, LINKEDIN)
    progress = page.locator("#import-progress")
    with page.expect_request(lambda r: r.url == f"{base_url}/imports/progress") as polled:
        page.get_by_role("button", name="Import", exact=True).click()
    assert polled.value.headers.get("hx-request") == "true"
    assert len(held) == 1 and held[0].request.method == "POST"
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("Reading and importing…")
    expect(progress).to_have_role("status")

    held[0].continue_()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Imported · linkedin-Connections.csv")
    expect(progress).to_be_hidden()
    # The poll stops with the upload.
    expect(page.locator("#import-form")).not_to_have_attribute("data-poll", re.compile(""))
    assert seen.unexpected() == []


# --- 2. the same file again --------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(signed_in_page: Page, base_url: str) -> None:
    page = signed_in_page
    seen = watch(page)
    page.goto(f"{base_url}/imports")
    choose(page, LINKEDIN)
    report = page.locator("#report")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(figures(report)).to_have_text(["10 new", "0 updated", "0 unchanged", "0 not imported"])
    first = {c["id"]: c for c in contacts_of(page, base_url)}

    # A fresh page, the same file.
    page.reload()
    choose(page, LINKEDIN)
    page.get_by_role("button", name="Check the file first").click()
    expect(report.get_by_role("heading", level=2)).to_contain_text("Checked")
    expect(figures(report)).to_have_text(["0 new", "0 updated", "10 unchanged", "0 not imported"])
    page.get_by_role("button", name="Import", exact=True).click()
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Imported · linkedin-Connections.csv")
    expect(figures(report)).to_have_text(["0 new", "0 updated", "10 unchanged", "0 not imported"])
    again = {c["id"]: c for c in contacts_of(page, base_url)}
    assert again == first

    # Both imports are listed; the check is not.
    page.reload()
    history = page.locator("section[aria-labelledby=history-heading] li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("0 new, 0 updated, 0 not imported")
    expect(history.nth(1)).to_contain_text("10 new, 0 updated, 0 not imported")
    assert seen.unexpected() == []


# --- 3. a row that cannot go in --------------------------------------------------------------


def read_download_csv(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_a_failed_row_is_shown_by_line_and_can_be_downloaded(
    signed_in_page: Page, base_url: str, tmp_path: Path
) -> None:
    page = signed_in_page
    seen = watch(page)
    file = tmp_path / "career-fair.csv"
    file.write_bytes(ONE_BAD_ROW)
    page.goto(f"{base_url}/imports")
    choose(page, file)
    page.get_by_role("button", name="Check the file first").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Checked: nothing was written yet · career-fair.csv")
    expect(report).to_contain_text("Recognised as CSV in UTF-8, into your contacts.")
    expect(figures(report)).to_have_text(["2 new", "0 updated", "0 unchanged", "1 not imported"])
    expect(report.get_by_role("heading", name="Rows that did not go in")).to_be_visible()
    failed = failed_rows(report)
    expect(failed.get_by_role("columnheader")).to_have_text(["Line", "Field", "Value", "Problem"])
    expect(failed.locator("tbody tr")).to_have_count(1)
    line, field, value, problem = rows_of(failed)[0]
    assert (line, field, value) == ("3", "first name", "")
    assert "name" in problem.lower() and "jon-at-acme" in problem, problem

    def download_failed_rows() -> list[list[str]]:
        link = report.get_by_role("link", name="Download the 1 row that did not go in as CSV")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename.endswith("-errors.csv")
        return read_download_csv(Path(download.value.path()))

    rows = download_failed_rows()
    assert rows[0] == ["First Name", "Last Name", "Email", "Company", "line", "reason"]
    assert rows[1][:5] == ["", "", "jon-at-acme", "", "3"]
    assert rows[1][5].startswith("first_name: "), rows[1]
    assert len(rows) == 2, rows
    assert contacts_of(page, base_url) == []

    # Imported: the two good rows go in; the report stays, with its own page.
    page.get_by_role("button", name="Import", exact=True).click()
    expect(report.get_by_role("heading", level=2)).to_have_text("Imported · career-fair.csv")
    expect(figures(report)).to_have_text(["2 new", "0 updated", "0 unchanged", "1 not imported"])
    assert sorted(c["first_name"] for c in contacts_of(page, base_url)) == ["Ana", "Kim"]
    page.reload()
    page.locator("section[aria-labelledby=history-heading]").get_by_role(
        "link", name="career-fair.csv").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/imports/\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import report")
    expect(report.get_by_role("heading", level=2)).to_have_text("Imported · career-fair.csv")
    expect(page.locator("#import-form")).to_have_count(0)
    assert rows_of(failed_rows(report))[0][:3] == ["3", "first name", ""]
    assert download_failed_rows()[1][:5] == ["", "", "jon-at-acme", "", "3"]
    assert seen.unexpected() == []


# --- 4. the alumni directory -------------------------------------------------------------------


def by_last_name(names: list[str]) -> list[str]:
    """The directory's order: last name, then first name."""
    return sorted(names, key=lambda n: tuple(reversed(n.lower().split(" ", 1))))


def test_staff_fill_the_directory_and_a_student_adds_an_alumna(
    page: Page, student_page: Page, base_url: str, database_url: str
) -> None:
    # Career services: the directory is empty until the alumni office's export goes in.
    staff = page
    staff_seen = watch(staff)
    log_in(staff, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(database_url)
    staff.goto(f"{base_url}/directory")
    expect(staff.locator("#results")).to_contain_text(
        "The directory is empty. Import the alumni office's export to fill it.")
    staff.get_by_role("link", name="Import alumni").click()
    expect(staff).to_have_url(f"{base_url}/imports?target=directory")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Import alumni into the directory")
    choose(staff, ALUMNI)
    staff.get_by_role("button", name="Import", exact=True).click()
    report = staff.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text("Imported · alumni-export.csv")
    expect(report).to_contain_text("Recognised as CSV in UTF-8, into the alumni directory.")
    expect(figures(report)).to_have_text(["199 new", "0 updated", "0 unchanged",
                                          "1 not imported"])
    assert rows_of(failed_rows(report)) == [
        ["15", "email", "n/a", "Enter an email address such as name@example.org."]]
    report.get_by_role("link", name="See the directory").click()
    expect(staff).to_have_url(f"{base_url}/directory")
    expect(staff.locator("#results .directory-entry")).to_have_count(50)  # the first page

    # Staff see everyone, and who is hidden from students.
    staff.goto(f"{base_url}/directory?organization=Medtronic")
    staff_entries = staff.locator("#results .directory-entry")
    expect(staff_entries.locator(".entry-name a")).to_have_text(
        by_last_name(MEDTRONIC_OPEN + MEDTRONIC_CLOSED))
    hidden = staff_entries.filter(has_text="Not accepting requests: hidden from students")
    expect(hidden.locator(".entry-name a")).to_have_text(by_last_name(MEDTRONIC_CLOSED))
    fatima = staff.request.get(f"{base_url}/api/v1/directory?q=Fatima+Medtronic").json()["items"]
    assert [(e["last_name"], e["accepts_requests"]) for e in fatima] == [("van der Berg", False)]
    assert staff_seen.unexpected() == []

    # A student: the whole directory, then a name.
    student = student_page
    seen = watch(student)
    log_in(student, base_url)
    student.goto(f"{base_url}/directory")
    expect(student.get_by_role("link", name="Import alumni")).to_have_count(0)
    results = student.locator("#results")
    entries = results.locator(".directory-entry")
    # 140 of the 199 accept requests: three pages.
    expect(entries).to_have_count(50)
    first_page = entries.locator(".entry-name a").all_inner_texts()
    results.get_by_role("link", name="More").click()
    expect(entries).to_have_count(50)
    expect(entries.first.locator(".entry-name a")).not_to_have_text(first_page[0])
    results.get_by_role("link", name="More").click()
    expect(entries).to_have_count(40)
    expect(results.get_by_role("link", name="More")).to_have_count(0)
    student.goto(f"{base_url}/directory?q=Haddad")
    expect(student.get_by_label("Search names, employers, titles, majors")).to_have_value("Haddad")
    # Sofia Haddad of Regions Hospital answered N: only the other Sofia Haddad is there.
    expect(entries.locator(".entry-name a")).to_have_text(
        ["Grace Haddad", "Laura Haddad", "Laura Haddad", "Mateo Haddad", "Samuel Haddad",
         "Sofia Haddad"])
    expect(entries.filter(has_text="Sofia Haddad").locator(".entry-role")).to_have_text(
        "Policy Analyst at Boston Scientific")
    expect(entries.filter(has_text="Regions Hospital")).to_have_count(0)

    # An employer: those who said N or false are not there, nor is their page.
    student.goto(f"{base_url}/directory?organization=Medtronic")
    expect(entries.locator(".entry-name a")).to_have_text(by_last_name(MEDTRONIC_OPEN))
    for name in MEDTRONIC_CLOSED:
        expect(results.get_by_text(name)).to_have_count(0)
    expect(results.get_by_text("Not accepting requests")).to_have_count(0)
    closed = student.request.get(f"{base_url}/directory/{fatima[0]['id']}")
    assert closed.status == 404, closed.status
    closed = student.request.get(f"{base_url}/api/v1/directory/{fatima[0]['id']}")
    assert closed.status == 404, closed.status

    # Added to the student's contacts, and taken to her page.
    laura = entries.filter(has_text="Laura Haddad")
    expect(laura.locator(".entry-name")).to_have_text("Laura Haddad \u201985")
    expect(laura.locator(".entry-role")).to_have_text("Physician Assistant at Medtronic")
    expect(laura).to_contain_text("B.S. Exercise Science · Saint Paul, MN · Medical Devices")
    laura.get_by_role("button", name="Add Laura Haddad to my contacts").click()
    expect(student).to_have_url(re.compile(rf"{base_url}/contacts/\w+$"))
    contact_url = student.url
    expect(student.get_by_role("heading", level=1)).to_have_text("Laura Haddad")
    expect(student.locator(".lede")).to_have_text("Physician Assistant at Medtronic")
    expect(student.locator("#section-progress")).to_contain_text(
        "How you found them Alumni", use_inner_text=True)
    expect(student.locator("#section-about")).to_contain_text("laura.haddad.146@example.org")
    expect(student.locator("#section-notes")).to_contain_text(
        "Alumni directory, class of 1985: B.S. Exercise Science.")

    # From her directory page, a second time: the same contact, not a copy.
    student.goto(f"{base_url}/directory?q=Laura+Haddad+Medtronic")
    entries.get_by_role("link", name="Laura Haddad").click()
    expect(student.get_by_role("heading", level=1)).to_have_text("Laura Haddad")
    expect(student.locator(".facts")).to_contain_text("Class of1985")
    expect(student.get_by_text("For staff")).to_have_count(0)
    student.get_by_role("button", name="Add to my contacts").click()
    expect(student).to_have_url(contact_url)
    mine = contacts_of(student, base_url)
    assert [(c["first_name"], c["last_name"], c["source"]) for c in mine] == [
        ("Laura", "Haddad", "alumni")]
    assert seen.unexpected() == []


def test_the_directory_is_searched_as_one_types(
    page: Page, student_page: Page, base_url: str, database_url: str
) -> None:
    fill_the_directory(page, base_url, database_url)
    student = student_page
    seen = watch(student)
    log_in(student, base_url)
    student.goto(f"{base_url}/directory")
    results = student.locator("#results")
    entries = results.locator(".directory-entry")
    expect(entries).to_have_count(50)
    student.evaluate("window.__sameDocument = true")

    search = student.get_by_label("Search names, employers, titles, majors")
    search.press_sequentially("Haddad")
    expect(entries.locator(".entry-name a")).to_have_text(
        ["Grace Haddad", "Laura Haddad", "Laura Haddad", "Mateo Haddad", "Samuel Haddad",
         "Sofia Haddad"])
    expect(entries.filter(has_text="Regions Hospital")).to_have_count(0)
    expect(student).to_have_url(re.compile(r"/directory\?q=Haddad"))
    search.press_sequentially(" medtro")
    expect(entries).to_have_count(1)
    expect(entries.locator(".entry-role")).to_have_text("Physician Assistant at Medtronic")

    # A filter instead of words.
    search.fill("")
    student.get_by_label("Employer", exact=True).press_sequentially("Medtronic")
    expect(entries.locator(".entry-name a")).to_have_text(by_last_name(MEDTRONIC_OPEN))
    expect(results.get_by_text("Not accepting requests")).to_have_count(0)
    student.get_by_label("Class of, from").fill("1990")
    expect(entries.locator(".entry-name a")).to_have_text(by_last_name(
        ["José García", "Lucas Kim", "Samuel Nováková", "Ravi Brennan", "Samuel Feldman"]))
    # Nobody: the page says so, and a search back finds them again.
    search.press_sequentially("xylophonist")
    expect(results).to_contain_text("Nobody matches. Try fewer words or filters.")
    search.fill("")
    expect(entries).to_have_count(5)
    assert student.evaluate("window.__sameDocument") is True, "the page was reloaded"
    assert seen.unexpected() == []


def test_a_student_cannot_import_into_the_directory(signed_in_page: Page, base_url: str) -> None:
    page = signed_in_page
    page.goto(f"{base_url}/imports?target=directory")
    # The page offers the student's own contacts instead.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bring in the contacts you already have")
    expect(page.locator("#import-form input[name=target]")).to_have_value("contacts")
    csrf = log_in(page, base_url, EMAIL, NAME, register=False)
    refused = page.request.post(
        f"{base_url}/api/v1/imports", headers={"X-CSRF-Token": csrf},
        multipart={"file": {"name": "alumni-export.csv", "mimeType": "text/csv",
                            "buffer": ALUMNI.read_bytes()}, "target": "directory"})
    assert refused.status == 403, refused.text()
    directory = page.request.get(f"{base_url}/api/v1/directory").json()
    assert directory["items"] == []




def test_a_file_that_cannot_be_read_is_explained(signed_in_page: Page, base_url: str) -> None:
    page = signed_in_page
    seen = watch(page)
    page.goto(f"{base_url}/imports")
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "photo.png", "mimeType": "image/png",
         "buffer": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))})
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "This is not a text file (it contains binary data). Export a CSV, vCard or JSON file "
        "and upload that.")
    expect(page.locator("#report")).to_be_empty()
    assert page.request.get(f"{base_url}/api/v1/imports").json()["items"] == []
    # The refusal is a 422 on purpose; Chromium and htmx log it.
    assert seen.unexpected(re.compile(r"status of 422 |Error Code 422 from /api/v1/imports")) == []


def test_staff_check_the_alumni_file_before_importing_it(
    page: Page, base_url: str, database_url: str
) -> None:
    seen = watch(page)
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(database_url)
    page.goto(f"{base_url}/imports?target=directory")
    choose(page, ALUMNI)
    page.get_by_role("button", name="Check the file first").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text(
        "Checked: nothing was written yet · alumni-export.csv")
    expect(figures(report)).to_have_text(["199 new", "0 updated", "0 unchanged",
                                          "1 not imported"])
    assert rows_of(failed_rows(report))[0][:3] == ["15", "email", "n/a"]
    assert page.request.get(f"{base_url}/api/v1/directory").json()["items"] == []
    assert seen.unexpected() == []


def test_the_directory_report_says_which_columns_are_left_out(
    page: Page, base_url: str, database_url: str
) -> None:
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(database_url)
    page.goto(f"{base_url}/imports?target=directory")
    choose(page, ALUMNI)
    page.get_by_role("button", name="Import", exact=True).click()
    columns = page.locator("#report details")
    columns.locator("summary").click()
    notes = columns.get_by_role("row").filter(has=page.get_by_role("cell", name="Notes",
                                                                     exact=True))
    expect(notes.get_by_role("cell").nth(1)).to_have_text("— not imported")
    expect(columns.locator("summary")).to_have_text("Columns (14 of 15 used)")
