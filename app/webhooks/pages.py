"""The webhooks page, for career-services staff: subscriptions, a form to add one, and the
latest deliveries with a button to send one again."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.deps import DbSession, PagePrincipal
from app.models import WebhookEvent
from app.web import render, templates
from app.webhooks import service

router = APIRouter(include_in_schema=False)

EVENT_LABELS = {
    WebhookEvent.entry_created.value: "An alumnus or alumna is added to the directory",
    WebhookEvent.entry_updated.value: "A directory entry changes",
    WebhookEvent.entry_deleted.value: "A directory entry is deleted",
    WebhookEvent.entry_engaged.value: (
        "A student adds, writes to or interviews someone from the directory "
        "(anonymous, unless the student chose to share their name)"),
    WebhookEvent.import_completed.value: "A directory import finishes (one event per file)",
}
templates.env.globals.update(webhook_events=EVENT_LABELS)
RECENT = 25


def lists(db: Session) -> dict[str, Any]:
    """What the page's two lists show."""
    hooks, _ = service.list_webhooks(db, 200, None)
    deliveries, _ = service.list_deliveries(db, None, RECENT, None)
    return {"hooks": hooks, "deliveries": deliveries}


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    service.require_staff(principal.user)
    return render(request, "webhooks/page.html", {"form": {}, **lists(db)})
