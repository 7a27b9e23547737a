"""Contact pages, and the htmx answers of the contact routes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import signed_in

HX = {"HX-Request": "true"}


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


def add(client: TestClient, **fields: Any) -> dict[str, Any]:
    return dict(client.post("/api/v1/contacts", json={"first_name": "Ana", **fields}).json())


def test_the_empty_list_says_what_to_do_first(me: TestClient) -> None:
    html = me.get("/contacts").text
    assert "Add the first person you'd like to talk to" in html
    assert "positions similar to the one you want" in html


def test_search_as_you_type_returns_only_the_results_fragment(me: TestClient) -> None:
    add(me, first_name="Maya", organization_name="Regions Hospital")
    add(me, first_name="Jon", organization_name="Acme")
    response = me.get("/api/v1/contacts", params={"q": "reg"}, headers=HX)
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith('<ul id="results"')
    assert "Maya" in response.text and "Jon" not in response.text


def test_show_more_appends_rows_only(me: TestClient) -> None:
    for i in range(3):
        add(me, first_name=f"P{i}")
    first = me.get("/api/v1/contacts", params={"limit": 2}).json()
    more = me.get("/api/v1/contacts", params={"limit": 2, "cursor": first["next_cursor"]},
                  headers={**HX, "HX-Target": "more-row"})
    assert '<ul id="results"' not in more.text and "P2" in more.text


def test_quick_add_confirms_and_asks_the_list_to_refresh(me: TestClient) -> None:
    response = me.post("/api/v1/contacts", headers=HX, json={
        "first_name": "Maya", "last_name": "Okafor", "organization_name": "", "email": "",
        "source": "referral", "referrer_name": "Dr. Jones", "title": ""})
    assert response.status_code == 201
    assert "Added" in response.text and "Maya Okafor" in response.text
    assert response.headers["HX-Trigger"] == "contacts-changed"


def test_quick_add_errors_keep_what_was_typed(me: TestClient) -> None:
    response = me.post("/api/v1/contacts", headers=HX, json={
        "first_name": "", "title": "Physician Assistant", "email": "nope"})
    assert response.status_code == 422
    assert 'value="Physician Assistant"' in response.text and 'id="e-first_name"' in response.text
    assert 'id="e-email"' in response.text


def test_filter_chips_link_to_filtered_lists(me: TestClient) -> None:
    add(me, first_name="Maya", stage="contacted", tags=["healthcare"])
    html = me.get("/contacts?stage=contacted").text
    assert 'href="/contacts?sort=name"' in html  # the active chip clears itself
    assert "#healthcare" in html and "Maya" in html
    assert "No contacts match" in me.get("/contacts?stage=closed").text


def test_moving_a_card_on_the_board_redraws_the_board(me: TestClient) -> None:
    c = add(me, first_name="Maya")
    response = me.patch(f"/api/v1/contacts/{c['id']}", json={"stage": "contacted"},
                        headers={**HX, "HX-Target": "board"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="board"')
    assert me.get(f"/api/v1/contacts/{c['id']}").json()["stage"] == "contacted"


def test_the_contact_page_reads_first_and_each_section_opens_its_own_form(
    me: TestClient,
) -> None:
    jones = add(me, first_name="Dr.", last_name="Jones")
    maya = add(me, first_name="Maya", last_name="Okafor", referred_by_id=jones["id"],
               title="Physician Assistant", tags=["pa", "healthcare"], notes="Works nights.")
    add(me, first_name="Kim", referred_by_id=maya["id"])
    html = me.get(f"/contacts/{maya['id']}").text
    assert "<form id=\"contact-form\"" not in html and 'name="first_name"' not in html
    assert html.index("Write a message") < html.index('id="section-about"')
    assert html.index("Plan an interview") < html.index('id="section-about"')
    assert "<dd>Physician Assistant</dd>" in html and "Works nights." in html
    assert "Dr. Jones</a>" in html and "Kim</a>" in html
    assert "Added to your contacts." in html
    sections = {"about": ["first_name", "last_name", "email", "phone", "title",
                          "organization_name", "industry", "location", "linkedin_url", "website"],
                "progress": ["stage", "source", "referred_by_id", "referrer_name", "next_action",
                             "next_action_at", "tags"],
                "notes": ["how_we_met", "notes"]}
    for section, names in sections.items():
        form = me.get(f"/contacts/{maya['id']}/sections/{section}", params={"edit": "true"}).text
        assert form.lstrip().startswith(f'<section id="section-{section}"')
        assert f'hx-target="#section-{section}"' in form
        for name in names:
            assert f'name="{name}"' in form, name
        read = me.get(f"/contacts/{maya['id']}/sections/{section}").text
        assert "<form" not in read and ">Edit</button>" in read
    progress = me.get(f"/contacts/{maya['id']}/sections/progress?edit=true").text
    assert 'value="healthcare, pa"' in progress
    assert me.get(f"/contacts/{maya['id']}/sections/other").status_code == 422


def test_saving_a_section_shows_it_read_with_the_header_and_next_actions_redrawn(
    me: TestClient,
) -> None:
    maya = add(me, first_name="Maya")
    saved = me.patch(f"/api/v1/contacts/{maya['id']}", json={"stage": "contacted"},
                     headers={**HX, "HX-Target": "section-progress", "If-Match": "*"})
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<section id="section-progress"')
    assert "Saved" in saved.text and "<form" not in saved.text.split("</section>")[0]
    assert 'id="contact-header"' in saved.text and 'id="next-actions"' in saved.text
    assert 'data-etag="' in saved.text


def test_a_contacts_due_next_step_is_coloured_by_how_soon_it_is(me: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    for days, state in ((-2, "overdue"), (0, "today"), (3, "later")):
        when = datetime.now(UTC) + timedelta(days=days)
        if days == 0:
            when = when.replace(hour=12, minute=0)
        c = add(me, first_name="Maya", next_action="Email again", next_action_at=when.isoformat())
        assert f'class="due due-{state}"' in me.get(f"/contacts/{c['id']}").text, state


def test_the_contact_page_links_to_the_website_and_linkedin_in_a_new_tab(me: TestClient) -> None:
    maya = add(me, first_name="Maya", website="https://www.okafor-lab.example/",
               linkedin_url="https://www.linkedin.com/in/maya-okafor", tags=["data, science", "pa"])
    html = me.get(f"/contacts/{maya['id']}").text
    assert ('<a href="https://www.okafor-lab.example/" rel="noopener noreferrer" target="_blank">'
            "okafor-lab.example</a>") in html
    assert ('<a href="https://www.linkedin.com/in/maya-okafor" rel="noopener noreferrer" '
            'target="_blank">linkedin.com/in/maya-okafor</a>') in html
    about = me.get(f"/contacts/{maya['id']}/sections/about?edit=true").text
    assert 'value="https://www.okafor-lab.example/"' in about  # and in the form
    progress = me.get(f"/contacts/{maya['id']}/sections/progress?edit=true").text
    assert 'value="data\\, science, pa"' in progress  # a comma inside a tag survives a save
    saved = me.patch(f"/api/v1/contacts/{maya['id']}", json={"tags": "data\\, science, pa"},
                     headers={**HX, "If-Match": "*"})
    assert saved.status_code == 200
    assert me.get(f"/api/v1/contacts/{maya['id']}").json()["tags"] == ["data, science", "pa"]


def test_a_stored_address_that_is_not_http_is_not_a_link(me: TestClient, app: Any) -> None:
    from app.db import session_scope
    from app.models import Contact

    maya = add(me, first_name="Maya")
    for db in session_scope(app.state.sessionmaker):  # as old data or another program left it
        contact = db.get(Contact, maya["id"])
        assert contact is not None
        contact.website = "javascript:alert(1)"
    html = me.get(f"/contacts/{maya['id']}").text
    assert 'href="javascript:' not in html and "LinkedIn profile" not in html


def test_saving_the_contact_form_checks_the_version_it_was_loaded_with(me: TestClient) -> None:
    c = add(me, first_name="Maya")
    tag = me.get(f"/api/v1/contacts/{c['id']}").headers["ETag"]
    saved = me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "PA"},
                     headers={**HX, "If-Match": tag})
    assert saved.status_code == 200 and "Saved" in saved.text
    stale = me.patch(f"/api/v1/contacts/{c['id']}", json={"title": "Other"},
                     headers={**HX, "If-Match": tag})
    assert stale.status_code == 412
    assert "changed since you read it" in stale.text and 'value="Other"' in stale.text


def test_a_browser_date_without_offset_is_read_in_the_students_zone(me: TestClient) -> None:
    me.patch("/api/v1/me", json={"timezone": "America/Chicago"})
    c = add(me, next_action_at="2026-12-01T09:00")
    assert c["next_action_at"].startswith("2026-12-01T15:00")


def test_organization_pages(me: TestClient) -> None:
    c = add(me, first_name="Maya", organization_name="Regions Hospital")
    org_id = c["organization_id"]
    assert "Regions Hospital" in me.get("/organizations").text
    page = me.get(f"/organizations/{org_id}").text
    assert "Research notes" in page and "Maya" in page
    saved = me.patch(f"/api/v1/organizations/{org_id}", headers=HX,
                     json={"research_notes": "Level I trauma centre."})
    assert "Saved" in saved.text and "Level I trauma centre." in saved.text
    created = me.post("/api/v1/organizations", headers=HX, json={"name": "Mayo Clinic"})
    assert created.headers["HX-Redirect"].startswith("/organizations/")


def test_many_organizations_page_on(me: TestClient) -> None:
    for i in range(102):
        me.post("/api/v1/organizations", json={"name": f"Org {i:03}"})
    first = me.get("/organizations").text
    assert "Org 000" in first and "Org 101" not in first
    cursor = first.split('href="/organizations?cursor=')[1].split('"')[0]
    assert "Org 101" in me.get(f"/organizations?cursor={cursor}").text


def test_the_referrer_is_chosen_on_the_contact_page_and_kept_through_an_error(
    me: TestClient,
) -> None:
    jones = add(me, first_name="Dr.", last_name="Jones")
    maya = add(me, first_name="Maya", referred_by_id=jones["id"])
    html = me.get(f"/contacts/{maya['id']}/sections/progress?edit=true").text
    assert f'<option value="{jones["id"]}" selected>Dr. Jones</option>' in html
    failed = me.patch(f"/api/v1/contacts/{maya['id']}",
                      headers={**HX, "HX-Target": "section-progress"},
                      json={"next_action_at": "soon", "referred_by_id": jones["id"]})
    assert failed.status_code == 422
    assert failed.text.lstrip().startswith('<section id="section-progress"')
    assert f'name="referred_by_id" value="{jones["id"]}"' in failed.text
    assert 'id="e-next_action_at"' in failed.text
