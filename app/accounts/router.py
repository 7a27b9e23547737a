"""Account routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from app import audit
from app.accounts import password_reset, service, zones
from app.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    PasswordIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
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
from app.errors import ERROR_RESPONSES, ErrorOut
from app.models import User
from app.pagination import Cursor, Limit, Page
from app.web import form, is_htmx, redirect, render

router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERROR_RESPONSES)

# A browser that logged in to an account carries this cookie from then on: its logins to that
# account are not held back by failures from elsewhere. Sent to the login route only.
DEVICE_COOKIE = "rapport_device"
LOGIN_PATH = "/api/v1/auth/login"


def _error(description: str, retry_after: str | None = None) -> dict[str, Any]:
    """An error answer for ``responses=``, in the documented shape."""
    response: dict[str, Any] = {"model": ErrorOut, "description": description}
    if retry_after:
        response["headers"] = {"Retry-After": {"description": retry_after,
                                               "schema": {"type": "integer"}}}
    return response


BUSY = _error("`busy`: the server is checking as many passwords as it runs at once, and "
              "refused this request at once rather than queue it; nothing was changed (a login "
              "still counts as an attempt). Send it again after Retry-After.",
              "Seconds to wait before sending the request again.")

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


@router.post("/auth/register", status_code=201, response_model=UserOut, responses={
    201: {"description": "Registered and logged in, as a login does: the `rapport_session` "
                         "cookie is set, with the CSRF token for cookie writes in "
                         "`X-CSRF-Token`."},
    403: _error("`registration_closed`, or `csrf_failed` (a request from another site)"),
    409: _error("`email_taken`: an account with this email exists"),
    422: _error("Validation failed, or the email's domain may not register; `fields` names "
                "each problem"),
    429: _error("`registration_throttled`: too many registrations from this address in an "
                "hour (every attempt counts)", "Seconds until the hour that refused it ends."),
    503: BUSY,
})
@form("accounts/register.html", "register_form")
def register(
    body: RegisterIn, request: Request, response: Response, db: DbSession, settings: AppSettings
) -> Any:
    """Create a student account and log it in: the answer carries the session cookie."""
    check_same_origin(request)
    address = request.client.host if request.client else "unknown"
    user = service.register(db, settings, body.email, body.password, body.name, address,
                            zones.canonical(body.timezone) or "UTC")
    if is_htmx(request):
        response = redirect(request, "/")
    _start_session(request, response, db, settings, user)
    return response if is_htmx(request) else user


@router.post("/auth/login", response_model=UserOut, responses={
    200: {"description": "Logged in: the `rapport_session` cookie is set, with the CSRF token "
                         "for cookie writes in `X-CSRF-Token`, and the `rapport_device` cookie "
                         "that marks this client as a device of the account."},
    401: _error("`invalid_credentials`: the email or the password is not right (the same "
                "answer for both)"),
    403: _error("`account_deactivated`: the password is right, but an administrator has "
                "deactivated the account; or `csrf_failed`: a request from another site; or "
                "`password_login_off`: single sign-on is on and password login is for "
                "administrators only"),
    429: _error("`login_throttled`: too many failed logins from this address, to this account "
                "from this address or from everywhere, or on this device. Every attempt "
                "counts; a successful one is taken back. A client that sends the "
                "`rapport_device` cookie of an earlier login to the same account is held "
                "back only by that device's own failures.",
                "Seconds until the window that refused the attempt ends."),
    503: BUSY,
})
@form("accounts/login.html", "login_form")
def login(
    body: LoginIn,
    request: Request,
    response: Response,
    db: DbSession,
    settings: AppSettings,
    next: Annotated[str | None, Query(max_length=2000, include_in_schema=False)] = None,
) -> Any:
    """Log in. The attempt is counted before the password is checked, whatever its outcome."""
    check_same_origin(request)
    address = request.client.host if request.client else "unknown"
    user = service.authenticate(db, settings, body.email, body.password, address,
                                request.cookies.get(DEVICE_COOKIE))
    service.check_password_login(settings, user)
    if is_htmx(request):
        response = redirect(request, _local_path(next))
    _start_session(request, response, db, settings, user)
    response.set_cookie(
        DEVICE_COOKIE, service.device_cookie(settings, user),
        max_age=settings.login_device_days * 86400, httponly=True, samesite="lax",
        secure=request.url.scheme == "https", path=LOGIN_PATH,
    )
    return response if is_htmx(request) else user


RESET_THROTTLED = _error(
    "`reset_throttled`: too many reset links asked for from this address, or for this email "
    "(whether it has an account or not), in an hour", "Seconds until the hour that refused "
    "it ends.")


@router.post("/auth/password-reset", status_code=202, response_class=Response, responses={
    202: {"description": "Taken: when an account uses this email and the server sends email, "
                         "a link to `/reset-password?token=…` is on its way, which works once "
                         "for `RAPPORT_PASSWORD_RESET_MINUTES` (30). The same answer whether "
                         "an account uses the email or not."},
    403: _error("`csrf_failed`: a request from another site"),
    429: RESET_THROTTLED,
})
def ask_password_reset(body: PasswordResetIn, request: Request, background: BackgroundTasks,
                       db: DbSession, settings: AppSettings) -> Response:
    """Email a link to set a new password. The email goes out after the answer."""
    check_same_origin(request)
    address = request.client.host if request.client else "unknown"
    msg = password_reset.request_reset(db, settings, body.email, address)
    if msg is not None:
        background.add_task(password_reset.send, settings, msg)
    return Response(status_code=202)


@router.post("/auth/password-reset/confirm", status_code=204, responses={
    204: {"description": "The password is set. Every browser session of the account has "
                         "ended (log in again); with `revoke_api_keys`, every API key is "
                         "revoked. The link no longer works."},
    403: _error("`csrf_failed`: a request from another site"),
    422: _error("`invalid_reset_token` (`fields` names `token`): the link was used already, "
                "has expired, or was never sent; or `validation_error` (the password is too "
                "short)"),
    503: BUSY,
})
def confirm_password_reset(body: PasswordResetConfirmIn, request: Request, db: DbSession,
                           settings: AppSettings) -> Response:
    """Set a new password with the token of a reset link."""
    check_same_origin(request)
    password_reset.reset_password(db, settings, body.token, body.password, body.revoke_api_keys,
                                  request.client.host if request.client else None)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _start_session(
    request: Request, response: Response, db: DbSession, settings: AppSettings, user: User
) -> None:
    """Start a session and hand its cookie, and the CSRF token for cookie clients, to the browser.
    A fresh session id every time, never the one the browser came with: that one ends."""
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        old = service.find_session(db, settings, old_token)
        if old is not None:
            service.end_session(db, old)
    token = service.start_session(db, settings, user)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=settings.session_days * 86400, httponly=True,
        samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    response.headers[CSRF_HEADER] = service.csrf_token(settings, service.sha256(token))


@router.post("/auth/logout", status_code=204, responses={
    403: _error("`session_required` (an API key was sent), or `csrf_failed`"),
})
def logout(request: Request, principal: SessionPrincipal, db: DbSession,
           settings: AppSettings) -> Response:
    assert principal.session is not None
    service.end_session(db, principal.session)
    # With single sign-on, the login page then offers to sign out at the provider too.
    after = "/login?signed_out=1" if settings.oidc_enabled else "/login"
    response = redirect(request, after) if is_htmx(request) else Response(status_code=204)
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


@router.patch("/me", response_model=UserOut, responses={
    409: _error("`email_taken`: another account has this email; or `edit_conflict`: "
                "someone changed the profile at the same moment"),
})
@form("accounts/settings.html", "profile_form")
def update_me(body: ProfileIn, request: Request, principal: ProfileWriter, db: DbSession) -> Any:
    user = service.update_profile(db, principal.user, body)
    if is_htmx(request):
        context = {"form": UserOut.model_validate(user).model_dump(), "saved": True}
        # The sharing checkbox saves on its own and redraws only itself.
        block = "sharing" if request.headers.get("HX-Target") == "sharing" else "profile_form"
        return render(request, "accounts/settings.html", context, block=block)
    return user


@router.post("/me/password", status_code=204, responses={
    204: {"description": "Changed. Every browser session of the account has ended, and this "
                         "client has a new one (its cookie, and its CSRF token in "
                         "`X-CSRF-Token`); with `revoke_api_keys`, every API key is revoked."},
    422: _error("`current_password` is not right, or the new one is too short; `fields` names "
                "each problem"),
    429: {**ERROR_RESPONSES[429], "description": (
        "`rate_limited`: over the API's rate limit (see the RateLimit headers); or "
        "`password_throttled`: too many attempts with a wrong current password (as many as "
        "failed logins to one account from one address), a right one clearing the count")},
    503: BUSY,
})
@form("accounts/settings.html", "password_form")
def change_password(
    body: PasswordIn, request: Request, principal: SessionPrincipal, db: DbSession,
    settings: AppSettings,
) -> Response:
    """Change the password. Every browser session ends, this one's too (it gets a new one);
    API keys keep working unless `revoke_api_keys` is true."""
    revoked = service.change_password(db, settings, principal.user, body.current_password,
                                      body.new_password, body.revoke_api_keys)
    # The page reloads for htmx: its CSRF token belonged to the session that just ended.
    done = "/settings?password_changed=1" + (f"&keys_revoked={revoked}" if revoked else "")
    response = redirect(request, done) if is_htmx(request) else Response(status_code=204)
    _start_session(request, response, db, settings, principal.user)
    return response


@router.get("/api-keys", response_model=Page[ApiKeyOut])
def list_api_keys(principal: SessionPrincipal, db: DbSession, limit: Limit = 50,
                  cursor: Cursor = None) -> Any:
    items, next_cursor = service.list_api_keys(db, principal.user, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, responses={
    409: _error("`too_many_keys`: the account holds the most API keys one person may"),
})
@form("accounts/api_keys.html", "key_form")
def create_api_key(
    body: ApiKeyIn, request: Request, principal: SessionPrincipal, db: DbSession
) -> Any:
    key, secret = service.create_api_key(db, principal.user, body.name, body.scopes)
    if audit.audited(principal.user):  # staff and administrators; a student's own are private
        audit.record(db, audit.Actor.calling(principal, request), audit.Action.api_key_created,
                     target_type="api_key", target_id=key.id,
                     summary=f"Created the API key “{key.name}” ({key.prefix}…) with "
                             f"{', '.join(key.scopes)}", details={"scopes": key.scopes})
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
    key = service.revoke_api_key(db, principal.user, key_id)
    if audit.audited(principal.user):
        audit.record(db, audit.Actor.calling(principal, request), audit.Action.api_key_revoked,
                     target_type="api_key", target_id=key.id,
                     summary=f"Revoked the API key “{key.name}” ({key.prefix}…)")
    if is_htmx(request):
        return render(request, "accounts/api_keys.html", {"keys": _all_keys(db, principal)},
                      block="key_list")
    return Response(status_code=204)
