"""Messages through the API: drafts built from what Rapport knows, the checks, sending, and what
sending sets in motion."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import signed_in

HANDOUT_STUDENT = {"school": "Concordia University, St. Paul", "major": "biology",
                   "career_goal": "physician assistant", "timezone": "America/Chicago"}


@pytest.fixture
def me(client: TestClient) -> TestClient:
    signed_in(client)
    client.patch("/api/v1/me", json=HANDOUT_STUDENT)
    return client


@pytest.fixture
def referred(me: TestClient) -> dict[str, Any]:
    """A physician assistant whom Dr. Jones, a faculty member, suggested."""
    response = me.post("/api/v1/contacts", json={
        "first_name": "Maya", "last_name": "Okafor", "email": "maya@regions.org",
        "title": "Physician Assistant", "organization_name": "Regions Hospital",
        "source": "referral", "referrer_name": "Dr. Jones"})
    assert response.status_code == 201
    return dict(response.json())


def write(me: TestClient, contact: dict[str, Any], kind: str = "outreach",
          **fields: Any) -> dict[str, Any]:
    response = me.post("/api/v1/messages", json={"kind": kind, "contact_id": contact["id"],
                                                 **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def business_days_after(start: date, n: int, holidays: set[date] = set()) -> date:  # noqa: B006
    day = start
    while n:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            n -= 1
    return day


def chicago_morning(day: date) -> datetime:
    return datetime.combine(day, time(9), ZoneInfo("America/Chicago")).astimezone(UTC)


def test_the_default_outreach_is_the_handouts_example_for_this_student(
    me: TestClient, referred: dict[str, Any]
) -> None:
    draft = write(me, referred)
    body = draft["body"]
    assert draft["kind"] == "outreach" and draft["channel"] == "email" and draft["status"] == "draft"
    assert "I am a student at Concordia University, St. Paul majoring in biology" in body
    assert "physician assistant" in body and "Dr. Jones" in body
    assert "30-minute meeting" in body and "call your office" in body
    assert body.startswith("Dear Maya Okafor,") and body.rstrip().endswith("Maya Okafor")
    assert draft["word_count"] < 150 and draft["word_count"] == len(body.split())
    assert draft["char_count"] == len(body)
    assert draft["warnings"] == []
    assert draft["subject"] == ("Informational interview request from a Concordia University, "
                                "St. Paul student")
    assert draft["to"] == "maya@regions.org"
    # The handout's sentences, in its order.
    order = ["student at", "contact information", "willing to meet", "30-minute", "call your office",
             "Thank you"]
    assert [body.index(s) for s in order] == sorted(body.index(s) for s in order)


def test_a_missing_value_never_leaves_a_hole(client: TestClient) -> None:
    signed_in(client)
    contact = client.post("/api/v1/contacts", json={"first_name": "Ana", "email": "a@x.org"}).json()
    draft = write(client, contact)
    assert "majoring in ," not in draft["body"] and "at  " not in draft["body"]
    assert "[your major]" in draft["body"] and "[your school]" in draft["body"]
    fields = {w["field"] for w in draft["warnings"] if w["code"] == "placeholder"}
    assert {"student.school", "student.major", "student.career_goal"} <= fields
    assert "given your contact" not in draft["body"]  # no referrer: the sentence is left out
    # A value given for this message fills the gap without touching the profile.
    filled = write(client, contact, values={"student.school": "Macalester College",
                                            "student.major": "chemistry",
                                            "student.career_goal": "pharmacist"})
    assert "Macalester College majoring in chemistry" in filled["body"]
    assert "a pharmacist" in filled["body"] and filled["warnings"] == []
    assert client.get("/api/v1/me").json()["major"] == ""


def test_the_referrer_is_a_contact_or_a_name(me: TestClient) -> None:
    jones = me.post("/api/v1/contacts", json={"first_name": "Ruth", "last_name": "Jones"}).json()
    kim = me.post("/api/v1/contacts", json={"first_name": "Kim", "email": "kim@x.org",
                                            "referred_by_id": jones["id"]}).json()
    assert "by Ruth Jones." in write(me, kim)["body"]


def test_the_checks_name_what_a_careful_reader_would(me: TestClient, referred: dict[str, Any]) -> None:
    def codes(**fields: Any) -> dict[str, str]:
        draft = me.post("/api/v1/messages/preview", json={
            "kind": fields.pop("kind", "outreach"), "contact_id": referred["id"], **fields}).json()
        return {w["code"]: w["level"] for w in draft["warnings"]}

    assert codes(body="word " * 151 + "Could we meet?") == {"too_long": "warning"}
    assert codes(body="Could we meet? " + "x" * 300, kind="linkedin_note") == {
        "linkedin_too_long": "error"}
    assert "job_request" in codes(body="Are you hiring? I would love an internship.")
    assert codes(body="I study biology.") == {"no_request": "warning"}
    assert codes(body="Could we meet? [your update]") == {"placeholder": "warning"}
    assert codes(subject=" ", body="Could we meet?") == {"empty_subject": "warning"}
    assert codes(kind="thank_you", body="Thank you.") == {}  # a thank-you asks for nothing
    nobody = me.post("/api/v1/contacts", json={"first_name": "Lee"}).json()
    draft = me.post("/api/v1/messages/preview", json={
        "kind": "outreach", "contact_id": nobody["id"], "body": "Could we meet?"}).json()
    assert [w["code"] for w in draft["warnings"]] == ["no_email"]


def test_every_kind_has_a_default_that_reads_well(me: TestClient, referred: dict[str, Any]) -> None:
    interview = me.post("/api/v1/interviews", json={
        "contact_id": referred["id"], "scheduled_at": "2026-11-20T15:00:00Z",
        "takeaways": "Clinical rotations are the heart of PA school.\nShadow first."}).json()
    me.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    templates = me.get("/api/v1/templates").json()["items"]
    assert {t["kind"] for t in templates if t["is_default"]} == {
        "outreach", "linkedin_note", "follow_up", "thank_you", "referral_request", "reconnect"}
    note = write(me, referred, "linkedin_note")
    assert note["channel"] == "linkedin" and note["mailto"] is None and note["char_count"] <= 300
    assert note["warnings"] == [] and "Dr. Jones suggested" in note["body"]
    thanks = write(me, referred, "thank_you")
    assert thanks["interview_id"] == interview["id"]
    assert "on Friday, November 20" in thanks["body"]
    assert "what you shared about clinical rotations are the heart of PA school" in thanks["body"]
    assert thanks["warnings"] == []
    update = write(me, referred, "reconnect")
    assert [w["code"] for w in update["warnings"]] == ["placeholder"]  # "[what you have done since]"
    follow = write(me, referred, "follow_up")
    assert follow["warnings"] == [] and "Would that be possible?" in follow["body"]


def test_a_thank_you_without_a_topic_asks_for_one(me: TestClient, referred: dict[str, Any]) -> None:
    thanks = write(me, referred, "thank_you")
    assert "[something you discussed]" in thanks["body"]
    assert [w["field"] for w in thanks["warnings"]] == ["interview.topic"]
    given = write(me, referred, "thank_you", values={"interview.topic": "your first year as a PA"})
    assert "about your first year as a PA," in given["body"] and given["warnings"] == []


def test_an_introduction_is_asked_of_the_referrer(me: TestClient) -> None:
    jones = me.post("/api/v1/contacts", json={"first_name": "Ruth", "last_name": "Jones",
                                              "email": "ruth@csp.edu"}).json()
    kim = me.post("/api/v1/contacts", json={"first_name": "Kim", "last_name": "Lee",
                                            "referred_by_id": jones["id"],
                                            "organization_name": "Mayo Clinic"}).json()
    ask = write(me, kim, "referral_request")
    assert ask["to"] == "ruth@csp.edu" and ask["body"].startswith("Dear Ruth Jones,")
    assert "talk with Kim Lee at Mayo Clinic" in ask["body"] and ask["warnings"] == []


def test_a_template_of_ones_own(me: TestClient, referred: dict[str, Any]) -> None:
    default = me.get("/api/v1/templates", params={"kind": "outreach"}).json()["items"][0]
    assert me.patch(f"/api/v1/templates/{default['id']}", json={"name": "x"}).status_code == 403
    assert me.delete(f"/api/v1/templates/{default['id']}").status_code == 403
    made = me.post("/api/v1/templates", json={
        "kind": "outreach", "name": "Short", "subject": "Hello from {{ student.school }}",
        "body": "Hi {{ contact.first_name }}, could we talk for 30 minutes? {{ student.name }}"})
    assert made.status_code == 201 and made.headers["Location"].endswith(made.json()["id"])
    draft = write(me, referred, template_id=made.json()["id"])
    assert draft["body"] == "Hi Maya, could we talk for 30 minutes? Maya Okafor"
    assert draft["template_id"] == made.json()["id"]
    wrong = me.post("/api/v1/messages", json={"kind": "thank_you", "contact_id": referred["id"],
                                              "template_id": made.json()["id"]})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "template_id"
    etag = me.get(f"/api/v1/templates/{made.json()['id']}").headers["ETag"]
    assert me.patch(f"/api/v1/templates/{made.json()['id']}", json={"name": "Shorter"},
                    headers={"If-Match": etag}).json()["name"] == "Shorter"
    assert me.patch(f"/api/v1/templates/{made.json()['id']}", json={"name": "Stale"},
                    headers={"If-Match": etag}).status_code == 412
    assert me.delete(f"/api/v1/templates/{made.json()['id']}").status_code == 204
    assert write(me, referred)["template_id"] == default["id"]


def test_the_mail_app_link_and_the_email_file(me: TestClient, referred: dict[str, Any]) -> None:
    draft = write(me, referred)
    link = urlsplit(draft["mailto"])
    assert link.scheme == "mailto" and link.path == "maya@regions.org"
    query = parse_qs(link.query)
    assert query["subject"] == [draft["subject"]]
    assert query["body"] == [draft["body"].replace("\n", "\r\n")]
    eml = me.get(f"/api/v1/messages/{draft['id']}/message.eml")
    assert eml.status_code == 200 and eml.headers["content-type"].startswith("message/rfc822")
    assert "attachment" in eml.headers["content-disposition"]
    parsed = message_from_bytes(eml.content, policy=policy.default)
    assert parsed["To"] == "Maya Okafor <maya@regions.org>"
    assert parsed["From"] == "Maya Okafor <maya@uni.edu>" and parsed["X-Unsent"] == "1"
    assert parsed["Subject"] == draft["subject"]
    assert parsed.get_content().replace("\r\n", "\n").strip() == draft["body"].strip()


def test_international_addresses_in_the_email_file(me: TestClient) -> None:
    for address, to in [("ann@bücher.de", "Ann <ann@xn--bcher-kva.de>"), ("josé@example.com", None)]:
        contact = me.post("/api/v1/contacts", json={"first_name": "Ann", "email": address}).json()
        message = write(me, contact)
        eml = me.get(f"/api/v1/messages/{message['id']}/message.eml")
        assert eml.status_code == 200
        assert message_from_bytes(eml.content, policy=policy.default)["To"] == to


def test_every_placeholder_left_is_flagged(me: TestClient, referred: dict[str, Any]) -> None:
    draft = me.post("/api/v1/messages/preview", json={
        "kind": "thank_you", "contact_id": referred["id"],
        "body": "{{ contact.location }} {{ interview.date }} {{ outreach.date }}"}).json()
    assert [w["field"] for w in draft["warnings"]] == ["contact.location", "interview.date",
                                                       "outreach.date"]


def test_values_are_checked_like_any_text(me: TestClient, referred: dict[str, Any]) -> None:
    refused = me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": referred["id"],
                                                "values": {"student.major": "bio\u0000logy"}})
    assert refused.status_code == 422 and refused.json()["fields"][0]["field"] == "values"
    long = me.post("/api/v1/messages", json={"kind": "outreach", "contact_id": referred["id"],
                                             "subject": "{{ student.school }}" * 80})
    assert long.status_code == 422 and long.json()["fields"][0]["field"] == "subject"


def test_reminders_are_not_doubled(me: TestClient, referred: dict[str, Any]) -> None:
    colleague = me.post("/api/v1/contacts", json={
        "first_name": "Sam", "email": "sam@regions.org", "organization_name": "Regions Hospital"}).json()
    write(me, referred, status="sent")
    write(me, colleague, status="sent")
    write(me, referred, "thank_you", values={"interview.topic": "x"}, status="sent")
    write(me, referred, "thank_you", values={"interview.topic": "y"}, status="sent")
    tasks = me.get("/api/v1/tasks", params={"status": "open"}).json()["items"]
    assert sorted(t["kind"] for t in tasks) == ["follow_up", "reconnect", "second_contact"]
    # Thanked: no follow-up on the outreach is left for them; the colleague's still stands.
    assert next(t for t in tasks if t["kind"] == "follow_up")["contact_id"] == colleague["id"]


def test_a_draft_is_edited_then_checked_again(me: TestClient, referred: dict[str, Any]) -> None:
    draft = write(me, referred)
    edited = me.patch(f"/api/v1/messages/{draft['id']}",
                      json={"body": "Hello! Could you help me find a job?"}).json()
    assert edited["body"] == "Hello! Could you help me find a job?"
    assert [w["code"] for w in edited["warnings"]] == ["job_request"]
    assert me.get(f"/api/v1/messages/{draft['id']}").json()["body"] == edited["body"]


def test_sending_outreach_moves_the_contact_and_schedules_in_business_days(
    me: TestClient, referred: dict[str, Any]
) -> None:
    colleague = me.post("/api/v1/contacts", json={
        "first_name": "Sam", "last_name": "Lee", "organization_name": "Regions Hospital"}).json()
    draft = write(me, referred)
    sent = me.patch(f"/api/v1/messages/{draft['id']}", json={"status": "sent"})
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert sent.json()["sent_at"] is not None
    assert me.get(f"/api/v1/contacts/{referred['id']}").json()["stage"] == "contacted"
    events = me.get(f"/api/v1/contacts/{referred['id']}/timeline").json()["items"]
    assert any(e["kind"] == "message_sent" for e in events)
    tasks = {t["kind"]: t for t in me.get("/api/v1/tasks", params={
        "contact_id": referred["id"]}).json()["items"]}
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    follow = datetime.fromisoformat(tasks["follow_up"]["due_at"])
    assert follow == chicago_morning(business_days_after(today, 7))
    assert follow.astimezone(ZoneInfo("America/Chicago")).weekday() < 5
    second = tasks["second_contact"]
    assert second["title"] == "Reach out to a second person at Regions Hospital: perhaps Sam Lee"
    assert datetime.fromisoformat(second["due_at"]) == chicago_morning(business_days_after(today, 3))
    assert colleague["stage"] == "identified"
    # A sent message is a record: its text no longer changes, and it is not sent twice.
    assert me.patch(f"/api/v1/messages/{draft['id']}", json={"body": "x"}).status_code == 409
    assert me.patch(f"/api/v1/messages/{draft['id']}", json={"status": "sent"}).status_code == 200
    assert me.patch(f"/api/v1/messages/{draft['id']}", json={"status": "draft"}).status_code == 409
    # The answer closes the follow-up.
    replied = me.patch(f"/api/v1/messages/{draft['id']}", json={"status": "replied"}).json()
    assert replied["replied_at"] is not None
    follow_up = me.get(f"/api/v1/tasks/{tasks['follow_up']['id']}").json()
    assert follow_up["status"] == "done"


def test_holidays_and_intervals_are_settings(
    make_settings: Callable[..., Settings],
) -> None:
    today = datetime.now(ZoneInfo("America/Chicago")).date()
    holidays = {business_days_after(today, 1), business_days_after(today, 2)}
    settings = make_settings(follow_up_business_days=2, reconnect_months=4,
                             holidays=",".join(d.isoformat() for d in holidays))
    with TestClient(create_app(settings)) as c:
        signed_in(c)
        c.patch("/api/v1/me", json=HANDOUT_STUDENT)
        contact = c.post("/api/v1/contacts", json={"first_name": "Ana", "email": "a@x.org"}).json()
        write(c, contact, status="sent")
        follow = c.get("/api/v1/tasks", params={"contact_id": contact["id"]}).json()["items"][0]
        assert datetime.fromisoformat(follow["due_at"]) == chicago_morning(
            business_days_after(today, 2, holidays))
        thanks = write(c, contact, "thank_you", values={"interview.topic": "x"}, status="sent")
        assert thanks["status"] == "sent"
        reconnect = next(t for t in c.get("/api/v1/tasks").json()["items"] if t["kind"] == "reconnect")
        due = datetime.fromisoformat(reconnect["due_at"]).astimezone(ZoneInfo("America/Chicago"))
        month = (today.month + 3) % 12 + 1
        assert due.month in {month, month % 12 + 1} and due.weekday() < 5 and due.hour == 9


def test_a_thank_you_sent_closes_its_task_and_plans_to_reconnect(
    me: TestClient, referred: dict[str, Any]
) -> None:
    interview = me.post("/api/v1/interviews", json={"contact_id": referred["id"],
                                                    "status": "completed",
                                                    "takeaways": "Rotations"}).json()
    task = me.get("/api/v1/tasks", params={"interview_id": interview["id"]}).json()["items"][0]
    assert task["kind"] == "thank_you" and task["status"] == "open"
    write(me, referred, "thank_you", status="sent")
    assert me.get(f"/api/v1/tasks/{task['id']}").json()["status"] == "done"
    assert me.get(f"/api/v1/contacts/{referred['id']}").json()["stage"] == "thanked"
    kinds = [t["kind"] for t in me.get("/api/v1/tasks", params={"status": "open"}).json()["items"]]
    assert kinds == ["reconnect"]


def test_messages_are_listed_and_filtered(me: TestClient, referred: dict[str, Any]) -> None:
    first = write(me, referred)
    second = write(me, referred, "linkedin_note", status="sent")
    everything = me.get("/api/v1/messages").json()["items"]
    assert [m["id"] for m in everything] == [second["id"], first["id"]]
    assert [m["id"] for m in me.get("/api/v1/messages", params={"status": "sent"}).json()["items"]] \
        == [second["id"]]
    assert [m["id"] for m in me.get("/api/v1/messages", params={
        "kind": "outreach", "contact_id": referred["id"]}).json()["items"]] == [first["id"]]


def test_creating_twice_with_one_idempotency_key_makes_one_message(
    me: TestClient, referred: dict[str, Any]
) -> None:
    body = {"kind": "outreach", "contact_id": referred["id"]}
    headers = {"Idempotency-Key": "k1"}
    one = me.post("/api/v1/messages", json=body, headers=headers)
    two = me.post("/api/v1/messages", json=body, headers=headers)
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]
    assert len(me.get("/api/v1/messages").json()["items"]) == 1


def test_bad_input_names_the_field(me: TestClient, referred: dict[str, Any]) -> None:
    cases = [({"kind": "poem", "contact_id": referred["id"]}, "kind"),
             ({"kind": "outreach", "contact_id": referred["id"], "values": {"student.ssn": "1"}},
              "values"),
             ({"kind": "outreach", "contact_id": referred["id"], "owner_id": "x"}, "owner_id")]
    for body, field in cases:
        response = me.post("/api/v1/messages", json=body)
        assert response.status_code == 422, body
        assert field in {f["field"].split(".")[0] for f in response.json()["fields"]}, response.text
    other = me.post("/api/v1/contacts", json={"first_name": "Other"}).json()
    interview = me.post("/api/v1/interviews", json={"contact_id": other["id"]}).json()
    mixed = me.post("/api/v1/messages", json={"kind": "thank_you", "contact_id": referred["id"],
                                              "interview_id": interview["id"]})
    assert mixed.status_code == 422 and mixed.json()["fields"][0]["field"] == "interview_id"


def test_messages_need_their_scopes(client: TestClient, referred: dict[str, Any]) -> None:
    from tests.conftest import api_key

    key = api_key(client, ["contacts:read", "messages:read"])
    bearer = {"Authorization": f"Bearer {key}"}
    with TestClient(client.app) as script:
        assert script.get("/api/v1/messages", headers=bearer).status_code == 200
        refused = script.post("/api/v1/messages", headers=bearer,
                              json={"kind": "outreach", "contact_id": referred["id"]})
        assert refused.status_code == 403 and "messages:write" in refused.json()["detail"]
