"""Account pages: full HTML for the first load. Forms post JSON to the API routes, but for
the two of a forgotten password, the one confirming an email address and the one that deletes
an account, which work without
JavaScript."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.accounts import deletion, password_reset, service, verification, zones
from app.accounts.router import DEVICE_COOKIE, LOGIN_PATH
from app.accounts.schemas import ADMIN_SCOPES, SCOPES, STAFF_SCOPES, UserOut
from app.deps import (
    SESSION_COOKIE,
    AppSettings,
    DbSession,
    MaybePrincipal,
    PagePrincipal,
    check_same_origin,
)
from app.directory.service import STAFF
from app.errors import AppError, TooManyRequests, ValidationFailed
from app.models import Role
from app.reminders import mail
from app.web import render, templates

router = APIRouter(include_in_schema=False)


def usable_scopes(user: Any) -> tuple[str, ...]:
    """The scopes offered to this person: a student's key could never use the staff ones,
    nor a staff member's the administrators' ones."""
    if user.role == Role.admin:
        return SCOPES
    if user.role in STAFF:
        return tuple(s for s in SCOPES if s not in ADMIN_SCOPES)
    return tuple(s for s in SCOPES if s not in STAFF_SCOPES | ADMIN_SCOPES)


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


# Forgotten passwords: two plain HTML forms, posted without JavaScript to these pages, which
# do what POST /api/v1/auth/password-reset and …/confirm do.


def _forgot(request: Request, settings: AppSettings, status_code: int = 200,
            **context: Any) -> Response:
    return render(request, "accounts/forgot_password.html", {
        "form": {}, "email_enabled": settings.email_enabled,
        "minutes": settings.password_reset_minutes, **context}, status_code=status_code)


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request, settings: AppSettings) -> Response:
    return _forgot(request, settings)


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_password(
    request: Request, background: BackgroundTasks, db: DbSession, settings: AppSettings,
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    check_same_origin(request)
    if not settings.email_enabled:
        return _forgot(request, settings)
    email = email.strip()
    if not email:
        return _forgot(request, settings, 422, errors={"email": "Give the email you log in with."})
    address = request.client.host if request.client else "unknown"
    try:
        msg = password_reset.request_reset(db, settings, email, address)
    except TooManyRequests as exc:
        return _forgot(request, settings, 429, form={"email": email}, error=exc.detail,
                       errors={})
    if msg is not None:
        background.add_task(mail.send_account_email, settings, msg)
    return _forgot(request, settings, sent=email)


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    return render(request, "accounts/reset_password.html", {"form": {}, "token": token})


@router.post("/reset-password", response_class=HTMLResponse)
def reset_password(
    request: Request, db: DbSession, settings: AppSettings,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    revoke_api_keys: Annotated[bool, Form()] = False,
) -> Response:
    check_same_origin(request)
    form = {"revoke_api_keys": revoke_api_keys}
    if len(password) < 8:
        return render(request, "accounts/reset_password.html", {
            "form": form, "token": token,
            "errors": {"password": "Use at least 8 characters."}}, status_code=422)
    try:
        password_reset.reset_password(db, settings, token, password, revoke_api_keys,
                                      request.client.host if request.client else None)
    except ValidationFailed as exc:
        return render(request, "accounts/reset_password.html", {
            "form": form, "token": token, "error": exc.detail, "errors": dict(exc.fields)},
            status_code=422)
    response = Response(status_code=303, headers={"Location": "/login?password_reset=1"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Confirming an email address: the link opens a page with a button, which posts the token to
# this page without JavaScript. Opening the link alone confirms nothing, so a mail scanner
# that fetches every link in an email confirms no address that nobody asked for.


def _verify(request: Request, status_code: int = 200, **context: Any) -> Response:
    return render(request, "accounts/verify_email.html", context, status_code=status_code)


@router.get("/verify-email", response_class=HTMLResponse)
def verify_email_page(
    request: Request, principal: MaybePrincipal, db: DbSession, settings: AppSettings,
    token: Annotated[str, Query(max_length=1000)] = "", confirmed: bool = False,
) -> Response:
    if confirmed or not token:
        return _verify(request, confirmed=confirmed)
    try:
        _, address = verification.check(db, settings, token)
    except AppError as exc:  # the page itself is there: it says what became of the link
        return _verify(request, error=exc.detail, code=exc.code)
    return _verify(request, token=token, address=address)


@router.post("/verify-email", response_class=HTMLResponse)
def verify_email(
    request: Request, principal: MaybePrincipal, db: DbSession, settings: AppSettings,
    token: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_same_origin(request)
    try:
        verification.confirm(db, settings, token)
    except AppError as exc:
        return _verify(request, exc.status_code, error=exc.detail, code=exc.code)
    return Response(status_code=303, headers={"Location": "/verify-email?confirmed=1"})


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


# Deleting one's account: a plain HTML form, posted without JavaScript to this page, which does
# what DELETE /api/v1/me does; then a page that says the account is gone.


def _delete_page(request: Request, principal: PagePrincipal, db: DbSession,
                 status_code: int = 200, headers: dict[str, str] | None = None,
                 **context: Any) -> Response:
    user = principal.user
    return render(request, "accounts/delete_account.html", {
        "form": {}, "errors": {}, "has_password": bool(user.password_hash),
        "last_admin": deletion.is_last_admin(db, user), "role": user.role, **context},
        status_code=status_code, headers=headers)


@router.get("/settings/delete-account", response_class=HTMLResponse)
def delete_account_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return _delete_page(request, principal, db)


@router.post("/settings/delete-account", response_class=HTMLResponse)
def delete_account(
    request: Request, principal: PagePrincipal, db: DbSession, settings: AppSettings,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    check_same_origin(request)
    if not hmac.compare_digest(csrf_token, getattr(request.state, "csrf_token", "")):
        return _delete_page(request, principal, db, 403, error=(
            "The form was out of date. Reload the page and try again."))
    try:
        deletion.delete_own(db, settings, principal.user, password or None, email or None)
    except AppError as exc:
        wrong = {"wrong_password": {"password": "This is not your password."},
                 "wrong_email": {"email": "This is not the email address of your account."}}
        errors = dict(exc.fields) | wrong.get(exc.code, {})
        return _delete_page(request, principal, db, exc.status_code, exc.headers,
                            error=exc.detail, errors=errors, form={"email": email})
    response = Response(status_code=303, headers={"Location": "/account-deleted"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(DEVICE_COOKIE, path=LOGIN_PATH)
    return response


@router.get("/account-deleted", response_class=HTMLResponse)
def account_deleted(request: Request, settings: AppSettings) -> Response:
    return render(request, "accounts/account_deleted.html",
                  {"registration_open": not settings.registration_closed})
