"""Task routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app import idempotency
from app.accounts.service import Principal
from app.contacts import service as contacts
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES
from app.etag import check_if_match, tag_response
from app.idempotency import IdempotencyKey
from app.interviews import service as interviews
from app.models import Task, TaskStatus
from app.pagination import Cursor, Limit, Page
from app.schemas import StrictWhen, in_utc
from app.tasks import service
from app.tasks.schemas import TaskIn, TaskOut, TaskPatch
from app.tasks.service import Due
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["tasks"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_scope("interviews:read"))]
Writer = Annotated[Principal, Depends(require_scope("interviews:write"))]


def writable_task(task_id: str, principal: Writer, db: DbSession) -> Task:
    return service.get_task(db, principal.user, task_id)


@router.get("/tasks", response_model=Page[TaskOut])
def list_tasks(
    principal: Reader, db: DbSession,
    status: TaskStatus | None = None,
    due_before: Annotated[StrictWhen | None, Query(description="ISO 8601; UTC if no offset.")] = None,
    due_after: Annotated[StrictWhen | None, Query(description="ISO 8601; UTC if no offset.")] = None,
    contact_id: Annotated[str | None, Query(max_length=26)] = None,
    interview_id: Annotated[str | None, Query(max_length=26)] = None,
    due: Annotated[Due | None, Query(description="Not done yet, and overdue, due today or "
                                                 "upcoming, by the student's own day.")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    user = principal.user
    if contact_id:
        contacts.get_contact(db, user, contact_id)
    if interview_id:
        interviews.get_interview(db, user, interview_id)
    items, next_cursor = service.list_tasks(
        db, user, status, in_utc(due_before, "UTC"), in_utc(due_after, "UTC"), contact_id,
        interview_id, limit, cursor, due)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/tasks", status_code=201, response_model=TaskOut)
@form("tasks/list.html", "task_form")
def create_task(body: TaskIn, request: Request, response: Response, principal: Writer,
                db: DbSession, idempotency_key: IdempotencyKey = None) -> Any:
    user = principal.user

    def create() -> Task:
        contact = contacts.get_contact(db, user, body.contact_id) if body.contact_id else None
        interview = interviews.get_interview(db, user, body.interview_id) if body.interview_id else None
        return service.create_task(db, user, title=body.title, kind=body.kind,
                                   due_at=in_utc(body.due_at, user.timezone), contact=contact,
                                   interview=interview)

    task = idempotency.create_once(db, user, idempotency_key, request.url.path, body, create, TaskOut)
    if isinstance(task, Response):
        return task
    if is_htmx(request):
        return redirect(request, "/tasks")
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    tag_response(response, task.version)
    return task


def readable_task(task_id: str, principal: Reader, db: DbSession) -> Task:
    return service.get_task(db, principal.user, task_id)


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(response: Response, task: Annotated[Task, Depends(readable_task)]) -> Any:
    tag_response(response, task.version)
    return task


@router.patch("/tasks/{task_id}", response_model=TaskOut)
def update_task(body: TaskPatch, request: Request, response: Response, principal: Writer,
                db: DbSession, settings: AppSettings, task: Annotated[Task, Depends(writable_task)]) -> Any:
    check_if_match(request, task.version)
    if body.due_at is not None:
        body = body.model_copy(update={"due_at": in_utc(body.due_at, principal.user.timezone)})
    service.update_task(db, principal.user, task, body, settings)
    if is_htmx(request):
        return render(request, "tasks/_task.html", {"task": task}, block="task")
    tag_response(response, task.version)
    return task
