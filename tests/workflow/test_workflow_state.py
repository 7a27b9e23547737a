"""Any sequence of a student's actions, through the JSON API, leaves the follow-through
consistent: no open task contradicts where a contact stands, the stage is what the events
imply, the dashboard counts what the records hold, and the timeline tells the same story."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.contacts.pages import STAGE_LABELS
from tests.conftest import login, register

PIPELINE = ["identified", "contacted", "scheduled", "interviewed", "thanked", "following_up"]
STAGES = [*PIPELINE, "closed"]
WORKFLOW = {"outreach", "follow_up", "second_contact", "thank_you", "reconnect",
            "referral_request"}
# The stage sending each kind of message implies.
SENT_STAGE = {"outreach": "contacted", "linkedin_note": "contacted", "follow_up": "contacted",
              "thank_you": "thanked", "reconnect": "following_up"}
FIRST = {"outreach", "linkedin_note"}
# Mostly the first person, so that one contact's story runs long; outreach comes up most.
WHO = st.sampled_from([0, 0, 0, 1])
KINDS = st.sampled_from(["outreach", "outreach", "linkedin_note", "follow_up", "thank_you",
                         "reconnect"])
ANSWERED = {"outreach", "linkedin_note", "follow_up"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def advance(stage: str, to: str) -> str:
    """The model's own rule: forward only, and never out of "closed" but by hand."""
    if stage == "closed" or PIPELINE.index(to) <= PIPELINE.index(stage):
        return stage
    return to


class FollowThrough(RuleBasedStateMachine):
    client: ClassVar[TestClient]

    def __init__(self) -> None:
        super().__init__()
        self.contacts: list[str] = []
        self.stage: dict[str, str] = {}
        self.messages: dict[str, tuple[str, str]] = {}  # id → (contact, kind)
        self.interviews: dict[str, str] = {}  # id → contact
        self.records: tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]] = ({}, [], {})

    @initialize()
    def contacts_to_follow(self) -> None:
        """Two new people at one organization (one student for every run: what earlier runs
        left stays, and the dashboard must count it all the same)."""
        run = len(self.items("/api/v1/contacts"))
        for body in ({"first_name": "Sam", "last_name": f"Rivera {run}", "organization_name": f"Org {run}"},
                     {"first_name": "Ana", "last_name": f"Diaz {run}", "organization_name": f"Org {run}"}):
            contact = ok(self.client.post("/api/v1/contacts", json=body), 201)
            self.contacts.append(contact["id"])
            self.stage[contact["id"]] = "identified"

    # --- what a student does ---

    @rule(who=WHO, kind=KINDS)
    def send(self, who: int, kind: str) -> None:
        contact = self.contacts[who]
        message = ok(self.client.post("/api/v1/messages", json={
            "kind": kind, "contact_id": contact, "status": "sent"}), 201)
        self.messages[message["id"]] = (contact, kind)
        self.stage[contact] = advance(self.stage[contact], SENT_STAGE[kind])

    @precondition(lambda self: self.messages)
    @rule(data=st.data())
    def they_replied(self, data: st.DataObject) -> None:
        message_id = data.draw(st.sampled_from(sorted(self.messages)))
        contact, _ = self.messages[message_id]
        response = self.client.patch(f"/api/v1/messages/{message_id}", json={"status": "replied"})
        if response.status_code == 409:  # already answered: a reply counts once
            assert self.message(message_id)["status"] == "replied"
            return
        ok(response)
        self.stage[contact] = advance(self.stage[contact], "contacted")

    @rule(who=WHO, dated=st.booleans())
    def plan(self, who: int, dated: bool) -> None:
        contact = self.contacts[who]
        body: dict[str, Any] = {"contact_id": contact}
        if dated:
            body["scheduled_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        interview = ok(self.client.post("/api/v1/interviews", json=body), 201)
        self.interviews[interview["id"]] = contact
        assert interview["status"] == ("scheduled" if dated else "planned")
        if dated:
            self.stage[contact] = advance(self.stage[contact], "scheduled")

    @rule(who=WHO)
    def meet_without_a_date(self, who: int) -> None:
        """Planned, then held: no date was ever given, and the meeting still implies a reply."""
        contact = self.contacts[who]
        interview = ok(self.client.post("/api/v1/interviews", json={"contact_id": contact}), 201)
        self.interviews[interview["id"]] = contact
        ok(self.client.patch(f"/api/v1/interviews/{interview['id']}",
                             json={"status": "completed"}))
        self.stage[contact] = advance(self.stage[contact], "interviewed")

    @precondition(lambda self: self.interviews)
    @rule(data=st.data(), days=st.integers(1, 5))
    def give_a_date(self, data: st.DataObject, days: int) -> None:
        interview_id = data.draw(st.sampled_from(sorted(self.interviews)))
        before = self.interview(interview_id)["status"]
        when = (datetime.now(UTC) + timedelta(days=days)).isoformat()
        after = ok(self.client.patch(f"/api/v1/interviews/{interview_id}",
                                     json={"scheduled_at": when}))["status"]
        if before in ("planned", "requested"):
            assert after == "scheduled"
            contact = self.interviews[interview_id]
            self.stage[contact] = advance(self.stage[contact], "scheduled")
        else:
            assert after == before

    @precondition(lambda self: self.interviews)
    @rule(data=st.data(), hours_ago=st.none() | st.integers(1, 72))
    def hold(self, data: st.DataObject, hours_ago: int | None) -> None:
        interview_id = data.draw(st.sampled_from(sorted(self.interviews)))
        body: dict[str, Any] = {"status": "completed"}
        if hours_ago is not None:
            body["completed_at"] = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
        before = self.interview(interview_id)["status"]
        held = ok(self.client.patch(f"/api/v1/interviews/{interview_id}", json=body))
        assert held["completed_at"] is not None
        if hours_ago is not None:
            assert datetime.fromisoformat(held["completed_at"]) == datetime.fromisoformat(
                body["completed_at"])
        if before != "completed":
            contact = self.interviews[interview_id]
            self.stage[contact] = advance(self.stage[contact], "interviewed")

    @precondition(lambda self: self.interviews)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        interview_id = data.draw(st.sampled_from(sorted(self.interviews)))
        contact = self.interviews[interview_id]
        before = self.interview(interview_id)["status"]
        ok(self.client.patch(f"/api/v1/interviews/{interview_id}", json={"status": "cancelled"}))
        others = [i for i, c in self.interviews.items() if c == contact and i != interview_id
                  and self.interview(i)["status"] == "scheduled"]
        if before != "cancelled" and self.stage[contact] == "scheduled" and not others:
            self.stage[contact] = "contacted"

    @rule(who=WHO, stage=st.sampled_from(STAGES))
    def set_stage(self, who: int, stage: str) -> None:
        contact = self.contacts[who]
        ok(self.client.patch(f"/api/v1/contacts/{contact}", json={"stage": stage}))
        self.stage[contact] = stage

    # --- reading the records back ---

    def message(self, message_id: str) -> dict[str, Any]:
        return dict(ok(self.client.get(f"/api/v1/messages/{message_id}")))

    def interview(self, interview_id: str) -> dict[str, Any]:
        return dict(ok(self.client.get(f"/api/v1/interviews/{interview_id}")))

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return list(ok(self.client.get(path, params={"limit": 200, **params}))["items"])

    # --- what must always hold ---

    def consistent(self) -> None:
        if not self.contacts:
            return
        contacts = {c["id"]: c for c in self.items("/api/v1/contacts")}
        tasks = [t for t in self.items("/api/v1/tasks", status="open") if t["kind"] in WORKFLOW]
        messages = self.items("/api/v1/messages")
        interviews = {i["id"]: i for i in self.items("/api/v1/interviews")}
        for contact_id in self.contacts:
            stage = contacts[contact_id]["stage"]
            assert stage == self.stage[contact_id], (contact_id, stage, self.stage[contact_id])
            mine = [t for t in tasks if t["contact_id"] == contact_id]
            kinds = Counter(t["kind"] for t in mine)
            assert all(n == 1 for n in kinds.values()), kinds
            if stage == "closed":
                assert not mine, mine
            meetings = [i for i in interviews.values() if i["contact_id"] == contact_id]
            answered = any(m["contact_id"] == contact_id and m["status"] == "replied"
                           for m in messages) or any(
                i["status"] in ("scheduled", "completed") for i in meetings)
            if kinds["follow_up"]:
                assert not answered, "a follow-up after a reply or a meeting"
                assert stage == "contacted", f"a follow-up at {stage}"
            for task in mine:
                if task["kind"] == "thank_you":
                    assert interviews[task["interview_id"]]["status"] == "completed", \
                        "a thank-you before the meeting"
        self.records = (contacts, messages, interviews)

    def teardown(self) -> None:
        """Read back once the sequence is over; hypothesis tries sequences of every length, so
        what holds at the end of each holds after any sequence."""
        if not self.contacts:
            return
        self.consistent()
        contacts, messages, interviews = self.records
        for contact_id in self.contacts:
            meetings = [i for i in interviews.values() if i["contact_id"] == contact_id]
            self.timeline_agrees(contact_id, contacts[contact_id]["stage"], messages, meetings)
        self.dashboard_agrees(list(contacts.values()), messages)

    def timeline_agrees(self, contact_id: str, stage: str, messages: list[dict[str, Any]],
                        meetings: list[dict[str, Any]]) -> None:
        events = self.items(f"/api/v1/contacts/{contact_id}/timeline")[::-1]  # oldest first
        moves = [e["data"] for e in events if e["kind"] == "stage_changed"]
        current = "identified"
        for move in moves:
            assert move["from"] == current, moves
            current = move["to"]
        assert current == stage
        sent = [m for m in messages if m["contact_id"] == contact_id and m["sent_at"]]
        assert sum(e["kind"] == "message_sent" for e in events) == len(sent)
        held = sum(e["kind"] == "interview_completed" for e in events)
        assert held >= sum(i["status"] == "completed" for i in meetings)
        if any(m["status"] == "replied" for m in sent):
            assert any(e["kind"] == "message_replied" for e in events)

    def dashboard_agrees(self, contacts: list[dict[str, Any]],
                         messages: list[dict[str, Any]]) -> None:
        page = self.client.get("/").text
        first = [m for m in messages if m["kind"] in FIRST and m["sent_at"]]
        replied = sum(m["replied_at"] is not None for m in first)
        figures = re.search(r"<strong>(\d+)</strong> sent</span> <span class=\"figure\">"
                            r"<strong>(\d+)</strong> replied", page)
        assert figures is not None
        assert (int(figures[1]), int(figures[2])) == (len(first), replied)
        if replied:  # the reply rate counts what the messages say
            for m in first:
                assert (m["status"] == "replied") == (m["replied_at"] is not None)
        desc = re.search(r'<desc id="pipeline-desc">(.*?)</desc>', page)
        counts = Counter(c["stage"] for c in contacts)
        assert desc is not None
        shown = {label.strip(): int(n) for label, n in re.findall(r"([^:;]+): (\d+)", desc[1])}
        assert shown == {STAGE_LABELS[s]: counts.get(s, 0) for s in STAGES}


def test_any_sequence_of_actions_keeps_the_follow_through_consistent(client: TestClient) -> None:
    register(client)
    login(client)
    ok(client.patch("/api/v1/me", json={"timezone": "America/Chicago"}))
    FollowThrough.client = client
    run_state_machine_as_test(FollowThrough, settings=settings(
        max_examples=25, stateful_step_count=10, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck),
        # Bounded: a failing sequence is reported as found, not shrunk at length.
        phases=[Phase.explicit, Phase.generate]))
