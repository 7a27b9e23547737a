"""Contacts in a real browser: quick add, search as you type, the board, the edit form, the
referral chain, hostile text shown as text everywhere, and accessibility of every contacts page."""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Dialog, Locator, Page, Request, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import EMAIL, NAME
from tests.e2e.test_accessibility import RECORD_CSP_VIOLATIONS, assert_accessible_on_a_phone_too


@dataclass
class Api:
    """The JSON API, called with this browser context's session cookie and its CSRF token."""

    page: Page
    base_url: str
    csrf: str

    def create_contact(self, **fields: Any) -> dict[str, Any]:
        response = self.page.request.post(f"{self.base_url}/api/v1/contacts", data=fields,
                                          headers={"X-CSRF-Token": self.csrf})
        assert response.status == 201, response.text()
        return dict(response.json())

    def get(self, path: str) -> dict[str, Any]:
        response = self.page.request.get(f"{self.base_url}{path}")
        assert response.status == 200, response.text()
        return dict(response.json())


@pytest.fixture
def api(page: Page, base_url: str) -> Api:
    """Maya's account, logged in in this page's browser context."""
    response = page.request.post(f"{base_url}/api/v1/auth/register",
                                 data={"email": EMAIL, "password": PASSWORD, "name": NAME})
    assert response.status == 201, response.text()
    response = page.request.post(f"{base_url}/api/v1/auth/login",
                                 data={"email": EMAIL, "password": PASSWORD})
    assert response.status == 200, response.text()
    return Api(page, base_url, response.headers["x-csrf-token"])


def field(page: Page, input_id: str) -> Locator:
    """The .field wrapper of an input: its label, hint and error live inside it."""
    return page.locator(".field", has=page.locator(f"#{input_id}"))


def board_column(page: Page, stage: str) -> Locator:
    return page.locator("section.board-column", has=page.locator(f"#col-{stage}"))


def move_card(page: Page, card: Locator, stage: str) -> None:
    """Open a card's Move menu and choose a stage."""
    card.locator("summary").click()
    card.get_by_role("button", name=stage, exact=True).click()


def stage_changes(api: "Api", contact_id: str) -> list[dict[str, Any]]:
    events = api.get(f"/api/v1/contacts/{contact_id}/timeline")["items"]
    return [e["data"] for e in events if e["kind"] == "stage_changed"]


def quick_add(page: Page, first: str, last: str, title: str, organization: str) -> None:
    form = page.locator("#quick-add")
    form.locator("#f-first_name").fill(first)
    form.locator("#f-last_name").fill(last)
    form.locator("#f-title").fill(title)
    form.locator("#f-organization_name").fill(organization)
    form.get_by_role("button", name="Add contact").click()
    expect(form.get_by_role("status")).to_contain_text(f"Added {first} {last}")


# --- 1. the everyday story ---------------------------------------------------------------


def test_add_find_move_and_see_it_on_the_timeline(signed_in_page: Page, base_url: str) -> None:
    page = signed_in_page
    page.goto(f"{base_url}/contacts")
    results = page.locator("#results")
    expect(results).to_contain_text("Add the first person you'd like to talk to")

    quick_add(page, "Maya", "Okafor", "Physician Assistant", "Regions Hospital")
    expect(page.locator("#quick-add").get_by_role("link", name="Maya Okafor")).to_be_visible()
    maya_row = results.locator(".contact-row", has=page.get_by_role("link", name="Maya Okafor"))
    expect(maya_row).to_be_visible()
    expect(maya_row).to_contain_text("Physician Assistant · Regions Hospital")
    expect(maya_row.locator(".stage")).to_have_text("Identified")
    # The form is ready for the next person.
    expect(page.locator("#f-first_name")).to_have_value("")

    quick_add(page, "Jon", "Park", "Robotics Engineer", "Acme Robotics")
    expect(results.locator(".contact-row")).to_have_count(2)
    expect(results.get_by_role("link", name="Jon Park")).to_be_visible()

    # Search as you type: three letters of Maya's organization.
    page.locator("#q").press_sequentially("Reg")
    expect(results.locator(".contact-row")).to_have_count(1)
    expect(results.get_by_role("link", name="Maya Okafor")).to_be_visible()
    expect(results.get_by_role("link", name="Jon Park")).to_have_count(0)
    page.locator("#q").fill("")
    expect(results.locator(".contact-row")).to_have_count(2)

    # The board: Maya moves from Identified to Contacted.
    page.get_by_role("navigation", name="Contacts views").get_by_role("link", name="Board").click()
    expect(page).to_have_url(f"{base_url}/contacts/board")
    identified, contacted = board_column(page, "identified"), board_column(page, "contacted")
    expect(identified.locator(".board-heading .chip-count")).to_have_text("2")
    expect(contacted.locator(".board-heading .chip-count")).to_have_text("0")
    expect(contacted).to_contain_text("No one here yet.")

    move_card(page, identified.locator(".board-card", has_text="Maya Okafor"), "Contacted")
    expect(contacted.locator(".board-card", has_text="Maya Okafor")).to_be_visible()
    expect(contacted.locator(".board-heading .chip-count")).to_have_text("1")
    expect(identified.locator(".board-heading .chip-count")).to_have_text("1")
    expect(identified.locator(".board-card", has_text="Maya Okafor")).to_have_count(0)
    expect(identified.locator(".board-card", has_text="Jon Park")).to_be_visible()

    # Her page tells the story.
    contacted.get_by_role("link", name="Maya Okafor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Okafor")
    expect(page.locator(".title-row .stage")).to_have_text("Contacted")
    expect(page.locator(".lede")).to_have_text("Physician Assistant at Regions Hospital")
    timeline = page.locator("section[aria-labelledby=timeline-heading] .timeline > li")
    expect(timeline.first).to_contain_text("Moved from identified to contacted.")
    expect(timeline.last).to_contain_text("Added to your contacts.")


# --- 2. the edit form --------------------------------------------------------------------


def open_section(page: Page, name: str) -> Locator:
    """Open a section of the contact page for editing; returns its form."""
    section = page.locator(f"#section-{name}")
    section.get_by_role("button", name=re.compile("^Edit")).click()
    form = page.locator(f"#section-{name} form")
    # The page puts the cursor in the form's first field once the form has settled; typing
    # before that would land in whichever field has the cursor then.
    expect(form.locator("input:not([type=hidden]), select, textarea").first).to_be_focused()
    return form


def cancel_section(page: Page, name: str) -> None:
    """Close a section's form without saving, once the page has put the cursor back on its
    Edit button (moving the cursor may scroll the page, so a click meanwhile could miss)."""
    section = page.locator(f"#section-{name}")
    section.get_by_role("button", name="Cancel").click()
    expect(section.get_by_role("button", name=re.compile("^Edit"))).to_be_focused()


def test_the_contact_page_reads_first_and_edits_a_section_in_place(api: Api) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor", title="Physician Assistant",
                              organization_name="Regions Hospital")
    page.goto(f"{base_url}/contacts/{maya['id']}")
    # A read view: no form until one is asked for; the next actions come first.
    expect(page.locator("form#contact-form")).to_have_count(0)
    about = page.locator("#section-about")
    expect(about.locator("dd").first).to_have_text("Physician Assistant")
    actions = page.locator("#next-actions")
    expect(actions.get_by_role("button", name="Write a message")).to_be_visible()
    expect(actions.get_by_role("button", name="Plan an interview")).to_be_visible()

    form = open_section(page, "about")
    expect(form.get_by_label("First name")).to_be_focused()
    save = form.get_by_role("button", name="Save")
    form.get_by_label("Email").fill("maya-at-regions")
    form.get_by_label("Title").fill("Lead Physician Assistant")
    save.click()

    email_error = field(page, "f-email").locator(".field-error")
    expect(email_error).to_be_visible()
    expect(email_error).to_contain_text("email")
    expect(form.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Email")).to_be_focused()
    expect(form.get_by_label("Email")).to_have_value("maya-at-regions")
    expect(form.get_by_label("Title")).to_have_value("Lead Physician Assistant")
    expect(form.get_by_label("Title")).not_to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Organization")).to_have_value("Regions Hospital")
    expect(form.get_by_role("alert")).to_contain_text("Some fields need attention.")

    form.get_by_label("Email").fill("maya@regions.org")
    save.click()
    expect(about.get_by_role("status")).to_have_text(re.compile("Saved"))
    expect(about.locator("form")).to_have_count(0)
    expect(about).to_contain_text("maya@regions.org")
    expect(about.get_by_role("button", name="Edit about")).to_be_focused()
    expect(page.locator(".lede")).to_have_text("Lead Physician Assistant at Regions Hospital")
    expect(page.locator(".timeline > li").first).to_contain_text("Edited email, title.")

    # Another section after the first: saved with the version the first save brought.
    progress = open_section(page, "progress")
    progress.get_by_label("Stage").select_option(label="Contacted")
    progress.get_by_role("button", name="Save").click()
    expect(page.locator("#section-progress").get_by_role("status")).to_have_text(re.compile("Saved"))
    expect(page.locator(".title-row .stage")).to_have_text("Contacted")

    # Cancel leaves a section as it was.
    notes = open_section(page, "notes")
    notes.get_by_label("Notes").fill("Not kept")
    cancel_section(page, "notes")
    expect(page.locator("#section-notes form")).to_have_count(0)
    expect(page.locator("#section-notes")).not_to_contain_text("Not kept")

    saved = api.get(f"/api/v1/contacts/{maya['id']}")
    assert (saved["email"], saved["title"], saved["stage"], saved["notes"]) == (
        "maya@regions.org", "Lead Physician Assistant", "contacted", "")


def test_on_a_phone_the_contact_page_shows_its_actions_above_the_fold(api: Api) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor", title="Physician Assistant",
                              organization_name="Regions Hospital", email="maya@regions.org",
                              notes="Works nights.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/contacts/{maya['id']}")
    for name in ("Write a message", "Plan an interview"):
        box = page.locator("#next-actions").get_by_role("button", name=name).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844, (name, box)
    # The header is one line: the brand and a Menu button that opens the links.
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 72, header  # one line, not two
    links = page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts")
    expect(links).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(links).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "true")


@pytest.mark.parametrize("kind", ["contact", "organization"])
def test_a_form_can_be_saved_twice_without_reloading(api: Api, kind: str) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor",
                              organization_name="Regions Hospital")
    if kind == "contact":
        page.goto(f"{base_url}/contacts/{maya['id']}")
        label, save = "Industry or field", "Save"
    else:
        page.goto(f"{base_url}/organizations/{maya['organization_id']}")
        form, label, save = page.locator("#organization-form"), "Industry", "Save"
    for value in ("Health", "Healthcare"):
        if kind == "contact":
            form = open_section(page, "about")
        form.get_by_label(label).fill(value)
        with page.expect_response(lambda r: r.request.method == "PATCH") as saved:
            form.get_by_role("button", name=save, exact=True).click()
        assert saved.value.status == 200
        done = page.locator("#section-about") if kind == "contact" else form
        expect(done.get_by_role("status")).to_have_text(re.compile("Saved"))
        expect(done.get_by_role("alert")).to_have_count(0)
    page.reload()
    if kind == "contact":
        expect(page.locator("#section-about")).to_contain_text("Healthcare")
    else:
        expect(form.get_by_label(label)).to_have_value("Healthcare")


# --- 3. the referral chain ---------------------------------------------------------------


def test_referral_chain_is_shown(api: Api) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor", source="referral",
                              referrer_name="Dr. Jones")
    kim = api.create_contact(first_name="Kim", last_name="Nguyen", source="referral",
                             referred_by_id=maya["id"], organization_name="Mayo Clinic")
    api.create_contact(first_name="Jon", last_name="Park")  # unrelated

    page.goto(f"{base_url}/contacts/{kim['id']}")
    chain = page.locator("section[aria-labelledby=chain-heading]")
    links = chain.locator("ol.chain > li")
    expect(links).to_have_text(["Dr. Jones", "Maya Okafor", "Kim Nguyen"])
    # Dr. Jones is free text; Maya is a contact one can open; Kim is where we are.
    expect(links.nth(0).get_by_role("link")).to_have_count(0)
    expect(links.nth(1).get_by_role("link", name="Maya Okafor")).to_have_attribute(
        "href", f"/contacts/{maya['id']}")
    expect(links.nth(2)).to_have_attribute("aria-current", "true")
    arrows = links.evaluate_all(
        "items => items.map(li => getComputedStyle(li, '::before').content)")
    assert arrows[1:] == ['"→"', '"→"'], arrows
    expect(chain.get_by_role("heading", name="People Kim pointed you to")).to_be_visible()
    expect(chain).to_contain_text("Nobody yet.")

    links.nth(1).get_by_role("link").click()
    expect(page).to_have_url(f"{base_url}/contacts/{maya['id']}")
    expect(links).to_have_text(["Dr. Jones", "Maya Okafor"])
    referred_heading = chain.get_by_role("heading", name="People Maya pointed you to")
    expect(referred_heading).to_be_visible()
    referred = referred_heading.locator("xpath=following-sibling::*[1]")
    expect(referred.locator("li")).to_have_text(["Kim Nguyen · Mayo Clinic"])
    referred.get_by_role("link", name="Kim Nguyen").click()
    expect(page).to_have_url(f"{base_url}/contacts/{kim['id']}")


# --- 4. hostile text ---------------------------------------------------------------------

HOSTILE = [
    '"><img src=x onerror=alert(1)>',
    "' hx-get=/api/v1/me hx-trigger=load",
    "</textarea><script>alert(2)</script>",
    "javascript:alert(3)",
]
TEXT_FIELDS = ("first_name", "last_name", "title", "organization_name", "notes", "how_we_met",
               "referrer_name")
# Anything an injection would have added to the document.
INJECTED = ("img[src=x], [onerror], [hx-trigger=load], [hx-get='/api/v1/me'], "
            "script:not([src^='/static/']), a[href^='javascript:' i]")


def assert_nothing_injected(page: Page) -> None:
    expect(page.locator(INJECTED)).to_have_count(0)
    assert page.evaluate("window.__cspViolations") == []


def test_hostile_text_is_shown_as_text_everywhere(api: Api) -> None:
    page, base_url = api.page, api.base_url
    host = urlsplit(base_url).netloc

    refused = page.request.post(f"{base_url}/api/v1/contacts", headers={"X-CSRF-Token": api.csrf},
                                data={"first_name": "Eve", "linkedin_url": "javascript:alert(1)"})
    assert refused.status == 422, refused.text()
    assert [f["field"] for f in refused.json()["fields"]] == ["linkedin_url"]
    refused = page.request.post(f"{base_url}/api/v1/organizations",
                                headers={"X-CSRF-Token": api.csrf},
                                data={"name": "Evil", "website": "javascript:alert(1)"})
    assert refused.status == 422, refused.text()

    contacts = [api.create_contact(**dict.fromkeys(TEXT_FIELDS, text), tags=[text, "plain"])
                for text in HOSTILE]
    for contact, text in zip(contacts, HOSTILE, strict=True):
        assert all(contact[f] == text for f in TEXT_FIELDS), contact
        assert sorted(contact["tags"]) == sorted([text, "plain"])

    dialogs: list[str] = []
    requests: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def record(request: Request) -> None:
        requests.append(f"{request.method} {request.url}")

    page.add_init_script(RECORD_CSP_VIOLATIONS)
    page.on("dialog", dismiss)
    page.on("request", record)

    # The list, with every hostile contact in it.
    page.goto(f"{base_url}/contacts")
    results = page.locator("#results")
    expect(results.locator(".contact-row")).to_have_count(len(HOSTILE))
    for text in HOSTILE:
        row = results.locator(".contact-row", has=page.get_by_role("link", name=f"{text} {text}",
                                                                     exact=True))
        expect(row).to_be_visible()
        expect(row.locator(".contact-role")).to_have_text(f"{text} · {text}")
        expect(row.locator(".tag", has_text=text)).to_have_text(f"#{text}")
        expect(page.locator(".chip-tag", has_text=text)).to_have_text(f"#{text} 1")
    assert_nothing_injected(page)

    # Typing a hostile string into the search box, then a search and a tag filter in the URL.
    page.locator("#q").fill(HOSTILE[0])
    expect(results.locator(".contact-row")).to_have_count(1)
    expect(results.get_by_role("link", name=f"{HOSTILE[0]} {HOSTILE[0]}")).to_be_visible()
    assert_nothing_injected(page)

    page.goto(f"{base_url}/contacts?q=img")
    expect(page.locator("#q")).to_have_value("img")
    expect(results.locator(".contact-row")).to_have_count(1)
    expect(results.get_by_role("link", name=f"{HOSTILE[0]} {HOSTILE[0]}")).to_be_visible()
    assert_nothing_injected(page)
    for text in HOSTILE:
        page.goto(f"{base_url}/contacts?q={quote(text)}")
        expect(page.locator("#q")).to_have_value(text)
        assert_nothing_injected(page)
        page.goto(f"{base_url}/contacts?tag={quote(text)}")
        expect(page.locator(".chip-tag.chip-on")).to_have_text(f"#{text} 1")
        expect(results.locator(".contact-row")).to_have_count(1)
        expect(page.locator("form[role=search] input[name=tag]")).to_have_value(text)
        assert_nothing_injected(page)

    # A failed quick add shows what was typed, as typed.
    page.goto(f"{base_url}/contacts")
    quick = page.locator("#quick-add")
    for name, text in zip(("first_name", "last_name", "title", "organization_name"), HOSTILE,
                          strict=True):
        quick.locator(f"#f-{name}").fill(text)
    quick.locator("#f-email").fill("not-an-email")
    quick.get_by_role("button", name="Add contact").click()
    expect(field(page, "f-email").locator(".field-error")).to_be_visible()
    for name, text in zip(("first_name", "last_name", "title", "organization_name"), HOSTILE,
                          strict=True):
        expect(quick.locator(f"#f-{name}")).to_have_value(text)
    assert_nothing_injected(page)

    # The board.
    page.goto(f"{base_url}/contacts/board")
    identified = board_column(page, "identified")
    expect(identified.locator(".board-card")).to_have_count(len(HOSTILE))
    for text in HOSTILE:
        card = identified.locator(".board-card", has=page.get_by_role(
            "link", name=f"{text} {text}", exact=True))
        expect(card.locator(".contact-role")).to_have_text(f"{text} · {text}")
        expect(card.locator("summary")).to_have_attribute("aria-label", f"Move {text} {text}")
    assert_nothing_injected(page)

    # Each contact's page: shown as text, kept after an error, unchanged by a save.
    for contact, text in zip(contacts, HOSTILE, strict=True):
        page.goto(f"{base_url}/contacts/{contact['id']}")
        expect(page).to_have_title(f"{text} {text} · Rapport")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{text} {text}")
        expect(page.locator(".lede")).to_have_text(f"{text} at {text}")
        expect(page.locator("ol.chain > li").first).to_have_text(text)
        expect(page.locator("#section-notes")).to_contain_text(text)
        before = api.get(f"/api/v1/contacts/{contact['id']}")
        for section in ("progress", "notes", "about"):
            form = open_section(page, section)
            for name in TEXT_FIELDS:
                if form.locator(f"#f-{name}").count():
                    expect(form.locator(f"#f-{name}")).to_have_value(text)
            if section == "progress":
                expect(form.locator("#f-tags")).to_have_value(", ".join(before["tags"]))
            assert_nothing_injected(page)
            if section != "about":
                cancel_section(page, section)

        form.locator("#f-email").fill("not-an-email")
        form.get_by_role("button", name="Save").click()
        expect(field(page, "f-email").locator(".field-error")).to_be_visible()
        for name in ("first_name", "last_name", "title", "organization_name"):
            expect(form.locator(f"#f-{name}")).to_have_value(text)
        assert_nothing_injected(page)

        form.locator("#f-email").fill("")
        form.get_by_role("button", name="Save").click()
        expect(page.locator("#section-about").get_by_role("status")).to_have_text(re.compile("Saved"))
        assert_nothing_injected(page)
        after = api.get(f"/api/v1/contacts/{contact['id']}")
        assert {k: v for k, v in after.items() if k != "updated_at"} == {
            k: v for k, v in before.items() if k != "updated_at"}

    # The organizations, listed and one by one.
    page.goto(f"{base_url}/organizations")
    for text in HOSTILE:
        expect(page.locator(".org-list").get_by_role("link", name=text, exact=True)).to_be_visible()
    assert_nothing_injected(page)
    for contact, text in zip(contacts, HOSTILE, strict=True):
        page.goto(f"{base_url}/organizations/{contact['organization_id']}")
        expect(page.get_by_role("heading", level=1)).to_have_text(text)
        expect(page.locator("#f-name")).to_have_value(text)
        people = page.locator("section[aria-labelledby=people-heading]")
        expect(people.get_by_role("link", name=f"{text} {text}", exact=True)).to_be_visible()
        expect(people.locator(".contact-role")).to_have_text(f"{text} · {text}")
        assert_nothing_injected(page)

    assert dialogs == []
    unexpected = [r for r in requests if (url := urlsplit(r.split(" ", 1)[1])).netloc != host
                  or url.path.endswith("/x") or url.path == "/api/v1/me"]
    assert unexpected == [], unexpected
    # The recorder was listening: it saw the search htmx made as the hostile text was typed.
    assert any(r.startswith(f"GET {base_url}/api/v1/contacts?q=") for r in requests), requests


# --- 5. keyboard and axe -----------------------------------------------------------------


def test_board_move_is_keyboard_accessible_and_pages_pass_axe(api: Api) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor", title="Physician Assistant",
                              organization_name="Regions Hospital", referrer_name="Dr. Jones",
                              tags=["healthcare", "alumni"], notes="Met at the career fair.")
    api.create_contact(first_name="Jon", last_name="Park", title="Robotics Engineer",
                       organization_name="Acme Robotics", referred_by_id=maya["id"])

    # Reach Maya's Move menu with Tab alone. Arrow keys move nothing; a choice moves her once.
    page.goto(f"{base_url}/contacts/board")
    menu = page.locator(f"#move-{maya['id']}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == f"move-{maya['id']}":
            break
    expect(menu).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # opens the menu
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Contacted", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Scheduled", exact=True)).to_be_focused()
    assert stage_changes(api, maya["id"]) == []
    page.keyboard.press("Enter")
    contacted = board_column(page, "scheduled")
    expect(contacted.locator(".board-card", has_text="Maya Okafor")).to_be_visible()
    expect(contacted.locator(".board-heading .chip-count")).to_have_text("1")
    expect(page.locator(f"#move-{maya['id']}")).to_be_focused()  # focus follows her card
    expect(page.get_by_role("status")).to_contain_text("Moved Maya Okafor to Scheduled.")
    assert stage_changes(api, maya["id"]) == [{"from": "identified", "to": "scheduled"}]

    pages = {
        "contacts": "/contacts",
        "contacts-search": "/contacts?q=Reg",
        "board": "/contacts/board",
        "contact": f"/contacts/{maya['id']}",
        "organizations": "/organizations",
        "organization": f"/organizations/{maya['organization_id']}",
    }
    assert_accessible_on_a_phone_too(page, base_url, pages)


# --- 6. drag and drop, and undo ------------------------------------------------------------


def test_a_card_dragged_to_another_column_moves_and_the_move_can_be_undone(api: Api) -> None:
    page, base_url = api.page, api.base_url
    maya = api.create_contact(first_name="Maya", last_name="Okafor",
                              title="Physician Assistant and Clinical Preceptor",
                              organization_name="Regions Hospital")
    api.create_contact(first_name="Jon", last_name="Park")
    page.goto(f"{base_url}/contacts/board")
    identified, contacted = board_column(page, "identified"), board_column(page, "contacted")

    # At 1280px a title reads on one or two lines.
    card = identified.locator(".board-card", has_text="Maya Okafor")
    lines = card.locator(".contact-role").evaluate(
        "e => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))")
    assert lines <= 2, lines

    card.drag_to(contacted)
    expect(contacted.locator(".board-card", has_text="Maya Okafor")).to_be_visible()
    expect(identified.locator(".board-heading .chip-count")).to_have_text("1")
    status = page.locator("#board-status")
    expect(status).to_contain_text("Moved Maya Okafor to Contacted.")
    assert api.get(f"/api/v1/contacts/{maya['id']}")["stage"] == "contacted"
    assert stage_changes(api, maya["id"]) == [{"from": "identified", "to": "contacted"}]

    # Dropped back where it came from: nothing is sent.
    contacted.locator(".board-card", has_text="Maya Okafor").drag_to(contacted)
    assert len(stage_changes(api, maya["id"])) == 1

    status.get_by_role("button", name="Undo").click()
    expect(identified.locator(".board-card", has_text="Maya Okafor")).to_be_visible()
    expect(status).to_contain_text("Moved Maya Okafor back to Identified.")
    expect(status.get_by_role("button", name="Undo")).to_have_count(0)
    assert api.get(f"/api/v1/contacts/{maya['id']}")["stage"] == "identified"
