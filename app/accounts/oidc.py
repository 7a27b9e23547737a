"""Single sign-on routes: the button's redirect to the university's provider, the callback that
signs the person in, linking an account made with a password, and the provider's sign-out.

The callback sets the same session cookie as a password login. Each refusal is an error page
(or, for the link form's JSON route, the documented error body), and no account is made.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.accounts import oidc_service as sso
from app.accounts import service
from app.accounts.router import _error, _local_path, _start_session
from app.accounts.schemas import OidcLinkIn, UserOut
from app.config import Settings
from app.db import session_scope
from app.deps import SESSION_COOKIE, AppSettings, DbSession, check_same_origin
from app.errors import ERROR_RESPONSES, NotFound, TooManyRequests
from app.models import User
from app.ratelimit import Limiter
from app.web import form, is_htmx, redirect, render, templates

# Binds a sign-in to the browser that began it; sent to the callback only.
BROWSER_COOKIE = "rapport_oidc"
CALLBACK_PATH = "/auth/oidc/callback"
# The account waiting to be linked, signed; read by the link page and its form's route.
LINK_COOKIE = "rapport_oidc_link"

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=ERROR_RESPONSES)


def writing_db(request: Request) -> Iterator[Session]:
    """These pages are GETs that write (a sign-in begun, an account made): their unit of work
    is a writer from the start, so SQLite never has to turn a reader into one."""
    yield from session_scope(request.app.state.sessionmaker)


WritingDb = Annotated[Session, Depends(writing_db, scope="function")]


def _enabled(settings: Settings) -> None:
    if not settings.oidc_enabled:
        raise NotFound()


@dataclass(frozen=True)
class LoginChoices:
    """What the login page offers when single sign-on is on."""

    label: str
    password_form: bool  # the email and password form is shown


def sso_login(request: Request) -> LoginChoices | None:
    settings: Settings = request.app.state.settings
    if not settings.oidc_enabled:
        return None
    return LoginChoices(label=settings.oidc_label, password_form=(
        not settings.oidc_password_login_admins_only
        or request.query_params.get("with") == "password"))


def sso_end_session(request: Request) -> str | None:
    """After a logout: the provider's end-session address, to sign out there too."""
    settings: Settings = request.app.state.settings
    return sso.end_session_url(settings, str(request.url_for("login_page")))


templates.env.globals.update(sso_login=sso_login, sso_end_session=sso_end_session)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _count_start(request: Request, settings: Settings) -> None:
    """Each sign-in begun writes a row: ``oidc_logins_per_minute`` may begin from one network
    (an IPv6 /64) in a minute, counted by the rate limiter, never in the database. Over it,
    429 ``sso_throttled`` with ``Retry-After``."""
    most = settings.oidc_logins_per_minute
    if not most:
        return
    address = request.client.host if request.client else "unknown"
    limiter: Limiter = request.app.state.rate_limiter
    budget = limiter.count_for("oidc-login", service.sha256(service._network(address)), most, 60)
    if not budget.allowed:
        raise TooManyRequests(
            "Too many sign-ins were started from your network in the last minute. Wait "
            f"{service._in_words(budget.reset)}, then try again.", code="sso_throttled",
            headers={"Retry-After": str(budget.reset)})


@pages.get("/auth/oidc/login")
def begin(
    request: Request, db: WritingDb, settings: AppSettings,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Send the browser to the provider, with a new state, nonce and PKCE challenge."""
    _enabled(settings)
    _count_start(request, settings)
    url, browser = sso.begin(db, settings, str(request.url_for("oidc_callback")),
                             _local_path(next))
    response = Response(status_code=303, headers={"Location": url})
    response.set_cookie(BROWSER_COOKIE, browser, max_age=sso.LOGIN_MINUTES * 60, httponly=True,
                        samesite="lax", secure=_secure(request), path=CALLBACK_PATH)
    return response


def _signed_in(request: Request, response: Response, db: Session, settings: Settings,
               user: User) -> Response:
    """Start the session as a password login does: a fresh one, never the browser's old one."""
    old_token = request.cookies.get(SESSION_COOKIE)
    if old_token:
        old = service.find_session(db, settings, old_token)
        if old is not None:
            service.end_session(db, old)
    _start_session(request, response, db, settings, user)
    return response


@pages.get(CALLBACK_PATH, name="oidc_callback")
def callback(
    request: Request, db: WritingDb, settings: AppSettings,
    code: Annotated[str, Query(max_length=4096)] = "",
    state: Annotated[str, Query(max_length=512)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Finish a sign-in: the state taken (once), the code exchanged, the ID token checked, then
    the account found, made, or sent to be linked."""
    _enabled(settings)
    if error:
        if state:
            sso.take(db, state, request.cookies.get(BROWSER_COOKIE))
        raise sso.SignInFailed("Your university's sign-in did not let you in "
                               f"({error[:80]}). Start again from the login page.",
                               code="sso_denied")
    started = sso.take(db, state, request.cookies.get(BROWSER_COOKIE))
    if not code:
        raise sso.SignInFailed("Your university's sign-in sent no code. Start again from the "
                               "login page.", code="sso_failed")
    # Nothing is held open while the provider is asked: take() committed.
    tokens = sso.exchange(settings, code, started.code_verifier,
                          str(request.url_for("oidc_callback")))
    access_token = tokens.get("access_token")
    access = access_token if isinstance(access_token, str) else None
    claims = sso.verify_id_token(settings, tokens["id_token"], started.nonce, access)
    wanted = {"email", settings.oidc_roles_claim} - {""}
    if access and not wanted <= claims.keys():
        claims = sso.userinfo(settings, access, claims["sub"]) | claims
    who = sso.person(settings, claims)
    result = sso.sign_in(db, who)
    if isinstance(result, sso.LinkNeeded):
        response = Response(status_code=303, headers={"Location": "/auth/oidc/link"})
        response.set_cookie(LINK_COOKIE, sso.link_token(settings, result.user, who),
                            max_age=sso.LINK_MINUTES * 60, httponly=True, samesite="lax",
                            secure=_secure(request), path="/")
    else:
        response = Response(status_code=303,
                            headers={"Location": sso.landing(result, started.next_path)})
        _signed_in(request, response, db, settings, result)
    response.delete_cookie(BROWSER_COOKIE, path=CALLBACK_PATH)
    return response


@pages.get("/auth/oidc/link", response_class=HTMLResponse)
def link_page(request: Request, db: WritingDb, settings: AppSettings) -> Response:
    _enabled(settings)
    user_id, _ = sso.read_link_token(settings, request.cookies.get(LINK_COOKIE))
    user = db.get(User, user_id)
    if user is None:
        raise sso.SignInFailed(sso.LINK_EXPIRED, code="sso_link_expired")
    return render(request, "accounts/oidc_link.html",
                  {"form": {}, "email": user.email, "label": settings.oidc_label})


@router.post("/auth/oidc/link", response_model=UserOut, responses={
    200: {"description": "Linked and logged in: the `rapport_session` cookie is set, with the "
                         "CSRF token in `X-CSRF-Token`."},
    400: _error("`sso_link_expired`: no account is waiting to be linked in this browser (it "
                "comes from a sign-in through the university), or the time to link it ran out; "
                "or `bad_request`: the body cannot be read"),
    401: _error("`invalid_credentials`: the password is not right"),
    403: _error("`sso_account_taken`: the account or the university sign-in is linked to "
                "another; `account_deactivated`: an administrator deactivated the account; or "
                "`csrf_failed`"),
    429: _error("`login_throttled`: too many failed attempts, counted as logins are",
                "Seconds until the window that refused the attempt ends."),
})
@form("accounts/oidc_link.html", "link_form")
def link(body: OidcLinkIn, request: Request, response: Response, db: DbSession,
         settings: AppSettings) -> Any:
    """Link the account with this email, made with a password, to the university sign-in that
    found it, by giving its password once; then log in. Later sign-ins need no password."""
    _enabled(settings)
    check_same_origin(request)
    user_id, who = sso.read_link_token(settings, request.cookies.get(LINK_COOKIE))
    user = db.get(User, user_id)
    if user is None:
        raise sso.SignInFailed(sso.LINK_EXPIRED, code="sso_link_expired")
    address = request.client.host if request.client else "unknown"
    user = service.authenticate(db, settings, user.email, body.password, address)
    user = sso.link(db, user, who)
    if is_htmx(request):
        response = redirect(request, sso.landing(user, "/"))
    _signed_in(request, response, db, settings, user)
    response.delete_cookie(LINK_COOKIE, path="/")
    return response if is_htmx(request) else user
