"""Interview pages and the htmx answers of the interview routes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import signed_in

HX = {"HX-Request": "true"}


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


@pytest.fixture
def interview(me: TestClient) -> dict[str, Any]:
    maya = me.post("/api/v1/contacts", json={
        "first_name": "Maya", "last_name": "Okafor", "organization_name": "Regions Hospital",
        "notes": "Works nights."}).json()
    return dict(me.post("/api/v1/interviews", json={"contact_id": maya["id"]}).json())


def test_planning_from_the_contact_page_opens_the_prep_page(me: TestClient) -> None:
    maya = me.post("/api/v1/contacts", json={"first_name": "Maya"}).json()
    assert "Plan an interview" in me.get(f"/contacts/{maya['id']}").text
    response = me.post("/api/v1/interviews", headers=HX, json={"contact_id": maya["id"]})
    assert response.headers["HX-Redirect"].startswith("/interviews/")


def test_the_prep_page_has_research_checklist_questions_and_meeting(
    me: TestClient, interview: dict[str, Any]
) -> None:
    html = me.get(f"/interviews/{interview['id']}").text
    for text in ["Works nights.", "Regions Hospital", "Research the organization",
                 "Send a thank-you note", "Suggest questions for 30 minutes", 'id="meeting-form"',
                 "Print the prep sheet"]:
        assert text in html, text
    assert "Add to calendar" not in html  # no date yet


def test_htmx_answers_redraw_only_what_changed(me: TestClient, interview: dict[str, Any]) -> None:
    url = f"/api/v1/interviews/{interview['id']}"
    suggested = me.post(f"{url}/questions/suggest", headers=HX)
    assert suggested.text.lstrip().startswith('<div id="question-list"')
    checklist = me.patch(url, json={"checklist": {"resume_copy": True}},
                         headers={**HX, "HX-Target": "checklist"})
    assert checklist.text.lstrip().startswith('<ul id="checklist"')
    meeting = me.patch(url, json={"duration_minutes": "45", "scheduled_at": ""},
                       headers={**HX, "HX-Target": "meeting-form"})
    # The whole page comes back: its header, status and calendar link depend on the meeting.
    assert meeting.headers["HX-Redirect"] == f"/interviews/{interview['id']}?saved=1"
    page = me.get(meeting.headers["HX-Redirect"]).text
    assert "Saved" in page and 'value="45"' in page and "45 minutes" in page
    notes = me.patch(url, json={"notes": "Ask about night shifts."}, headers=HX)
    assert notes.status_code == 204
    steps = me.patch(url, json={"business_card": True}, headers={**HX, "HX-Target": "next-steps"})
    assert steps.text.lstrip().startswith('<ul id="next-steps"')
    held = me.patch(url, json={"status": "completed"},
                    headers={**HX, "HX-Target": "conversation-status"})
    assert held.headers["HX-Redirect"] == f"/interviews/{interview['id']}/conversation"


def test_meeting_form_errors_keep_what_was_typed(me: TestClient, interview: dict[str, Any]) -> None:
    response = me.patch(f"/api/v1/interviews/{interview['id']}",
                        headers={**HX, "HX-Target": "meeting-form"},
                        json={"duration_minutes": "0", "location": "Cafe Latte"})
    assert response.status_code == 422
    assert 'value="Cafe Latte"' in response.text and 'id="e-duration_minutes"' in response.text


def test_the_conversation_page_after_the_meeting(me: TestClient, interview: dict[str, Any]) -> None:
    url = f"/api/v1/interviews/{interview['id']}"
    item = me.post(f"{url}/questions", json={"text": "What surprised you?"}).json()
    saved = me.patch(f"{url}/questions/{item['id']}", json={"answer": "The pace."}, headers=HX)
    assert saved.status_code == 204
    me.patch(url, json={"status": "completed"})
    html = me.get(f"/interviews/{interview['id']}/conversation").text
    assert "The pace." in html and "Held" in html
    assert "Send a thank-you note to Maya Okafor" in html
    referral = me.post(f"{url}/referrals", headers=HX, json={"first_name": "Kim", "last_name": ""})
    assert referral.status_code == 201 and "Added" in referral.text and "Kim" in referral.text


def test_the_interviews_page_lists_coming_and_held(me: TestClient, interview: dict[str, Any]) -> None:
    assert "Maya Okafor" in me.get("/interviews").text
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    html = me.get("/interviews").text
    assert html.index("Held and cancelled") < html.rindex("Maya Okafor")  # (the nav has her too)


def test_home_shows_what_is_due_and_coming_up(me: TestClient, interview: dict[str, Any]) -> None:
    html = me.get("/").text
    assert "Upcoming interviews" in html and "Due now" not in html
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    html = me.get("/").text  # due tomorrow: coming up, with the draft one click away
    assert "Send a thank-you note to Maya Okafor" in html and "Upcoming interviews" not in html
    assert "/messages/new?contact_id=" in html and "kind=thank_you" in html
