"""The question bank: the handout's questions for everyone, word for word; a student's own."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import signed_in

# The career centre's handout the product is built from, as it was given to us.
HANDOUT = Path(__file__).parent / "informational-interviews.txt"
HX = {"HX-Request": "true"}


def handout_questions() -> dict[str, list[str]]:
    """The handout's "Questions to Ask" section: category lines, then their items."""
    lines = HANDOUT.read_text(encoding="utf-8").splitlines()
    section = lines[lines.index("Questions to Ask") + 1:]
    grouped: dict[str, list[str]] = {}
    current = ""
    for line in (item.removeprefix("- ") for item in section):
        if line in {"Position/Career Path", "Organization/Industry", "Next Steps"}:
            current = line
            grouped[current] = []
        elif line.strip():
            grouped[current].append(line)
    return grouped


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


def test_every_handout_question_is_in_the_bank_word_for_word(me: TestClient) -> None:
    expected = handout_questions()
    assert sum(len(v) for v in expected.values()) == 21
    for category, texts in expected.items():
        got = me.get("/api/v1/questions", params={"category": category, "limit": 200}).json()
        assert [q["text"] for q in got["items"]] == texts, category
        assert all(q["is_default"] for q in got["items"])


def test_the_bank_ships_the_three_categories_in_order(me: TestClient) -> None:
    items = me.get("/api/v1/questions", params={"limit": 200}).json()["items"]
    assert [q["category"] for q in items][:1] == ["Position/Career Path"]
    assert items[-1]["text"] == "Would you mind reviewing my resume and making any suggestions?"
    assert len(items) == 21


def test_defaults_are_read_only(me: TestClient) -> None:
    default = me.get("/api/v1/questions").json()["items"][0]
    for response in [me.patch(f"/api/v1/questions/{default['id']}", json={"text": "Mine now"}),
                     me.delete(f"/api/v1/questions/{default['id']}")]:
        assert response.status_code == 403
        assert response.json()["error"] == "default_question"
    assert me.get(f"/api/v1/questions/{default['id']}").json()["text"] == default["text"]


def test_a_student_adds_edits_and_deletes_their_own(me: TestClient) -> None:
    created = me.post("/api/v1/questions", json={
        "text": "What do you wish you had known in your first year?", "category": "Advice"})
    assert created.status_code == 201
    own = created.json()
    assert own["is_default"] is False and own["category"] == "Advice"
    assert [q["id"] for q in me.get("/api/v1/questions", params={"category": "Advice"})
            .json()["items"]] == [own["id"]]
    tag = me.get(f"/api/v1/questions/{own['id']}").headers["ETag"]
    edited = me.patch(f"/api/v1/questions/{own['id']}", json={"text": "What surprised you?"},
                      headers={"If-Match": tag})
    assert edited.status_code == 200 and edited.json()["text"] == "What surprised you?"
    assert me.patch(f"/api/v1/questions/{own['id']}", json={"text": "x"},
                    headers={"If-Match": tag}).status_code == 412
    assert me.delete(f"/api/v1/questions/{own['id']}").status_code == 204
    assert me.get(f"/api/v1/questions/{own['id']}").status_code == 404


def test_question_validation_names_the_field(me: TestClient) -> None:
    response = me.post("/api/v1/questions", json={"text": "", "category": "x" * 101, "extra": 1})
    assert response.status_code == 422
    assert {f["field"] for f in response.json()["fields"]} == {"text", "category", "extra"}


def test_the_bank_page_shows_every_question_and_adds_one(me: TestClient) -> None:
    html = me.get("/questions").text
    for texts in handout_questions().values():
        for text in texts:
            assert text.replace("'", "&#39;") in html, text
    response = me.post("/api/v1/questions", headers=HX,
                       json={"text": "What would you do differently?", "category": "Next Steps"})
    assert response.status_code == 201
    assert "Added to Next Steps" in response.text and 'hx-swap-oob="true"' in response.text
    assert "What would you do differently?" in response.text
    failed = me.post("/api/v1/questions", headers=HX, json={"text": "", "category": "Advice"})
    assert failed.status_code == 422 and 'value="Advice"' in failed.text
