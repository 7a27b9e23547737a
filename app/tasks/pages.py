"""The tasks page: what is overdue, due today and coming, and a task added by hand."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from app.deps import DbSession, PagePrincipal
from app.models import Contact, Task, TaskStatus, User
from app.tasks import service
from app.tasks.service import Due
from app.web import render, templates

router = APIRouter(include_in_schema=False)

# A task that a message answers, and the kind of message that does.
TASK_WRITES = {"outreach": "outreach", "follow_up": "follow_up", "thank_you": "thank_you",
               "reconnect": "reconnect", "referral_request": "referral_request"}


def task_state(task: Task, user: User) -> str:
    if task.status == TaskStatus.done:
        return "done"
    if task.due_at is None:
        return "undated"
    start, end = service.today_bounds(user)
    return "overdue" if task.due_at < start else "today" if task.due_at < end else "upcoming"


templates.env.globals.update(task_state=task_state, task_writes=TASK_WRITES)


def page_context(db: DbSession, user: User) -> dict[str, Any]:
    def due(which: Due) -> list[Task]:
        return service.list_tasks(db, user, None, None, None, None, None, 200, None, which)[0]

    undated = db.scalars(select(Task).where(Task.owner_id == user.id, Task.due_at.is_(None),
                                            Task.status != TaskStatus.done)
                         .order_by(Task.id).limit(200)).all()
    done = db.scalars(select(Task).where(Task.owner_id == user.id, Task.status == TaskStatus.done)
                      .order_by(Task.completed_at.desc(), Task.id.desc()).limit(10)).all()
    people = db.execute(select(Contact.id, Contact.first_name, Contact.last_name)
                        .where(Contact.owner_id == user.id).order_by(Contact.sort_name, Contact.id)
                        .limit(500)).all()
    return {"sections": [("Overdue", due(Due.overdue)), ("Today", due(Due.today)),
                         ("Coming up", due(Due.upcoming)), ("Any time", undated)],
            "done": done, "people": {"": "Nobody in particular"} | {
                p.id: f"{p.first_name} {p.last_name}".strip() for p in people}}


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return render(request, "tasks/list.html", {**page_context(db, principal.user), "form": {}})
