"""Dependencies every router shares: the unit of work, settings, and who is calling.

One authentication dependency accepts the session cookie or a bearer key. Cookie-authenticated
writes must come from our own origin and carry the CSRF token; bearer-key requests need neither.
"""

import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app import ratelimit
from app.accounts import service, verification
from app.accounts.service import Principal
from app.config import Settings
from app.db import session_scope
from app.errors import Forbidden, Unauthorized

SESSION_COOKIE = "rapport_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work. A GET (or HEAD, OPTIONS) reads: on SQLite its transactions
    begin as readers, which never wait for the write lock and never hold it, so reads go on
    side by side while others write. (A read that must write after all, such as a session's
    sliding expiry, becomes a writer then; if another connection committed meanwhile, SQLite
    refuses at once and the answer is 503 database_busy, to be sent again.) Rate limits and an
    API key's last use are counted outside the database: app/ratelimit.py,
    app/accounts/usage.py."""
    state = request.app.state
    yield from session_scope(state.reading_sessionmaker if request.method in SAFE_METHODS
                             else state.sessionmaker)


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the commit happens before the response is sent, so a failed commit
# is reported to the client instead of being lost after a 200.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def check_same_origin(request: Request) -> None:
    """Refuse a state-changing browser request that another site made."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        raise Forbidden("This request came from another site and was refused.", code="csrf_failed")
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if (parts.scheme, parts.netloc) != (request.url.scheme, request.url.netloc):
            raise Forbidden(
                "This request came from another site and was refused.", code="csrf_failed"
            )


def _from_request(request: Request, db: Session, settings: Settings) -> Principal | None:
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        scheme, _, secret = authorization.partition(" ")
        key = service.find_api_key(db, secret.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise Unauthorized("This API key is not valid. It may have been revoked.",
                               code="invalid_api_key")
        return Principal(user=key.user, api_key=key)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = service.find_session(db, settings, token)
        if session is not None:
            return Principal(user=session.user, session=session)
    return None


@dataclass(frozen=True)
class Viewer:
    """What every page shows of the person logged in. A plain copy, so an error page can
    still be drawn after the request's database work was rolled back."""

    id: str
    name: str
    role: str
    timezone: str
    # The address whose link must be opened before this account may write (the banner).
    unconfirmed_email: str | None = None
    # The account's email, and a new one waiting for its link (the settings page's box).
    email: str = ""
    pending_email: str | None = None


def optional_principal(request: Request, db: DbSession, settings: AppSettings) -> Principal | None:
    """Who is calling, if anyone. An API request with credentials is counted against its rate
    limit here: every API route resolves this once, before its own work."""
    principal = _from_request(request, db, settings)
    if principal is not None:
        user = principal.user
        unconfirmed = verification.waiting_address(settings, user) \
            if verification.writes_refused(settings, user) else None
        request.state.user = Viewer(user.id, user.name, user.role, user.timezone, unconfirmed,
                                    user.email, user.pending_email)
        request.state.via_key = principal.api_key is not None
        if principal.session is not None:
            request.state.csrf_token = service.csrf_token(settings, principal.session.id)
        if request.url.path.startswith("/api/"):
            ratelimit.enforce(request, principal)
    # The connection goes back to the pool before the route waits for a thread of its own: a
    # request holding one while every thread waits for a connection would stop the app.
    db.commit()
    return principal


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


# What an account whose address is not confirmed yet may still do (with email verification
# on): leave, confirm, have the link sent again, fix a mistyped address (the profile, whose new
# email waits for its own link) or cancel it, change its password, and delete itself.
UNCONFIRMED_MAY = {
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/verify-email/resend"),
    ("PATCH", "/api/v1/me"),
    ("DELETE", "/api/v1/me/pending-email"),
    ("POST", "/api/v1/me/password"),
    ("DELETE", "/api/v1/me"),
}


def check_confirmed(request: Request, settings: Settings, principal: Principal) -> None:
    """Refuse a write by an account whose address is not confirmed, but for UNCONFIRMED_MAY."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    if verification.writes_refused(settings, principal.user) \
            and (request.method, route) not in UNCONFIRMED_MAY:
        address = verification.waiting_address(settings, principal.user)
        raise Forbidden(f"Confirm your email address first: open the link we sent to "
                        f"{address}. Until then you can look around but not change anything.",
                        code="email_unverified")


async def current_principal(request: Request, principal: MaybePrincipal,
                            settings: AppSettings) -> Principal:
    if principal is None:
        raise Unauthorized()
    if request.method not in SAFE_METHODS:
        if principal.session is not None:
            check_same_origin(request)
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent, request.state.csrf_token):
                raise Forbidden(
                    "The form was out of date. Reload the page and try again.", code="csrf_failed"
                )
        check_confirmed(request, settings, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def check_scopes(principal: Principal, *scopes: str) -> None:
    """Refuse an API key that lacks one of ``scopes`` (the first one missing is named); a
    browser session has them all."""
    if principal.api_key is not None:
        for scope in scopes:
            if scope not in principal.api_key.scopes:
                raise Forbidden(f"This API key lacks the scope {scope}.", code="missing_scope")


def require_scope(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Any logged-in session, or an API key that carries every one of ``scopes`` (the first one
    missing is named)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        check_scopes(principal, *scopes)
        return principal

    return check


def require_any_scope(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Any logged-in session, or an API key that carries at least one of ``scopes`` (the
    route then checks the one its target needs)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.api_key is not None and not set(scopes) & set(principal.api_key.scopes):
            raise Forbidden(f"This API key lacks the scope {' or '.join(scopes)}.",
                            code="missing_scope")
        return principal

    return check


async def session_principal(principal: CurrentPrincipal) -> Principal:
    """Routes that manage credentials: a browser session only, never an API key."""
    if principal.session is None:
        raise Forbidden(
            "This can only be done from a logged-in browser session, not with an API key.",
            code="session_required",
        )
    return principal


SessionPrincipal = Annotated[Principal, Depends(session_principal)]


async def page_principal(principal: MaybePrincipal) -> Principal:
    """Pages are for a person in a browser: an API key opens none of them."""
    if principal is None or principal.api_key is not None:
        raise Unauthorized()
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]
