"""Engagement figures for career-services staff: counts over every student's records, never who.

Every figure counts students' records only (role ``student``). Months are calendar months in UTC.
A student who deletes their account takes their records with them, so the figures counted from
those (students active, outreach, replies, interviews, thank-you notes, reminders, templates)
drop by their share, past months included; the directory's counts are kept, anonymous (their
engagements stay without them).
The counting happens in the database (grouped by month) except for thank-you notes, whose
timeliness needs the interview each one follows.
"""

import base64
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, func, or_, select, union
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.directory import service as directory
from app.errors import Forbidden, ValidationFailed
from app.models import (
    Contact,
    ContactEvent,
    DirectoryEngagement,
    DirectoryEntry,
    Engagement,
    Interview,
    Kind,
    Message,
    ReminderEmail,
    Role,
    Status,
    Task,
    Template,
    User,
)
from app.models.reminder import EmailStatus

DEFAULT_MONTHS = 12
MAX_MONTHS = 36
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
OUTREACH = (Kind.outreach, Kind.linkedin_note)
OWN_TEMPLATES = "Students' own templates"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def require_staff(user: User) -> None:
    if not directory.is_staff(user):
        raise Forbidden("Only career-services staff can read engagement figures.",
                        code="staff_only")


# --- months ---


class month_of(FunctionElement[str]):
    """The UTC calendar month of a moment, as 'YYYY-MM', on SQLite and PostgreSQL alike."""

    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(month_of)
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps moments as UTC text ('2026-11-25 21:53:00.000000').
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_postgresql(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


def _first_of(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@dataclass(frozen=True)
class Months:
    """Calendar months ``first`` to ``last`` (both the first day of their month), inclusive."""

    first: date
    last: date

    @property
    def labels(self) -> list[str]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [_add_months(self.first, i).strftime("%Y-%m") for i in range(count)]

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the range."""
        return _midnight(_add_months(self.last, 1))


def _month(value: str, name: str) -> date:
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValidationFailed(fields=[(name, "Use a month written YYYY-MM, such as 2026-11.")])
    year, month = int(match[1]), int(match[2])
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValidationFailed(fields=[(name, "Use a month between 2000-01 and 2100-12.")])
    return _first_of(year, month)


def months(first: str | None, last: str | None, today: date) -> Months:
    """The range asked for: by default the last 12 months, this one included. Refuses (422,
    naming ``from`` or ``to``) an unreadable month, ``from`` after ``to``, or more than 36
    months."""
    end = _month(last, "to") if last else _first_of(today.year, today.month)
    start = _month(first, "from") if first else _add_months(end, 1 - DEFAULT_MONTHS)
    if start > end:
        raise ValidationFailed(fields=[("from", "The first month comes after the last one.")])
    if len(Months(start, end).labels) > MAX_MONTHS:
        raise ValidationFailed(fields=[("from", f"Ask for {MAX_MONTHS} months at most.")])
    return Months(start, end)


@dataclass(frozen=True)
class Period:
    """Moments from ``start`` (inclusive) to ``end`` (exclusive); None is open-ended."""

    start: datetime | None = None
    end: datetime | None = None

    def holds(self, column: Any) -> ColumnElement[bool]:
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return and_(column.is_not(None), *conditions)


def period(since: date | None, until: date | None) -> Period:
    """Days ``since`` to ``until``, both included (UTC)."""
    for name, day in (("since", since), ("until", until)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed(fields=[(name, "Use a date between 2000-01-01 and 2100-12-31.")])
    if since is not None and until is not None and since > until:
        raise ValidationFailed(fields=[("since", "This date comes after `until`.")])
    return Period(_midnight(since) if since else None,
                  _midnight(until + timedelta(days=1)) if until else None)


# --- month by month ---


def _by_student(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]
                ) -> ColumnElement[bool]:
    """Only students' records: staff and admins trying the app are not counted."""
    return column.in_(select(User.id).where(User.role == Role.student))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(active: int, sent: int, replied: int, held: int, thanks: int,
             on_time: int, reminders: int, acted_on: int) -> dict[str, Any]:
    return {"students_active": active, "outreach_sent": sent, "replies": replied,
            "reply_rate": _rate(replied, sent), "interviews_held": held,
            "thank_yous_sent": thanks, "thank_yous_on_time": on_time,
            "reminders_sent": reminders, "reminders_acted_on": acted_on}


def _activity(within: Period, by_month: bool) -> Any:
    """Every student who did something Rapport records (and in which month): a contact's timeline
    entry, a contact added (imports leave none), a message sent or marked replied, an interview
    held. Each student (and month) once."""
    moments = [(ContactEvent.owner_id, ContactEvent.at), (Contact.owner_id, Contact.created_at),
               (Message.owner_id, Message.sent_at), (Message.owner_id, Message.replied_at),
               (Interview.owner_id, Interview.completed_at)]
    return union(*(select(owner.label("student"),
                          *([month_of(at).label("month")] if by_month else []))
                   .where(within.holds(at), _by_student(owner)) for owner, at in moments)
                 ).subquery()


def _active_by_month(db: Session, within: Period) -> dict[str, int]:
    pairs = _activity(within, by_month=True)
    return {m: n for m, n in db.execute(select(pairs.c.month, func.count())
                                        .group_by(pairs.c.month))}


def _active_in_all(db: Session, within: Period) -> int:
    return int(db.scalar(select(func.count()).select_from(_activity(within, by_month=False)))
               or 0)


def _ends(scheduled_at: datetime | None, minutes: int, completed_at: datetime) -> datetime:
    """When an interview ended: its planned end, or when it was marked held if that came first
    (the thank-you task's clock)."""
    if scheduled_at is None:
        return completed_at
    return min(scheduled_at + timedelta(minutes=minutes), completed_at)


def _thank_yous(db: Session, within: Period, hours: int) -> tuple[Counter[str], Counter[str]]:
    """Thank-you notes sent, and those sent on time, by month."""
    rows = db.execute(
        select(Message.contact_id, Message.sent_at, Interview.scheduled_at,
               Interview.duration_minutes, Interview.completed_at)
        .outerjoin(Interview, and_(Interview.id == Message.interview_id,
                                   Interview.status == Status.completed))
        .where(Message.kind == Kind.thank_you, within.holds(Message.sent_at),
               _by_student(Message.owner_id))).all()
    # A note not written for a held interview follows the last one held with the contact.
    unlinked = sorted({r.contact_id for r in rows if r.completed_at is None})
    held: dict[str, list[tuple[datetime, datetime]]] = {}
    for chunk in range(0, len(unlinked), 500):
        for contact_id, scheduled_at, minutes, completed_at in db.execute(
                select(Interview.contact_id, Interview.scheduled_at, Interview.duration_minutes,
                       Interview.completed_at)
                .where(Interview.contact_id.in_(unlinked[chunk:chunk + 500]),
                       Interview.status == Status.completed, Interview.completed_at.is_not(None))):
            if completed_at is not None:
                held.setdefault(contact_id, []).append(
                    (completed_at, _ends(scheduled_at, minutes, completed_at)))
    sent: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    window = timedelta(hours=hours)
    for r in rows:
        month = r.sent_at.strftime("%Y-%m")
        sent[month] += 1
        if r.completed_at is not None:
            end: datetime | None = _ends(r.scheduled_at, r.duration_minutes, r.completed_at)
        else:
            before = [e for done, e in held.get(r.contact_id, []) if done <= r.sent_at]
            end = max(before, default=None)
        if end is not None and r.sent_at <= end + window:
            on_time[month] += 1
    return sent, on_time


ACTED_ON_WITHIN = timedelta(hours=24)


def _done_at(db: Session, column: Any, moment: Any, ids: set[str]) -> dict[str, datetime]:
    """When each of ``ids`` was done (``moment`` of the rows whose ``column`` is one of them)."""
    done: dict[str, datetime] = {}
    wanted = sorted(ids)
    for chunk in range(0, len(wanted), 500):
        done.update({i: at for i, at in db.execute(
            select(column, moment).where(column.in_(wanted[chunk:chunk + 500]),
                                         moment.is_not(None)))})
    return done


def _reminders(db: Session, within: Period) -> tuple[Counter[str], Counter[str]]:
    """Reminder emails sent, and those acted on within a day, by month."""
    rows = db.execute(
        select(ReminderEmail.sent_at, ReminderEmail.task_ids, ReminderEmail.interview_ids)
        .where(ReminderEmail.status == EmailStatus.sent, within.holds(ReminderEmail.sent_at),
               _by_student(ReminderEmail.user_id))).all()
    tasks = _done_at(db, Task.id, Task.completed_at, {i for r in rows for i in r.task_ids})
    held = _done_at(db, Interview.id, Interview.completed_at,
                    {i for r in rows for i in r.interview_ids})
    sent: Counter[str] = Counter()
    acted_on: Counter[str] = Counter()
    for r in rows:
        month = r.sent_at.strftime("%Y-%m")
        sent[month] += 1
        done = [tasks.get(i) for i in r.task_ids] + [held.get(i) for i in r.interview_ids]
        if any(at is not None and r.sent_at <= at <= r.sent_at + ACTED_ON_WITHIN for at in done):
            acted_on[month] += 1
    return sent, acted_on


def engagement(db: Session, span: Months, thank_you_hours: int) -> dict[str, Any]:
    within = Period(span.start, span.end)
    active = _active_by_month(db, within)
    outreach = {m: (n, r) for m, n, r in db.execute(
        select(month_of(Message.sent_at), func.count(), func.count(Message.replied_at))
        .where(Message.kind.in_(OUTREACH), within.holds(Message.sent_at),
               _by_student(Message.owner_id))
        .group_by(month_of(Message.sent_at)))}
    held = {m: n for m, n in db.execute(
        select(month_of(Interview.completed_at), func.count())
        .where(Interview.status == Status.completed, within.holds(Interview.completed_at),
               _by_student(Interview.owner_id))
        .group_by(month_of(Interview.completed_at)))}
    thanks, on_time = _thank_yous(db, within, thank_you_hours)
    reminders, acted_on = _reminders(db, within)
    rows = [{"month": m, **_figures(active.get(m, 0), *outreach.get(m, (0, 0)), held.get(m, 0),
                                    thanks[m], on_time[m], reminders[m], acted_on[m])}
            for m in span.labels]
    totals = _figures(_active_in_all(db, within),
                      *(sum(row[k] for row in rows) for k in (
                          "outreach_sent", "replies", "interviews_held", "thank_yous_sent",
                          "thank_yous_on_time", "reminders_sent", "reminders_acted_on")))
    return {"months": rows, "totals": totals}


# --- the directory ---

_ORDER = ("interviewed", "contacted", "added")  # most engaged first, then by name


def _cursor_values(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if (not isinstance(values, list) or len(values) != 5
                or not all(type(v) is int and v >= 0 for v in values[:3])
                or not all(isinstance(v, str) for v in values[3:])):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            fields=[("cursor", "This cursor is not valid; start again without one.")]) from exc
    return values


def _after(columns: list[Any], values: list[Any]) -> ColumnElement[bool]:
    """Rows after ``values`` in the order: counts descending, then name and id ascending."""
    beyond = []
    for i, column in enumerate(columns):
        past = column < values[i] if i < len(_ORDER) else column > values[i]
        beyond.append(and_(*(columns[j] == values[j] for j in range(i)), past))
    return or_(*beyond)


def directory_counts(db: Session, within: Period, limit: int,
                     cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Per directory entry, how many distinct students added, contacted and interviewed them:
    the entries at least one student reached, most engaged first."""
    e = DirectoryEngagement
    counts = (select(e.entry_id, *(func.count(case((e.kind == kind, 1))).label(kind)
                                   for kind in (Engagement.added, Engagement.contacted,
                                                Engagement.interviewed)))
              # A student who deleted their account left their engagements anonymous.
              .where(within.holds(e.at),
                     or_(e.student_id.is_(None), _by_student(e.student_id)))
              .group_by(e.entry_id).subquery())
    columns = [counts.c.interviewed, counts.c.contacted, counts.c.added,
               DirectoryEntry.sort_name, DirectoryEntry.id]
    stmt = (select(DirectoryEntry.id, DirectoryEntry.external_id, DirectoryEntry.first_name,
                   DirectoryEntry.last_name, DirectoryEntry.organization_name,
                   DirectoryEntry.sort_name, counts.c.added, counts.c.contacted,
                   counts.c.interviewed)
            .join(counts, counts.c.entry_id == DirectoryEntry.id)
            .where(DirectoryEntry.deleted_at.is_(None)))
    if cursor:
        stmt = stmt.where(_after(columns, _cursor_values(cursor)))
    order = [c.desc() for c in columns[:3]] + [c.asc() for c in columns[3:]]
    rows = db.execute(stmt.order_by(*order).limit(limit + 1)).all()
    items = [{"entry_id": r.id, "external_id": r.external_id,
              "name": f"{r.first_name} {r.last_name}".strip(),
              "organization_name": r.organization_name, "added": r.added,
              "contacted": r.contacted, "interviewed": r.interviewed} for r in rows[:limit]]
    if len(rows) <= limit:
        return items, None
    last = rows[limit - 1]
    values = [last.interviewed, last.contacted, last.added, last.sort_name, last.id]
    return items, base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# --- templates ---


def template_counts(db: Session, within: Period) -> list[dict[str, Any]]:
    """Sent and replied per shared default template, and students' own templates together per
    kind (a student's template, deleted or not, is never named)."""
    shared = case((Template.owner_id.is_(None), Message.template_id), else_=None)
    counted = {(t, k): (n, r) for t, k, n, r in db.execute(
        select(shared, Message.kind, func.count(), func.count(Message.replied_at))
        .outerjoin(Template, Template.id == Message.template_id)
        .where(within.holds(Message.sent_at), _by_student(Message.owner_id))
        .group_by(shared, Message.kind))}
    defaults: dict[str, list[Template]] = {}
    for template in db.scalars(select(Template).where(Template.owner_id.is_(None))
                               .order_by(Template.name, Template.id)):
        defaults.setdefault(template.kind, []).append(template)
    rows = []
    for kind in Kind:
        for template in defaults.get(kind, []):
            sent, replied = counted.get((template.id, kind), (0, 0))
            rows.append({"template_id": template.id, "name": template.name, "kind": kind,
                         "sent": sent, "replied": replied, "reply_rate": _rate(replied, sent)})
        sent, replied = counted.get((None, kind), (0, 0))
        if sent:
            rows.append({"template_id": None, "name": OWN_TEMPLATES, "kind": kind, "sent": sent,
                         "replied": replied, "reply_rate": _rate(replied, sent)})
    return rows
