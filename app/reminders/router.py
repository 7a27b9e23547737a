"""Reminder routes: the student's choices and the calendar feed's address. JSON for API
clients; the matching part of the Reminders page for htmx."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.accounts.service import Principal
from app.deps import AppSettings, DbSession, SessionPrincipal, require_scope
from app.errors import ERROR_RESPONSES
from app.reminders import pages, service
from app.reminders.schemas import FeedCreated, RemindersIn, RemindersOut
from app.web import is_htmx, render

router = APIRouter(prefix="/api/v1", tags=["reminders"], responses=ERROR_RESPONSES)

ProfileReader = Annotated[Principal, Depends(require_scope("profile:read"))]
ProfileWriter = Annotated[Principal, Depends(require_scope("profile:write"))]


@router.get("/me/reminders", response_model=RemindersOut)
def get_reminders(principal: ProfileReader, db: DbSession, settings: AppSettings) -> Any:
    """Your reminder choices: the daily email, the notices, and whether a feed exists."""
    return pages.choices(db, settings, principal.user)


@router.patch("/me/reminders", response_model=RemindersOut)
def update_reminders(body: RemindersIn, request: Request, principal: ProfileWriter,
                     db: DbSession, settings: AppSettings) -> Any:
    """Turn the daily email or the notices on or off (the fields sent; the others stay)."""
    service.update_preferences(db, principal.user, body.model_dump(exclude_unset=True))
    choices = pages.choices(db, settings, principal.user)
    if is_htmx(request):
        return render(request, "reminders/settings.html", {"choices": choices},
                      block="toggles")
    return choices


@router.post("/me/calendar-feed", status_code=201, response_model=FeedCreated)
def create_calendar_feed(request: Request, principal: SessionPrincipal, db: DbSession,
                         settings: AppSettings) -> Any:
    """Turn on your private calendar feed, or give it a new address: the address is shown this
    once, and any earlier one stops working at once. A browser session only, as API keys are."""
    token = service.create_feed(db, principal.user)
    created = FeedCreated(url=service.feed_url(pages.site(request, settings), token),
                          created_at=service.preferences(db, principal.user).feed_created_at)
    if is_htmx(request):
        return render(request, "reminders/settings.html",
                      {"choices": pages.choices(db, settings, principal.user),
                       "created": created}, block="feed", status_code=201)
    return created


@router.delete("/me/calendar-feed", status_code=204)
def revoke_calendar_feed(request: Request, principal: SessionPrincipal, db: DbSession,
                         settings: AppSettings) -> Response:
    """Turn the feed off: its address answers 404 from now on."""
    service.revoke_feed(db, principal.user)
    if is_htmx(request):
        return render(request, "reminders/settings.html",
                      {"choices": pages.choices(db, settings, principal.user)}, block="feed")
    return Response(status_code=204)
