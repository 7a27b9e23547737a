"""The rules of tasks. Every query is scoped to the owner."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import NotFound
from app.models import Contact, Interview, Task, TaskStatus, User
from app.pagination import Order, paginate
from app.tasks.schemas import TaskPatch


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


def update_task(db: Session, task: Task, changes: TaskPatch) -> Task:
    values = changes.model_dump(exclude_unset=True)
    status = values.get("status")
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
               limit: int, cursor: str | None) -> tuple[list[Task], str | None]:
    stmt = select(Task).where(Task.owner_id == owner.id)
    if status:
        stmt = stmt.where(Task.status == status)
    if due_before:
        stmt = stmt.where(Task.due_at < due_before)
    if due_after:
        stmt = stmt.where(Task.due_at >= due_after)
    if contact_id:
        stmt = stmt.where(Task.contact_id == contact_id)
    if interview_id:
        stmt = stmt.where(Task.interview_id == interview_id)
    return paginate(db, stmt, [Order(Task.due_at, nulls_last=True), Order(Task.id)], limit, cursor)
