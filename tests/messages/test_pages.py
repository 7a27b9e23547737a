"""The message pages answer htmx with fragments, keep what was typed, and show errors in place."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import signed_in

HX = {"HX-Request": "true"}


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    client.patch("/api/v1/me", json={"school": "Hamline University", "major": "biology"})
    return client


@pytest.fixture
def ana(me: TestClient) -> dict[str, Any]:
    return dict(me.post("/api/v1/contacts", json={
        "first_name": "Ana", "last_name": "Díaz", "email": "ana@x.org",
        "referrer_name": "Dr. Jones"}).json())


def test_the_contact_page_offers_the_next_message(me: TestClient, ana: dict[str, Any]) -> None:
    html = me.get(f"/contacts/{ana['id']}").text
    assert 'action="/messages/new"' in html and 'value="outreach" selected' in html


def test_the_compose_page_shows_the_draft_and_asks_for_what_is_missing(
    me: TestClient, ana: dict[str, Any]
) -> None:
    html = me.get(f"/messages/new?contact_id={ana['id']}").text
    assert "Outreach email to Ana Díaz" in html
    assert "majoring in biology" in html and "Dr. Jones" in html
    assert 'name="values.student.career_goal"' in html and "Missing:" in html
    assert "[your career goal]" in html  # the draft shows the gap, and a warning says so
    assert "Open in mail app" in html and "Mark as sent" in html


def test_the_compose_page_needs_a_contact(me: TestClient) -> None:
    assert me.get("/messages/new?contact_id=").status_code == 422


def test_the_draft_follows_edits_live(me: TestClient, ana: dict[str, Any]) -> None:
    form = {"kind": "outreach", "contact_id": ana["id"], "interview_id": "", "template_id": "",
            "values.student.career_goal": "nurse", "subject": "Hello",
            "body": "Could we meet, {{ contact.first_name }}? "
                    "I hope to be {{ student.career_goal|article }}."}
    fragment = me.post("/api/v1/messages/preview", json=form, headers=HX)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<section id="draft"')
    assert "Could we meet, Ana? I hope to be a nurse." in fragment.text
    assert "Ready to send" in fragment.text
    broken = me.post("/api/v1/messages/preview", json={**form, "body": "{{ config }}"}, headers=HX)
    assert broken.status_code == 422 and 'id="draft"' in broken.text
    assert "“config” is not something a message can use" in broken.text


def test_save_and_mark_sent_from_the_compose_page(me: TestClient, ana: dict[str, Any]) -> None:
    form = {"kind": "outreach", "contact_id": ana["id"], "interview_id": "", "template_id": ""}
    saved = me.post("/api/v1/messages", json=form, headers=HX)
    assert saved.status_code == 200 and saved.headers["HX-Redirect"].startswith("/messages/")
    page = me.get(saved.headers["HX-Redirect"]).text
    assert "Your draft" in page and "Download .eml" in page and "Mark as sent" in page
    sent = me.post("/api/v1/messages", json={**form, "status": "sent"}, headers=HX)
    page = me.get(sent.headers["HX-Redirect"]).text
    assert "What you sent" in page and "They replied" in page
    assert "Follow up with Ana Díaz if they have not replied" in page


def test_editing_a_draft_answers_with_fresh_checks(me: TestClient, ana: dict[str, Any]) -> None:
    message = me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": ana["id"]}).json()
    fragment = me.patch(f"/api/v1/messages/{message['id']}", json={"body": "Any internships?"},
                        headers=HX)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div id="checks">')
    assert "an informational interview is not a job request" in fragment.text
    assert "mailto:ana@x.org" in fragment.text and "Any%20internships%3F" in fragment.text


def test_saving_a_template_from_the_compose_page(me: TestClient) -> None:
    body = {"kind": "outreach", "name": "Mine", "subject": "Hi", "body": "Could we meet?"}
    saved = me.post("/api/v1/templates", json=body, headers={**HX, "HX-Target": "template-saved"})
    assert saved.status_code == 201 and "Saved as" in saved.text and "<form" not in saved.text
    refused = me.post("/api/v1/templates", json={**body, "body": "{{ cycler }}"},
                      headers={**HX, "HX-Target": "template-saved"})
    assert refused.status_code == 422 and "cycler" in refused.text and "<form" not in refused.text


def test_the_template_form_keeps_what_was_typed_after_an_error(me: TestClient) -> None:
    body = {"kind": "outreach", "name": "Mine", "subject": "Hi", "body": "Hello {{ student.ssn }}"}
    refused = me.post("/api/v1/templates", json=body, headers=HX)
    assert refused.status_code == 422 and 'id="template-form"' in refused.text
    assert "Hello {{ student.ssn }}" in refused.text and "student.ssn" in refused.text
    assert 'aria-invalid="true"' in refused.text
    made = me.post("/api/v1/templates", json={**body, "body": "Hello"}, headers=HX)
    assert made.headers["HX-Redirect"].endswith("?saved=1")
    assert "Mine" in me.get("/messages/templates").text


def test_pages_list_messages_templates_and_tasks(me: TestClient, ana: dict[str, Any]) -> None:
    me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": ana["id"], "status": "sent"})
    assert "Ana Díaz" in me.get("/messages").text
    templates = me.get("/messages/templates").text
    assert "Outreach email (the handout&#39;s example)" in templates and "Make my own copy" in templates
    default = me.get("/messages/templates/template-outreach").text
    assert "read-only" in default and "{{ student.major }}" in default
    copy = me.get("/messages/templates/new?copy=template-outreach").text
    assert "My outreach email" in copy and "{{ student.major }}" in copy
    tasks = me.get("/tasks").text
    assert "Follow up with Ana Díaz" in tasks and "Coming up" in tasks and "Add a task" in tasks


def test_a_task_added_by_hand_from_the_page(me: TestClient, ana: dict[str, Any]) -> None:
    refused = me.post("/api/v1/tasks", json={"title": "", "due_at": "", "contact_id": ana["id"]},
                      headers=HX)
    assert refused.status_code == 422 and 'id="task-form"' in refused.text
    assert f'value="{ana["id"]}"' in refused.text  # the choice is kept
    made = me.post("/api/v1/tasks", json={"title": "Read about PA programs", "due_at": "",
                                          "contact_id": ana["id"]}, headers=HX)
    assert made.headers["HX-Redirect"] == "/tasks"
    assert "Read about PA programs" in me.get("/tasks").text
