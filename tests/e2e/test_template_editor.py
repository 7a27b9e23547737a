"""The template editor in a real browser: a student writes in plain words, a chip puts a field
where the cursor is, no brace shows unless they open the advanced form, and the draft uses what
they saved. Without the editor's script the same form still saves plain words."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import test_contacts
from tests.e2e.test_contacts import Api
from tests.e2e.test_interviews import call
from tests.e2e.test_messages import watch

api = test_contacts.api
BRACES = re.compile(r"\{\{|\{%|\{#")


def student(api: Api) -> Api:
    call(api, "PATCH", "/api/v1/me", 200, school="Hamline University", major="biology")
    return api


def no_braces_shown(page: Page) -> None:
    """Nothing on the page, typed text included, shows template syntax."""
    assert not BRACES.search(page.locator("main").inner_text())
    for box in page.locator("main textarea, main input[type=text]").all():
        assert not BRACES.search(box.input_value())


def saved_template(api: Api, name: str) -> dict[str, Any]:
    items = call(api, "GET", "/api/v1/templates?kind=outreach&limit=100", 200)["items"]
    return next(t for t in items if t["name"] == name)


def test_a_chip_puts_a_field_at_the_cursor_and_the_draft_fills_it(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    seen = watch(page)
    kim = api.create_contact(first_name="Kim", last_name="Nguyen")

    page.goto(f"{base_url}/messages/templates/new")
    no_braces_shown(page)
    page.get_by_label("Name", exact=True).fill("Short and kind")
    body = page.get_by_label("Message", exact=True)
    body.fill("Hello , I study .")
    chips = page.get_by_role("toolbar", name="Insert a field")
    expect(chips).to_be_visible()

    body.evaluate("box => box.setSelectionRange(6, 6)")  # after "Hello "
    chips.get_by_role("button", name="their first name", exact=True).click()
    expect(body).to_have_value("Hello [their first name], I study .")
    cursor = len("Hello [their first name], I study ")
    body.evaluate(f"box => box.setSelectionRange({cursor}, {cursor})")
    chips.get_by_role("button", name="your major", exact=True).click()
    expect(body).to_have_value("Hello [their first name], I study [your major].")
    no_braces_shown(page)

    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("Saved"))
    no_braces_shown(page)
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Hello [their first name], I study [your major].")
    mine = saved_template(api, "Short and kind")
    assert mine["body"] == "Hello {{ contact.first_name }}, I study {{ student.major }}."

    page.goto(f"{base_url}/messages/new?contact_id={kim['id']}&kind=outreach"
              f"&template_id={mine['id']}")
    expect(page.locator("#draft .draft-body")).to_have_text("Hello Kim, I study biology.")
    assert seen.unexpected() == []


def test_advanced_shows_the_source_and_plain_words_come_back_unchanged(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    seen = watch(page)
    page.goto(f"{base_url}/messages/templates/new")
    page.get_by_label("Name", exact=True).fill("Both ways")
    page.get_by_label(re.compile(r"^Subject")).fill("From a [your school] student {not a field}")
    page.get_by_label("Message", exact=True).fill("Dear [their name],\n{{ typed braces }} stay text.")

    page.get_by_role("link", name="Advanced: conditions and filters").click()
    expect(page.locator("#template-text")).to_have_attribute("data-format", "jinja")
    expect(page.get_by_label(re.compile(r"^Subject"))).to_have_value(
        "From a {{ student.school }} student {not a field}")
    message = page.get_by_label("Message", exact=True)
    expect(message).to_have_value(
        'Dear {{ contact.full_name }},\n{{ "{" }}{ typed braces }} stay text.')
    # In the advanced form a chip inserts the source.
    message.evaluate("box => box.setSelectionRange(box.value.length, box.value.length)")
    page.get_by_role("button", name="your major", exact=True).click()
    expect(message).to_have_value(
        'Dear {{ contact.full_name }},\n{{ "{" }}{ typed braces }} stay text.{{ student.major }}')

    page.get_by_role("link", name="Show in plain words").click()
    expect(page.locator("#template-text")).to_have_attribute("data-format", "plain")
    expect(page.get_by_label(re.compile(r"^Subject"))).to_have_value(
        "From a [your school] student {not a field}")
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Dear [their name],\n{{ typed braces }} stay text.[your major]")
    assert seen.unexpected() == []


def test_a_template_with_conditions_opens_in_advanced(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    source = "Hi.{% if contact.referrer %} {{ contact.referrer }} sent me.{% endif %}"
    made = call(api, "POST", "/api/v1/templates", 201, kind="outreach", name="Cond", body=source)
    page.goto(f"{base_url}/messages/templates/{made['id']}")
    expect(page.get_by_label("Message", exact=True)).to_have_value(source)
    expect(page.get_by_role("status")).to_contain_text("Plain words cannot show that")
    # Asking for plain words keeps it as written rather than losing the condition.
    page.get_by_role("link", name="Show in plain words").click()
    expect(page.get_by_label("Message", exact=True)).to_have_value(source)
    expect(page.get_by_role("status")).to_contain_text("Plain words cannot show that")


@pytest.mark.console_errors(r"^Failed to load resource: net::ERR_FAILED$")  # the script, refused
def test_without_the_editor_script_plain_words_still_save(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    page.route("**/static/template-editor.js", lambda route: route.abort())
    page.goto(f"{base_url}/messages/templates/new")
    expect(page.get_by_role("toolbar", name="Insert a field")).to_be_hidden()
    page.get_by_label("Name", exact=True).fill("Typed by hand")
    page.get_by_label("Message", exact=True).fill("Dear [their name], I study [your major].")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("status")).to_have_text(re.compile("Saved"))
    assert saved_template(api, "Typed by hand")["body"] == (
        "Dear {{ contact.full_name }}, I study {{ student.major }}.")


def test_composing_a_chip_goes_into_the_draft_as_it_is_clicked(api: Api) -> None:
    page, base_url = student(api).page, api.base_url
    seen = watch(page)
    kim = api.create_contact(first_name="Kim", last_name="Nguyen",
                             organization_name="Regions Hospital")
    made = call(api, "POST", "/api/v1/templates", 201, kind="outreach", name="Mine",
                format="plain", subject="Hello", body="Hello [their first name],")
    page.goto(f"{base_url}/messages/new?contact_id={kim['id']}&template_id={made['id']}")
    no_braces_shown(page)
    body = page.get_by_label("Message", exact=True)
    body.press("Control+End")
    body.press_sequentially(" I admire ")
    page.get_by_role("button", name="their organization", exact=True).click()
    expect(body).to_have_value("Hello [their first name], I admire [their organization]")
    expect(page.locator("#draft .draft-body")).to_have_text(
        "Hello Kim, I admire Regions Hospital")
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/messages/(?!new\b)[0-9A-Za-z]+$"))
    expect(page.get_by_label("Message", exact=True)).to_have_value(
        "Hello Kim, I admire Regions Hospital")
    assert seen.unexpected() == []
