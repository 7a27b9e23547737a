"""Question bank routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app import idempotency
from app.accounts.service import Principal
from app.deps import DbSession, require_scope
from app.errors import ERROR_RESPONSES
from app.etag import check_if_match, tag_response
from app.idempotency import IdempotencyKey
from app.models import Question
from app.pagination import Cursor, Limit, Page
from app.questions import service
from app.questions.schemas import QuestionIn, QuestionOut, QuestionPatch
from app.web import form, is_htmx, render

router = APIRouter(prefix="/api/v1", tags=["questions"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_scope("interviews:read"))]
Writer = Annotated[Principal, Depends(require_scope("interviews:write"))]


def readable_question(question_id: str, principal: Reader, db: DbSession) -> Question:
    return service.get_question(db, principal.user, question_id)


def writable_question(question_id: str, principal: Writer, db: DbSession) -> Question:
    return service.own_question(db, principal.user, question_id)


def _bank(request: Request, db: Session, principal: Principal, status_code: int = 200,
          **context: Any) -> Response:
    """The bank redrawn after a change; with ``oob``, beside the add form it answers."""
    blocks = ["question_form", "bank"] if context.get("oob") else ["bank"]
    return render(request, "questions/bank.html",
                  {"bank": service.bank(db, principal.user), "form": {}, **context}, block=blocks,
                  status_code=status_code)


@router.get("/questions", response_model=Page[QuestionOut])
def list_questions(
    principal: Reader, db: DbSession,
    category: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    items, next_cursor = service.list_questions(db, principal.user, category, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/questions", status_code=201, response_model=QuestionOut)
@form("questions/bank.html", "question_form")
def create_question(
    body: QuestionIn, request: Request, response: Response, principal: Writer, db: DbSession,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    question = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: service.create_question(db, principal.user, body), QuestionOut)
    if isinstance(question, Response):
        return question
    if is_htmx(request):
        return _bank(request, db, principal, 201, oob=True, added=question)
    response.headers["Location"] = f"/api/v1/questions/{question.id}"
    tag_response(response, question.version)
    return question


@router.get("/questions/{question_id}", response_model=QuestionOut)
def get_question(response: Response,
                 question: Annotated[Question, Depends(readable_question)]) -> Any:
    tag_response(response, question.version)
    return question


@router.patch("/questions/{question_id}", response_model=QuestionOut)
def update_question(
    body: QuestionPatch, request: Request, response: Response, principal: Writer, db: DbSession,
    question: Annotated[Question, Depends(writable_question)],
) -> Any:
    check_if_match(request, question.version)
    service.update_question(db, question, body)
    if is_htmx(request):
        return _bank(request, db, principal)
    tag_response(response, question.version)
    return question


@router.delete("/questions/{question_id}", status_code=204)
def delete_question(
    request: Request, principal: Writer, db: DbSession,
    question: Annotated[Question, Depends(writable_question)],
) -> Response:
    check_if_match(request, question.version)
    service.delete_question(db, question)
    return _bank(request, db, principal) if is_htmx(request) else Response(status_code=204)
