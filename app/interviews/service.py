"""The rules of interviews: the workflow around a conversation, its question list, and what
was learned. Every query is scoped to the owner."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import workflow
from app.config import Settings
from app.contacts import service as contacts
from app.contacts.schemas import ContactIn
from app.db import utcnow
from app.directory import service as directory
from app.errors import Conflict, NotFound, ValidationFailed
from app.interviews.schemas import InterviewIn, InterviewPatch, ItemIn, ItemPatch, ReferralIn
from app.models import (
    Contact,
    Engagement,
    Interview,
    InterviewQuestion,
    Question,
    Source,
    Status,
    User,
)
from app.models.interview import CHECKLIST
from app.models.question import CATEGORIES
from app.pagination import Order, paginate
from app.questions import service as questions
from app.schemas import in_utc

REFERRAL_QUESTION = "Could you suggest one or two other people I might contact for further information?"
MINUTES_A_QUESTION = 3


def _local(owner: User, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(owner.timezone)).strftime("%b %-d, %Y at %H:%M")


def get_interview(db: Session, owner: User, interview_id: str) -> Interview:
    interview = db.get(Interview, interview_id)
    if interview is None or interview.owner_id != owner.id:
        raise NotFound("There is no interview with this id.")
    return interview


def checklist(interview: Interview) -> dict[str, bool]:
    return {key: bool(interview.checklist.get(key)) for key in CHECKLIST}


def ends_at(interview: Interview) -> datetime | None:
    if interview.scheduled_at is None:
        return None
    return interview.scheduled_at + timedelta(minutes=interview.duration_minutes)


def held_time(interview: Interview, given: datetime | None) -> datetime:
    """When it was held: as given, else the planned time if that has passed, else now."""
    now = utcnow()
    if given is not None:
        return given
    if interview.scheduled_at is not None and interview.scheduled_at <= now:
        return interview.scheduled_at
    return now


def _checkheld_time(given: datetime | None, status: str) -> None:
    if given is None:
        return
    if status != Status.completed:
        raise ValidationFailed(fields=[("completed_at", "Give the time it was held only with "
                                                        "the status completed.")])
    if given > utcnow() + timedelta(minutes=5):
        raise ValidationFailed(fields=[("completed_at", "An interview is held in the past, or "
                                                        "now: not at a time still to come.")])


def _on_status(db: Session, owner: User, interview: Interview, before: str | None, dated: bool,
               held_at: datetime | None, settings: Settings) -> None:
    """What a change of status sets in motion: the timeline, and the workflow's rules."""
    contact = interview.contact
    if interview.status == Status.completed and before == Status.completed:
        if held_at is not None and held_at != interview.completed_at:  # a corrected time
            interview.completed_at = held_at
            workflow.held_at_changed(db, interview, settings)
        return
    if interview.status == before and not dated:
        return
    if before == Status.completed:  # held no longer
        interview.completed_at = None
    if interview.status == Status.scheduled:
        when = f" for {_local(owner, interview.scheduled_at)}" if interview.scheduled_at else ""
        contacts.record_event(db, contact, "interview_scheduled", interview_id=interview.id,
                              summary=f"Interview scheduled{when}.")
        event = workflow.Event.interview_dated if dated else workflow.Event.interview_scheduled
        workflow.apply(db, owner, contact, event, settings, interview=interview)
    elif interview.status == Status.completed:
        interview.completed_at = held_time(interview, held_at)
        contacts.record_event(db, contact, "interview_completed", interview_id=interview.id,
                              summary=f"Interview held on {_local(owner, interview.completed_at)}.")
        directory.engaged(db, owner, contact, Engagement.interviewed)
        workflow.apply(db, owner, contact, workflow.Event.interview_held, settings,
                       interview=interview, at=interview.completed_at)
    elif interview.status == Status.cancelled:
        contacts.record_event(db, contact, "interview_cancelled", interview_id=interview.id,
                              summary="Interview cancelled.")
        workflow.apply(db, owner, contact, workflow.Event.interview_cancelled, settings,
                       interview=interview)
    elif before == Status.completed:
        workflow.not_held(db, contact, interview)


def create_interview(db: Session, owner: User, data: InterviewIn, settings: Settings) -> Interview:
    contact = contacts.get_contact(db, owner, data.contact_id)
    values = data.model_dump(exclude={"contact_id", "completed_at"})
    values["scheduled_at"] = in_utc(values["scheduled_at"], owner.timezone)
    held_at = in_utc(data.completed_at, owner.timezone)
    _checkheld_time(held_at, data.status)
    if values["scheduled_at"] is not None and "status" not in data.model_fields_set:
        values["status"] = Status.scheduled  # a meeting with a date is a meeting scheduled
    interview = Interview(owner_id=owner.id, contact=contact, **values)
    db.add(interview)
    db.flush()
    _on_status(db, owner, interview, None, False, held_at, settings)
    db.flush()
    return interview


def update_interview(db: Session, owner: User, interview: Interview,
                     changes: InterviewPatch, settings: Settings) -> Interview:
    values = changes.model_dump(exclude_unset=True)
    for field in ("duration_minutes", "format", "status", "location", "notes", "takeaways",
                  "business_card", "may_call_again", "resume_review_offered"):
        if field in values and values[field] is None:
            raise ValidationFailed(fields=[(field, "This field cannot be empty.")])
    if "scheduled_at" in values:
        values["scheduled_at"] = in_utc(values["scheduled_at"], owner.timezone)
    held_at = in_utc(values.pop("completed_at", None), owner.timezone)
    _checkheld_time(held_at, values.get("status", interview.status))
    if "checklist" in values:
        values["checklist"] = {**interview.checklist, **(values["checklist"] or {})}
    # Giving a planned (or requested) meeting its date schedules it.
    dated = (interview.status in (Status.planned, Status.requested) and "status" not in values
             and values.get("scheduled_at") is not None)
    if dated:
        values["status"] = Status.scheduled
    before = interview.status
    for field, value in values.items():
        setattr(interview, field, value)
    db.flush()
    _on_status(db, owner, interview, before, dated, held_at, settings)
    db.flush()
    return interview


def delete_interview(db: Session, interview: Interview) -> None:
    db.delete(interview)
    db.flush()


def list_interviews(db: Session, owner: User, contact_id: str | None, status: Status | None,
                    limit: int, cursor: str | None) -> tuple[list[Interview], str | None]:
    stmt = select(Interview).where(Interview.owner_id == owner.id)
    if contact_id:
        contacts.get_contact(db, owner, contact_id)
        stmt = stmt.where(Interview.contact_id == contact_id)
    if status:
        stmt = stmt.where(Interview.status == status)
    order = [Order(Interview.scheduled_at, nulls_last=True), Order(Interview.id)]
    return paginate(db, stmt, order, limit, cursor)


def upcoming(db: Session, owner: User, limit: int) -> list[Interview]:
    """Meetings still to come (or not yet dated), soonest first."""
    return list(db.scalars(select(Interview).where(
        Interview.owner_id == owner.id,
        Interview.status.not_in([Status.completed, Status.cancelled]),
        or_(Interview.scheduled_at.is_(None), Interview.scheduled_at >= utcnow()),
    ).order_by(Interview.scheduled_at.asc().nulls_last(), Interview.id).limit(limit)))


# --- the question list ---


def get_item(interview: Interview, item_id: str) -> InterviewQuestion:
    for item in interview.items:
        if item.id == item_id:
            return item
    raise NotFound("This interview has no question with this id.")


def _renumber(items: list[InterviewQuestion]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def add_item(db: Session, owner: User, interview: Interview, data: ItemIn) -> InterviewQuestion:
    if data.question_id is not None:
        question = questions.get_question(db, owner, data.question_id)
        if any(item.question_id == question.id for item in interview.items):
            raise Conflict("This question is already on the list.", code="already_on_the_list")
        item = InterviewQuestion(owner_id=owner.id, question_id=question.id, text=question.text,
                                 position=len(interview.items) + 1)
    else:
        item = InterviewQuestion(owner_id=owner.id, text=data.text or "",
                                 position=len(interview.items) + 1)
    closing = interview.items[-1] if interview.items else None
    if closing is not None and closing.text == REFERRAL_QUESTION and item.text != REFERRAL_QUESTION:
        # Asking for other people to talk to stays the last question.
        interview.items.insert(len(interview.items) - 1, item)
        _renumber(interview.items)
    else:
        interview.items.append(item)
    db.flush()
    return item


def update_item(db: Session, interview: Interview, item: InterviewQuestion,
                changes: ItemPatch) -> InterviewQuestion:
    values = changes.model_dump(exclude_unset=True, exclude_none=True)
    if "position" in values:
        ordered = [i for i in interview.items if i.id != item.id]
        ordered.insert(min(values.pop("position"), len(ordered) + 1) - 1, item)
        _renumber(ordered)
        interview.items[:] = ordered
    for field, value in values.items():
        setattr(item, field, value)
    db.flush()
    return item


def remove_item(db: Session, interview: Interview, item: InterviewQuestion) -> None:
    interview.items.remove(item)
    _renumber(interview.items)
    db.flush()


def suggest(db: Session, owner: User, interview: Interview) -> list[InterviewQuestion]:
    """Fill the list for the meeting's length (about one question every three minutes), from all
    three categories of the handout, ending with the question that asks for referrals. What is
    already on the list stays and counts."""
    bank = questions.bank(db, owner)
    referral = next((i for i in interview.items if i.text == REFERRAL_QUESTION), None)
    kept = [i for i in interview.items if i is not referral]
    missing = max(3, interview.duration_minutes // MINUTES_A_QUESTION) - 1 - len(kept)
    asked = {item.question_id for item in kept}
    # Questions only ("Don't forget the business card" is a reminder), not yet on the list.
    pools = [[q for q in bank[c] if "?" in q.text and q.id not in asked
              and q.text != REFERRAL_QUESTION] for c in CATEGORIES]
    # Half on the position, a third on the organization, the rest on next steps; a category
    # that runs short leaves its share to the others.
    shares = [missing // 2, missing // 3]
    shares.append(max(0, missing - sum(shares)))
    chosen = [q for pool, share in zip(pools, shares, strict=True) for q in pool[:max(0, share)]]
    chosen += [q for pool in pools for q in pool if q not in chosen][:max(0, missing - len(chosen))]
    if referral is None:
        last = next(q for q in bank[CATEGORIES[2]] if q.text == REFERRAL_QUESTION)
        referral = InterviewQuestion(owner_id=owner.id, question_id=last.id, text=last.text,
                                     position=0)
    interview.items = [
        *kept,
        *(InterviewQuestion(owner_id=owner.id, question_id=q.id, text=q.text, position=0)
          for q in chosen),
        referral,
    ]
    _renumber(interview.items)
    db.flush()
    return interview.items


# --- what came of it ---


def add_referral(db: Session, owner: User, interview: Interview, data: ReferralIn,
                 settings: Settings) -> Contact:
    """One of the "one or two other people", as a new contact linked to whoever suggested them."""
    values: dict[str, Any] = {k: v for k, v in data.model_dump().items() if v}
    contact = contacts.create_contact(db, owner, ContactIn(
        **values, source=Source.referral, referred_by_id=interview.contact_id,
        how_we_met=f"Suggested by {interview.contact.full_name} in an informational interview.",
    ))
    contacts.record_event(db, interview.contact, "referral_given", contact_id=contact.id,
                          summary=f"Suggested talking to {contact.full_name}.")
    workflow.apply(db, owner, interview.contact, workflow.Event.referral_given, settings)
    return contact


def answers(db: Session, owner: User, question: Question) -> list[tuple[Interview, InterviewQuestion]]:
    """What everyone the student asked this question said, newest conversation first."""
    rows = db.execute(
        select(Interview, InterviewQuestion)
        .join(InterviewQuestion, InterviewQuestion.interview_id == Interview.id)
        .where(Interview.owner_id == owner.id, InterviewQuestion.question_id == question.id,
               func.length(InterviewQuestion.answer) > 0)
        .order_by(func.coalesce(Interview.completed_at, Interview.scheduled_at).desc().nulls_last(),
                  Interview.id.desc())
    )
    return [(interview, item) for interview, item in rows]
