"""A student's private calendar feed: interviews as events, open tasks as all-day events on
their due date (in the student's own zone). Each keeps its UID across edits, and SEQUENCE
grows with each change, so a calendar app replaces an event rather than adding a second."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.interviews.service import ends_at
from app.models import Interview, Status, Task, TaskStatus, User

REFRESH = timedelta(hours=1)  # how often calendar apps are asked to fetch it again
PAST = timedelta(days=90)  # interviews held longer ago than this are left out
MOST = 1000  # of each kind


def interview_uid(interview_id: str) -> str:
    return f"interview-{interview_id}@rapport"  # as in the interview's own .ics


def task_uid(task_id: str) -> str:
    return f"task-{task_id}@rapport"


def calendar(db: Session, site: str, user: User, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Rapport//Reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Rapport")
    cal.add("x-wr-caldesc", "Informational interviews and what to do next, from Rapport.")
    cal.add("x-wr-timezone", user.timezone)
    refresh = vDuration(REFRESH)
    refresh.params["VALUE"] = "DURATION"
    cal.add("refresh-interval", refresh)
    cal.add("x-published-ttl", vDuration(REFRESH))

    interviews = db.scalars(
        select(Interview).where(Interview.owner_id == user.id,
                                Interview.scheduled_at.is_not(None),
                                Interview.scheduled_at >= now - PAST,
                                Interview.status != Status.cancelled)
        .order_by(Interview.scheduled_at, Interview.id).limit(MOST))
    for interview in interviews:
        contact = interview.contact
        event = Event()
        event.add("uid", interview_uid(interview.id))
        event.add("dtstamp", interview.updated_at)
        event.add("last-modified", interview.updated_at)
        event.add("sequence", interview.version)
        event.add("dtstart", interview.scheduled_at)
        event.add("dtend", ends_at(interview))
        event.add("summary", f"Informational interview: {contact.full_name}")
        if interview.location:
            event.add("location", interview.location)
        event.add("url", f"{site}/interviews/{interview.id}")
        event.add("status", "CONFIRMED" if interview.status != Status.planned else "TENTATIVE")
        cal.add_component(event)

    zone = ZoneInfo(user.timezone)
    tasks = db.scalars(
        select(Task).where(Task.owner_id == user.id, Task.status != TaskStatus.done,
                           Task.due_at.is_not(None))
        .order_by(Task.due_at, Task.id).limit(MOST))
    for task in tasks:
        assert task.due_at is not None
        day = task.due_at.astimezone(zone).date()
        event = Event()
        event.add("uid", task_uid(task.id))
        event.add("dtstamp", task.updated_at)
        event.add("last-modified", task.updated_at)
        event.add("sequence", task.version)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", task.title)
        event.add("transp", "TRANSPARENT")  # a to-do, not time taken
        event.add("url", f"{site}/tasks")
        cal.add_component(event)
    return bytes(cal.to_ical())
