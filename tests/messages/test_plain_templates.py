"""Templates in plain words: a field is its name in square brackets ("[your major]"), the API
keeps the Jinja source, and plain words and the source turn into each other without losing a
thing. A student sees no braces unless they open the advanced form."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from app.messages.templating import FIELDS, PLACEHOLDERS, READING, render, to_plain, to_source
from tests.conftest import signed_in
from tests.imports.helpers import make_staff

HX = {"HX-Request": "true"}
LABELS = [f"[{label}]" for label in PLACEHOLDERS]
BRACES = re.compile(r"\{\{|\{%|\{#")


def visible(html: str) -> str:
    """The page as a student sees it: no closed <details>, no attributes, no hidden toolbar."""
    html = re.sub(r"<details(?![^>]*\bopen\b).*?</details>", "", html, flags=re.S)
    return re.sub(r"<[^>]*>", "", html)


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    client.patch("/api/v1/me", json={"school": "Hamline University", "major": "biology"})
    return client


# --- the conversion ---


def test_every_field_has_a_name_of_its_own() -> None:
    assert len(PLACEHOLDERS) == sum(len(names) for names in FIELDS.values())


@given(st.lists(st.one_of(st.sampled_from(LABELS), st.sampled_from(["{", "}", "%", "#", "[", "]"]),
                          st.text(max_size=8))))
def test_plain_words_come_back_as_they_were_typed(parts: list[str]) -> None:
    plain = "".join(parts).replace("\r\n", "\n").replace("\r", "\n")
    source = to_source(plain)
    assert to_plain(source) == plain
    # …and the source says what the words say: each field, everything else as typed.
    expected = plain
    for label in LABELS:
        expected = expected.replace(label, label.upper())
    shown = {ns: {name: f"[{label.upper()}]" for name, label in names.items()}
             for ns, names in FIELDS.items()}
    assert render({"body": source}, shown)["body"] == expected


def test_a_source_of_text_and_fields_has_plain_words_that_make_it_again() -> None:
    source = "Dear {{ contact.first_name }},\n\nI study {{student.major}} at {{ student.school }}."
    plain = to_plain(source)
    assert plain == "Dear [their first name],\n\nI study [your major] at [your school]."
    assert render({"b": to_source(plain)}, READING) == render({"b": source}, READING)


@pytest.mark.parametrize("source", [
    "{% if contact.referrer %}Referred by {{ contact.referrer }}.{% endif %}",
    "becoming {{ student.career_goal|article }}",
    "{{ student.major }} and the words [your major] typed as text",
    "{{ 'quoted' }}",
    "{# a note #}",
])
def test_conditions_filters_and_lookalike_text_have_no_plain_form(source: str) -> None:
    assert to_plain(source) is None


# --- the API: the body stays the source ---


def test_a_template_written_in_plain_words_is_stored_as_its_source(me: TestClient) -> None:
    made = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine", "format": "plain",
        "subject": "A {{ question }} from [your school]",
        "body": "Hello [their first name], I study [your major]."})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["body"] == "Hello {{ contact.first_name }}, I study {{ student.major }}."
    assert body["subject"] == 'A {{ "{" }}{ question }} from {{ student.school }}'
    assert body["plain_body"] == "Hello [their first name], I study [your major]."
    assert body["plain_subject"] == "A {{ question }} from [your school]"

    changed = me.patch(f"/api/v1/templates/{body['id']}", headers={"If-Match": "*"},
                       json={"format": "plain", "body": "Hi [their name]."})
    assert changed.status_code == 200, changed.text
    assert changed.json()["body"] == "Hi {{ contact.full_name }}."
    assert changed.json()["subject"] == body["subject"]  # not sent, not changed


def test_the_source_is_still_what_the_api_takes_and_gives(me: TestClient) -> None:
    source = "{% if contact.referrer %}{{ contact.referrer }} sent me.{% endif %} Hi."
    made = me.post("/api/v1/templates",
                   json={"kind": "outreach", "name": "Old client", "body": source}).json()
    assert made["body"] == source
    assert made["plain_body"] is None and made["plain_subject"] is None
    assert me.get(f"/api/v1/templates/{made['id']}").json()["body"] == source


def test_plain_words_are_checked_like_a_template(me: TestClient) -> None:
    response = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine", "format": "plain", "body": "x" * 10_001})
    assert response.status_code == 422
    response = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine", "format": "words", "body": "Hi"})
    assert response.status_code == 422 and "format" in response.text


# --- the pages ---


def test_a_student_edits_in_plain_words_and_sees_no_braces(me: TestClient) -> None:
    made = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine",
        "body": "Hello {{ contact.first_name }}, I study {{ student.major }}."}).json()
    html = me.get(f"/messages/templates/{made['id']}").text
    assert "Hello [their first name], I study [your major].</textarea>" in html
    assert 'name="format" value="plain"' in html
    assert not BRACES.search(visible(html))
    assert 'data-plain="[your major]"' in html  # the chip


def test_staff_see_the_source_and_may_ask_for_plain_words(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    made = staff.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Office", "body": "Hello {{ contact.first_name }}."}).json()
    html = staff.get(f"/messages/templates/{made['id']}").text
    assert "Hello {{ contact.first_name }}.</textarea>" in html
    assert 'name="format" value="jinja"' in html
    html = staff.get(f"/messages/templates/{made['id']}?mode=plain").text
    assert "Hello [their first name].</textarea>" in html


def test_a_template_with_conditions_opens_in_advanced_and_says_why(me: TestClient) -> None:
    source = "Hi.{% if contact.referrer %} {{ contact.referrer }} sent me.{% endif %}"
    made = me.post("/api/v1/templates",
                   json={"kind": "outreach", "name": "Mine", "body": source}).json()
    html = me.get(f"/messages/templates/{made['id']}").text
    assert 'name="format" value="jinja"' in html
    assert "keeps a sentence only when a value is given" in html
    assert "{% if contact.referrer %}" in html.replace("&#34;", '"')


def test_switching_forms_keeps_unsaved_words(me: TestClient) -> None:
    plain = {"subject": "From [your school]", "body": "Hi [their name], {{ not a field }}.",
             "format": "plain"}
    html = me.post("/messages/templates/text", json={**plain, "show": "advanced"},
                   headers=HX).text
    advanced = {"subject": "From {{ student.school }}",
                "body": 'Hi {{ contact.full_name }}, {{ "{" }}{ not a field }}.', "format": "jinja"}
    assert 'value="From {{ student.school }}"' in html
    assert ">Hi {{ contact.full_name }}, {{ &#34;{&#34; }}{ not a field }}.</textarea>" in html
    assert 'name="format" value="jinja"' in html
    html = me.post("/messages/templates/text", json={**advanced, "show": "plain"},
                   headers=HX).text
    assert 'value="From [your school]"' in html
    assert ">Hi [their name], {{ not a field }}.</textarea>" in html


def test_switching_to_plain_words_keeps_conditions_in_advanced(me: TestClient) -> None:
    html = me.post("/messages/templates/text", headers=HX, json={
        "subject": "", "body": "{% if contact.title %}x{% endif %}", "format": "jinja",
        "show": "plain"}).text
    assert 'name="format" value="jinja"' in html and "Plain words cannot show that" in html


def test_switching_forms_needs_a_session(client: TestClient) -> None:
    response = client.post("/messages/templates/text",
                           json={"body": "x", "format": "plain", "show": "advanced"},
                           follow_redirects=False)
    assert response.status_code in {303, 401}


def test_a_default_reads_in_plain_words_for_a_student(me: TestClient) -> None:
    html = me.get("/messages/templates/template-outreach").text
    assert "majoring in [your major]" in html
    assert not BRACES.search(visible(html))
    assert 'class="template-advanced" open' not in html  # the source waits behind "Advanced"


def test_a_students_copy_of_a_default_starts_in_plain_words(me: TestClient) -> None:
    html = me.get("/messages/templates/new?copy=template-outreach").text
    assert 'name="format" value="plain"' in html and "majoring in [your major]" in html
    assert "copy it in advanced form" in html
    assert not BRACES.search(visible(html))
    advanced = me.get("/messages/templates/new?copy=template-outreach&mode=advanced").text
    assert "{% if contact.referrer %}" in advanced.replace("&#34;", '"')


def test_saving_from_the_page_in_plain_words(me: TestClient) -> None:
    response = me.post("/api/v1/templates", headers=HX, json={
        "kind": "outreach", "name": "Mine", "subject": "", "format": "plain",
        "body": "Dear [their name],\r\nI study [your major]."})
    assert response.status_code == 200 and response.headers["HX-Redirect"]
    saved = me.get("/api/v1/templates", params={"kind": "outreach"}).json()["items"]
    mine = next(t for t in saved if t["name"] == "Mine")
    assert mine["body"] == "Dear {{ contact.full_name }},\nI study {{ student.major }}."


def test_a_plain_template_makes_the_draft(me: TestClient) -> None:
    contact: dict[str, Any] = me.post("/api/v1/contacts", json={
        "first_name": "Kim", "last_name": "Nguyen"}).json()
    made = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine", "format": "plain", "subject": "Hi",
        "body": "Hello [their first name], I study [your major]."}).json()
    draft = me.post("/api/v1/messages/preview", json={
        "kind": "outreach", "contact_id": contact["id"], "template_id": made["id"]}).json()
    assert draft["body"] == "Hello Kim, I study biology."


# --- the compose page ---


def test_composing_with_a_plain_template_shows_plain_words(me: TestClient) -> None:
    kim = me.post("/api/v1/contacts", json={"first_name": "Kim", "last_name": "Nguyen"}).json()
    made = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Mine", "format": "plain", "subject": "From [your school]",
        "body": "Hello [their first name], I study [your major]."}).json()
    html = me.get(f"/messages/new?contact_id={kim['id']}&template_id={made['id']}").text
    assert ">Hello [their first name], I study [your major].</textarea>" in html
    assert 'value="From [your school]"' in html and 'name="format" value="plain"' in html
    assert "Hello Kim, I study biology." in html  # the draft
    assert not BRACES.search(visible(html))


def test_composing_with_the_default_keeps_its_source_behind_advanced(me: TestClient) -> None:
    kim = me.post("/api/v1/contacts", json={"first_name": "Kim", "last_name": "Nguyen"}).json()
    html = me.get(f"/messages/new?contact_id={kim['id']}").text
    assert "Advanced: change the template&#39;s words" in html or "change the template's words" in html
    assert not BRACES.search(visible(html))
    assert "{% if contact.referrer %}" in html.replace("&#34;", '"')  # there, for who asks


def test_the_draft_takes_plain_words(me: TestClient) -> None:
    kim = me.post("/api/v1/contacts", json={"first_name": "Kim", "last_name": "Nguyen"}).json()
    draft = me.post("/api/v1/messages/preview", json={
        "kind": "outreach", "contact_id": kim["id"], "format": "plain", "subject": "Hi",
        "body": "Dear [their first name], a {{ brace }} stays."}).json()
    assert draft["body"] == "Dear Kim, a {{ brace }} stays."
    made = me.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": kim["id"], "format": "plain", "subject": "Hi",
        "body": "Dear [their first name]."})
    assert made.status_code == 201 and made.json()["body"] == "Dear Kim."


def test_plain_words_longer_than_a_template_once_written_out_are_refused(me: TestClient) -> None:
    response = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Long", "format": "plain", "body": "x",
        "subject": "[your major]" * 160})  # 1,920 characters; 3,040 written out
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "subject"
