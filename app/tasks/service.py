"""The rules of tasks. Every query is scoped to the owner."""

import calendar
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.errors import NotFound
from app.models import Contact, Interview, Task, TaskStatus, User
from app.pagination import Order, paginate
from app.tasks.schemas import TaskPatch

MORNING = time(9, 0)  # when a task counted in days falls due, in the student's own zone


class Due(StrEnum):
    overdue = "overdue"
    today = "today"
    upcoming = "upcoming"


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, days: int, holidays: Collection[date]) -> date:
    """The day ``days`` business days after ``start``: weekends and holidays do not count."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            days -= 1
    return day


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def morning_of(owner: User, day: date, holidays: Collection[date]) -> datetime:
    """Nine in the morning, in the student's zone, of ``day`` or the first business day after."""
    while not is_business_day(day, holidays):
        day += timedelta(days=1)
    return datetime.combine(day, MORNING, ZoneInfo(owner.timezone)).astimezone(UTC)


def local_day(owner: User, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(owner.timezone)).date()


def business_days_after(owner: User, moment: datetime, days: int, settings: Settings) -> datetime:
    start = local_day(owner, moment)
    return morning_of(owner, add_business_days(start, days, settings.holidays), settings.holidays)


def today_bounds(owner: User, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start and end of the student's today, in UTC."""
    zone = ZoneInfo(owner.timezone)
    day = (now or utcnow()).astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    return start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)


def get_task(db: Session, owner: User, task_id: str) -> Task:
    task = db.get(Task, task_id)
    if task is None or task.owner_id != owner.id:
        raise NotFound("There is no task with this id.")
    return task


def create_task(db: Session, owner: User, *, title: str, kind: str = "custom",
                due_at: datetime | None = None, contact: Contact | None = None,
                interview: Interview | None = None) -> Task:
    task = Task(owner_id=owner.id, title=title, kind=kind, due_at=due_at,
                contact_id=contact.id if contact else None,
                interview_id=interview.id if interview else None)
    db.add(task)
    db.flush()
    return task


def exists(db: Session, interview: Interview, kind: str) -> bool:
    return db.scalar(select(Task.id).where(Task.interview_id == interview.id, Task.kind == kind)
                     .limit(1)) is not None


def pending(db: Session, contact: Contact, kinds: Collection[str]) -> list[Task]:
    """The contact's tasks of these kinds that are not done yet."""
    return list(db.scalars(select(Task).where(
        Task.contact_id == contact.id, Task.kind.in_(kinds), Task.status != TaskStatus.done)))


def pending_at(db: Session, owner: User, organization_id: str, kind: str) -> bool:
    """Whether a task of this kind is still to do for anyone at the organization."""
    return db.scalar(select(Task.id).join(Contact, Contact.id == Task.contact_id).where(
        Task.owner_id == owner.id, Task.kind == kind, Task.status != TaskStatus.done,
        Contact.organization_id == organization_id).limit(1)) is not None


def complete(db: Session, tasks: list[Task]) -> None:
    for task in tasks:
        task.status = TaskStatus.done
        task.completed_at = utcnow()
    db.flush()


def discard(db: Session, tasks: list[Task]) -> None:
    """Remove tasks that should never have been asked for."""
    for task in tasks:
        db.delete(task)
    db.flush()


def update_task(db: Session, owner: User, task: Task, changes: TaskPatch,
                settings: Settings) -> Task:
    values = changes.model_dump(exclude_unset=True)
    status = values.get("status")
    if status == TaskStatus.snoozed and values.get("due_at") is None:
        # Snoozed without a date: back on the next business day, in the morning.
        tomorrow = local_day(owner, utcnow()) + timedelta(days=1)
        values["due_at"] = morning_of(owner, tomorrow, settings.holidays)
    if status == TaskStatus.done and task.status != TaskStatus.done:
        task.completed_at = utcnow()
    elif status is not None and status != TaskStatus.done:
        task.completed_at = None
    for field, value in values.items():
        if value is not None or field == "due_at":
            setattr(task, field, value)
    db.flush()
    return task


def list_tasks(db: Session, owner: User, status: TaskStatus | None, due_before: datetime | None,
               due_after: datetime | None, contact_id: str | None, interview_id: str | None,
               limit: int, cursor: str | None, due: Due | None = None
               ) -> tuple[list[Task], str | None]:
    stmt = select(Task).where(Task.owner_id == owner.id)
    if status:
        stmt = stmt.where(Task.status == status)
    if due:
        # Overdue, due today or upcoming, by the student's own day; only what is still to do.
        start, end = today_bounds(owner)
        stmt = stmt.where(Task.status != TaskStatus.done, Task.due_at.is_not(None))
        stmt = stmt.where(Task.due_at < start if due == Due.overdue else
                          Task.due_at.between(start, end - timedelta(microseconds=1))
                          if due == Due.today else Task.due_at >= end)
    if due_before:
        stmt = stmt.where(Task.due_at < due_before)
    if due_after:
        stmt = stmt.where(Task.due_at >= due_after)
    if contact_id:
        stmt = stmt.where(Task.contact_id == contact_id)
    if interview_id:
        stmt = stmt.where(Task.interview_id == interview_id)
    return paginate(db, stmt, [Order(Task.due_at, nulls_last=True), Order(Task.id)], limit, cursor)
