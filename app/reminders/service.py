"""The rules of reminders: a student's choices, the calendar feed's token, the signed
unsubscribe link, and what a morning's digest or a notice says.

Tasks and interviews are read as their own services and models define them (kinds, due dates,
statuses); nothing here changes them. Every query is scoped to one student.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.accounts.service import sha256
from app.config import Settings
from app.db import new_token, utcnow
from app.models import (
    EmailStatus,
    Interview,
    ReminderEmail,
    ReminderPreference,
    Status,
    Task,
    TaskStatus,
    User,
)
from app.tasks.pages import TASK_WRITES
from app.tasks.service import today_bounds

DIGEST_HOUR = time(8, 0)
FEED_PREFIX = "rcal_"
UNSUBSCRIBE = ("digest", "notices")
LISTED = 20  # items of one kind a digest names; the rest are counted
ACTIONS = {"thank_you": "Write the thank-you", "follow_up": "Write the follow-up",
           "outreach": "Write the outreach message", "reconnect": "Write the update",
           "referral_request": "Ask for a referral"}


# --- choices ---


def preferences(db: Session, user: User) -> ReminderPreference:
    """The student's choices (the defaults, not yet stored, when they never changed them)."""
    found = db.get(ReminderPreference, user.id)
    return found or ReminderPreference(user_id=user.id, digest=True, notices=True)


def update_preferences(db: Session, user: User, changes: dict[str, bool]) -> ReminderPreference:
    prefs = preferences(db, user)
    for name, value in changes.items():
        setattr(prefs, name, value)
    db.merge(prefs)
    db.flush()
    return preferences(db, user)


# --- the calendar feed ---


def create_feed(db: Session, user: User) -> str:
    """A new private feed address's token (shown once); any earlier one stops working."""
    token = FEED_PREFIX + new_token(32)
    prefs = preferences(db, user)
    prefs.feed_token_hash, prefs.feed_created_at = sha256(token), utcnow()
    db.merge(prefs)
    db.flush()
    return token


def revoke_feed(db: Session, user: User) -> None:
    prefs = db.get(ReminderPreference, user.id)
    if prefs is not None:
        prefs.feed_token_hash = prefs.feed_created_at = None
        db.flush()


def feed_owner(db: Session, token: str) -> User | None:
    if not token.startswith(FEED_PREFIX):
        return None
    prefs = db.scalar(select(ReminderPreference)
                      .where(ReminderPreference.feed_token_hash == sha256(token)))
    return db.get(User, prefs.user_id) if prefs is not None else None


def feed_url(site: str, token: str) -> str:
    return f"{site}/calendar/{token}.ics"


# --- unsubscribing ---


def _signature(settings: Settings, user_id: str, what: str) -> str:
    message = f"unsubscribe:{user_id}:{what}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


def unsubscribe_token(settings: Settings, user_id: str, what: str) -> str:
    return f"{user_id}.{what}.{_signature(settings, user_id, what)}"


def unsubscribe_url(settings: Settings, user_id: str, what: str) -> str:
    return f"{settings.site_url}/reminders/unsubscribe/{unsubscribe_token(settings, user_id, what)}"


def unsubscriber(db: Session, settings: Settings, token: str) -> tuple[User, str] | None:
    """Whose link this is and what it stops, when its signature holds."""
    user_id, _, rest = token.partition(".")
    what, _, signature = rest.partition(".")
    if what not in UNSUBSCRIBE or not hmac.compare_digest(
            signature.encode(), _signature(settings, user_id, what).encode()):
        return None
    user = db.get(User, user_id)
    return (user, what) if user is not None else None


# --- what an email says ---


@dataclass(frozen=True)
class Item:
    title: str
    when: str
    action: str
    url: str


@dataclass
class Digest:
    overdue: list[Item] = field(default_factory=list)
    today: list[Item] = field(default_factory=list)
    interviews: list[Item] = field(default_factory=list)
    more: dict[str, int] = field(default_factory=dict)  # beyond LISTED, per list
    task_ids: list[str] = field(default_factory=list)
    interview_ids: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.interviews)


def task_item(site: str, user: User, task: Task) -> Item:
    kind = TASK_WRITES.get(task.kind)
    if kind and task.contact_id:
        query = {"contact_id": task.contact_id, "kind": kind}
        if task.interview_id:
            query["interview_id"] = task.interview_id
        url, action = f"{site}/messages/new?{urlencode(query)}", ACTIONS[task.kind]
    else:
        url, action = f"{site}/tasks", "Open your tasks"
    zone = ZoneInfo(user.timezone)
    when = f"due {task.due_at.astimezone(zone):%a %b %-d, %H:%M}" if task.due_at else ""
    return Item(task.title, when, action, url)


def interview_item(site: str, user: User, interview: Interview) -> Item:
    assert interview.scheduled_at is not None
    at = interview.scheduled_at.astimezone(ZoneInfo(user.timezone))
    where = f" · {interview.location}" if interview.location else ""
    return Item(f"Informational interview with {interview.contact.full_name}",
                f"{at:%a %b %-d, %H:%M}{where}", "Prepare for it",
                f"{site}/interviews/{interview.id}")


def _open_tasks(user: User) -> Select[Task]:
    return (select(Task).where(Task.owner_id == user.id, Task.status != TaskStatus.done,
                               Task.due_at.is_not(None))
            .order_by(Task.due_at, Task.id))


def _scheduled(user: User, start: datetime, end: datetime) -> Select[Interview]:
    return (select(Interview).where(Interview.owner_id == user.id,
                                    Interview.status == Status.scheduled,
                                    Interview.scheduled_at >= start, Interview.scheduled_at < end)
            .order_by(Interview.scheduled_at, Interview.id))


def digest(db: Session, site: str, user: User, now: datetime) -> Digest:
    """What is overdue and due today (by the student's own day), and tomorrow's interviews."""
    start, end = today_bounds(user, now)
    _, after_tomorrow = today_bounds(user, end)
    result = Digest()
    lists = (("overdue", result.overdue, _open_tasks(user).where(Task.due_at < start)),
             ("today", result.today,
              _open_tasks(user).where(Task.due_at >= start, Task.due_at < end)))
    for name, items, query in lists:
        tasks = list(db.scalars(query.limit(LISTED + 1)))
        items.extend(task_item(site, user, t) for t in tasks[:LISTED])
        result.task_ids.extend(t.id for t in tasks[:LISTED])
        if len(tasks) > LISTED:
            total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
            result.more[name] = (total or 0) - LISTED
    for interview in db.scalars(_scheduled(user, end, after_tomorrow).limit(LISTED)):
        result.interviews.append(interview_item(site, user, interview))
        result.interview_ids.append(interview.id)
    return result


def digest_subject(found: Digest) -> str:
    parts = []
    if found.overdue:
        parts.append(f"{len(found.overdue) + found.more.get('overdue', 0)} overdue")
    if found.today:
        parts.append(f"{len(found.today) + found.more.get('today', 0)} due today")
    if found.interviews:
        count = len(found.interviews)
        parts.append(f"{count} interview{'s' if count > 1 else ''} tomorrow")
    return "Your day in Rapport: " + ", ".join(parts)


def digest_text(user: User, found: Digest, unsubscribe: str) -> str:
    lines = [f"Good morning, {user.name}.", ""]
    for heading, name, items in (("Overdue", "overdue", found.overdue),
                                 ("Due today", "today", found.today),
                                 ("Tomorrow's interviews", "interviews", found.interviews)):
        if not items:
            continue
        lines += [heading, "-" * len(heading)]
        for item in items:
            lines += [f"* {item.title}" + (f" ({item.when})" if item.when else ""),
                      f"  {item.action}: {item.url}"]
        if found.more.get(name):
            lines.append(f"… and {found.more[name]} more in Rapport.")
        lines.append("")
    lines += ["--", "You get this email on mornings when something is due. To stop it:",
              unsubscribe]
    return "\n".join(lines) + "\n"


def notice_text(user: User, item: Item, lead: str, unsubscribe: str) -> str:
    return (f"Hello {user.name},\n\n{lead}\n\n* {item.title} ({item.when})\n"
            f"  {item.action}: {item.url}\n\n--\n"
            f"You get these notices for what cannot wait for the next morning's email. "
            f"To stop them:\n{unsubscribe}\n")


# --- what staff see of the emails: counts and errors, never who ---


@dataclass(frozen=True)
class Problem:
    status: str
    attempts: int
    last_error: str
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Outbox:
    waiting: int
    retrying: int
    failed: int
    sent_today: int
    problems: list[Problem]


def outbox(db: Session, now: datetime | None = None) -> Outbox:
    now = now or utcnow()
    counts: dict[str, int] = {status: count for status, count in db.execute(
        select(ReminderEmail.status, func.count())
        .where(ReminderEmail.status.in_([EmailStatus.pending, EmailStatus.failed]))
        .group_by(ReminderEmail.status))}
    retrying = db.scalar(select(func.count()).where(ReminderEmail.status == EmailStatus.pending,
                                                    ReminderEmail.attempts > 0)) or 0
    sent_today = db.scalar(select(func.count()).where(
        ReminderEmail.sent_at >= now - timedelta(days=1))) or 0
    problems = [Problem(e.status, e.attempts, e.last_error, e.last_attempt_at, e.next_attempt_at)
                for e in db.scalars(select(ReminderEmail).where(ReminderEmail.last_error != "",
                                                                ReminderEmail.status.in_(
                                                                    [EmailStatus.pending,
                                                                     EmailStatus.failed]))
                                    .order_by(ReminderEmail.last_attempt_at.desc()).limit(20))]
    return Outbox(waiting=counts.get(EmailStatus.pending, 0) - retrying, retrying=retrying,
                  failed=counts.get(EmailStatus.failed, 0), sent_today=sent_today,
                  problems=problems)
