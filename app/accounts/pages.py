"""Account pages: full HTML for the first load. Forms post JSON to the API routes."""

from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts import service
from app.accounts.schemas import SCOPES, UserOut
from app.deps import AppSettings, DbSession, MaybePrincipal, PagePrincipal
from app.interviews import service as interviews
from app.models import Status, TaskStatus
from app.tasks import service as tasks
from app.web import render, templates

router = APIRouter(include_in_schema=False)

templates.env.globals.update(api_scopes=SCOPES, timezones=sorted(available_timezones()))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: MaybePrincipal, db: DbSession) -> Response:
    if principal is None or principal.api_key is not None:
        return render(request, "home/welcome.html", {"user": None})
    user = principal.user
    missing = [label for field, label in (("school", "your school"), ("major", "your major"),
                                          ("career_goal", "your career goal"))
               if not getattr(user, field)]
    due, _ = tasks.list_tasks(db, user, TaskStatus.open, None, None, None, None, 5, None)
    planned = [i for i in interviews.list_interviews(db, user, None, None, 20, None)[0]
               if i.status not in {Status.completed, Status.cancelled}][:5]
    return render(request, "home/home.html", {"missing": missing, "tasks": due,
                                              "interviews": planned})


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    principal: MaybePrincipal,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    registered: bool = False,
) -> Response:
    if principal is not None:
        return Response(status_code=303, headers={"Location": "/"})
    return render(request, "accounts/login.html",
                  {"form": {}, "next": next, "registered": registered})


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, settings: AppSettings) -> Response:
    return render(request, "accounts/register.html", {
        "form": {}, "closed": settings.registration_closed,
        "domains": settings.registration_domains,
    })


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, principal: PagePrincipal, password_changed: bool = False
) -> Response:
    form: dict[str, Any] = UserOut.model_validate(principal.user).model_dump()
    return render(request, "accounts/settings.html",
                  {"form": form, "password_changed": password_changed})


@router.get("/settings/api-keys", response_class=HTMLResponse)
def api_keys_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    keys, _ = service.list_api_keys(db, principal.user, 200, None)
    return render(request, "accounts/api_keys.html",
                  {"keys": keys, "form": {}})
