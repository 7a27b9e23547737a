"""Account routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request, Response

from app.accounts import service
from app.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    PasswordIn,
    ProfileIn,
    RegisterIn,
    UserOut,
)
from app.accounts.service import Principal
from app.contacts import export
from app.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    AppSettings,
    DbSession,
    SessionPrincipal,
    check_same_origin,
    require_scope,
)
from app.errors import ERROR_RESPONSES
from app.models import User
from app.pagination import Cursor, Limit, Page
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERROR_RESPONSES)

ProfileReader = Annotated[Principal, Depends(require_scope("profile:read"))]
ProfileWriter = Annotated[Principal, Depends(require_scope("profile:write"))]


def _local_path(next_url: str | None) -> str:
    """Only ever send someone back to a page of ours (browsers drop tabs and newlines and read
    a backslash as a slash, so "/\t/evil.example" would leave the site)."""
    if not next_url or not next_url.startswith("/"):
        return "/"
    cleaned = "".join(c for c in next_url if c.isprintable()).replace("\\", "/")
    parts = urlsplit(cleaned)
    if cleaned != next_url or cleaned.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return next_url


@router.post("/auth/register", status_code=201, response_model=UserOut)
@form("accounts/register.html", "register_form")
def register(body: RegisterIn, request: Request, db: DbSession, settings: AppSettings) -> Any:
    check_same_origin(request)
    user = service.register(db, settings, body.email, body.password, body.name)
    if is_htmx(request):
        return redirect(request, "/login?registered=1")
    return user


@router.post("/auth/login", response_model=UserOut)
@form("accounts/login.html", "login_form")
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    db: DbSession,
    settings: AppSettings,
    next: Annotated[str | None, Query(max_length=2000, include_in_schema=False)] = None,
) -> Any:
    check_same_origin(request)
    address = request.client.host if request.client else "unknown"
    user = service.authenticate(db, settings, body.email, body.password, address)
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:  # a fresh session id at every login, never the one the browser came with
        old = service.find_session(db, settings, old_token)
        if old is not None:
            service.end_session(db, old)
    if is_htmx(request):
        response = redirect(request, _local_path(next))
    _start_session(request, response, db, settings, user)
    return response if is_htmx(request) else user


def _start_session(
    request: Request, response: Response, db: DbSession, settings: AppSettings, user: User
) -> None:
    """Start a session and hand its cookie, and the CSRF token for cookie clients, to the browser."""
    token = service.start_session(db, settings, user)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.session_days * 86400, httponly=True,
        samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    response.headers[CSRF_HEADER] = service.csrf_token(settings, service.sha256(token))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, principal: SessionPrincipal, db: DbSession) -> Response:
    assert principal.session is not None
    service.end_session(db, principal.session)
    response = redirect(request, "/login") if is_htmx(request) else Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def get_me(principal: ProfileReader) -> Any:
    return principal.user


Everything = Annotated[Principal, Depends(require_scope(*export.EVERYTHING_SCOPES))]


@router.get("/export.json", response_model=export.AccountExport, responses={
    200: {"description": "Everything you own, as one JSON document (an attachment)."}})
def export_everything(principal: Everything, db: DbSession, response: Response) -> Any:
    """Your profile, organizations, contacts (with their timelines), your own questions,
    interviews (with their questions and answers), tasks, messages and your own templates.
    An API key needs profile:read, contacts:read, interviews:read and messages:read."""
    response.headers["Content-Disposition"] = 'attachment; filename="rapport-export.json"'
    return export.everything(db, principal.user)


@router.patch("/me", response_model=UserOut)
@form("accounts/settings.html", "profile_form")
def update_me(body: ProfileIn, request: Request, principal: ProfileWriter, db: DbSession) -> Any:
    user = service.update_profile(db, principal.user, body)
    if is_htmx(request):
        context = {"form": UserOut.model_validate(user).model_dump(), "saved": True}
        # The sharing checkbox saves on its own and redraws only itself.
        block = "sharing" if request.headers.get("HX-Target") == "sharing" else "profile_form"
        return render(request, "accounts/settings.html", context, block=block)
    return user


@router.post("/me/password", status_code=204)
@form("accounts/settings.html", "password_form")
def change_password(
    body: PasswordIn, request: Request, principal: SessionPrincipal, db: DbSession,
    settings: AppSettings,
) -> Response:
    """Change the password. Every session ends; this browser gets a new one."""
    service.change_password(db, principal.user, body.current_password, body.new_password)
    # The page reloads for htmx: its CSRF token belonged to the session that just ended.
    response = (redirect(request, "/settings?password_changed=1") if is_htmx(request)
                else Response(status_code=204))
    _start_session(request, response, db, settings, principal.user)
    return response


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(principal: SessionPrincipal, db: DbSession, limit: Limit = 50,
                  cursor: Cursor = None) -> Any:
    items, next_cursor = service.list_api_keys(db, principal.user, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
@form("accounts/api_keys.html", "key_form")
def create_api_key(
    body: ApiKeyIn, request: Request, principal: SessionPrincipal, db: DbSession
) -> Any:
    key, secret = service.create_api_key(db, principal.user, body.name, body.scopes)
    created = ApiKeyCreated(**ApiKeyOut.model_validate(key).model_dump(), key=secret)
    if is_htmx(request):
        context = {"created": created, "form": {}, "keys": _all_keys(db, principal), "oob": True}
        # The form comes back empty with the secret beside it; the list is swapped out of band.
        return render(request, "accounts/api_keys.html", context,
                      block="key_form", status_code=201)
    return created


def _all_keys(db: DbSession, principal: Principal) -> list[Any]:
    return service.list_api_keys(db, principal.user, 200, None)[0]


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    key_id: str, request: Request, principal: SessionPrincipal, db: DbSession
) -> Response:
    service.revoke_api_key(db, principal.user, key_id)
    if is_htmx(request):
        return render(request, "accounts/api_keys.html", {"keys": _all_keys(db, principal)},
                      block="key_list")
    return Response(status_code=204)
