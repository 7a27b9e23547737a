"""Webhook routes: career-services staff (and their keys with ``webhooks:manage``) subscribe
addresses to events, read what was sent, and send a delivery again."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app import audit, idempotency
from app.accounts.service import Principal
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES
from app.etag import check_if_match, tag_response
from app.idempotency import IdempotencyKey
from app.models import DeliveryStatus, Webhook, WebhookDelivery
from app.pagination import Cursor, Limit, Page
from app.web import form, is_htmx, render
from app.webhooks import pages, service
from app.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut, WebhookPatch

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERROR_RESPONSES)
PAGE = "webhooks/page.html"


def staff_manager(principal: Annotated[Principal, Depends(require_scope("webhooks:manage"))]
                  ) -> Principal:
    service.require_staff(principal.user)
    return principal


Manager = Annotated[Principal, Depends(staff_manager)]


def managed_webhook(webhook_id: str, principal: Manager, db: DbSession) -> Webhook:
    return service.get_webhook(db, webhook_id)


ManagedWebhook = Annotated[Webhook, Depends(managed_webhook)]


def created(hook: Webhook) -> WebhookCreated:
    return WebhookCreated(**WebhookOut.model_validate(hook).model_dump(), secret=hook.secret)


@router.get("/webhooks", response_model=Page[WebhookOut])
def list_webhooks(principal: Manager, db: DbSession, limit: Limit = 50,
                  cursor: Cursor = None) -> Any:
    """Every subscription of the career office, newest first."""
    items, next_cursor = service.list_webhooks(db, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
@form(PAGE, "webhook_form")
def create_webhook(body: WebhookIn, request: Request, response: Response, principal: Manager,
                   db: DbSession, settings: AppSettings,
                   idempotency_key: IdempotencyKey = None) -> Any:
    """Subscribe an address. The answer carries the signing `secret`, shown this once."""

    def create() -> WebhookCreated:
        hook = service.create_webhook(db, settings, principal.user, body.url, list(body.events),
                                      body.active, body.description)
        audit.record(db, audit.Actor.calling(principal, request), audit.Action.webhook_created,
                     target_type="webhook", target_id=hook.id,
                     summary=f"Added the webhook {hook.url}",
                     details={"events": hook.events, "active": hook.active})
        return created(hook)

    made = idempotency.create_once(db, principal.user, idempotency_key, request.url.path, body,
                                   create, WebhookCreated)
    if isinstance(made, Response):
        return made
    if is_htmx(request):
        # The form comes back empty with the secret beside it; the list is swapped out of band.
        context = {"created": made, "form": {}, "oob": True, **pages.lists(db)}
        return render(request, PAGE, context, block="webhook_form", status_code=201)
    response.headers["Location"] = f"/api/v1/webhooks/{made.id}"
    return made


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(response: Response, hook: ManagedWebhook) -> Any:
    tag_response(response, hook.version)
    return hook


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
def update_webhook(body: WebhookPatch, request: Request, response: Response, db: DbSession,
                   settings: AppSettings, principal: Manager, hook: ManagedWebhook) -> Any:
    """Change the address, the events, or pause it (`active: false`): a paused webhook gets no
    new deliveries, and those already queued wait until it is active again."""
    check_if_match(request, hook.version)
    before = {"url": hook.url, "events": list(hook.events), "active": hook.active,
              "description": hook.description}
    service.update_webhook(db, settings, hook, body.model_dump(exclude_unset=True))
    changed = {field: {"from": was, "to": getattr(hook, field)}
               for field, was in before.items() if getattr(hook, field) != was}
    if changed:
        audit.record(db, audit.Actor.calling(principal, request), audit.Action.webhook_updated,
                     target_type="webhook", target_id=hook.id,
                     summary=f"Changed the webhook {hook.url}: {', '.join(changed)}",
                     details=changed)
    if is_htmx(request):
        return render(request, PAGE, pages.lists(db), block="webhook_list")
    tag_response(response, hook.version)
    return hook


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(request: Request, db: DbSession, principal: Manager,
                   hook: ManagedWebhook) -> Response:
    """Remove the subscription and every delivery of it."""
    check_if_match(request, hook.version)
    audit.record(db, audit.Actor.calling(principal, request), audit.Action.webhook_deleted,
                 target_type="webhook", target_id=hook.id,
                 summary=f"Deleted the webhook {hook.url}", details={"events": hook.events})
    service.delete_webhook(db, hook)
    if is_htmx(request):  # its deliveries are gone from the list below too
        return render(request, PAGE, {"deliveries_oob": True, **pages.lists(db)},
                      block="webhook_list")
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=WebhookCreated)
def rotate_secret(request: Request, db: DbSession, principal: Manager,
                  hook: ManagedWebhook) -> Any:
    """A new signing secret, in force at once, shown this once; the old one stops working."""
    service.rotate_secret(db, hook)
    audit.record(db, audit.Actor.calling(principal, request), audit.Action.webhook_updated,
                 target_type="webhook", target_id=hook.id,
                 summary=f"Gave the webhook {hook.url} a new signing secret",
                 details={"secret": "rotated"})
    if is_htmx(request):
        context = {"rotated": created(hook), **pages.lists(db)}
        return render(request, PAGE, context, block="webhook_list")
    return created(hook)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    db: DbSession, hook: ManagedWebhook, limit: Limit = 50, cursor: Cursor = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only these.")] = None,
) -> Any:
    """What was sent to this webhook, newest first, and how it went."""
    items, next_cursor = service.list_deliveries(db, hook, limit, cursor, status)
    return {"items": items, "next_cursor": next_cursor}


def managed_delivery(delivery_id: str, hook: ManagedWebhook, db: DbSession) -> WebhookDelivery:
    return service.get_delivery(db, hook, delivery_id)


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", status_code=202,
             response_model=DeliveryOut)
def replay_delivery(request: Request, db: DbSession,
                    delivery: Annotated[WebhookDelivery, Depends(managed_delivery)]) -> Any:
    """Send this delivery again, as soon as a worker can: the same body and `Rapport-Delivery`
    id, signed anew, with a fresh round of retries."""
    service.replay(db, delivery)
    if is_htmx(request):
        return render(request, PAGE, pages.lists(db), block="delivery_list")
    return delivery
