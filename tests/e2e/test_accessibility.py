"""Every page, logged out and in, with data in it, and after the form states people meet: checked
by axe-core, loaded without console errors or Content-Security-Policy violations, and no wider
than a phone."""

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Locator, Page, expect
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.models import Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL, NAME, sign_up

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING_IMPACTS = {"serious", "critical"}

# Collects every CSP violation of the document, from before its first script runs.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def open_welcome(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_role("link", name="Create your account")).to_be_visible()


def open_login(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()


def open_register(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/register")
    expect(page.get_by_role("button", name="Create account")).to_be_visible()


def open_forgot_password(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/forgot-password")
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()


def open_reset_password(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/reset-password?token=not-a-real-one")
    expect(page.get_by_role("button", name="Set my new password")).to_be_visible()


def open_verify_email_with_a_broken_link(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/verify-email?token=not-a-real-one")
    expect(page.get_by_role("alert")).to_contain_text("This confirmation link does not work")


def open_home(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")


def open_settings(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/settings")
    expect(page.get_by_role("button", name="Save profile")).to_be_visible()


def open_settings_with_an_error(page: Page, base_url: str) -> None:
    open_settings(page, base_url)
    page.get_by_label("Graduation year").fill("1800")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#e-graduation_year")).to_be_visible()


def open_delete_account(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/settings/delete-account")
    expect(page.get_by_role("link", name="Download my data (export.json)")).to_be_visible()


def open_account_deleted(page: Page, base_url: str) -> None:
    open_delete_account(page, base_url)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page.get_by_role("heading", name="Your account is deleted")).to_be_visible()


def open_api_keys(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/settings/api-keys")
    expect(page.get_by_role("button", name="Create key")).to_be_visible()


def open_api_keys_with_a_new_key(page: Page, base_url: str) -> None:
    open_api_keys(page, base_url)
    page.get_by_label("Key name").fill("Laptop script")
    page.get_by_label("profile:read").check()
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-key-secret")).to_be_visible()


def open_question_bank_with_an_own_question(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/questions")
    page.get_by_role("textbox", name="Question").fill("What do you wish you had known in your first year?")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_role("status")).to_contain_text("Added to Position/Career Path")
    expect(page.get_by_text("What is a typical work day like for you?")).to_be_visible()


# --- messages and follow-through, with data in them -------------------------------------------

PROFILE = {"school": "Concordia University, St. Paul", "major": "biology",
           "career_goal": "physician assistant", "timezone": "America/Chicago"}
KIM = {"first_name": "Kim", "last_name": "Nguyen", "title": "Physician Assistant",
       "email": "kim.nguyen@regions.org", "organization_name": "Regions Hospital",
       "source": "referral", "referrer_name": "Dr. Jones"}


def sign_up_for_the_api(page: Page, base_url: str, **profile: Any) -> Callable[..., Any]:
    """Maya's account with the handout's profile, logged in in this page's browser context; gives
    back a JSON API caller that sends the CSRF token: ``call("POST", "/api/v1/…", field=…)``."""
    response = page.request.post(f"{base_url}/api/v1/auth/register",
                                 data={"email": EMAIL, "password": PASSWORD, "name": NAME})
    assert response.status == 201, response.text()
    response = page.request.post(f"{base_url}/api/v1/auth/login",
                                 data={"email": EMAIL, "password": PASSWORD})
    assert response.status == 200, response.text()
    csrf = response.headers["x-csrf-token"]

    def call(method: str, path: str, **body: Any) -> Any:
        response = page.request.fetch(f"{base_url}{path}", method=method, data=body or None,
                                      headers={"X-CSRF-Token": csrf})
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json() if response.status != 204 else None

    call("PATCH", "/api/v1/me", **(PROFILE | profile))
    return call


def follow_through(call: Callable[..., Any]) -> dict[str, Any]:
    """Contacts at several stages, a sent outreach (and the tasks it schedules), a draft with a
    warning, an interview to come, tasks overdue, due today, undated and done, and a template."""
    zone = ZoneInfo(PROFILE["timezone"])
    now = datetime.now(zone)
    kim = call("POST", "/api/v1/contacts", **KIM)
    jon = call("POST", "/api/v1/contacts", first_name="Jon", last_name="Park",
               organization_name="Regions Hospital", email="jon.park@regions.org")
    ana = call("POST", "/api/v1/contacts", first_name="Ana", last_name="Díaz",
               organization_name="Mayo Clinic", stage="scheduled")
    sent = call("POST", "/api/v1/messages", kind="outreach", contact_id=kim["id"], status="sent")
    draft = call("POST", "/api/v1/messages", kind="outreach", contact_id=jon["id"],
                 body="Dear {{ contact.first_name }}, do you have any internships?")
    call("POST", "/api/v1/interviews", contact_id=ana["id"], status="scheduled",
         scheduled_at=(now + timedelta(days=3)).replace(hour=15, minute=0).isoformat())
    call("POST", "/api/v1/tasks", title="Research Mayo Clinic's PA program", contact_id=ana["id"],
         due_at=(now - timedelta(days=1)).replace(hour=9, minute=0).isoformat())
    call("POST", "/api/v1/tasks", title="Print two copies of my resume",
         due_at=now.replace(hour=23, minute=59).isoformat())
    call("POST", "/api/v1/tasks", title="Ask the career center about mock interviews")
    done = call("POST", "/api/v1/tasks", title="Update my LinkedIn headline")
    call("PATCH", f"/api/v1/tasks/{done['id']}", status="done")
    template = call("POST", "/api/v1/templates", kind="outreach", name="My short outreach",
                    subject="A question from a {{ student.major }} student",
                    body="Dear {{ contact.first_name }}, could we talk for 30 minutes?\n\n"
                         "{{ student.signature }}")
    return {"kim": kim, "jon": jon, "ana": ana, "sent": sent, "draft": draft, "template": template}


def open_compose(page: Page, base_url: str) -> None:
    call = sign_up_for_the_api(page, base_url)
    kim = call("POST", "/api/v1/contacts", **KIM)
    page.goto(f"{base_url}/messages/new?contact_id={kim['id']}&kind=outreach")
    expect(page.locator("#draft")).to_contain_text("Ready to send: no warnings.")


def open_compose_with_gaps(page: Page, base_url: str) -> None:
    call = sign_up_for_the_api(page, base_url, major="", career_goal="")
    jon = call("POST", "/api/v1/contacts", first_name="Jon", last_name="Park")
    page.goto(f"{base_url}/messages/new?contact_id={jon['id']}&kind=outreach")
    expect(page.locator("#h-values\\.student\\.major")).to_contain_text("Missing:")
    expect(page.locator("#draft .warning[data-code=no_email]")).to_be_visible()


def open_compose_after_a_template_error(page: Page, base_url: str) -> None:
    open_compose(page, base_url)
    page.get_by_text("Advanced: change the template's words").click()
    page.get_by_label("Message", exact=True).fill("{{ cycler.__init__.__globals__ }}")
    expect(page.locator("#draft").get_by_role("alert")).to_contain_text("is not a field")


def open_message_draft(page: Page, base_url: str) -> None:
    data = follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/messages/{data['draft']['id']}")
    expect(page.locator("#checks .warning[data-code=job_request]")).to_be_visible()


def open_message_sent(page: Page, base_url: str) -> None:
    data = follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/messages/{data['sent']['id']}")
    expect(page.get_by_role("button", name="They replied")).to_be_visible()
    expect(page.locator("section[aria-labelledby=next-heading] .task")).to_have_count(2)


def open_messages(page: Page, base_url: str) -> None:
    follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/messages")
    expect(page.locator("tbody tr")).to_have_count(2)


def open_tasks(page: Page, base_url: str) -> None:
    follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/tasks")
    for heading in ("Overdue", "Today", "Coming up", "Any time", "Done lately"):
        expect(page.get_by_role("heading", level=2, name=re.compile(f"^{heading}"))).to_be_visible()


def open_templates(page: Page, base_url: str) -> None:
    follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/messages/templates")
    expect(page.get_by_role("link", name="My short outreach")).to_be_visible()


def open_own_template(page: Page, base_url: str) -> None:
    data = follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/messages/templates/{data['template']['id']}")
    expect(page.get_by_role("button", name="Save template")).to_be_visible()


def open_default_template(page: Page, base_url: str) -> None:
    sign_up_for_the_api(page, base_url)
    page.goto(f"{base_url}/messages/templates/template-outreach")
    expect(page.get_by_role("link", name="Make my own copy")).to_be_visible()


def open_template_copy(page: Page, base_url: str) -> None:
    sign_up_for_the_api(page, base_url)
    page.goto(f"{base_url}/messages/templates/new?copy=template-outreach")
    expect(page.get_by_label("Name")).to_have_value("My outreach email (the handout's example)")


def open_dashboard(page: Page, base_url: str) -> None:
    follow_through(sign_up_for_the_api(page, base_url))
    page.goto(f"{base_url}/")
    for section in ("due-heading", "coming-tasks-heading", "coming-heading", "pipeline-heading",
                    "month-heading"):
        expect(page.locator(f"section[aria-labelledby={section}]")).to_be_visible()
    expect(page.get_by_role("img", name="Contacts at each stage")).to_be_visible()


# --- imports and the alumni directory ----------------------------------------------------------

# The files students and career-services offices really have (see the README there).
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
STAFF_EMAIL = "dana.whitfield@uni.edu"
STAFF_NAME = "Dana Whitfield"
# A contacts file with one row that cannot go in: no name, and an email that is none, line 3.
ONE_BAD_ROW = ("First Name,Last Name,Email,Company\r\n"
               "Kim,Nguyen,kim.nguyen@regions.org,Regions Hospital\r\n"
               ",,jon-at-acme,\r\n"
               "Ana,Díaz,ana.diaz@mayo.org,Mayo Clinic\r\n").encode()
# The live server's database, for what no page or API does: making someone staff.
DATABASE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _know_the_database(database_url: str) -> None:
    DATABASE["url"] = database_url


def make_staff(database_url: str, email: str = STAFF_EMAIL, role: Role = Role.staff) -> None:
    """Give an existing account the staff role (or ``role``), as `rapport users set-role`
    would."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as db, db.begin():
            user = db.scalar(select(User).where(User.email == email))
            assert user is not None, email
            user.role = role
    finally:
        engine.dispose()


def log_in(page: Page, base_url: str, email: str = EMAIL, name: str = NAME,
           register: bool = True) -> str:
    """Log this page's browser context in (registering the account first); gives back the CSRF
    token for the API."""
    if register:
        response = page.request.post(f"{base_url}/api/v1/auth/register",
                                     data={"email": email, "password": PASSWORD, "name": name})
        assert response.status == 201, response.text()
    response = page.request.post(f"{base_url}/api/v1/auth/login",
                                 data={"email": email, "password": PASSWORD})
    assert response.status == 200, response.text()
    return response.headers["x-csrf-token"]


def upload(page: Page, base_url: str, csrf: str, filename: str, content: bytes,
           **form: str) -> dict[str, Any]:
    """POST /api/v1/imports, as a script would; the form's other fields as keywords."""
    response = page.request.post(
        f"{base_url}/api/v1/imports", headers={"X-CSRF-Token": csrf},
        multipart={"file": {"name": filename, "mimeType": "text/csv", "buffer": content}, **form})
    assert response.status == 201, response.text()
    return dict(response.json())


def fill_the_directory(page: Page, base_url: str, database_url: str) -> dict[str, Any]:
    """A staff member, logged in in this page's context, who has imported the alumni office's
    export into the directory; gives back the import's report."""
    csrf = log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(database_url)
    return upload(page, base_url, csrf, "alumni-export.csv",
                  (SAMPLES / "alumni-export.csv").read_bytes(), target="directory")


def failed_rows(report: Locator) -> Locator:
    """The report's table of the rows that did not go in."""
    return report.locator("table", has=report.page.get_by_role("columnheader", name="Problem"))


def open_imports(page: Page, base_url: str) -> None:
    sign_up(page, base_url)
    page.goto(f"{base_url}/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bring in the contacts you already have")


def open_imports_after_a_check(page: Page, base_url: str) -> None:
    open_imports(page, base_url)
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "contacts.csv", "mimeType": "text/csv", "buffer": ONE_BAD_ROW})
    page.get_by_role("button", name="Check the file first").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_contain_text("Checked")
    expect(failed_rows(report).get_by_role("cell", name="first name")).to_be_visible()
    report.locator("summary").click()  # the columns' table open, for axe to see it too
    expect(report.get_by_role("cell", name="First Name", exact=True)).to_be_visible()


def open_import_report(page: Page, base_url: str) -> None:
    job = upload(page, base_url, log_in(page, base_url), "contacts.csv", ONE_BAD_ROW)
    page.goto(f"{base_url}/imports/{job['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import report")
    expect(failed_rows(page.locator("#report")).get_by_role("cell", name="first name")
           ).to_be_visible()


def open_imports_for_the_directory(page: Page, base_url: str) -> None:
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(DATABASE["url"])
    page.goto(f"{base_url}/imports?target=directory")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import alumni into the directory")


def open_directory_as_a_student(page: Page, base_url: str, query: str = "") -> None:
    fill_the_directory(page, base_url, DATABASE["url"])
    log_in(page, base_url)  # a student, in the same browser context
    page.goto(f"{base_url}/directory{query}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alumni directory")


def open_directory(page: Page, base_url: str) -> None:
    open_directory_as_a_student(page, base_url)
    expect(page.locator("#results .directory-entry").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Add .* to my contacts$")).first).to_be_visible()


def open_directory_without_results(page: Page, base_url: str) -> None:
    open_directory_as_a_student(page, base_url, "?q=xylophonist&industry=Retail")
    expect(page.locator("#results")).to_contain_text("Nobody matches.")


def open_directory_entry(page: Page, base_url: str) -> None:
    open_directory_as_a_student(page, base_url, "?q=Haddad+Medtronic")
    page.locator("#results").get_by_role("link", name="Laura Haddad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laura Haddad")
    expect(page.get_by_role("button", name="Add to my contacts")).to_be_visible()


def open_directory_as_staff(page: Page, base_url: str) -> None:
    fill_the_directory(page, base_url, DATABASE["url"])
    page.goto(f"{base_url}/directory")
    expect(page.get_by_role("link", name="Import alumni")).to_be_visible()
    expect(page.get_by_text("Not accepting requests: hidden from students").first).to_be_visible()


# --- webhooks (staff) ----------------------------------------------------------------------

PUBLIC_RECEIVER = "https://93.184.215.14/rapport-events"  # an address literal: no DNS needed


def open_webhooks(page: Page, base_url: str) -> None:
    """A staff member with a webhook, after a directory import queued its one event."""
    csrf = log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(DATABASE["url"])
    response = page.request.post(f"{base_url}/api/v1/webhooks", headers={"X-CSRF-Token": csrf},
                                 data={"url": PUBLIC_RECEIVER, "description": "Slate: alumni sync",
                                       "events": ["import.completed", "directory.entry.updated"]})
    assert response.status == 201, response.text()
    upload(page, base_url, csrf, "alumni-export.csv",
           (SAMPLES / "alumni-export.csv").read_bytes(), target="directory")
    page.goto(f"{base_url}/webhooks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    expect(page.locator("#delivery-list").get_by_text("Waiting")).to_be_visible()


def open_webhooks_after_adding_one(page: Page, base_url: str) -> None:
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(DATABASE["url"])
    page.goto(f"{base_url}/webhooks")
    page.get_by_label("Address (URL)").fill(PUBLIC_RECEIVER)
    page.get_by_label("import.completed").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#new-webhook-secret")).to_contain_text("whsec_")
    expect(page.locator("#webhook-list")).to_contain_text(PUBLIC_RECEIVER)


def open_webhooks_after_a_refused_address(page: Page, base_url: str) -> None:
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(DATABASE["url"])
    page.goto(f"{base_url}/webhooks")
    page.get_by_label("Address (URL)").fill("https://169.254.169.254/latest")
    page.get_by_label("Description").fill("Metadata")
    page.get_by_label("directory.entry.created").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#e-url")).to_contain_text("link-local")
    expect(page.get_by_label("Address (URL)")).to_be_focused()
    expect(page.get_by_label("Description")).to_have_value("Metadata")
    expect(page.get_by_label("directory.entry.created")).to_be_checked()


# --- student engagement (staff) ----------------------------------------------------------------

def student_engagement(page: Page, base_url: str, database_url: str = "",
                       more_alumni: int = 0) -> None:
    """A directory filled by staff, and a student who adds two alumni, writes to both (one
    replies), meets one and thanks her the same day, and adds ``more_alumni`` others to her
    contacts; then the staff member is logged in again."""
    fill_the_directory(page, base_url, database_url or DATABASE["url"])
    csrf = log_in(page, base_url)

    def call(method: str, path: str, **body: Any) -> Any:
        response = page.request.fetch(f"{base_url}{path}", method=method, data=body or None,
                                      headers={"X-CSRF-Token": csrf})
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json()

    alumni = call("GET", "/api/v1/directory?q=Haddad")["items"][:2]
    for n, alum in enumerate(alumni):
        contact = call("POST", f"/api/v1/directory/{alum['id']}/add-to-contacts")
        sent = call("POST", "/api/v1/messages", kind="outreach", contact_id=contact["id"],
                    status="sent")
        if n == 0:
            call("PATCH", f"/api/v1/messages/{sent['id']}", status="replied")
            call("POST", "/api/v1/interviews", contact_id=contact["id"], status="completed")
            call("POST", "/api/v1/messages", kind="thank_you", contact_id=contact["id"],
                 status="sent")
    others = call("GET", "/api/v1/directory?limit=50")["items"][-more_alumni:] if more_alumni else []
    assert len(others) == more_alumni
    for alum in others:
        call("POST", f"/api/v1/directory/{alum['id']}/add-to-contacts")
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME, register=False)


def open_stats(page: Page, base_url: str) -> None:
    student_engagement(page, base_url)
    page.goto(f"{base_url}/stats")
    expect(page.get_by_role("heading", level=1)).to_have_text("Student engagement")
    expect(page.locator("svg.chart")).to_have_count(5)


def open_stats_without_activity(page: Page, base_url: str) -> None:
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME)
    make_staff(DATABASE["url"])
    page.goto(f"{base_url}/stats")
    expect(page.get_by_text("No student activity in these months yet.")).to_be_visible()


# --- account administration --------------------------------------------------------------------

ADMIN_EMAIL = "ada.admin@uni.edu"


def administered(page: Page, base_url: str) -> None:
    """An administrator, logged in, beside the staff member and two students (one of them
    deactivated)."""
    csrf = log_in(page, base_url, ADMIN_EMAIL, "Ada Admin")
    make_staff(DATABASE["url"], ADMIN_EMAIL, Role.admin)
    for email, name in [(STAFF_EMAIL, STAFF_NAME), (EMAIL, NAME), ("jon@uni.edu", "Jon Park")]:
        other = page.context.browser.new_context()  # type: ignore[union-attr]
        registered = other.request.post(f"{base_url}/api/v1/auth/register", data={
            "email": email, "name": name, "password": PASSWORD})
        assert registered.status == 201, registered.text()
        other.close()
    make_staff(DATABASE["url"])
    users = page.request.get(f"{base_url}/api/v1/admin/users?q=jon").json()["items"]
    response = page.request.post(f"{base_url}/api/v1/admin/users/{users[0]['id']}/deactivate",
                                 headers={"X-CSRF-Token": csrf})
    assert response.status == 200, response.text()


def open_admin_users(page: Page, base_url: str) -> None:
    administered(page, base_url)
    page.goto(f"{base_url}/admin/users")
    expect(page.locator("#results tbody tr")).to_have_count(4)
    expect(page.get_by_label(f"Role of {NAME}")).to_be_visible()


def open_admin_audit(page: Page, base_url: str) -> None:
    administered(page, base_url)
    page.goto(f"{base_url}/admin/audit")
    expect(page.locator("#results tbody tr")).to_have_count(1)


def open_students_as_staff(page: Page, base_url: str) -> None:
    administered(page, base_url)
    log_in(page, base_url, STAFF_EMAIL, STAFF_NAME, register=False)
    page.goto(f"{base_url}/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Students")
    expect(page.locator("#results tbody tr")).to_have_count(1)


PAGES: dict[str, Callable[[Page, str], None]] = {
    "welcome": open_welcome,
    "login": open_login,
    "register": open_register,
    "forgot-password": open_forgot_password,
    "reset-password": open_reset_password,
    "verify-email-with-a-broken-link": open_verify_email_with_a_broken_link,
    "home": open_home,
    "settings": open_settings,
    "settings-after-a-validation-error": open_settings_with_an_error,
    "delete-account": open_delete_account,
    "account-deleted": open_account_deleted,
    "api-keys": open_api_keys,
    "api-keys-after-creating-a-key": open_api_keys_with_a_new_key,
    "question-bank": open_question_bank_with_an_own_question,
    "compose": open_compose,
    "compose-with-gaps-and-warnings": open_compose_with_gaps,
    "compose-after-a-template-error": open_compose_after_a_template_error,
    "message-draft": open_message_draft,
    "message-sent": open_message_sent,
    "messages": open_messages,
    "tasks": open_tasks,
    "templates": open_templates,
    "template-own": open_own_template,
    "template-default": open_default_template,
    "template-copy": open_template_copy,
    "dashboard": open_dashboard,
    "imports": open_imports,
    "imports-after-checking-a-file-with-a-failed-row": open_imports_after_a_check,
    "import-report": open_import_report,
    "imports-into-the-directory-staff": open_imports_for_the_directory,
    "directory": open_directory,
    "directory-search-without-results": open_directory_without_results,
    "directory-entry": open_directory_entry,
    "directory-staff": open_directory_as_staff,
    "webhooks-staff": open_webhooks,
    "webhooks-after-adding-one": open_webhooks_after_adding_one,
    "webhooks-after-a-refused-address": open_webhooks_after_a_refused_address,
    "stats": open_stats,
    "stats-without-activity": open_stats_without_activity,
    "admin-users": open_admin_users,
    "admin-audit": open_admin_audit,
    "students-staff": open_students_as_staff,
}
# A validation error is a 422 on purpose; Chromium and htmx both log that request as an error.
EXPECTED_CONSOLE_ERRORS = {
    "settings-after-a-validation-error": re.compile(r"status of 422 |Error Code 422 from /api/v1/me"),
    "webhooks-after-a-refused-address": re.compile(
        r"status of 422 |Error Code 422 from /api/v1/webhooks"),
    "compose-after-a-template-error": re.compile(
        r"status of 422 |Error Code 422 from /api/v1/messages/preview"),
}


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {' '.join(node['target'])}  {node['html']}"
                     for node in violation["nodes"])
    return "\n".join(lines)


@pytest.mark.parametrize("open_page", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_serious_accessibility_violations(
    page: Page, base_url: str, open_page: Callable[[Page, str], None]
) -> None:
    # Injected through the DevTools protocol, axe-core runs under the app's real CSP.
    open_page(page, base_url)
    violations = Axe().run(page, options=WCAG_AA).response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, "axe found:\n" + describe(blocking)


@pytest.mark.parametrize("state", PAGES)
def test_page_loads_without_console_errors_or_csp_violations(
    page: Page, base_url: str, state: str
) -> None:
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    PAGES[state](page, base_url)

    assert page.evaluate("window.__cspViolations") == []
    expected = EXPECTED_CONSOLE_ERRORS.get(state)
    assert [e for e in errors if not (expected and expected.search(e))] == []


@pytest.mark.parametrize("state", PAGES)
def test_page_fits_a_phone(page: Page, base_url: str, state: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    PAGES[state](page, base_url)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 391, f"{width}px wide on a 390px phone: {page.evaluate(WIDEST)}"


# What sticks out past a phone's width, for the failure message.
WIDEST = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`
                          + ` ${Math.round(e.getBoundingClientRect().width)}px`)"""


def assert_accessible_on_a_phone_too(page: Page, base_url: str, pages: dict[str, str]) -> None:
    """No serious or critical axe violation on any of ``pages`` (name: path), and none of them
    scrolls sideways on a 390px phone."""
    found = {}
    for name, path in pages.items():
        page.goto(f"{base_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        violations = Axe().run(page, options=WCAG_AA).response["violations"]
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            found[name] = describe(blocking)
    assert not found, "axe found:\n" + "\n".join(f"{n} ({pages[n]}):\n{d}" for n, d in found.items())

    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for path in pages.values():
        page.goto(f"{base_url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 391:
            too_wide[path] = (width, page.evaluate(WIDEST))
    assert too_wide == {}, f"wider than a 390px phone: {too_wide}"
