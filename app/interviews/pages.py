"""Interview pages: the list, the prep page, the conversation page, answers across interviews."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.contacts.service import referral_chain
from app.db import utcnow
from app.deps import DbSession, PagePrincipal
from app.etag import etag
from app.interviews import service
from app.models import Format, Interview, Status, User
from app.models.interview import CHECKLIST
from app.questions import service as questions
from app.tasks import service as tasks
from app.web import render, templates

router = APIRouter(include_in_schema=False)

FORMAT_LABELS = {Format.in_person: "In person", Format.phone: "Phone", Format.video: "Video call"}
STATUS_LABELS = {Status.planned: "Planned", Status.requested: "Requested",
                 Status.scheduled: "Scheduled", Status.completed: "Held",
                 Status.cancelled: "Cancelled"}
NEXT_STEPS = {"business_card": "Business card collected",
              "may_call_again": "They said I may call again",
              "resume_review_offered": "They offered to review my resume"}
templates.env.globals.update(format_labels=FORMAT_LABELS, interview_status_labels=STATUS_LABELS,
                             checklist_labels=CHECKLIST, next_step_labels=NEXT_STEPS)


def prep_context(db: Session, owner: User, interview: Interview) -> dict[str, Any]:
    form = {c: getattr(interview, c) for c in
            ("scheduled_at", "duration_minutes", "format", "location", "status")}
    return {"interview": interview, "contact": interview.contact, "form": form,
            "etag": etag(interview.version), "checklist": service.checklist(interview),
            "bank": questions.bank(db, owner)}


def conversation_context(db: Session, interview: Interview) -> dict[str, Any]:
    return {"interview": interview, "contact": interview.contact,
            "referred": referral_chain(db, interview.contact).referred,
            "held_default": service.held_time(interview, None), "now": utcnow()}


@router.get("/interviews", response_class=HTMLResponse)
def interviews_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    interviews, _ = service.list_interviews(db, principal.user, None, None, 200, None)
    done = {Status.completed, Status.cancelled}
    return render(request, "interviews/list.html", {
        "upcoming": [i for i in interviews if i.status not in done],
        "past": sorted((i for i in interviews if i.status in done),
                       key=lambda i: i.when or i.updated_at, reverse=True),
    })


@router.get("/interviews/{interview_id}", response_class=HTMLResponse)
def prep_page(interview_id: str, request: Request, principal: PagePrincipal,
              db: DbSession, saved: bool = False) -> Response:
    interview = service.get_interview(db, principal.user, interview_id)
    return render(request, "interviews/prep.html",
                  {**prep_context(db, principal.user, interview), "saved": saved})


@router.get("/interviews/{interview_id}/conversation", response_class=HTMLResponse)
def conversation_page(interview_id: str, request: Request, principal: PagePrincipal,
                      db: DbSession) -> Response:
    interview = service.get_interview(db, principal.user, interview_id)
    # The thank-you task appears here once the meeting is marked held.
    open_tasks, _ = tasks.list_tasks(db, principal.user, None, None, None, None, interview.id, 20,
                                     None)
    return render(request, "interviews/conversation.html",
                  {**conversation_context(db, interview), "tasks": open_tasks, "form": {}})


@router.get("/questions/{question_id}/answers", response_class=HTMLResponse)
def answers_page(question_id: str, request: Request, principal: PagePrincipal,
                 db: DbSession) -> Response:
    question = questions.get_question(db, principal.user, question_id)
    return render(request, "interviews/answers.html", {
        "question": question, "answers": service.answers(db, principal.user, question),
    })
