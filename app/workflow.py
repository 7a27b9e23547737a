"""The method's rules in one place: what each event of the follow-through does to a contact.

Services record what happened (a message sent, an interview held) and call ``apply`` with the
event; the table ``RULES`` says, for each event, the stage it implies, the workflow tasks it opens
and closes, and what it implies besides (an interview scheduled or held means they replied). The
next suggestion follows from where the contact then stands (``NEXT``). Nothing else moves a stage
or opens a workflow task: a stage set by hand comes through ``set_stage``.

Stages only move forward, except that a cancelled meeting steps "scheduled" back to "contacted"
when no other meeting is planned, and "closed" is left only by the student's own hand.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.contacts import service as contacts
from app.db import utcnow
from app.models import (
    Contact,
    Interview,
    Kind,
    Message,
    MessageStatus,
    Stage,
    Status,
    User,
)
from app.tasks import service as tasks


class Event(StrEnum):
    outreach_sent = "outreach_sent"
    follow_up_sent = "follow_up_sent"
    introduction_asked = "introduction_asked"
    replied = "replied"
    interview_scheduled = "interview_scheduled"
    interview_dated = "interview_dated"
    interview_held = "interview_held"
    interview_cancelled = "interview_cancelled"
    thank_you_sent = "thank_you_sent"
    update_sent = "update_sent"
    referral_given = "referral_given"
    contact_closed = "contact_closed"


class Work(StrEnum):
    """The tasks the workflow opens (a student's own tasks are ``custom``)."""

    outreach = "outreach"
    follow_up = "follow_up"
    second_contact = "second_contact"
    thank_you = "thank_you"
    reconnect = "reconnect"
    referral_request = "referral_request"


@dataclass(frozen=True)
class Rule:
    stage: Stage | None  # where the event puts the contact (never backward)
    opens: tuple[Work, ...] = ()
    closes: tuple[Work, ...] = ()
    implies: tuple[Event, ...] = ()  # applied first
    because: str = ""  # the timeline's reason for a stage change


RULES: dict[Event, Rule] = {
    Event.outreach_sent: Rule(Stage.contacted, opens=(Work.follow_up, Work.second_contact),
                              closes=(Work.outreach,), because="outreach sent"),
    Event.follow_up_sent: Rule(Stage.contacted, closes=(Work.follow_up,), because="follow-up sent"),
    Event.introduction_asked: Rule(None, closes=(Work.referral_request,)),
    Event.replied: Rule(Stage.contacted, closes=(Work.follow_up,), because="they replied"),
    Event.interview_scheduled: Rule(Stage.scheduled, closes=(Work.follow_up,),
                                    implies=(Event.replied,), because="interview scheduled"),
    Event.interview_dated: Rule(Stage.scheduled, closes=(Work.follow_up,),
                                implies=(Event.replied,), because="interview dated"),
    Event.interview_held: Rule(Stage.interviewed, opens=(Work.thank_you,),
                               closes=(Work.follow_up,), implies=(Event.replied,),
                               because="interview held"),
    # Steps back from "scheduled" only: see ``_step_back``.
    Event.interview_cancelled: Rule(Stage.contacted, because="interview cancelled"),
    Event.thank_you_sent: Rule(Stage.thanked, opens=(Work.reconnect,), closes=(Work.thank_you,),
                               because="thank-you note sent"),
    Event.update_sent: Rule(Stage.following_up, opens=(Work.reconnect,), closes=(Work.reconnect,),
                            because="update sent"),
    Event.referral_given: Rule(None),
    Event.contact_closed: Rule(Stage.closed, closes=tuple(Work)),
}

# What sending a message of each kind is.
SENT: dict[Kind, Event] = {
    Kind.outreach: Event.outreach_sent, Kind.linkedin_note: Event.outreach_sent,
    Kind.follow_up: Event.follow_up_sent, Kind.referral_request: Event.introduction_asked,
    Kind.thank_you: Event.thank_you_sent, Kind.reconnect: Event.update_sent,
}
# The messages a reply answers (and the reply rate counts).
ANSWERED = (Kind.outreach, Kind.linkedin_note, Kind.follow_up)

# Tasks a stage rules out: they close when a contact gets there (by an event or by hand), and
# no event opens them for a contact who stands there.
RULED_OUT: dict[Stage, tuple[Work, ...]] = {
    Stage.identified: (Work.follow_up,), Stage.scheduled: (Work.follow_up,),
    Stage.interviewed: (Work.follow_up,),
    Stage.thanked: (Work.follow_up,), Stage.following_up: (Work.follow_up,),
    Stage.closed: tuple(Work),
}

PIPELINE = [Stage.identified, Stage.contacted, Stage.scheduled, Stage.interviewed, Stage.thanked,
            Stage.following_up]


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: Kind | None = None  # the message to write, if it is one


# The next step from where a contact stands: never one the contact is already past.
NEXT: dict[Stage, Suggestion] = {
    Stage.identified: Suggestion("write to them", Kind.outreach),
    Stage.contacted: Suggestion("plan the interview"),
    Stage.scheduled: Suggestion("prepare your questions for the interview"),
    Stage.interviewed: Suggestion("send a thank-you note", Kind.thank_you),
    Stage.thanked: Suggestion("send them an update in a few months", Kind.reconnect),
    Stage.following_up: Suggestion("keep them posted with an update now and then", Kind.reconnect),
    Stage.closed: Suggestion("nothing: you closed this contact"),
}
# The message a contact's page offers first, by stage.
NEXT_MESSAGE: dict[Stage, Kind] = {
    Stage.identified: Kind.outreach, Stage.contacted: Kind.follow_up,
    Stage.scheduled: Kind.thank_you, Stage.interviewed: Kind.thank_you,
    Stage.thanked: Kind.reconnect, Stage.following_up: Kind.reconnect, Stage.closed: Kind.reconnect,
}


def ahead(stage: str, of: Stage) -> bool:
    """Whether ``stage`` is further along the pipeline than ``of``."""
    return stage in PIPELINE and PIPELINE.index(Stage(stage)) > PIPELINE.index(of)


def suggestion(contact: Contact) -> Suggestion:
    return NEXT[Stage(contact.stage)]


def apply(db: Session, owner: User, contact: Contact, event: Event, settings: Settings, *,
          interview: Interview | None = None, at: datetime | None = None) -> Suggestion:
    """Apply ``event`` to ``contact`` inside the request's transaction: what it implies, its
    stage, the tasks it closes and opens. ``at`` is when it happened (now by default)."""
    rule = RULES[event]
    for implied in rule.implies:
        if implied == Event.replied:
            _implied_reply(db, contact, event)
        else:
            apply(db, owner, contact, implied, settings, interview=interview, at=at)
    if event == Event.interview_cancelled:
        _step_back(db, contact, interview, rule)
    elif rule.stage is not None:
        _advance(db, contact, rule.stage, rule.because)
    _close(db, contact, {*rule.closes, *RULED_OUT.get(Stage(contact.stage), ())})
    if interview is not None and interview.status != Status.completed:
        not_held(db, contact, interview)
    for work in rule.opens:
        if work not in RULED_OUT.get(Stage(contact.stage), ()):
            _open(db, owner, contact, work, settings, interview, at or utcnow())
    db.flush()
    return suggestion(contact)


def set_stage(db: Session, contact: Contact, stage: Stage) -> None:
    """The student moves a contact by hand: recorded, and tasks the new stage rules out close."""
    if contact.stage == stage:
        return
    contacts.record_event(db, contact, "stage_changed", **{"from": contact.stage, "to": stage.value})
    contact.stage = stage
    _close(db, contact, set(RULED_OUT.get(stage, ())))
    db.flush()


def not_held(db: Session, contact: Contact, interview: Interview) -> None:
    """A meeting that did not take place (cancelled, or marked held by mistake) is not thanked
    for: its thank-you task, if not done yet, goes (so holding it later asks again); another
    meeting's stands."""
    tasks.discard(db, [t for t in tasks.pending(db, contact, {Work.thank_you})
                       if t.interview_id == interview.id])


def held_at_changed(db: Session, interview: Interview, settings: Settings) -> None:
    """The time a meeting was held, corrected: its thank-you reminder counts from it."""
    for task in tasks.pending(db, interview.contact, {Work.thank_you}):
        if task.interview_id == interview.id:
            task.due_at = thank_you_due(interview, settings)
    db.flush()


# --- how the rules are carried out ---


def _advance(db: Session, contact: Contact, stage: Stage, because: str) -> None:
    """Forward only, and never out of "closed", which only the student decides."""
    current = contact.stage
    if current == Stage.closed or current == stage:
        return
    if stage == Stage.closed or ahead(stage, Stage(current)):
        contacts.record_event(db, contact, "stage_changed", because=because,
                              **{"from": current, "to": stage.value})
        contact.stage = stage


def _step_back(db: Session, contact: Contact, interview: Interview | None, rule: Rule) -> None:
    """A cancelled meeting: "scheduled" means a meeting is planned, so without another one the
    contact is back to "contacted" (they did reply)."""
    if contact.stage != Stage.scheduled or rule.stage is None:
        return
    others = db.scalar(select(Interview.id).where(
        Interview.contact_id == contact.id, Interview.status == Status.scheduled,
        Interview.id != (interview.id if interview else "")).limit(1))
    if others is None:
        contacts.record_event(db, contact, "stage_changed", because=rule.because,
                              **{"from": contact.stage, "to": rule.stage.value})
        contact.stage = rule.stage


def mark_replied(message: Message) -> None:
    """They answered ``message``: what the reply rate counts."""
    message.status = MessageStatus.replied
    message.replied_at = utcnow()


def _implied_reply(db: Session, contact: Contact, event: Event) -> None:
    """A meeting dated or held means they answered: the messages still waiting count as
    replied, and the timeline says why. The stage is the implying event's, further along."""
    waiting = list(db.scalars(select(Message).where(
        Message.contact_id == contact.id, Message.kind.in_(ANSWERED),
        Message.status == MessageStatus.sent)))
    for message in waiting:
        mark_replied(message)
    if waiting:
        contacts.record_event(db, contact, "message_replied", message_id=waiting[-1].id,
                              summary=f"They replied ({RULES[event].because}).")
    _close(db, contact, set(RULES[Event.replied].closes))


def _close(db: Session, contact: Contact, kinds: set[Work]) -> None:
    tasks.complete(db, tasks.pending(db, contact, kinds))


def _answered(db: Session, contact: Contact) -> bool:
    """Whether anything says they have answered: a reply, or a meeting dated or held."""
    reply = db.scalar(select(Message.id).where(Message.contact_id == contact.id,
                                               Message.replied_at.is_not(None)).limit(1))
    meeting = db.scalar(select(Interview.id).where(
        Interview.contact_id == contact.id,
        Interview.status.in_([Status.scheduled, Status.completed])).limit(1))
    return reply is not None or meeting is not None


def thank_you_due(interview: Interview, settings: Settings) -> datetime:
    """A day after the meeting's end, or after it was marked held if that came sooner."""
    held = interview.completed_at or utcnow()
    end = min(held + timedelta(minutes=interview.duration_minutes), max(held, utcnow()))
    return end + timedelta(hours=settings.thank_you_hours)


def _open(db: Session, owner: User, contact: Contact, work: Work, settings: Settings,
          interview: Interview | None, at: datetime) -> None:
    name = contact.full_name
    if work == Work.follow_up:
        if tasks.pending(db, contact, {work}) or _answered(db, contact):
            return
        tasks.create_task(db, owner, kind=work, contact=contact,
                          title=f"Follow up with {name} if they have not replied",
                          due_at=tasks.business_days_after(owner, at,
                                                           settings.follow_up_business_days,
                                                           settings))
    elif work == Work.second_contact:
        org = contact.organization
        if org is None or tasks.pending_at(db, owner, org.id, work):
            return
        other = db.scalar(select(Contact).where(
            Contact.owner_id == owner.id, Contact.organization_id == org.id,
            Contact.id != contact.id, Contact.stage == Stage.identified,
        ).order_by(Contact.sort_name, Contact.id).limit(1))
        perhaps = f": perhaps {other.full_name}" if other else ""
        tasks.create_task(db, owner, kind=work, contact=contact,
                          title=f"Reach out to a second person at {org.name}{perhaps}",
                          due_at=tasks.business_days_after(owner, at,
                                                           settings.second_contact_business_days,
                                                           settings))
    elif work == Work.thank_you:
        if interview is None or tasks.exists(db, interview, work):  # once, even if held twice
            return
        if tasks.pending(db, contact, {work}):
            return  # one thank-you note at a time for one person
        tasks.create_task(db, owner, kind=work, due_at=thank_you_due(interview, settings),
                          contact=contact, interview=interview,
                          title=f"Send a thank-you note to {name}")
    elif work == Work.reconnect:
        if tasks.pending(db, contact, {work}):
            return
        day = tasks.add_months(tasks.local_day(owner, at), settings.reconnect_months)
        tasks.create_task(db, owner, kind=work, contact=contact,
                          title=f"Send {name} an update on how you are doing",
                          due_at=tasks.morning_of(owner, day, settings.holidays))
