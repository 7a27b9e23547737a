"""Interviews in a real browser: plan one from a contact's page, prepare it, hold the
conversation with answers saved as typed, and see what follows (the thank-you task, the
referral, the contact's stage); the .ics file, a failed save, the printed prep sheet, hostile
text, and accessibility of every interview page."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from playwright.sync_api import Dialog, Route, expect

from app.interviews.service import REFERRAL_QUESTION
from tests.e2e import test_contacts
from tests.e2e.conftest import EMAIL, NAME
from tests.e2e.test_accessibility import RECORD_CSP_VIOLATIONS, assert_accessible_on_a_phone_too
from tests.e2e.test_contacts import Api, assert_nothing_injected

ANSWER_SAVES = "**/api/v1/interviews/*/questions/*"
# The fixture: Maya's account, logged in, with the CSRF token for the JSON API.
api = test_contacts.api
HOSTILE = ['"><img src=x onerror=alert(1)>', "</textarea><script>alert(2)</script>"]


# --- small helpers over the JSON API -------------------------------------------------------


def call(api: Api, method: str, path: str, expected: int, /, **body: Any) -> Any:
    """A JSON API call that must answer with the expected status; the body's fields as keywords."""
    response = api.page.request.fetch(f"{api.base_url}{path}", method=method,
                                      data=body or None, headers={"X-CSRF-Token": api.csrf})
    assert response.status == expected, f"{method} {path}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def maya(api: Api, **fields: Any) -> dict[str, Any]:
    return api.create_contact(first_name="Maya", last_name="Okafor", title="Physician Assistant",
                              organization_name="Regions Hospital", **fields)


def interview_with_questions(api: Api, contact: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An interview for the contact, with the suggested questions on its list."""
    interview = call(api, "POST", "/api/v1/interviews", 201, contact_id=contact["id"], **fields)
    call(api, "POST", f"/api/v1/interviews/{interview['id']}/questions/suggest", 200)
    return dict(interview)


def items(api: Api, interview_id: str) -> list[dict[str, Any]]:
    return list(call(api, "GET", f"/api/v1/interviews/{interview_id}/questions", 200)["items"])


def parse(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- 1. the story ----------------------------------------------------------------------------


def test_the_interview_story(api: Api) -> None:
    page, base_url = api.page, api.base_url
    contact = maya(api)

    # Plan it from her page.
    page.goto(f"{base_url}/contacts/{contact['id']}")
    page.locator("#next-actions").get_by_role("button", name="Plan an interview").click()
    expect(page).to_have_url(re.compile(rf"{base_url}/interviews/[0-9a-z]+$"))
    interview_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", level=1)).to_have_text("Prepare: Maya Okafor")
    research = page.locator("section[aria-labelledby=research-heading]")
    expect(research.get_by_role("heading", level=3)).to_have_text(["Maya Okafor",
                                                                   "Regions Hospital"])

    # The meeting: earlier today (it is written up afterwards), 30 minutes, scheduled.
    when = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    meeting = page.locator("#meeting-form")
    meeting.get_by_label("When").fill(when.strftime("%Y-%m-%dT%H:%M"))
    meeting.get_by_label("Minutes").fill("30")
    meeting.get_by_label("Status").select_option(label="Scheduled")
    meeting.get_by_role("button", name="Save").click()
    expect(meeting.get_by_role("status")).to_have_text(re.compile("Saved"))
    expect(meeting.get_by_label("When")).to_have_value(when.strftime("%Y-%m-%dT%H:%M"))
    expect(meeting.get_by_label("Status")).to_have_value("scheduled")

    # Suggested questions: 30 minutes / 3 = 10, ending with the referral question.
    questions = page.locator("#question-list .question-text")
    expect(questions).to_have_count(0)
    page.get_by_role("button", name="Suggest questions for 30 minutes").click()
    expect(questions).to_have_count(10)
    expect(questions.last).to_have_text(REFERRAL_QUESTION)
    first, second = questions.nth(0).inner_text(), questions.nth(1).inner_text()
    page.get_by_role("button", name=f"Move up: {second}", exact=True).click()
    expect(questions.nth(0)).to_have_text(second)
    expect(questions.nth(1)).to_have_text(first)
    expect(questions).to_have_count(10)
    page.reload()
    expect(questions.nth(0)).to_have_text(second)
    expect(page.get_by_role("link", name="Add to calendar (.ics)")).to_be_visible()

    # The conversation: answers saved as typed, kept after a reload.
    page.get_by_role("link", name="Start the conversation").click()
    expect(page).to_have_url(f"{base_url}/interviews/{interview_id}/conversation")
    cards = page.locator(".answer-card")
    expect(cards).to_have_count(10)
    answers = ["Mostly rounds in the morning, then clinic.", "Start as a scribe or a CNA."]
    for index, answer in enumerate(answers):
        card = cards.nth(index)
        card.get_by_role("textbox").press_sequentially(answer)
        expect(card.locator(".save-status")).to_have_text("Saved")
    expect(cards.nth(0).locator("label")).to_have_text(second)
    page.reload()
    for index, answer in enumerate(answers):
        expect(cards.nth(index).get_by_role("textbox")).to_have_value(answer)
    expect(cards.nth(0).get_by_label(second)).to_have_value(answers[0])

    notes = page.get_by_label("General notes")
    notes.press_sequentially("Warm and direct. Loves the night shift.")
    expect(page.locator("#saved-notes")).to_have_text("Saved")

    next_steps = page.locator("#next-steps")
    next_steps.get_by_label("Business card collected").check()
    expect(next_steps.get_by_label("Business card collected")).to_be_checked()

    referral = page.locator("#referral-form")
    referral.get_by_label("First name").fill("Kim")
    referral.get_by_label("Last name").fill("Nguyen")
    referral.get_by_label("Title").fill("Nurse Practitioner")
    referral.get_by_label("Organization").fill("Mayo Clinic")
    referral.get_by_role("button", name="Add this person").click()
    expect(referral.get_by_role("status")).to_have_text(re.compile(r"Added Kim Nguyen"))
    expect(referral.get_by_label("First name")).to_have_value("")

    page.get_by_role("button", name="Mark the interview held").click()
    done = page.locator("section[aria-labelledby=done-heading]")
    expect(done).to_contain_text("Held")
    expect(page.get_by_role("button", name="Mark the interview held")).to_have_count(0)
    task = done.locator(".task")
    expect(task.locator(".task-title")).to_have_text("Send a thank-you note to Maya Okafor")
    expect(task.locator(".due")).to_contain_text("due ")
    # What was typed before is all still there after the reload that followed.
    expect(notes).to_have_value("Warm and direct. Loves the night shift.")
    expect(next_steps.get_by_label("Business card collected")).to_be_checked()

    # The thank-you note is due a day after the meeting ends.
    tasks = api.get("/api/v1/tasks")["items"]
    thank_you = [t for t in tasks if t["interview_id"] == interview_id]
    assert [t["title"] for t in thank_you] == ["Send a thank-you note to Maya Okafor"], tasks
    assert parse(thank_you[0]["due_at"]) == when + timedelta(minutes=30, hours=24), thank_you

    # Kim came from Maya.
    referral.get_by_role("link", name="Kim Nguyen").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kim Nguyen")
    expect(page.locator(".lede")).to_have_text("Nurse Practitioner at Mayo Clinic")
    expect(page.locator("ol.chain > li")).to_have_text(["Maya Okafor", "Kim Nguyen"])
    expect(page.locator("#section-progress")).to_contain_text(
        "How you found them Referral", use_inner_text=True)

    page.locator("ol.chain").get_by_role("link", name="Maya Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Okafor")
    expect(page.locator(".title-row .stage")).to_have_text("Interviewed")
    timeline = page.locator("section[aria-labelledby=timeline-heading] .timeline > li")
    expect(timeline.filter(has_text="Interview held on")).to_have_count(1)
    expect(page.locator("section[aria-labelledby=interviews-heading] .stage")).to_have_text("Held")


# --- 2. the calendar file ----------------------------------------------------------------


def test_ics_download_parses(api: Api) -> None:
    page, base_url = api.page, api.base_url
    contact = maya(api)
    interview = interview_with_questions(api, contact, scheduled_at="2026-12-02T15:00:00Z",
                                         status="scheduled")
    page.goto(f"{base_url}/interviews/{interview['id']}")
    link = page.get_by_role("link", name="Add to calendar (.ics)")
    expect(link).to_be_visible()
    response = page.request.get(f"{base_url}{link.get_attribute('href')}")
    assert response.status == 200, response.text()
    assert response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]

    events = Calendar.from_ical(response.body()).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
    assert "Maya Okafor" in str(event["summary"])
    assert str(event["organizer"]).lower() == f"mailto:{EMAIL}"
    assert str(event["organizer"].params["cn"]) == NAME
    description = str(event["description"])
    listed = items(api, interview["id"])
    assert len(listed) == 10
    for item in listed:
        assert f"{item['position']}. {item['text']}" in description, description


# --- 3. a failed save --------------------------------------------------------------------


@pytest.mark.console_errors(r"status of 500|Response Status Error Code 500")
def test_a_failed_save_keeps_the_text_and_says_so(api: Api) -> None:
    page, base_url = api.page, api.base_url
    interview = interview_with_questions(api, maya(api))
    page.goto(f"{base_url}/interviews/{interview['id']}/conversation")
    card = page.locator(".answer-card").first
    answer, status = card.get_by_role("textbox"), card.locator(".save-status")

    def fail(route: Route) -> None:
        route.fulfill(status=500, content_type="application/json",
                      body='{"detail": "Server down"}')

    page.route(ANSWER_SAVES, fail)
    answer.press_sequentially("Twelve-hour shifts")
    expect(status).to_contain_text("Not saved")
    expect(status).to_have_class(re.compile("save-failed"))
    expect(answer).to_have_value("Twelve-hour shifts")
    assert items(api, interview["id"])[0]["answer"] == ""

    page.unroute(ANSWER_SAVES, fail)
    answer.press_sequentially(".")
    expect(status).to_have_text("Saved")
    page.reload()
    expect(answer).to_have_value("Twelve-hour shifts.")


# --- 4. the printed prep sheet -----------------------------------------------------------


def test_prep_sheet_prints_on_one_page(api: Api) -> None:
    page, base_url = api.page, api.base_url
    contact = maya(api, notes="PA in the emergency department for six years.\n"
                              "Went to the same college; studied biology.\n"
                              "Precepts PA students on Thursdays.")
    call(api, "PATCH", f"/api/v1/organizations/{contact['organization_id']}", 200,
         research_notes="Level I trauma center in Saint Paul.\n"
                        "About 450 beds; part of HealthPartners.\n"
                        "Hiring PAs in emergency medicine and surgery.")
    interview = interview_with_questions(api, contact, scheduled_at="2026-12-02T15:00:00Z",
                                         status="scheduled", location="Regions Hospital, 2nd floor")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base_url}/interviews/{interview['id']}")
    expect(page.locator("#question-list .question-text")).to_have_count(10)

    page.emulate_media(media="print")
    for hidden in (".site-header", "#meeting-form", ".prep-actions", ".question-tools",
                   ".item-actions", "nav.tabs", ".breadcrumb"):
        expect(page.locator(hidden).first).to_be_hidden()
    no_print = page.locator(".no-print")
    for index in range(no_print.count()):
        expect(no_print.nth(index)).to_be_hidden()
    for button in page.locator("button, select, input[type=text]").all():
        expect(button).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    questions = page.locator("#question-list .question-text")
    for index in range(10):
        expect(questions.nth(index)).to_be_visible()
    research = page.locator("section[aria-labelledby=research-heading]")
    expect(research).to_contain_text("Precepts PA students on Thursdays.")
    expect(research).to_contain_text("Hiring PAs in emergency medicine and surgery.")
    expect(research.get_by_text("Level I trauma center", exact=False)).to_be_visible()

    pdf = page.pdf(format="Letter")
    printed_pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert printed_pages == 1, f"the prep sheet prints on {printed_pages} Letter pages"


# --- 5. hostile text ---------------------------------------------------------------------


def test_hostile_answers_render_as_text(api: Api) -> None:
    page, base_url = api.page, api.base_url
    interview = interview_with_questions(api, maya(api))
    interview_id = interview["id"]
    path = f"/api/v1/interviews/{interview_id}"
    for text in HOSTILE:
        call(api, "POST", f"{path}/questions", 201, text=text)
    listed = items(api, interview_id)
    # The student's own questions, before the closing "one or two other people" question.
    first, own = listed[0], [i for i in listed if i["text"] in HOSTILE]
    call(api, "PATCH", f"{path}/questions/{first['id']}", 200, answer=HOSTILE[0])
    for item, text in zip(own, HOSTILE, strict=True):
        call(api, "PATCH", f"{path}/questions/{item['id']}", 200, answer=text)
    call(api, "PATCH", path, 200, notes=HOSTILE[1], takeaways=HOSTILE[0])

    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("dialog", dismiss)

    # The conversation page: answers, notes, and a referral typed there.
    page.goto(f"{base_url}/interviews/{interview_id}/conversation")
    expect(page.locator(f"#answer-{first['id']}")).to_have_value(HOSTILE[0])
    for item, text in zip(own, HOSTILE, strict=True):
        expect(page.locator(f"label[for=answer-{item['id']}]")).to_have_text(text)
        expect(page.get_by_label(text, exact=True)).to_have_value(text)
    expect(page.get_by_label("General notes")).to_have_value(HOSTILE[1])
    expect(page.get_by_label("Takeaways")).to_have_value(HOSTILE[0])
    assert_nothing_injected(page)

    referral = page.locator("#referral-form")
    referral.get_by_label("First name").fill(HOSTILE[0])
    referral.get_by_label("Last name").fill(HOSTILE[1])
    referral.get_by_label("Organization").fill(HOSTILE[1])
    referral.get_by_role("button", name="Add this person").click()
    name = f"{HOSTILE[0]} {HOSTILE[1]}"
    expect(referral.get_by_role("status")).to_have_text(f"✓ Added {name}.")
    expect(referral.locator(".referred li")).to_have_text([f"{name} · {HOSTILE[1]}"])
    assert_nothing_injected(page)

    # Typed into a textarea, saved, and shown again after a reload.
    answer = page.locator(f"#answer-{listed[1]['id']}")
    answer.fill(HOSTILE[1])
    expect(page.locator(f"#saved-{listed[1]['id']}")).to_have_text("Saved")
    page.reload()
    expect(answer).to_have_value(HOSTILE[1])
    expect(page.locator(".referred li")).to_have_text([f"{name} · {HOSTILE[1]}"])
    assert_nothing_injected(page)

    # The prep page lists the hostile questions as text.
    page.goto(f"{base_url}/interviews/{interview_id}")
    texts = page.locator("#question-list .question-text")
    expect(texts).to_have_count(len(listed))
    for text in HOSTILE:
        expect(texts.filter(has_text=text)).to_have_text([text])
        expect(page.get_by_role("button", name=f"Remove: {text}", exact=True)).to_be_visible()
    assert_nothing_injected(page)

    # What everyone said, reached from the question bank.
    page.goto(f"{base_url}/questions")
    page.locator(f"a[href='/questions/{first['question_id']}/answers']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What everyone said")
    expect(page.locator(".lede")).to_have_text(f"“{first['text']}”")
    expect(page.locator(".answer-card blockquote")).to_have_text([HOSTILE[0]])
    assert_nothing_injected(page)
    assert dialogs == []


# --- 6. accessibility --------------------------------------------------------------------


def test_interview_pages_pass_axe(api: Api) -> None:
    page, base_url = api.page, api.base_url
    contact = maya(api, notes="Met at the career fair.")
    interview = interview_with_questions(api, contact, scheduled_at="2026-12-02T15:00:00Z",
                                         status="scheduled")
    first = items(api, interview["id"])[0]
    call(api, "PATCH", f"/api/v1/interviews/{interview['id']}/questions/{first['id']}", 200,
         answer="Mostly rounds in the morning, then clinic.")
    held = interview_with_questions(api, api.create_contact(first_name="Jon", last_name="Park"),
                                    scheduled_at="2026-11-02T15:00:00Z")
    call(api, "PATCH", f"/api/v1/interviews/{held['id']}", 200, status="completed")

    pages = {
        "interviews": "/interviews",
        "prep": f"/interviews/{interview['id']}",
        "conversation": f"/interviews/{interview['id']}/conversation",
        "conversation-held": f"/interviews/{held['id']}/conversation",
        "answers": f"/questions/{first['question_id']}/answers",
    }
    assert_accessible_on_a_phone_too(page, base_url, pages)
