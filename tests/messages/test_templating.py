"""Templates students write are rendered in a sandbox: known attacks are refused, quickly, with
the problem named, and nothing of the server shows."""

import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SECRET, signed_in

ATTACKS = [
    ("{{ ''.__class__.__mro__ }}", "__mro__"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "function calls"),
    ("{{ cycler.__init__.__globals__ }}", "__globals__"),
    ("{{ cycler }}", "cycler"),
    ("{{ ''|attr('format') }}", "attr"),
    ("{{ ''|attr('__class__') }}", "attr"),
    ("{% for i in range(10**9) %}x{% endfor %}", "loops"),
    ("{% for a in 'xxxxxxxxxx' %}{% for b in 'xxxxxxxxxx' %}{% endfor %}{% endfor %}", "loops"),
    ("{{ 'a'*10**9 }}", "arithmetic"),
    ("{{ 9 ** 9 ** 9 }}", "arithmetic"),
    ("{{ config }}", "config"),
    ("{{ self }}", "self"),
    ("{{ request }}", "request"),
    ("{{ lipsum() }}", "function calls"),
    ("{{ student.items() }}", "function calls"),
    ("{{ student.__dict__ }}", "__dict__"),
    ("{{ student['major'] }}", "indexing"),
    ("{% set x = 'a' %}{{ x }}", "setting variables"),
    ("{% include 'base.html' %}", "including"),
    ("{% extends 'base.html' %}", "extending"),
    ("{% import 'base.html' as b %}", "importing"),
    ("{% macro m() %}{% endmacro %}", "macros"),
    ("{{ 'x'|center(1000000000) }}", "center"),
    ("{{ 'x'|replace('', 'yyyyyyyyyy') }}", "replace"),
    ("{{ student.major|default(contact) }}", "plain values"),
    ("{{ student.major", "Line 1"),
    ("{{ " + "(" * 80 + "1" + ")" * 80 + " }}", "nests too deeply"),
    ("{%if 1%}" * 100 + "x" + "{%endif%}" * 100, "nests more than"),
    ("{{ contact.title" + "|upper" * 200 + " }}", "nests more than"),
    ("{{ contact.first_name|truncate(1e400) }}", "plain values"),
    ("{{ 1 < 'a' }}", "could not be used"),  # tried once before it is saved
]


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    return client


@pytest.mark.parametrize(("source", "named"), ATTACKS)
def test_an_unsafe_template_is_refused_with_the_problem_named(
    me: TestClient, source: str, named: str
) -> None:
    started = time.monotonic()
    response = me.post("/api/v1/templates", json={"kind": "outreach", "name": "x", "body": source})
    assert time.monotonic() - started < 1
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "template_error"
    assert error["fields"][0]["field"] == "body" and named in error["fields"][0]["message"]
    assert SECRET not in response.text and "Traceback" not in response.text
    assert me.get("/api/v1/templates", params={"kind": "outreach"}).json()["items"][0]["is_default"]


def test_the_same_attacks_are_refused_in_a_subject_and_in_a_live_preview(
    me: TestClient,
) -> None:
    contact = me.post("/api/v1/contacts", json={"first_name": "Ana"}).json()
    for source, _ in ATTACKS:
        made = me.post("/api/v1/templates", json={"kind": "outreach", "name": "x",
                                                  "subject": source, "body": "Hello"})
        assert made.status_code == 422 and made.json()["fields"][0]["field"] == "subject"
        preview = me.post("/api/v1/messages/preview", json={
            "kind": "outreach", "contact_id": contact["id"], "body": source})
        assert preview.status_code == 422, source
        assert SECRET not in preview.text


def test_and_or_not_are_fine(me: TestClient) -> None:
    body = ("{% if contact.title and not student.major or contact.referrer %}yes{% else %}no"
            "{% endif %}")
    assert me.post("/api/v1/templates", json={"kind": "outreach", "name": "x",
                                              "body": body}).status_code == 201


def test_a_template_that_would_write_too_much_is_refused(me: TestClient) -> None:
    contact = me.post("/api/v1/contacts", json={"first_name": "Ana"}).json()
    me.patch("/api/v1/me", json={"signature": "S" * 1900})
    response = me.post("/api/v1/messages/preview", json={
        "kind": "outreach", "contact_id": contact["id"],
        "body": "{{ student.signature }}" * 400})
    assert response.status_code == 422 and "characters long" in response.text


def test_fields_and_filters_render_and_missing_values_show_as_placeholders(me: TestClient) -> None:
    me.patch("/api/v1/me", json={"school": "Hamline University", "career_goal": "engineer"})
    contact = me.post("/api/v1/contacts", json={"first_name": "Ana", "last_name": "Díaz"}).json()
    body = ("{{ contact.full_name|upper }} / {{ student.school }} / {{ student.career_goal|article }}"
            " / {{ student.major|upper }} / {% if contact.referrer %}ref{% else %}none{% endif %}"
            " / {{ contact.title|default('a professional') }}")
    draft = me.post("/api/v1/messages/preview", json={
        "kind": "outreach", "contact_id": contact["id"], "subject": "Hi", "body": body}).json()
    assert draft["body"] == ("ANA DÍAZ / Hamline University / an engineer / [your major] / none"
                             " / a professional")
    codes = [(w["code"], w["field"]) for w in draft["warnings"]]
    assert ("placeholder", "student.major") in codes
