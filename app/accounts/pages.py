"""Account pages: full HTML for the first load. Forms post JSON to the API routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts import service, zones
from app.accounts.schemas import SCOPES, STAFF_SCOPES, UserOut
from app.deps import AppSettings, DbSession, MaybePrincipal, PagePrincipal
from app.directory.service import STAFF
from app.web import render, templates

router = APIRouter(include_in_schema=False)


def usable_scopes(user: Any) -> tuple[str, ...]:
    """The scopes offered to this person: a student's key could never use the staff ones."""
    if user.role in STAFF:
        return SCOPES
    return tuple(s for s in SCOPES if s not in STAFF_SCOPES)


templates.env.globals.update(timezones=zones.choices, usable_scopes=usable_scopes)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    principal: MaybePrincipal,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    if principal is not None:
        return Response(status_code=303, headers={"Location": "/"})
    return render(request, "accounts/login.html", {"form": {}, "next": next})


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, principal: MaybePrincipal, settings: AppSettings) -> Response:
    if principal is not None:
        return Response(status_code=303, headers={"Location": "/"})
    return render(request, "accounts/register.html", {
        "form": {}, "closed": settings.registration_closed,
        "domains": settings.registration_domains,
    })


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, principal: PagePrincipal, password_changed: bool = False,
    keys_revoked: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    form: dict[str, Any] = UserOut.model_validate(principal.user).model_dump()
    return render(request, "accounts/settings.html", {
        "form": form, "password_changed": password_changed, "keys_revoked": keys_revoked,
        # An account made by single sign-on has no password of its own to change.
        "has_password": bool(principal.user.password_hash)})


@router.get("/settings/career-sentence", response_class=HTMLResponse)
def career_sentence(
    request: Request, principal: PagePrincipal,
    school: Annotated[str, Query(max_length=200)] = "",
    major: Annotated[str, Query(max_length=200)] = "",
    career_goal: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The sentence the drafts will open with, as the student types their profile."""
    return render(request, "accounts/settings.html",
                  {"form": {"school": school, "major": major, "career_goal": career_goal}},
                  block="career_sentence")


@router.get("/settings/api-keys", response_class=HTMLResponse)
def api_keys_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    keys, _ = service.list_api_keys(db, principal.user, 200, None)
    return render(request, "accounts/api_keys.html",
                  {"keys": keys, "form": {}})
