"""The question bank page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import DbSession, PagePrincipal
from app.models.question import CATEGORIES
from app.questions import service
from app.web import render, templates

router = APIRouter(include_in_schema=False)
templates.env.globals.update(question_categories=CATEGORIES)


@router.get("/questions", response_class=HTMLResponse)
def bank_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return render(request, "questions/bank.html",
                  {"bank": service.bank(db, principal.user), "form": {}})
