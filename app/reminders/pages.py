"""The Reminders settings page, the page an email's unsubscribe link opens, and the calendar
feed itself (read by calendar apps with its token, no session)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.deps import AppSettings, DbSession, PagePrincipal
from app.directory.service import is_staff
from app.errors import NotFound
from app.models import User
from app.reminders import feed, service
from app.reminders.schemas import RemindersOut
from app.web import render

router = APIRouter(include_in_schema=False)

STOPS = {"digest": "the daily email", "notices": "notices for what cannot wait a day"}


def site(request: Request, settings: Settings) -> str:
    """The address the student reaches Rapport at."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


def choices(db: Session, settings: Settings, user: User) -> RemindersOut:
    prefs = service.preferences(db, user)
    return RemindersOut(digest=prefs.digest, notices=prefs.notices,
                        email_available=settings.email_enabled, timezone=user.timezone,
                        feed_active=prefs.feed_token_hash is not None,
                        feed_created_at=prefs.feed_created_at)


@router.get("/settings/reminders", response_class=HTMLResponse)
def reminders_page(request: Request, principal: PagePrincipal, db: DbSession,
                   settings: AppSettings) -> Response:
    context: dict[str, Any] = {"choices": choices(db, settings, principal.user)}
    if is_staff(principal.user):
        context["outbox"] = service.outbox(db)
    return render(request, "reminders/settings.html", context)


def _unsubscriber(db: Session, settings: Settings, token: str) -> tuple[User, str]:
    found = service.unsubscriber(db, settings, token)
    if found is None:
        raise NotFound("This link is not valid. Turn reminders off on the Reminders settings "
                       "page instead.")
    return found


@router.get("/reminders/unsubscribe/{unsubscribe_token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, unsubscribe_token: str, db: DbSession,
                     settings: AppSettings) -> Response:
    """A question, not the deed: mail scanners open links, and must not turn anything off."""
    _, what = _unsubscriber(db, settings, unsubscribe_token)
    return render(request, "reminders/unsubscribe.html",
                  {"token": unsubscribe_token, "stops": STOPS[what], "done": False})


@router.post("/reminders/unsubscribe/{unsubscribe_token}", response_class=HTMLResponse)
def unsubscribe(request: Request, unsubscribe_token: str, db: DbSession,
                settings: AppSettings) -> Response:
    """One click from the email (RFC 8058: the mail app posts List-Unsubscribe=One-Click), or
    the button of the page above. The signed link is the authority: no session is needed."""
    user, what = _unsubscriber(db, settings, unsubscribe_token)
    service.update_preferences(db, user, {what: False})
    return render(request, "reminders/unsubscribe.html",
                  {"token": unsubscribe_token, "stops": STOPS[what], "done": True})


@router.get("/calendar/{feed_token}.ics")
def calendar_feed(request: Request, feed_token: str, db: DbSession,
                  settings: AppSettings) -> Response:
    owner = service.feed_owner(db, feed_token)
    if owner is None:
        raise NotFound("There is no calendar feed at this address.")
    body = feed.calendar(db, site(request, settings), owner, utcnow())
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer",
        "Content-Disposition": 'inline; filename="rapport.ics"'})
