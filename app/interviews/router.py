"""Interview routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app import idempotency
from app.accounts.service import Principal
from app.contacts.schemas import ContactOut
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES, KEY_IN_USE, conflicts
from app.etag import check_if_match, etag, tag_response
from app.idempotency import IdempotencyKey
from app.interviews import calendar, pages, service
from app.interviews.schemas import (
    AnswerOut,
    InterviewIn,
    InterviewOut,
    InterviewPatch,
    ItemIn,
    ItemOut,
    ItemPatch,
    ReferralIn,
)
from app.models import Interview, InterviewQuestion, Question, Status
from app.pagination import Cursor, Limit, Page
from app.questions import service as questions
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["interviews"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_scope("interviews:read"))]
Writer = Annotated[Principal, Depends(require_scope("interviews:write"))]


def readable_interview(interview_id: str, principal: Reader, db: DbSession) -> Interview:
    return service.get_interview(db, principal.user, interview_id)


def writable_interview(interview_id: str, principal: Writer, db: DbSession) -> Interview:
    return service.get_interview(db, principal.user, interview_id)


ReadableInterview = Annotated[Interview, Depends(readable_interview)]
WritableInterview = Annotated[Interview, Depends(writable_interview)]


def writable_item(item_id: str, interview: WritableInterview) -> InterviewQuestion:
    return service.get_item(interview, item_id)


def out(interview: Interview) -> InterviewOut:
    return InterviewOut.model_validate({
        **{c: getattr(interview, c) for c in InterviewOut.model_fields if hasattr(interview, c)},
        "contact_name": interview.contact.full_name, "checklist": service.checklist(interview),
    })


@router.get("/interviews", response_model=Page[InterviewOut])
def list_interviews(
    principal: Reader, db: DbSession,
    contact_id: Annotated[str | None, Query(max_length=26)] = None,
    status: Status | None = None, limit: Limit = 50, cursor: Cursor = None,
) -> Any:
    items, next_cursor = service.list_interviews(db, principal.user, contact_id, status, limit,
                                                 cursor)
    return {"items": [out(i) for i in items], "next_cursor": next_cursor}


@router.post("/interviews", status_code=201, response_model=InterviewOut,
             responses=conflicts(idempotency_key_in_use=KEY_IN_USE))
def create_interview(
    body: InterviewIn, request: Request, response: Response, principal: Writer, db: DbSession,
    settings: AppSettings, idempotency_key: IdempotencyKey = None,
) -> Any:
    made = idempotency.create_once(
        db, principal.user, idempotency_key, request.url.path, body,
        lambda: out(service.create_interview(db, principal.user, body, settings)), InterviewOut)
    if isinstance(made, Response):
        return made
    if is_htmx(request):
        return redirect(request, f"/interviews/{made.id}")
    response.headers["Location"] = f"/api/v1/interviews/{made.id}"
    response.headers["ETag"] = etag(service.get_interview(db, principal.user, made.id).version)
    return made


@router.get("/interviews/{interview_id}", response_model=InterviewOut)
def get_interview(response: Response, interview: ReadableInterview) -> Any:
    tag_response(response, interview.version)
    return out(interview)


@router.patch("/interviews/{interview_id}", response_model=InterviewOut)
@form("interviews/prep.html", "meeting_form")
def update_interview(
    body: InterviewPatch, request: Request, response: Response, principal: Writer, db: DbSession,
    settings: AppSettings, interview: WritableInterview,
) -> Any:
    check_if_match(request, interview.version)
    service.update_interview(db, principal.user, interview, body, settings)
    if is_htmx(request):
        # Which part of which page sent it: the meeting form, a toggle, or "mark completed".
        target = request.headers.get("HX-Target", "")
        if target == "conversation-status":
            return redirect(request, f"/interviews/{interview.id}/conversation")
        if target == "meeting-form":  # the header, the status and the calendar link change too
            return redirect(request, f"/interviews/{interview.id}?saved=1")
        if target == "checklist":
            return render(request, "interviews/prep.html",
                          pages.prep_context(db, principal.user, interview), block="checklist")
        if target == "next-steps":
            return render(request, "interviews/conversation.html",
                          pages.conversation_context(db, interview), block="next_steps")
        return Response(status_code=204)  # notes saved as typed: nothing to redraw
    tag_response(response, interview.version)
    return out(interview)


@router.delete("/interviews/{interview_id}", status_code=204)
def delete_interview(request: Request, db: DbSession, interview: WritableInterview) -> Response:
    check_if_match(request, interview.version)
    contact_id = interview.contact_id
    service.delete_interview(db, interview)
    return (redirect(request, f"/contacts/{contact_id}") if is_htmx(request)
            else Response(status_code=204))


@router.get("/interviews/{interview_id}/calendar.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}}, **conflicts(
                not_scheduled="the interview has no date yet")})
def interview_calendar(interview: ReadableInterview, principal: Reader) -> Response:
    return Response(calendar.ics(principal.user, interview), media_type="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="interview-{interview.id}.ics"'})


# --- the question list ---


def _question_list(request: Request, db: Session, principal: Principal, interview: Interview,
                   status_code: int = 200) -> Response:
    return render(request, "interviews/prep.html", pages.prep_context(db, principal.user, interview),
                  block="question_list", status_code=status_code)


@router.get("/interviews/{interview_id}/questions", response_model=Page[ItemOut])
def list_items(interview: ReadableInterview) -> Any:
    """The whole list, in order (a list is short: it fits a meeting)."""
    return {"items": interview.items, "next_cursor": None}


def readable_item(item_id: str, interview: ReadableInterview) -> InterviewQuestion:
    return service.get_item(interview, item_id)


@router.get("/interviews/{interview_id}/questions/{item_id}", response_model=ItemOut)
def get_item(item: Annotated[InterviewQuestion, Depends(readable_item)]) -> Any:
    return item


@router.post("/interviews/{interview_id}/questions", status_code=201, response_model=ItemOut,
             responses=conflicts(already_on_the_list="this question from the bank is on the "
                                                                 "list already"))
def add_item(body: ItemIn, request: Request, principal: Writer, db: DbSession,
             interview: WritableInterview) -> Any:
    item = service.add_item(db, principal.user, interview, body)
    return _question_list(request, db, principal, interview, 201) if is_htmx(request) else item


@router.post("/interviews/{interview_id}/questions/suggest", response_model=list[ItemOut])
def suggest_items(request: Request, principal: Writer, db: DbSession,
                  interview: WritableInterview) -> Any:
    """Fill the list for the meeting's length, from all three categories, ending with the
    question that asks for referrals."""
    items = service.suggest(db, principal.user, interview)
    return _question_list(request, db, principal, interview) if is_htmx(request) else items


@router.patch("/interviews/{interview_id}/questions/{item_id}", response_model=ItemOut)
def update_item(
    body: ItemPatch, request: Request, principal: Writer, db: DbSession, interview: WritableInterview,
    item: Annotated[InterviewQuestion, Depends(writable_item)],
) -> Any:
    service.update_item(db, interview, item, body)
    if is_htmx(request):
        if body.position is not None:
            return _question_list(request, db, principal, interview)
        return Response(status_code=204)  # an answer saved as typed: nothing to redraw
    return item


@router.delete("/interviews/{interview_id}/questions/{item_id}", status_code=204)
def remove_item(request: Request, principal: Writer, db: DbSession, interview: WritableInterview,
                item: Annotated[InterviewQuestion, Depends(writable_item)]) -> Response:
    service.remove_item(db, interview, item)
    if is_htmx(request):
        return _question_list(request, db, principal, interview)
    return Response(status_code=204)


# --- what came of it ---


@router.post("/interviews/{interview_id}/referrals", status_code=201, response_model=ContactOut)
@form("interviews/conversation.html", "referral_form")
def add_referral(body: ReferralIn, request: Request, principal: Writer, db: DbSession,
                 # Both scopes are checked before the interview is looked for.
                 _: Annotated[Principal, Depends(require_scope("contacts:write"))],
                 interview: WritableInterview, settings: AppSettings) -> Any:
    """Add one of the "one or two other people" as a contact referred by the interviewee."""
    contact = service.add_referral(db, principal.user, interview, body, settings)
    if is_htmx(request):
        return render(request, "interviews/conversation.html",
                      {**pages.conversation_context(db, interview), "form": {}, "added": contact},
                      block="referral_form", status_code=201)
    return contact


@router.get("/questions/{question_id}/answers", response_model=Page[AnswerOut])
def question_answers(question_id: str, principal: Reader, db: DbSession) -> Any:
    """What everyone you asked this question answered, newest conversation first."""
    question: Question = questions.get_question(db, principal.user, question_id)
    return {"next_cursor": None, "items": [
        AnswerOut(interview_id=interview.id, contact_id=interview.contact_id,
                  contact_name=interview.contact.full_name, scheduled_at=interview.scheduled_at,
                  completed_at=interview.completed_at,
                  question=item.text, answer=item.answer)
        for interview, item in service.answers(db, principal.user, question)
    ]}
