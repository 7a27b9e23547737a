"""Drafts that read right for a career goal written any reasonable way, and the Settings page
showing the sentence the drafts will open with."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.messages.service import OPENING, default_template
from app.messages.templating import career_phrase
from tests.conftest import signed_in

GOALS = {
    "nursing": "pursuing a career in nursing",
    "a nurse": "becoming a nurse",
    "work in healthcare consulting": "working in healthcare consulting",
    "UX research": "pursuing a career in UX research",
    "physician assistant": "becoming a physician assistant",
    "I want to teach high school chemistry": "teaching high school chemistry",
    "an engineer": "becoming an engineer",
    "UX researcher": "becoming a UX researcher",
    "product management": "pursuing a career in product management",
    "a career in law": "pursuing a career in law",
}


@pytest.mark.parametrize(("goal", "phrase"), GOALS.items())
def test_a_career_goal_becomes_what_follows_in_hopes_of(goal: str, phrase: str) -> None:
    assert career_phrase(goal) == phrase


@pytest.fixture
def contact(client: TestClient) -> dict[str, Any]:
    signed_in(client)
    response = client.post("/api/v1/contacts", json={
        "first_name": "Ana", "last_name": "Diaz", "email": "ana@clinic.org",
        "organization_name": "Clinic", "referrer_name": "Dr. Jones"})
    assert response.status_code == 201
    return dict(response.json())


@pytest.mark.parametrize(("goal", "phrase"), list(GOALS.items())[:4])
def test_every_default_draft_reads_right_for_the_goal(
    client: TestClient, contact: dict[str, Any], goal: str, phrase: str,
) -> None:
    client.patch("/api/v1/me", json={"school": "Concordia University", "major": "biology",
                                     "career_goal": goal})
    expected = {
        "outreach": "I am a student at Concordia University majoring in biology, in hopes of "
                    f"{phrase}.",
        "linkedin_note": f"I am a biology student at Concordia University, interested in {phrase}.",
        "thank_you": f"a clearer picture of what {phrase} takes.",
    }
    for kind, sentence in expected.items():
        draft = client.post("/api/v1/messages/preview",
                            json={"kind": kind, "contact_id": contact["id"]})
        assert draft.status_code == 200, draft.text
        body = draft.json()["body"]
        assert sentence in body, body
        for wrong in ("as a work", "a career as", "becoming a work", "a nursing", "an UX",
                      "become a UX research"):
            assert wrong not in body


def test_the_default_outreach_opens_with_the_sentence_settings_shows(
    client: TestClient, app: Any,
) -> None:
    with Session(app.state.engine) as db:
        assert OPENING in default_template(db, "outreach").body


def test_settings_shows_the_sentence_and_its_hint_agrees(client: TestClient) -> None:
    signed_in(client)
    client.patch("/api/v1/me", json={"school": "Concordia University", "major": "biology",
                                     "career_goal": "a nurse"})
    page = client.get("/settings").text
    assert ("I am a student at Concordia University majoring in biology, in hopes of becoming a "
            "nurse.") in page
    hint = page.split('id="h-career_goal"')[1].split("</p>")[0]
    for example in ("nursing", "a nurse", "UX research", "work in healthcare consulting"):
        assert example in hint
        assert career_phrase(example) in client.get(
            "/settings/career-sentence", params={"career_goal": example}).text


def test_the_sentence_follows_what_is_typed_and_marks_what_is_missing(
    client: TestClient,
) -> None:
    signed_in(client)
    response = client.get("/settings/career-sentence", headers={"HX-Request": "true"},
                          params={"school": "Macalester", "major": "",
                                  "career_goal": "work in healthcare consulting"})
    assert response.status_code == 200
    assert ("I am a student at Macalester majoring in [your major], in hopes of working in "
            "healthcare consulting.") in response.text
    assert "<html" not in response.text
    too_long = client.get("/settings/career-sentence", params={"career_goal": "x" * 501})
    assert too_long.status_code == 422


def test_the_sentence_is_for_signed_in_students_only(client: TestClient) -> None:
    response = client.get("/settings/career-sentence", params={"career_goal": "nursing"},
                          follow_redirects=False)
    assert response.status_code in (303, 401)
