"""Messages and follow-through in a real browser: the outreach written from a contact's page and
marked sent, the follow-up it schedules in business days, the draft that follows every edit,
template text that cannot reach anything, the tasks page, and a saved draft edited later."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.e2e import test_contacts
from tests.e2e.test_contacts import Api
from tests.e2e.test_interviews import call

# The fixture: Maya's account, logged in, with the CSRF token for the JSON API.
api = test_contacts.api

ZONE = "America/Chicago"
# The handout's student.
PROFILE = {"school": "Concordia University, St. Paul", "major": "biology",
           "career_goal": "physician assistant", "timezone": ZONE}
KIM = {"first_name": "Kim", "last_name": "Nguyen", "title": "Physician Assistant",
       "email": "kim.nguyen@regions.org", "organization_name": "Regions Hospital",
       "source": "referral", "referrer_name": "Dr. Jones"}
FOLLOW_UP = "Follow up with Kim Nguyen if they have not replied"
MESSAGE_URL = r"/messages/(?!new\b)[0-9A-Za-z]+$"


# --- what the test knows on its own: the student's day, business days, the shown format ----


def today() -> date:
    """Today in the student's time zone."""
    return datetime.now(ZoneInfo(ZONE)).date()


def business_days_after(day: date, days: int) -> date:
    """``days`` business days after ``day``: Saturdays and Sundays do not count."""
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5:  # Monday to Friday
            days -= 1
    return day


def shown(day: date, at: str = "09:00") -> str:
    """A moment as a task shows it: "Fri Dec 4, 09:00"."""
    return f"{day:%a %b} {day.day}, {at}"


def day_heading(day: date) -> str:
    """A day of the dashboard's week ahead: "Monday, November 30"."""
    return f"{day:%A, %B} {day.day}"


# --- what would tell a user something broke ------------------------------------------------


@dataclass
class Watch:
    """Uncaught script errors, console errors and server errors seen by a page."""

    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def response(self, response: Response) -> None:
        if response.status >= 500:
            self.errors.append(f"{response.status} from {response.request.method} {response.url}")

    def unexpected(self, allowed: re.Pattern[str] | None = None) -> list[str]:
        return [e for e in self.errors if not (allowed and allowed.search(e))]


def watch(page: Page) -> Watch:
    seen = Watch()
    page.on("console", seen.console)
    page.on("response", seen.response)
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    return seen


def student(api: Api, **profile: Any) -> Api:
    call(api, "PATCH", "/api/v1/me", 200, **(PROFILE | profile))
    return api


def compose(api: Api, contact: dict[str, Any], kind: str = "outreach") -> Page:
    page = api.page
    page.goto(f"{api.base_url}/messages/new?contact_id={contact['id']}&kind={kind}")
    expect(page.locator("#draft .draft-body")).to_be_visible()
    # A marker that a reload would wipe out: the draft must change without one.
    page.evaluate("window.__sameDocument = true")
    return page


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


# --- 1. the acceptance story ---------------------------------------------------------------


def test_outreach_from_the_contact_page_schedules_the_follow_up(api: Api) -> None:
    page, base_url = api.page, api.base_url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    seen = watch(page)

    # The profile, through the settings page.
    page.goto(f"{base_url}/settings")
    profile = page.locator("#profile-form")
    profile.get_by_label("School").fill(PROFILE["school"])
    profile.get_by_label("Major").fill(PROFILE["major"])
    profile.get_by_label("Career goal").fill(PROFILE["career_goal"])
    profile.get_by_label("Time zone").fill(ZONE)
    profile.get_by_role("button", name="Save profile").click()
    expect(profile.get_by_role("status")).to_have_text(re.compile("Saved"))
    saved = api.get("/api/v1/me")
    assert {k: saved[k] for k in PROFILE} == PROFILE

    kim = api.create_contact(**KIM)
    api.create_contact(first_name="Jon", last_name="Park", organization_name="Regions Hospital")

    # From her page: the outreach is what comes next, and Write a message opens it.
    page.goto(f"{base_url}/contacts/{kim['id']}")
    card = page.locator("#next-actions")
    expect(card.get_by_label("Kind of message")).to_have_value("outreach")
    card.get_by_role("button", name="Write a message").click()
    expect(page).to_have_url(f"{base_url}/messages/new?contact_id={kim['id']}&kind=outreach")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outreach email to Kim Nguyen")

    fields = page.locator("section[aria-labelledby=fields-heading]")
    expect(fields.get_by_label("Your school")).to_have_value(PROFILE["school"])
    expect(fields.get_by_label("Your major")).to_have_value("biology")
    expect(fields.get_by_label("Your career goal")).to_have_value("physician assistant")

    draft = page.locator("#draft")
    expect(draft.locator(".draft-to")).to_have_text("To kim.nguyen@regions.org")
    expect(draft.locator(".draft-subject")).to_have_text(
        "Subject Informational interview request from a Concordia University, St. Paul student")
    text = draft.locator(".draft-body")
    expect(text).to_contain_text("Dear Kim Nguyen,")
    expect(text).to_contain_text("I am a student at Concordia University, St. Paul majoring in "
                                 "biology, in hopes of becoming a physician assistant.")
    expect(text).to_contain_text("I was given your contact information by Dr. Jones.")
    expect(text).to_contain_text("a brief, 30-minute meeting in the next month")
    expect(text).to_contain_text("Maya Okafor")  # signed with her name: no signature set
    expect(text).not_to_contain_text("[")
    expect(draft.locator(".warning")).to_have_count(0)
    expect(draft.get_by_text("Ready to send: no warnings.")).to_be_visible()
    expect(draft.get_by_role("link", name="Open in mail app")).to_have_attribute(
        "href", re.compile(r"^mailto:kim\.nguyen@regions\.org\?subject=Informational%20interview"
                           r"%20request%20from%20a%20Concordia%20University%2C%20St\.%20Paul"
                           r"%20student&body=Dear%20Kim%20Nguyen%2C%0D%0A"))

    copy = draft.get_by_role("button", name="Copy text")
    copy.click()
    expect(draft.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Dear Kim Nguyen,") and "Dr. Jones" in copied, copied

    # Sent: the message page is the record of it.
    before = today()
    page.get_by_role("button", name="Mark as sent").click()
    expect(page).to_have_url(re.compile(base_url + MESSAGE_URL))
    after = today()
    message_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Outreach email to Kim Nguyen")
    expect(page.locator(".title-row .stage")).to_have_text("Sent")
    expect(page.get_by_role("heading", name="What you sent")).to_be_visible()
    expect(page.locator("#draft-text")).to_contain_text("I was given your contact information "
                                                        "by Dr. Jones.")
    expect(page.get_by_role("button", name="They replied")).to_be_visible()

    # The day it went out, in the student's zone, is today there.
    sent_at = datetime.fromisoformat(api.get(f"/api/v1/messages/{message_id}")["sent_at"])
    sent_on = sent_at.astimezone(ZoneInfo(ZONE)).date()
    assert sent_on in {before, after}, (sent_at, before, after)
    follow_up_on = business_days_after(sent_on, 7)
    second_on = business_days_after(sent_on, 3)

    coming = page.locator("section[aria-labelledby=next-heading]")
    expect(coming.get_by_role("heading")).to_have_text("Coming up with Kim")
    expect(coming.locator(".task", has_text=FOLLOW_UP).locator(".due")).to_have_text(
        f"due {shown(follow_up_on)}")

    # Kim is now contacted.
    page.locator(".breadcrumb").get_by_role("link", name="Kim Nguyen").click()
    expect(page.locator(".title-row .stage")).to_have_text("Contacted")
    written = page.locator("section[aria-labelledby=messages-heading] li")
    expect(written).to_have_text([re.compile(r"^Outreach email Sent ")])
    timeline = page.locator(".timeline > li")
    expect(timeline.filter(has_text="Moved from identified to contacted (outreach sent).")
           ).to_have_count(1)
    expect(timeline.filter(has_text="Outreach sent: “Informational interview request from a "
                                    "Concordia University, St. Paul student”")).to_have_count(1)

    # The dashboard: what comes next, by day, at nine in the student's morning.
    page.get_by_role("link", name="Rapport").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya")
    expect(page.locator("section[aria-labelledby=due-heading]")).to_have_count(0)  # nothing due yet
    coming_up = page.locator("section[aria-labelledby=coming-tasks-heading]")
    expect(coming_up.get_by_role("heading", level=2)).to_have_text("Coming up")
    days = coming_up.locator("li.week-day")
    expect(days.get_by_role("heading", level=3)).to_have_text([day_heading(second_on),
                                                                 day_heading(follow_up_on)])
    expect(days.nth(0).locator(".task-title")).to_have_text(
        ["Reach out to a second person at Regions Hospital: perhaps Jon Park"])
    expect(days.nth(0).locator(".due")).to_have_text([f"due {shown(second_on)}"])
    expect(days.nth(1).locator(".task-title")).to_have_text([FOLLOW_UP])
    expect(days.nth(1).locator(".due")).to_have_text([f"due {shown(follow_up_on)}"])
    expect(page.locator("#pipeline-desc")).to_contain_text("Identified: 1; Contacted: 1;")
    expect(page.locator("section[aria-labelledby=month-heading] .figures")).to_contain_text(
        "1 sent 0 replied")

    # The tasks page lists it too, with a way to write the follow-up.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    expect(page).to_have_url(f"{base_url}/tasks")
    upcoming = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Coming up")))
    follow_up = upcoming.locator(".task", has_text=FOLLOW_UP)
    expect(follow_up.locator(".task-title")).to_have_text(FOLLOW_UP)
    expect(follow_up.locator(".due")).to_have_text(f"due {shown(follow_up_on)}")
    expect(follow_up.get_by_role("link", name="Kim Nguyen")).to_have_attribute(
        "href", f"/contacts/{kim['id']}")
    expect(follow_up.get_by_role("link", name="Write it")).to_have_attribute(
        "href", f"/messages/new?contact_id={kim['id']}&kind=follow_up")
    assert seen.unexpected() == []


# --- 2. the draft follows every edit -------------------------------------------------------


def test_the_draft_follows_the_fields_and_the_template_as_they_are_typed(api: Api) -> None:
    kim = student(api).create_contact(**KIM)
    page = compose(api, kim)
    seen = watch(page)
    draft = page.locator("#draft")
    text = draft.locator(".draft-body")
    mail_link = draft.get_by_role("link", name="Open in mail app")
    expect(draft.get_by_text("Ready to send: no warnings.")).to_be_visible()

    # No major: the draft shows the gap and says how to fill it.
    major = page.get_by_label("Your major")
    major.fill("")
    expect(text).to_contain_text("majoring in [your major], in hopes of")
    warning = draft.locator(".warning[data-code=placeholder]")
    expect(warning).to_have_text("⚠ Warning: [your major] is still to be filled in. Add it to your "
                                 "profile in Settings, or type it in the fields beside the draft.")
    expect(draft.get_by_text("Ready to send")).to_have_count(0)
    expect(mail_link).to_have_attribute("href", re.compile(r"majoring%20in%20%5Byour%20major%5D"))

    # A new value, typed: the draft takes it and the warning goes.
    major.press_sequentially("chemistry")
    expect(text).to_contain_text("majoring in chemistry, in hopes of")
    expect(draft.locator(".warning")).to_have_count(0)
    expect(draft.get_by_text("Ready to send: no warnings.")).to_be_visible()
    expect(mail_link).to_have_attribute("href", re.compile(r"majoring%20in%20chemistry%2C"))
    # Only for this message: the profile keeps its major.
    assert api.get("/api/v1/me")["major"] == "biology"

    # The template's words, under Advanced (the default has conditions): asking for an
    # internship is not an informational interview.
    page.get_by_text("Advanced: change the template's words").click()
    body = page.get_by_label("Message", exact=True)
    body.press("Control+End")
    body.press_sequentially("\n\nP.S. Is your department offering internships next summer?")
    expect(text).to_contain_text("P.S. Is your department offering internships next summer?")
    job = draft.locator(".warning[data-code=job_request]")
    expect(job).to_contain_text("“internships”: an informational interview is not a job request. "
                                "Ask to learn about their work instead.")
    expect(draft.locator(".warning")).to_have_count(1)
    expect(mail_link).to_have_attribute("href", re.compile(r"internships%20next%20summer%3F$"))

    # The subject too.
    subject = page.get_by_label(re.compile(r"^Subject"))
    subject.fill("A question from a {{ student.major }} student")
    expect(draft.locator(".draft-subject")).to_have_text(
        "Subject A question from a chemistry student")

    # Taking the request out again clears the warning.
    body.fill(body.input_value().replace("internships", "rotations"))
    expect(text).to_contain_text("offering rotations next summer?")
    expect(job).to_have_count(0)
    expect(draft.get_by_text("Ready to send: no warnings.")).to_be_visible()
    assert_same_document(page)
    assert seen.unexpected() == []


# --- 3. template text that tries to reach further --------------------------------------------

UNSAFE = [
    ("{{ cycler.__init__.__globals__ }}", "“__globals__” is not a field: names starting with “_” "
                                          "are never available."),
    ("{{ student.__class__.__mro__ }}", "“__mro__” is not a field"),
    ("{{ config.items() }}", "Message templates cannot use function calls"),
    ("{% for i in range(99999999) %}spam{% endfor %}", "Message templates cannot use loops"),
    ("Dear {{ contact.first_name", "This template cannot be used: Line 1:"),
]
# What a template reaching Python's objects would print.
LEAKED = re.compile(r"<(class|function|built-in|bound method|module)\b|object at 0x|__builtins__")
# The draft's refusal is a 422 on purpose; Chromium logs that request as an error.
REFUSED = re.compile(r"status of 422 |Error Code 422 from /api/v1/messages")


def test_unsafe_template_text_is_refused_in_the_draft_and_fixing_it_restores_it(api: Api) -> None:
    kim = student(api).create_contact(**KIM)
    page = compose(api, kim)
    seen = watch(page)
    draft = page.locator("#draft")
    alert = draft.get_by_role("alert")
    page.get_by_text("Advanced: change the template's words").click()
    body = page.get_by_label("Message", exact=True)

    for source, refusal in UNSAFE:
        body.fill(source)
        expect(alert).to_contain_text(refusal)
        expect(alert).to_contain_text("This template cannot be used")
        expect(draft.locator(".draft-body")).to_have_count(0)
        expect(draft.get_by_role("link", name="Open in mail app")).to_have_count(0)
        expect(draft).not_to_contain_text(LEAKED)

    # Marking it sent refuses as well, in the same place, and nothing is recorded.
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/api/v1/messages")) as refused:
        page.get_by_role("button", name="Mark as sent").click()
    assert refused.value.status == 422
    expect(alert).to_contain_text("This template cannot be used: Line 1:")
    expect(page).to_have_url(re.compile(r"/messages/new\?"))
    assert api.get("/api/v1/messages")["items"] == []

    # Fixed, the draft comes back, and it can be saved.
    body.fill("Dear {{ contact.first_name }}, could we talk about your work as "
              "{{ contact.title|article }}?")
    expect(alert).to_have_count(0)
    expect(draft.locator(".draft-body")).to_have_text(
        "Dear Kim, could we talk about your work as a Physician Assistant?")
    expect(draft.get_by_text("Ready to send: no warnings.")).to_be_visible()
    assert_same_document(page)
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(api.base_url + MESSAGE_URL))
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Dear Kim, could we talk about your work as a Physician Assistant?")
    assert seen.unexpected(REFUSED) == []
    assert any(REFUSED.search(e) for e in seen.errors), "the refusals were seen"


# --- 4. the tasks page -----------------------------------------------------------------------


def test_tasks_are_added_by_hand_done_and_snoozed(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    kim = api.create_contact(**KIM)
    seen = watch(page)
    page.goto(f"{base_url}/tasks")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tasks")
    expect(page.get_by_text("Nothing to do.")).to_be_visible()

    # Two tasks: one dated, with Kim; one for any time.
    research = "Research Regions Hospital's PA program"
    when = business_days_after(today(), 2)
    form = page.locator("#task-form")
    form.get_by_label("What to do").fill(research)
    form.get_by_label("When").fill(f"{when.isoformat()}T14:30")
    form.get_by_label("With").select_option(label="Kim Nguyen")
    form.get_by_role("button", name="Add task").click()
    upcoming = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Coming up")))
    first = upcoming.locator(".task", has_text=research)
    expect(first.locator(".due")).to_have_text(f"due {shown(when, '14:30')}")
    expect(first.get_by_role("link", name="Kim Nguyen")).to_have_attribute(
        "href", f"/contacts/{kim['id']}")
    expect(page.locator("#task-form").get_by_label("What to do")).to_have_value("")

    call_center = "Call the career center about mock interviews"
    page.locator("#task-form").get_by_label("What to do").fill(call_center)
    page.locator("#task-form").get_by_role("button", name="Add task").click()
    any_time = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Any time")))
    second = any_time.locator(".task", has_text=call_center)
    expect(second).to_be_visible()
    expect(second.locator(".due")).to_have_count(0)

    # Done.
    first.get_by_role("button", name=re.compile(r"^Done\b")).click()
    expect(first.locator(".status-ok")).to_have_text("✓ Done")
    expect(first.get_by_role("button")).to_have_count(0)

    # Snoozed: back on the next business day, in the morning.
    before = today()
    second.get_by_role("button", name=f"Snooze until the next business day: {call_center}",
                       exact=True).click()
    expect(second.locator(".due")).to_contain_text("snoozed until")
    after = today()
    snoozed = {f"snoozed until {shown(business_days_after(day, 1))}" for day in (before, after)}
    assert second.locator(".due").inner_text() in snoozed
    expect(second.get_by_role("button", name=re.compile("^Done"))).to_be_visible()

    # As the page shows them next time.
    page.reload()
    done = page.locator("section[aria-labelledby=done-heading]")
    expect(done.locator(".task")).to_have_count(1)
    expect(done.locator(".task-title")).to_have_text(research)
    expect(upcoming.locator(".task-title")).to_have_text([call_center])
    expect(upcoming.locator(".due")).to_have_text([re.compile("^snoozed until ")])
    assert upcoming.locator(".due").inner_text() in snoozed
    expect(any_time).to_have_count(0)
    states = {t["title"]: t["status"] for t in api.get("/api/v1/tasks")["items"]}
    assert states == {research: "done", call_center: "snoozed"}
    assert seen.unexpected() == []


# --- 5. a saved draft, edited later ------------------------------------------------------------


def parse_eml(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_saved_draft_is_edited_checked_again_and_kept(api: Api) -> None:
    kim = student(api).create_contact(**KIM)
    page = compose(api, kim)
    seen = watch(page)
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(api.base_url + MESSAGE_URL))
    message_id = page.url.rsplit("/", 1)[1]
    expect(page.locator(".title-row .stage")).to_have_text("Draft")
    expect(page.get_by_role("heading", name="Your draft")).to_be_visible()
    checks = page.locator("#checks")
    expect(checks.get_by_text("Ready to send: no warnings.")).to_be_visible()
    eml = checks.get_by_role("link", name="Download .eml")
    expect(eml).to_have_attribute("href", f"/api/v1/messages/{message_id}/message.eml")

    # An edit: checked again as it is typed, and saved.
    body = page.get_by_label("Message", exact=True)
    body.press("Control+End")
    body.press_sequentially("\nP.S. Are there any internships?")
    expect(checks.locator(".warning[data-code=job_request]")).to_contain_text(
        "“internships”: an informational interview is not a job request.")
    expect(checks.get_by_text("Ready to send")).to_have_count(0)
    # The mail link carries the whole edit: the last save has come back.
    expect(checks.get_by_role("link", name="Open in mail app")).to_have_attribute(
        "href", re.compile(r"%0D%0AP\.S\.%20Are%20there%20any%20internships%3F$"))
    expect(eml).to_be_visible()

    with page.expect_download() as download:
        eml.click()
    assert download.value.suggested_filename == f"message-{message_id}.eml"
    email = parse_eml(Path(download.value.path()))
    assert email["To"] == "Kim Nguyen <kim.nguyen@regions.org>"
    assert email["Subject"] == ("Informational interview request from a Concordia University, "
                                "St. Paul student")
    content = email.get_content()
    assert content.rstrip().endswith("P.S. Are there any internships?"), content

    # Kept: the page shows the edit, and its warning, after a reload.
    page.reload()
    expect(body).to_have_value(re.compile(r"Dr\. Jones\..*\nP\.S\. Are there any internships\?$",
                                          re.S))
    expect(checks.locator(".warning[data-code=job_request]")).to_be_visible()
    assert api.get(f"/api/v1/messages/{message_id}")["body"].endswith(
        "\nP.S. Are there any internships?")
    assert seen.unexpected() == []


def test_editing_a_saved_draft_says_saved(api: Api) -> None:
    kim = student(api).create_contact(**KIM)
    message = call(api, "POST", "/api/v1/messages", 201, kind="outreach", contact_id=kim["id"])
    page = api.page
    page.goto(f"{api.base_url}/messages/{message['id']}")
    body = page.get_by_label("Message", exact=True)
    body.press("Control+End")
    with page.expect_response(lambda r: r.request.method == "PATCH") as saved:
        body.press_sequentially(" Thank you.")
    assert saved.value.ok
    expect(page.locator("#saved-message")).to_have_text("Saved")
