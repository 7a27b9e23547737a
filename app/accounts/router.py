"""Account routes: JSON for API clients, the matching fragment for htmx."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response

from app import audit
from app.accounts import deletion, password_reset, service, verification, zones
from app.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    DeleteAccountIn,
    LoginIn,
    PasswordIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    ProfileIn,
    RegisterIn,
    UserOut,
    VerifyEmailIn,
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
from app.reminders import mail
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
                         "`X-CSRF-Token`. With email verification on, a link to "
                         "`/verify-email?token=…` is sent to the address right after the "
                         "answer, and the account may read but not write until it is opened "
                         "(`email_verified` is false)."},
    403: _error("`registration_closed`, or `csrf_failed` (a request from another site)"),
    409: _error("`email_taken`: an account with this email exists. With email verification "
                "on, a student account that never confirmed it and registered longer ago "
                "than a link works is deleted instead, and the registration goes on"),
    422: _error("Validation failed, or the email's domain may not register; `fields` names "
                "each problem"),
    429: _error("`registration_throttled`: too many registrations from this address in an "
                "hour (every attempt counts)", "Seconds until the hour that refused it ends."),
    503: BUSY,
})
@form("accounts/register.html", "register_form")
def register(
    body: RegisterIn, request: Request, response: Response, background: BackgroundTasks,
    db: DbSession, settings: AppSettings,
) -> Any:
    """Create a student account and log it in: the answer carries the session cookie."""
    check_same_origin(request)
    address = request.client.host if request.client else "unknown"
    user = service.register(db, settings, body.email, body.password, body.name, address,
                            zones.canonical(body.timezone) or "UTC")
    if is_htmx(request):
        response = redirect(request, "/")
    _start_session(request, response, db, settings, user)
    msg = verification.first_link(db, settings, user)
    if msg is not None:
        background.add_task(mail.send_account_email, settings, msg)
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
        background.add_task(mail.send_account_email, settings, msg)
    return Response(status_code=202)


@router.post("/auth/password-reset/confirm", status_code=204, responses={
    204: {"description": "The password is set. Every browser session of the account has "
                         "ended (log in again); with `revoke_api_keys`, every API key is "
                         "revoked and the calendar feed's address stops working. The link no "
                         "longer works."},
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


VERIFICATION_THROTTLED = _error(
    "`verification_throttled`: too many confirmation links were sent for this account in an "
    "hour (registering, changing the email and sending again all count)",
    "Seconds until the hour that refused it ends.")


@router.post("/auth/verify-email", status_code=204, responses={
    204: {"description": "Confirmed. A new account may write from now on; a new email asked "
                         "for on the profile is the account's email (and login) from now on."},
    403: _error("`csrf_failed`: a request from another site"),
    409: _error("`already_confirmed`: the link's address is confirmed already (the link was "
                "used); or `email_taken`: another account took the new address meanwhile"),
    422: _error("`invalid_verification_token` (`fields` names `token`): the link has expired, "
                "was never sent by this server, or confirms an address no longer waiting on "
                "its account (another was asked for since, or the change was cancelled)"),
})
def verify_email(body: VerifyEmailIn, request: Request, db: DbSession,
                 settings: AppSettings) -> Response:
    """Confirm an address with the token of the link sent to it. No login is needed: the
    link is the proof, and it confirms its own account's address only."""
    check_same_origin(request)
    verification.confirm(db, settings, body.token)
    return Response(status_code=204)


@router.post("/auth/verify-email/resend", status_code=202, responses={
    202: {"description": "A new link is on its way to the address waiting: the account's "
                         "own while it is not confirmed, or the new email asked for. It is "
                         "sent right after the answer. Earlier links keep working until they "
                         "expire."},
    409: _error("`nothing_to_confirm`: no address waits for a link (or verification is off)"),
    429: VERIFICATION_THROTTLED,
})
def resend_verification(request: Request, principal: ProfileWriter, background: BackgroundTasks,
                        db: DbSession, settings: AppSettings) -> Response:
    """Send the confirmation link again."""
    msg = verification.resend(db, settings, principal.user)
    background.add_task(mail.send_account_email, settings, msg)
    if is_htmx(request):
        return render(request, "accounts/_link_sent.html",
                      {"address": verification.waiting_address(settings, principal.user)},
                      status_code=202)
    return Response(status_code=202)


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
    200: {"description": "Saved. With email verification on, a new `email` does not change "
                         "the account's email yet: it waits as `pending_email`, and a link to "
                         "confirm it is sent to it right after the answer."},
    409: _error("`email_taken`: another account has this email; or `edit_conflict`: "
                "someone changed the profile at the same moment"),
    429: VERIFICATION_THROTTLED,
})
@form("accounts/settings.html", "profile_form")
def update_me(body: ProfileIn, request: Request, principal: ProfileWriter,
              background: BackgroundTasks, db: DbSession, settings: AppSettings) -> Any:
    msg = None
    if settings.verification_on and body.email is not None:
        msg = verification.ask_change(db, settings, principal.user, body.email)
        body = body.model_copy(update={"email": principal.user.email})
    user = service.update_profile(db, principal.user, body)
    if msg is not None:
        background.add_task(mail.send_account_email, settings, msg)
    return _profile(request, user)


@router.delete("/me/pending-email", response_model=UserOut, responses={
    200: {"description": "The new email waiting is forgotten (if any was), and the links sent "
                         "to it no longer work. The profile as it now is."},
})
@form("accounts/settings.html", "profile_form")
def cancel_email_change(request: Request, principal: ProfileWriter) -> Any:
    """Cancel a change of email that waits for its link."""
    verification.cancel_change(principal.user)
    return _profile(request, principal.user)


def _profile(request: Request, user: User) -> Any:
    if is_htmx(request):
        context = {"form": UserOut.model_validate(user).model_dump(), "saved": True}
        # The sharing checkbox saves on its own and redraws only itself.
        block = "sharing" if request.headers.get("HX-Target") == "sharing" else "profile_form"
        return render(request, "accounts/settings.html", context, block=block)
    return user


@router.post("/me/password", status_code=204, responses={
    204: {"description": "Changed. Every browser session of the account has ended, and this "
                         "client has a new one (its cookie, and its CSRF token in "
                         "`X-CSRF-Token`); with `revoke_api_keys`, every API key is revoked "
                         "and the calendar feed's address stops working."},
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
    API keys and the calendar feed keep working unless `revoke_api_keys` is true."""
    revoked = service.change_password(db, settings, principal.user, body.current_password,
                                      body.new_password, body.revoke_api_keys)
    # The page reloads for htmx: its CSRF token belonged to the session that just ended.
    done = "/settings?password_changed=1" + (f"&keys_revoked={revoked}" if revoked else "")
    response = redirect(request, done) if is_htmx(request) else Response(status_code=204)
    _start_session(request, response, db, settings, principal.user)
    return response


@router.delete("/me", status_code=204, responses={
    204: {"description": "Deleted, with everything the account owned: contacts, "
                         "organizations, interviews, questions, templates, messages, tasks, "
                         "imports, reminders, API keys and sessions. The session cookie is "
                         "cleared. The alumni directory stays; the account's directory "
                         "engagements stay in career services' counts, anonymous. The email "
                         "address may register again."},
    403: _error("`wrong_password`: `password` is not the account's; `wrong_email`: `email` is "
                "not the account's (an account made by single sign-on); `session_required`: "
                "an API key was sent (only a logged-in browser session may delete its "
                "account); or `csrf_failed`"),
    409: _error("`last_admin`: the account is the last administrator's"),
    422: _error("The confirmation is missing: `password`, or `email` for an account made by "
                "single sign-on, which has no password; `fields` names it"),
    429: {**ERROR_RESPONSES[429], "description": (
        "`rate_limited`: over the API's rate limit (see the RateLimit headers); or "
        "`password_throttled`: too many wrong passwords (counted with wrong current "
        "passwords when changing it)")},
    503: BUSY,
})
def delete_me(body: DeleteAccountIn, principal: SessionPrincipal, db: DbSession,
              settings: AppSettings) -> Response:
    """Delete your account and everything it owns, for good (download `/api/v1/export.json`
    first to keep a copy). Confirm with your password; an account made by single sign-on has
    none and types its email address instead. From a browser session only."""
    deletion.delete_own(db, settings, principal.user, body.password, body.email)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(DEVICE_COOKIE, path=LOGIN_PATH)
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
